package claims

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
)

// Source is one article's claims, as a story holds them.
type Source struct {
	Article   string // the article's id
	Outlet    string
	Claims    []truce.Claim
	Days      []time.Time // the days it tells of (EventDays), for Compare
	Published time.Time   // for Compare: a date after it is a plan
}

type placed struct {
	truce.Claim
	src    *Source
	who    string  // Claimant, for Compare
	lo, hi float64 // bounds, for Compare
	ord    int     // its place among the story's claims, for Compare
}

func (p placed) quote(says string) truce.Quote {
	return truce.Quote{Article: p.src.Article, Outlet: p.src.Outlet, Sentence: p.Sentence, Says: says}
}

// Find lays out the discrepancies among a story's sources, each once.
// Differences of convention are not discrepancies: a range of 25 to 30
// October is six days counted inclusively and five elapsed, and either
// duration agrees with it.
func Find(sources []Source) []truce.Discrepancy {
	// Claims that say the same thing are compared once, by their first
	// occurrence: a story of hundreds of reports repeats a few figures.
	type class struct {
		kind, side, status, claimant, outlet string
		n                                    int
		from, to                             time.Time
	}
	var dates, ranges, durations, casualties []placed
	first := map[class]bool{}
	for i := range sources {
		for _, c := range sources[i].Claims {
			p := placed{Claim: c, src: &sources[i]}
			k := class{kind: c.Kind}
			switch c.Kind {
			case truce.ClaimDate:
				if c.Weekday == nil || *c.Weekday == c.Date.Weekday() {
					continue
				}
				k.n, k.from = int(*c.Weekday), c.Date
			case truce.ClaimRange:
				k.from, k.to = c.From, c.To
			case truce.ClaimDuration:
				if c.Days == 0 { // hours: a session's length, not a round's
					continue
				}
				k.n = c.Days
			case truce.ClaimCasualties:
				if c.Side == "" {
					continue
				}
				k.side, k.status, k.claimant, k.outlet, k.n = c.Side, c.Status, strings.ToLower(c.Claimant), sources[i].Outlet, c.Count
			}
			if first[k] {
				continue
			}
			first[k] = true
			switch c.Kind {
			case truce.ClaimDate:
				dates = append(dates, p)
			case truce.ClaimRange:
				ranges = append(ranges, p)
			case truce.ClaimDuration:
				durations = append(durations, p)
			case truce.ClaimCasualties:
				casualties = append(casualties, p)
			}
		}
	}
	var fl flags
	calendarFlags(dates, ranges, durations, fl.once)
	for i, a := range casualties {
		for _, b := range casualties[i+1:] {
			if a.Side != b.Side || a.Status != b.Status || a.Count == b.Count || a.src == b.src {
				continue
			}
			kind := ""
			switch {
			case a.Claimant != "" && b.Claimant != "" && !strings.EqualFold(a.Claimant, b.Claimant):
				kind = truce.ClaimantsDisagree
			case a.src.Outlet != b.src.Outlet:
				kind = truce.OutletsDisagree
			default:
				continue
			}
			fl.once(flagKey{kind: kind, side: a.Side, status: a.Status, lo: min(a.Count, b.Count), hi: max(a.Count, b.Count)}, func() truce.Discrepancy {
				return truce.Discrepancy{Kind: kind, Subject: a.Side + " " + a.Status, A: a.quote(a.String()), B: ptr(b.quote(b.String()))}
			})
		}
	}
	return fl.out
}

func ptr[T any](v T) *T { return &v }

// Compare lays out the discrepancies among a story's sources as rules
// from version 6 on read them, each once. Unlike Find it compares what
// is about the same thing:
//   - a casualty figure with another of the same side, status and kind of
//     people ("people" is any kind), leaving out a figure told as
//     background (its sentence dates it away from the days its source
//     tells of);
//   - figures that fit together are not a discrepancy: "more than 200"
//     and 210, "about 30" and 28, "15 to 20" and 18, "dozens" and 40 (but
//     "at least 23" and 58 do not: Bounds);
//   - claimants are told apart by who they are — a party, an observer
//     (a hospital, the UN, residents, a militant group), or the outlet
//     itself — so one party's ministry and army are one claimant, and a
//     hospital quoted by two outlets is one: two claimants giving other
//     figures disagree (also within one report), one claimant's figure
//     reported otherwise by two outlets is outlets disagreeing;
//   - a range or a duration told as background is not compared either.
func Compare(sources []Source) []truce.Discrepancy {
	// A figure said again by the same claimant in the same outlet is
	// compared once, by its first occurrence: a story of hundreds of
	// reports repeats a few figures.
	type figure struct {
		side, status, group, claimant, outlet, approx string
		n, max                                        int
	}
	said := map[figure]bool{}
	var dates, ranges, durations []placed
	type subject struct{ side, status string }
	casualties := map[subject][]placed{}
	var subjects []subject // in order of first occurrence
	ord := 0
	for i := range sources {
		src := &sources[i]
		for _, c := range src.Claims {
			p := placed{Claim: c, src: src, ord: ord}
			ord++
			switch {
			case c.Kind == truce.ClaimDate && c.Weekday != nil && *c.Weekday != c.Date.Weekday():
				dates = append(dates, p)
			case Background(c, src.Claims, src.Days, src.Published):
			case c.Kind == truce.ClaimRange:
				ranges = append(ranges, p)
			case c.Kind == truce.ClaimDuration && c.Days > 0: // hours: a session's length, not a round's
				durations = append(durations, p)
			case c.Kind == truce.ClaimCasualties && c.Side != "":
				p.who = Claimant(c, src.Outlet)
				p.lo, p.hi = Bounds(c)
				if f := (figure{c.Side, c.Status, c.Group, p.who, src.Outlet, c.Approx, c.Count, c.CountMax}); said[f] {
					continue
				} else {
					said[f] = true
				}
				k := subject{c.Side, c.Status}
				if casualties[k] == nil {
					subjects = append(subjects, k)
				}
				casualties[k] = append(casualties[k], p)
			}
		}
	}
	var fl flags
	calendarFlags(dates, ranges, durations, fl.once)
	for _, k := range subjects {
		compareSubject(casualties[k], &fl)
	}
	return fl.out
}

// compareSubject lays out how the figures of one subject disagree: once
// for each pair of claimants (the first figures of theirs that cannot both
// be true), and once for each claimant and pair of outlets that report it
// with such figures — so a story's discrepancies grow with its claimants
// and outlets, not with every pair of its figures.
func compareSubject(fs []placed, fl *flags) {
	var whos []string
	by := map[string][]*placed{}
	for i := range fs {
		w := fs[i].who
		if by[w] == nil {
			whos = append(whos, w)
		}
		by[w] = append(by[w], &fs[i])
	}
	first := func(as, bs []*placed) (*placed, *placed) {
		for _, a := range as {
			for _, b := range bs {
				if conflict(a, b) {
					return a, b
				}
			}
		}
		return nil, nil
	}
	flag := func(kind string, a, b *placed, k flagKey) {
		if a.ord > b.ord {
			a, b = b, a // the earlier first, as the story reads
		}
		fl.once(k, func() truce.Discrepancy {
			return truce.Discrepancy{Kind: kind, Subject: a.Side + " " + a.Status, A: a.quote(figureSays(a.Claim)), B: ptr(b.quote(figureSays(b.Claim)))}
		})
	}
	for i, wa := range whos {
		for _, wb := range whos[i+1:] {
			if a, b := first(by[wa], by[wb]); a != nil {
				flag(truce.ClaimantsDisagree, a, b, flagKey{kind: truce.ClaimantsDisagree, side: a.Side, status: a.Status, who: wa, other: wb})
			}
		}
	}
	for _, w := range whos {
		var outlets []string
		in := map[string][]*placed{}
		for _, f := range by[w] {
			if in[f.src.Outlet] == nil {
				outlets = append(outlets, f.src.Outlet)
			}
			in[f.src.Outlet] = append(in[f.src.Outlet], f)
		}
		for i, oa := range outlets {
			for _, ob := range outlets[i+1:] {
				if a, b := first(in[oa], in[ob]); a != nil {
					flag(truce.OutletsDisagree, a, b, flagKey{kind: truce.OutletsDisagree, side: a.Side, status: a.Status, who: w, other: oa + "\x00" + ob})
				}
			}
		}
	}
}

// conflict reports whether two figures of one subject cannot both be
// true: they count the same kind of people and their bounds do not meet.
func conflict(a, b *placed) bool {
	return SameKind(a.Group, b.Group) && (a.hi < b.lo || b.hi < a.lo)
}

// calendarFlags lays out, through once, the weekdays that are not their
// dates' and the durations no count of a range gives (a range of 25 to
// 30 October is six days counted inclusively and five elapsed, and
// either duration agrees with it).
func calendarFlags(dates, ranges, durations []placed, once func(flagKey, func() truce.Discrepancy)) {
	for _, d := range dates {
		once(flagKey{kind: truce.WeekdayMismatch, weekday: *d.Weekday, from: d.Date}, func() truce.Discrepancy {
			return truce.Discrepancy{Kind: truce.WeekdayMismatch, Subject: d.Date.Format("2 January 2006"),
				A: d.quote(fmt.Sprintf("%s, %s (it was a %s)", *d.Weekday, d.Date.Format("2 January 2006"), d.Date.Weekday()))}
		})
	}
	// Each distinct duration against each distinct range, by their first
	// occurrences: the flag would be the same for any other.
	type span struct{ from, to time.Time }
	firstDur, firstRange := map[int]bool{}, map[span]bool{}
	var durs, rs []*placed
	for i := range durations {
		if d := &durations[i]; !firstDur[d.Days] {
			firstDur[d.Days] = true
			durs = append(durs, d)
		}
	}
	for i := range ranges {
		if r := &ranges[i]; !firstRange[span{r.From, r.To}] {
			firstRange[span{r.From, r.To}] = true
			rs = append(rs, r)
		}
	}
	for _, du := range durs {
		for _, r := range rs {
			inclusive := int(r.To.Sub(r.From)/(24*time.Hour)) + 1
			if du.Days == inclusive || du.Days == inclusive-1 {
				continue
			}
			once(flagKey{kind: truce.DurationVsRange, lo: du.Days, from: r.From, to: r.To}, func() truce.Discrepancy {
				return truce.Discrepancy{Kind: truce.DurationVsRange, Subject: "duration",
					A: du.quote(fmt.Sprintf("%d days", du.Days)),
					B: ptr(r.quote(fmt.Sprintf("%s to %s: %d days inclusive, %d elapsed", r.From.Format("2 Jan"), r.To.Format("2 Jan 2006"), inclusive, inclusive-1)))}
			})
		}
	}
}

// Says is a figure as a story shows it: its count with its qualifier.
func Says(c truce.Claim) string {
	n := strconv.Itoa(c.Count)
	switch {
	case c.Approx == "dozens":
		return "dozens"
	case c.CountMax > 0:
		return n + "–" + strconv.Itoa(c.CountMax)
	case c.Approx != "":
		return strings.ReplaceAll(c.Approx, "_", " ") + " " + n
	}
	return n
}

// figureSays is what a figure's quote says in a discrepancy Compare lays
// out: the figure with its qualifier, what happened, whose, who says so.
func figureSays(c truce.Claim) string {
	out := Says(c) + " " + c.Status
	if c.Side != "" {
		out += " (" + c.Side + ")"
	}
	if c.Claimant != "" {
		out += ", says " + c.Claimant
	}
	return out
}

// flags are the discrepancies laid out so far, each once.
type flags struct {
	out  []truce.Discrepancy
	seen map[flagKey]bool
}

// once lays out the discrepancy d makes, unless one with its key is.
func (f *flags) once(k flagKey, d func() truce.Discrepancy) {
	if f.seen[k] {
		return
	}
	if f.seen == nil {
		f.seen = map[flagKey]bool{}
	}
	f.seen[k] = true
	f.out = append(f.out, d())
}

// flagKey is what makes a discrepancy the same as one already laid out.
type flagKey struct {
	kind, side, status string
	who, other         string // claimants, or a claimant and its outlets (Compare)
	lo, hi             int
	from, to           time.Time
	weekday            time.Weekday
}

// Background reports whether a claim of a report is told as background:
// its sentence dates it (a date or range among the report's claims of the
// same sentence, a plan after the publication aside) more than a day away
// from every day the report tells of (days, EventDays), and outside their
// span.
func Background(c truce.Claim, all []truce.Claim, days []time.Time, published time.Time) bool {
	if len(days) == 0 {
		return false
	}
	y, m, d := published.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	first, last := slices.MinFunc(days, time.Time.Compare), slices.MaxFunc(days, time.Time.Compare)
	near := func(t time.Time) bool {
		return !t.Before(first.AddDate(0, 0, -1)) && !t.After(last.AddDate(0, 0, 1))
	}
	dated := false
	for _, o := range all {
		if o.Sentence != c.Sentence {
			continue
		}
		switch o.Kind {
		case truce.ClaimDate, truce.ClaimDay:
			if o.Date.After(today) {
				continue // a plan: "days before talks set for 6 November"
			}
			if near(o.Date) {
				return false
			}
			dated = true
		case truce.ClaimRange:
			if o.From.After(today) {
				continue
			}
			if near(o.From) || near(o.To) || o.From.Before(first) && o.To.After(last) {
				return false
			}
			dated = true
		}
	}
	return dated
}

// SameKind reports whether two groups may count the same people:
// "people" may be any.
func SameKind(a, b string) bool {
	return a == b || a == "people" || b == "people" || a == "" || b == ""
}

// Bounds is the range of counts a figure allows. A floor ("at least
// 23", "more than 200") is read as a count near it — up to half as much
// again —, not as any count above: a party that says at least 23 of its
// soldiers died disagrees with one that says 58.
func Bounds(c truce.Claim) (lo, hi float64) {
	n := float64(c.Count)
	switch c.Approx {
	case "at_least":
		if c.CountMax > 0 {
			return n, float64(c.CountMax)
		}
		return n, 1.5*n + 1
	case "more_than":
		return n + 1, 1.5*n + 1
	case "about":
		return 0.8 * n, 1.2 * n
	case "up_to":
		return 0, n
	case "dozens":
		return 24, math.Inf(1) // vague: only a figure below two dozen contradicts it
	}
	if c.CountMax > 0 {
		return n, float64(c.CountMax)
	}
	return n, n
}

// Claimant is who gives a figure, as claimants are told apart: a party
// ("PK", "AF"), an observer by what kind it is ("other: hospital"), or
// the outlet that gives it on its own account ("outlet: NAME").
func Claimant(c truce.Claim, outlet string) string {
	switch c.By {
	case "PK", "AF":
		return c.By
	case "other":
		return "other: " + observerKind(c.Claimant)
	}
	return "outlet: " + outlet
}

// observerKind names the kind of observer a claimant is, so that one
// hospital is one claimant however outlets name it.
func observerKind(who string) string {
	w := " " + strings.ToLower(who) + " "
	for _, k := range []struct {
		kind  string
		words []string
	}{
		{"hospital", []string{"hospital", "doctor", "medic", "medical", "ہسپتال", "شفاخانه", "روغتون", "ڈاکٹر", "داکتر"}},
		{"un", []string{" un ", "unama", "united nations", "یوناما", "ملل"}},
		{"militants", []string{"ttp", "tehreek", "faction", "militant", "taliban pakistan"}},
		{"locals", []string{"resident", "villager", "witness", "relative", "famil", "elder", "local", "uncle", "father", "mother", "brother", "عمائدین", "باشندگان", "منابع محلی"}},
		{"rescue", []string{"rescue", "1122"}},
	} {
		if containsAny(w, k.words...) {
			return k.kind
		}
	}
	return strings.TrimSpace(w)
}
