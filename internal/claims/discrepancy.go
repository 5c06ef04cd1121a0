package claims

import (
	"fmt"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
)

// Source is one article's claims, as a story holds them.
type Source struct {
	Article string // the article's id
	Outlet  string
	Claims  []truce.Claim
}

type placed struct {
	truce.Claim
	src *Source
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
			p := placed{c, &sources[i]}
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
	type key struct {
		kind, side, status string
		lo, hi             int
		from, to           time.Time
	}
	var out []truce.Discrepancy
	seen := map[key]bool{}
	once := func(k key, d func() truce.Discrepancy) {
		if !seen[k] {
			seen[k] = true
			out = append(out, d())
		}
	}
	for _, d := range dates {
		once(key{kind: truce.WeekdayMismatch, lo: int(*d.Weekday), from: d.Date}, func() truce.Discrepancy {
			return truce.Discrepancy{Kind: truce.WeekdayMismatch, Subject: d.Date.Format("2 January 2006"),
				A: d.quote(fmt.Sprintf("%s, %s (it was a %s)", *d.Weekday, d.Date.Format("2 January 2006"), d.Date.Weekday()))}
		})
	}
	for _, du := range durations {
		for _, r := range ranges {
			inclusive := int(r.To.Sub(r.From)/(24*time.Hour)) + 1
			if du.Days == inclusive || du.Days == inclusive-1 {
				continue
			}
			once(key{kind: truce.DurationVsRange, lo: du.Days, from: r.From, to: r.To}, func() truce.Discrepancy {
				return truce.Discrepancy{Kind: truce.DurationVsRange, Subject: "duration",
					A: du.quote(fmt.Sprintf("%d days", du.Days)),
					B: ptr(r.quote(fmt.Sprintf("%s to %s: %d days inclusive, %d elapsed", r.From.Format("2 Jan"), r.To.Format("2 Jan 2006"), inclusive, inclusive-1)))}
			})
		}
	}
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
			once(key{kind: kind, side: a.Side, status: a.Status, lo: min(a.Count, b.Count), hi: max(a.Count, b.Count)}, func() truce.Discrepancy {
				return truce.Discrepancy{Kind: kind, Subject: a.Side + " " + a.Status, A: a.quote(a.String()), B: ptr(b.quote(b.String()))}
			})
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }
