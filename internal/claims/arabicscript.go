package claims

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	jalaali "github.com/jalaali/go-jalaali"

	"github.com/truce-mvm/truce"
)

// Claims in Urdu, Dari and Pashto, read by the same kind of grammar over
// tokens as English: a figure (digits of any script or number words, with
// its qualifier before or after it — "کم از کم ۴", "۲۰۰ سے زائد", "۱۵ سے
// ۲۰") is a casualty figure when a status follows it across its noun
// phrase ("۹ تن از نیروهای امارت اسلامی جان باختند"). Whose people they
// are comes from the noun phrase or the possessive before it ("پاک فوج کے
// ۲۳ جوان"), else from who did it ("پاکستانی فضائی حملوں میں": in
// Pakistani air strikes, so the other side's), else from what the
// claimant says of its own ("شہید"), else from where. Dates are
// Gregorian, in the orders the three languages write them ("۱۸ اکتوبر",
// Pashto "د اکتوبر په ۱۸مه"), or Solar Hijri as Afghan sources date them
// ("۸ عقرب ۱۴۰۵", converted by go-jalaali); a weekday written before a
// date is kept as written. Ranges ("۲۵ سے ۳۰ اکتوبر", "از ۲۵ تا ۳۰
// اکتوبر", "له ۲۵مې تر ۳۰مې") and durations of talks and ceasefires ("چار
// روزہ مذاکرات", "آتش‌بس ۴۸ ساعته") too. The sentence quoted is the
// text's own; words are compared in one spelling (normal).

// arabicScript reports whether s has letters of the Arabic script.
func arabicScript(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Arabic, r) && unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// normal writes text in one spelling: Western digits, the Persian forms
// of yeh and kaf, without diacritics, tatweel or the zero-width
// (non-)joiners that Dari puts inside words ("شده‌اند" is "شدهاند").
func normal(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '٠' && r <= '٩':
			return '0' + (r - '٠')
		case r >= '۰' && r <= '۹':
			return '0' + (r - '۰')
		case r == 'ي' || r == 'ى':
			return 'ی'
		case r == 'ك':
			return 'ک'
		case r == '\u200c' || r == '\u200d' || r == 'ـ' || r >= 0x064B && r <= 0x065F || r == 0x0670:
			return -1
		}
		return r
	}, s)
}

// aword is a word or a mark of an Urdu, Dari or Pashto sentence.
type aword struct {
	w     string
	n     int  // its value, if a number
	num   bool // digits or a number word
	punct bool
}

var arabicPunct = "،,.۔؛;:()«»\"؟?!"

func arabicTokens(s string) []aword {
	var out []aword
	for _, f := range strings.FieldsFunc(normal(s), func(r rune) bool { return unicode.IsSpace(r) }) {
		for f != "" {
			i := strings.IndexFunc(f, func(r rune) bool { return strings.ContainsRune(arabicPunct, r) })
			word := f
			if i >= 0 {
				word = f[:i]
			}
			// "۱۸مه": a day and the ordinal ending written with it.
			if d := strings.IndexFunc(word, func(r rune) bool { return !unicode.IsDigit(r) }); d > 0 {
				out = append(out, numberWord(word[:d]))
				word = word[d:]
			}
			if word != "" {
				out = append(out, numberWord(word))
			}
			if i < 0 {
				break
			}
			_, size := utf8.DecodeRuneInString(f[i:])
			out = append(out, aword{w: f[i : i+size], punct: true})
			f = f[i+size:]
		}
	}
	return out
}

// numberWord is a word, with its value if it is a number.
func numberWord(w string) aword {
	if n, err := strconv.Atoi(w); err == nil {
		return aword{w: w, n: n, num: true}
	}
	if n, ok := arabicNumbers[w]; ok {
		return aword{w: w, n: n, num: true}
	}
	return aword{w: w}
}

// arabicNumbers are number words of the three languages. Words that are
// also common words ("نه", not; "ده", is; "نو", so; "سی", the; "سو", so)
// are left out: a figure must be certain.
var arabicNumbers = map[string]int{
	// Urdu
	"ایک": 1, "تین": 3, "چار": 4, "پانچ": 5, "چھ": 6, "چھے": 6, "سات": 7, "آٹھ": 8, "دس": 10, "گیارہ": 11,
	"بارہ": 12, "تیرہ": 13, "چودہ": 14, "پندرہ": 15, "سولہ": 16, "سترہ": 17, "اٹھارہ": 18, "انیس": 19, "بیس": 20,
	"تیس": 30, "چالیس": 40, "پچاس": 50,
	// Dari
	"یک": 1, "دو": 2, "سه": 3, "چهار": 4, "پنج": 5, "شش": 6, "هفت": 7, "هشت": 8, "یازده": 11, "دوازده": 12,
	"سیزده": 13, "چهارده": 14, "پانزده": 15, "شانزده": 16, "هفده": 17, "هجده": 18, "نوزده": 19, "بیست": 20, "چهل": 40,
	"پنجاه": 50,
	// Pashto
	"یو": 1, "دوه": 2, "درې": 3, "دری": 3, "څلور": 4, "پنځه": 5, "شپږ": 6, "اووه": 7, "اته": 8, "نهه": 9, "لس": 10,
	"شل": 20,
}

// phrase is a sequence of normal words.
type phrase []string

func phrases(ws ...string) []phrase {
	out := make([]phrase, 0, len(ws))
	for _, w := range ws {
		out = append(out, strings.Fields(normal(w)))
	}
	return out
}

// at reports whether the words at i are p; a word of p ending in "*" is
// a stem that matches any word it begins.
func (p phrase) at(ts []aword, i int) bool {
	if i < 0 || i+len(p) > len(ts) {
		return false
	}
	for k, w := range p {
		if stem, ok := strings.CutSuffix(w, "*"); ok {
			if !strings.HasPrefix(ts[i+k].w, stem) {
				return false
			}
		} else if ts[i+k].w != w {
			return false
		}
	}
	return true
}

// phraseAt is the first of ps at i, and how many words it has.
func phraseAt(ps []phrase, ts []aword, i int) int {
	for _, p := range ps {
		if p.at(ts, i) {
			return len(p)
		}
	}
	return 0
}

func anyAt(ps []phrase, ts []aword, from, to int) bool {
	for k := max(0, from); k < to && k < len(ts); k++ {
		if phraseAt(ps, ts, k) > 0 {
			return true
		}
	}
	return false
}

var (
	arabicStatuses = []struct {
		status string
		ps     []phrase
	}{
		{"killed", phrases("ہلاک*", "هلاک*", "شہید*", "شهید*", "کشته*", "ووژل*", "وژل*", "مړه", "جاں بحق", "جان بحق", "جان باخت*",
			"جان داد*", "مارے", "مارا", "جاں بحق*")},
		{"wounded", phrases("زخمی*", "مجروح*", "ټپ*")},
		{"captured", phrases("اسیر*", "یرغمال*")},
		{"missing", phrases("لاپتہ", "لاپته", "مفقود*", "ورک")},
	}
	// martyred is said by each side of its own dead.
	martyred = phrases("شہید*", "شهید*")
	// qualifiers before a figure, and after it.
	arabicBefore = []struct {
		approx string
		ps     []phrase
	}{
		{"at_least", phrases("کم از کم", "دستکم", "دست کم", "لږ تر لږه", "لږترلږه")},
		{"more_than", phrases("بیش از", "بیشتر از", "زیادہ از")},
		{"about", phrases("تقریبا", "حدود", "در حدود", "نږدې", "نږدی", "قریب")},
	}
	arabicAfter = phrases("سے زائد", "سے زیادہ", "سے زیاده", "ډېر", "زیات", "زیاتو")
	rangeWords  = phrases("سے", "تا", "تر", "-", "–", "الی")
	dozens      = phrases("درجنوں", "دهها", "لسګونه", "لسگونه")
	// notArabicPeople follow a figure that counts something else.
	notArabicPeople = phrases("پوسٹ*", "پوست*", "پاسگاه*", "چوکی*", "چوکیاں", "ٹینک*", "گاڑی*", "ٹرک*", "کلومیٹر*", "کیلومتر*",
		"فیصد", "درصد", "خاندان*", "خانواده*", "ملین", "میلیون", "ارب", "روپے", "ڈالر", "دالر", "افغانی", "بستر*", "نفری",
		"مرحله", "دور", "سال*", "ماہ", "ماه", "میاشت*", "مه", "مې", "م", "نېټې")
	// nationalities of the people counted, or of those who did it.
	pakistani = phrases("پاکستانی*", "پاکستان*", "پاک فوج", "ایف سی")
	afghan    = phrases("افغان*", "طالبان*", "امارت*", "مجاهدین", "مجاہدین", "اسلامی امارت")
	militant  = phrases("خوارج", "دہشت گرد*", "دہشتگرد*", "تروریست*", "ترهګر*", "ترهگر*", "شدت پسند*", "عسکریت پسند*")
	police    = phrases("پولیس", "پولیسو", "پولیسو*")
	// attacks and "from the side of" mark who did it.
	attacks = phrases("حمل*", "حملے", "حملوں", "حملات", "برید*", "ډز*", "گولہ باری", "گولہباری", "گلولهباری", "گلوله باری",
		"فائرنگ", "فائرنگ*", "بمباری", "بمبارد*", "شیلنگ", "راکٹ*", "مارٹر", "توپخان*", "جانب", "طرف", "لوری", "لور")
	// ownArabic say "their own".
	ownArabic = phrases("ان کے", "ان کی", "اپنے", "خپل*", "خود", "خودی")
	// others continue the figure before: "۱۶ نور", "۱۶ تن دیگر", "۲۹ مزید";
	// classifiers count people without saying who ("۹ تن", "۱۰ کسان").
	others      = phrases("نور", "دیگر", "مزید", "دیگر*")
	classifiers = phrases("تن", "تنه", "تنو", "کسان", "کس", "افراد", "فرد", "نفر")
	// joins between two figures.
	arabicAnd = phrases("اور", "و", "او")
	// included ("جن میں تین بچے بھی شامل ہیں"): a part of the figure before.
	included = phrases("شامل", "شامل*", "جمله", "جملې")
	// stops end a clause: whose people and who did it are read within it.
	arabicStops = phrases("جبکہ", "جب کہ", "جبکه", "درحالیکه", "حالانکہ", "خو", "لیکن", "اما", "مگر", "که", "کہ", "چې", "چی")
	// markers end a noun phrase before what is about where and by whom.
	locatives = phrases("در", "میں", "په")
	markers   = phrases("میں", "در", "په", "کې", "سے", "سره", "پر", "بر", "کو", "از اثر", "در اثر", "د")
)

// casualtyStatusAt is the status at i and its length.
func casualtyStatusAt(ts []aword, i int) (string, int) {
	for _, st := range arabicStatuses {
		if n := phraseAt(st.ps, ts, i); n > 0 {
			return st.status, n
		}
	}
	return "", 0
}

func isStatus(ts []aword, i int) bool { _, n := casualtyStatusAt(ts, i); return n > 0 }

// afigure is a number phrase of tokens [start, end).
type afigure struct {
	start, num, end int
	count, max      int
	approx          string
}

// arabicFigureAt reads a number phrase starting at i: a qualifier, a
// number or "dozens", a range, a qualifier after.
func arabicFigureAt(ts []aword, i int) (afigure, bool) {
	f := afigure{start: i}
	for _, q := range arabicBefore {
		if n := phraseAt(q.ps, ts, i); n > 0 {
			f.approx, i = q.approx, i+n
			break
		}
	}
	if i >= len(ts) {
		return f, false
	}
	if phraseAt(dozens, ts, i) > 0 {
		f.num, f.end, f.approx = i, i+1, "dozens"
		return f, true
	}
	if !ts[i].num || ts[i].n == 0 || isYear(ts[i].w) || solarYear(ts[i].w) {
		return f, false
	}
	f.num, f.count, f.end = i, ts[i].n, i+1
	if n := phraseAt(rangeWords, ts, f.end); n > 0 && f.end+n < len(ts) && ts[f.end+n].num && ts[f.end+n].n > f.count {
		f.max, f.end = ts[f.end+n].n, f.end+n+1
		if f.approx == "" {
			f.approx = "at_least"
		}
	}
	if n := phraseAt(arabicAfter, ts, f.end); n > 0 {
		f.approx, f.end = "more_than", f.end+n
	}
	return f, true
}

// acasualty is a figure read as a casualty figure.
type acasualty struct {
	fig            afigure
	status         string
	np             []aword // its noun phrase, to the first marker
	inherit        int     // the figure whose status and side it takes, or -1
	continues      bool    // "۲۹ زخمی", "۱۶ نور ټپیان": the same people as the figure before
	clause         [2]int
	statusAt       int
	partOfPrevious bool // "جن میں … شامل": a part of the figure before
}

// inArabicScript reads a sentence in Urdu, Dari or Pashto.
// by is who the sentence says gives its figures (arabicAttribution);
// context is the place of the sentence before, for a sentence that names
// none.
func inArabicScript(s string, published time.Time, by attribution) []truce.Claim {
	ts := arabicTokens(s)
	used := make([]bool, len(ts)+1)
	out := arabicCalendar(s, ts, published, used)
	var found []acasualty
	clauses := arabicClauses(ts)
	for i := 0; i < len(ts); i++ {
		if used[i] {
			continue
		}
		f, ok := arabicFigureAt(ts, i)
		if !ok || used[f.num] {
			continue
		}
		if c, ok := readArabicCasualty(ts, f, len(found), clauses[f.num]); ok {
			found = append(found, c)
			i = f.end - 1
		}
	}
	place := placeSide(s)
	for k := range found {
		c := &found[k]
		if c.status == "" && c.inherit >= 0 && c.inherit < len(found) {
			c.status = found[c.inherit].status
		}
		if c.status == "" {
			continue
		}
		claim := truce.Claim{Kind: truce.ClaimCasualties, Sentence: s, Count: c.fig.count, CountMax: c.fig.max,
			Approx: c.fig.approx, Status: c.status, Claimant: by.text, By: by.side, Group: arabicGroup(c.np)}
		claim.Side = arabicSide(ts, *c, by, place)
		if (c.continues || c.partOfPrevious && claim.Side == "") && len(out) > 0 {
			if prev := out[len(out)-1]; prev.Kind == truce.ClaimCasualties {
				claim.Side = prev.Side
				if c.continues {
					claim.Group = prev.Group // "۱۲ تن دیگر": more of the same people
				}
			}
		}
		out = append(out, claim)
	}
	return out
}

// readArabicCasualty decides whether a figure is a casualty figure: a
// status follows it across its noun phrase, or it is joined to a figure
// that has one ("۱۳ فوجی اور دو شہری شہید"), or it is part of the figure
// before ("جن میں تین بچے بھی شامل ہیں").
func readArabicCasualty(ts []aword, f afigure, n int, clause [2]int) (acasualty, bool) {
	c := acasualty{fig: f, inherit: -1, clause: clause}
	if f.end < len(ts) && phraseAt(notArabicPeople, ts, f.end) > 0 {
		return c, false
	}
	for k := f.end; k < len(ts) && k < f.end+9; k++ {
		if ts[k].punct {
			break
		}
		if st, m := casualtyStatusAt(ts, k); m > 0 {
			c.status, c.statusAt = st, k
			c.np = nounPhraseArabic(ts, f.end, k)
			c.continues = continuesArabic(ts[f.end:k])
			return c, true
		}
		if phraseAt(included, ts, k) > 0 && n > 0 {
			c.inherit, c.partOfPrevious = n-1, true
			c.np = nounPhraseArabic(ts, f.end, k)
			return c, true
		}
		if k > f.end && ts[k].num {
			if phraseAt(arabicAnd, ts, k-1) > 0 { // "… اور دو شہری شہید": the status of the figure after
				c.inherit, c.np = n+1, nounPhraseArabic(ts, f.end, k-1)
				return c, true
			}
			break
		}
	}
	return c, false
}

// nounPhraseArabic is the words after a figure up to its status, or to
// the first word that says where or by whom.
func nounPhraseArabic(ts []aword, from, to int) []aword {
	for k := from; k < to; k++ {
		if phraseAt(markers, ts, k) > 0 || phraseAt(attacks, ts, k) > 0 {
			if k == from {
				continue
			}
			return ts[from:k]
		}
	}
	return ts[from:to]
}

// continuesArabic reports whether a figure's noun phrase names no one
// of its own ("۲۹", "۴ تنه", "۱۶ تن دیگر"), and so counts the people of
// the figure before it.
func continuesArabic(np []aword) bool {
	for k := range np {
		if phraseAt(others, np, k) == 0 && phraseAt(classifiers, np, k) == 0 {
			return false
		}
	}
	return true
}

// arabicClauses are the clauses, between stops, that each token lies in:
// read once a sentence, so that a long one is read in linear time.
func arabicClauses(ts []aword) [][2]int {
	out := make([][2]int, len(ts))
	start := 0
	for k := range ts {
		if phraseAt(arabicStops, ts, k) > 0 || ts[k].w == "؛" || ts[k].w == ";" {
			start = k + 1
		}
		out[k][0] = start
	}
	end := len(ts)
	for k := len(ts) - 1; k >= 0; k-- {
		out[k][1] = end
		if phraseAt(arabicStops, ts, k) > 0 || ts[k].w == "؛" || ts[k].w == ";" || ts[k].w == "." || ts[k].w == "۔" {
			end = k
		}
	}
	return out
}

// nationalityIn is the party a run of words names, "none" for armed
// groups, "" for neither.
func nationalityIn(ts []aword, from, to int) string {
	switch {
	case anyAt(pakistani, ts, from, to) && !anyAt(afghan, ts, from, to):
		return "PK"
	case anyAt(afghan, ts, from, to):
		return "AF" // "Taliban and allied militants" counted together are the Taliban's
	case anyAt(militant, ts, from, to):
		return "none"
	}
	return ""
}

// arabicSide decides whose people a figure counts.
func arabicSide(ts []aword, c acasualty, by attribution, place string) string {
	// Its noun phrase, or the possessive before it ("پاک فوج کے ۲۳").
	npFrom, npTo := c.fig.end, c.fig.end+len(c.np)
	if n := nationalityIn(ts, npFrom, npTo); n != "" {
		return map[string]string{"PK": "PK", "AF": "AF"}[n]
	}
	pre := c.fig.start
	for pre > c.clause[0] && pre > c.fig.start-4 {
		w := ts[pre-1]
		if w.punct || phraseAt(attacks, ts, pre-1) > 0 || phraseAt(markers, ts, pre-1) > 0 && w.w != "د" ||
			phraseAt(arabicAnd, ts, pre-1) > 0 || isStatus(ts, pre-1) {
			break
		}
		pre--
	}
	// … unless those words name who attacked ("حملات هوایی پاکستان ۶").
	byAttack := pre > 0 && phraseAt(attacks, ts, pre-1) > 0
	if n := nationalityIn(ts, pre, c.fig.start); (n == "PK" || n == "AF") && !byAttack {
		return n
	}
	if anyAt(militant, ts, npFrom, npTo) {
		return ""
	}
	// Where, when said of the country: "۴۱ غیرنظامی در افغانستان کشته".
	for k := npTo; k+1 < c.statusAt; k++ {
		if phraseAt(locatives, ts, k) > 0 && !anyAt(attacks, ts, npTo, c.statusAt) {
			switch ts[k+1].w {
			case "پاکستان":
				return "PK"
			case "افغانستان":
				return "AF"
			}
		}
	}
	// Who did it: a party named next to an attack, near the figure in
	// its clause.
	for k := max(c.clause[0], c.fig.start-12); k < min(c.clause[1], c.statusAt+12); k++ {
		if phraseAt(attacks, ts, k) == 0 {
			continue
		}
		if n := nationalityIn(ts, max(c.clause[0], k-3), min(c.clause[1], k+4)); n == "PK" {
			return "AF"
		} else if n == "AF" {
			return "PK"
		}
	}
	mine := by.side == "PK" || by.side == "AF"
	if mine && (anyAt(ownArabic, ts, pre, npTo) || phraseAt(martyred, ts, c.statusAt) > 0 && !anyAt(police, ts, npFrom, npTo)) {
		return by.side // "ان کے ۹ جنگجو", "۶ جوان شہید": the claimant's own
	}
	if place != "" {
		return place
	}
	if anyAt(police, ts, npFrom, npTo) {
		return "PK"
	}
	if mine {
		return by.side
	}
	return ""
}

func arabicGroup(np []aword) string {
	for _, g := range []struct {
		group string
		ps    []phrase
	}{
		{"soldiers", phrases("فوجی*", "سپاہی*", "جوان", "سرباز*", "سرتېر*", "سرتیر*", "اہلکار", "نیروهای*", "ځواک*")},
		{"police", police},
		{"militants", militant},
		{"fighters", phrases("طالبان*", "جنگجو*", "مجاهدین", "مجاہدین")},
		{"civilians", phrases("شہری*", "غیرنظامی*", "ملکی", "بچے", "بچوں", "کودک*", "ماشوم*", "راہگیر*", "عام")},
	} {
		if anyAt(g.ps, np, 0, len(np)) {
			return g.group
		}
	}
	return "people"
}

var (
	arabicMonths   = map[string]time.Month{}
	arabicWeekdays = map[string]time.Weekday{}
	solarMonths    = map[string]jalaali.Month{}
	// durations: units, and what they must be about.
	dayUnits    = phrases("روز", "روزہ", "روزه", "روزے", "دن", "دنوں", "ورځ", "ورځې", "ورځنی", "ورځو", "یومیه")
	hourUnits   = phrases("گھنٹے", "گھنٹہ", "گھنٹوں", "ساعت", "ساعته", "ساعتہ", "ساعتونو", "ساعتو")
	weekUnits   = phrases("ہفتے", "ہفتوں", "هفته", "هفتې", "اونۍ", "اونی")
	talksArabic = phrases("مذاکرات*", "مذاکره*", "مذاکرہ*", "گفتگو*", "گفتوگو*", "خبرې", "خبری", "اجلاس*", "ملاقات*",
		"نشست*", "غونډ*", "جنگ بندی", "جنگبندی", "آتشبس*", "آتش بس", "اوربند*", "فائر بندی")
	// notDuration follow an interval or a deadline, or fighting.
	notDuration = phrases("بعد", "پس", "وروسته", "قبل", "پہلے", "پیش", "مهلت", "اندر", "جھڑپ*", "لڑائی*", "درگیری*", "نښت*",
		"جنگ", "گولہ*", "بمباری*")
	dateFillers   = phrases("روز", "بروز", "د", "په", "ورځ", "،", ",", "کو", "کی", "کے", "دن", "به", "تاریخ")
	ceasefireWord = phrases("جنگ بندی")[0]
	weekAsUnit    = phrases("ہفتہ") // Urdu "ہفتہ" is Saturday before a date, and a week after a number
	// plannedArabic make a weekday a plan: "آئندہ", "اگلے", "آینده", "راتلونکې".
	plannedArabic = phrases("آئندہ", "اگلے", "آینده", "راتلونکې", "راتلونکی", "تا", "تک")
)

func init() {
	for i, names := range [][]string{
		{"جنوری"}, {"فروری", "فبروری"}, {"مارچ"}, {"اپریل"}, {"مئی", "می"}, {"جون"},
		{"جولائی", "جولای"}, {"اگست"}, {"ستمبر", "سپتامبر"}, {"اکتوبر"}, {"نومبر", "نوامبر"}, {"دسمبر", "دسامبر"},
	} {
		for _, n := range names {
			arabicMonths[normal(n)] = time.Month(i + 1)
		}
	}
	for d, names := range map[time.Weekday][]string{
		time.Monday: {"پیر", "دوشنبه"}, time.Tuesday: {"منگل", "سه‌شنبه"}, time.Wednesday: {"بدھ", "چهارشنبه"},
		time.Thursday: {"جمعرات", "پنجشنبه"}, time.Friday: {"جمعہ", "جمعه"}, time.Saturday: {"ہفتہ", "شنبه"}, time.Sunday: {"اتوار", "یکشنبه"},
	} {
		for _, n := range names {
			arabicWeekdays[normal(n)] = d
			if p, ok := strings.CutSuffix(normal(n), "ه"); ok {
				arabicWeekdays[p+"ې"] = d // Pashto: "د شنبې په ورځ"
			}
		}
	}
	for i, names := range [][]string{
		{"حمل", "فروردین"}, {"ثور", "اردیبهشت"}, {"جوزا", "خرداد"}, {"سرطان", "تیر"}, {"اسد", "مرداد"}, {"سنبله", "شهریور"},
		{"میزان", "مهر"}, {"عقرب", "آبان"}, {"قوس", "آذر"}, {"جدی", "دی"}, {"دلو", "بهمن"}, {"حوت", "اسفند"},
	} {
		for _, n := range names {
			solarMonths[normal(n)] = jalaali.Month(i + 1)
		}
	}
}

// adate is a day and month read at tokens [start, end).
type adate struct {
	start, end int
	day        int
	month      time.Month    // Gregorian, or
	solar      jalaali.Month // Solar Hijri
	year       int
}

func (d adate) resolve(published time.Time) (time.Time, bool) {
	year := ""
	if d.year != 0 {
		year = strconv.Itoa(d.year)
	}
	if d.solar != 0 {
		return solarDate(strconv.Itoa(d.day), d.solar, year, published)
	}
	return date(strconv.Itoa(d.day), d.month.String(), year, published)
}

// dayAtArabic reads a day of the month at i, with the ordinal ending
// Pashto writes after it ("۱۸مه"), returning the day and the tokens read.
func dayAtArabic(ts []aword, i int) (int, int) {
	if i >= len(ts) || !ts[i].num || ts[i].n < 1 || ts[i].n > 31 || len(ts[i].w) > 2 {
		return 0, 0
	}
	if i+1 < len(ts) && (ts[i+1].w == "مه" || ts[i+1].w == "مې" || ts[i+1].w == "م" || ts[i+1].w == "ام") {
		return ts[i].n, 2
	}
	return ts[i].n, 1
}

// monthAtArabic reads a month name at i (Gregorian or Solar Hijri).
func monthAtArabic(ts []aword, i int) (time.Month, jalaali.Month, bool) {
	if i >= len(ts) {
		return 0, 0, false
	}
	if m := arabicMonths[ts[i].w]; m != 0 {
		return m, 0, true
	}
	if m := solarMonths[ts[i].w]; m != 0 {
		return 0, m, true
	}
	return 0, 0, false
}

// arabicDateAt reads "۱۸ اکتوبر [۲۰۲۵]" or "اکتوبر [په|له] ۱۸[مه]" at i.
func arabicDateAt(ts []aword, i int) (adate, bool) {
	d := adate{start: i}
	if day, n := dayAtArabic(ts, i); n > 0 {
		if m, sm, ok := monthAtArabic(ts, i+n); ok {
			d.day, d.month, d.solar, d.end = day, m, sm, i+n+1
			if d.end < len(ts) && ts[d.end].num && (isYear(ts[d.end].w) || solarYear(ts[d.end].w)) {
				d.year, d.end = ts[d.end].n, d.end+1
			}
			return d, true
		}
	}
	if m, sm, ok := monthAtArabic(ts, i); ok && sm == 0 { // Pashto: "د اکتوبر په ۱۸مه"
		k := i + 1
		if k < len(ts) && (ts[k].w == "په" || ts[k].w == "له") {
			k++
		}
		if day, n := dayAtArabic(ts, k); n > 0 && !(k+n < len(ts) && phraseAt(rangeWords, ts, k+n) > 0) {
			d.day, d.month, d.end = day, m, k+n
			return d, true
		}
	}
	return d, false
}

// weekdayBefore is the weekday written just before token i, across the
// words that join it to a date ("روز شنبه ۱۸", "د شنبې په ورځ، د").
func weekdayBefore(ts []aword, i int) *time.Weekday {
	for k := i - 1; k >= 0 && k >= i-5; k-- {
		if wd, ok := arabicWeekdays[ts[k].w]; ok {
			return &wd
		}
		if phraseAt(dateFillers, ts, k) == 0 {
			return nil
		}
	}
	return nil
}

// arabicCalendar reads ranges, dates and durations, marking the tokens
// they use so that no figure is read from them.
func arabicCalendar(s string, ts []aword, published time.Time, used []bool) []truce.Claim {
	var out []truce.Claim
	mark := func(from, to int) {
		for k := max(0, from); k < to && k < len(used); k++ {
			used[k] = true
		}
	}
	for i := 0; i < len(ts); i++ {
		// Ranges: "۲۵ سے ۳۰ اکتوبر", "از ۲۵ تا ۳۰ اکتوبر", "د اکتوبر له
		// ۲۵مې تر ۳۰مې".
		lead := i
		if ts[i].w == "از" || ts[i].w == "له" {
			lead++
		}
		// Two whole dates: "۲۵ اکتوبر سے ۳۰ اکتوبر تک".
		if a, ok := arabicDateAt(ts, lead); ok && a.solar == 0 {
			if j := phraseAt(rangeWords, ts, a.end); j > 0 {
				if b, ok := arabicDateAt(ts, a.end+j); ok && b.solar == 0 {
					from, ok1 := a.resolve(published)
					to, ok2 := b.resolve(published)
					if ok1 && ok2 && to.After(from) && to.Sub(from) <= 92*24*time.Hour {
						out = append(out, truce.Claim{Kind: truce.ClaimRange, Sentence: s, From: from, To: to})
						mark(i, b.end)
						i = b.end - 1
						continue
					}
				}
			}
		}
		var m time.Month
		k := lead
		if mm, sm, ok := monthAtArabic(ts, k); ok && sm == 0 && k+1 < len(ts) && ts[k+1].w == "له" {
			m, k = mm, k+2
		}
		if d1, n1 := dayAtArabic(ts, k); n1 > 0 {
			if j := phraseAt(rangeWords, ts, k+n1); j > 0 {
				if d2, n2 := dayAtArabic(ts, k+n1+j); n2 > 0 && d2 > d1 {
					e := k + n1 + j + n2
					if m == 0 {
						if mm, sm, ok := monthAtArabic(ts, e); ok && sm == 0 {
							m, e = mm, e+1
						}
					}
					if m != 0 {
						if from, to, ok := pair(d1, d2, m, 0, published); ok {
							out = append(out, truce.Claim{Kind: truce.ClaimRange, Sentence: s, From: from, To: to})
							mark(i, e)
							i = e - 1
							continue
						}
					}
				}
			}
		}
		if d, ok := arabicDateAt(ts, i); ok {
			t, ok := d.resolve(published)
			if !ok {
				continue
			}
			c := truce.Claim{Kind: truce.ClaimDate, Sentence: s, Date: t, Weekday: weekdayBefore(ts, d.start)}
			if d.start > 0 && ts[d.start-1].w == "د" && c.Weekday == nil {
				c.Weekday = weekdayBefore(ts, d.start-1)
			}
			out = append(out, c)
			mark(d.start, d.end)
			i = d.end - 1
		}
	}
	// Days named by their weekday alone: "اتوار کی شام", "روز یکشنبه".
	// "ہفتہ" is also "week", and so not read alone.
	for i, t := range ts {
		wd, ok := arabicWeekdays[t.w]
		if !ok || used[i] || t.w == "ہفتہ" || i+1 < len(ts) && used[i+1] || phraseAt(plannedArabic, ts, i-1) > 0 ||
			slices.ContainsFunc(out, func(c truce.Claim) bool {
				return (c.Kind == truce.ClaimDate || c.Kind == truce.ClaimDay) && c.Weekday != nil && *c.Weekday == wd
			}) {
			continue
		}
		out = append(out, dayOf(s, wd, published))
	}
	// Durations of talks and ceasefires: "چار روزہ مذاکرات", "۴۸ گھنٹے کی
	// جنگ بندی", "آٹھ گھنٹے سے زائد", "آتش‌بس ۴۸ ساعته".
	if !anyAt(talksArabic, ts, 0, len(ts)) {
		return out
	}
	for i := 0; i+1 < len(ts); i++ {
		if used[i] || !ts[i].num || ts[i].n == 0 || ts[i].n > 1000 {
			continue
		}
		c := truce.Claim{Kind: truce.ClaimDuration, Sentence: s}
		switch {
		case phraseAt(hourUnits, ts, i+1) > 0:
			c.Hours = ts[i].n
		case phraseAt(dayUnits, ts, i+1) > 0:
			c.Days = ts[i].n
		case phraseAt(weekUnits, ts, i+1) > 0 || phraseAt(weekAsUnit, ts, i+1) > 0 && !(i+2 < len(ts) && ts[i+2].num):
			c.Days = 7 * ts[i].n
		default:
			continue
		}
		if slices.ContainsFunc([]int{i + 2, i + 3}, func(k int) bool {
			return phraseAt(notDuration, ts, k) > 0 && !ceasefireWord.at(ts, k)
		}) {
			continue
		}
		out = append(out, c)
		mark(i, i+2)
	}
	return out
}

var (
	// reportingMarks follow (or, "به گفته", precede) who says so:
	// "X کے مطابق", "X نے کہا", "X گفت", "X وویل".
	reportingMarks = regexp.MustCompile(normal(`^(.{2,80}?)\s+(?:کے مطابق|نے (?:کہا|دعویٰ|دعوی|تسلیم|بتایا|اعلان)|کا کہنا ہے|گفت|اعلام کرد|می‌گویند|می گویند|وویل|زیاته کړه|ویلي)(?:\s|$|[،.۔])`))
	byWords        = regexp.MustCompile(normal(`^به گفته(?:ی)?\s+([^،,]+?)(?:[،,]|\s+(?:نیروهای|در|که)\s)`))
)

// arabicAttribution is who an Urdu, Dari or Pashto sentence says gives
// its figures: the words before its reporting mark, classified; a pronoun
// ("او", "هغه") is the sentence before's claimant. A sentence without a
// reporting mark that opens with someone it can place ("ذبیح‌الله مجاهد
// … صحبت کرد") names who the next sentence's pronoun is (named).
func arabicAttribution(s string, context attribution) (by, named attribution) {
	n := normal(s)
	who := ""
	if m := byWords.FindStringSubmatch(n); m != nil {
		who = strings.TrimRight(m[1], "،,")
	} else if m := reportingMarks.FindStringSubmatch(n); m != nil {
		who = m[1]
	}
	who = strings.TrimSpace(who)
	if who == "" {
		f := strings.Fields(n)
		opening := strings.Join(f[:min(3, len(f))], " ")
		if side := arabicClaimantSide(opening); side == "PK" || side == "AF" {
			return attribution{}, attribution{text: opening, side: side}
		}
		return attribution{}, attribution{}
	}
	if w := strings.Fields(who)[0]; slices.Contains([]string{"او", "هغه", "انہوں", "اس", "وی", "ایشان"}, w) {
		return context, context
	}
	by = attribution{text: who, side: arabicClaimantSide(who)}
	return by, by
}

// arabicClaimantSide places a claimant named in Urdu, Dari or Pashto.
func arabicClaimantSide(who string) string {
	has := func(xs ...string) bool {
		for _, x := range xs {
			if strings.Contains(who, normal(x)) {
				return true
			}
		}
		return false
	}
	switch {
	case has("ہسپتال", "شفاخانه", "روغتون", "یوناما", "ملل", "ملتونو", "اقوام متحدہ", "عمائدین", "منابع محلی", "عینی", "باشندگان",
		"رہائشی", "ڈاکٹر", "داکتر", "ریسکیو", "رشتہ دار", "خپلوان"):
		return "other"
	case has("آئی ایس پی آر", "پاک فوج", "فوج", "پولیس", "وزیر داخلہ", "وزیر اطلاعات", "سیکیورٹی", "پاکستان", "اسلام آباد", "ضلعی انتظامیہ"):
		return "PK"
	case has("طالبان", "امارت", "ذبیح", "مجاهد", "افغان", "وزارت دفاع ملی", "سخنگوی", "ویاند", "چارواک", "کابل"):
		return "AF"
	case has("وزارت", "وزیر", "ترجمان", "حکام", "مقام", "چارواکي", "مسؤل", "مسئول", "والی", "ولسوال"):
		// An office no word places: the state whose language the
		// sentence is in (Urdu: Pakistan; Dari and Pashto: Afghanistan).
		if urdu(who) {
			return "PK"
		}
		return "AF"
	}
	return ""
}

// urdu reports whether text has letters only Urdu writes among the three
// languages (ے ں ٹ ڈ ڑ ھ).
func urdu(s string) bool { return strings.ContainsAny(s, "ےںٹڈڑھ") }

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
