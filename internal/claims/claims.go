// Package claims reads what an article asserts that can be checked
// against other articles: dates (and the weekday given with them), date
// ranges, durations, and casualty figures with who claims them. Each claim
// keeps the sentence it came from, so a disagreement can be shown in the
// sources' own words.
//
// English is read by small grammars over tokens (casualties.go,
// calendar.go); Urdu, Dari and Pashto by arabicscript.go. They refuse
// rather than guess: a claim they cannot pin down is not made.
package claims

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
)

var sentenceEnd = regexp.MustCompile(`[.!?]\s+|[۔؟]\s*`)

// sentences splits text into sentences, keeping their end marks.
func sentences(text string) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		para = strings.TrimSpace(para)
		start := 0
		for _, m := range sentenceEnd.FindAllStringIndex(para, -1) {
			s := strings.TrimSpace(para[start:m[1]])
			// "Gen. X", "No. 5" and "Oct. 19" do not end sentences.
			if w := strings.TrimLeft(lastWord(para[start:m[0]+1]), "(["); strings.HasSuffix(w, ".") && w != "." &&
				(len(w) <= 3 || abbreviations[strings.ToLower(strings.TrimSuffix(w, "."))]) {
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

// related reports whether a sentence is a link to another story ("ALSO
// READ: …", "Read more: …", "Related: …").
func related(s string) bool {
	l := strings.ToLower(s)
	for _, p := range []string{"also read", "read more", "related:", "read also", "see also"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// abbreviations end with a dot but not a sentence.
var abbreviations = set("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "gen", "col",
	"capt", "maj", "brig", "govt", "dept", "approx", "est", "mrs", "prof", "sen", "rep", "lt", "st", "dr", "mr", "ms")

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
	// The side the places of the sentence before lie on, else those of
	// the lead (the first paragraph): where a sentence that names no place
	// is.
	lead, _, _ := strings.Cut(strings.TrimSpace(text), "\n\n")
	leadPlace := placeSide(lead)
	place := leadPlace
	for _, s := range sentences(text) {
		claims, said, ok := inSentence(s, published, context, place)
		out = append(out, claims...)
		if ok {
			context = said
		}
		if place = placeSide(s); place == "" {
			place = leadPlace
		}
	}
	return out
}

// inSentence reads the claims of a sentence, and who it says gives them
// (ok: it names someone), for the sentence after it.
func inSentence(s string, published time.Time, context attribution, prevPlace string) (out []truce.Claim, said attribution, ok bool) {
	if arabicScript(s) {
		by, named := arabicAttribution(s, context)
		return inArabicScript(s, published, by), named, named.side != ""
	}
	ts := tokenize(s)
	atts := attributions(ts, context)
	if len(atts) > 0 {
		said, ok = atts[len(atts)-1], true
	} else if who := subject(ts); claimantSide(who) != "" {
		// "Pakistan's military issued a statement." — then "It said …"
		said, ok = attribution{text: who, side: claimantSide(who)}, true
	}
	if related(s) {
		return nil, said, ok // a link to another story, not this one's claim
	}
	return append(englishCalendar(s, ts, published), englishCasualties(s, ts, atts, prevPlace)...), said, ok
}

// subject is the noun phrase a sentence opens with: its capitalised
// words, possessives and the nouns of offices ("Pakistan's military",
// "The Afghan defence ministry").
func subject(ts []token) string {
	k := 0
	for k < len(ts) && k < 8 {
		t := ts[k]
		if t.text == "'s" || t.text != t.low || offices[t.low] || k == 0 && t.low == "the" {
			k++
			continue
		}
		break
	}
	return words(ts, 0, k)
}

// offices are nouns that, lower-cased, still name who speaks.
var offices = set("military", "army", "ministry", "spokesman", "spokesperson", "government", "foreign", "office", "defence",
	"defense", "interior", "information", "media", "wing", "police", "officials", "administration", "minister")

func isYear(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && len(s) == 4 && n >= 1900 && n <= 2100
}

// EventDays are the days a report tells of: those its lead (the first
// paragraph) gives — dates, the ends of ranges, days named by their
// weekday — else all it gives, and never one after the day it was
// published, which is a plan ("the next round is set for 6 November").
// Background further down ("four days after the fighting of October
// 11–12") does not date the report.
func EventDays(cs []truce.Claim, text string, published time.Time) []time.Time {
	y, m, d := published.Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	lead, _, _ := strings.Cut(strings.TrimSpace(text), "\n\n")
	var all, inLead []time.Time
	for _, c := range cs {
		var days []time.Time
		switch c.Kind {
		case truce.ClaimDate, truce.ClaimDay:
			days = []time.Time{c.Date}
		case truce.ClaimRange:
			days = []time.Time{c.From, c.To}
		}
		for _, t := range days {
			if t.After(last) {
				continue
			}
			all = append(all, t)
			if strings.Contains(lead, c.Sentence) {
				inLead = append(inLead, t)
			}
		}
	}
	if len(inLead) > 0 {
		return inLead
	}
	return all
}

// Days are the days claims say things happened on: dates, and the ends of
// ranges.
func Days(cs []truce.Claim) []time.Time {
	var out []time.Time
	for _, c := range cs {
		switch c.Kind {
		case truce.ClaimDate:
			out = append(out, c.Date)
		case truce.ClaimRange:
			out = append(out, c.From, c.To)
		}
	}
	return out
}
