package claims

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	jalaali "github.com/jalaali/go-jalaali"

	"github.com/truce-mvm/truce"
)

// Claims in Urdu, Dari and Pashto: casualty figures (by side, status and
// who says so) and dates with their weekday, as the two parties' official
// statements and press give them — Gregorian, or Solar Hijri as Afghan
// sources date them ("۸ عقرب ۱۴۰۵", converted by go-jalaali). Digits may be
// Western or Eastern Arabic-Indic; the sentence quoted is the text's own.

// arabicScript reports whether s has letters of the Arabic script.
func arabicScript(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Arabic, r) && unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// westernDigits writes Arabic-Indic and Extended Arabic-Indic (Persian,
// Urdu) digits as 0-9.
func westernDigits(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '٠' && r <= '٩':
			return '0' + (r - '٠')
		case r >= '۰' && r <= '۹':
			return '0' + (r - '۰')
		}
		return r
	}, s)
}

// statusWords are what happened to people, by language: killed (and
// "martyred", which each side says of its own dead), wounded, captured.
var statusWords = map[string][]string{
	"killed":   {"ہلاک", "شہید", "جاں بحق", "مارے گئے", "کشته", "شهید", "جان باختند", "ووژل", "وژل", "مړه"},
	"wounded":  {"زخمی", "مجروح", "ټپیان", "ټپي"},
	"captured": {"گرفتار", "اسیر", "دستگیر", "ونیول", "نیول"},
}

// arabicSides name the parties.
var arabicSides = []sideWord{
	{"PK", regexp.MustCompile("پاکستانی|پاکستاني|پاکستان|پاک فوج")},
	{"AF", regexp.MustCompile("افغانستان|افغانی|افغان|طالبان|امارت|مجاهدین")},
}

// claimantWords are who statements are attributed to: the Pakistani
// military's media wing, ministries of defence, spokesmen.
var claimantWords = regexp.MustCompile(`آئی ایس پی آر|وزارت دفاع[^\s،.۔]*(?:\s+افغانستان)?|د دفاع وزارت|دفاع وزارت|ترجمان|سخنگوی[^\s،.۔]*|ویاند`)

var (
	arabicCasualtyRE *regexp.Regexp
	arabicStatus     = map[string]string{}
	// "ہفتہ، 17 اکتوبر 2026", "17 اکتوبر", Dari "شنبه ۱۷ اکتوبر"
	arabicDateRE *regexp.Regexp
	arabicMonths = map[string]time.Month{}
	arabicDays   = map[string]time.Weekday{}
	// "۸ عقرب ۱۴۰۵": Afghan and Iranian names of the Solar Hijri months.
	solarDateRE *regexp.Regexp
	solarMonths = map[string]jalaali.Month{}
)

func init() {
	var all []string
	for status, ws := range statusWords {
		for _, w := range ws {
			arabicStatus[w] = status
			all = append(all, regexp.QuoteMeta(w))
		}
	}
	// Longest first, in a fixed order: the pattern is the same every run.
	byLength := func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) }
	slices.SortFunc(all, byLength)
	// A figure, up to three words (who they were), what happened to them.
	arabicCasualtyRE = regexp.MustCompile(`(?:^|[^\d])(\d{1,5})((?:[\s\x{a0}]+[^\s\x{a0}\d،.۔]+){0,3}?)[\s\x{a0}]+(` + strings.Join(all, "|") + `)`)
	for i, names := range [][]string{
		{"جنوری"}, {"فروری", "فبروری"}, {"مارچ"}, {"اپریل"}, {"مئی", "می"}, {"جون"},
		{"جولائی", "جولای"}, {"اگست"}, {"ستمبر", "سپتامبر"}, {"اکتوبر"}, {"نومبر", "نوامبر"}, {"دسمبر", "دسامبر"},
	} {
		for _, n := range names {
			arabicMonths[n] = time.Month(i + 1)
		}
	}
	for d, names := range map[time.Weekday][]string{
		time.Monday: {"پیر", "دوشنبه"}, time.Tuesday: {"منگل", "سه‌شنبه", "سه شنبه"}, time.Wednesday: {"بدھ", "چهارشنبه"},
		time.Thursday: {"جمعرات", "پنجشنبه", "پنج‌شنبه"}, time.Friday: {"جمعہ", "جمعه"}, time.Saturday: {"ہفتہ", "شنبه"}, time.Sunday: {"اتوار", "یکشنبه"},
	} {
		for _, n := range names {
			arabicDays[n] = d
		}
	}
	var months, days []string
	for n := range arabicMonths {
		months = append(months, regexp.QuoteMeta(n))
	}
	for n := range arabicDays {
		days = append(days, regexp.QuoteMeta(n))
	}
	// Longer names first, so "سه‌شنبه" is not read as "شنبه".
	slices.SortFunc(months, byLength)
	slices.SortFunc(days, byLength)
	arabicDateRE = regexp.MustCompile(`(?:(` + strings.Join(days, "|") + `)[\s،,]+)?(\d{1,2})[\s\x{a0}]+(` + strings.Join(months, "|") + `)(?:[\s\x{a0}]+(\d{4}))?`)
	var solar []string
	for i, names := range [][]string{
		{"حمل", "فروردین"}, {"ثور", "اردیبهشت"}, {"جوزا", "خرداد"}, {"سرطان", "تیر"}, {"اسد", "مرداد"}, {"سنبله", "شهریور"},
		{"میزان", "مهر"}, {"عقرب", "آبان"}, {"قوس", "آذر"}, {"جدی", "دی"}, {"دلو", "بهمن"}, {"حوت", "اسفند"},
	} {
		for _, n := range names {
			solarMonths[n] = jalaali.Month(i + 1)
			solar = append(solar, regexp.QuoteMeta(n))
		}
	}
	slices.SortFunc(solar, byLength)
	// A month name must stand alone: "دی" (the Iranian tenth month) is also a
	// common syllable.
	solarDateRE = regexp.MustCompile(`(?:(` + strings.Join(days, "|") + `)[\s،,]+)?(\d{1,2})[\s\x{a0}]+(` + strings.Join(solar, "|") + `)(?:[\s\x{a0}]+(1[34]\d\d))?(?:$|[^\pL])`)
}

// inArabicScript reads a sentence in Urdu, Dari or Pashto.
// by is who the sentence says gives its figures (arabicAttribution).
func inArabicScript(s string, published time.Time, by attribution) []truce.Claim {
	w := westernDigits(s)
	var out []truce.Claim
	for _, m := range arabicDateRE.FindAllStringSubmatch(w, -1) {
		day, _ := strconv.Atoi(m[2])
		t, ok := date(strconv.Itoa(day), arabicMonths[m[3]].String(), m[4], published)
		if !ok {
			continue
		}
		c := truce.Claim{Kind: truce.ClaimDate, Sentence: s, Date: t}
		if wd, ok := arabicDays[m[1]]; ok && m[1] != "" {
			c.Weekday = &wd
		}
		out = append(out, c)
	}
	for _, m := range solarDateRE.FindAllStringSubmatch(w, -1) {
		if t, ok := solarDate(m[2], solarMonths[m[3]], m[4], published); ok {
			c := truce.Claim{Kind: truce.ClaimDate, Sentence: s, Date: t}
			if wd, ok := arabicDays[m[1]]; ok && m[1] != "" {
				c.Weekday = &wd
			}
			out = append(out, c)
		}
	}
	for _, m := range arabicCasualtyRE.FindAllStringSubmatchIndex(w, -1) {
		num, near := w[m[2]:m[3]], w[m[4]:m[5]]
		n, ok := cardinal(num)
		if !ok || n == 0 || isYear(num) || solarYear(num) {
			continue
		}
		before := lastWords(w[:m[2]], 3)
		side := sideOf(arabicSides, near, "")
		switch {
		case side != "":
		case militantWords.MatchString(near):
		case ownWords.MatchString(before) && (by.side == "PK" || by.side == "AF"):
			side = by.side // "ان کے 9 جنگجو": their own
		default:
			side = sideOf(arabicSides, before+" "+near, s)
		}
		out = append(out, truce.Claim{Kind: truce.ClaimCasualties, Sentence: s, Count: n, Status: arabicStatus[w[m[6]:m[7]]], Side: side,
			Claimant: by.text, By: by.side})
	}
	return out
}

// lastWords is the last n words of s.
func lastWords(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[max(0, len(f)-n):], " ")
}

var (
	// ownWords say "their own" ("ان کے", "ان کی", "د اسلامي امارت").
	ownWords = regexp.MustCompile(`ان کے|ان کی|خپل|خود`)
	// militantWords name armed groups, whose side is neither party's.
	militantWords = regexp.MustCompile(`خوارج|دہشت گرد|تروریست|ترهګر`)
	// reportingMarks follow (or, "به گفته", precede) who says so:
	// "X کے مطابق", "X نے کہا", "X گفت", "X وویل".
	reportingMarks = regexp.MustCompile(`^(.{2,80}?)\s+(?:کے مطابق|نے (?:کہا|دعویٰ|تسلیم|بتایا|اعلان)|کا کہنا ہے|گفت|اعلام کرد|می‌گویند|می گویند|وویل|زیاته کړه|ویلي)(?:\s|$|[،.۔])`)
	byWords        = regexp.MustCompile(`^به گفته(?:\x{200c}?ی)?\s+([^،,]+?)(?:[،,]|\s+(?:نیروهای|در|که)\s)`)
)

// arabicAttribution is who an Urdu, Dari or Pashto sentence says gives
// its figures: the words before its reporting mark, classified; a pronoun
// ("او", "هغه") is the sentence before's claimant.
func arabicAttribution(s string, context attribution) attribution {
	who := ""
	if m := byWords.FindStringSubmatch(s); m != nil {
		who = strings.TrimRight(m[1], "،,")
	} else if m := reportingMarks.FindStringSubmatch(s); m != nil {
		who = m[1]
	}
	who = strings.TrimSpace(who)
	if who == "" {
		return attribution{}
	}
	switch strings.Fields(who)[0] {
	case "او", "هغه", "انہوں", "اس":
		return context
	}
	return attribution{text: who, side: arabicClaimantSide(who)}
}

// arabicClaimantSide places a claimant named in Urdu, Dari or Pashto.
func arabicClaimantSide(who string) string {
	has := func(xs ...string) bool { return containsAny(who, xs...) }
	switch {
	case has("ہسپتال", "شفاخانه", "روغتون", "یوناما", "ملل", "ملتونو", "اقوام متحدہ", "عمائدین", "منابع محلی", "عینی", "باشندگان", "رہائشی"):
		return "other"
	case has("آئی ایس پی آر", "پاک فوج", "فوج", "پولیس", "وزیر داخلہ", "وزیر اطلاعات", "سیکیورٹی", "پاکستان", "اسلام آباد"):
		return "PK"
	case has("طالبان", "امارت", "ذبیح", "مجاهد", "افغان", "وزارت دفاع ملی", "سخنگوی", "ویاند", "چارواک", "کابل"):
		return "AF"
	}
	return ""
}

// solarDate converts a Solar Hijri date to the Gregorian calendar; a
// missing year is the one that puts the date nearest the publication.
func solarDate(day string, month jalaali.Month, year string, published time.Time) (time.Time, bool) {
	d, err := strconv.Atoi(day)
	if err != nil {
		return time.Time{}, false
	}
	convert := func(y int) (time.Time, bool) {
		gy, gm, gd, err := jalaali.ToGregorian(y, month, d)
		return time.Date(gy, gm, gd, 0, 0, 0, 0, time.UTC), err == nil
	}
	if year != "" {
		y, _ := strconv.Atoi(year)
		return convert(y)
	}
	py, _, _, err := jalaali.ToJalaali(published.Year(), published.Month(), published.Day())
	if err != nil {
		return time.Time{}, false
	}
	best, found := time.Time{}, false
	for _, y := range []int{py - 1, py, py + 1} {
		if t, ok := convert(y); ok && (!found || t.Sub(published).Abs() < best.Sub(published).Abs()) {
			best, found = t, true
		}
	}
	return best, found
}

// solarYear is a year of the Solar Hijri calendar (1300-1499).
func solarYear(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && len(s) == 4 && n >= 1300 && n < 1500
}
