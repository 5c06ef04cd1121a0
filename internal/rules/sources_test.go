package rules

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/claims"
)

const istanbul = `[FICTIONAL] Pakistani and Afghan delegations ended four-day talks in Istanbul on Friday with a deal on a joint
monitoring mechanism for the ceasefire, officials said. The talks ran from 25 to 30 October under Turkish and Qatari mediation.
At least 23 Pakistani soldiers were killed in the clashes before the talks, the army said.`

// source is a report as an ingester sends it to a log under any version
// of the rules: days named by their weekday alone (version 6 on) left out.
func source(n int, outlet, text string) truce.SourceIngestion {
	pub := t0.Add(-time.Duration(n) * time.Hour)
	cs := slices.DeleteFunc(claims.Extract(text, pub), func(c truce.Claim) bool { return c.Kind == truce.ClaimDay })
	return truce.SourceIngestion{SHA256: fmt.Sprintf("%064x", n), MediaType: "text/html", Outlet: outlet, Title: "Talks end",
		Published: pub, Text: text, Claims: cs}
}

// Sources are placed by the rules: copies of what came before, in stories
// of one event; the story grades its claims and lays out disagreements.
func TestSources(t *testing.T) {
	w := newWorld(t)
	a := w.must("ana", KindSourceIngested, source(1, "Khyber Courier", istanbul))
	if a.Ref != (Ref{Type: TypeSource, ID: "SRC-0001"}) {
		t.Fatalf("first source = %+v", a.Ref)
	}
	w.must(truce.SystemAuthor, KindSourceIngested, source(2, "Border Mirror", istanbul))
	ledger := strings.NewReplacer("four-day talks", "five days of talks", "23 Pakistani soldiers were killed in the clashes before the talks, the army said",
		"the Afghan defence ministry said its forces killed 58 Pakistani soldiers before the talks").Replace(istanbul)
	w.must("mon", KindSourceIngested, source(3, "Kabul Ledger", ledger))

	mirror, _ := w.s.Report("SRC-0002")
	if mirror.CopyOf != "SRC-0001" || !mirror.Exact || mirror.Story != "ST-0001" {
		t.Errorf("the mirror: %+v", mirror)
	}
	st, _ := w.s.Story("ST-0001")
	if len(st.Sources) != 3 || st.Independent != 2 {
		t.Errorf("story of %d sources, %d independent", len(st.Sources), st.Independent)
	}
	kinds := map[string]int{}
	for _, d := range st.Discrepancies {
		kinds[d.Kind]++
	}
	if kinds[truce.DurationVsRange] != 1 || kinds[truce.ClaimantsDisagree] != 1 || len(st.Discrepancies) != 2 {
		t.Errorf("discrepancies %+v", st.Discrepancies)
	}
	grade := func(subject, says string) int {
		for _, c := range st.Claims {
			if c.Subject == subject && c.Says == says {
				return c.Credibility
			}
		}
		return 0
	}
	// Two independent outlets on the dates (the mirror does not count);
	// 23 against 58, one outlet each.
	if g := grade("dates", "25 October to 30 October 2026"); g != 2 {
		t.Errorf("dates graded %d, want 2: %+v", g, st.Claims)
	}
	if g := grade("PK killed", "23"); g != 4 {
		t.Errorf("a contested figure graded %d, want 4", g)
	}
	// Five days is the ledger's, and the courier's dates give it (elapsed):
	// probably true. Four days is the courier's alone, and the ledger's
	// dates give neither count of it: doubtful.
	if g := grade("duration", "5 days"); g != 2 {
		t.Errorf("a duration the other outlet's dates bear out graded %d, want 2: %+v", g, st.Claims)
	}
	if g := grade("duration", "4 days"); g != 4 {
		t.Errorf("a duration the other outlet's dates contradict graded %d, want 4: %+v", g, st.Claims)
	}
	// A claim only one outlet makes is graded by the outlet's reliability.
	riyadh := truce.SourceIngestion{SHA256: fmt.Sprintf("%064x", 99), MediaType: "text/html", Outlet: "Gulf Wire", Title: "Trade talks",
		Published: t0.Add(-10 * 24 * time.Hour), Text: "[FICTIONAL] Officials of both sides met in Riyadh for two-day talks on trade and the crossings."}
	riyadh.Claims = claims.Extract(riyadh.Text, riyadh.Published)
	story2 := w.must("ana", KindSourceIngested, riyadh).Touched[1].ID
	lone := func() int {
		st, _ := w.s.Story(story2)
		for _, c := range st.Claims {
			return c.Credibility
		}
		return 0
	}
	if story2 == "ST-0001" || lone() != 6 {
		t.Fatalf("the Riyadh report went to %s, its lone claim graded %d", story2, lone())
	}
	w.must("ana", KindOutletGraded, truce.OutletGrading{Outlet: "gulf wire", Reliability: "B", Reason: "Long record."})
	if g := lone(); g != 3 {
		t.Errorf("a usually reliable outlet's lone claim graded %d after grading, want 3", g)
	}

	// An analyst ties the story to an allegation: both ends keep the link.
	al := w.must("pk", KindAllegationFiled, filing("AF")).Ref.ID
	w.must("ana", KindSourceLinked, truce.SourceLink{Story: "ST-0001", Allegation: al, Relation: "corroborates"})
	st, _ = w.s.Story("ST-0001")
	recs, _ := w.s.Records()
	var linked bool
	for _, r := range recs {
		linked = linked || r.Type == TypeAllegation && strings.Contains(string(r.Doc), `"story":"ST-0001"`)
	}
	if len(st.Links) != 1 || !linked {
		t.Errorf("the link is not on both ends: story %+v, allegation linked %v", st.Links, linked)
	}
}

// Refused source entries change nothing.
func TestSourceRefusals(t *testing.T) {
	w := newWorld(t)
	w.must("ana", KindSourceIngested, source(1, "Khyber Courier", istanbul))
	future := source(2, "X", istanbul)
	future.Published = t0.Add(time.Hour)
	unquoted := source(3, "X", istanbul)
	unquoted.Claims[0].Sentence = "The talks collapsed."
	badURL := source(4, "X", istanbul)
	badURL.URL = "javascript:alert(1)"
	noText := source(5, "X", "")
	badPlace := source(6, "X", istanbul)
	badPlace.Places = []truce.PlaceMention{{Name: "Nowhere", Country: "PK", Lat: 95}}
	for _, c := range []struct {
		who, kind string
		body      any
		code      truce.Code
	}{
		{"pk", KindSourceIngested, source(9, "X", istanbul), truce.CodeForbidden},
		{"ana", KindSourceIngested, source(1, "Elsewhere", istanbul), truce.CodeConflict},
		{"ana", KindSourceIngested, future, truce.CodeBadTime},
		{"ana", KindSourceIngested, unquoted, truce.CodeInvalid},
		{"ana", KindSourceIngested, badURL, truce.CodeInvalid},
		{"ana", KindSourceIngested, noText, truce.CodeInvalid},
		{"ana", KindSourceIngested, badPlace, truce.CodeBadLocation},
		{"ana", KindOutletGraded, truce.OutletGrading{Outlet: "Unknown Times", Reliability: "A", Reason: "x"}, truce.CodeNotFound},
		{"ana", KindOutletGraded, truce.OutletGrading{Outlet: "Khyber Courier", Reliability: "G", Reason: "x"}, truce.CodeInvalid},
		{"pk", KindOutletGraded, truce.OutletGrading{Outlet: "Khyber Courier", Reliability: "A", Reason: "x"}, truce.CodeForbidden},
		{"ana", KindSourceLinked, truce.SourceLink{Story: "ST-0001", Allegation: "AL-0404", Relation: "corroborates"}, truce.CodeNotFound},
		{"ana", KindSourceLinked, truce.SourceLink{Source: "SRC-0001", Story: "ST-0001", Allegation: "AL-0001", Relation: "corroborates"}, truce.CodeInvalid},
		{"ana", KindSourceLinked, truce.SourceLink{Story: "ST-0001", Case: "CS-0001", Relation: "proves"}, truce.CodeInvalid},
	} {
		before, _ := w.s.Records()
		size := w.s.Size
		_, err := w.apply(c.who, c.kind, c.body)
		if truce.ErrorCode(err) != c.code {
			t.Errorf("%s by %s: %v, want %s", c.kind, c.who, err, c.code)
		}
		after, _ := w.s.Records()
		if w.s.Size != size || !reflect.DeepEqual(before, after) {
			t.Errorf("%s by %s was refused but changed the state", c.kind, c.who)
		}
		w.seqs[c.who]-- // the refused entry's seq is free again
	}
	if a := w.must("ana", KindSourceIngested, source(7, "X", istanbul+" More.")); a.Ref.ID != "SRC-0002" {
		t.Errorf("after refusals the next source is %s", a.Ref.ID)
	}
}

// BenchmarkSources measures source entries applied — de-duplication, story
// grouping, claim grading and discrepancies, with signing — in articles/s
// against the bound of 1,000: 2,000 distinct articles, a quarter of them
// copies, each event's reports giving differing figures; about 40 events
// of 50 reports, and 4 events of 500 (the cost of a big story).
func BenchmarkSources(b *testing.B) {
	for _, events := range []int{40, 4} {
		b.Run(fmt.Sprintf("events=%d", events), func(b *testing.B) { benchmarkSources(b, events, false) })
	}
	// Every report a figure no other gives: each one reassesses its story
	// in full (no report "adds nothing").
	b.Run("events=4/new-figures", func(b *testing.B) { benchmarkSources(b, 4, true) })
}

func benchmarkSources(b *testing.B, events int, fresh bool) {
	figure := func(n int, fresh bool) int {
		if fresh {
			return 10 + n
		}
		return 10 + n%7
	}
	const total = 2000
	venues := []string{"Doha", "Istanbul", "Riyadh", "Tehran", "Muscat"}
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := strings.Fields(istanbul + " " + agreement().Clauses[0].Text + " trade crossing refugees lorries traders market wheat prices " +
		"district elders council governor police checkpoint convoy road bridge river valley village school clinic harvest winter")
	vocab = slices.DeleteFunc(vocab, func(w string) bool { return strings.ToLower(w) != w }) // no venues by chance
	var bodies []truce.SourceIngestion
	wantCopies := 0
	for i := 0; i < total; i++ {
		ev, n := i%events, i/events
		words := make([]string, 60)
		for j := range words {
			words[j] = vocab[rng.IntN(len(vocab))]
		}
		text := fmt.Sprintf("[FICTIONAL] Delegations met in %s for round %d of talks on sector %d. The talks ran from 10 to 14 March. "+
			"At least %d Pakistani soldiers were killed in sector %d, the %s said. %s.",
			venues[ev%5], ev, ev, figure(n, fresh), ev, []string{"army", "Afghan defence ministry"}[n%2], strings.Join(words, " "))
		if n%4 == 3 {
			text = bodies[len(bodies)-events].Text // a copy of the same event's previous report
			wantCopies++
		}
		pub := t0.Add(-time.Duration(events-ev)*72*time.Hour + time.Duration(n)*time.Minute)
		bodies = append(bodies, truce.SourceIngestion{SHA256: fmt.Sprintf("%064x", i+1), MediaType: "text/html", Outlet: fmt.Sprintf("Outlet %d", n%9),
			Title: "Talks", Published: pub, Text: text, Claims: claims.Extract(text, pub)})
	}
	for b.Loop() {
		b.StopTimer()
		w := newWorldUnder(b, LatestVersion) // what new instances run
		b.StartTimer()
		for _, body := range bodies {
			w.must("ana", KindSourceIngested, body)
		}
		b.StopTimer()
		copies := 0
		for _, r := range w.s.reports {
			if r.CopyOf != "" {
				copies++
			}
		}
		if len(w.s.stories) != events || copies != wantCopies {
			b.Fatalf("%d stories and %d copies, want %d and %d", len(w.s.stories), copies, events, wantCopies)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(bodies)*b.N)/b.Elapsed().Seconds(), "articles/s")
	b.ReportMetric(1000, "bound-articles/s")
}

func TestOutletID(t *testing.T) {
	for name, want := range map[string]string{
		"Khyber Courier": "khyber-courier", "  Gulf Wire — Doha ": "gulf-wire-doha", "سرحد نیوز، پشاور": "سرحد-نیوز-پشاور",
		"Dawn.com": "dawn-com", "!!!": "",
	} {
		if got := OutletID(name); got != want {
			t.Errorf("OutletID(%q) = %q, want %q", name, got, want)
		}
	}
}

// An analyst moves a wrongly grouped source, with its copies, to another
// story or one of its own; both stories are reassessed, and later copies of
// it follow it. Moves that make no sense are refused and change nothing.
func TestSourceMove(t *testing.T) {
	w := newWorld(t)
	w.must("ana", KindSourceIngested, source(3, "Khyber Courier", istanbul))
	ledger := strings.NewReplacer("four-day talks", "five days of talks", "23 Pakistani soldiers were killed in the clashes before the talks, the army said",
		"the Afghan defence ministry said its forces killed 58 Pakistani soldiers before the talks").Replace(istanbul)
	w.must("ana", KindSourceIngested, source(2, "Kabul Ledger", ledger))
	w.must("ana", KindSourceIngested, source(1, "Border Mirror", ledger)) // an exact copy of the ledger
	st, _ := w.s.Story("ST-0001")
	if len(st.Sources) != 3 || len(st.Discrepancies) == 0 {
		t.Fatalf("the story before: %+v", st)
	}
	for _, c := range []struct {
		body truce.SourceMove
		code truce.Code
	}{
		{truce.SourceMove{Source: "SRC-0003", Reason: "r"}, truce.CodeInvalid},                    // a copy
		{truce.SourceMove{Source: "SRC-0002", Story: "ST-0001", Reason: "r"}, truce.CodeConflict}, // where it is
		{truce.SourceMove{Source: "SRC-0002", Story: "ST-0404", Reason: "r"}, truce.CodeNotFound},
		{truce.SourceMove{Source: "SRC-0404", Reason: "r"}, truce.CodeNotFound},
	} {
		before, _ := w.s.Records()
		if _, err := w.apply("ana", KindSourceMoved, c.body); truce.ErrorCode(err) != c.code {
			t.Errorf("%+v: %v, want %s", c.body, err, c.code)
		}
		w.seqs["ana"]--
		if after, _ := w.s.Records(); !reflect.DeepEqual(before, after) {
			t.Errorf("%+v was refused but changed the state", c.body)
		}
	}
	if _, err := w.apply("pk", KindSourceMoved, truce.SourceMove{Source: "SRC-0002", Reason: "r"}); truce.ErrorCode(err) != truce.CodeForbidden {
		t.Errorf("a liaison moving a source: %v", err)
	}
	w.seqs["pk"]--

	a := w.must("ana", KindSourceMoved, truce.SourceMove{Source: "SRC-0002", Reason: "A report of another clash, not of the talks."})
	old, _ := w.s.Story("ST-0001")
	moved, _ := w.s.Story("ST-0002")
	// The courier's own four days against its own dates remain; 23 against
	// 58 went with the ledger.
	if len(old.Sources) != 1 || len(old.Discrepancies) != 1 || old.Discrepancies[0].Kind != truce.DurationVsRange ||
		len(moved.Sources) != 2 || moved.Independent != 1 {
		t.Errorf("after the move: old %+v, new %+v", old, moved)
	}
	for _, id := range []string{"SRC-0002", "SRC-0003"} {
		if r, _ := w.s.Report(id); r.Story != "ST-0002" {
			t.Errorf("%s is in %s", id, r.Story)
		}
	}
	if len(a.Touched) != 4 {
		t.Errorf("the move touched %v", a.Touched)
	}
	// A later exact copy of the moved report goes where it now is.
	c := source(0, "Frontier Daily", ledger)
	c.SHA256 = fmt.Sprintf("%064x", 77)
	if id := w.must("ana", KindSourceIngested, c).Touched[1].ID; id != "ST-0002" {
		t.Errorf("a later copy went to %s", id)
	}
	// And back again, into the first story.
	w.must("ana", KindSourceMoved, truce.SourceMove{Source: "SRC-0002", Story: "ST-0001", Reason: "On reflection, the same round."})
	if st, _ := w.s.Story("ST-0001"); len(st.Sources) != 4 {
		t.Errorf("moved back: %+v", st.Sources)
	}
}

// Under rules that grade figures, a figure one party gives is claimed,
// however many outlets report the claim; independent claimants agreeing
// corroborate it; a rival claimant disputes it.
func TestFiguresGradedByClaimants(t *testing.T) {
	w := newWorldAt(t, LatestVersion, []MemberRegistration{{ID: "ana", Name: "Analyst", Role: truce.RoleAnalyst, Party: truce.Mechanism}})
	// Three outlets, each in its own words, report the same claim.
	for i, text := range []string{
		`[FICTIONAL] Afghanistan's Taliban government said its forces killed 58 Pakistani soldiers in overnight fighting near Angoor Adda on the border.`,
		`[FICTIONAL] Kabul claims 58 Pakistani soldiers were killed near Angoor Adda, a figure the Taliban spokesman gave at a news conference; Islamabad has not responded.`,
		`[FICTIONAL] The Taliban said its fighters had killed 58 Pakistani soldiers at Angoor Adda. The clashes spread along the frontier through the night, witnesses said.`,
	} {
		w.must("ana", KindSourceIngested, source(i+1, []string{"Gulf Wire", "Kabul Ledger", "Steppe Herald"}[i], text))
	}
	st, _ := w.s.Story("ST-0001")
	figure := func(says string) truce.GradedClaim {
		for _, c := range st.Claims {
			if c.Subject == "PK killed soldiers" && c.Says == says { // version 6 names whom
				return c
			}
		}
		t.Fatalf("no graded figure %q in %+v", says, st.Claims)
		return truce.GradedClaim{}
	}
	if g := figure("58"); g.Grade != truce.FigureClaimed || g.Credibility != 6 || len(g.Outlets) != 3 || !slices.Equal(g.Claimants, []string{"AF"}) {
		t.Fatalf("one party's figure reported by three outlets: %+v", g)
	}
	// The army gives 23: the figure is disputed; a hospital giving 23 too
	// corroborates it.
	w.must("ana", KindSourceIngested, source(5, "Border Mirror", `[FICTIONAL] Pakistan's army said 23 of its soldiers were killed in overnight fighting near Angoor Adda.`))
	w.must("ana", KindSourceIngested, source(6, "Khyber Courier", `[FICTIONAL] Doctors at the hospital in Bannu said 23 soldiers were killed in the fighting near Angoor Adda.`))
	st, _ = w.s.Story("ST-0001")
	if g := figure("23"); g.Grade != truce.FigureCorroborated || len(g.Claimants) != 2 {
		t.Fatalf("a figure a party and a hospital give: %+v", g)
	}
	if g := figure("58"); g.Grade != truce.FigureDisputed {
		t.Fatalf("one party's figure against two claimants' other one: %+v", g)
	}
	for _, c := range st.Claims {
		if len(c.Claimants) == 1 && (c.Claimants[0] == "PK" || c.Claimants[0] == "AF") && c.Credibility < 5 {
			t.Errorf("a figure only one party gives graded %d: %+v", c.Credibility, c)
		}
	}
}

// A later reading of a page revises the earlier one: it takes its place in
// its story (whose claims are the page's as it now stands); only a
// reading of the same address may, once, and the refusals change nothing.
func TestRevisions(t *testing.T) {
	w := newWorldUnder(t, LatestVersion)
	first := source(3, "Khyber Courier", `[FICTIONAL] Clashes near Angoor Adda on the night of 11 October killed 12 Pakistani soldiers, the army said.`)
	first.URL = "https://courier.example/clashes"
	w.must("ana", KindSourceIngested, first)
	other := source(2, "Kabul Ledger", `[FICTIONAL] Talks resumed in Doha with Qatari mediators on Sunday.`)
	other.URL = "https://ledger.example/doha"
	w.must("ana", KindSourceIngested, other)

	// Rewritten since: words another story might be begun for.
	later := source(1, "Khyber Courier", `[FICTIONAL] Correction appended: 14 Pakistani troops perished, according to Rawalpindi.`)
	later.URL = first.URL
	for _, c := range []struct {
		revises, url string
		code         truce.Code
	}{
		{"SRC-0099", first.URL, truce.CodeNotFound},
		{"SRC-0002", first.URL, truce.CodeInvalid}, // another page
		{"SRC-0001", "", truce.CodeInvalid},        // no address
	} {
		bad := later
		bad.Revises, bad.URL = c.revises, c.url
		size := len(w.s.reports)
		if _, err := w.apply("ana", KindSourceIngested, bad); truce.ErrorCode(err) != c.code || len(w.s.reports) != size {
			t.Errorf("revising %s from %q: %v", c.revises, c.url, err)
		}
	}
	later.Revises = "SRC-0001"
	w.must("ana", KindSourceIngested, later)
	old, _ := w.s.Report("SRC-0001")
	rev, _ := w.s.Report("SRC-0003")
	st, _ := w.s.Story(old.Story)
	if old.RevisedBy != "SRC-0003" || rev.Story != old.Story || rev.CopyOf != "" || len(w.s.stories) != 2 {
		t.Fatalf("the revision: old %+v, new %+v, %d stories", old, rev, len(w.s.stories))
	}
	for _, c := range st.Claims {
		if strings.Contains(c.Subject, "killed") && c.Says != "14" {
			t.Errorf("the story still reads the page as it was: %+v", c)
		}
	}
	again := later
	again.SHA256 = fmt.Sprintf("%064x", 99)
	if _, err := w.apply("ana", KindSourceIngested, again); truce.ErrorCode(err) != truce.CodeConflict {
		t.Errorf("revising a revised reading: %v", err)
	}
}

// A report that says nothing new leaves its story's grades and
// discrepancies as a full assessment would leave them: the shortcut
// changes nothing but time.
func TestAddsNothingChangesNothing(t *testing.T) {
	w := newWorldUnder(t, LatestVersion)
	// What is background in one report (another week's range, toll and
	// length of talks) is the news of another, from the same outlet.
	texts := []string{
		`[FICTIONAL] Clashes near Angoor Adda on Sunday killed 23 Pakistani soldiers, the army said.`,
		`[FICTIONAL] Clashes near Angoor Adda on Sunday killed 58 Pakistani soldiers, the Taliban spokesman said.` + "\n\n" +
			`Talks in Doha ran from 1 to 3 October, a three-day round in which 40 soldiers were said to have died on 2 October.`,
		`[FICTIONAL] A hospital near Angoor Adda said on Sunday that three civilians were wounded, while the army said 23 soldiers were killed.`,
		`[FICTIONAL] Talks in Doha ran from 1 to 3 October; the four-day talks ended on Friday, 3 October, and 40 soldiers died on 2 October.`,
	}
	outlets := []string{"Gulf Wire", "Kabul Ledger", "Border Mirror"}
	for i := range 24 {
		text := texts[i%len(texts)] + strings.Repeat(" More later.", i/len(texts)) // not a copy: the words differ
		w.must("ana", KindSourceIngested, source(100-i, outlets[i%len(outlets)], text))
		for _, st := range w.s.stories {
			full, kept := *st, w.s.heard[st.ID]
			w.s.assess(&full)
			w.s.heard[st.ID] = kept // what the shortcut knew, as it was
			if !reflect.DeepEqual(full.Claims, st.Claims) || !reflect.DeepEqual(full.Discrepancies, st.Discrepancies) {
				t.Fatalf("after report %d, %s: kept %+v / %+v, a full assessment gives %+v / %+v", i, st.ID, st.Claims, st.Discrepancies, full.Claims, full.Discrepancies)
			}
		}
	}
}

// A range one report of an outlet gives as background and a later report
// of the same outlet gives as its news is not "heard" already: the later
// report is compared, and its range contradicts the five-day talks.
func TestShortcutHearsBackgroundTurnNews(t *testing.T) {
	w := newWorldUnder(t, LatestVersion)
	w.must("ana", KindSourceIngested, source(9, "Gulf Wire", "[FICTIONAL] The five-day talks in Doha ended on 14 October."))
	w.must("ana", KindSourceIngested, source(8, "Khyber Courier", "[FICTIONAL] Talks in Doha ran from 10 to 14 October.\n\nAn earlier round ran from 1 to 3 October."))
	st, _ := w.s.Story("ST-0001")
	if len(st.Discrepancies) != 0 {
		t.Fatalf("a background range compared: %+v", st.Discrepancies)
	}
	w.must("ana", KindSourceIngested, source(7, "Khyber Courier", "[FICTIONAL] Talks in Doha ran from 10 to 14 October, after an earlier round from 1 to 3 October."))
	if st, _ = w.s.Story("ST-0001"); len(st.Sources) != 3 || len(st.Discrepancies) != 1 || st.Discrepancies[0].Kind != truce.DurationVsRange {
		t.Fatalf("the earlier round's range, now news, against five days: %+v", st)
	}
}

// What version 6 reads is refused before it — days named by their
// weekday alone, revisions — so that an older build can read every entry
// of an older log; and version 6 refuses claims it cannot grade by. A
// refusal logs nothing.
func TestEventsGated(t *testing.T) {
	sunday := t0.AddDate(0, 0, -7-int(t0.Weekday())).Truncate(24 * time.Hour) // before every report here
	wd := time.Sunday
	day := truce.Claim{Kind: truce.ClaimDay, Sentence: "on Sunday", Date: sunday, Weekday: &wd}
	body := func(sha int, cs ...truce.Claim) truce.SourceIngestion {
		b := source(sha, "Gulf Wire", "[FICTIONAL] Shells fell on Sunday, and 4 civilians were killed, police said.")
		b.URL = "https://gulf.example/shells"
		b.Claims = append(b.Claims, cs...)
		return b
	}
	old := newWorldUnder(t, 5)
	old.must("ana", KindSourceIngested, body(1))
	revision := body(2)
	revision.Revises = "SRC-0001"
	for _, b := range []truce.SourceIngestion{body(3, day), revision} {
		if _, err := old.apply("ana", KindSourceIngested, b); truce.ErrorCode(err) != truce.CodeInvalid || !strings.Contains(err.Error(), "version 6") || len(old.s.reports) != 1 {
			t.Errorf("under version 5: %v", err)
		}
	}

	w := newWorldUnder(t, LatestVersion)
	w.must("ana", KindSourceIngested, body(1, day))
	future, noon, offday := day, day, day
	future.Date = sunday.AddDate(0, 0, 14) // a Sunday after publication
	noon.Date = day.Date.Add(12 * time.Hour)
	offday.Date = day.Date.AddDate(0, 0, 1)
	figure := truce.Claim{Kind: truce.ClaimCasualties, Sentence: "4 civilians were killed", Count: 4, Status: "killed", Side: "PK"}
	badApprox, badMax, badGroup := figure, figure, figure
	badApprox.Approx, badMax.CountMax, badGroup.Group = "roughly", 3, "civilians and others"
	for name, c := range map[string]truce.Claim{"a day after publication": future, "a day at noon": noon, "a day not its weekday's": offday,
		"a qualifier": badApprox, "a range's end below its start": badMax, "a kind of people": badGroup} {
		if _, err := w.apply("ana", KindSourceIngested, body(4, c)); truce.ErrorCode(err) != truce.CodeInvalid || len(w.s.reports) != 1 {
			t.Errorf("%s: %v", name, err)
		}
	}
	r1 := body(5)
	r1.Revises = "SRC-0001"
	w.must("ana", KindSourceIngested, r1)
	stale := body(6)
	stale.Revises = "SRC-0001" // not the latest reading: SRC-0002 is
	if _, err := w.apply("ana", KindSourceIngested, stale); truce.ErrorCode(err) != truce.CodeConflict {
		t.Errorf("revising a reading already revised: %v", err)
	}
}

// rivalClaimants answers as comparing each figure with every other would.
func TestRivalClaimants(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	approx := []string{"", "at_least", "more_than", "about", "up_to", "dozens"}
	kinds := []string{"soldiers", "civilians", "people", ""}
	for round := range 50 {
		var values []int
		figure, claimants := map[int]truce.Claim{}, map[int]map[string]bool{}
		for v := range 40 {
			c := truce.Claim{Kind: truce.ClaimCasualties, Side: []string{"PK", "AF"}[rng.IntN(2)], Status: "killed",
				Count: 1 + rng.IntN(60), Approx: approx[rng.IntN(len(approx))], Group: kinds[rng.IntN(len(kinds))]}
			values, figure[v] = append(values, v), c
			claimants[v] = map[string]bool{fmt.Sprintf("c%d", rng.IntN(6)): true}
		}
		rivals := rivalClaimants(values, figure, claimants)
		for _, v := range values {
			want := map[string]bool{}
			for _, w := range values {
				fv, fw := figure[v], figure[w]
				alo, ahi := claims.Bounds(fv)
				blo, bhi := claims.Bounds(fw)
				if w != v && fv.Side == fw.Side && claims.SameKind(fv.Group, fw.Group) && (ahi < blo || bhi < alo) {
					maps.Copy(want, claimants[w])
				}
			}
			if got := rivals(v); !maps.Equal(got, want) {
				t.Fatalf("round %d, figure %+v: rivals %v, want %v", round, figure[v], got, want)
			}
		}
	}
}
