package sitrep

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/testkit"
)

var day1 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func allegation(id, accused, category, admin1 string, filed time.Time, status string) truce.Allegation {
	a := truce.Allegation{ID: id, Accused: accused, FilingParty: "PK", Filed: filed, Status: status}
	a.Category = category
	a.Place = truce.Place{Lat: 34.1, Lon: 71.1, Country: "PK", Admin1: admin1, Location: "Torkham"}
	return a
}

// input is a small hand-built set of records over two days, 1 and 2
// November: three allegations filed in the period, one before, one after,
// a finding in effect and one proposed, a consequence open and one
// fulfilled.
func input() Input {
	overdue := allegation("AL-0001", "AF", "armed_clash", "Khyber", day1.Add(3*time.Hour), truce.AllegationFiled)
	overdue.Notice = &truce.Notice{To: "AF", Reply: truce.Deadline{Due: day1.Add(6 * time.Hour), Overdue: true}}
	unknown := allegation("AL-0005", "", "armed_clash", "", day1.Add(30*time.Hour), truce.AllegationFiled)
	unknown.Place.Location = "طورخم" // a name the PDF's fonts do not carry
	unknown.Place.Lat, unknown.Place.Lon = 31.5, 66.5
	effective := day1.Add(40 * time.Hour)
	inEffect := truce.Finding{ID: "FD-0001", Allegation: "AL-0003", Status: truce.FindingInEffect, Effective: &effective}
	inEffect.Determination, inEffect.Responsible = "violation", "AF"
	proposed := truce.Finding{ID: "FD-0002", Status: "proposed"}
	proposed.Determination = "no_violation"
	return Input{
		Title: "Daily report <1–2 November>", From: day1, To: day1.Add(48 * time.Hour), AsOf: 42, Audience: "mechanism",
		Agreement: &truce.Agreement{Parties: []truce.Actor{{Code: "PK", Name: "Pakistan"}, {Code: "AF", Name: "Afghanistan"}}},
		Allegations: []truce.Allegation{
			unknown,
			pakistan(allegation("AL-0002", "PK", "shelling_artillery_missile", "Kunar", day1.Add(26*time.Hour), truce.AllegationRejected)),
			overdue,
			allegation("AL-0003", "AF", "armed_clash", "Khyber", day1.Add(-48*time.Hour), truce.AllegationAdmitted),
			allegation("AL-0004", "PK", "armed_clash", "Khyber", day1.Add(50*time.Hour), truce.AllegationFiled),
		},
		Findings: []truce.Finding{proposed, inEffect},
		Consequences: []truce.Consequence{
			{ID: "CQ-0001", Finding: "FD-0001", Title: "Formal notice", Target: "AF", Created: effective, Deadline: truce.Deadline{Due: effective.Add(7 * 24 * time.Hour)}, Status: truce.ConsequenceOpen},
			{ID: "CQ-0002", Finding: "FD-0001", Status: truce.ConsequenceFulfilled, Created: effective},
		},
		Commitments: []truce.CommitmentRecord{{Commitment: truce.Commitment{ID: "hotline", Text: "Open a hotline.", Owner: "PK", Due: day1}, Status: truce.CommitmentOpen,
			Deadline: truce.Deadline{Due: day1, Overdue: true}}},
	}
}

func pakistan(a truce.Allegation) truce.Allegation {
	a.Place.Lat, a.Place.Lon = 29.5, 70.5
	return a
}

func TestCompute(t *testing.T) {
	s := Compute(input())
	ids := func(as []Allegation) (out []string) {
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"by party", s.ByParty, []Count{{"PK", 1}, {"AF", 1}, {Unknown, 1}}},
		{"by category", s.ByCategory, []Count{{"armed_clash", 2}, {"shelling_artillery_missile", 1}}},
		{"by area", s.ByArea, []Count{{"Khyber", 1}, {"Kunar", 1}, {"PK", 1}}},
		{"by determination", s.ByDetermination, []Count{{"violation", 1}}},
		{"new", ids(s.New), []string{"AL-0001", "AL-0002", "AL-0005"}},
		{"open", ids(s.Open), []string{"AL-0001", "AL-0003", "AL-0005"}},
		{"overdue replies", s.OverdueReplies, []Count{{"PK", 0}, {"AF", 1}, {Unknown, 0}}},
		{"days", s.Days, []Day{
			{Date: "2026-11-01", Allegations: []int{0, 1, 0}, Findings: []int{0, 0, 0}},
			{Date: "2026-11-02", Allegations: []int{1, 0, 1}, Findings: []int{0, 1, 0}}}},
		{"findings", len(s.Findings), 1},
		{"receipt", s.Findings[0].Receipt, "/api/v1/findings/FD-0001/receipt"},
		{"consequences", len(s.Consequences), 1},
		{"places", len(s.Places), 3},
	} {
		if !equal(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	// The same records in another order give the same bytes.
	in := input()
	slices.Reverse(in.Allegations)
	slices.Reverse(in.Findings)
	a, _ := s.JSON()
	b, _ := Compute(in).JSON()
	if !bytes.Equal(a, b) {
		t.Error("the JSON rendering depends on the records' order")
	}
}

func equal(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// The chart is valid SVG with a bar per party and day counted, in the
// party's colour; the map draws the countries and a dot per allegation.
func TestSVG(t *testing.T) {
	s := Compute(input())
	chart := s.ChartSVG()
	fills := svgFills(t, chart, "rect")
	pk, af := s.PartyColour("PK"), s.PartyColour("AF")
	if fills[pk] != 1+1 || fills[af] != 1+1 || fills[tint(af)] != 1+1 || fills[unknownColour] != 1+1 { // the bars and the legend's swatch
		t.Errorf("bars by colour: %v", fills)
	}
	m := s.MapSVG()
	if dots := svgFills(t, m, "circle"); dots[pk] != 1+1 || dots[af] != 1+1 || dots[unknownColour] != 1+1 { // the markers and the legend's
		t.Errorf("map markers by colour: %v", dots)
	}
	if !strings.Contains(m, "Afghanistan") || svgFills(t, m, "path")[LandColour] < 2 {
		t.Error("the map lacks the countries")
	}
}

// svgFills parses an SVG document and counts the fills of its elements
// of one name.
func svgFills(t *testing.T, doc, name string) map[string]int {
	t.Helper()
	out := map[string]int{}
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("invalid SVG: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			for _, a := range se.Attr {
				if a.Name.Local == "fill" {
					out[a.Value]++
				}
			}
		}
	}
}

// The HTML is one page: nothing fetched, the figures inline, what it
// quotes escaped.
func TestHTML(t *testing.T) {
	var b bytes.Buffer
	if err := Compute(input()).HTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<svg", "Daily report &lt;1–2 November&gt;", "AL-0005", "طورخم", `href="/api/v1/findings/FD-0001/receipt"`, "Replies overdue"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, never := range []string{"<script", "<link", " src=", "<1–2"} {
		if strings.Contains(page, never) {
			t.Errorf("the page has %q", never)
		}
	}
}

// The PDF renders: a page that is not blank, the chart's party colours
// and the map's land drawn on it.
func TestPDF(t *testing.T) {
	s := Compute(input())
	var b bytes.Buffer
	if err := s.PDF(&b); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	s.PDF(&again)
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Error("the same report gave two PDFs")
	}
	colours := testkit.Colours(testkit.RenderPDF(t, b.Bytes()))
	if colours["#ffffff"] == 0 || len(colours) < 8 {
		t.Fatalf("the pages are blank: %d colours", len(colours))
	}
	// Solid bars, swatches, dots and land, each many pixels of its colour.
	for what, c := range map[string]string{"PK's bars": s.PartyColour("PK"), "AF's bars": s.PartyColour("AF"), "AF's findings": tint(s.PartyColour("AF")), "the map's land": LandColour} {
		if colours[c] < 20 {
			t.Errorf("%s (%s) are not drawn: %d pixels", what, c, colours[c])
		}
	}
}

func TestLatin(t *testing.T) {
	d := &pdfDoc{}
	if got := d.latin("Türkiye – Şahin"); got != "T\xfcrkiye \x96 Sahin" || d.replaced {
		t.Errorf("latin: %q %v", got, d.replaced)
	}
	if got := d.latin("طورخم Torkham"); got != "????? Torkham" || !d.replaced {
		t.Errorf("latin of Urdu: %q %v", got, d.replaced)
	}
}

func FuzzParsePeriod(f *testing.F) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, s := range [][2]string{{"", ""}, {"2026-11-01", "2026-11-02"}, {"2026-11-01T00:00:00Z", ""}, {"x", ""}, {"", "2026-13-01"}, {"2026-12-05", "2026-12-04"}, {"9999-12-30", "9999-12-31"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, from, to string) {
		start, end, err := ParsePeriod(from, to, now)
		if err != nil {
			if f := truce.ErrorField(err); f != "from" && f != "to" {
				t.Fatalf("an error naming %q: %v", f, err)
			}
			return
		}
		if !start.Before(end) || end.Sub(start) > MaxDays*24*time.Hour {
			t.Fatalf("period %s to %s accepted", start, end)
		}
		if _, err := json.Marshal([]time.Time{start, end}); err != nil { // a report names its period
			t.Fatalf("period %s to %s accepted but cannot be written: %v", start, end, err)
		}
		if len(Compute(Input{From: start, To: end}).Days) > MaxDays {
			t.Fatal("more days than MaxDays")
		}
	})
}

// A busy period's report lists at most MaxListed of each list, and says
// how many there are in all: the oldest open allegations, the newest new.
func TestComputeBounded(t *testing.T) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	in := Input{From: from, To: from.Add(24 * time.Hour)}
	n := MaxListed + 50
	for i := range n {
		in.Allegations = append(in.Allegations, truce.Allegation{ID: fmt.Sprintf("AL-%04d", i+1), Status: truce.AllegationFiled,
			Filed: from.Add(time.Duration(i) * time.Second), AllegationFiling: truce.AllegationFiling{Category: "armed_clash"}})
	}
	s := Compute(in)
	if s.Totals.New != n || s.Totals.Open != n || len(s.New) != MaxListed || len(s.Open) != MaxListed {
		t.Fatalf("totals %+v, %d new and %d open listed", s.Totals, len(s.New), len(s.Open))
	}
	if s.Open[0].ID != "AL-0001" || s.New[len(s.New)-1].ID != fmt.Sprintf("AL-%04d", n) || s.New[0].ID != fmt.Sprintf("AL-%04d", n-MaxListed+1) {
		t.Errorf("open from %s, new from %s to %s", s.Open[0].ID, s.New[0].ID, s.New[len(s.New)-1].ID)
	}
	if s.ByParty[len(s.ByParty)-1].N+s.ByParty[0].N == 0 || len(s.ByCategory) != 1 || s.ByCategory[0].N != n {
		t.Errorf("the counts are not of everything: %+v %+v", s.ByParty, s.ByCategory)
	}
}
