package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
)

func TestBackoff(t *testing.T) {
	lo, hi := time.Second, time.Minute
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 7: hi, 30: hi} {
		for range 20 {
			if d := Backoff(n, lo, hi); d < want/2 || d > want {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestSign(t *testing.T) {
	// HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	if got := Sign([]byte("The quick brown fox jumps over the lazy dog"), "key"); got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Fatal(got)
	}
}

func TestConcerns(t *testing.T) {
	af := truce.Member{ID: "af", Role: truce.RoleLiaison, Party: "AF"}
	pk := truce.Member{ID: "pk", Role: truce.RoleLiaison, Party: "PK"}
	med := truce.Member{ID: "med", Role: truce.RoleMediator, Party: truce.Mechanism}
	press := truce.Member{ID: "press", Role: truce.RolePublic, Party: truce.Mechanism}
	against := &truce.Record{Type: "allegation", ID: "AL-1", Party: "PK", Against: "AF"}
	for _, c := range []struct {
		m     truce.Member
		event string
		want  bool
	}{
		{af, AllegationFiledAgainst, true}, {pk, AllegationFiledAgainst, false}, {med, AllegationFiledAgainst, false}, {press, AllegationFiledAgainst, false},
		{af, ReplyDue, true}, {pk, ReplyDue, false},
		{med, AdmissionDue, true}, {af, AdmissionDue, false},
		{af, FindingInEffect, true}, {pk, FindingInEffect, true}, {med, FindingInEffect, true}, {press, FindingInEffect, false},
	} {
		if got := concerns(c.m, c.event, against); got != c.want {
			t.Errorf("concerns(%s, %s) = %v", c.m.ID, c.event, got)
		}
	}
}

func TestDeadlines(t *testing.T) {
	due := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rec := &truce.Record{Type: "allegation", Doc: []byte(`{"status":"filed","notice":{"to":"AF","reply":{"due":"2026-11-01T00:00:00Z"}},"admission":{"due":"2026-11-03T00:00:00Z"}}`)}
	got := deadlines(rec)
	if len(got) != 2 || got[0] != (deadline{ReplyDue, due}) || got[1].event != AdmissionDue {
		t.Fatalf("deadlines = %+v", got)
	}
	rec.Doc = []byte(`{"status":"admitted","notice":{"reply":{"due":"2026-11-01T00:00:00Z","overdue":true}},"reply":{},"admission":{"due":"2026-11-03T00:00:00Z"}}`)
	if got := deadlines(rec); len(got) != 0 {
		t.Fatalf("met and overdue deadlines = %+v", got)
	}
}

func TestMessage(t *testing.T) {
	d := store.Delivery{ID: 7, Event: AllegationFiledAgainst, Index: 31, Logged: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Target: "af@example.org\r\nBcc: x@y"}
	msg := string(message(d, &truce.Record{Type: "allegation", ID: "AL-0001\r\nX-Evil: 1"}, "https://truce.example", "truce@truce.example"))
	head, body, ok := strings.Cut(msg, "\r\n\r\n")
	if !ok || strings.Contains(head, "\r\nBcc:") || strings.Contains(head, "\r\nX-Evil") {
		t.Fatalf("a header was injected:\n%s", msg)
	}
	if !strings.Contains(head, "Subject: [Truce] Allegation AL-0001X-Evil: 1 filed against your party") || !strings.Contains(body, "https://truce.example/allegations/") {
		t.Fatalf("message:\n%s", msg)
	}
}

func TestParseSMTP(t *testing.T) {
	if m, err := ParseSMTP("smtp://mail.example:2525", "truce@example.org"); err != nil || m.Addr != "mail.example:2525" {
		t.Fatalf("ParseSMTP = %+v, %v", m, err)
	}
	if m, err := ParseSMTP("smtp://mail.example", "truce@example.org"); err != nil || m.Addr != "mail.example:25" {
		t.Fatalf("ParseSMTP without a port = %+v, %v", m, err)
	}
	for _, c := range [][2]string{{"http://mail.example", "a@b.example"}, {"smtp://u:p@mail.example", "a@b.example"}, {"smtp://mail.example", ""}, {"smtp://mail.example", "Truce <a@b.example>"}} {
		if _, err := ParseSMTP(c[0], c[1]); err == nil {
			t.Errorf("ParseSMTP(%q, %q) accepted", c[0], c[1])
		}
	}
}

// FuzzParseURL: whatever a member sends as a webhook's address, what is
// accepted is an absolute http(s) URL with a host and no credentials.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"https://example.org/hook", "http://127.0.0.1:8080/x", "https://u:p@example.org", "ftp://x", "http://[::1]:80/", "https://example.org/#f", "//example.org", "http:example.org", "https://example.org:99999/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseURL(raw)
		if err != nil {
			if truce.ErrorCode(err) != truce.CodeInvalid || truce.ErrorField(err) != "url" {
				t.Fatalf("ParseURL(%q) = %v, not an invalid url", raw, err)
			}
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.Fragment != "" || len(raw) > 2000 {
			t.Fatalf("ParseURL(%q) accepted %#v", raw, u)
		}
	})
}
