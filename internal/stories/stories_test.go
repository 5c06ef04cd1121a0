package stories

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var day = time.Date(2026, 10, 19, 6, 0, 0, 0, time.UTC)

const doha = `[FICTIONAL] Delegations of Pakistan and Afghanistan ended four days of talks in Doha on Sunday with a framework
for a ceasefire along the border, the mediators said in a joint statement. The talks, mediated by Qatar and Türkiye, ran
from 15 to 18 October. Both sides agreed to set up a joint monitoring mechanism and to meet again. A spokesman for the
Pakistani foreign ministry said the framework was a first step. The Afghan delegation said its concerns about cross-border
strikes had been heard, and that it expected the mechanism to begin work within weeks.`

func fixtures() []Article {
	return []Article{
		{ID: "courier", Published: day, Text: doha},
		{ID: "gulf", Published: day.Add(3 * time.Hour), Text: `[FICTIONAL] Pakistani and Afghan negotiators
			wrapped up their Doha talks with an agreed ceasefire framework, Qatari and Turkish mediators announced. The negotiators
			will establish a joint monitoring mechanism for the border and meet again, the foreign ministry in Islamabad said.`},
		{ID: "frontier", Published: day.Add(5 * time.Hour), Text: "FRONTIER DAILY — " +
			strings.Replace(doha, "on Sunday", "late on Sunday", 1)},
		{ID: "mirror", Published: day.Add(6 * time.Hour), Text: strings.ToUpper(doha[:1]) + doha[1:] + "  "},
		{ID: "istanbul", Published: day.Add(48 * time.Hour), Text: strings.ReplaceAll(strings.ReplaceAll(doha,
			"in Doha", "in Istanbul"), "15 to 18 October", "19 to 20 October") + " The Istanbul round was the second this month."},
		{ID: "cricket", Published: day.Add(4 * time.Hour), Text: `Peshawar beat Quetta in a
			rain-shortened final, with the last over bowled in near darkness and the crowd on its feet.`},
	}
}

func TestGroup(t *testing.T) {
	g := Group(fixtures(), Options{})
	by := map[string]Grouped{}
	for _, x := range g {
		by[x.ID] = x
	}
	if s := by["courier"].Story; by["gulf"].Story != s || by["frontier"].Story != s || by["mirror"].Story != s {
		t.Errorf("the Doha reports are not one story: %+v", g)
	}
	if by["istanbul"].Story == by["courier"].Story {
		t.Error("the Istanbul round was put in the Doha round's story")
	}
	if by["cricket"].Story == by["courier"].Story || by["cricket"].Story == by["istanbul"].Story {
		t.Error("the cricket report joined a story about talks")
	}
	if m := by["mirror"]; m.CopyOf != "courier" || !m.Exact {
		t.Errorf("the mirror is not an exact copy: %+v", m)
	}
	if f := by["frontier"]; f.CopyOf != "courier" || f.Exact || f.Overlap < 0.7 {
		t.Errorf("the syndicated copy is not a near copy: %+v", f)
	}
	if by["gulf"].CopyOf != "" || by["istanbul"].CopyOf != "" {
		t.Error("an independent report was marked as a copy")
	}
	// Grouping does not depend on the order the articles are given in.
	a := fixtures()
	for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {
		a[i], a[j] = a[j], a[i]
	}
	for _, x := range Group(a, Options{}) {
		if y := by[x.ID]; x.CopyOf != y.CopyOf {
			t.Errorf("%s: %+v reversed, %+v in order", x.ID, x, y)
		}
	}
}

// A grouper fed in arrival order, not publication order, still keeps the
// Doha reports together and apart from the Istanbul round and the cricket,
// and marks the copies — now of whichever came first.
func TestGrouperArrivalOrder(t *testing.T) {
	a := fixtures()
	g := NewGrouper(Options{})
	by := map[string]Grouped{}
	for i := len(a) - 1; i >= 0; i-- {
		by[a[i].ID] = g.Add(a[i])
	}
	doha := by["courier"].Story
	for _, id := range []string{"gulf", "frontier", "mirror"} {
		if by[id].Story != doha {
			t.Errorf("%s is in story %d, the Doha round is %d", id, by[id].Story, doha)
		}
	}
	if by["istanbul"].Story == doha || by["cricket"].Story == doha {
		t.Errorf("another event joined the Doha story: %+v", by)
	}
	if c := by["courier"]; c.CopyOf != "mirror" || !c.Exact {
		t.Errorf("the courier, arriving after its exact copy, is not marked as its copy: %+v", c)
	}
	if f := by["frontier"]; f.CopyOf == "" {
		t.Errorf("the syndicated copy is not marked: %+v", f)
	}
}

func FuzzGroup(f *testing.F) {
	f.Add(doha, "a b c", int64(0))
	f.Fuzz(func(t *testing.T, a, b string, gap int64) {
		g := Group([]Article{{ID: "a", Published: day, Text: a}, {ID: "b", Published: day.Add(time.Duration(gap)), Text: b}}, Options{})
		if len(g) != 2 || g[0].Story < 1 || g[1].Story < 1 || g[0].CopyOf == "a" || g[1].CopyOf == "b" {
			t.Fatalf("%+v", g)
		}
	})
}

// BenchmarkGroup measures de-duplication and story grouping, in
// articles/s against the bound of 1,000: 5,000 articles about 100 events
// over 100 days, a third of them copies.
func BenchmarkGroup(b *testing.B) {
	var arts []Article
	places := []string{"Doha", "Istanbul", "Riyadh", "Kabul", "Islamabad"}
	for i := 0; i < 5000; i++ {
		ev := i % 100
		text := fmt.Sprintf("Report %d on event %d in %s: delegations discussed the border, the ceasefire and the monitoring mechanism "+
			"for the %d sector, where %d incidents were reported this week by officials from both sides and observers.", i%3, ev, places[ev%5], ev, ev%7)
		if i%3 == 0 {
			text = fmt.Sprintf("Event %d, %s: an original report with its own words about talks number %d and outcome %d.", ev, places[ev%5], ev, i)
		}
		arts = append(arts, Article{ID: fmt.Sprint(i), Published: day.Add(time.Duration(ev) * 24 * time.Hour).Add(time.Duration(i%50) * time.Minute), Text: text})
	}
	b.ResetTimer()
	for b.Loop() {
		Group(arts, Options{Contain: 0.8}) // as the rules in force group
	}
	b.ReportMetric(float64(len(arts)*b.N)/b.Elapsed().Seconds(), "articles/s")
	b.ReportMetric(1000, "bound-articles/s")
}

// A grouper drops the shingle sets of stories long past, so its memory
// follows the recent news, not the whole archive; exact copies of old
// articles are still caught.
func TestGrouperForgets(t *testing.T) {
	g := NewGrouper(Options{})
	text := func(i int) string {
		return fmt.Sprintf("Report %d: %s", i, strings.Repeat(fmt.Sprintf("word%d other%d thing%d ", i, i*7, i*13), 10))
	}
	for i := 0; i < 2*sweepEvery; i++ {
		g.Add(Article{ID: fmt.Sprint(i), Published: day.Add(time.Duration(i) * 6 * time.Hour), Text: text(i)})
	}
	kept, stale := 0, 0
	for _, s := range g.stories {
		for _, x := range s.originals {
			if x.shingles != nil {
				kept++
			}
		}
		if s.stale {
			stale++
		}
	}
	// 512 articles over 128 days: those of the last 30 days (and the 64
	// added since the last sweep) keep their sets.
	if stale == 0 || kept > 200 {
		t.Errorf("%d stale stories, %d shingle sets kept of %d", stale, kept, 2*sweepEvery)
	}
	if c := g.Add(Article{ID: "late", Published: day.Add(time.Hour), Text: text(0)}); c.CopyOf != "0" || !c.Exact {
		t.Errorf("an exact copy of an old article: %+v", c)
	}
}

// Reports in Urdu and Dari of the talks in Istanbul join the English
// reports' story by venue, time and actors; one of talks in Doha does not.
func TestAcrossLanguages(t *testing.T) {
	g := NewGrouper(Options{})
	actors := []string{"Pakistan", "Afghan Taliban administration", "Qatar", "Türkiye"}
	en := g.Add(Article{ID: "en", Published: day, Actors: actors, Text: strings.ReplaceAll(doha, "Doha", "Istanbul")})
	ur := g.Add(Article{ID: "ur", Published: day.Add(2 * time.Hour), Actors: []string{"Inter-Services Public Relations", "Pakistan", "Afghan Taliban administration"},
		Text: "[فرضی مشق] پاکستان اور افغانستان کے وفود نے استنبول میں مذاکرات کے بعد جنگ بندی کی نگرانی پر اتفاق کیا۔"})
	prs := g.Add(Article{ID: "prs", Published: day.Add(3 * time.Hour), Actors: []string{"Afghan Taliban administration", "Pakistan"},
		Text: "[تمرین فرضی] هیئت‌های افغانستان و پاکستان در استنبول بر نظارت مشترک آتش‌بس توافق کردند."})
	doha := g.Add(Article{ID: "doha", Published: day.Add(4 * time.Hour), Actors: []string{"Pakistan", "Afghan Taliban administration"},
		Text: "[فرضی مشق] دوحہ میں پاکستان اور افغانستان کے وفود کی ملاقات ہوئی۔"})
	lone := g.Add(Article{ID: "lone", Published: day.Add(5 * time.Hour), Actors: []string{"Pakistan"},
		Text: "[فرضی مشق] استنبول میں ایک بڑا تجارتی میلہ ہوا جس میں کپڑے، قالین، خشک میوہ جات اور دستکاری کی اشیاء پیش کی گئیں۔ " +
			"منتظمین کے مطابق تین دن میں ہزاروں خریدار آئے اور تاجروں نے نئے معاہدے کیے۔"})
	if ur.Story != en.Story || prs.Story != en.Story {
		t.Errorf("the Urdu and Dari reports of the Istanbul talks: stories %d and %d, the English one %d", ur.Story, prs.Story, en.Story)
	}
	if doha.Story == en.Story || lone.Story == en.Story {
		t.Errorf("a report of talks in Doha (%d) or one naming one actor (%d) joined the Istanbul story (%d)", doha.Story, lone.Story, en.Story)
	}
}

// Stories are found by the days they span: a report ten days on starts a
// story of its own; an exact copy reprinted two months on is still marked
// a copy, but does not stretch its story over the weeks between.
func TestWindowByDays(t *testing.T) {
	g := NewGrouper(Options{})
	first := g.Add(Article{ID: "a", Published: day, Text: doha})
	later := g.Add(Article{ID: "b", Published: day.Add(10 * 24 * time.Hour), Text: strings.Replace(doha, "Sunday", "Tuesday", 1) + " A second look."})
	reprint := g.Add(Article{ID: "c", Published: day.Add(60 * 24 * time.Hour), Text: doha})
	between := g.Add(Article{ID: "d", Published: day.Add(30 * 24 * time.Hour), Text: strings.Replace(doha, "Sunday", "Monday", 1) + " Looking back."})
	if later.Story == first.Story {
		t.Error("a report ten days later joined the story")
	}
	if reprint.CopyOf != "a" || !reprint.Exact || reprint.Story != first.Story {
		t.Errorf("the reprint: %+v", reprint)
	}
	if between.Story == first.Story {
		t.Error("the reprint stretched the story over the month between")
	}
}

// With containment, a copy cut to its first half, one extended by a
// paragraph, and one re-paragraphed under a new headline are copies of
// the wire story; a report of the same talks in other words is not.
func TestCopiesAsEditorsMakeThem(t *testing.T) {
	paras := []string{
		"Negotiators from the two governments met for a second day in the Qatari capital on Sunday, trying to turn a fragile pause in the fighting into a lasting arrangement along the frontier.",
		"Mediators shuttled between the delegations through the afternoon, carrying drafts that set out how violations would be reported, checked and answered by a joint body.",
		"Officials on both sides said the mood was businesslike, though each accused the other of breaking the pause overnight near two crossings in the south.",
		"A statement from the hosts said the talks would resume on Monday and that a text could be ready for signature within days if the remaining points were settled.",
		"Traders at the closed crossings said hundreds of lorries were waiting on both sides and asked the negotiators to reopen the roads before anything else.",
		"Diplomats said the question of who would sit on the monitoring body, and where it would meet, was the last obstacle to an agreement.",
	}
	wire := strings.Join(paras, "\n\n")
	truncated := strings.Join(paras[:3], "\n\n")
	extended := wire + "\n\nIn a separate development, the health ministry said a vaccination campaign in the border districts would go ahead as planned next week despite the closures."
	reparagraphed := "Talks to cement truce enter second day\n\n" + strings.ReplaceAll(strings.Join(paras, " "), ". ", ".\n\n")
	other := "Delegations of Pakistan and Afghanistan spent a second day at the negotiating table in Doha, where Qatari and Turkish officials pressed them to agree on a mechanism to verify the truce; no breakthrough was announced by evening, and both sides blamed each other for overnight fire."
	arts := []Article{{ID: "wire", Published: day, Text: wire}}
	for i, text := range []string{truncated, extended, reparagraphed, other} {
		arts = append(arts, Article{ID: []string{"truncated", "extended", "reparagraphed", "other"}[i], Published: day.Add(time.Duration(i+1) * time.Hour), Text: text})
	}
	without := Group(arts, Options{})
	with := Group(arts, Options{Contain: 0.8})
	for i, id := range []string{"truncated", "extended", "reparagraphed"} {
		if with[i+1].CopyOf != "wire" {
			t.Errorf("the %s copy: %+v", id, with[i+1])
		}
	}
	if with[4].CopyOf != "" {
		t.Errorf("an independent report of the same talks is not a copy: %+v", with[4])
	}
	if without[1].CopyOf == "wire" {
		t.Error("without containment a copy cut in half is caught: the test does not test containment")
	}
}

// Two clashes in one week, reported in the same words, are two stories
// when the days the reports give are apart; a report giving no day, or
// one within a day, joins.
func TestDatesApart(t *testing.T) {
	clash := "Heavy fighting broke out along the border between Pakistani troops and Taliban forces, with both sides reporting casualties and accusing each other of starting the fire, officials said."
	d := func(m, dd int) []time.Time {
		return []time.Time{time.Date(2026, time.Month(m), dd, 0, 0, 0, 0, time.UTC)}
	}
	arts := []Article{
		{ID: "first", Published: day, Text: clash + " The clash began on the night of the 12th.", Dates: d(10, 12)},
		{ID: "second", Published: day.Add(60 * time.Hour), Text: clash + " This clash began on the 15th near another crossing.", Dates: d(10, 15)},
		{ID: "undated", Published: day.Add(61 * time.Hour), Text: clash + " More fire was reported in the evening."},
		{ID: "next-day", Published: day.Add(62 * time.Hour), Text: clash + " Residents said the shelling resumed on the 16th.", Dates: d(10, 16)},
	}
	g := Group(arts, Options{DatesApart: true})
	if g[0].Story == g[1].Story || g[3].Story != g[1].Story || g[2].Story == 0 {
		t.Fatalf("with dates apart: %+v", g)
	}
	if g := Group(arts, Options{}); g[0].Story != g[1].Story {
		t.Fatalf("without, the words alone join them: %+v (the test does not test dates)", g)
	}
}

// Grouping by event (Options.Events): reports of one shelling told in two
// languages join by place and day; an attack elsewhere the next day,
// however alike in words, is a story of its own; talks reported days
// after they began stay one story. Without the option (rules before
// version 6) the two languages stay apart.
func TestEvents(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC) }
	at := func(day, hour int) time.Time { return d(day).Add(time.Duration(hour) * time.Hour) }
	// Place keys as the rules make them: a tenth of a degree.
	kurram, parachinar, waziristan := "33.7,70.1", "33.9,70.1", "33.0,70.0"
	articles := []Article{
		{ID: "urdu", Published: at(8, 18), Dates: []time.Time{d(8)}, Places: []string{kurram}, Where: []string{kurram},
			Text: "[FICTIONAL] ضلع کرم میں اتوار کی شام سرحد پار سے گولہ باری سے تین شہری زخمی ہو گئے، پولیس نے بتایا۔"},
		{ID: "english", Published: at(9, 7), Dates: []time.Time{d(8)}, Places: []string{kurram, parachinar}, Where: []string{kurram},
			Text: "[FICTIONAL] Three civilians were wounded when shells fired from across the border hit a house in Kurram on Sunday evening, police said.\n\nDoctors in Parachinar treated them overnight."},
		{ID: "waziristan", Published: at(9, 15), Dates: []time.Time{d(9)}, Places: []string{waziristan}, Where: []string{waziristan},
			Text: "[FICTIONAL] Three civilians were wounded when shells fired from across the border hit a house in North Waziristan on Monday evening, police said.\n\nDoctors in Miranshah treated them overnight."},
		{ID: "talks-open", Published: at(10, 12), Dates: []time.Time{d(10)},
			Text: "[FICTIONAL] Delegations of the two governments opened a round of talks in Ankara on Tuesday, with mediators from Qatar present."},
		{ID: "talks-mid", Published: at(12, 9), Dates: nil,
			Text: "[FICTIONAL] Talks between the two governments in Ankara went into a third day, mediators from Qatar said."},
		{ID: "talks-end", Published: at(14, 12), Dates: []time.Time{d(13)},
			Text: "[FICTIONAL] The round of talks between the two governments in Ankara ended on Friday, mediators from Qatar said, without agreement."},
	}
	story := func(gs []Grouped) map[string]int {
		m := map[string]int{}
		for _, g := range gs {
			m[g.ID] = g.Story
		}
		return m
	}
	s := story(Group(articles, Options{DatesApart: true, Events: true}))
	if s["urdu"] != s["english"] {
		t.Errorf("the Urdu and English reports of one shelling are apart: %v", s)
	}
	if s["waziristan"] == s["english"] {
		t.Errorf("a shelling in North Waziristan the next day joined Kurram's: %v", s)
	}
	if s["talks-open"] != s["talks-mid"] || s["talks-mid"] != s["talks-end"] {
		t.Errorf("the talks reported as they opened and as they ended are apart: %v", s)
	}
	if s := story(Group(articles, Options{DatesApart: true})); s["urdu"] == s["english"] {
		t.Errorf("without grouping by event, the two languages joined: %v", s)
	}
}
