package rules

import (
	"time"

	"github.com/truce-mvm/truce"
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
}

// LatestVersion is the version new instances begin under.
const LatestVersion = 1

// versions are the versions this build knows.
var versions = map[int]Version{
	1: {Grouping: stories.Options{Window: 4 * 24 * time.Hour, NearBits: 20, NearJaccard: 0.7, MinSimilar: 0.12, MinShingles: 20}, CEL: 1},
}

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

// setVersion puts a version of the rules in force.
func (s *State) setVersion(n int, v Version) {
	s.Rules, s.version = n, v
	s.grouper.Retune(v.Grouping)
}
