package truce

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Role is what a member does in the mechanism (docs/threat-model.md: who is trusted with what).
type Role string

// Roles, spelled as in demo-credentials.json.
const (
	RoleLiaison  Role = "liaison"
	RoleMediator Role = "mediator"
	RoleMonitor  Role = "monitor"
	RoleAnalyst  Role = "analyst"
	RoleAdmin    Role = "admin"
	RolePublic   Role = "public"
	RoleSystem   Role = "system" // the instance itself; never a person
)

// Valid reports whether r is a role a person can hold.
func (r Role) Valid() bool {
	switch r {
	case RoleLiaison, RoleMediator, RoleMonitor, RoleAnalyst, RoleAdmin, RolePublic:
		return true
	}
	return false
}

// Mechanism is the party code of the mechanism's own staff.
const Mechanism = "MECH"

// SystemAuthor is the author id of entries signed by the instance's system key.
const SystemAuthor = "system"

// Member is a person (or the system) who signs entries.
type Member struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  Role   `json:"role"`
	Party string `json:"party"`
	Keys  []Key  `json:"keys"`
	// Registered is the log index of the entry that registered the member.
	Registered int64 `json:"registered"`
}

// Key is one Ed25519 public key of a member.
type Key struct {
	ID     string `json:"id"`     // SHA256 fingerprint, as in DSSE keyid
	Public string `json:"public"` // "ed25519:" + base64 of the 32-byte key
	Added  int64  `json:"added"`  // log index of the entry that added it
	// Revoked is the log index from which entries signed with the key are
	// refused; zero while the key is active.
	Revoked int64 `json:"revoked,omitempty"`
	// Custodial keys are held by the server, which signs with them for
	// members who work in the browser: every entry they sign is known to
	// have been signed by the server on the member's behalf.
	Custodial bool `json:"custodial,omitempty"`
	// Pending keys of a party's member were added by someone else than the
	// member and sign nothing until the party approves them (or, while the
	// party has no member with a key, a quorum of mediators); Approved is
	// the log index of the approval that made one usable.
	Pending  bool  `json:"pending,omitempty"`
	Approved int64 `json:"approved,omitempty"`
}

// Usable reports whether the key signs now: neither revoked nor awaiting
// approval.
func (k Key) Usable() bool { return k.Revoked == 0 && !k.Pending }

// Duration is a length of time written for people: "72h", "14d", "2w", "90m".
type Duration time.Duration

// ParseDuration accepts Go durations plus whole days ("d") and weeks ("w").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 || v > 3650 {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return Duration(time.Duration(v) * u.unit), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q: use e.g. 72h, 14d or 2w", s)
	}
	return Duration(d), nil
}

// String writes whole days as "Nd" and anything else as a Go duration.
func (d Duration) String() string {
	td := time.Duration(d)
	if td > 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	return td.String()
}

// MarshalText writes d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what ParseDuration accepts.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return &ValueError{Value: string(b), Reason: err.Error()}
	}
	*d = v
	return nil
}

// ValueError is a value that does not parse; it carries the value so that
// file parsers can point at where it was written.
type ValueError struct {
	Value  string
	Reason string
}

func (e *ValueError) Error() string { return e.Reason }

// Actor is a state or body named by the agreement.
type Actor struct {
	Code string `json:"code" yaml:"code"` // e.g. PK, AF, TR, QA
	Name string `json:"name" yaml:"name"`
}

// Clause is one obligation of the agreement.
type Clause struct {
	ID    string `json:"id" yaml:"id"`
	Title string `json:"title" yaml:"title"`
	Text  string `json:"text" yaml:"text"`
	// Categories lists the event categories (taxonomy slugs) the clause
	// covers; an allegation citing the clause should be of one of them.
	Categories []string `json:"categories" yaml:"categories"`
}

// Deadlines are the agreement's time limits, counted in log time.
type Deadlines struct {
	Reply        Duration `json:"reply" yaml:"reply"`               // accused party answers
	Admission    Duration `json:"admission" yaml:"admission"`       // mediators admit or reject
	Verification Duration `json:"verification" yaml:"verification"` // case to finding
	// Signing is how long before it is logged an entry may have been
	// signed: a field monitor signing offline may be days from a
	// connection. Zero is DefaultSigningWindow.
	Signing Duration `json:"signing,omitempty" yaml:"signing,omitempty"`
}

// DefaultSigningWindow is how late an entry may be logged after it was
// signed, when the agreement does not say.
const DefaultSigningWindow = Duration(7 * 24 * time.Hour)

// Agreement is the ceasefire agreement the mechanism enforces.
type Agreement struct {
	Title      string    `json:"title" yaml:"title"`
	Exercise   bool      `json:"exercise,omitempty" yaml:"exercise,omitempty"`
	Effective  time.Time `json:"effective" yaml:"effective"`
	Parties    []Actor   `json:"parties" yaml:"parties"`
	Mediators  []Actor   `json:"mediators" yaml:"mediators"`
	Guarantors []Actor   `json:"guarantors,omitempty" yaml:"guarantors,omitempty"`
	Clauses    []Clause  `json:"clauses" yaml:"clauses"`
	Deadlines  Deadlines `json:"deadlines" yaml:"deadlines"`
	// Quorum is how many distinct mediators must sign a finding.
	Quorum int `json:"quorum" yaml:"quorum"`
	// Rules are the consequence rules, applied in order to each finding
	// that takes effect.
	Rules []ConsequenceRule `json:"rules,omitempty" yaml:"rules,omitempty"`
	Talks []TalksRound      `json:"talks,omitempty" yaml:"talks,omitempty"`
	// Version counts the agreement and its amendments: 1 as adopted.
	Version int `json:"version,omitempty" yaml:"-"`
}

// Party returns the party with the given code.
func (a *Agreement) Party(code string) (Actor, bool) { return findActor(a.Parties, code) }

// Mediator returns the mediator with the given code.
func (a *Agreement) Mediator(code string) (Actor, bool) { return findActor(a.Mediators, code) }

// Clause returns the clause with the given id.
func (a *Agreement) Clause(id string) (Clause, bool) {
	for _, c := range a.Clauses {
		if c.ID == id {
			return c, true
		}
	}
	return Clause{}, false
}

func findActor(list []Actor, code string) (Actor, bool) {
	for _, a := range list {
		if a.Code == code {
			return a, true
		}
	}
	return Actor{}, false
}

// Place is where an event happened, aligned with ACLED's location fields.
type Place struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	// GeoPrecision is ACLED's geo_precision: 1 the exact place, 2 within
	// the named district, 3 only the province or a wider area.
	GeoPrecision int `json:"geo_precision"`
	// RadiusKM makes the place an area around the point.
	RadiusKM float64 `json:"radius_km,omitempty"`
	Country  string  `json:"country"` // ISO 3166-1 alpha-2 of the territory: PK, AF
	Admin1   string  `json:"admin1,omitempty"`
	Admin2   string  `json:"admin2,omitempty"`
	Admin3   string  `json:"admin3,omitempty"`
	Location string  `json:"location,omitempty"` // place name
}

// Occurred is when an event happened.
type Occurred struct {
	From time.Time  `json:"from"`
	To   *time.Time `json:"to,omitempty"` // end of a span; nil for an instant
	// Precision is ACLED's time_precision: 1 the day is known, 2 the week,
	// 3 only the month.
	Precision int `json:"precision"`
}

// Perpetrator kinds.
const (
	PerpParty    = "party"     // a party's own forces
	PerpNonState = "non_state" // a named non-state armed group
	PerpUnknown  = "unknown"
)

// Perpetrator is who allegedly did it.
type Perpetrator struct {
	Kind  string `json:"kind"`
	Party string `json:"party,omitempty"` // for kind party
	Group string `json:"group,omitempty"` // for kind non_state, e.g. "TTP"
	// OperatedFrom is the party whose territory a non-state group allegedly
	// operated from (the territory clause).
	OperatedFrom string `json:"operated_from,omitempty"`
}

// Casualties counts people harmed; civilians are among the totals.
type Casualties struct {
	Killed           int `json:"killed"`
	Injured          int `json:"injured"`
	CiviliansKilled  int `json:"civilians_killed"`
	CiviliansInjured int `json:"civilians_injured"`
}

// Source is a report an allegation relies on.
type Source struct {
	Title string `json:"title,omitempty"`
	URL   string `json:"url,omitempty"`
}

// AllegationFiling is the body of an allegation.filed entry.
type AllegationFiling struct {
	Category    string      `json:"category"` // taxonomy slug, see Categories
	Occurred    Occurred    `json:"occurred"`
	Place       Place       `json:"place"`
	Clauses     []string    `json:"clauses"`
	Perpetrator Perpetrator `json:"perpetrator"`
	Casualties  Casualties  `json:"casualties"`
	Narrative   string      `json:"narrative"`
	Sources     []Source    `json:"sources,omitempty"`
	// Visibility is Parties (the default) or Internal: a report for the
	// mechanism and the filer's own party only.
	Visibility Visibility `json:"visibility,omitempty"`
	// Sealed commits to details kept out of the log (witnesses' names,
	// a source's identity), shown only to the mechanism and the filer.
	Sealed *Sealed `json:"sealed,omitempty"`
}

// AllegationFiled is the status of an allegation not yet admitted or
// rejected.
const AllegationFiled = "filed"

// ReplyRecord is a reply as logged.
type ReplyRecord struct {
	Reply
	By    string    `json:"by"`
	At    time.Time `json:"at"`
	Index int64     `json:"index"`
	Late  bool      `json:"late,omitempty"` // after the reply deadline
}

// AdmissionRecord is an admission or rejection as logged.
type AdmissionRecord struct {
	Admitted    bool      `json:"admitted"`
	Grounds     string    `json:"grounds,omitempty"`
	DuplicateOf string    `json:"duplicate_of,omitempty"`
	Note        string    `json:"note,omitempty"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	Index       int64     `json:"index"`
}

// Allegation is the projection of an allegation and what followed it.
type Allegation struct {
	ID string `json:"id"`
	AllegationFiling
	EventType    string    `json:"event_type"`     // ACLED event_type
	SubEventType string    `json:"sub_event_type"` // ACLED sub_event_type
	FiledBy      string    `json:"filed_by"`       // member id
	FilingParty  string    `json:"filing_party"`   // party code of the filer
	Accused      string    `json:"accused,omitempty"`
	Filed        time.Time `json:"filed"` // log time
	Index        int64     `json:"index"` // log index of the filing
	Status       string    `json:"status"`
	Exercise     bool      `json:"exercise,omitempty"`

	Notice    *Notice          `json:"notice,omitempty"` // none when the accused is unknown
	Reply     *ReplyRecord     `json:"reply,omitempty"`
	Admission Deadline         `json:"admission"`
	Decision  *AdmissionRecord `json:"decision,omitempty"`
	Case      string           `json:"case,omitempty"`
	Finding   string           `json:"finding,omitempty"` // the finding in effect
	Links     []Link           `json:"links,omitempty"`   // open-source reports tied to it
}
