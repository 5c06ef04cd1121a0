package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/notify"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/testkit"
)

// RV14: both parties object to a finding in effect; a mediator who asked
// to be told of objections hears of the first only. The outbox's unique
// key (event, rtype, rid, member, channel, target) leaves out the entry
// index, so the second objection's delivery is silently dropped as a
// duplicate of the first.
func TestEveryObjectionIsNotified(t *testing.T) {
	tg := notifyTarget(t, server.NotifyOptions{AllowPrivate: true}, false)
	hook := newReceiver(t, 0)
	trTok := tg.token(t, "tr-mediator", policy.ScopeManage)
	if st, b := tg.call(t, "POST", "/api/v1/webhooks", trTok, `{"url":"`+hook.URL+`","events":["finding.objected"]}`, nil); st != 201 {
		t.Fatalf("registering = %d %s", st, b)
	}
	sign := func(who, kind string, body any) *truce.Ack {
		return tg.Submit(t, tg.Signers[who].Sign(t, kind, body))
	}
	al := sign("pk-liaison", rules.KindAllegationFiled, testkit.Allegation("AF", 1)).Record.ID
	sign("tr-mediator", rules.KindAllegationAdmitted, truce.Admission{Allegation: al})
	cs := sign("tr-mediator", rules.KindCaseOpened, truce.CaseOpening{Allegation: al, Title: "Shelling at Torkham"}).Record.ID
	fd := sign("tr-mediator", rules.KindFindingProposed, truce.FindingProposal{Case: cs, Determination: truce.DeterminationNotConfirmed,
		Confidence: "low", Reasoning: "The craters could not be dated."}).Record.ID
	sign("tr-mediator", rules.KindFindingSigned, truce.FindingSignature{Finding: fd, Concur: true})
	sign("qa-mediator", rules.KindFindingSigned, truce.FindingSignature{Finding: fd, Concur: true})
	first := sign("pk-liaison", rules.KindFindingObjected, truce.FindingObjection{Finding: fd, Grounds: "PK says the craters were fresh."})
	wait(t, hook.got, "the first objection")
	second := sign("af-liaison", rules.KindFindingObjected, truce.FindingObjection{Finding: fd, Grounds: "AF says there were no craters at all."})
	select {
	case <-hook.got:
	case <-time.After(5 * time.Second):
	}
	var idx []int64
	for _, d := range hook.delivered() {
		var b notify.Body
		json.Unmarshal(d.body, &b)
		idx = append(idx, b.Index)
	}
	if len(idx) != 2 || idx[0] != first.Index || idx[1] != second.Index {
		t.Fatalf("the mediator was told of objections at entries %v; want %d and %d", idx, first.Index, second.Index)
	}
}

// RV14: the public /reports page lists each published report with a link
// to its receipt "for anyone to check a report they were sent", but the
// link answers 401 to anyone without an account (the press, guarantors).
func TestPublishedReportReceiptIsPublic(t *testing.T) {
	tg := notifyTarget(t, server.NotifyOptions{}, false)
	pub := rules.ReportPublication{SHA256: strings.Repeat("5e", 32), Title: "Weekly report",
		From: testkit.Start.Add(-7 * 24 * time.Hour), To: testkit.Start.Add(-time.Hour)}
	ack := tg.Submit(t, tg.Signers["tr-mediator"].Sign(t, rules.KindReportPublished, pub))
	tg.WaitCheckpoint(t, ack.Index+1)
	resp, page := tg.do(t, mustRequest(t, "GET", tg.url+"/reports"))
	link := `/api/v1/reports/` + ack.Record.ID + `/receipt`
	if resp.StatusCode != 200 || !strings.Contains(page, `href="`+link+`"`) {
		t.Fatalf("/reports = %d, without %s", resp.StatusCode, link)
	}
	if resp, body := tg.do(t, mustRequest(t, "GET", tg.url+link)); resp.StatusCode != 200 {
		t.Fatalf("anonymous GET %s (linked from the public page) = %d %.200s", link, resp.StatusCode, body)
	}
}

// RV14: a period ending on 9999-12-31 passes ParsePeriod (a date "to"
// runs through its day, to year 10000) and then fails the canonical JSON
// rendering: a 500 for any member's malformed query, not a 400 naming
// "to".
func TestSituationPeriodAtTheEndOfTime(t *testing.T) {
	tg := notifyTarget(t, server.NotifyOptions{}, false)
	tok := tg.token(t, "observer", policy.ScopeRead)
	st, b := tg.call(t, "GET", "/api/v1/reports/situation?from=9999-12-30&to=9999-12-31", tok, "", nil)
	if st/100 != 4 || !strings.Contains(b, `"to"`) {
		t.Fatalf("= %d %.200s; want a 4xx naming to", st, b)
	}
}
