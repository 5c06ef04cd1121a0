package truce

import (
	"strconv"
	"time"
)

// Kinds of claims an article makes that can be checked against others.
const (
	ClaimDate       = "date"
	ClaimRange      = "date_range"
	ClaimDuration   = "duration"
	ClaimCasualties = "casualties"
	// ClaimDay is a day named by its weekday alone ("on Wednesday"), read
	// as the latest such day on or before the publication's: it dates
	// what a report tells of, for grouping, and is never compared, since
	// its weekday is its date's by construction.
	ClaimDay = "day"
)

// Claim is one checkable assertion of an article, with the sentence it
// came from, so that a disagreement can be shown in the sources' own words.
type Claim struct {
	Kind     string `json:"kind"`
	Sentence string `json:"sentence"`
	// Date, with the weekday the text gives for it, if any.
	Date    time.Time     `json:"date,omitzero"`
	Weekday *time.Weekday `json:"weekday,omitempty"`
	// From and To bound a date range, both days included.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Days is a stated duration in days (a week is 7); Hours one stated in
	// hours ("13 hours of talks"), which Days leaves 0.
	Days  int `json:"days,omitempty"`
	Hours int `json:"hours,omitempty"`
	// Casualties: how many, what happened to them, whose, and who says so.
	Count    int    `json:"count,omitempty"`
	Status   string `json:"status,omitempty"` // killed, wounded, captured, missing
	Side     string `json:"side,omitempty"`   // PK, AF, or "" if not said
	Claimant string `json:"claimant,omitempty"`
	// By is the claimant resolved to a side: PK, AF, "other" (a hospital,
	// residents, the UN, a militant group), or "" when the outlet gives
	// the figure as its own.
	By string `json:"by,omitempty"`
	// Approx qualifies Count: at_least, more_than, about, up_to, dozens
	// (Count 0); CountMax is a range's high end ("15 to 20").
	Approx   string `json:"approx,omitempty"`
	CountMax int    `json:"count_max,omitempty"`
	Group    string `json:"group,omitempty"` // soldiers, civilians, militants, police, fighters, people
}

// String says what the claim asserts, in a few words.
func (c Claim) String() string {
	switch c.Kind {
	case ClaimDate, ClaimDay:
		if c.Weekday != nil {
			return c.Weekday.String() + ", " + c.Date.Format("2 January 2006")
		}
		return c.Date.Format("2 January 2006")
	case ClaimRange:
		return c.From.Format("2 January") + " to " + c.To.Format("2 January 2006")
	case ClaimDuration:
		if c.Hours > 0 {
			return strconv.Itoa(c.Hours) + " hours"
		}
		return strconv.Itoa(c.Days) + " days"
	}
	s := strconv.Itoa(c.Count) + " " + c.Status
	if c.Side != "" {
		s += " (" + c.Side + ")"
	}
	if c.Claimant != "" {
		s += ", says " + c.Claimant
	}
	return s
}

// Kinds of discrepancies among a story's sources.
const (
	WeekdayMismatch   = "weekday_mismatch"   // a weekday that is not its date's
	DurationVsRange   = "duration_vs_range"  // a duration that no count of a date range gives
	ClaimantsDisagree = "claimants_disagree" // different figures from different claimants
	OutletsDisagree   = "outlets_disagree"   // different figures for the same claimant, from different outlets
)

// DiscrepancyKinds lists the kinds.
var DiscrepancyKinds = []string{WeekdayMismatch, DurationVsRange, ClaimantsDisagree, OutletsDisagree}

// Quote is one side of a discrepancy: a claim in its source's words.
type Quote struct {
	Article  string `json:"article"`
	Outlet   string `json:"outlet"`
	Sentence string `json:"sentence"`
	Says     string `json:"says"`
}

// Discrepancy is two claims of a story that cannot both be true (or one
// that cannot be, for a weekday).
type Discrepancy struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	A       Quote  `json:"a"`
	B       *Quote `json:"b,omitempty"`
}
