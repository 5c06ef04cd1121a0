package rules

import (
	"fmt"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
)

// Confidential entries. Under rules that seal (Version.Sealing), an entry
// about a record kept within the mechanism — one it creates with
// visibility mechanism, one it acts on or builds on that is, and every
// task and every finding not yet in effect — enters the log sealed: the
// payload carries a salted commitment to the body and, in clear, the
// records the body names; the body is kept beside the log. Every other
// entry must be in clear, so that nothing the parties share is hidden from
// them.

// Confidential reports whether c must be sealed: whether the record it
// creates, or any record it names, is kept within the mechanism. see gives
// the visibility of an existing record (false if there is none); clients
// that decide for themselves pass one that asks the server.
func Confidential(c *Command, see func(Ref) (truce.Visibility, bool)) bool {
	if alwaysSealed[c.Kind()] {
		return true
	}
	switch b := c.body.(type) {
	case *truce.AllegationFiling:
		if b.Visibility == truce.Internal {
			return true
		}
	case *truce.EvidenceRegistration:
		if b.Visibility == "" || b.Visibility == truce.Internal {
			return true
		}
	}
	for _, n := range Refs(c) {
		if v, ok := see(n.Ref); ok && v == truce.Internal {
			return true
		}
	}
	return false
}

// alwaysSealed are the kinds sealed whatever they say: tasks are the
// mechanism's own; a finding is its deliberation until it takes effect,
// when its entries are disclosed with it. chosenSealed are sealed when
// their body keeps the record within the mechanism.
var (
	alwaysSealed = map[string]bool{KindTaskAssigned: true, KindTaskCompleted: true, KindFindingProposed: true, KindFindingSigned: true}
	chosenSealed = map[string]bool{KindAllegationFiled: true, KindEvidenceRegistered: true}
)

// Seals reports whether rules version n seals confidential entries.
func Seals(n int) bool { return versions[n].Sealing }

// Events reports whether rules version n reads reports by their events:
// days named by their weekday alone and readings that revise others are
// its, and refused before it.
func Events(n int) bool { return versions[n].Events }

// Seals reports whether c, applied next, must be sealed under the rules
// in force.
func (s *State) Seals(c *Command) bool {
	return s.version.Sealing && Confidential(c, s.Visibility)
}

// Keeper is the record whose readers may read an opening kept with c,
// which touched the records given (Applied.Touched): for a sealed body,
// the record the entry is about — for a link, the record kept within the
// mechanism it links to, not the source the parties read; for a sealed
// field, the record that carries the field.
func (s *State) Keeper(c *Command, touched []Ref, body bool) Ref {
	if body && c.Kind() == KindSourceLinked {
		for _, n := range Refs(c) {
			if v, _ := s.visibility(n.Ref); v == truce.Internal {
				return n.Ref
			}
		}
	}
	if len(touched) == 0 {
		return Ref{}
	}
	return touched[0]
}

// SealedRefs is what a sealed entry of c says in clear: the records its
// body names, in the body's order.
func SealedRefs(c *Command) []truce.Ref {
	var out []truce.Ref
	for _, n := range Refs(c) {
		out = append(out, n.Ref)
	}
	return out
}

// Blind reports whether c is a sealed entry whose body is not at hand: it
// can be checked for who signed it, when and in what order, but not
// applied.
func (c *Command) Blind() bool { return c.Entry.Blind() }

// CheckSealing checks that c is sealed exactly when it must be, and that
// what a sealed entry says in clear is what its body names. Its errors
// name the field payload.sealed.
func (s *State) CheckSealing(c *Command) error {
	sealed := c.Entry.Payload.Sealed
	if !s.version.Sealing {
		if sealed != nil {
			return s.unsealable()
		}
		return nil
	}
	must := s.Seals(c)
	switch {
	case must && sealed == nil:
		return truce.FieldErrorf(truce.CodeInvalid, "payload.sealed",
			"a %s entry about a record kept within the mechanism must be sealed: sign a commitment to its body, not the body", c.Kind())
	case !must && sealed != nil:
		return truce.FieldErrorf(truce.CodeInvalid, "payload.sealed",
			"this %s entry is about records the parties see: it must be in clear, not sealed", c.Kind())
	case sealed != nil && !slices.Equal(sealed.Refs, SealedRefs(c)):
		return truce.FieldErrorf(truce.CodeInvalid, "payload.sealed.refs", "must name the records the sealed body names, %v", SealedRefs(c))
	}
	return nil
}

// creates says which record each kind that creates one makes, and how its
// id is numbered (next): a sealed entry's record is numbered by everyone,
// with or without the body.
func (s *State) creates(kind string) (typ string, n *int, prefix string) {
	switch kind {
	case KindAllegationFiled:
		return TypeAllegation, &s.nAllegation, "AL"
	case KindCaseOpened:
		return TypeCase, &s.nCase, "CS"
	case KindTaskAssigned:
		return TypeTask, &s.nTask, "TK"
	case KindEvidenceRegistered:
		return TypeEvidence, &s.nEvidence, "EV"
	case KindFindingProposed:
		return TypeFinding, &s.nFinding, "FD"
	}
	return "", nil, ""
}

// next numbers the record an entry of kind creates: AL-0001, CS-0002, ….
func (s *State) next(kind string) Ref {
	typ, n, prefix := s.creates(kind)
	*n++
	return Ref{Type: typ, ID: fmt.Sprintf("%s-%04d", prefix, *n)}
}

// changes says which records an entry naming the records given may
// change: those it acts on, the case a task, a piece of evidence or a
// finding is added to, the allegation a case is opened on, and the case
// and allegation a finding decides when a signature puts it in effect.
func (s *State) changes(kind string, named []Ref) []Ref {
	out := slices.Clone(named)
	switch kind {
	case KindEvidenceRegistered:
		out = slices.DeleteFunc(out, func(r Ref) bool { return r.Type != TypeCase })
	case KindFindingSigned:
		for _, r := range named {
			if f := s.findings[r.ID]; r.Type == TypeFinding && f != nil {
				out = append(out, Ref{Type: TypeCase, ID: f.Case}, Ref{Type: TypeAllegation, ID: f.Allegation})
			}
		}
	}
	return out
}

// Skip takes, as the entry at index, an entry an auditor cannot apply: a
// sealed one it holds no opening for, or one the rules refused against a
// state that already misses such entries. It checks what can be checked
// without the body — origin, author and key, the author's role for the
// kind, seq and time — then numbers the record the entry creates, if any
// (a sealed one exists from then on, as a placeholder, so that entries
// naming it can be checked), and marks as tainted the records it may have
// changed: what the state says of them may be wrong. Tainted says which.
func (s *State) Skip(c *Command, index int64, logged time.Time) error {
	ctx, _, err := s.admit(c, index, logged)
	if err != nil {
		return err
	}
	var named []Ref
	if c.Blind() {
		named = c.Entry.Payload.Sealed.Refs
		if err := s.maySeal(c.Kind(), named); err != nil {
			return err
		}
	} else {
		named = SealedRefs(c)
	}
	tainted := s.changes(c.Kind(), named)
	if _, n, _ := s.creates(c.Kind()); n != nil {
		ref := s.next(c.Kind())
		tainted = append(tainted, ref)
		if c.Blind() && s.placeholder(ref, ctx, named) {
			// It exists from here on, kept within the mechanism: an entry
			// in clear about it is refused, as the live rules refuse it.
			ctx.touch(ref.Type, ref.ID)
		}
	}
	for _, r := range tainted {
		s.tainted[r] = true
	}
	s.skipped++
	s.skippedKinds[c.Kind()] = true
	s.commit(ctx, c)
	return nil
}

// maySeal refuses what no honest log holds sealed, as far as a reader
// without the body can tell: a sealed entry before sealing rules, or one
// of a kind sealed only for what it names when everything it names is
// known to be shared with the parties.
func (s *State) maySeal(kind string, named []Ref) error {
	if !s.version.Sealing {
		return s.unsealable()
	}
	if alwaysSealed[kind] || chosenSealed[kind] {
		return nil
	}
	for _, r := range named {
		if v, known := s.Visibility(r); !known || v == truce.Internal {
			return nil
		}
	}
	return truce.FieldErrorf(truce.CodeInvalid, "payload.sealed", "this sealed %s entry names only records the parties share: it must be in clear", kind)
}

// unsealable refuses a sealed entry under rules that keep every entry in
// clear.
func (s *State) unsealable() error {
	return truce.FieldErrorf(truce.CodeInvalid, "payload.sealed", "rules version %d keeps every entry in clear: sealed entries begin with version 3", s.Rules)
}

// placeholder makes a record a sealed entry created, known only by what
// the entry says in clear: its id, its author, the records it names. It
// reports whether it could (a case needs its allegation).
func (s *State) placeholder(ref Ref, c *applyCtx, named []Ref) bool {
	of := func(typ string) string {
		for _, r := range named {
			if r.Type == typ {
				return r.ID
			}
		}
		return ""
	}
	author := c.author.ID
	switch ref.Type {
	case TypeAllegation:
		s.allegations[ref.ID] = &truce.Allegation{ID: ref.ID, AllegationFiling: truce.AllegationFiling{Visibility: truce.Internal},
			FiledBy: author, FilingParty: c.author.Party, Filed: c.logged, Index: c.index, Status: truce.AllegationFiled}
	case TypeCase:
		a := s.allegations[of(TypeAllegation)]
		if a == nil {
			return false
		}
		s.cases[ref.ID] = &truce.Case{ID: ref.ID, Allegation: a.ID, OpenedBy: author, Opened: c.logged, Status: truce.CaseOpen,
			Filer: a.FilingParty, Accused: a.Accused}
	case TypeTask:
		s.tasks[ref.ID] = &truce.Task{ID: ref.ID, TaskAssignment: truce.TaskAssignment{Case: of(TypeCase)}, AssignedBy: author, Status: truce.TaskAssigned}
	case TypeEvidence:
		s.evidence[ref.ID] = &truce.Evidence{ID: ref.ID, EvidenceRegistration: truce.EvidenceRegistration{Visibility: truce.Internal, Case: of(TypeCase)},
			RegisteredBy: author, Registered: c.logged}
	case TypeFinding:
		cs := s.cases[of(TypeCase)]
		if cs == nil {
			return false
		}
		s.findings[ref.ID] = &truce.Finding{ID: ref.ID, FindingProposal: truce.FindingProposal{Case: cs.ID}, Allegation: cs.Allegation,
			ProposedBy: author, Proposed: c.logged, Status: truce.FindingProposed, Quorum: s.Agreement.Quorum, Signatures: []truce.Signature{}}
	}
	s.placeholders[ref] = true
	return true
}

// Placeholder reports whether a record is known only by the sealed entry
// that made it (Skip): the rules cannot be applied to it.
func (s *State) Placeholder(r Ref) bool { return s.placeholders[r] }

// SkippedKind reports whether an entry of the kind was skipped: a skipped
// finding.signed may have put a finding in effect, and made consequences
// this state does not hold.
func (s *State) SkippedKind(kind string) bool { return s.skippedKinds[kind] }

// Visibility is who may read a record the log holds and which party owns
// it; false if the log holds no such record.
func (s *State) Visibility(r Ref) (truce.Visibility, bool) {
	if _, ok := s.created[r]; !ok {
		return "", false
	}
	v, _ := s.visibility(r)
	return v, true
}

// Tainted reports whether what the state says of a record may be wrong,
// because an entry that may have changed it was skipped (Skip).
func (s *State) Tainted(r Ref) bool { return s.tainted[r] }

// Skipped is how many entries were skipped.
func (s *State) Skipped() int64 { return s.skipped }
