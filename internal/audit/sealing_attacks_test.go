package audit_test

import (
	"context"
	"testing"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
)

// AF's `truce audit --follow` checks the log while
// a finding on a shared case is being deliberated (finding.proposed is
// sealed: skipped, a placeholder). The finding takes effect; its
// signatures' openings are now served to AF, and the next round applies
// them to the placeholder (Quorum 0, no allegation) and panics.
func TestPartyAuditFollowsAFindingIntoEffect(t *testing.T) {
	env := testkit.New(t, instance.Options{CheckpointInterval: 1e6})
	s := serveWith(t, env.In, 1, env.Clock.Now)
	ctx := context.Background()
	sign := func(who, kind string, body any) *truce.Ack {
		return env.Submit(t, env.Signers[who].Sign(t, kind, body))
	}
	al := sign("pk-liaison", rules.KindAllegationFiled, testkit.Allegation("AF", 1)).Record.ID
	sign("tr-mediator", rules.KindAllegationAdmitted, truce.Admission{Allegation: al})
	cs := sign("tr-mediator", rules.KindCaseOpened, truce.CaseOpening{Allegation: al, Title: "Shelling at Torkham"}).Record.ID
	fd := sign("tr-mediator", rules.KindFindingProposed, truce.FindingProposal{Case: cs, Determination: truce.DeterminationNotConfirmed,
		Confidence: "low", Reasoning: "The craters could not be dated."}).Record.ID
	s.WaitPublished(t)

	a, err := audit.NewAuditor(ctx, audit.AuditorConfig{URL: s.URL, Token: s.Token(t, "af-liaison"), Quorum: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r, err := a.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unchecked) != 1 || r.Unchecked[0].Kind != rules.KindFindingProposed {
		t.Fatalf("round 1: unchecked %v", r.Unchecked)
	}

	sign("tr-mediator", rules.KindFindingSigned, truce.FindingSignature{Finding: fd, Concur: true})
	sign("qa-mediator", rules.KindFindingSigned, truce.FindingSignature{Finding: fd, Concur: true})
	s.WaitPublished(t)
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("AF's following audit panics once the finding takes effect: %v", p)
		}
	}()
	r, err = a.Check(ctx)
	if err != nil {
		t.Fatalf("round 2: %v", err)
	}
	// The signatures act on a finding this audit knows only by its sealed
	// proposal: listed as unchecked, not taken on trust. A fresh audit,
	// which holds the proposal's opening now, checks them all.
	if len(r.Unchecked) != 2 || r.Unchecked[0].Kind != rules.KindFindingSigned {
		t.Fatalf("round 2: unchecked %v", r.Unchecked)
	}
	fresh, err := audit.NewAuditor(ctx, audit.AuditorConfig{URL: s.URL, Token: s.Token(t, "af-liaison"), Quorum: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if r, err := fresh.Check(ctx); err != nil || len(r.Unchecked) != 0 {
		t.Fatalf("a fresh audit: %v, unchecked %v", err, r.Unchecked)
	}
}

// a member who sends the same sealed field (same salt, same
// content) with two entries gets both logged, and `truce verify` then
// fails an honest log: checkSealed maps each commitment to one index, so
// the first entry's stored opening is "for a commitment this entry does
// not carry".
func TestRepeatedCommitmentVerifies(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	ctx := context.Background()
	salt := make([]byte, 32)
	content := []byte(`{"witnesses":["Gul Khan"]}`)
	o := truce.Opening{Salt: hexString(salt), Content: content}
	for i := 0; i < 2; i++ {
		a := testkit.Allegation("AF", i)
		a.Sealed = &truce.Sealed{Commitment: truce.Commit(salt, content)}
		if _, err := env.In.Seq.Submit(ctx, env.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, a), nil, &o); err != nil {
			t.Fatalf("filing %d: %v", i, err)
		}
	}
	env.In.Close()
	env.In = nil
	if _, err := verify(t, env.Dir); err != nil {
		t.Errorf("an honest log in which one member repeated a commitment fails truce verify: %v", err)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// once a party's auditor skipped any sealed entry (always: every
// task is sealed), a record the API publishes that the log does not hold
// at all is "not compared" instead of an ALARM — even an id the auditor
// itself numbered past. The server fabricates AL-0999 (a copy of AL-0001)
// and PK's audit passes.
func TestPartyAuditNamesAFabricatedRecord(t *testing.T) {
	s := serveDemo(t)
	a := s.auditor(t, s.URL, "")
	r, err := a.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("round 1: %d unchecked, %d uncompared", len(r.Unchecked), r.Uncompared)
	db := rawDB(t, s.dir)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TEMP TABLE fake AS SELECT * FROM records WHERE type = 'allegation' AND id = 'AL-0001'`,
		`UPDATE fake SET id = 'AL-0999', doc = replace(doc, 'AL-0001', 'AL-0999')`,
		`INSERT INTO records SELECT * FROM fake`,
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err = a.Check(context.Background())
	if err == nil {
		t.Errorf("the API publishes allegation/AL-0999, which the log does not hold, and PK's audit passes (%d records compared, %d not compared)", r.Records, r.Uncompared)
	}
}
