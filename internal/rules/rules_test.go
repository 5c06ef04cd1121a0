package rules

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
)

var t0 = time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)

const origin = "rules.test/log"

// world builds a state entry by entry, signing with generated keys.
type world struct {
	t     testing.TB
	s     *State
	keys  map[string]*entry.PrivateKey
	seqs  map[string]uint64
	clock time.Time
	log   []logged // every entry applied, as a reader without openings would see it
}

type logged struct {
	cmd    *Command
	logged time.Time
}

func newWorld(t testing.TB) *world { return newWorldUnder(t, 0) }

// newWorldUnder is the usual world under a version of the rules (0: the
// first).
func newWorldUnder(t testing.TB, version int) *world {
	return newWorldAt(t, version, []MemberRegistration{
		{ID: "pk", Name: "PK", Role: truce.RoleLiaison, Party: "PK"},
		{ID: "af", Name: "AF", Role: truce.RoleLiaison, Party: "AF"},
		{ID: "tr", Name: "TR", Role: truce.RoleMediator, Party: "TR"},
		{ID: "qa", Name: "QA", Role: truce.RoleMediator, Party: "QA"},
		{ID: "mon", Name: "Monitor", Role: truce.RoleMonitor, Party: truce.Mechanism},
		{ID: "mon2", Name: "Monitor 2", Role: truce.RoleMonitor, Party: truce.Mechanism},
		{ID: "ana", Name: "Analyst", Role: truce.RoleAnalyst, Party: truce.Mechanism},
		{ID: "adm", Name: "Admin", Role: truce.RoleAdmin, Party: truce.Mechanism},
	})
}

// newWorldAt begins a log under a rules version (0: as logs before
// versions), with the test agreement and the members, each with a key.
func newWorldAt(t testing.TB, version int, members []MemberRegistration) *world {
	w := &world{t: t, s: New(), keys: map[string]*entry.PrivateKey{}, seqs: map[string]uint64{}, clock: t0}
	sys, _ := entry.GenerateKey(truce.SystemAuthor)
	w.keys[truce.SystemAuthor] = sys
	w.must(truce.SystemAuthor, KindInstanceCreated, Instance{Rules: version, Origin: origin, Name: "test", SystemKey: sys.PublicKey(), LogKey: "x"})
	w.must(truce.SystemAuthor, KindAgreementAdopted, agreement())
	for _, m := range members {
		k, _ := entry.GenerateKey(m.ID)
		w.keys[m.ID] = k
		m.Keys = []string{k.PublicKey()}
		w.must(truce.SystemAuthor, KindMemberRegistered, m)
	}
	return w
}

func agreement() truce.Agreement {
	return truce.Agreement{
		Title: "Test agreement", Effective: t0.Add(-7 * 24 * time.Hour),
		Parties:   []truce.Actor{{Code: "PK", Name: "Pakistan"}, {Code: "AF", Name: "Afghanistan"}},
		Mediators: []truce.Actor{{Code: "TR", Name: "Türkiye"}, {Code: "QA", Name: "Qatar"}},
		Clauses:   []truce.Clause{{ID: "no-fire", Title: "No fire", Text: "No cross-border fire.", Categories: []string{"armed_clash", "shelling_artillery_missile"}}},
		Deadlines: truce.Deadlines{Reply: truce.Duration(72 * time.Hour), Admission: truce.Duration(5 * 24 * time.Hour), Verification: truce.Duration(14 * 24 * time.Hour)},
		Quorum:    2,
		Rules: []truce.ConsequenceRule{
			{ID: "notice", Title: "Formal notice", When: "finding.determination == 'violation'", Action: truce.ActionFormalNotice, Target: "responsible", Deadline: truce.Duration(7 * 24 * time.Hour)},
			{ID: "session", Title: "Emergency session", When: "finding.severity == 'grave'", Action: truce.ActionEmergencySession, Target: "mediators", Deadline: truce.Duration(48 * time.Hour)},
			{ID: "referral", Title: "Third in 30 days", When: "history.filter(f, f.responsible == finding.responsible && f.determination in ['violation', 'non_party_violation'] && f.effective > finding.effective - duration('720h')).size() >= 3",
				Action: truce.ActionReferral, Target: "guarantors", Deadline: truce.Duration(14 * 24 * time.Hour)},
			{ID: "territory", Title: "Investigation", When: "finding.determination == 'non_party_violation' && finding.host_responsibility == 'failed_to_prevent'",
				Action: truce.ActionInvestigation, Target: "responsible", Deadline: truce.Duration(21 * 24 * time.Hour)},
		},
		Talks: []truce.TalksRound{{ID: "doha", Name: "Doha", Place: "Doha", From: t0.Add(-48 * time.Hour), To: t0.Add(-24 * time.Hour),
			Commitments: []truce.Commitment{{ID: "hotline", Text: "Open a hotline.", Owner: "PK", Due: t0.Add(96 * time.Hour)}}}},
	}
}

// apply signs and applies one entry.
func (w *world) apply(author, kind string, body any) (*Applied, error) {
	w.t.Helper()
	w.seqs[author]++
	raw, _ := json.Marshal(body)
	env, err := entry.Sign(entry.Payload{Kind: kind, Origin: origin, Author: author, Seq: w.seqs[author], Time: w.clock, Body: raw}, w.keys[author])
	if err != nil {
		w.t.Fatal(err)
	}
	e, err := entry.Open(env)
	if err != nil {
		return nil, err
	}
	cmd, err := Decode(e)
	if err != nil {
		return nil, err
	}
	w.clock = w.clock.Add(time.Minute)
	a, err := w.s.Apply(cmd, w.s.Size, w.clock)
	if err == nil {
		w.log = append(w.log, logged{cmd, w.clock})
	}
	return a, err
}

func (w *world) must(author, kind string, body any) *Applied {
	w.t.Helper()
	a, err := w.apply(author, kind, body)
	if err != nil {
		w.t.Fatalf("%s by %s: %v", kind, author, err)
	}
	return a
}

func filing(against string) truce.AllegationFiling {
	return truce.AllegationFiling{
		Category: "armed_clash", Occurred: truce.Occurred{From: t0.Add(-time.Hour), Precision: 1},
		Place:       truce.Place{Lat: 33, Lon: 70, GeoPrecision: 2, Country: "PK"},
		Clauses:     []string{"no-fire"},
		Perpetrator: truce.Perpetrator{Kind: truce.PerpParty, Party: against},
		Narrative:   "Shots fired.",
	}
}

// A refused entry changes nothing: not the size, not the author's seq, not
// the numbering of allegations.
func TestRefusedEntryChangesNothing(t *testing.T) {
	w := newWorld(t)
	before, _ := w.s.Records()
	size := w.s.Size
	bad := filing("AF")
	bad.Clauses = []string{"no-such"}
	if _, err := w.apply("pk", KindAllegationFiled, bad); truce.ErrorCode(err) != truce.CodeUnknownClause {
		t.Fatalf("err = %v", err)
	}
	after, _ := w.s.Records()
	if w.s.Size != size || w.s.Seq("pk") != 0 || !reflect.DeepEqual(before, after) {
		t.Fatal("a refused entry changed the state")
	}
	a := w.must("pk", KindAllegationFiled, filing("AF"))
	if a.Ref.ID != "AL-0001" || w.s.Seq("pk") != 2 {
		t.Fatalf("next allegation = %+v, seq %d", a.Ref, w.s.Seq("pk"))
	}
}

// The same entries give the same state, record for record.
func TestDeterministic(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 20; i++ {
		w.must([]string{"pk", "af", "mon"}[i%3], KindAllegationFiled, filing([]string{"AF", "PK", "AF"}[i%3]))
	}
	// Replay what was applied into a fresh state.
	w2 := &world{t: t, s: New(), keys: w.keys, seqs: map[string]uint64{}, clock: t0}
	w2.must(truce.SystemAuthor, KindInstanceCreated, Instance{Origin: origin, Name: "test", SystemKey: w.keys[truce.SystemAuthor].PublicKey(), LogKey: "x"})
	w2.must(truce.SystemAuthor, KindAgreementAdopted, agreement())
	for _, id := range []string{"pk", "af", "tr", "qa", "mon", "mon2", "ana", "adm"} {
		m, _ := w.s.Member(id)
		w2.must(truce.SystemAuthor, KindMemberRegistered, MemberRegistration{ID: m.ID, Name: m.Name, Role: m.Role, Party: m.Party, Keys: []string{m.Keys[0].Public}})
	}
	for i := 0; i < 20; i++ {
		w2.must([]string{"pk", "af", "mon"}[i%3], KindAllegationFiled, filing([]string{"AF", "PK", "AF"}[i%3]))
	}
	a, _ := w.s.Records()
	b, _ := w2.s.Records()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same entries gave different records")
	}
}

func TestMembers(t *testing.T) {
	w := newWorld(t)
	k, _ := entry.GenerateKey("x")
	for _, c := range []struct {
		m    MemberRegistration
		code truce.Code
		msg  string
	}{
		{MemberRegistration{ID: "x1", Name: "X", Role: truce.RoleLiaison, Party: "TR"}, truce.CodeInvalid, "cannot belong"},
		{MemberRegistration{ID: "x2", Name: "X", Role: truce.RoleMediator, Party: "PK"}, truce.CodeInvalid, "cannot belong"},
		{MemberRegistration{ID: "x3", Name: "X", Role: truce.RoleMonitor, Party: "PK"}, truce.CodeInvalid, "cannot belong"},
		{MemberRegistration{ID: "pk", Name: "X", Role: truce.RoleLiaison, Party: "PK"}, truce.CodeConflict, "already registered"},
		{MemberRegistration{ID: "x4", Name: "X", Role: "general", Party: "PK"}, truce.CodeInvalid, "unknown role"},
		{MemberRegistration{ID: "Bad Id", Name: "X", Role: truce.RoleLiaison, Party: "PK"}, truce.CodeInvalid, "lowercase"},
		{MemberRegistration{ID: "x5", Name: "X", Role: truce.RoleLiaison, Party: "PK", Keys: []string{w.keys["af"].PublicKey()}}, truce.CodeConflict, "already registered"},
		{MemberRegistration{ID: "x6", Name: "X", Role: truce.RoleLiaison, Party: "PK", Keys: []string{k.PublicKey(), k.PublicKey()}}, truce.CodeConflict, "already registered"},
		{MemberRegistration{ID: "x7", Name: "X", Role: truce.RoleLiaison, Party: "PK", Keys: []string{"ed25519:AAAA"}}, truce.CodeInvalid, "32 bytes"},
	} {
		if _, err := w.apply(truce.SystemAuthor, KindMemberRegistered, c.m); truce.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v, want %s %q", c.m, err, c.code, c.msg)
		}
	}
	w.must(truce.SystemAuthor, KindMemberRegistered, MemberRegistration{ID: "qa2", Name: "QA 2", Role: truce.RoleMediator, Party: "QA", Keys: []string{k.PublicKey()}})
}

func TestValidateAgreement(t *testing.T) {
	for _, c := range []struct {
		field string
		edit  func(a *truce.Agreement)
	}{
		{"title", func(a *truce.Agreement) { a.Title = "" }},
		{"effective", func(a *truce.Agreement) { a.Effective = time.Time{} }},
		{"parties", func(a *truce.Agreement) { a.Parties = a.Parties[:1] }},
		{"mediators", func(a *truce.Agreement) { a.Mediators = nil }},
		{"mediators[1].code", func(a *truce.Agreement) { a.Mediators[1].Code = "PK" }},
		{"parties[0].code", func(a *truce.Agreement) { a.Parties[0].Code = "MECH" }},
		{"parties[0].code", func(a *truce.Agreement) { a.Parties[0].Code = "pk" }},
		{"clauses", func(a *truce.Agreement) { a.Clauses = nil }},
		{"clauses[0].categories[1]", func(a *truce.Agreement) { a.Clauses[0].Categories[1] = "picnic" }},
		{"clauses[0].id", func(a *truce.Agreement) { a.Clauses[0].ID = "No Fire" }},
		{"deadlines.reply", func(a *truce.Agreement) { a.Deadlines.Reply = 0 }},
		{"quorum", func(a *truce.Agreement) { a.Quorum = 3 }},
		{"quorum", func(a *truce.Agreement) { a.Quorum = 0 }},
	} {
		a := agreement()
		a.Clauses = append([]truce.Clause(nil), a.Clauses...)
		a.Clauses[0].Categories = append([]string(nil), a.Clauses[0].Categories...)
		a.Mediators = append([]truce.Actor(nil), a.Mediators...)
		a.Parties = append([]truce.Actor(nil), a.Parties...)
		c.edit(&a)
		err := ValidateAgreement(&a)
		var te *truce.Error
		if err == nil || !asError(err, &te) || te.Field != c.field {
			t.Errorf("want an error at %s, got %v", c.field, err)
		}
	}
	a := agreement()
	if err := ValidateAgreement(&a); err != nil {
		t.Fatal(err)
	}
}

func asError(err error, te **truce.Error) bool {
	e, ok := err.(*truce.Error)
	*te = e
	return ok
}

// FuzzDecode feeds arbitrary bodies to every kind's decoder: none may
// panic, and what a decoder accepts must meet the stateless rules.
func FuzzDecode(f *testing.F) {
	good, _ := json.Marshal(filing("AF"))
	f.Add(KindAllegationFiled, good)
	ag, _ := json.Marshal(agreement())
	f.Add(KindAgreementAdopted, ag)
	f.Add(KindMemberRegistered, []byte(`{"id":"x","name":"X","role":"liaison","party":"PK","keys":[]}`))
	f.Add(KindInstanceCreated, []byte(`{"origin":"a.b/c","name":"n","system_key":"ed25519:AAAA","log_key":"k"}`))
	// A valid body of every workflow kind.
	for kind, body := range map[string]any{
		KindReplyFiled:           truce.Reply{Allegation: "AL-0001", Response: truce.ReplyAttribute, ThirdParty: "x", Narrative: "y"},
		KindAllegationAdmitted:   truce.Admission{Allegation: "AL-0001"},
		KindAllegationRejected:   truce.Rejection{Allegation: "AL-0001", Grounds: truce.RejectDuplicate, DuplicateOf: "AL-0002"},
		KindCaseOpened:           truce.CaseOpening{Allegation: "AL-0001", Title: "t"},
		KindTaskAssigned:         truce.TaskAssignment{Case: "CS-0001", Type: truce.TaskSiteVisit, Assignee: "mon", Due: t0, Description: "d"},
		KindTaskCompleted:        truce.TaskResult{Task: "TK-0001", Result: "r", Evidence: []string{"EV-0001"}},
		KindEvidenceRegistered:   evidence("fuzz"),
		KindEvidenceCustody:      truce.CustodyEvent{Evidence: "EV-0001", Action: "transferred", To: "tr"},
		KindFindingProposed:      violation(),
		KindFindingSigned:        truce.FindingSignature{Finding: "FD-0001", Concur: true},
		KindFindingObjected:      truce.FindingObjection{Finding: "FD-0001", Grounds: "g"},
		KindConsequenceFulfilled: truce.ConsequenceDecision{Consequence: "CQ-0001"},
		KindCommitmentUpdated:    truce.CommitmentUpdate{Commitment: "hotline", Status: "done"},
		KindAmendmentProposed:    truce.AmendmentProposal{Summary: "s", Agreement: agreement()},
		KindAmendmentSigned:      truce.AmendmentSignature{Amendment: "AM-0001"},
		KindTick:                 Tick{},
		KindSourceIngested:       source(1, "Khyber Courier", istanbul),
		KindOutletGraded:         truce.OutletGrading{Outlet: "Khyber Courier", Reliability: "B", Reason: "r"},
		KindSourceLinked:         truce.SourceLink{Story: "ST-0001", Allegation: "AL-0001", Relation: "corroborates"},
		KindSourceMoved:          truce.SourceMove{Source: "SRC-0001", Reason: "r"},
		KindReportPublished:      ReportPublication{SHA256: strings.Repeat("0f", 32), From: t0, To: t0.Add(time.Hour), Title: "t"},
	} {
		b, _ := json.Marshal(body)
		f.Add(kind, b)
	}
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		e := &entry.Entry{Payload: entry.Payload{Kind: kind, Body: body}}
		cmd, err := Decode(e)
		if err != nil {
			return
		}
		if src, ok := cmd.body.(*truce.SourceIngestion); ok {
			for _, c := range src.Claims {
				if !strings.Contains(src.Text, c.Sentence) || c.Sentence == "" {
					t.Fatalf("accepted a claim that does not quote the text: %+v", c)
				}
			}
			for _, p := range src.Places {
				if p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
					t.Fatalf("accepted a place off the globe: %+v", p)
				}
			}
		}
		if r, ok := cmd.body.(*ReportPublication); ok && (len(r.SHA256) != 64 || !r.To.After(r.From) || r.Title == "") {
			t.Fatalf("accepted a publication %+v", r)
		}
		if a, ok := cmd.body.(*truce.AllegationFiling); ok {
			p := a.Place
			if p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 || a.Narrative == "" || len(a.Clauses) == 0 || a.Occurred.From.Before(earliest) {
				t.Fatalf("accepted %+v", a)
			}
		}
	})
}
