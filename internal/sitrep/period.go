package sitrep

import (
	"time"

	"github.com/truce-mvm/truce"
)

// DefaultPeriod is the period a report covers when not told: the day
// before its end.
const DefaultPeriod = 24 * time.Hour

// ParsePeriod reads a report's from and to, each YYYY-MM-DD (a day, UTC:
// from its start; to through its end) or RFC 3339. Without to the period
// ends now; without from it begins DefaultPeriod before its end. It is
// refused, naming the field, if a date does not parse, if from is not
// before to, or if it spans more than MaxDays days.
func ParsePeriod(from, to string, now time.Time) (time.Time, time.Time, error) {
	end, err := parseTime("to", to, true)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if to == "" {
		end = now.UTC().Truncate(time.Second)
	}
	start, err := parseTime("from", from, false)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if from == "" {
		start = end.Add(-DefaultPeriod)
	}
	switch {
	case !start.Before(end):
		return time.Time{}, time.Time{}, truce.FieldErrorf(truce.CodeInvalid, "from", "must be before to (%s)", end.Format(time.RFC3339))
	case end.Sub(start) > MaxDays*24*time.Hour:
		return time.Time{}, time.Time{}, truce.FieldErrorf(truce.CodeInvalid, "to", "the period is longer than %d days", MaxDays)
	}
	return start, end, nil
}

func parseTime(field, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.Add(24 * time.Hour) // through the day's end: the period excludes its end
		}
		if d.Year() > 9999 { // the last day's end is in year 10000, which no RFC 3339 time can say
			return time.Time{}, truce.FieldErrorf(truce.CodeInvalid, field, "must end by 9999-12-31")
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, truce.FieldErrorf(truce.CodeInvalid, field, "must be a date (YYYY-MM-DD) or a time (RFC 3339), not %q", s)
	}
	return t.UTC(), nil
}
