package rules

import (
	"slices"

	"github.com/truce-mvm/truce"
)

// Offers lists the kinds m may log about rec (a *truce.Allegation, Case,
// Task, Finding or Consequence) as the record stands: m's role may sign
// the kind, and the record-level conditions of the kind's apply hold —
// checked by the same functions apply calls, so that the pages offer no
// action the rules would refuse for the record's state. The body's own
// checks, and conditions on other records, still apply when the entry is
// submitted.
func Offers(m truce.Member, rec any) []string {
	var out []string
	may := func(kind string, err error) {
		if err == nil && kinds[kind].allows(m.Role) {
			out = append(out, kind)
		}
	}
	switch r := rec.(type) {
	case *truce.Allegation:
		may(KindReplyFiled, mayReply(r, &m))
		may(KindAllegationAdmitted, awaitsAdmission(r))
		may(KindAllegationRejected, awaitsAdmission(r))
		may(KindCaseOpened, mayOpenCase(r))
	case *truce.Case:
		may(KindTaskAssigned, caseOpen(r))
		may(KindFindingProposed, caseOpen(r))
		may(KindEvidenceRegistered, caseOpen(r))
	case *truce.Task:
		may(KindTaskCompleted, mayComplete(r, &m))
	case *truce.Finding:
		may(KindFindingSigned, maySign(r, &m))
		may(KindFindingObjected, mayObject(r, &m))
	case *truce.Consequence:
		may(KindConsequenceFulfilled, consequenceOpen(r))
		may(KindConsequenceWaived, consequenceOpen(r))
	}
	return out
}

// allegationOpen: an allegation is dealt with until it is rejected or
// decided.
func allegationOpen(a *truce.Allegation) error {
	switch a.Status {
	case truce.AllegationRejected:
		return truce.Errorf(truce.CodeConflict, "%s was rejected", a.ID)
	case truce.AllegationDecided:
		return truce.Errorf(truce.CodeConflict, "%s is decided: its case is closed", a.ID)
	}
	return nil
}

// mayReply: only the accused party replies, once, while the allegation is
// open.
func mayReply(a *truce.Allegation, author *truce.Member) error {
	if err := allegationOpen(a); err != nil {
		return err
	}
	if a.Accused == "" || author.Party != a.Accused {
		return truce.Errorf(truce.CodeForbidden, "only the accused party (%s) replies to %s", orNone(a.Accused), a.ID)
	}
	if a.Reply != nil {
		return truce.Errorf(truce.CodeConflict, "%s was already answered at log index %d", a.ID, a.Reply.Index)
	}
	return nil
}

// awaitsAdmission: mediators admit or reject a filed allegation once.
func awaitsAdmission(a *truce.Allegation) error {
	if a.Status != truce.AllegationFiled {
		return truce.Errorf(truce.CodeConflict, "%s was already %s", a.ID, a.Status)
	}
	return nil
}

// mayOpenCase: a case is opened on an admitted allegation.
func mayOpenCase(a *truce.Allegation) error {
	if a.Status != truce.AllegationAdmitted {
		return truce.Errorf(truce.CodeConflict, "a case is opened on an admitted allegation; %s is %s", a.ID, a.Status)
	}
	return nil
}

// caseOpen: tasks and findings are for a case still under verification.
func caseOpen(cs *truce.Case) error {
	if cs.Status != truce.CaseOpen {
		return truce.Errorf(truce.CodeConflict, "case %s is closed", cs.ID)
	}
	return nil
}

// mayComplete: the assignee completes an assigned task, once.
func mayComplete(t *truce.Task, author *truce.Member) error {
	if author.ID != t.Assignee {
		return truce.Errorf(truce.CodeForbidden, "%s is assigned to %s", t.ID, t.Assignee)
	}
	if t.Status != truce.TaskAssigned {
		return truce.Errorf(truce.CodeConflict, "%s is already done", t.ID)
	}
	return nil
}

// maySign: each mediator signs a proposed finding once.
func maySign(f *truce.Finding, author *truce.Member) error {
	if f.Status != truce.FindingProposed {
		return truce.Errorf(truce.CodeConflict, "%s is %s: it takes no more signatures", f.ID, f.Status)
	}
	if i := slices.IndexFunc(f.Signatures, func(s truce.Signature) bool { return s.Mediator == author.Party }); i >= 0 {
		return truce.Errorf(truce.CodeConflict, "%s has already signed %s (by %s)", author.Party, f.ID, f.Signatures[i].Member)
	}
	return nil
}

// mayObject: each party objects once to a finding in effect.
func mayObject(f *truce.Finding, author *truce.Member) error {
	if f.Status != truce.FindingInEffect {
		return truce.Errorf(truce.CodeConflict, "objections are lodged against findings in effect; %s is %s", f.ID, f.Status)
	}
	if slices.ContainsFunc(f.Objections, func(o truce.Objection) bool { return o.Party == author.Party }) {
		return truce.Errorf(truce.CodeConflict, "%s has already objected to %s", author.Party, f.ID)
	}
	return nil
}

// consequenceOpen: a consequence is fulfilled or waived once.
func consequenceOpen(q *truce.Consequence) error {
	if q.Status != truce.ConsequenceOpen && q.Status != truce.ConsequenceEscalated {
		return truce.Errorf(truce.CodeConflict, "%s is already %s", q.ID, q.Status)
	}
	return nil
}
