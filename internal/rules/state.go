// Package rules is the mechanism's law: what each kind of entry must say,
// who may sign it, and what it changes. State is a pure function of the
// log: Apply takes entries in log order, with their index and logged time,
// and nothing else — no wall clock, no randomness, no map order.
//
// The sequencer calls Apply before it logs an entry (so an invalid command
// leaves no trace) and replay calls it again on every logged entry (so a
// log cannot smuggle in what the live server would have refused).
package rules

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
)

// MaxSkew is how far an author's claimed signing time or an event's time may
// run ahead of log time (clocks in the field are not exact).
const MaxSkew = 5 * time.Minute

// Record types.
const (
	TypeInstance    = "instance"
	TypeMember      = "member"
	TypeAgreement   = "agreement"
	TypeAllegation  = "allegation"
	TypeCase        = "case"
	TypeTask        = "task"
	TypeEvidence    = "evidence"
	TypeFinding     = "finding"
	TypeConsequence = "consequence"
	TypeCommitment  = "commitment"
	TypeAmendment   = "amendment"
)

// Instance is what the first entry of a log declares.
type Instance struct {
	// Rules is the version of the rules the log begins under; 0 (a log
	// begun before versions were recorded) is version 1.
	Rules     int    `json:"rules,omitempty"`
	Origin    string `json:"origin"`
	Name      string `json:"name"`
	Exercise  bool   `json:"exercise,omitempty"`
	SystemKey string `json:"system_key"` // public key of the system author
	LogKey    string `json:"log_key"`    // signed-note verifier key of checkpoints
}

type key struct {
	member    string
	pub       *entry.PublicKey
	added     int64
	revoked   int64 // 0: active
	custodial bool
	pending   bool     // awaits its party's approval
	approvals []string // the mediator states that approved it, while pending
	// unconsented: added by someone else than the member, under rules that
	// did not ask its group's consent (UnconsentedKey).
	unconsented bool
}

// State is what the log has established.
type State struct {
	Instance  *Instance
	Size      int64     // entries applied
	Logged    time.Time // logged time of the last entry
	Agreement *truce.Agreement
	Rules     int // the version of the rules in force

	version Version
	founded bool // a member other than the system has logged an entry

	agreementIndex int64
	programs       []celProgram  // the agreement's consequence rules, compiled
	updated        map[Ref]int64 // log index of the last entry touching each record
	created        map[Ref]int64 // and of the entry that created it

	members        map[string]*truce.Member
	keys           map[string]*key
	seqs           map[string]uint64
	allegations    map[string]*truce.Allegation
	cases          map[string]*truce.Case
	tasks          map[string]*truce.Task
	evidence       map[string]*truce.Evidence
	evidenceByHash map[string]string
	findings       map[string]*truce.Finding
	consequences   map[string]*truce.Consequence
	commitments    map[string]*truce.CommitmentRecord
	amendments     map[string]*truce.Amendment
	history        []map[string]any // findings in effect, as consequence rules see them
	dues           dueHeap
	osint
	published

	nAllegation, nCase, nTask, nEvidence, nFinding, nConsequence, nAmendment int

	// An auditor's state that skipped entries (Skip): the records what it
	// says of may be wrong, and how many it skipped.
	tainted      map[Ref]bool
	placeholders map[Ref]bool
	skippedKinds map[string]bool
	skipped      int64
}

// New returns the state of an empty log.
func New() *State {
	return &State{
		members:        map[string]*truce.Member{},
		keys:           map[string]*key{},
		seqs:           map[string]uint64{},
		allegations:    map[string]*truce.Allegation{},
		cases:          map[string]*truce.Case{},
		tasks:          map[string]*truce.Task{},
		evidence:       map[string]*truce.Evidence{},
		evidenceByHash: map[string]string{},
		findings:       map[string]*truce.Finding{},
		consequences:   map[string]*truce.Consequence{},
		commitments:    map[string]*truce.CommitmentRecord{},
		amendments:     map[string]*truce.Amendment{},
		updated:        map[Ref]int64{},
		created:        map[Ref]int64{},
		osint:          newOSINT(),
		published:      newPublished(),
		placeholders:   map[Ref]bool{},
		tainted:        map[Ref]bool{},
		skippedKinds:   map[string]bool{},
	}
}

// Member returns a registered member.
func (s *State) Member(id string) (*truce.Member, bool) {
	m, ok := s.members[id]
	return m, ok
}

// Seq returns the last seq an author used.
func (s *State) Seq(author string) uint64 { return s.seqs[author] }

// SigningKey returns the key that must have signed e if it were the next
// entry: the author's key named by the signature, which must not be revoked.
// For the first entry of a log, it is the system key that entry declares.
func (s *State) SigningKey(e *entry.Entry) (*entry.PublicKey, error) {
	if s.Instance == nil {
		if e.Payload.Kind != KindInstanceCreated {
			return nil, truce.Errorf(truce.CodeInvalid, "the log must start with %s", KindInstanceCreated)
		}
		var in Instance
		if err := entry.DecodeBody(e.Payload.Body, &in); err != nil {
			return nil, err
		}
		pub, err := entry.ParsePublicKey(in.SystemKey)
		if err != nil {
			return nil, truce.FieldErrorf(truce.CodeInvalid, "body.system_key", "%v", err)
		}
		return pub, nil
	}
	k, err := s.activeKey(e.Payload.Author, e.KeyID(), s.Size)
	if err != nil {
		return nil, err
	}
	return k.pub, nil
}

// CustodialKey returns the id of a member's active custodial key, if any.
func (s *State) CustodialKey(member string) (string, bool) {
	m, ok := s.members[member]
	if !ok {
		return "", false
	}
	for _, k := range m.Keys {
		if k.Custodial && k.Usable() {
			return k.ID, true
		}
	}
	return "", false
}

func (s *State) activeKey(author, keyID string, index int64) (*key, error) {
	if _, ok := s.members[author]; !ok {
		return nil, truce.FieldErrorf(truce.CodeUnknownAuthor, "payload.author", "no member %q is registered", author)
	}
	k, ok := s.keys[keyID]
	if !ok || k.member != author {
		return nil, truce.FieldErrorf(truce.CodeUnknownAuthor, "signatures[0].keyid", "key %s is not registered to %s", keyID, author)
	}
	if k.revoked != 0 && index >= k.revoked {
		return nil, truce.FieldErrorf(truce.CodeRevokedKey, "signatures[0].keyid", "key %s of %s was revoked at log index %d", keyID, author, k.revoked-1)
	}
	if k.pending {
		return nil, truce.FieldErrorf(truce.CodeRevokedKey, "signatures[0].keyid", "key %s of %s was added by someone else and signs nothing until %s approves it", keyID, author, s.members[author].Party)
	}
	return k, nil
}

// Command is an entry whose body has been decoded and checked on its own
// (Decode); Apply checks it against the state.
type Command struct {
	Entry *entry.Entry
	kind  *kind
	body  any
}

// Kind is the entry kind.
func (c *Command) Kind() string { return c.Entry.Payload.Kind }

// Decode checks an entry's kind and body without looking at the state, so
// that it can run concurrently, off the sequencer.
func Decode(e *entry.Entry) (*Command, error) {
	k, ok := kinds[e.Payload.Kind]
	if !ok {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payload.kind", "unknown kind %q", e.Payload.Kind)
	}
	if e.Blind() {
		return &Command{Entry: e, kind: k}, nil // checked once opened
	}
	body, err := k.decode(e.Payload.Body)
	if err != nil {
		return nil, err
	}
	return &Command{Entry: e, kind: k, body: body}, nil
}

// DecodeLeaf decodes the leaf at index into its logged time and command.
func DecodeLeaf(leaf []byte, index int64) (time.Time, *Command, error) {
	logged, e, err := entry.DecodeLeaf(leaf, index)
	if err != nil {
		return time.Time{}, nil, err
	}
	cmd, err := Decode(e)
	if err != nil {
		return time.Time{}, nil, err
	}
	return logged, cmd, nil
}

// Ref names a record.
type Ref = truce.Ref

// Applied is what one entry did to the projections: the records it
// touched (render them with Record) and the history rows it wrote.
type Applied struct {
	Kind    string
	Ref     Ref // the record the entry is about
	Touched []Ref
	History []truce.HistoryItem
}

// applyCtx is what a kind's apply sees.
type applyCtx struct {
	index   int64
	logged  time.Time
	author  *truce.Member // nil for system entries before members exist
	entry   *entry.Entry
	touched []Ref
}

func (c *applyCtx) touch(typ, id string) { c.touched = append(c.touched, Ref{Type: typ, ID: id}) }

// Apply checks c as the entry at index, sequenced at logged, and applies
// it. On error the state is unchanged. The caller has verified the
// envelope's signature with the key SigningKey returned.
func (s *State) Apply(c *Command, index int64, logged time.Time) (*Applied, error) {
	if c.Blind() {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "sealed", "a sealed entry is applied with its opening: the content and salt behind its commitment")
	}
	ctx, custodial, err := s.admit(c, index, logged)
	if err != nil {
		return nil, err
	}
	if s.version.Strict && custodial && (c.Kind() == KindKeyAdded || c.Kind() == KindKeyApproved) {
		return nil, truce.Errorf(truce.CodeForbidden, "a key the server holds signs a member's work, not the member's keys: sign %s with your own", c.Kind())
	}
	if err := s.CheckSealing(c); err != nil {
		return nil, err
	}
	if err := c.kind.apply(s, ctx, c.body); err != nil {
		return nil, err
	}
	out := s.commit(ctx, c)
	for i := range out.History {
		out.History[i].Custodial = custodial
	}
	return out, nil
}

// admit checks what every entry must be, whatever its body says: next in
// the log, of this log, by a member with an active key whose role may sign
// the kind, at the author's next seq, signed at a time the rules accept.
func (s *State) admit(c *Command, index int64, logged time.Time) (ctx *applyCtx, custodial bool, err error) {
	p := &c.Entry.Payload
	if index != s.Size {
		return nil, false, fmt.Errorf("entry %d applied to a state of size %d", index, s.Size)
	}
	if logged.Before(s.Logged) {
		return nil, false, fmt.Errorf("entry %d logged at %s, before the previous entry (%s)", index, logged, s.Logged)
	}
	if s.Instance == nil && p.Kind != KindInstanceCreated {
		return nil, false, truce.Errorf(truce.CodeInvalid, "the log must start with %s", KindInstanceCreated)
	}
	if s.Instance != nil && p.Origin != s.Instance.Origin {
		return nil, false, truce.FieldErrorf(truce.CodeWrongOrigin, "payload.origin", "entry is for log %q, this is %q", p.Origin, s.Instance.Origin)
	}
	ctx = &applyCtx{index: index, logged: logged, entry: c.Entry}
	if s.Instance != nil {
		k, err := s.activeKey(p.Author, c.Entry.KeyID(), index)
		if err != nil {
			return nil, false, err
		}
		custodial = k.custodial
		ctx.author = s.members[p.Author]
		if !c.kind.allows(ctx.author.Role) {
			return nil, false, truce.Errorf(truce.CodeForbidden, "a %s may not sign %s", ctx.author.Role, p.Kind)
		}
	}
	if last := s.seqs[p.Author]; p.Seq <= last {
		return nil, false, truce.FieldErrorf(truce.CodeReusedSeq, "payload.seq", "seq %d is not above %s's last seq %d", p.Seq, p.Author, last)
	}
	if p.Time.After(logged.Add(MaxSkew)) {
		return nil, false, truce.FieldErrorf(truce.CodeBadTime, "payload.time", "signed at %s, which is in the future", p.Time.UTC().Format(time.RFC3339))
	}
	if s.version.Strict {
		if err := s.strict(c.Entry, logged); err != nil {
			return nil, false, err
		}
	}
	return ctx, custodial, nil
}

// commit counts an admitted entry in and records what it touched.
func (s *State) commit(ctx *applyCtx, c *Command) *Applied {
	p := &c.Entry.Payload
	s.Size++
	s.Logged = ctx.logged
	s.seqs[p.Author] = p.Seq
	if ctx.author != nil && ctx.author.Role != truce.RoleSystem {
		s.founded = true
	}
	out := &Applied{Kind: p.Kind}
	if len(ctx.touched) > 0 {
		out.Ref = ctx.touched[0]
	}
	for _, ref := range ctx.touched {
		if slices.Contains(out.Touched, ref) {
			continue
		}
		s.updated[ref] = ctx.index
		if _, ok := s.created[ref]; !ok {
			s.created[ref] = ctx.index
		}
		out.Touched = append(out.Touched, ref)
		out.History = append(out.History, truce.HistoryItem{
			Type: ref.Type, ID: ref.ID, Index: ctx.index, Kind: p.Kind, Author: p.Author,
			Logged: ctx.logged.UTC().Format(time.RFC3339Nano),
		})
	}
	return out
}

// Records returns every record of the state, for replay comparisons,
// ordered by type and id.
func (s *State) Records() ([]truce.Record, error) {
	refs := make([]Ref, 0, len(s.created))
	for ref := range s.created {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, func(a, b Ref) int { return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID)) })
	out := make([]truce.Record, 0, len(refs))
	for _, ref := range refs {
		r, err := s.Record(ref)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// visibility says who may read a record, and which party owns it: what the
// parties share is Parties, the agreement and what follows from findings in
// effect is Public, the mechanism's own work is Internal.
func (s *State) visibility(ref Ref) (truce.Visibility, string) {
	switch ref.Type {
	case TypeMember, TypeSource, TypeStory, TypeOutlet:
		return truce.Parties, ""
	case TypeAllegation:
		a := s.allegations[ref.ID]
		return a.Visibility, s.partyOf(a.FilingParty)
	case TypeCase:
		c := s.cases[ref.ID]
		return s.allegations[c.Allegation].Visibility, s.partyOf(c.Filer)
	case TypeTask:
		return truce.Internal, ""
	case TypeEvidence:
		e := s.evidence[ref.ID]
		return e.Visibility, s.partyOf(s.members[e.RegisteredBy].Party)
	case TypeFinding:
		if s.findings[ref.ID].Status != truce.FindingInEffect {
			return truce.Internal, "" // the mediators' deliberation
		}
	}
	return truce.Public, ""
}

// Record renders a record as it stands. What each type puts in the
// generic filter slots is decided here and nowhere else.
func (s *State) Record(ref Ref) (truce.Record, error) {
	r := truce.Record{Type: ref.Type, ID: ref.ID, Created: s.created[ref], Updated: s.updated[ref]}
	r.Visibility, r.Owner = s.visibility(ref)
	var doc any
	span := func(from time.Time, to *time.Time) {
		r.From, r.To = from.Unix(), from.Unix()
		if to != nil {
			r.To = to.Unix()
		}
	}
	switch ref.Type {
	case TypeInstance:
		// The version in force is shown once a log has moved from the one
		// it began under; until then the record is the instance's entry.
		inForce := s.Rules
		if inForce == max(s.Instance.Rules, 1) {
			inForce = 0
		}
		doc = struct {
			*Instance
			InForce int `json:"rules_in_force,omitempty"`
		}{s.Instance, inForce}
	case TypeAgreement:
		doc = s.Agreement
	case TypeMember:
		m := s.members[ref.ID]
		doc, r.Party, r.Status = m, m.Party, string(m.Role)
	case TypeAllegation:
		a := s.allegations[ref.ID]
		doc = a
		r.Party, r.Against, r.Category, r.Status, r.Member, r.Parent = a.FilingParty, a.Accused, a.Category, a.Status, a.FiledBy, a.Case
		span(a.Occurred.From, a.Occurred.To)
		lat, lon := a.Place.Lat, a.Place.Lon
		r.Lat, r.Lon = &lat, &lon
	case TypeCase:
		c := s.cases[ref.ID]
		doc = c
		r.Party, r.Against, r.Status, r.Member, r.Parent = c.Filer, c.Accused, c.Status, c.OpenedBy, c.Allegation
		span(c.Opened, &c.Verification.Due)
	case TypeTask:
		t := s.tasks[ref.ID]
		doc = t
		r.Category, r.Status, r.Member, r.Parent = t.Type, t.Status, t.Assignee, t.Case
		span(t.Assigned, &t.Deadline.Due)
	case TypeEvidence:
		e := s.evidence[ref.ID]
		doc = e
		r.Category, r.Member, r.Parent = e.MediaType, e.RegisteredBy, cmp.Or(e.Case, e.Allegation)
		span(e.CapturedAt, nil)
	case TypeFinding:
		f := s.findings[ref.ID]
		doc = f
		r.Against, r.Category, r.Status, r.Member, r.Parent = f.Responsible, f.Determination, f.Status, f.ProposedBy, f.Case
		span(f.Proposed, f.Effective)
	case TypeConsequence:
		q := s.consequences[ref.ID]
		doc = q
		r.Against, r.Category, r.Status, r.Parent = q.Target, q.Action, q.Status, q.Finding
		span(q.Created, &q.Deadline.Due)
	case TypeCommitment:
		c := s.commitments[ref.ID]
		doc = c
		r.Party, r.Status, r.Parent = c.Owner, c.Status, c.Round
		span(c.Due, nil)
	case TypeAmendment:
		a := s.amendments[ref.ID]
		doc = a
		r.Status, r.Member = a.Status, a.ProposedBy
		span(a.Proposed, a.Effective)
	case TypeSource:
		src := s.reports[ref.ID]
		doc = src
		r.Category, r.Status, r.Member, r.Parent = OutletID(src.Outlet), "original", src.IngestedBy, src.Story
		if src.CopyOf != "" {
			r.Status = "copy"
		}
		span(src.Published, nil)
	case TypeStory:
		st := s.stories[ref.ID]
		doc = st
		r.Status = "consistent"
		switch {
		case len(st.Sources) == 0:
			r.Status = "empty" // its sources were moved to other stories
		case len(st.Discrepancies) > 0:
			r.Status = "disputed"
		}
		span(st.First, &st.Last)
	case TypeOutlet:
		o := s.outlets[ref.ID]
		doc = o
		r.Category = o.Reliability
	case TypeReport:
		p := s.sitreps[ref.ID]
		doc = p
		r.Member = p.PublishedBy
		span(p.From, &p.To)
	default:
		return r, fmt.Errorf("unknown record type %q", ref.Type)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return r, err
	}
	r.Doc = b
	return r, nil
}

// Finding returns a copy of a finding.
func (s *State) Finding(id string) (truce.Finding, bool) { return copyOf(s.findings, id) }

// Consequence returns a copy of a consequence.
func (s *State) Consequence(id string) (truce.Consequence, bool) { return copyOf(s.consequences, id) }

// copyOf returns a copy of the record m holds under id. The copy shares
// its slices with the state: readers must not change them.
func copyOf[T any](m map[string]*T, id string) (T, bool) {
	if p, ok := m[id]; ok {
		return *p, true
	}
	var zero T
	return zero, false
}

// partyOf returns code if it is a party to the agreement, else "".
func (s *State) partyOf(code string) string {
	if _, ok := s.Agreement.Party(code); ok {
		return code
	}
	return ""
}
