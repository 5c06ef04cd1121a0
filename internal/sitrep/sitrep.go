// Package sitrep is the situation report: what the mechanism saw in a
// period, computed from the records one reader may see (Compute, a pure
// function: the same records and period give the same report, byte for
// byte), and rendered as JSON (the canonical rendering, whose hash a
// mediator publishes), HTML with inline SVG, and PDF. The chart and the
// map are laid out once (figure) and drawn by both the SVG and the PDF
// renderers.
package sitrep

import (
	"cmp"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/wire"
)

// Input is what a report is computed from: the records its reader may
// see, as the log stood at AsOf entries. The caller filters by reader;
// Compute trusts it to have.
type Input struct {
	Title    string
	From, To time.Time // the period: [From, To)
	AsOf     int64     // the log's size when the records were read
	Audience string    // who the records were read as: public, parties, PK, mechanism
	// Base is prepended to the receipts' paths ("" keeps them relative
	// to the server that answered).
	Base         string
	Agreement    *truce.Agreement
	Allegations  []truce.Allegation
	Findings     []truce.Finding
	Consequences []truce.Consequence
	Commitments  []truce.CommitmentRecord
}

// Situation is a report. Every list is sorted; nothing depends on map
// order or on the time it is computed.
type Situation struct {
	Title    string    `json:"title"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	AsOf     int64     `json:"as_of"`
	Audience string    `json:"audience"`
	Parties  []Party   `json:"parties"`

	// Counts of the allegations filed in the period, and of the findings
	// that took effect in it by determination.
	ByParty         []Count `json:"by_party"` // by the party accused
	ByCategory      []Count `json:"by_category"`
	ByArea          []Count `json:"by_area"`
	ByDetermination []Count `json:"by_determination"`

	New  []Allegation `json:"new"`  // filed in the period: the newest MaxListed
	Open []Allegation `json:"open"` // filed by its end, not yet rejected or decided: the oldest MaxListed
	// Totals of the lists, which a report lists at most MaxListed of.
	Totals         Totals        `json:"totals"`
	OverdueReplies []Count       `json:"overdue_replies"`
	Findings       []Finding     `json:"findings"` // in effect by the period's end
	Consequences   []Consequence `json:"consequences_due"`
	Commitments    []Commitment  `json:"commitments"`
	Days           []Day         `json:"days"`
	Places         []Place       `json:"places"` // the new allegations, where they happened
}

// Party is a party to the agreement, or Unknown for allegations whose
// accused is not known.
type Party struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Reader says whose reading a report is, for its readers.
func (s *Situation) Reader() string {
	switch s.Audience {
	case "public":
		return "the public"
	case "mechanism":
		return "the mechanism"
	case "parties":
		return "the parties"
	case "all":
		return "the instance's operator (every record)"
	}
	return "party " + s.Audience
}

// Unknown stands for an unknown accused.
const Unknown = "unknown"

// Count is how many of something there are under a key.
type Count struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// Allegation is an allegation as a report lists it.
type Allegation struct {
	ID       string    `json:"id"`
	Category string    `json:"category"`
	Filer    string    `json:"filer"`
	Accused  string    `json:"accused"`
	Area     string    `json:"area"`
	Place    string    `json:"place,omitempty"`
	Filed    time.Time `json:"filed"`
	Status   string    `json:"status"`
}

// Finding is a finding in effect, with where its receipt is.
type Finding struct {
	ID            string    `json:"id"`
	Allegation    string    `json:"allegation"`
	Determination string    `json:"determination"`
	Responsible   string    `json:"responsible,omitempty"`
	Effective     time.Time `json:"effective"`
	Receipt       string    `json:"receipt"`
}

// Consequence is a consequence not yet fulfilled or waived.
type Consequence struct {
	ID      string    `json:"id"`
	Finding string    `json:"finding"`
	Title   string    `json:"title"`
	Target  string    `json:"target"`
	Due     time.Time `json:"due"`
	Overdue bool      `json:"overdue,omitempty"`
	Status  string    `json:"status"`
}

// Commitment is a talks commitment and where it stands.
type Commitment struct {
	ID      string    `json:"id"`
	Text    string    `json:"text"`
	Owner   string    `json:"owner"`
	Due     time.Time `json:"due"`
	Status  string    `json:"status"`
	Overdue bool      `json:"overdue,omitempty"`
}

// Day is one day of the chart: per party, in Parties' order, the
// allegations filed against it and the findings against it that took
// effect.
type Day struct {
	Date        string `json:"date"` // YYYY-MM-DD, UTC
	Allegations []int  `json:"allegations"`
	Findings    []int  `json:"findings"`
}

// Place is an allegation on the map.
type Place struct {
	ID      string  `json:"id"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	Accused string  `json:"accused"`
}

// MaxDays bounds a report's period: its chart has a bar group a day.
const MaxDays = 92

// MaxListed bounds each list of a report, MaxPlaces its map: a report of
// a busy month stays a document one reads (the counts and totals are of
// everything).
const (
	MaxListed = 200
	MaxPlaces = 2000
)

// Totals count what a report's lists hold in all.
type Totals struct {
	New          int `json:"new"`
	Open         int `json:"open"`
	Findings     int `json:"findings"`
	Consequences int `json:"consequences_due"`
}

// newest keeps the last n of a sorted list; oldest the first n.
func newest[T any](xs []T, n int) []T { return xs[max(0, len(xs)-n):] }
func oldest[T any](xs []T, n int) []T { return xs[:min(len(xs), n)] }

// Compute makes the report of in.
func Compute(in Input) *Situation {
	s := &Situation{Title: in.Title, From: in.From.UTC(), To: in.To.UTC(), AsOf: in.AsOf, Audience: in.Audience,
		ByParty: []Count{}, ByCategory: []Count{}, ByArea: []Count{}, ByDetermination: []Count{},
		New: []Allegation{}, Open: []Allegation{}, OverdueReplies: []Count{}, Findings: []Finding{},
		Consequences: []Consequence{}, Commitments: []Commitment{}, Places: []Place{}}
	if in.Agreement != nil {
		for _, p := range in.Agreement.Parties {
			s.Parties = append(s.Parties, Party{Code: p.Code, Name: p.Name})
		}
	}
	s.Parties = append(s.Parties, Party{Code: Unknown, Name: "Not known"})
	in.From, in.To = s.From, s.To
	within := func(t time.Time) bool { return !t.Before(in.From) && t.Before(in.To) }
	party := func(code string) string {
		if slices.ContainsFunc(s.Parties, func(p Party) bool { return p.Code == code }) {
			return code
		}
		return Unknown
	}
	days := s.days()
	byParty, byCategory, byArea, byDetermination, overdue := counter{}, counter{}, counter{}, counter{}, counter{}
	for _, a := range in.Allegations {
		if !a.Filed.Before(in.To) {
			continue // after the period: the report tells of it as it was
		}
		item := Allegation{ID: a.ID, Category: a.Category, Filer: a.FilingParty, Accused: party(a.Accused),
			Area: cmp.Or(a.Place.Admin1, a.Place.Country, Unknown), Place: a.Place.Location, Filed: a.Filed.UTC(), Status: a.Status}
		if within(a.Filed) {
			s.New = append(s.New, item)
			byParty[item.Accused]++
			byCategory[a.Category]++
			byArea[item.Area]++
			s.Places = append(s.Places, Place{ID: a.ID, Lat: a.Place.Lat, Lon: a.Place.Lon, Accused: item.Accused})
			s.bump(days, a.Filed, item.Accused, false)
		}
		if a.Status != truce.AllegationRejected && a.Status != truce.AllegationDecided {
			s.Open = append(s.Open, item)
		}
		if a.Notice != nil && a.Notice.Reply.Overdue && a.Reply == nil {
			overdue[item.Accused]++
		}
	}
	for _, f := range in.Findings {
		if f.Status != truce.FindingInEffect || f.Effective == nil || !f.Effective.Before(in.To) {
			continue
		}
		s.Findings = append(s.Findings, Finding{ID: f.ID, Allegation: f.Allegation, Determination: f.Determination,
			Responsible: f.Responsible, Effective: f.Effective.UTC(), Receipt: in.Base + wire.ReceiptPath("finding", f.ID)})
		if within(*f.Effective) {
			byDetermination[f.Determination]++
			s.bump(days, *f.Effective, party(f.Responsible), true)
		}
	}
	for _, q := range in.Consequences {
		if q.Status != truce.ConsequenceOpen && q.Status != truce.ConsequenceEscalated || !q.Created.Before(in.To) {
			continue
		}
		s.Consequences = append(s.Consequences, Consequence{ID: q.ID, Finding: q.Finding, Title: q.Title, Target: q.Target,
			Due: q.Deadline.Due.UTC(), Overdue: q.Deadline.Overdue, Status: q.Status})
	}
	for _, c := range in.Commitments {
		s.Commitments = append(s.Commitments, Commitment{ID: c.ID, Text: c.Text, Owner: c.Owner, Due: c.Deadline.Due.UTC(),
			Status: c.Status, Overdue: c.Deadline.Overdue})
	}
	s.ByParty, s.OverdueReplies = s.byParties(byParty), s.byParties(overdue)
	s.ByCategory, s.ByArea, s.ByDetermination = byCategory.sorted(), byArea.sorted(), byDetermination.sorted()
	s.Days = days
	byID := func(a, b Allegation) int { return cmp.Compare(a.ID, b.ID) }
	slices.SortFunc(s.New, byID)
	slices.SortFunc(s.Open, byID)
	slices.SortFunc(s.Findings, func(a, b Finding) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Consequences, func(a, b Consequence) int { return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(s.Commitments, func(a, b Commitment) int { return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(s.Places, func(a, b Place) int { return cmp.Compare(a.ID, b.ID) })
	s.Totals = Totals{New: len(s.New), Open: len(s.Open), Findings: len(s.Findings), Consequences: len(s.Consequences)}
	s.New, s.Open, s.Places = newest(s.New, MaxListed), oldest(s.Open, MaxListed), newest(s.Places, MaxPlaces)
	s.Findings, s.Consequences = newest(s.Findings, MaxListed), oldest(s.Consequences, MaxListed)
	return s
}

// days are the period's days, UTC, at most MaxDays of them (the last).
func (s *Situation) days() []Day {
	var out []Day
	first := s.From.Truncate(24 * time.Hour)
	if n := int(s.To.Sub(first).Hours()/24) + 1; n > MaxDays {
		first = first.Add(time.Duration(n-MaxDays) * 24 * time.Hour)
	}
	for d := first; d.Before(s.To); d = d.Add(24 * time.Hour) {
		out = append(out, Day{Date: d.Format(time.DateOnly), Allegations: make([]int, len(s.Parties)), Findings: make([]int, len(s.Parties))})
	}
	return out
}

// bump counts an allegation or a finding against a party on its day.
func (s *Situation) bump(days []Day, t time.Time, party string, finding bool) {
	date := t.UTC().Format(time.DateOnly)
	i, ok := slices.BinarySearchFunc(days, date, func(d Day, date string) int { return cmp.Compare(d.Date, date) })
	p := slices.IndexFunc(s.Parties, func(p Party) bool { return p.Code == party })
	if !ok || p < 0 {
		return
	}
	if finding {
		days[i].Findings[p]++
	} else {
		days[i].Allegations[p]++
	}
}

// byParties lists counts in the parties' order, every party given.
func (s *Situation) byParties(c counter) []Count {
	out := make([]Count, 0, len(s.Parties))
	for _, p := range s.Parties {
		out = append(out, Count{Key: p.Code, N: c[p.Code]})
	}
	return out
}

type counter map[string]int

// sorted lists counts, the largest first, ties by key.
func (c counter) sorted() []Count {
	out := make([]Count, 0, len(c))
	for k, n := range c {
		out = append(out, Count{Key: k, N: n})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Key, b.Key)) })
	return out
}
