package claims

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
)

// brief writes a claim as a line a test can compare: casualties as
// count/max|status|side|by, dates with the weekday as written, ranges,
// durations in days or hours.
func brief(c truce.Claim) string {
	switch c.Kind {
	case truce.ClaimCasualties:
		n := fmt.Sprint(c.Count)
		if c.CountMax > 0 {
			n += fmt.Sprintf("-%d", c.CountMax)
		}
		if c.Approx != "" {
			n = c.Approx + " " + n
		}
		return strings.Join([]string{"casualties", n, c.Status, c.Side, c.By}, "|")
	case truce.ClaimDate, truce.ClaimDay:
		wd := ""
		if c.Weekday != nil {
			wd = c.Weekday.String()
		}
		return c.Kind + "|" + c.Date.Format(time.DateOnly) + "|" + wd
	case truce.ClaimRange:
		return "range|" + c.From.Format(time.DateOnly) + "|" + c.To.Format(time.DateOnly)
	case truce.ClaimDuration:
		return fmt.Sprintf("duration|%dd|%dh", c.Days, c.Hours)
	}
	return c.Kind
}

// Each phrasing the grammars are built for, in sentences written for
// this test: who is counted, by whom, what happened, with the qualifier;
// and what is not a claim.
func TestGrammar(t *testing.T) {
	at := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		text string
		want []string
	}{
		// English: figures joined by "and", parentheses, relative clauses.
		{"The interior ministry said four constables and a driver were killed at the post.",
			[]string{"casualties|4|killed|PK|PK", "casualties|1|killed|PK|PK"}},
		{"Nine guards, among them a captain and two cadets, were wounded overnight, ISPR said.",
			[]string{"casualties|9|wounded|PK|PK"}},
		{"Two drivers who had crossed at Torkham on Monday are still missing, their families said.",
			[]string{"casualties|2|missing||other", "day|2026-11-09|Monday"}},
		{"The gunmen, numbering about a dozen, were all shot dead, the police said.",
			[]string{"casualties|about 12|killed||PK"}},
		// The same figure told otherwise, a part of a whole, the wounded who died.
		{"Rawalpindi says 14 soldiers died; Kabul says the true number is 40.",
			[]string{"casualties|14|killed|PK|PK", "casualties|40|killed|PK|AF"}},
		{"The raid killed eight villagers, five of them women, in Khost province.",
			[]string{"casualties|8|killed|AF|", "casualties|5|killed|AF|"}},
		{"The toll rose to 9 after two of the injured died, the army said.",
			[]string{"casualties|9|killed|PK|PK", "casualties|2|killed|PK|PK"}},
		// Who says so: an outlet citing its source, a possessive account,
		// police placed where the sentence is.
		{"The Frontier Post, citing a provincial official, reported that 12 Afghan border guards were killed.",
			[]string{"casualties|12|killed|AF|AF"}},
		{"Kabul's version — 30 Pakistani troops dead — was denied within the hour.",
			[]string{"casualties|30|killed|PK|AF"}},
		{"Four people died in Pakistani shelling of Khost, according to the city's police chief.",
			[]string{"casualties|4|killed|AF|AF"}},
		{"The faction said its men had killed 7 soldiers.", []string{"casualties|7|killed|PK|other"}},
		// Qualifiers kept, modals read across, a subject named in the sentence
		// before, a ministry's own forces.
		{"No fewer than a dozen herders were wounded near Zhob, local elders said.",
			[]string{"casualties|at_least 12|wounded|PK|other"}},
		{"As many as 30 Afghan fighters might have been killed, Pakistani officials claimed.",
			[]string{"casualties|up_to 30|killed|AF|PK"}},
		{"The army's media wing issued a statement on the raid. It said seven troops had embraced martyrdom.",
			[]string{"casualties|7|killed|PK|PK"}},
		{"Kabul's interior ministry said its own forces had lost five men.", []string{"casualties|5|killed|AF|AF"}},
		// Durations and ranges in other words.
		{"The ceasefire held for nearly a week, and the talks were held over three days in Doha.",
			[]string{"duration|7d|0h", "duration|3d|0h"}},
		{"Shelling went on from the evening of November 2 to the early hours of November 3.",
			[]string{"range|2026-11-02|2026-11-03"}},
		{"مذاکرات ۳ نومبر سے ۵ نومبر تک جاری رہے۔", []string{"range|2026-11-03|2026-11-05"}},
		{"به گفته مقام‌های محلی، دست کم ۸ غیرنظامی کشته و ۵ تن دیگر زخمی شدند.",
			[]string{"casualties|at_least 8|killed|AF|AF", "casualties|5|wounded|AF|AF"}},
		// Days named by their weekday alone are the latest such day by the
		// publication (a Tuesday), unless planned or when it was said.
		{"Shelling resumed late Sunday; the envoy said on Tuesday that talks would resume next Friday.",
			[]string{"day|2026-11-08|Sunday"}},
		{"اتوار کی شام کو فائرنگ ہوئی اور آئندہ جمعہ کو اجلاس ہوگا۔", []string{"day|2026-11-08|Sunday"}},
		// Not claims: datelines, posts, denials.
		{"QUETTA, Nov 8: The provincial cabinet met to discuss trade.", nil},
		{"The delegates met again on Monday (Nov. 9) in the capital.", []string{"date|2026-11-09|Monday"}},
		{"Afghan forces said they seized 12 posts, and denied that anyone was killed.", nil},

		// Urdu: number words, a figure range, the qualifier after the figure,
		// who fired (so whose people), a figure that continues another.
		{"پولیس کے مطابق سرحد پار سے داغے گئے گولوں سے تین بچے جاں بحق اور چھ افراد زخمی ہو گئے۔",
			[]string{"casualties|3|killed|PK|PK", "casualties|6|wounded|PK|PK"}},
		{"فوج کے مطابق افغان فورسز کی فائرنگ سے کرم میں ۱۲ سے ۱۵ شہری زخمی ہوئے۔",
			[]string{"casualties|at_least 12-15|wounded|PK|PK"}},
		{"آئی ایس پی آر نے کہا کہ جوابی کارروائی میں ۴۰ سے زائد خوارج مارے گئے۔",
			[]string{"casualties|more_than 40|killed||PK"}},
		{"مذاکرات ۳ سے ۵ نومبر تک جاری رہے اور تین روزہ بات چیت بے نتیجہ رہی۔",
			[]string{"range|2026-11-03|2026-11-05", "duration|3d|0h"}},
		// Dari: the claimant's own, an attack by the other side, a country.
		{"وزارت دفاع اعلام کرد که در حملات هوایی پاکستان دست‌کم ۶ غیرنظامی کشته شدند.",
			[]string{"casualties|at_least 6|killed|AF|AF"}},
		{"جلسه روز دوشنبه ۹ نوامبر برگزار شد و آتش‌بس ۷۲ ساعته اعلام گردید.",
			[]string{"date|2026-11-09|Monday", "duration|0d|72h"}},
		// Pashto: the month before the day, an inflected weekday, a range.
		{"خبرې اترې د دوشنبې په ورځ، د نومبر په ۹مه پیل شوې.", []string{"date|2026-11-09|Monday"}},
		{"غونډه د نومبر له ۳مې تر ۵مې پورې دوام وکړ.", []string{"range|2026-11-03|2026-11-05"}},
		{"د طالبانو ویاند وویل چې د پاکستاني ځواکونو په ډزو کې ۵ ملکي وګړي ووژل شول.",
			[]string{"casualties|5|killed|AF|AF"}},
		// Not claims: a delegation's size, a year, arrests.
		{"۱۲ رکنی وفد ۲۰۲۶ میں کابل گیا اور پولیس نے ۵ مشتبہ افراد گرفتار کیے۔", nil},
	} {
		var got []string
		for _, cl := range Extract(c.text, at) {
			got = append(got, brief(cl))
		}
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q:\n got  %q\n want %q", c.text, got, want)
		}
	}
}

// Compare flags what cannot both be true about the same thing, once; a
// figure that fits another, one about other people, or one told as
// background is not a discrepancy.
func TestCompare(t *testing.T) {
	at := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	src := func(id, outlet, text string) Source {
		cs := Extract(text, at)
		return Source{Article: id, Outlet: outlet, Claims: cs, Days: EventDays(cs, text, at), Published: at}
	}
	story := []Source{
		src("a", "Khyber Courier", "[FICTIONAL] Shelling hit Kurram on Sunday, 8 November. Police said four civilians were killed. "+
			"The army said more than 30 militants were killed in the response."),
		src("b", "Kabul Ledger", "[FICTIONAL] Afghan officials said 32 of their fighters were killed near Kurram on Sunday. "+
			"Doctors at the district hospital said six civilians were killed."),
		src("c", "Gulf Wire", "[FICTIONAL] Kurram was shelled on Sunday. The district hospital said five civilians were killed, "+
			"while a militant faction said it had killed 20 police officers.\n\n"+
			"In fighting on 20 October, 40 civilians were killed, according to the police."),
	}
	var got []string
	for _, d := range Compare(story) {
		got = append(got, d.Kind+" "+d.Subject+" "+d.A.Article+d.B.Article)
	}
	slices.Sort(got)
	want := []string{
		// Police (a: 4) against the hospital (b: 6, c: 5): claimants, once
		// for the pair; the hospital quoted by two outlets with two
		// figures: outlets.
		"claimants_disagree PK killed ab",
		"outlets_disagree PK killed bc",
	}
	// Not flagged: "more than 30" militants against 32 fighters (they
	// fit, and the first are not of a side), 20 police against civilians
	// (other people), the 40 of 20 October (background).
	if !slices.Equal(got, want) {
		t.Errorf("discrepancies\n got  %q\n want %q", got, want)
	}
	// A claimant that gives two figures in one report disagrees with a
	// rival in the same report.
	one := []Source{src("d", "Frontier Daily", "[FICTIONAL] Police said three officers were killed in Bannu on Sunday, "+
		"while a militant faction claimed it had killed 12 policemen.")}
	if ds := Compare(one); len(ds) != 1 || ds[0].Kind != truce.ClaimantsDisagree {
		t.Errorf("two claimants in one report: %+v", ds)
	}
}

// The days a report tells of are its lead's, never one after publication;
// a report whose lead gives none is dated by all it gives.
func TestEventDays(t *testing.T) {
	at := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC) // a Tuesday
	days := func(text string) []string {
		var out []string
		for _, d := range EventDays(Extract(text, at), text, at) {
			out = append(out, d.Format("01-02"))
		}
		return out
	}
	for text, want := range map[string]string{
		"Talks ended on Monday in Ankara.\n\nThey had begun on 5 November. The next round is set for 20 November.": "11-09",
		"Talks ended in Ankara.\n\nThey had begun on 5 November. The next round is set for 20 November.":           "11-05",
		"Talks end.\n\nThe next round is set for 20 November.":                                                     "",
	} {
		if got := strings.Join(days(text), " "); got != want {
			t.Errorf("%q: days %q, want %q", text, got, want)
		}
	}
}
