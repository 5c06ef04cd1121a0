package rules

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
)

// applySealed signs body sealed (with refs as the payload says them) and
// applies it, opened.
func (w *world) applySealed(author, kind string, body any, refs []truce.Ref) (*Applied, *Command, error) {
	w.t.Helper()
	w.seqs[author]++
	raw, _ := json.Marshal(body)
	p, o := entry.Seal(entry.Payload{Kind: kind, Origin: origin, Author: author, Seq: w.seqs[author], Time: w.clock, Body: raw}, refs, make([]byte, 32))
	env, err := entry.Sign(p, w.keys[author])
	if err != nil {
		w.t.Fatal(err)
	}
	seen, err := entry.Open(env) // as a reader without the opening sees it
	if err != nil {
		return nil, nil, err
	}
	blind, err := Decode(seen)
	if err != nil {
		return nil, nil, err
	}
	e, _ := entry.Open(env)
	if err := e.Unseal(*o); err != nil {
		return nil, nil, err
	}
	cmd, err := Decode(e)
	if err != nil {
		return nil, nil, err
	}
	w.clock = w.clock.Add(time.Minute)
	a, err := w.s.Apply(cmd, w.s.Size, w.clock)
	if err == nil {
		w.log = append(w.log, logged{blind, w.clock})
	}
	return a, blind, err
}

// reader replays the world's log as a reader without openings: sealed
// entries skipped, the rest applied.
func (w *world) reader() *State {
	w.t.Helper()
	reader := New()
	for i, l := range w.log {
		var err error
		if l.cmd.Blind() {
			err = reader.Skip(l.cmd, int64(i), l.logged)
		} else {
			_, err = reader.Apply(l.cmd, int64(i), l.logged)
		}
		if err != nil {
			w.t.Fatalf("entry %d (%s): %v", i, l.cmd.Kind(), err)
		}
	}
	return reader
}

// enrolled is a strict world whose parties are enrolled.
func enrolled(t *testing.T) *world {
	w := newStrictWorld(t)
	for _, m := range []string{"pk", "af"} {
		for _, by := range []string{"tr", "qa"} {
			w.must(by, KindKeyApproved, KeyApproval{Member: m, Key: w.keys[m].ID()})
		}
	}
	w.must("af", KindKeyApproved, KeyApproval{Member: "af2", Key: w.keys["af2"].ID()})
	return w
}

// Under sealing rules an entry about a record kept within the mechanism
// is sealed, every other entry is in clear, and a sealed entry says in
// clear exactly the records its body names.
func TestSealing(t *testing.T) {
	w := enrolled(t)
	internal := filing("AF")
	internal.Visibility = truce.Internal
	if _, err := w.apply("pk", KindAllegationFiled, internal); err == nil || !strings.Contains(err.Error(), "must be sealed") {
		t.Fatalf("a mechanism-only filing in clear: %v", err)
	}
	w.seqs["pk"]-- // a refused entry does not use up its seq
	shared := filing("AF")
	if _, _, err := w.applySealed("pk", KindAllegationFiled, shared, nil); err == nil || !strings.Contains(err.Error(), "must be in clear") {
		t.Fatalf("a shared filing sealed: %v", err)
	}
	w.seqs["pk"]--
	a, _, err := w.applySealed("pk", KindAllegationFiled, internal, nil)
	if err != nil {
		t.Fatal(err)
	}
	al := a.Ref.ID
	// Acting on it: sealed, naming it in clear, and only it.
	wrong := []truce.Ref{{Type: TypeAllegation, ID: "AL-9999"}}
	if _, _, err := w.applySealed("tr", KindAllegationAdmitted, truce.Admission{Allegation: al}, wrong); err == nil || !strings.Contains(err.Error(), "refs") {
		t.Fatalf("a sealed entry naming other records in clear: %v", err)
	}
	w.seqs["tr"]--
	if _, _, err := w.applySealed("tr", KindAllegationAdmitted, truce.Admission{Allegation: al}, []truce.Ref{{Type: TypeAllegation, ID: al}}); err != nil {
		t.Fatal(err)
	}
	// Not before version 3.
	v2 := newWorldAt(t, 2, []MemberRegistration{{ID: "adm", Name: "Admin", Role: truce.RoleAdmin, Party: truce.Mechanism}})
	if _, _, err := v2.applySealed("adm", KindCommitmentUpdated, truce.CommitmentUpdate{Commitment: "hotline", Status: "done"}, nil); err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("a sealed entry under version 2: %v", err)
	}
}

// A reader without an opening checks a sealed entry's author, key and
// seq, numbers what it creates, and marks what it names; the entries in
// clear after it are checked as usual.
func TestSkip(t *testing.T) {
	w := enrolled(t)
	internal := filing("AF")
	internal.Visibility = truce.Internal
	if _, _, err := w.applySealed("pk", KindAllegationFiled, internal, nil); err != nil {
		t.Fatal(err)
	}
	shared := w.must("pk", KindAllegationFiled, filing("AF")).Ref
	w.must("af", KindReplyFiled, truce.Reply{Allegation: shared.ID, Response: "deny", Narrative: "No."})
	reader := w.reader()
	hidden := Ref{Type: TypeAllegation, ID: "AL-0001"}
	if shared.ID != "AL-0002" || !reader.Tainted(hidden) || reader.Tainted(shared) || reader.Skipped() != 1 {
		t.Fatalf("the reader: shared %s, tainted %v/%v, skipped %d", shared.ID, reader.Tainted(hidden), reader.Tainted(shared), reader.Skipped())
	}
	want, _ := w.s.Record(shared)
	got, err := reader.Record(shared)
	if err != nil || string(got.Doc) != string(want.Doc) {
		t.Fatalf("the reader derives %s as %s, the log as %s", shared.ID, got.Doc, want.Doc)
	}
	// A blind entry is still checked for who signed it: a seq reused is
	// refused.
	again := w.log[len(w.log)-3].cmd
	if err := reader.Skip(again, reader.Size, w.clock); err == nil {
		t.Fatal("a blind entry with a used seq was skipped")
	}
}

// Keys a party's member did not add, added under rules that did not ask
// the party, are named for auditors, until revoked.
func TestUnconsentedKeys(t *testing.T) {
	w := newWorld(t) // version 1
	forged, _ := entry.GenerateKey("af")
	w.must("adm", KindKeyAdded, KeyAddition{Member: "af", Key: forged.PublicKey()})
	own, _ := entry.GenerateKey("pk")
	w.must("pk", KindKeyAdded, KeyAddition{Member: "pk", Key: own.PublicKey()})
	var named []string
	for _, k := range w.s.Unconsented() {
		named = append(named, k.Member+" "+k.Key)
	}
	list := strings.Join(named, "\n")
	if !strings.Contains(list, "af "+forged.ID()) || strings.Contains(list, own.ID()) {
		t.Fatalf("unconsented keys: %v", named)
	}
	// The liaisons' keys the instance registered are named too; the
	// mediators' and the staff's are not.
	if !strings.Contains(list, "pk "+w.keys["pk"].ID()) || strings.Contains(list, w.keys["tr"].ID()) || strings.Contains(list, w.keys["mon"].ID()) {
		t.Fatalf("unconsented keys: %v", named)
	}
	w.must("adm", KindKeyRevoked, KeyRevocation{Member: "af", Key: forged.ID(), Reason: "not AF's"})
	for _, k := range w.s.Unconsented() {
		if k.Key == forged.ID() {
			t.Fatal("a revoked key is still named")
		}
	}
}
