package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
)

// Stages build a world up to a point of the workflow; each returns the
// world with allegation AL-0001 (PK against AF) at that point.
type stage func(w *world)

func filed(w *world) { w.must("pk", KindAllegationFiled, filing("AF")) }

func replied(w *world) {
	filed(w)
	w.must("af", KindReplyFiled, truce.Reply{Allegation: "AL-0001", Response: truce.ReplyDeny, Narrative: "No."})
}

func admitted(w *world) {
	replied(w)
	w.must("tr", KindAllegationAdmitted, truce.Admission{Allegation: "AL-0001"})
}

func rejected(w *world) {
	filed(w)
	w.must("tr", KindAllegationRejected, truce.Rejection{Allegation: "AL-0001", Grounds: truce.RejectUnfounded, Note: "Nothing to verify."})
}

func inCase(w *world) {
	admitted(w)
	w.must("tr", KindCaseOpened, truce.CaseOpening{Allegation: "AL-0001", Title: "Case"})
}

func withTask(w *world) {
	inCase(w)
	w.must("tr", KindTaskAssigned, truce.TaskAssignment{Case: "CS-0001", Type: truce.TaskSiteVisit, Assignee: "mon", Due: w.clock.Add(48 * time.Hour), Description: "Go."})
}

func withEvidence(w *world) {
	withTask(w)
	w.must("mon", KindEvidenceRegistered, evidence("one"))
}

func evidence(name string) truce.EvidenceRegistration {
	sum := sha256.Sum256([]byte(name))
	return truce.EvidenceRegistration{SHA256: hex.EncodeToString(sum[:]), MediaType: "image/jpeg", Size: 10, CapturedBy: "Team 1",
		CapturedAt: t0, Description: "Photo.", Case: "CS-0001"}
}

func violation() truce.FindingProposal {
	return truce.FindingProposal{Case: "CS-0001", Determination: truce.DeterminationViolation, Responsible: "AF",
		Clauses: []string{"no-fire"}, Severity: truce.SeveritySerious, Confidence: "high", Reasoning: "Established."}
}

func proposed(w *world) {
	withEvidence(w)
	w.must("tr", KindFindingProposed, violation())
}

func inEffect(w *world) {
	proposed(w)
	w.must("tr", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001", Concur: true})
	w.must("qa", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001", Concur: true})
}

func amendedAgreement() truce.Agreement {
	a := agreement()
	a.Clauses = append(a.Clauses, truce.Clause{ID: "crossings", Title: "Crossings", Text: "Keep crossings open.", Categories: []string{"other"}})
	return a
}

func proposedAmendment(w *world) {
	w.must("pk", KindAmendmentProposed, truce.AmendmentProposal{Summary: "Add a clause.", Agreement: amendedAgreement()})
}

// Every transition, allowed and refused: who may do what, and when.
func TestTransitions(t *testing.T) {
	none := func(*world) {}
	type c struct {
		name   string
		at     stage
		author string
		kind   string
		body   any
		code   truce.Code // "" for allowed
		msg    string
	}
	reply := func(r string) truce.Reply {
		return truce.Reply{Allegation: "AL-0001", Response: r, Narrative: "Our answer."}
	}
	for _, tc := range []c{
		// Replies.
		{"the accused replies", filed, "af", KindReplyFiled, reply(truce.ReplyDeny), "", ""},
		{"the accused declines without a narrative", filed, "af", KindReplyFiled, truce.Reply{Allegation: "AL-0001", Response: truce.ReplyDecline}, "", ""},
		{"the filer cannot reply", filed, "pk", KindReplyFiled, reply(truce.ReplyDeny), truce.CodeForbidden, "only the accused party"},
		{"a mediator cannot reply", filed, "tr", KindReplyFiled, reply(truce.ReplyDeny), truce.CodeForbidden, "mediator may not sign"},
		{"one reply only", replied, "af", KindReplyFiled, reply(truce.ReplyAdmit), truce.CodeConflict, "already answered"},
		{"no reply to a rejected allegation", rejected, "af", KindReplyFiled, reply(truce.ReplyDeny), truce.CodeConflict, "rejected"},
		{"no reply after the case is closed", inEffect, "af", KindReplyFiled, reply(truce.ReplyDeny), truce.CodeConflict, "decided"},
		{"attribution names a third party", filed, "af", KindReplyFiled, reply(truce.ReplyAttribute), truce.CodeInvalid, "third_party"},
		{"unknown response", filed, "af", KindReplyFiled, reply("shrug"), truce.CodeInvalid, "body.response"},
		{"unknown allegation", filed, "af", KindReplyFiled, truce.Reply{Allegation: "AL-0009", Response: truce.ReplyDeny, Narrative: "x"}, truce.CodeNotFound, "AL-0009"},
		{"unknown evidence", filed, "af", KindReplyFiled, truce.Reply{Allegation: "AL-0001", Response: truce.ReplyDeny, Narrative: "x", Evidence: []string{"EV-0042"}}, truce.CodeNotFound, "EV-0042"},

		// Admission and rejection.
		{"a mediator admits", replied, "tr", KindAllegationAdmitted, truce.Admission{Allegation: "AL-0001"}, "", ""},
		{"admission before any reply", filed, "qa", KindAllegationAdmitted, truce.Admission{Allegation: "AL-0001"}, "", ""},
		{"a party cannot admit", filed, "pk", KindAllegationAdmitted, truce.Admission{Allegation: "AL-0001"}, truce.CodeForbidden, "liaison may not sign"},
		{"admitted once", admitted, "qa", KindAllegationAdmitted, truce.Admission{Allegation: "AL-0001"}, truce.CodeConflict, "already admitted"},
		{"rejected as unfounded", filed, "qa", KindAllegationRejected, truce.Rejection{Allegation: "AL-0001", Grounds: truce.RejectUnfounded, Note: "No detail."}, "", ""},
		{"an admitted allegation is not rejected", admitted, "qa", KindAllegationRejected, truce.Rejection{Allegation: "AL-0001", Grounds: truce.RejectOutOfScope, Note: "x"}, truce.CodeConflict, "already admitted"},
		{"a duplicate names the original", filed, "qa", KindAllegationRejected, truce.Rejection{Allegation: "AL-0001", Grounds: truce.RejectDuplicate}, truce.CodeInvalid, "duplicate_of"},
		{"not a duplicate of itself", filed, "qa", KindAllegationRejected, truce.Rejection{Allegation: "AL-0001", Grounds: truce.RejectDuplicate, DuplicateOf: "AL-0001"}, truce.CodeInvalid, "not another allegation"},
		{"rejection gives reasons", filed, "qa", KindAllegationRejected, truce.Rejection{Allegation: "AL-0001", Grounds: truce.RejectOutOfScope}, truce.CodeInvalid, "body.note"},

		// Cases and tasks.
		{"a case on an admitted allegation", admitted, "tr", KindCaseOpened, truce.CaseOpening{Allegation: "AL-0001", Title: "Case"}, "", ""},
		{"no case before admission", filed, "tr", KindCaseOpened, truce.CaseOpening{Allegation: "AL-0001", Title: "Case"}, truce.CodeConflict, "admitted allegation"},
		{"one case per allegation", inCase, "qa", KindCaseOpened, truce.CaseOpening{Allegation: "AL-0001", Title: "Again"}, truce.CodeConflict, "in_case"},
		{"a monitor cannot open a case", admitted, "mon", KindCaseOpened, truce.CaseOpening{Allegation: "AL-0001", Title: "Case"}, truce.CodeForbidden, ""},
		{"a task for a monitor", inCase, "tr", KindTaskAssigned, truce.TaskAssignment{Case: "CS-0001", Type: truce.TaskImageryReview, Assignee: "ana", Due: t0.Add(100 * time.Hour), Description: "Look."}, "", ""},
		{"no task for a party", inCase, "tr", KindTaskAssigned, truce.TaskAssignment{Case: "CS-0001", Type: truce.TaskSiteVisit, Assignee: "af", Due: t0.Add(100 * time.Hour), Description: "Look."}, truce.CodeInvalid, "not to a liaison"},
		{"no task due in the past", inCase, "tr", KindTaskAssigned, truce.TaskAssignment{Case: "CS-0001", Type: truce.TaskSiteVisit, Assignee: "mon", Due: t0, Description: "Look."}, truce.CodeBadTime, "body.due"},
		{"no task on a closed case", inEffect, "tr", KindTaskAssigned, truce.TaskAssignment{Case: "CS-0001", Type: truce.TaskSiteVisit, Assignee: "mon", Due: t0.Add(100 * time.Hour), Description: "Look."}, truce.CodeConflict, "closed"},
		{"unknown task type", inCase, "tr", KindTaskAssigned, truce.TaskAssignment{Case: "CS-0001", Type: "guess", Assignee: "mon", Due: t0.Add(100 * time.Hour), Description: "Look."}, truce.CodeInvalid, "body.type"},
		{"the assignee completes", withTask, "mon", KindTaskCompleted, truce.TaskResult{Task: "TK-0001", Result: "Done."}, "", ""},
		{"another monitor cannot complete it", withTask, "mon2", KindTaskCompleted, truce.TaskResult{Task: "TK-0001", Result: "Done."}, truce.CodeForbidden, "assigned to mon"},
		{"a result is required", withTask, "mon", KindTaskCompleted, truce.TaskResult{Task: "TK-0001"}, truce.CodeInvalid, "body.result"},

		// Evidence.
		{"evidence registered", inCase, "mon", KindEvidenceRegistered, evidence("one"), "", ""},
		{"a party may register evidence", filed, "af", KindEvidenceRegistered, truce.EvidenceRegistration{SHA256: strings.Repeat("ab", 32), MediaType: "video/mp4", CapturedBy: "AF", CapturedAt: t0, Description: "Video.", Allegation: "AL-0001"}, "", ""},
		{"the same file once", withEvidence, "ana", KindEvidenceRegistered, evidence("one"), truce.CodeConflict, "EV-0001"},
		{"a hash is 64 hex digits", inCase, "mon", KindEvidenceRegistered, truce.EvidenceRegistration{SHA256: "abc", MediaType: "image/jpeg", CapturedBy: "x", CapturedAt: t0, Description: "x"}, truce.CodeInvalid, "sha256"},
		{"not captured in the future", inCase, "mon", KindEvidenceRegistered, func() truce.EvidenceRegistration {
			e := evidence("two")
			e.CapturedAt = t0.Add(time.Hour * 24)
			return e
		}(), truce.CodeBadTime, "future"},
		{"the admin does not handle evidence", inCase, "adm", KindEvidenceRegistered, evidence("two"), truce.CodeForbidden, ""},
		{"custody transferred", withEvidence, "mon", KindEvidenceCustody, truce.CustodyEvent{Evidence: "EV-0001", Action: "transferred", To: "tr"}, "", ""},
		{"a transfer names the receiver", withEvidence, "mon", KindEvidenceCustody, truce.CustodyEvent{Evidence: "EV-0001", Action: "transferred"}, truce.CodeInvalid, "body.to"},
		{"custody of unknown evidence", withEvidence, "mon", KindEvidenceCustody, truce.CustodyEvent{Evidence: "EV-0009", Action: "stored"}, truce.CodeNotFound, ""},

		// Findings.
		{"a mediator proposes", withEvidence, "tr", KindFindingProposed, violation(), "", ""},
		{"one proposal at a time", proposed, "qa", KindFindingProposed, violation(), truce.CodeConflict, "awaiting signatures"},
		{"a violation names the party", withEvidence, "tr", KindFindingProposed, func() truce.FindingProposal { f := violation(); f.Responsible = ""; return f }(), truce.CodeInvalid, "responsible"},
		{"only the agreement's clauses", withEvidence, "tr", KindFindingProposed, func() truce.FindingProposal { f := violation(); f.Clauses = []string{"nope"}; return f }(), truce.CodeUnknownClause, "nope"},
		{"no violation names nobody", withEvidence, "tr", KindFindingProposed, truce.FindingProposal{Case: "CS-0001", Determination: truce.DeterminationNoViolation, Severity: truce.SeverityMinor, Confidence: "low", Reasoning: "x"}, truce.CodeInvalid, "names no responsible"},
		{"a host that failed is named", withEvidence, "tr", KindFindingProposed, truce.FindingProposal{Case: "CS-0001", Determination: truce.DeterminationNonParty, Group: "TTP", HostResponsibility: truce.HostFailedToPrevent, Clauses: []string{"no-fire"}, Severity: truce.SeverityMinor, Confidence: "low", Reasoning: "x"}, truce.CodeInvalid, "host party"},
		{"a party cannot propose", withEvidence, "pk", KindFindingProposed, violation(), truce.CodeForbidden, ""},
		{"no finding on a closed case", inEffect, "tr", KindFindingProposed, violation(), truce.CodeConflict, "closed"},
		{"a mediator signs", proposed, "tr", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001", Concur: true}, "", ""},
		{"a party cannot sign a finding", proposed, "pk", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001", Concur: true}, truce.CodeForbidden, "liaison may not sign"},
		{"one signature per mediator", func(w *world) {
			proposed(w)
			w.must("tr", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001", Concur: true})
		}, "tr", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001", Concur: true}, truce.CodeConflict, "already signed"},
		{"no signature after effect", inEffect, "tr", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001", Concur: true}, truce.CodeConflict, "in_effect"},
		{"dissent gives reasons", proposed, "qa", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001"}, truce.CodeInvalid, "body.note"},
		{"a party objects", inEffect, "af", KindFindingObjected, truce.FindingObjection{Finding: "FD-0001", Grounds: "Wrong."}, "", ""},
		{"no objection to a proposal", proposed, "af", KindFindingObjected, truce.FindingObjection{Finding: "FD-0001", Grounds: "Wrong."}, truce.CodeConflict, "proposed"},
		{"one objection per party", func(w *world) {
			inEffect(w)
			w.must("af", KindFindingObjected, truce.FindingObjection{Finding: "FD-0001", Grounds: "Wrong."})
		}, "af", KindFindingObjected, truce.FindingObjection{Finding: "FD-0001", Grounds: "Still wrong."}, truce.CodeConflict, "already objected"},
		{"a mediator does not object", inEffect, "tr", KindFindingObjected, truce.FindingObjection{Finding: "FD-0001", Grounds: "x"}, truce.CodeForbidden, ""},

		// Consequences.
		{"a consequence fulfilled", inEffect, "qa", KindConsequenceFulfilled, truce.ConsequenceDecision{Consequence: "CQ-0001", Note: "Acknowledged."}, "", ""},
		{"a consequence waived with reasons", inEffect, "qa", KindConsequenceWaived, truce.ConsequenceDecision{Consequence: "CQ-0001", Note: "Superseded."}, "", ""},
		{"a waiver gives reasons", inEffect, "qa", KindConsequenceWaived, truce.ConsequenceDecision{Consequence: "CQ-0001"}, truce.CodeInvalid, "reasons"},
		{"a party cannot waive", inEffect, "af", KindConsequenceWaived, truce.ConsequenceDecision{Consequence: "CQ-0001", Note: "x"}, truce.CodeForbidden, ""},
		{"decided once", func(w *world) {
			inEffect(w)
			w.must("qa", KindConsequenceFulfilled, truce.ConsequenceDecision{Consequence: "CQ-0001"})
		}, "tr", KindConsequenceWaived, truce.ConsequenceDecision{Consequence: "CQ-0001", Note: "x"}, truce.CodeConflict, "fulfilled"},

		// Commitments and amendments.
		{"a commitment done", none, "adm", KindCommitmentUpdated, truce.CommitmentUpdate{Commitment: "hotline", Status: truce.CommitmentDone}, "", ""},
		{"a commitment already open", none, "tr", KindCommitmentUpdated, truce.CommitmentUpdate{Commitment: "hotline", Status: truce.CommitmentOpen}, truce.CodeConflict, "already open"},
		{"a party does not mark its own commitment", none, "pk", KindCommitmentUpdated, truce.CommitmentUpdate{Commitment: "hotline", Status: truce.CommitmentDone}, truce.CodeForbidden, ""},
		{"an amendment proposed", none, "pk", KindAmendmentProposed, truce.AmendmentProposal{Summary: "Add.", Agreement: amendedAgreement()}, "", ""},
		{"a monitor cannot amend", none, "mon", KindAmendmentProposed, truce.AmendmentProposal{Summary: "Add.", Agreement: amendedAgreement()}, truce.CodeForbidden, ""},
		{"an amendment must be valid", none, "pk", KindAmendmentProposed, truce.AmendmentProposal{Summary: "Drop quorum.", Agreement: func() truce.Agreement { a := agreement(); a.Quorum = 0; return a }()}, truce.CodeInvalid, "body.agreement.quorum"},
		{"a signatory signs", proposedAmendment, "af", KindAmendmentSigned, truce.AmendmentSignature{Amendment: "AM-0001"}, "", ""},
		{"the proposer has signed", proposedAmendment, "pk", KindAmendmentSigned, truce.AmendmentSignature{Amendment: "AM-0001"}, truce.CodeConflict, "already signed"},

		// Ticks.
		{"no tick when nothing is due", filed, truce.SystemAuthor, KindTick, Tick{}, truce.CodeConflict, "nothing falls due"},
		{"only the system ticks", filed, "tr", KindTick, Tick{}, truce.CodeForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.at(w)
			size, seq := w.s.Size, w.s.Seq(tc.author)
			_, err := w.apply(tc.author, tc.kind, tc.body)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("allowed")
			}
			if got := truce.ErrorCode(err); got != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %s %q, want %s containing %q", got, err, tc.code, tc.msg)
			}
			if w.s.Size != size || w.s.Seq(tc.author) != seq {
				t.Fatal("a refused entry changed the state")
			}
		})
	}
}

// The whole way: filing to consequence, and what each step leaves behind.
func TestLifecycle(t *testing.T) {
	w := newWorld(t)
	inEffect(w)
	a := w.s.allegations["AL-0001"]
	f, _ := w.s.Finding("FD-0001")
	c := w.s.cases["CS-0001"]
	if a.Status != truce.AllegationDecided || a.Finding != "FD-0001" || a.Reply == nil || a.Reply.Late || c.Status != truce.CaseClosed {
		t.Fatalf("allegation %+v, case %+v", a, c)
	}
	if f.Status != truce.FindingInEffect || len(f.Signatures) != 2 || f.Effective == nil || fmt.Sprint(f.Consequences) != "[CQ-0001]" {
		t.Fatalf("finding %+v", f)
	}
	q, _ := w.s.Consequence("CQ-0001")
	if q.Rule != "notice" || q.Target != "AF" || q.Status != truce.ConsequenceOpen || !q.Deadline.Due.Equal(f.Effective.Add(7*24*time.Hour)) {
		t.Fatalf("consequence %+v", q)
	}
}

// Dissent that leaves too few mediators fails the proposal; a new one can
// then be made, and the dissent stays on record.
func TestDissent(t *testing.T) {
	w := newWorld(t)
	proposed(w)
	w.must("tr", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001", Concur: true})
	w.must("qa", KindFindingSigned, truce.FindingSignature{Finding: "FD-0001", Note: "Not established."})
	f, _ := w.s.Finding("FD-0001")
	if f.Status != truce.FindingFailed || len(f.Signatures) != 2 || f.Signatures[1].Concur {
		t.Fatalf("finding %+v", f)
	}
	w.must("qa", KindFindingProposed, violation())
	if w.s.cases["CS-0001"].Status != truce.CaseOpen {
		t.Fatal("the case closed on a failed finding")
	}
}

// Deadlines fall due in log time, only through ticks.
func TestDeadlines(t *testing.T) {
	w := newWorld(t)
	filed(w) // reply due in 72h, admission in 5d; the hotline commitment in 96h
	next, ok := w.s.NextDeadline()
	if !ok || !next.Equal(w.s.allegations["AL-0001"].Notice.Reply.Due) {
		t.Fatalf("next deadline %v, %v", next, ok)
	}
	w.clock = next.Add(time.Hour)
	w.must(truce.SystemAuthor, KindTick, Tick{})
	if got := fmt.Sprint(w.s.Overdue()); !strings.Contains(got, "reply AL-0001") || strings.Contains(got, "admission") {
		t.Fatalf("overdue after 73h: %s", got)
	}
	// A late reply is accepted, and marked late.
	w.must("af", KindReplyFiled, truce.Reply{Allegation: "AL-0001", Response: truce.ReplyDeny, Narrative: "Late."})
	if !w.s.allegations["AL-0001"].Reply.Late {
		t.Fatal("a late reply is not marked late")
	}
	w.clock = t0.Add(10 * 24 * time.Hour)
	w.must(truce.SystemAuthor, KindTick, Tick{})
	if got := fmt.Sprint(w.s.Overdue()); !strings.Contains(got, "admission AL-0001") || !strings.Contains(got, "commitment hotline") {
		t.Fatalf("overdue after 10 days: %s", got)
	}
	if _, err := w.apply(truce.SystemAuthor, KindTick, Tick{}); truce.ErrorCode(err) != truce.CodeConflict {
		t.Fatalf("a second tick with nothing due: %v", err)
	}
}

// An amendment takes effect when every party and mediator has signed.
func TestAmendment(t *testing.T) {
	w := newWorld(t)
	proposedAmendment(w)
	w.must("pk", KindAmendmentProposed, truce.AmendmentProposal{Summary: "Another.", Agreement: agreement()})
	for _, by := range []string{"af", "tr"} {
		w.must(by, KindAmendmentSigned, truce.AmendmentSignature{Amendment: "AM-0001"})
	}
	if w.s.Agreement.Version != 1 {
		t.Fatal("took effect before every signatory signed")
	}
	w.must("qa", KindAmendmentSigned, truce.AmendmentSignature{Amendment: "AM-0001"})
	if _, ok := w.s.Agreement.Clause("crossings"); !ok || w.s.Agreement.Version != 2 {
		t.Fatalf("agreement after the last signature: version %d", w.s.Agreement.Version)
	}
	if w.s.amendments["AM-0002"].Status != truce.AmendmentLapsed {
		t.Fatal("a proposal on the old version did not lapse")
	}
	if _, err := w.apply("af", KindAmendmentSigned, truce.AmendmentSignature{Amendment: "AM-0002"}); truce.ErrorCode(err) != truce.CodeConflict {
		t.Fatalf("signing a lapsed amendment: %v", err)
	}
}

// Keys: a member rotates its own key; a revoked key signs nothing after
// its revocation; custodial keys are the instance's to add.
func TestKeys(t *testing.T) {
	w := newWorld(t)
	old := w.keys["pk"]
	fresh, _ := entry.GenerateKey("pk")
	w.must("pk", KindKeyAdded, KeyAddition{Member: "pk", Key: fresh.PublicKey()})
	// The old key revokes itself: that entry is still good.
	w.must("pk", KindKeyRevoked, KeyRevocation{Member: "pk", Key: old.ID(), Reason: "Laptop lost."})
	_, err := w.apply("pk", KindAllegationFiled, filing("AF"))
	if truce.ErrorCode(err) != truce.CodeRevokedKey {
		t.Fatalf("an entry signed with the revoked key: %v", err)
	}
	w.seqs["pk"]-- // that seq was not used
	w.keys["pk"] = fresh
	w.must("pk", KindAllegationFiled, filing("AF"))
	m, _ := w.s.Member("pk")
	if len(m.Keys) != 2 || m.Keys[0].Revoked == 0 || m.Keys[1].Revoked != 0 {
		t.Fatalf("keys %+v", m.Keys)
	}
	other, _ := entry.GenerateKey("x")
	for _, c := range []struct {
		author string
		kind   string
		body   any
		code   truce.Code
	}{
		{"af", KindKeyAdded, KeyAddition{Member: "pk", Key: other.PublicKey()}, truce.CodeForbidden},
		{"pk", KindKeyAdded, KeyAddition{Member: "pk", Key: other.PublicKey(), Custodial: true}, truce.CodeForbidden},
		{"pk", KindKeyAdded, KeyAddition{Member: "pk", Key: w.keys["af"].PublicKey()}, truce.CodeConflict},
		{"pk", KindKeyRevoked, KeyRevocation{Member: "pk", Key: old.ID(), Reason: "again"}, truce.CodeConflict},
		{"tr", KindKeyRevoked, KeyRevocation{Member: "pk", Key: fresh.ID(), Reason: "x"}, truce.CodeForbidden},
		{"adm", KindMemberRegistered, MemberRegistration{ID: "adm2", Name: "A", Role: truce.RoleAdmin, Party: truce.Mechanism}, truce.CodeForbidden},
	} {
		if _, err := w.apply(c.author, c.kind, c.body); truce.ErrorCode(err) != c.code {
			t.Errorf("%s %s: %v, want %s", c.author, c.kind, err, c.code)
		}
	}
	// An administrator revokes a member's key, registers members, adds a
	// custodial key.
	w.must("adm", KindKeyRevoked, KeyRevocation{Member: "af", Key: w.keys["af"].ID(), Reason: "Officer reassigned."})
	w.must("adm", KindMemberRegistered, MemberRegistration{ID: "af2", Name: "AF 2", Role: truce.RoleLiaison, Party: "AF", Keys: []string{other.PublicKey()}})
	cust, _ := entry.GenerateKey("af2")
	w.must("adm", KindKeyAdded, KeyAddition{Member: "af2", Key: cust.PublicKey(), Custodial: true})
	if id, ok := w.s.CustodialKey("af2"); !ok || id != cust.ID() {
		t.Fatalf("custodial key %q %v", id, ok)
	}
}
