package rules

import (
	"errors"
	"fmt"
	"slices"

	"github.com/truce-mvm/truce"
)

// Entry kinds of the agreement's life.
const (
	KindAmendmentProposed = "amendment.proposed"
	KindAmendmentSigned   = "amendment.signed"
	KindCommitmentUpdated = "commitment.updated"
)

// setAgreement puts an agreement in force: its rules are compiled and its
// commitments tracked.
func (s *State) setAgreement(c *applyCtx, a *truce.Agreement) error {
	programs, err := s.compileRules(a)
	if err != nil {
		return err
	}
	s.Agreement, s.programs, s.agreementIndex = a, programs, c.index
	c.touch(TypeAgreement, "current")
	for _, round := range a.Talks {
		for _, cm := range round.Commitments {
			rec, ok := s.commitments[cm.ID]
			if !ok {
				rec = &truce.CommitmentRecord{Status: truce.CommitmentOpen}
				s.commitments[cm.ID] = rec
			}
			if ok && sameCommitment(rec.Commitment, cm) && rec.Round == round.ID {
				continue
			}
			rec.Commitment, rec.Round = cm, round.ID
			if !rec.Deadline.Due.Equal(cm.Due) {
				rec.Deadline = truce.Deadline{Due: cm.Due, Met: rec.Status == truce.CommitmentDone}
				s.schedule(DueCommitment, cm.ID, cm.Due)
			}
			c.touch(TypeCommitment, cm.ID)
		}
	}
	return nil
}

func applyAgreement(s *State, c *applyCtx, body any) error {
	if s.Agreement != nil {
		return truce.Errorf(truce.CodeConflict, "an agreement is already in force; amend it instead")
	}
	a := *body.(*truce.Agreement)
	a.Version = 1
	return s.setAgreement(c, &a)
}

// --- amendment.proposed / amendment.signed

func checkAmendment(p *truce.AmendmentProposal) error {
	if err := text("body.summary", p.Summary, 5000, true); err != nil {
		return err
	}
	return prefixField("body.agreement.", validateAgreement(&p.Agreement, 0))
}

// compileRules compiles an agreement's consequence rules against the CEL
// library of the rules version in force.
func (s *State) compileRules(a *truce.Agreement) ([]celProgram, error) {
	programs := make([]celProgram, len(a.Rules))
	for i, r := range a.Rules {
		p, err := compileRule(s.version.CEL, r.When)
		if err != nil {
			return nil, truce.FieldErrorf(truce.CodeInvalid, fmt.Sprintf("rules[%d].when", i), "%v", err)
		}
		programs[i] = p
	}
	return programs, nil
}

// prefixField puts a prefix on a coded error's field.
func prefixField(prefix string, err error) error {
	var e *truce.Error
	if errors.As(err, &e) && e.Field != "" {
		return truce.FieldErrorf(e.Code, prefix+e.Field, "%s", e.Message)
	}
	return err
}

// signatories are the codes whose signatures an amendment needs: every
// party and every mediator of the agreement in force.
func (s *State) signatories() []string {
	var out []string
	for _, a := range s.Agreement.Parties {
		out = append(out, a.Code)
	}
	for _, a := range s.Agreement.Mediators {
		out = append(out, a.Code)
	}
	slices.Sort(out)
	return out
}

func applyAmendmentProposal(s *State, c *applyCtx, body any) error {
	p := body.(*truce.AmendmentProposal)
	if _, err := s.compileRules(&p.Agreement); err != nil {
		return prefixField("body.agreement.", err)
	}
	needed := s.signatories()
	if !slices.Contains(needed, c.author.Party) {
		return truce.Errorf(truce.CodeForbidden, "%s does not sign this agreement", c.author.Party)
	}
	s.nAmendment++
	am := &truce.Amendment{ID: fmt.Sprintf("AM-%04d", s.nAmendment), Summary: p.Summary, ProposedBy: c.author.ID, Proposed: c.logged,
		Base: s.Agreement.Version, Agreement: p.Agreement, SignedBy: map[string]string{c.author.Party: c.author.ID},
		Needed: needed, Status: truce.AmendmentProposed}
	s.amendments[am.ID] = am
	c.touch(TypeAmendment, am.ID)
	return s.maybeAmend(c, am)
}

func applyAmendmentSignature(s *State, c *applyCtx, body any) error {
	sig := body.(*truce.AmendmentSignature)
	am, ok := s.amendments[sig.Amendment]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.amendment", "no amendment %q", sig.Amendment)
	}
	if am.Status != truce.AmendmentProposed {
		return truce.Errorf(truce.CodeConflict, "%s is %s", am.ID, am.Status)
	}
	if !slices.Contains(am.Needed, c.author.Party) {
		return truce.Errorf(truce.CodeForbidden, "%s does not sign this agreement", c.author.Party)
	}
	if who, done := am.SignedBy[c.author.Party]; done {
		return truce.Errorf(truce.CodeConflict, "%s has already signed %s (by %s)", c.author.Party, am.ID, who)
	}
	am.SignedBy[c.author.Party] = c.author.ID
	c.touch(TypeAmendment, am.ID)
	return s.maybeAmend(c, am)
}

// maybeAmend puts an amendment in force once every signatory has signed;
// other proposals on the same version then lapse.
func (s *State) maybeAmend(c *applyCtx, am *truce.Amendment) error {
	if len(am.SignedBy) < len(am.Needed) {
		return nil
	}
	a := am.Agreement
	a.Version = am.Base + 1
	if err := s.setAgreement(c, &a); err != nil {
		return err
	}
	at := c.logged
	am.Status, am.Effective = truce.AmendmentInEffect, &at
	for _, id := range sortedKeys(s.amendments) {
		if other := s.amendments[id]; other.Status == truce.AmendmentProposed {
			other.Status = truce.AmendmentLapsed
			c.touch(TypeAmendment, id)
		}
	}
	return nil
}

// --- commitment.updated

func checkCommitmentUpdate(u *truce.CommitmentUpdate) error {
	if u.Status != truce.CommitmentOpen && u.Status != truce.CommitmentDone {
		return truce.FieldErrorf(truce.CodeInvalid, "body.status", "must be open or done")
	}
	return text("body.note", u.Note, 5000, false)
}

func applyCommitmentUpdate(s *State, c *applyCtx, body any) error {
	u := body.(*truce.CommitmentUpdate)
	cm, ok := s.commitments[u.Commitment]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.commitment", "no commitment %q", u.Commitment)
	}
	if cm.Status == u.Status {
		return truce.Errorf(truce.CodeConflict, "%s is already %s", cm.ID, cm.Status)
	}
	cm.Status, cm.Note = u.Status, u.Note
	cm.Deadline.Met = u.Status == truce.CommitmentDone
	if u.Status == truce.CommitmentOpen && !cm.Deadline.Overdue {
		s.schedule(DueCommitment, cm.ID, cm.Deadline.Due)
	}
	c.touch(TypeCommitment, cm.ID)
	return nil
}

func sameCommitment(a, b truce.Commitment) bool {
	return a.ID == b.ID && a.Text == b.Text && a.Owner == b.Owner && a.Due.Equal(b.Due)
}
