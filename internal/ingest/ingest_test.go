package ingest_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/claims"
	"github.com/truce-mvm/truce/internal/extract"
	"github.com/truce-mvm/truce/internal/fetch"
	"github.com/truce-mvm/truce/internal/ingest"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
)

// sources are the exercise's articles: six fictional outlets on the
// Istanbul round and the Doha round before it.
var sources = filepath.Join("..", "demo", "sources")

// newIngester returns an ingester into a fresh test instance whose clock
// stands after the fixtures were published.
func newIngester(t *testing.T) (*ingest.Ingester, *testkit.Env) {
	env := testkit.New(t, instance.Options{})
	env.Clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	blobs, err := blob.Open(filepath.Join(env.Dir, instance.BlobDir))
	if err != nil {
		t.Fatal(err)
	}
	f := fetch.New(extract.MaxPage)
	f.PerHost = 0
	return &ingest.Ingester{Sink: &ingest.Local{Seq: env.In.Seq, Store: env.In.Store, Blobs: blobs, Clock: env.Clock.Now}, Fetch: f, Clock: env.Clock.Now}, env
}

// The test: a handful of articles about the same talks from
// different outlets make one story; copies are marked as copies; each
// planted disagreement is flagged once, with both quotes; a report about
// the earlier Doha round stays out of it.
func TestTalks(t *testing.T) {
	g, env := newIngester(t)
	ctx := context.Background()
	rs := g.Run(ctx, []string{sources})
	by := map[string]*truce.Report{}
	for _, r := range rs {
		if r.Status != ingest.Ingested {
			t.Fatalf("%s: %s %s", r.Input, r.Status, r.Error)
		}
		by[strings.TrimSuffix(filepath.Base(r.Input), ".html")] = r.Source
	}
	if len(by) != 6 {
		t.Fatalf("%d sources ingested", len(by))
	}
	story := by["khyber-courier"].Story
	for _, name := range []string{"border-mirror", "kabul-ledger", "gulf-wire", "frontier-daily"} {
		if by[name].Story != story {
			t.Errorf("%s is in %s, the Istanbul round is %s", name, by[name].Story, story)
		}
	}
	if by["tolo-doha-recap"].Story == story {
		t.Error("the Doha round's report joined the Istanbul round's story")
	}
	if m := by["border-mirror"]; m.CopyOf != by["khyber-courier"].ID || !m.Exact {
		t.Errorf("the mirror is not an exact copy of the courier: copy of %q, exact %v", m.CopyOf, m.Exact)
	}
	if f := by["frontier-daily"]; f.CopyOf != by["gulf-wire"].ID || f.Exact {
		t.Errorf("the syndicated wire story is not a near copy: copy of %q, exact %v", f.CopyOf, f.Exact)
	}
	for _, name := range []string{"khyber-courier", "kabul-ledger", "gulf-wire", "tolo-doha-recap"} {
		if by[name].CopyOf != "" {
			t.Errorf("%s, an original, is marked a copy of %s", name, by[name].CopyOf)
		}
	}
	// Boilerplate gone, the repeated paragraph once.
	courier := by["khyber-courier"].Text
	for _, junk := range []string{"You might also like", "Leave a Reply", "Your email address", "All rights reserved", "Home"} {
		if strings.Contains(courier, junk) {
			t.Errorf("the courier's text keeps %q", junk)
		}
	}
	if n := strings.Count(courier, "The round followed a week of heavy fighting"); n != 1 {
		t.Errorf("the repeated paragraph appears %d times", n)
	}
	if by["kabul-ledger"].Published != time.Date(2026, 10, 31, 4, 45, 0, 0, time.UTC) {
		t.Errorf("the ledger's JSON-LD date was read as %v", by["kabul-ledger"].Published)
	}

	var st truce.Story
	env.In.Seq.View(func(s *rules.State) {
		st, _ = s.Story(story)
	})
	if st.Independent != 3 {
		t.Errorf("%d independent outlets, want 3 (the copies do not count)", st.Independent)
	}
	count := map[string]int{}
	for _, d := range st.Discrepancies {
		count[d.Kind]++
		t.Logf("%s %s: %q / %+v", d.Kind, d.Subject, d.A.Sentence, d.B)
		switch d.Kind {
		case claims.DurationVsRange:
			if !strings.Contains(d.A.Sentence, "four-day") || d.B == nil || !strings.Contains(d.B.Sentence, "25 to 30 October") {
				t.Errorf("the duration discrepancy without both quotes: %+v", d)
			}
		case claims.WeekdayMismatch:
			if !strings.Contains(d.A.Sentence, "Saturday, 30 October") {
				t.Errorf("weekday discrepancy: %+v", d)
			}
		case claims.ClaimantsDisagree:
			quotes := d.A.Sentence + " | " + d.B.Sentence
			if !strings.Contains(quotes, "23 Pakistani soldiers") || !strings.Contains(quotes, "58 Pakistani soldiers") || d.A.Outlet == d.B.Outlet {
				t.Errorf("the casualty discrepancy without both quotes: %+v", d)
			}
		}
	}
	want := map[string]int{claims.DurationVsRange: 1, claims.WeekdayMismatch: 1, claims.ClaimantsDisagree: 1}
	if len(count) != len(want) || count[claims.DurationVsRange] != 1 || count[claims.WeekdayMismatch] != 1 || count[claims.ClaimantsDisagree] != 1 {
		t.Errorf("discrepancies %v, want each planted one once: %v", count, want)
	}
	// Three outlets give the same dates independently: confirmed.
	for _, c := range st.Claims {
		if c.Subject == "dates" && c.Says == "25 October to 30 October 2026" && (c.Credibility != 1 || len(c.Outlets) != 3) {
			t.Errorf("the dates three outlets agree on: %+v", c)
		}
		if c.Subject == "PK killed" && c.Credibility < 4 {
			t.Errorf("a contested casualty figure graded %d: %+v", c.Credibility, c)
		}
	}

	// Ingesting the same pages again logs nothing.
	size := env.Size()
	for _, r := range g.Run(ctx, []string{sources}) {
		if r.Status != ingest.Unchanged {
			t.Errorf("%s re-ingested: %s", r.Input, r.Status)
		}
	}
	if env.Size() != size {
		t.Errorf("re-ingesting grew the log from %d to %d", size, env.Size())
	}
}
