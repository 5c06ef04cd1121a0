package rules

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"time"

	"github.com/truce-mvm/truce"
)

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// earliest is the earliest event time an allegation may claim.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const maxCasualties = 100000

// checkAllegation checks a filing on its own; what depends on the agreement
// and on log time is checked in applyAllegation.
func checkAllegation(a *truce.AllegationFiling) error {
	if _, ok := truce.CategoryBySlug(a.Category); !ok {
		return truce.FieldErrorf(truce.CodeInvalid, "body.category", "unknown event category %q", a.Category)
	}
	o := a.Occurred
	if o.From.Before(earliest) {
		return truce.FieldErrorf(truce.CodeBadTime, "body.occurred.from", "is missing or before %d", earliest.Year())
	}
	if o.To != nil && o.To.Before(o.From) {
		return truce.FieldErrorf(truce.CodeBadTime, "body.occurred.to", "is before occurred.from")
	}
	if o.Precision < 1 || o.Precision > 3 {
		return truce.FieldErrorf(truce.CodeInvalid, "body.occurred.precision", "must be 1 (day), 2 (week) or 3 (month)")
	}
	if err := checkPlace("body.place", a.Place); err != nil {
		return err
	}
	if len(a.Clauses) == 0 {
		return truce.FieldErrorf(truce.CodeInvalid, "body.clauses", "name at least one clause allegedly breached")
	}
	if len(a.Clauses) > 20 {
		return truce.FieldErrorf(truce.CodeInvalid, "body.clauses", "at most 20 clauses")
	}
	seen := map[string]bool{}
	for i, c := range a.Clauses {
		if seen[c] {
			return truce.FieldErrorf(truce.CodeInvalid, fmt.Sprintf("body.clauses[%d]", i), "clause %q is named twice", c)
		}
		seen[c] = true
	}
	per := a.Perpetrator
	switch per.Kind {
	case truce.PerpParty:
		if per.Party == "" || per.Group != "" || per.OperatedFrom != "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body.perpetrator", "a party perpetrator names the party only")
		}
	case truce.PerpNonState:
		if per.Party != "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body.perpetrator.party", "a non-state group is not a party; name the territory it operated from in operated_from")
		}
		if err := text("body.perpetrator.group", per.Group, 100, true); err != nil {
			return err
		}
	case truce.PerpUnknown:
		if per.Party != "" || per.Group != "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body.perpetrator", "an unknown perpetrator has no party or group")
		}
	default:
		return truce.FieldErrorf(truce.CodeInvalid, "body.perpetrator.kind", "must be %s, %s or %s", truce.PerpParty, truce.PerpNonState, truce.PerpUnknown)
	}
	c := a.Casualties
	for _, n := range []struct {
		name string
		v    int
	}{{"killed", c.Killed}, {"injured", c.Injured}, {"civilians_killed", c.CiviliansKilled}, {"civilians_injured", c.CiviliansInjured}} {
		if n.v < 0 || n.v > maxCasualties {
			return truce.FieldErrorf(truce.CodeInvalid, "body.casualties."+n.name, "must be between 0 and %d", maxCasualties)
		}
	}
	if c.CiviliansKilled > c.Killed || c.CiviliansInjured > c.Injured {
		return truce.FieldErrorf(truce.CodeInvalid, "body.casualties", "civilians are counted among the killed and injured, so cannot exceed them")
	}
	if err := text("body.narrative", a.Narrative, 20000, true); err != nil {
		return err
	}
	if err := checkVisibility("body.visibility", a.Visibility, truce.Parties, truce.Internal); err != nil {
		return err
	}
	if err := checkSealed("body.sealed", a.Sealed); err != nil {
		return err
	}
	if len(a.Sources) > 20 {
		return truce.FieldErrorf(truce.CodeInvalid, "body.sources", "at most 20 sources")
	}
	for i, s := range a.Sources {
		f := fmt.Sprintf("body.sources[%d]", i)
		if err := text(f+".title", s.Title, 300, false); err != nil {
			return err
		}
		if s.URL != "" {
			u, err := url.Parse(s.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s.URL) > 2000 {
				return truce.FieldErrorf(truce.CodeInvalid, f+".url", "must be an http or https address")
			}
		}
	}
	return nil
}

// checkPlace checks a place on its own.
func checkPlace(field string, p truce.Place) error {
	if math.IsNaN(p.Lat) || p.Lat < -90 || p.Lat > 90 {
		return truce.FieldErrorf(truce.CodeBadLocation, field+".lat", "latitude %v is off the globe (-90 to 90)", p.Lat)
	}
	if math.IsNaN(p.Lon) || p.Lon < -180 || p.Lon > 180 {
		return truce.FieldErrorf(truce.CodeBadLocation, field+".lon", "longitude %v is off the globe (-180 to 180)", p.Lon)
	}
	if p.GeoPrecision < 1 || p.GeoPrecision > 3 {
		return truce.FieldErrorf(truce.CodeInvalid, field+".geo_precision", "must be 1 (exact), 2 (district) or 3 (province)")
	}
	if math.IsNaN(p.RadiusKM) || p.RadiusKM < 0 || p.RadiusKM > 500 {
		return truce.FieldErrorf(truce.CodeBadLocation, field+".radius_km", "must be between 0 and 500")
	}
	if !countryPattern.MatchString(p.Country) {
		return truce.FieldErrorf(truce.CodeInvalid, field+".country", "must be an ISO 3166 code such as PK or AF")
	}
	for _, f := range []struct{ name, v string }{{"admin1", p.Admin1}, {"admin2", p.Admin2}, {"admin3", p.Admin3}, {"location", p.Location}} {
		if err := text(field+"."+f.name, f.v, 200, false); err != nil {
			return err
		}
	}
	return nil
}

func applyAllegation(s *State, c *applyCtx, body any) error {
	f := body.(*truce.AllegationFiling)
	ag := s.Agreement
	if ag == nil {
		return truce.Errorf(truce.CodeConflict, "no agreement is in force")
	}
	limit := c.logged.Add(MaxSkew)
	if f.Occurred.From.After(limit) {
		return truce.FieldErrorf(truce.CodeBadTime, "body.occurred.from", "%s is in the future", f.Occurred.From.UTC().Format(time.RFC3339))
	}
	if f.Occurred.To != nil && f.Occurred.To.After(limit) {
		return truce.FieldErrorf(truce.CodeBadTime, "body.occurred.to", "%s is in the future", f.Occurred.To.UTC().Format(time.RFC3339))
	}
	for i, id := range f.Clauses {
		if _, ok := ag.Clause(id); !ok {
			return truce.FieldErrorf(truce.CodeUnknownClause, fmt.Sprintf("body.clauses[%d]", i), "the agreement has no clause %q", id)
		}
	}
	var accused string
	switch p := f.Perpetrator; p.Kind {
	case truce.PerpParty:
		if _, ok := ag.Party(p.Party); !ok {
			return truce.FieldErrorf(truce.CodeInvalid, "body.perpetrator.party", "%q is not a party to the agreement", p.Party)
		}
		accused = p.Party
	case truce.PerpNonState:
		if p.OperatedFrom != "" {
			if _, ok := ag.Party(p.OperatedFrom); !ok {
				return truce.FieldErrorf(truce.CodeInvalid, "body.perpetrator.operated_from", "%q is not a party to the agreement", p.OperatedFrom)
			}
		}
		accused = p.OperatedFrom
	}
	author := c.author
	if author.Role == truce.RoleLiaison && accused == author.Party {
		return truce.FieldErrorf(truce.CodeForbidden, "body.perpetrator", "a party's liaison files allegations against the other party, not its own")
	}
	cat, _ := truce.CategoryBySlug(f.Category)
	a := &truce.Allegation{
		ID:               s.next(KindAllegationFiled).ID,
		AllegationFiling: *f,
		EventType:        cat.EventType,
		SubEventType:     cat.SubEventType,
		FiledBy:          author.ID,
		FilingParty:      author.Party,
		Accused:          accused,
		Filed:            c.logged.UTC(),
		Index:            c.index,
		Status:           truce.AllegationFiled,
		Exercise:         s.Instance.Exercise,
		Admission:        truce.Deadline{Due: c.logged.Add(time.Duration(ag.Deadlines.Admission))},
	}
	if a.Visibility == "" {
		a.Visibility = truce.Parties
	}
	// A report shared with the parties notifies the accused; one kept
	// within the mechanism does not.
	if accused != "" && a.Visibility == truce.Parties {
		// The accused party is notified as the filing is logged; its reply
		// is due within the agreement's deadline.
		a.Notice = &truce.Notice{To: accused, At: c.logged, Reply: truce.Deadline{Due: c.logged.Add(time.Duration(ag.Deadlines.Reply))}}
		s.schedule(DueReply, a.ID, a.Notice.Reply.Due)
	}
	s.schedule(DueAdmission, a.ID, a.Admission.Due)
	a.Occurred.From = a.Occurred.From.UTC()
	if a.Occurred.To != nil {
		to := a.Occurred.To.UTC()
		a.Occurred.To = &to
	}
	s.allegations[a.ID] = a
	c.touch(TypeAllegation, a.ID)
	return nil
}
