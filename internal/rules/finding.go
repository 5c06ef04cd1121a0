package rules

import (
	"fmt"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
)

// Entry kinds of findings and their consequences.
const (
	KindFindingProposed      = "finding.proposed"
	KindFindingSigned        = "finding.signed"
	KindFindingObjected      = "finding.objected"
	KindConsequenceFulfilled = "consequence.fulfilled"
	KindConsequenceWaived    = "consequence.waived"
)

var (
	determinations = []string{truce.DeterminationViolation, truce.DeterminationNotConfirmed, truce.DeterminationNoViolation, truce.DeterminationNonParty}
	severities     = []string{truce.SeverityMinor, truce.SeveritySerious, truce.SeverityGrave}
	confidences    = []string{"low", "medium", "high"}
	hostDuties     = []string{truce.HostFailedToPrevent, truce.HostNotResponsible, truce.HostUndetermined}
)

func checkFinding(f *truce.FindingProposal) error {
	if !slices.Contains(determinations, f.Determination) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.determination", "must be one of %v", determinations)
	}
	if !slices.Contains(confidences, f.Confidence) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.confidence", "must be low, medium or high")
	}
	switch f.Determination {
	case truce.DeterminationViolation, truce.DeterminationNonParty:
		if !slices.Contains(severities, f.Severity) {
			return truce.FieldErrorf(truce.CodeInvalid, "body.severity", "a violation is minor, serious or grave")
		}
		if len(f.Clauses) == 0 {
			return truce.FieldErrorf(truce.CodeInvalid, "body.clauses", "name the clauses breached")
		}
	default:
		if f.Severity != "" || len(f.Clauses) > 0 || f.Responsible != "" || f.Group != "" || f.HostResponsibility != "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body", "a finding of %s names no responsible party, group, severity or clauses", f.Determination)
		}
	}
	switch f.Determination {
	case truce.DeterminationViolation:
		if f.Responsible == "" || f.Group != "" || f.HostResponsibility != "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body.responsible", "a violation by a party names the responsible party, and no group")
		}
	case truce.DeterminationNonParty:
		if err := text("body.group", f.Group, 100, true); err != nil {
			return err
		}
		if !slices.Contains(hostDuties, f.HostResponsibility) {
			return truce.FieldErrorf(truce.CodeInvalid, "body.host_responsibility", "must be one of %v", hostDuties)
		}
		if (f.HostResponsibility == truce.HostFailedToPrevent) != (f.Responsible != "") {
			return truce.FieldErrorf(truce.CodeInvalid, "body.responsible", "name the host party as responsible exactly when it failed to prevent the act")
		}
	}
	if err := text("body.reasoning", f.Reasoning, 20000, true); err != nil {
		return err
	}
	return checkRefs("body.evidence", f.Evidence)
}

func applyFinding(s *State, c *applyCtx, body any) error {
	p := body.(*truce.FindingProposal)
	cs, err := s.openCase("body.case", p.Case)
	if err != nil {
		return err
	}
	for _, id := range cs.Findings {
		if s.findings[id].Status == truce.FindingProposed {
			return truce.Errorf(truce.CodeConflict, "case %s already has finding %s awaiting signatures", cs.ID, id)
		}
	}
	if p.Responsible != "" {
		if _, ok := s.Agreement.Party(p.Responsible); !ok {
			return truce.FieldErrorf(truce.CodeInvalid, "body.responsible", "%q is not a party to the agreement", p.Responsible)
		}
	}
	for i, id := range p.Clauses {
		if _, ok := s.Agreement.Clause(id); !ok {
			return truce.FieldErrorf(truce.CodeUnknownClause, fmt.Sprintf("body.clauses[%d]", i), "the agreement has no clause %q", id)
		}
	}
	if err := s.checkEvidence("body.evidence", p.Evidence); err != nil {
		return err
	}
	a := s.allegations[cs.Allegation]
	f := &truce.Finding{ID: s.next(KindFindingProposed).ID, FindingProposal: *p, Allegation: a.ID, Category: a.Category,
		ProposedBy: c.author.ID, Proposed: c.logged, Status: truce.FindingProposed, Quorum: s.Agreement.Quorum,
		Signatures: []truce.Signature{}, Exercise: s.Instance.Exercise}
	s.findings[f.ID] = f
	cs.Findings = append(cs.Findings, f.ID)
	c.touch(TypeFinding, f.ID)
	c.touch(TypeCase, cs.ID)
	return nil
}

func checkFindingSignature(f *truce.FindingSignature) error {
	return text("body.note", f.Note, 5000, !f.Concur)
}

func applyFindingSignature(s *State, c *applyCtx, body any) error {
	sig := body.(*truce.FindingSignature)
	f, ok := s.findings[sig.Finding]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.finding", "no finding %q", sig.Finding)
	}
	if err := maySign(f, c.author); err != nil {
		return err
	}
	f.Signatures = append(f.Signatures, truce.Signature{Member: c.author.ID, Mediator: c.author.Party, Concur: sig.Concur, Note: sig.Note, Index: c.index, At: c.logged})
	c.touch(TypeFinding, f.ID)
	concur, signed := 0, len(f.Signatures)
	for _, x := range f.Signatures {
		if x.Concur {
			concur++
		}
	}
	switch {
	case concur >= f.Quorum:
		s.takeEffect(c, f)
	case concur+len(s.Agreement.Mediators)-signed < f.Quorum:
		// Dissent leaves too few mediators to reach the quorum: the case
		// stays open for another proposal.
		f.Status = truce.FindingFailed
	}
	return nil
}

// takeEffect puts a finding in effect: the case closes, the allegation is
// decided, and the consequence rules run.
func (s *State) takeEffect(c *applyCtx, f *truce.Finding) {
	at := c.logged
	f.Status, f.Effective = truce.FindingInEffect, &at
	cs := s.cases[f.Case]
	cs.Status = truce.CaseClosed
	cs.Verification.Met = true
	a := s.allegations[f.Allegation]
	a.Status, a.Finding = truce.AllegationDecided, f.ID
	c.touch(TypeCase, cs.ID)
	c.touch(TypeAllegation, a.ID)
	s.history = append(s.history, celFinding(f, a.FilingParty, a.Accused))
	for _, r := range s.consequencesOf(f) {
		s.nConsequence++
		q := &truce.Consequence{ID: fmt.Sprintf("CQ-%04d", s.nConsequence), Finding: f.ID, Rule: r.ID, Title: r.Title,
			Action: r.Action, Target: s.target(r.Target, f), Text: r.Text, Created: at,
			Deadline: truce.Deadline{Due: at.Add(time.Duration(r.Deadline))}, Status: truce.ConsequenceOpen, Exercise: s.Instance.Exercise}
		s.consequences[q.ID] = q
		s.schedule(DueConsequence, q.ID, q.Deadline.Due)
		f.Consequences = append(f.Consequences, q.ID)
		c.touch(TypeConsequence, q.ID)
	}
}

// target resolves a rule's target for a finding.
func (s *State) target(t string, f *truce.Finding) string {
	if t == TargetResponsible {
		if f.Responsible != "" {
			return f.Responsible
		}
		return TargetMediators
	}
	return t
}

// Rule targets besides party codes.
const (
	TargetResponsible = "responsible"
	TargetMediators   = "mediators"
	TargetGuarantors  = "guarantors"
)

func checkObjection(o *truce.FindingObjection) error {
	return text("body.grounds", o.Grounds, 20000, true)
}

func applyObjection(s *State, c *applyCtx, body any) error {
	o := body.(*truce.FindingObjection)
	f, ok := s.findings[o.Finding]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.finding", "no finding %q", o.Finding)
	}
	if err := mayObject(f, c.author); err != nil {
		return err
	}
	f.Objections = append(f.Objections, truce.Objection{Party: c.author.Party, Member: c.author.ID, Grounds: o.Grounds, Index: c.index, At: c.logged})
	c.touch(TypeFinding, f.ID)
	return nil
}

func checkConsequenceDecision(d *truce.ConsequenceDecision) error {
	return text("body.note", d.Note, 5000, false)
}

// applyConsequence returns the apply of consequence.fulfilled (waive
// false) or consequence.waived.
func applyConsequence(waive bool) func(*State, *applyCtx, any) error {
	return func(s *State, c *applyCtx, body any) error {
		d := body.(*truce.ConsequenceDecision)
		q, ok := s.consequences[d.Consequence]
		if !ok {
			return truce.FieldErrorf(truce.CodeNotFound, "body.consequence", "no consequence %q", d.Consequence)
		}
		if err := consequenceOpen(q); err != nil {
			return err
		}
		if waive && d.Note == "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body.note", "a waiver gives its reasons")
		}
		at := c.logged
		q.Status, q.Note, q.Resolved = truce.ConsequenceFulfilled, d.Note, &at
		if waive {
			q.Status = truce.ConsequenceWaived
		}
		q.Deadline.Met = true
		c.touch(TypeConsequence, q.ID)
		return nil
	}
}
