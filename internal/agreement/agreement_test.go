package agreement

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func demoFile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../demo/agreement.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseDemoAgreement(t *testing.T) {
	a, err := Parse([]byte(demoFile(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Parties) != 2 || a.Parties[1].Code != "AF" || a.Quorum != 2 || !a.Exercise {
		t.Fatalf("parsed %+v", a)
	}
	if time.Duration(a.Deadlines.Reply) != 72*time.Hour || time.Duration(a.Deadlines.Verification) != 14*24*time.Hour {
		t.Fatalf("deadlines = %+v", a.Deadlines)
	}
	c, ok := a.Clause("territory-not-used")
	if !ok || len(c.Categories) != 6 {
		t.Fatalf("clause = %+v", c)
	}
}

// Each bad file is refused with the line of the problem and a reason.
func TestParseErrorsNameTheLine(t *testing.T) {
	good := demoFile(t)
	lineOf := func(s string) int {
		i := strings.Index(good, s)
		if i < 0 {
			t.Fatalf("%q not in demo file", s)
		}
		return strings.Count(good[:i], "\n") + 1
	}
	for _, c := range []struct {
		name, from, to string
		line           int
		reason         string
	}{
		{"unknown category", "[air_drone_strike]", "[air_strike]", lineOf("[air_drone_strike]"), `unknown event category "air_strike"`},
		{"bad duration", "reply: 72h", "reply: three days", lineOf("reply: 72h"), "bad duration"},
		{"unknown field", "quorum: 2", "quorum: 2\nquroum: 1", lineOf("quorum: 2") + 1, "field quroum not found"},
		{"quorum too high", "quorum: 2", "quorum: 3", lineOf("quorum: 2"), "quorum"},
		{"duplicate clause", "id: no-air-strikes", "id: no-cross-border-fire", lineOf("id: no-air-strikes"), "defined twice"},
		{"bad date", "effective: 2026-10-19T00:00:00Z", "effective: 2026-19-10", lineOf("effective:"), "bad time"},
		{"wrong type", "quorum: 2", "quorum: two", lineOf("quorum: 2"), "cannot unmarshal"},
		{"syntax", "parties:\n", "parties:\n  - code: [\n", lineOf("parties:") + 1, ""},
		{"duplicate code", "code: QA", "code: PK", lineOf("code: QA"), "already used"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := strings.Replace(good, c.from, c.to, 1)
			_, err := Parse([]byte(bad))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %v, want an *Error", err)
			}
			if e.Line != c.line || !strings.Contains(e.Reason, c.reason) {
				t.Fatalf("Parse error = %q (line %d), want line %d containing %q", e.Error(), e.Line, c.line, c.reason)
			}
		})
	}
	if _, err := Parse(nil); err == nil {
		t.Fatal("accepted an empty file")
	}
	if _, err := Parse([]byte(strings.Repeat("#", MaxSize+1))); err == nil {
		t.Fatal("accepted an oversized file")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(demoFile(&testing.T{}))
	f.Add("title: x\n")
	f.Add("parties: [{code: PK}]\nquorum: 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse([]byte(s))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(a.Parties) != 2 || a.Quorum < 1 || len(a.Clauses) == 0 {
			t.Fatalf("accepted an invalid agreement: %+v", a)
		}
	})
}
