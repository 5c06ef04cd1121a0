package claims

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/truce-mvm/truce"
)

// Dates, date ranges and durations in English, read over tokens: a date
// is a day and a month in either order ("18 October", "Oct. 19", "the
// 18th of October", "12-10-2025"), with the year if given (else the one
// nearest publication) and the weekday written with it, before it or in
// brackets after it ("Saturday (Oct 25)"); a range joins two days of a
// month or two dates ("October 25-30", "between October 25 and 30",
// "from October 29 to November 2"); a duration is the length of talks or
// of a ceasefire, in hours, days or weeks ("13 hours of negotiations",
// "a 48-hour ceasefire", "the meeting lasted more than eight hours").

// monthAt reads a month name or abbreviation at token i (and the dot
// after an abbreviation), returning the month and the tokens read.
func monthAt(ts []token, i int) (time.Month, int) {
	if i >= len(ts) {
		return 0, 0
	}
	if m := months[ts[i].low]; m != 0 {
		return m, 1
	}
	if m := monthAbbr[ts[i].low]; m != 0 {
		if i+1 < len(ts) && ts[i+1].text == "." {
			return time.Month(m), 2
		}
		return time.Month(m), 1
	}
	return 0, 0
}

// dayAt reads a day of the month ("25", "25th").
func dayAt(ts []token, i int) (int, bool) {
	if i >= len(ts) {
		return 0, false
	}
	w := ts[i].low
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		w = strings.TrimSuffix(w, suf)
	}
	d, err := strconv.Atoi(w)
	return d, err == nil && d >= 1 && d <= 31 && len(w) <= 2
}

// yearAt reads ", 2025" or "2025" after a date.
func yearAt(ts []token, i int) (int, int) {
	k := i
	if k < len(ts) && ts[k].text == "," {
		k++
	}
	if k < len(ts) && isYear(ts[k].low) {
		y, _ := strconv.Atoi(ts[k].low)
		return y, k + 1 - i
	}
	return 0, 0
}

func weekdayAt(ts []token, i int) *time.Weekday {
	if i < 0 || i >= len(ts) {
		return nil
	}
	return weekday(ts[i].low)
}

// calDate is a date read from tokens [start, end).
type calDate struct {
	start, end int
	day        int
	month      time.Month
	year       int
	weekday    *time.Weekday
}

// dateAt reads a date starting at token i, the weekday before it
// included.
func dateAt(ts []token, i int) (calDate, bool) {
	d := calDate{start: i}
	if wd := weekdayAt(ts, i); wd != nil {
		d.weekday = wd
		i++
		if i < len(ts) && ts[i].text == "," {
			i++
		}
	}
	if i < len(ts) && ts[i].low == "the" {
		i++
	}
	if m, n := monthAt(ts, i); n > 0 { // October 25(th)(, 2025)
		if day, ok := dayAt(ts, i+n); ok {
			d.month, d.day = m, day
			y, yn := yearAt(ts, i+n+1)
			d.year, d.end = y, i+n+1+yn
			return d, true
		}
		return d, false
	}
	if day, ok := dayAt(ts, i); ok { // 25(th) (of) October(, 2025)
		k := i + 1
		if k < len(ts) && ts[k].low == "of" {
			k++
		}
		if m, n := monthAt(ts, k); n > 0 {
			d.month, d.day = m, day
			y, yn := yearAt(ts, k+n)
			d.year, d.end = y, k+n+yn
			return d, true
		}
	}
	if i < len(ts) { // 12-10-2025: day, month, year
		if p := strings.Split(ts[i].low, "-"); len(p) == 3 && len(p[2]) == 4 {
			day, e1 := strconv.Atoi(p[0])
			mo, e2 := strconv.Atoi(p[1])
			y, e3 := strconv.Atoi(p[2])
			if e1 == nil && e2 == nil && e3 == nil && mo >= 1 && mo <= 12 && day >= 1 && day <= 31 {
				d.day, d.month, d.year, d.end = day, time.Month(mo), y, i+1
				return d, true
			}
		}
	}
	return d, false
}

// resolve makes the date, the year if missing from publication.
func (d calDate) resolve(published time.Time) (time.Time, bool) {
	year := ""
	if d.year != 0 {
		year = strconv.Itoa(d.year)
	}
	return date(strconv.Itoa(d.day), d.month.String(), year, published)
}

var rangeJoins = set("to", "and", "-", "–", "—", "through", "till", "until", "thru")

// englishCalendar reads the dates, ranges and durations of a sentence.
func englishCalendar(s string, ts []token, published time.Time) []truce.Claim {
	var out []truce.Claim
	used := make([]bool, len(ts)+1)
	mark := func(from, to int) {
		for k := from; k < to && k < len(used); k++ {
			used[k] = true
		}
	}
	addRange := func(from, to time.Time, a, b int) bool {
		if to.Before(from) && to.Month() < from.Month() { // 28 December to 3 January
			from = from.AddDate(-1, 0, 0)
		}
		if !to.After(from) || to.Sub(from) > 92*24*time.Hour {
			return false
		}
		out = append(out, truce.Claim{Kind: truce.ClaimRange, Sentence: s, From: from, To: to})
		mark(a, b)
		return true
	}
	// Ranges first: their ends are not dates of their own.
	for i := 0; i < len(ts); i++ {
		if used[i] {
			continue
		}
		lead := i
		if w := ts[i].low; w == "from" || w == "between" {
			lead = i + 1
		}
		// Two whole dates: "from October 29 to November 2", "between
		// Saturday 25 October and Thursday 30 October", "from the evening
		// of October 11 to the early hours of October 12".
		if a, ok := dateAt(ts, timeOfDay(ts, lead)); ok && a.end < len(ts) && rangeJoins[ts[a.end].low] {
			if b, ok := dateAt(ts, timeOfDay(ts, a.end+1)); ok && (lead > i || ts[a.end].low != "and") {
				if a.year == 0 {
					a.year = b.year
				}
				from, ok1 := a.resolve(published)
				to, ok2 := b.resolve(published)
				if ok1 && ok2 && addRange(from, to, i, b.end) {
					i = b.end - 1
					continue
				}
			}
		}
		// Two days of one month: "25 to 30 October", "25th–30th October",
		// "October 25-30", "Nov. 6-7", "between October 25 and 30".
		if m, n := monthAt(ts, lead); n > 0 {
			if d1, d2, k, ok := dayPair(ts, lead+n, lead > i); ok {
				y, yn := yearAt(ts, k)
				if from, to, ok := pair(d1, d2, m, y, published); ok && addRange(from, to, i, k+yn) {
					i = k + yn - 1
					continue
				}
			}
		}
		if d1, d2, k, ok := dayPair(ts, lead, lead > i); ok {
			if k < len(ts) && ts[k].low == "of" {
				k++
			}
			if m, n := monthAt(ts, k); n > 0 {
				y, yn := yearAt(ts, k+n)
				if from, to, ok := pair(d1, d2, m, y, published); ok && addRange(from, to, i, k+n+yn) {
					i = k + n + yn - 1
					continue
				}
			}
		}
	}
	// Dates, with the weekday written before them or in brackets after.
	for i := 0; i < len(ts); i++ {
		if used[i] {
			continue
		}
		d, ok := dateAt(ts, i)
		if !ok || used[d.end-1] {
			continue
		}
		if d.weekday == nil && i >= 2 && (ts[i-1].text == "(" || ts[i-1].text == ",") {
			if d.weekday = weekdayAt(ts, i-2); d.weekday != nil {
				mark(i-2, i)
			}
		}
		if dateline(ts, i, d) {
			i = d.end - 1
			continue
		}
		if t, ok := d.resolve(published); ok {
			out = append(out, truce.Claim{Kind: truce.ClaimDate, Sentence: s, Date: t, Weekday: d.weekday})
		}
		mark(i, d.end)
		i = d.end - 1
	}
	// Days named by their weekday alone: "on Wednesday", "late Thursday";
	// each once a sentence.
	var named [7]bool
	for i := range ts {
		wd := weekdayAt(ts, i)
		if used[i] || wd == nil || named[*wd] || i > 0 && planned[ts[i-1].low] || i > 1 && ts[i-1].low == "on" && reporting[ts[i-2].low] {
			continue // a plan, or when it was said ("the spokesman said on Saturday")
		}
		named[*wd] = true
		out = append(out, dayOf(s, *wd, published))
	}
	return append(out, englishDurations(s, ts)...)
}

// planned words before a weekday make it a plan or a deadline, not a day
// the report tells of.
var planned = set("next", "coming", "until", "till", "by", "before", "every", "following", "this")

// dayOf is the latest day of a weekday on or before the publication's.
func dayOf(s string, wd time.Weekday, published time.Time) truce.Claim {
	y, m, d := published.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	t = t.AddDate(0, 0, -((int(t.Weekday()) - int(wd) + 7) % 7))
	return truce.Claim{Kind: truce.ClaimDay, Sentence: s, Date: t, Weekday: &wd}
}

// timeOfDay skips a part of a day named before a date ("the evening of",
// "the early hours of"), returning where the date would begin.
func timeOfDay(ts []token, i int) int {
	k := i
	if k < len(ts) && ts[k].low == "the" {
		k++
	}
	if k < len(ts) && (ts[k].low == "early" || ts[k].low == "late" || ts[k].low == "small") {
		k++
	}
	if k+1 < len(ts) && dayParts[ts[k].low] && ts[k+1].low == "of" {
		return k + 2
	}
	return i
}

var dayParts = set("morning", "afternoon", "evening", "night", "hours", "dawn", "dusk")

// dateline reports whether a date is an article's dateline ("KABUL, Oct
// 12 (Wire) –"), which dates the report, not an event.
func dateline(ts []token, i int, d calDate) bool {
	if i < 2 || ts[i-1].text != "," || d.end >= len(ts) {
		return false
	}
	for _, t := range ts[:i-1] { // the place, in capitals, opens the sentence
		if strings.ToUpper(t.text) != t.text || !unicode.IsLetter([]rune(t.text)[0]) {
			return false
		}
	}
	switch ts[d.end].text {
	case "(", "–", "—", "-", ":":
		return true
	}
	return false
}

// dayPair reads two days joined as a range: "25 to 30", "25-30",
// "25th–30th", "11 and 15" (only after "between").
func dayPair(ts []token, i int, introduced bool) (int, int, int, bool) {
	if i >= len(ts) {
		return 0, 0, 0, false
	}
	if a, b, ok := strings.Cut(ts[i].low, "-"); ok && !strings.Contains(b, "-") {
		d1, ok1 := dayAt([]token{{low: a}}, 0)
		d2, ok2 := dayAt([]token{{low: b}}, 0)
		if ok1 && ok2 {
			return d1, d2, i + 1, true
		}
	}
	d1, ok := dayAt(ts, i)
	if !ok || i+2 >= len(ts) || !rangeJoins[ts[i+1].low] || ts[i+1].low == "and" && !introduced {
		return 0, 0, 0, false
	}
	d2, ok := dayAt(ts, i+2)
	return d1, d2, i + 3, ok
}

func pair(d1, d2 int, m time.Month, y int, published time.Time) (time.Time, time.Time, bool) {
	year := ""
	if y != 0 {
		year = strconv.Itoa(y)
	}
	to, ok2 := date(strconv.Itoa(d2), m.String(), year, published)
	from, ok1 := date(strconv.Itoa(d1), m.String(), strconv.Itoa(to.Year()), published)
	return from, to, ok1 && ok2 && d2 > d1
}

// durationUnits are the units a duration is given in.
var durationUnits = map[string]string{"hour": "hour", "hours": "hour", "day": "day", "days": "day", "week": "week", "weeks": "week"}

// meetings and ceasefires are what a duration is annotated for: talks
// and their rounds and sessions, ceasefires and pauses — not fighting,
// deadlines or intervals.
var meetings = set("talks", "negotiations", "round", "rounds", "meeting", "meetings", "session", "sessions", "summit",
	"consultations", "dialogue", "conference", "ceasefire", "truce", "pause", "halt", "lull", "discussions", "visit")

var lasting = set("lasted", "lasting", "last", "ran", "running", "went", "stretched", "took", "spanned", "continued", "extended",
	"held", "over")

// englishDurations reads the lengths of talks and ceasefires.
func englishDurations(s string, ts []token) []truce.Claim {
	var out []truce.Claim
	add := func(n int, unit string) {
		c := truce.Claim{Kind: truce.ClaimDuration, Sentence: s}
		switch unit {
		case "hour":
			c.Hours = n
		case "week":
			c.Days = 7 * n
		default:
			c.Days = n
		}
		if n > 0 && n <= 1000 {
			out = append(out, c)
		}
	}
	for i := 0; i < len(ts); i++ {
		w := ts[i].low
		// "48-hour", "four-day", "day-long", "week-long", "two-week"
		if a, b, ok := strings.Cut(w, "-"); ok {
			n, unit := 0, ""
			switch {
			case durationUnits[b] != "":
				n, _ = cardinal(a)
				unit = durationUnits[b]
			case b == "long" && durationUnits[a] != "":
				n, unit = 1, durationUnits[a]
			}
			if unit != "" && n > 0 && aboutMeeting(ts, i+1) {
				add(n, unit)
			}
			continue
		}
		// "13 hours of negotiations", "six days of intense negotiations",
		// "lasted more than eight hours", "ran for a week".
		f, ok := figureAt(ts, i)
		if !ok || f.end >= len(ts) {
			continue
		}
		unit := durationUnits[ts[f.end].low]
		if unit == "" {
			continue
		}
		n := f.count
		if f.single {
			n = 1
		}
		after := f.end + 1
		if after < len(ts) && ts[after].low == "each" {
			after++
		}
		if after < len(ts) && ts[after].low == "of" && aboutMeeting(ts, after+1) || lastedBefore(ts, f.start) {
			add(n, unit)
			i = f.end
		}
	}
	return out
}

// aboutMeeting reports whether the words at i name talks or a ceasefire
// ("talks", "of intense negotiations", "round of talks").
func aboutMeeting(ts []token, i int) bool {
	for k := i; k < len(ts) && k < i+3; k++ {
		if meetings[ts[k].low] {
			return true
		}
		if ts[k].low == "of" || ts[k].low == "fighting" || ts[k].low == "clashes" || ts[k].low == "shelling" {
			if ts[k].low != "of" {
				return false
			}
		}
	}
	return false
}

// lastedBefore reports whether a figure is what a meeting lasted: "the
// meeting lasted more than eight hours", "sessions lasting about four
// hours", "the final session stretched to 18 hours".
func lastedBefore(ts []token, i int) bool {
	for k := i - 1; k >= 0 && k >= i-3; k-- {
		if lasting[ts[k].low] {
			for m := k - 1; m >= 0 && m >= k-6; m-- {
				if meetings[ts[m].low] || ts[m].low == "it" || ts[m].low == "they" || ts[m].low == "delegations" {
					return true
				}
			}
			return false
		}
	}
	return false
}
