package rules

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
)

// both is one sealed entry as a reader with and without its opening sees it.
type both struct{ blind, opened *Command }

// sealLive signs body sealed (refs as the rules want them), applies it
// opened to the world's state, and returns both forms.
func (w *world) sealLive(author, kind string, body any) (both, *Applied) {
	w.t.Helper()
	w.seqs[author]++
	raw, _ := json.Marshal(body)
	probe, err := Decode(&entry.Entry{Payload: entry.Payload{Kind: kind, Body: raw}})
	if err != nil {
		w.t.Fatal(err)
	}
	p, o := entry.Seal(entry.Payload{Kind: kind, Origin: origin, Author: author, Seq: w.seqs[author], Time: w.clock, Body: raw}, SealedRefs(probe), make([]byte, 32))
	env, err := entry.Sign(p, w.keys[author])
	if err != nil {
		w.t.Fatal(err)
	}
	be, _ := entry.Open(env)
	blind, _ := Decode(be)
	oe, _ := entry.Open(env)
	if err := oe.Unseal(*o); err != nil {
		w.t.Fatal(err)
	}
	opened, err := Decode(oe)
	if err != nil {
		w.t.Fatal(err)
	}
	w.clock = w.clock.Add(time.Minute)
	a, err := w.s.Apply(opened, w.s.Size, w.clock)
	if err != nil {
		w.t.Fatalf("%s by %s: %v", kind, author, err)
	}
	w.log = append(w.log, logged{blind, w.clock})
	return both{blind, opened}, a
}

// a party's auditor that skipped finding.proposed (still the
// mediators' deliberation at its first round) and later holds the openings
// of the signatures (the finding took effect, so they are public) crashes:
// the placeholder finding has Quorum 0 and no Allegation, so the first
// signature "takes effect" and takeEffect dereferences s.allegations[""].
func TestOpenedSignatureOnAPlaceholderFinding(t *testing.T) {
	w := enrolled(t)
	al := w.must("pk", KindAllegationFiled, filing("AF")).Ref.ID // shared with the parties
	w.must("tr", KindAllegationAdmitted, truce.Admission{Allegation: al})
	cs := w.must("tr", KindCaseOpened, truce.CaseOpening{Allegation: al, Title: "Case"}).Ref.ID
	nClear := len(w.log)
	prop, _ := w.sealLive("tr", KindFindingProposed, truce.FindingProposal{Case: cs, Determination: truce.DeterminationNotConfirmed,
		Confidence: "low", Reasoning: "Not enough."})
	fd := "FD-0001"
	s1, _ := w.sealLive("tr", KindFindingSigned, truce.FindingSignature{Finding: fd, Concur: true})
	s2, _ := w.sealLive("qa", KindFindingSigned, truce.FindingSignature{Finding: fd, Concur: true})
	if f := w.s.findings[fd]; f.Status != truce.FindingInEffect {
		t.Fatalf("the finding is %s", f.Status)
	}

	reader := New()
	for i := 0; i < nClear; i++ {
		if _, err := reader.Apply(w.log[i].cmd, int64(i), w.log[i].logged); err != nil {
			t.Fatal(err)
		}
	}
	// Round 1: the proposal is the mediators' deliberation: no opening.
	if err := reader.Skip(prop.blind, reader.Size, w.log[nClear].logged); err != nil {
		t.Fatal(err)
	}
	// Round 2: the finding is in effect, so the signatures' openings are
	// served to the party (their Keeper, the finding, is now public).
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("applying an opened signature on a placeholder finding panics: %v", r)
		}
	}()
	_, err := reader.Apply(s1.opened, reader.Size, w.log[nClear+1].logged)
	t.Logf("first signature on the placeholder: err=%v, finding now %s (quorum %d)", err, reader.findings[fd].Status, reader.findings[fd].Quorum)
	_ = s2
}

// Skip checks nothing about sealing. A sealed entry that acts
// only on records the parties share (here an admission of a shared
// allegation) is refused by the live rules, but a party's auditor, which
// can see that every record it names is shared, skips it as "unchecked"
// instead of reporting the violation.
func TestSkipRefusesAWronglySealedEntry(t *testing.T) {
	w := enrolled(t)
	al := w.must("pk", KindAllegationFiled, filing("AF")).Ref
	// What a doctored log carries (the live rules refuse it, as TestSealing shows).
	w.seqs["tr"]++
	raw, _ := json.Marshal(truce.Admission{Allegation: al.ID, Note: "hidden from the parties"})
	p, _ := entry.Seal(entry.Payload{Kind: KindAllegationAdmitted, Origin: origin, Author: "tr", Seq: w.seqs["tr"], Time: w.clock, Body: raw},
		[]truce.Ref{al}, make([]byte, 32))
	env, _ := entry.Sign(p, w.keys["tr"])
	e, _ := entry.Open(env)
	blind, _ := Decode(e)
	reader := New()
	for i, l := range w.log {
		if _, err := reader.Apply(l.cmd, int64(i), l.logged); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok := reader.Visibility(al); !ok || v != truce.Parties || reader.Tainted(al) {
		t.Fatalf("the reader knows %s as %q %v", al.ID, v, ok)
	}
	if err := reader.Skip(blind, reader.Size, w.clock.Add(time.Minute)); err == nil {
		t.Errorf("a sealed allegation.admitted naming only the shared %s is skipped, not refused: the party cannot tell it was hidden from it", al.ID)
	}
}

// a placeholder (a record a skipped entry made) is never in
// s.created, so Visibility says it does not exist and checkSealing lets a
// clear entry about a mechanism-only record through on a party's auditor:
// here a custody note on a mediator's internal evidence, in clear in the
// log.
func TestClearEntryOnAPlaceholderRefused(t *testing.T) {
	w := enrolled(t)
	ev := truce.EvidenceRegistration{SHA256: strings.Repeat("ab", 32), MediaType: "image/jpeg", Size: 10, CapturedBy: "TR team",
		CapturedAt: t0.Add(-time.Hour), Description: "Crater photo"}
	reg, _ := w.sealLive("tr", KindEvidenceRegistered, ev) // default visibility: mechanism
	_ = reg
	// The live rules refuse the custody note in clear...
	if _, err := w.apply("tr", KindEvidenceCustody, truce.CustodyEvent{Evidence: "EV-0001", Action: "examined", Note: "secret lab result"}); err == nil {
		t.Fatal("the live rules took a clear entry on internal evidence")
	}
	w.seqs["tr"]--
	// ...a doctored log carries it anyway.
	w.seqs["tr"]++
	raw, _ := json.Marshal(truce.CustodyEvent{Evidence: "EV-0001", Action: "examined", Note: "secret lab result"})
	env, _ := entry.Sign(entry.Payload{Kind: KindEvidenceCustody, Origin: origin, Author: "tr", Seq: w.seqs["tr"], Time: w.clock, Body: raw}, w.keys["tr"])
	e, _ := entry.Open(env)
	clear, _ := Decode(e)

	reader := w.reader()
	if _, err := reader.Apply(clear, reader.Size, w.clock.Add(time.Minute)); err == nil {
		t.Errorf("a party's reader applies, as checked, a clear custody note on the mechanism's evidence EV-0001 (the live rules refuse it)")
	}
}
