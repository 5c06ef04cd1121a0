package demo

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/read"
	"github.com/truce-mvm/truce/internal/rules"
)

// The exercise has what the mechanism's users need to see, and its whole
// state is a function of its log: rebuilt from the entries alone it is
// identical, record for record and in its overdue set.
func TestScenarioReplays(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if _, err := Create(ctx, dir, now, instance.Options{}); err != nil {
		t.Fatal(err)
	}
	in, err := instance.OpenStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()

	rep, err := audit.Replay(ctx, in.Store)
	if err != nil {
		t.Fatal(err)
	}
	// The live rows' digest equals the rebuilt state's.
	var live []truce.Record
	in.Store.EachRecord(ctx, func(r truce.Record) error { live = append(live, r); return nil })
	if audit.Digest(live) != rep.Digest {
		t.Fatal("the live state's digest differs from the replayed state's")
	}
	if _, err := audit.Verify(ctx, in.Store, in.Origin, in.Verifier, nil); err != nil {
		t.Fatal(err)
	}

	st, _, err := audit.Rebuild(ctx, in.Store)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Logged.Equal(now) {
		t.Fatalf("the fortnight ends at %s, not now (%s)", st.Logged, now)
	}
	count := func(typ string, pred func(map[string]any) bool) int {
		n := 0
		for _, r := range live {
			if r.Type != typ {
				continue
			}
			var doc map[string]any
			json.Unmarshal(r.Doc, &doc)
			if pred(doc) {
				n++
			}
		}
		return n
	}
	all := func(map[string]any) bool { return true }
	is := func(k, v string) func(map[string]any) bool { return func(d map[string]any) bool { return d[k] == v } }
	for _, c := range []struct {
		what string
		n    int
		min  int
	}{
		{"allegations", count(rules.TypeAllegation, all), 30},
		{"allegations by PK", count(rules.TypeAllegation, is("filing_party", "PK")), 10},
		{"allegations by AF", count(rules.TypeAllegation, is("filing_party", "AF")), 10},
		{"drone strikes", count(rules.TypeAllegation, is("category", "air_drone_strike")), 3},
		{"infiltrations by a group from the other side", count(rules.TypeAllegation, func(d map[string]any) bool {
			p := d["perpetrator"].(map[string]any)
			return p["kind"] == truce.PerpNonState && p["operated_from"] != nil && p["operated_from"] != d["filing_party"]
		}), 3},
		{"duplicates rejected", count(rules.TypeAllegation, func(d map[string]any) bool {
			dec, _ := d["decision"].(map[string]any)
			return dec != nil && dec["grounds"] == truce.RejectDuplicate
		}), 1},
		{"out of scope", count(rules.TypeAllegation, func(d map[string]any) bool {
			dec, _ := d["decision"].(map[string]any)
			return dec != nil && dec["grounds"] == truce.RejectOutOfScope
		}), 1},
		{"replies", count(rules.TypeAllegation, func(d map[string]any) bool { return d["reply"] != nil }), 10},
		{"silences past the deadline", count(rules.TypeAllegation, func(d map[string]any) bool {
			n, _ := d["notice"].(map[string]any)
			return n != nil && n["reply"].(map[string]any)["overdue"] == true
		}), 3},
		{"cases with tasks", count(rules.TypeCase, func(d map[string]any) bool { return d["tasks"] != nil }), 5},
		{"violations in effect", count(rules.TypeFinding, func(d map[string]any) bool {
			return d["determination"] == truce.DeterminationViolation && d["status"] == truce.FindingInEffect
		}), 1},
		{"non-party violations in effect", count(rules.TypeFinding, func(d map[string]any) bool {
			return d["determination"] == truce.DeterminationNonParty && d["status"] == truce.FindingInEffect
		}), 1},
		{"not confirmed", count(rules.TypeFinding, is("determination", truce.DeterminationNotConfirmed)), 1},
		{"no violation", count(rules.TypeFinding, is("determination", truce.DeterminationNoViolation)), 1},
		{"failed on dissent", count(rules.TypeFinding, is("status", truce.FindingFailed)), 1},
		{"history-counting consequences", count(rules.TypeConsequence, is("rule", "third-violation-referral")), 1},
		{"consequences fulfilled", count(rules.TypeConsequence, is("status", truce.ConsequenceFulfilled)), 1},
		{"consequences waived", count(rules.TypeConsequence, is("status", truce.ConsequenceWaived)), 1},
		{"consequences escalated", count(rules.TypeConsequence, is("status", truce.ConsequenceEscalated)), 1},
		{"amendments in effect", count(rules.TypeAmendment, is("status", truce.AmendmentInEffect)), 1},
		{"commitments done", count(rules.TypeCommitment, is("status", truce.CommitmentDone)), 1},
		{"members", count(rules.TypeMember, all), len(Members)},
	} {
		if c.n < c.min {
			t.Errorf("%s: %d, want at least %d", c.what, c.n, c.min)
		}
	}
	if st.Agreement.Version != 2 {
		t.Errorf("agreement version %d after the amendment", st.Agreement.Version)
	}

	// Opening the instance replays the log too: its overdue set is the
	// rebuilt one.
	in.Close()
	live2, err := instance.Open(ctx, dir, instance.Options{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer live2.Close()
	overdue := live2.Seq.Snapshot().OverdueFor(truce.Everything)
	if !reflect.DeepEqual(overdue, st.Overdue()) || len(overdue) < 5 {
		t.Fatalf("overdue sets differ or are too small: %d live", len(overdue))
	}
}

// The articles move to the demo's calendar: the Istanbul round's reports
// fall on the days the fortnight gives it — here across the end of a
// month — and still make one story with the three planted disagreements.
func TestArticlesOnTheDemoCalendar(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	now := time.Date(2027, 2, 7, 12, 0, 0, 0, time.UTC) // the round runs 29 January to 3 February
	if _, err := Create(ctx, dir, now, instance.Options{}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "sources", "kabul-ledger.html"))
	if err != nil {
		t.Fatal(err)
	}
	// 30 October 2026 was a Friday the article calls Saturday; 3 February
	// 2027 is a Wednesday it calls Thursday.
	for _, want := range []string{"from 29 January to 3 February", "on Thursday, 3 February", "2027-02-04T09:15:00+04:30"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the shifted article lacks %q", want)
		}
	}
	in, err := instance.OpenStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	items, err := read.Discrepancies(ctx, in.Store, truce.Everything, "", "")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, d := range items {
		kinds[d.Kind]++
	}
	if len(items) != 3 || kinds[truce.WeekdayMismatch] != 1 || kinds[truce.DurationVsRange] != 1 || kinds[truce.ClaimantsDisagree] != 1 {
		t.Errorf("discrepancies on the shifted calendar: %+v", items)
	}
}
