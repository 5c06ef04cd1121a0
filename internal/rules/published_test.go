package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
)

// A mediator publishes a report's hash under rules version 7; a party may
// not, an earlier version refuses the kind, and nothing is recorded by a
// refusal.
func TestReportPublished(t *testing.T) {
	pub := ReportPublication{SHA256: strings.Repeat("ab", 32), From: t0.Add(-24 * time.Hour), To: t0, Title: "Daily report"}

	old := newWorldUnder(t, 6)
	if _, err := old.apply("tr", KindReportPublished, pub); err == nil || !strings.Contains(err.Error(), "rules version 7") {
		t.Fatalf("report.published under version 6: %v", err)
	}

	w := newWorldUnder(t, LatestVersion)
	for _, by := range []string{"tr", "qa"} { // PK enrolled
		w.must(by, KindKeyApproved, KeyApproval{Member: "pk", Key: w.keys["pk"].ID()})
	}
	size := w.s.Size
	if _, err := w.apply("pk", KindReportPublished, pub); truce.ErrorCode(err) != truce.CodeForbidden {
		t.Fatalf("a party publishing: %v", err)
	}
	if w.s.Size != size || len(w.s.sitreps) != 0 {
		t.Fatal("a refused publication changed the state")
	}
	for _, bad := range []ReportPublication{
		{SHA256: "ABC", From: pub.From, To: pub.To, Title: "x"},
		{SHA256: pub.SHA256, From: pub.To, To: pub.From, Title: "x"},
		{SHA256: pub.SHA256, From: pub.From, To: pub.To},
		{SHA256: pub.SHA256, From: pub.From, To: t0.Add(time.Hour * 24 * 30), Title: "the future"},
	} {
		if _, err := w.apply("tr", KindReportPublished, bad); truce.ErrorCode(err) == "" {
			t.Errorf("%+v accepted", bad)
		}
	}
	a := w.must("tr", KindReportPublished, pub)
	if a.Ref != (Ref{Type: TypeReport, ID: "SR-0001"}) {
		t.Fatalf("the publication made %v", a.Ref)
	}
	rec, err := w.s.Record(a.Ref)
	if err != nil || rec.Visibility != truce.Public || !strings.Contains(string(rec.Doc), pub.SHA256) {
		t.Fatalf("the report's record: %+v %v", rec, err)
	}
	if _, err := w.apply("qa", KindReportPublished, pub); truce.ErrorCode(err) != truce.CodeConflict {
		t.Fatalf("the same report published twice: %v", err)
	}
}
