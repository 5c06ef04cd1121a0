package rules

import (
	"slices"
	"testing"

	"github.com/truce-mvm/truce"
)

func TestOffers(t *testing.T) {
	afLiaison := truce.Member{ID: "af-liaison", Role: truce.RoleLiaison, Party: "AF"}
	pkLiaison := truce.Member{ID: "pk-liaison", Role: truce.RoleLiaison, Party: "PK"}
	trMediator := truce.Member{ID: "tr-mediator", Role: truce.RoleMediator, Party: "TR"}
	monitor := truce.Member{ID: "monitor-1", Role: truce.RoleMonitor}
	filed := &truce.Allegation{ID: "AL-0001", Status: truce.AllegationFiled, FilingParty: "PK", Accused: "AF"}
	answered := *filed
	answered.Reply = &truce.ReplyRecord{Index: 9}
	decided := answered
	decided.Status = truce.AllegationDecided
	admitted := *filed
	admitted.Status = truce.AllegationAdmitted
	signed := &truce.Finding{ID: "FD-0001", Status: truce.FindingProposed, Signatures: []truce.Signature{{Member: "tr-mediator", Mediator: "TR"}}}
	inEffect := &truce.Finding{ID: "FD-0001", Status: truce.FindingInEffect, Objections: []truce.Objection{{Party: "PK"}}}
	for _, c := range []struct {
		name string
		m    truce.Member
		rec  any
		want []string
	}{
		{"the accused party replies to a filed allegation", afLiaison, filed, []string{KindReplyFiled}},
		{"the filing party does not reply", pkLiaison, filed, nil},
		{"nobody replies twice", afLiaison, &answered, nil},
		{"a mediator admits or rejects a filed allegation", trMediator, filed, []string{KindAllegationAdmitted, KindAllegationRejected}},
		{"a mediator opens a case on an admitted one", trMediator, &admitted, []string{KindCaseOpened}},
		{"nothing on a decided allegation", afLiaison, &decided, nil},
		{"nothing but reading, for a mediator, on a decided one", trMediator, &decided, nil},
		{"an open case takes tasks, findings and evidence", trMediator, &truce.Case{ID: "CS-0001", Status: truce.CaseOpen},
			[]string{KindTaskAssigned, KindFindingProposed, KindEvidenceRegistered}},
		{"a closed case takes nothing", trMediator, &truce.Case{ID: "CS-0001", Status: truce.CaseClosed}, nil},
		{"a monitor registers evidence on an open case", monitor, &truce.Case{ID: "CS-0001", Status: truce.CaseOpen}, []string{KindEvidenceRegistered}},
		{"the assignee completes a task", monitor, &truce.Task{ID: "TK-0001", TaskAssignment: truce.TaskAssignment{Assignee: "monitor-1"}, Status: truce.TaskAssigned}, []string{KindTaskCompleted}},
		{"another member does not", trMediator, &truce.Task{ID: "TK-0001", TaskAssignment: truce.TaskAssignment{Assignee: "monitor-1"}, Status: truce.TaskAssigned}, nil},
		{"a done task takes nothing", monitor, &truce.Task{ID: "TK-0001", TaskAssignment: truce.TaskAssignment{Assignee: "monitor-1"}, Status: truce.TaskDone}, nil},
		{"a mediator signs once", trMediator, signed, nil},
		{"another mediator signs", truce.Member{ID: "qa-mediator", Role: truce.RoleMediator, Party: "QA"}, signed, []string{KindFindingSigned}},
		{"a party objects once", pkLiaison, inEffect, nil},
		{"the other party may object", afLiaison, inEffect, []string{KindFindingObjected}},
		{"an open consequence is fulfilled or waived", trMediator, &truce.Consequence{ID: "CQ-0001", Status: truce.ConsequenceOpen},
			[]string{KindConsequenceFulfilled, KindConsequenceWaived}},
		{"an escalated one too", trMediator, &truce.Consequence{ID: "CQ-0001", Status: truce.ConsequenceEscalated},
			[]string{KindConsequenceFulfilled, KindConsequenceWaived}},
		{"a fulfilled one takes nothing", trMediator, &truce.Consequence{ID: "CQ-0001", Status: truce.ConsequenceFulfilled}, nil},
	} {
		if got := Offers(c.m, c.rec); !slices.Equal(got, c.want) {
			t.Errorf("%s: offered %v, want %v", c.name, got, c.want)
		}
	}
}
