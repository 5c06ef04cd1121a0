package rules

import (
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/stories"
)

// Version is a version of the rules' parameters: what, besides the code of
// each kind, decides what entries derive — how reports are grouped into
// stories and copies, and what consequence rules may call. A log records
// the version it began under (instance.created) and every move to another
// (rules.adopted), and Apply uses at every index the version in force
// there: a later build that changes a default adds a version, so it never
// changes what an old log derives. Versions are never edited, only added.
type Version struct {
	Grouping stories.Options // stories and copies
	CEL      int             // the CEL library of consequence rules
	// Strict entries have one meaning to every reader and cannot be
	// stretched: a canonical payload (entry.Canonical), a seq at most
	// SeqWindow past the author's last, and a signing time no earlier than
	// the agreement's signing window before it is logged.
	Strict bool
	// Figures grades a casualty figure by the claimants who give it, not
	// the outlets that repeat it (gradeClaims): many outlets reporting one
	// party's figure confirm that it was claimed, not the figure.
	Figures bool
	// Sealing rules keep the mechanism's confidential work out of the log:
	// an entry about a record kept within the mechanism is sealed, every
	// other entry is in clear (Confidential).
	Sealing bool
	// Events dates a report by what it tells of — the days its lead
	// gives, else all it gives, never a day after its publication
	// (claims.EventDays) — rather than every day it mentions; and joins
	// reports by place and day across words and languages
	// (Grouping.Events).
	Events bool
	// Reports lets mediators publish situation reports
	// (KindReportPublished); earlier versions refuse the kind, so that no
	// old log derives a record it did not have.
	Reports bool
}

// SeqWindow is how far past an author's last seq the next entry's may be,
// under strict rules: room for entries signed offline and lost, not for a
// seq that would reach the end of its range.
const SeqWindow = 16

// LatestVersion is the version new instances begin under.
const LatestVersion = 7

// versions are the versions this build knows.
var versions = map[int]Version{
	1: {Grouping: grouping, CEL: 1},
	2: {Grouping: grouping, CEL: 1, Strict: true},
	3: {Grouping: grouping, CEL: 1, Strict: true, Sealing: true},
	4: {Grouping: grouping, CEL: 1, Strict: true, Sealing: true, Figures: true},
	5: {Grouping: containing, CEL: 1, Strict: true, Sealing: true, Figures: true},
	6: {Grouping: events, CEL: 1, Strict: true, Sealing: true, Figures: true, Events: true},
	7: {Grouping: events, CEL: 1, Strict: true, Sealing: true, Figures: true, Events: true, Reports: true},
}

var grouping = stories.Options{Window: 4 * 24 * time.Hour, NearBits: 20, NearJaccard: 0.7, MinSimilar: 0.12, MinShingles: 20}

// containing also finds copies cut short, extended or re-headlined (most
// of the shorter text's shingles within the other's), and keeps apart
// reports of events on days apart.
var containing = stories.Options{Window: 4 * 24 * time.Hour, NearBits: 20, NearJaccard: 0.7, MinSimilar: 0.12, MinShingles: 20, Contain: 0.8,
	DatesApart: true}

// events also joins reports of one place and day told in other words.
var events = stories.Options{Window: 4 * 24 * time.Hour, NearBits: 20, NearJaccard: 0.7, MinSimilar: 0.12, MinShingles: 20, Contain: 0.8,
	DatesApart: true, Events: true}

// Grouping is how the latest rules group reports into stories and copies:
// what a benchmark of the pipeline measures.
func Grouping() stories.Options { return versions[LatestVersion].Grouping }

// Latest is the version new instances begin under.
func Latest() Version { return versions[LatestVersion] }

// KindRulesAdopted moves an instance to another version of the rules, from
// this entry on.
const KindRulesAdopted = "rules.adopted"

// RulesAdoption is the body of rules.adopted.
type RulesAdoption struct {
	Version int `json:"version"`
}

// version returns the version a log names, or a refusal that says this
// build is too old for it.
func version(v int, field string) (Version, error) {
	p, ok := versions[v]
	if !ok {
		return Version{}, truce.FieldErrorf(truce.CodeInvalid, field, "rules version %d is not known to this build, which knows versions 1 to %d: use a newer truce", v, LatestVersion)
	}
	return p, nil
}

func checkRulesAdoption(a *RulesAdoption) error {
	_, err := version(a.Version, "body.version")
	return err
}

func applyRulesAdoption(s *State, c *applyCtx, body any) error {
	a := body.(*RulesAdoption)
	if a.Version <= s.Rules {
		return truce.FieldErrorf(truce.CodeConflict, "body.version", "the log is at rules version %d; it only moves forward", s.Rules)
	}
	p, err := version(a.Version, "body.version")
	if err != nil {
		return err
	}
	s.setVersion(a.Version, p)
	c.touch(TypeInstance, s.Instance.Origin)
	return nil
}

// strict checks an entry as strict rules require.
func (s *State) strict(e *entry.Entry, logged time.Time) error {
	if err := e.CheckCanonical(); err != nil {
		return err
	}
	p := &e.Payload
	if last := s.seqs[p.Author]; p.Seq > last+SeqWindow {
		return truce.FieldErrorf(truce.CodeInvalid, "payload.seq", "seq %d is more than %d past %s's last seq %d: use the next one", p.Seq, SeqWindow, p.Author, last)
	}
	window := truce.DefaultSigningWindow
	if s.Agreement != nil && s.Agreement.Deadlines.Signing != 0 {
		window = s.Agreement.Deadlines.Signing
	}
	if p.Time.Before(logged.Add(-time.Duration(window))) {
		return truce.FieldErrorf(truce.CodeBadTime, "payload.time", "signed at %s, more than the agreement's %s before it is logged (%s)",
			p.Time.UTC().Format(time.RFC3339), time.Duration(window), logged.Format(time.RFC3339))
	}
	return nil
}

// setVersion puts a version of the rules in force.
func (s *State) setVersion(n int, v Version) {
	s.Rules, s.version = n, v
	s.grouper.Retune(v.Grouping)
}
