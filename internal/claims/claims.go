// Package claims reads what an article asserts that can be checked
// against other articles: dates (and the weekday given with them), date
// ranges, durations, and casualty figures with who claims them. Each claim
// keeps the sentence it came from, so a disagreement can be shown in the
// sources' own words.
//
// The parsers are deliberately narrow — English news phrasing, numbers in
// digits or words up to twenty — and refuse rather than guess: a claim
// they cannot pin down is not made.
package claims

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
)

var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
	"eighteen": 18, "nineteen": 19, "twenty": 20, "a": 1, "an": 1,
}

func number(s string) (int, bool) {
	s = strings.ToLower(s)
	if n, ok := numberWords[s]; ok {
		return n, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n < 100000
}

const (
	weekdayRE = `(?:(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),?\s+)?`
	monthRE   = `(January|February|March|April|May|June|July|August|September|October|November|December)`
	numRE     = `(\d{1,5}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty)`
)

var (
	// "from 25 to 30 October", "between 25 and 30 October (2026)", "25-30 October"
	rangeRE = regexp.MustCompile(`(?i)\b(?:from\s+|between\s+)?(\d{1,2})\s*(?:to|and|-|–)\s*(\d{1,2})\s+` + monthRE + `(?:,?\s+(\d{4}))?\b`)
	// "from 28 November to 3 December (2026)"
	rangeMonthsRE = regexp.MustCompile(`(?i)\b(?:from\s+|between\s+)?(\d{1,2})\s+` + monthRE + `\s*(?:to|and|-|–)\s*(\d{1,2})\s+` + monthRE + `(?:,?\s+(\d{4}))?\b`)
	// "Saturday, 17 October (2026)" and "Saturday, October 17(, 2026)"
	dayMonthRE = regexp.MustCompile(`(?i)\b` + weekdayRE + `(\d{1,2})\s+` + monthRE + `(?:,?\s+(\d{4}))?\b`)
	monthDayRE = regexp.MustCompile(`(?i)\b` + weekdayRE + monthRE + `\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b`)
	// "four-day", "four days", "week-long", "a week"
	meetingAfter  = regexp.MustCompile(`(?i)^(?:[-\s]long)?\s+(?:of\s+)?(?:[\pL'-]+\s+){0,2}?(?:talks|negotiations|round|meetings?|summit|sessions?|conference|visit|consultations|dialogue)\b`)
	meetingBefore = regexp.MustCompile(`(?i)\b(?:lasted|lasting|ran for|running for|went on for|took|spanned)\s+(?:a\s+|the\s+)?$`)
	durationRE    = regexp.MustCompile(`(?i)\b` + numRE + `[-\s]days?\b|\b(a|one|two)[-\s]weeks?(?:[-\s]long)?\b|\bweek-long\b`)
	// "23 soldiers were killed", "killed 58 fighters", "12 wounded"; each
	// side says its own dead were "martyred"
	casualtyRE  = regexp.MustCompile(`(?i)\b` + numRE + `\s+(?:([A-Za-z]+)\s+)?(?:([A-Za-z]+)\s+)?(?:were\s+|had\s+been\s+|have\s+been\s+|was\s+)?(killed|dead|died|martyred|wounded|injured|captured|taken prisoner)\b`)
	killedNumRE = regexp.MustCompile(`(?i)\b(killed|wounded|injured|captured)\s+` + numRE + `\s+([A-Za-z]+)`)
)

var statusOf = map[string]string{
	"killed": "killed", "dead": "killed", "died": "killed", "martyred": "killed", "wounded": "wounded", "injured": "wounded",
	"captured": "captured", "taken prisoner": "captured",
}

// sideWord is how text names a party.
type sideWord struct {
	side string
	re   *regexp.Regexp
}

// sides name the parties as English news text does.
var sides = []sideWord{
	{"PK", regexp.MustCompile(`(?i)\b(pakistan(i|'s)?|islamabad|ispr)\b`)},
	{"AF", regexp.MustCompile(`(?i)\b(afghan(istan|istan's)?|kabul|taliban)\b`)},
}

// claimantRE finds who a sentence attributes itself to: "..., the defence
// ministry said", "according to a military spokesman", "X told Y".
var claimantRE = regexp.MustCompile(`(?i)(?:according to\s+((?:the\s+|a\s+)?[A-Za-z'’ ]{3,60}?)(?:[,.]|$)|,?\s*((?:the\s+|a\s+)?[A-Z][A-Za-z'’ ]{2,60}?)\s+(?:said|says|claimed|claims|told|stated|reported)\b)`)

var sentenceEnd = regexp.MustCompile(`[.!?]\s+|[۔؟]\s*`)

// sentences splits text into sentences, keeping their end marks.
func sentences(text string) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		para = strings.TrimSpace(para)
		start := 0
		for _, m := range sentenceEnd.FindAllStringIndex(para, -1) {
			s := strings.TrimSpace(para[start:m[1]])
			// "Gen. X" and "No. 5" do not end sentences.
			if w := lastWord(para[start : m[0]+1]); len(w) <= 3 && strings.HasSuffix(w, ".") && w != "." {
				continue
			}
			if s != "" {
				out = append(out, s)
			}
			start = m[1]
		}
		if s := strings.TrimSpace(para[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

var months = map[string]time.Month{}

func init() {
	for m := time.January; m <= time.December; m++ {
		months[strings.ToLower(m.String())] = m
	}
}

// date makes a date from its parts; a missing year is the one that puts
// the date nearest the article's publication (news reports recent days).
func date(day, month, year string, published time.Time) (time.Time, bool) {
	d, err := strconv.Atoi(day)
	m := months[strings.ToLower(month)]
	if err != nil || d < 1 || d > 31 || m == 0 {
		return time.Time{}, false
	}
	var y int
	if year != "" {
		y, _ = strconv.Atoi(year)
	} else {
		y = published.Year()
		if c := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); c.Sub(published) > 180*24*time.Hour {
			y--
		} else if published.Sub(c) > 180*24*time.Hour {
			y++
		}
	}
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 31 November
		return time.Time{}, false
	}
	return t, true
}

func weekday(s string) *time.Weekday {
	for w := time.Sunday; w <= time.Saturday; w++ {
		if strings.EqualFold(s, w.String()) {
			return &w
		}
	}
	return nil
}

// Extract reads the claims of an article's text, published at the given
// time (for dates without a year).
func Extract(text string, published time.Time) []truce.Claim {
	var out []truce.Claim
	var context attribution // who the sentence before named as saying it
	for _, s := range sentences(text) {
		out = append(out, inSentence(s, published, context)...)
		if !arabicScript(s) {
			if atts := attributions(tokenize(s), context); len(atts) > 0 {
				context = atts[len(atts)-1]
			}
		}
	}
	return out
}

func inSentence(s string, published time.Time, context attribution) []truce.Claim {
	if arabicScript(s) {
		return inArabicScript(s, published)
	}
	var out []truce.Claim
	covered := make([]bool, len(s)+1) // spans already read as part of a range
	addRange := func(from, to time.Time, m []int) {
		if to.Before(from) && to.Month() < from.Month() { // "28 December to 3 January"
			from = from.AddDate(-1, 0, 0)
		}
		if to.Before(from) || covered[m[0]] {
			return
		}
		out = append(out, truce.Claim{Kind: truce.ClaimRange, Sentence: s, From: from, To: to})
		for i := m[0]; i < m[1]; i++ {
			covered[i] = true
		}
	}
	for _, m := range rangeMonthsRE.FindAllStringSubmatchIndex(s, -1) {
		to, ok2 := date(s[m[6]:m[7]], s[m[8]:m[9]], group(s, m, 5), published)
		from, ok1 := date(s[m[2]:m[3]], s[m[4]:m[5]], strconv.Itoa(to.Year()), published)
		if ok1 && ok2 {
			addRange(from, to, m)
		}
	}
	for _, m := range rangeRE.FindAllStringSubmatchIndex(s, -1) {
		from, ok1 := date(s[m[2]:m[3]], s[m[6]:m[7]], group(s, m, 4), published)
		to, ok2 := date(s[m[4]:m[5]], s[m[6]:m[7]], group(s, m, 4), published)
		if ok1 && ok2 {
			addRange(from, to, m)
		}
	}
	addDate := func(day, month, year, wd string, at int) {
		if covered[at] {
			return
		}
		if t, ok := date(day, month, year, published); ok {
			out = append(out, truce.Claim{Kind: truce.ClaimDate, Sentence: s, Date: t, Weekday: weekday(wd)})
		}
	}
	for _, m := range dayMonthRE.FindAllStringSubmatchIndex(s, -1) {
		addDate(s[m[4]:m[5]], s[m[6]:m[7]], group(s, m, 4), group(s, m, 1), m[4])
	}
	for _, m := range monthDayRE.FindAllStringSubmatchIndex(s, -1) {
		addDate(s[m[6]:m[7]], s[m[4]:m[5]], group(s, m, 4), group(s, m, 1), m[6])
	}
	for _, at := range durationRE.FindAllStringSubmatchIndex(s, -1) {
		// Only the length of a meeting: "four-day talks", "five days of
		// negotiations", "the round lasted a week" — not "a week of
		// fighting".
		if !meetingAfter.MatchString(s[at[1]:]) && !meetingBefore.MatchString(s[:at[0]]) {
			continue
		}
		m := make([]string, len(at)/2)
		for i := range m {
			if at[2*i] >= 0 {
				m[i] = s[at[2*i]:at[2*i+1]]
			}
		}
		days := 0
		switch {
		case m[1] != "":
			days, _ = number(m[1])
		case m[2] != "":
			w, _ := number(m[2])
			days = 7 * w
		default:
			days = 7
		}
		if days > 0 && days <= 366 {
			out = append(out, truce.Claim{Kind: truce.ClaimDuration, Sentence: s, Days: days})
		}
	}
	return append(out, englishCasualties(s, tokenize(s), context)...)
}

func group(s string, m []int, i int) string {
	if m[2*i] < 0 {
		return ""
	}
	return s[m[2*i]:m[2*i+1]]
}

func isYear(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && len(s) == 4 && n >= 1900 && n <= 2100
}

// sideOf reads whose casualties these are, by the words of a language:
// from the words next to the figure ("Pakistani soldiers"), else from the
// only party the sentence names.
func sideOf(words []sideWord, near, sentence string) string {
	for _, w := range words {
		if w.re.MatchString(near) {
			return w.side
		}
	}
	found := ""
	for _, w := range words {
		if w.re.MatchString(sentence) {
			if found != "" {
				return ""
			}
			found = w.side
		}
	}
	return found
}

func claimantOf(s string) string {
	m := claimantRE.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	who := strings.TrimSpace(m[1] + m[2])
	for _, article := range []string{"the ", "The ", "a ", "A "} {
		who = strings.TrimPrefix(who, article)
	}
	return who
}
