package claims

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
)

var published = time.Date(2026, 10, 20, 6, 0, 0, 0, time.UTC)

func TestDatesRangesDurations(t *testing.T) {
	cs := Extract("The talks ran from 15 to 18 October. Delegates met again on Saturday, 17 October. "+
		"A four-day round ended on October 18, 2026, after week-long consultations. The round followed a week of fighting and two days of shelling.", published)
	var kinds []string
	for _, c := range cs {
		kinds = append(kinds, c.Kind)
	}
	want := map[string]int{truce.ClaimRange: 1, truce.ClaimDate: 2, truce.ClaimDuration: 2}
	got := map[string]int{}
	for _, k := range kinds {
		got[k]++
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%d %s claims, want %d (%v)", got[k], k, n, kinds)
		}
	}
	for _, c := range cs {
		switch c.Kind {
		case truce.ClaimRange:
			if c.From != time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC) || c.To.Day() != 18 {
				t.Errorf("range %v–%v", c.From, c.To)
			}
		case truce.ClaimDate:
			if c.Weekday != nil && (*c.Weekday != time.Saturday || c.Date.Day() != 17) {
				t.Errorf("date %v %v", c.Date, *c.Weekday)
			}
		case truce.ClaimDuration:
			if c.Days != 4 && c.Days != 7 {
				t.Errorf("duration %d", c.Days)
			}
		}
	}
	// Ranges across months, and across a new year.
	for text, want := range map[string]string{
		"The round ran from 28 November to 3 December.":    "2026-11-28 2026-12-03",
		"They met between 30 December and 2 January 2027.": "2026-12-30 2027-01-02",
	} {
		cs := Extract(text, published)
		if len(cs) != 1 || cs[0].Kind != truce.ClaimRange || cs[0].From.Format(time.DateOnly)+" "+cs[0].To.Format(time.DateOnly) != want {
			t.Errorf("%q = %+v, want the range %s", text, cs, want)
		}
	}
	// A date without a year is the one nearest the publication.
	c := Extract("It happened on 28 December.", time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC))
	if len(c) != 1 || c[0].Date.Year() != 2026 {
		t.Errorf("28 December read in January = %+v", c)
	}
	if c := Extract("It happened on 31 November.", published); len(c) != 0 {
		t.Errorf("31 November = %+v", c)
	}
}

func TestCasualties(t *testing.T) {
	cs := Extract("At least 23 Pakistani soldiers were killed in the clashes, the military's media wing said. "+
		"According to the Afghan defence ministry, its forces killed 58 Pakistani soldiers and captured three. "+
		"Twelve civilians were wounded in 2025 and 2026. Eleven Pakistani soldiers were martyred, ISPR said.", published)
	var got []string
	for _, c := range cs {
		if c.Kind == truce.ClaimCasualties {
			got = append(got, strings.Join([]string{c.Side, c.Status, c.Claimant}, "|")+"|"+strconv.Itoa(c.Count))
		}
	}
	want := []string{"PK|killed|military's media wing|23", "PK|killed|Afghan defence ministry|58", "|wounded||12", "PK|killed|ISPR|11"}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("missing %s in %v", w, got)
		}
	}
	for _, g := range got {
		if strings.HasSuffix(g, "|2025") || strings.HasSuffix(g, "|2026") {
			t.Errorf("a year read as a casualty figure: %s", g)
		}
	}
}

// The planted disagreements of a story are each flagged once; a difference
// of convention is not.
func TestFind(t *testing.T) {
	src := func(article, outlet, text string) Source {
		return Source{Article: article, Outlet: outlet, Claims: Extract(text, published)}
	}
	story := []Source{
		src("a1", "Khyber Courier", "Delegations ended four days of talks in Doha. The talks ran from 15 to 18 October. "+
			"23 Pakistani soldiers were killed, the army said."),
		src("a2", "Kabul Ledger", "The week-long talks, held from 15 to 18 October, ended on Friday, 17 October. "+
			"The Afghan defence ministry said 58 Pakistani soldiers were killed."),
		src("a3", "Gulf Wire", "The round lasted three days, from 15 to 18 October. The army said 25 Pakistani soldiers were killed."),
		src("a4", "Khyber Courier copy", "Delegations ended four days of talks in Doha. The talks ran from 15 to 18 October."),
	}
	ds := Find(story)
	count := map[string]int{}
	for _, d := range ds {
		count[d.Kind]++
		if d.A.Sentence == "" || (d.Kind != truce.WeekdayMismatch && (d.B == nil || d.B.Sentence == "")) {
			t.Errorf("%s without its quotes: %+v", d.Kind, d)
		}
	}
	// week-long vs 15–18 October (4 inclusive, 3 elapsed): flagged; four
	// and three days are the two conventions: not flagged.
	if count[truce.DurationVsRange] != 1 || count[truce.WeekdayMismatch] != 1 {
		t.Errorf("discrepancies %v: %+v", count, ds)
	}
	// 23 (army) vs 58 (Afghan ministry), 25 (army) vs 58: claimants; 23 vs
	// 25, both the army: outlets.
	if count[truce.ClaimantsDisagree] != 2 || count[truce.OutletsDisagree] != 1 {
		t.Errorf("casualty discrepancies %v: %+v", count, ds)
	}
}

func FuzzExtract(f *testing.F) {
	f.Add("The talks ran from 15 to 18 October; 23 Pakistani soldiers were killed, the army said.")
	f.Add("Saturday, 17 October 2026. A week-long round. killed 3 fighters")
	f.Add("ہفتہ، 17 اکتوبر 2026 کو ۲۳ پاکستانی فوجی شہید ہوئے۔ وزارت دفاع")
	f.Add("جمعه ۸ عقرب ۱۴۰۵ و ۳۱ حوت")
	f.Add("د اکتوبر له ۲۵مې تر ۳۰مې پورې، لږ تر لږه ۱۲ ملکي وګړي ووژل شول او ۴ تنه ټپیان")
	f.Add("۱۵ سے ۲۰ افغان طالبان ہلاک، چار روزہ مذاکرات، آتش‌بس ۴۸ ساعته روز چهارشنبه")
	f.Add("The gunmen, numbering about a dozen, were all killed; Kabul says the real figure is 40, the officials added on Sunday (Oct. 26).")
	f.Fuzz(func(t *testing.T, text string) {
		for _, c := range Extract(text, published) {
			// The rules refuse a source whose claims do not quote it.
			if c.Sentence == "" || !strings.Contains(text, c.Sentence) || (c.Kind == truce.ClaimRange && c.To.Before(c.From)) ||
				(c.Kind == truce.ClaimCasualties && c.Count <= 0 && c.Approx != "dozens") ||
				(c.Kind == truce.ClaimDay && (c.Weekday == nil || *c.Weekday != c.Date.Weekday() || c.Date.After(published))) {
				t.Fatalf("bad claim %+v", c)
			}
		}
	})
}

// Urdu, Dari and Pashto: casualty figures with side, status and claimant,
// in either kind of digits; Gregorian dates with their weekday; years,
// Solar Hijri ones too, are not figures.
func TestArabicScript(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string // kind|count|status|side|claimant or kind|date|weekday
	}{
		{"آئی ایس پی آر کے مطابق جھڑپوں میں 23 پاکستانی فوجی شہید ہوئے۔",
			[]string{"casualties|23|killed|PK|آئی ایس پی آر"}},
		{"به گفته وزارت دفاع، نیروهای ما ۵۸ سرباز پاکستانی را کشته اند.",
			[]string{"casualties|58|killed|PK|وزارت دفاع"}},
		{"د دفاع وزارت ویاند وویل چې ۱۲ پاکستاني سرتېري ووژل شول او ۴ تنه ټپیان دي.",
			[]string{"casualties|12|killed|PK|د دفاع وزارت ویاند", "casualties|4|wounded|PK|د دفاع وزارت ویاند"}},
		{"ہفتہ، 17 اکتوبر 2026 کو مذاکرات ختم ہوئے۔", []string{"date|2026-10-17|Saturday"}},
		{"مذاکرات روز جمعه ۱۷ اکتوبر پایان یافت.", []string{"date|2026-10-17|Friday"}},
		{"در سال ۱۴۰۵ و 2026 هیچ کس کشته نشد.", nil},
		// Solar Hijri, as Afghan sources date: 8 Aqrab 1405 is 30 October 2026.
		{"وزارت دفاع روز جمعه ۸ عقرب ۱۴۰۵ اعلام کرد.", []string{"date|2026-10-30|Friday"}},
		{"د لیندۍ په ۸ عقرب ویاند وویل.", []string{"date|2026-10-30|"}},
		{"مذاکرات در ۸ آبان ۱۴۰۵ پایان یافت.", []string{"date|2026-10-30|"}},
	} {
		var got []string
		for _, cl := range Extract(c.text, published) {
			if cl.Sentence == "" || !strings.Contains(c.text, cl.Sentence) {
				t.Errorf("%q: a claim that does not quote the text: %+v", c.text, cl)
			}
			switch cl.Kind {
			case truce.ClaimCasualties:
				got = append(got, strings.Join([]string{cl.Kind, strconv.Itoa(cl.Count), cl.Status, cl.Side, cl.Claimant}, "|"))
			case truce.ClaimDate:
				wd := ""
				if cl.Weekday != nil {
					wd = cl.Weekday.String()
				}
				got = append(got, strings.Join([]string{cl.Kind, cl.Date.Format(time.DateOnly), wd}, "|"))
			}
		}
		if strings.Join(got, " ; ") != strings.Join(c.want, " ; ") {
			t.Errorf("%q:\n got  %v\n want %v", c.text, got, c.want)
		}
	}
	// A weekday that does not match its date is flagged, as in English.
	ds := Find([]Source{{Article: "a", Outlet: "x", Claims: Extract("مذاکرات روز جمعه ۱۷ اکتوبر پایان یافت.", published)}})
	if len(ds) != 1 || ds[0].Kind != truce.WeekdayMismatch {
		t.Errorf("a Friday 17 October 2026 (a Saturday) in Dari: %+v", ds)
	}
}
