package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/stories"
)

// A log applies, at each index, the version of the rules in force there:
// adopting a version changes what later entries derive and nothing that
// came before; a version this build does not know is refused by name.
func TestRulesVersions(t *testing.T) {
	// A later build's next version: stricter about what is one story.
	next := LatestVersion + 1
	strict := versions[1]
	strict.Grouping = stories.Options{Window: strict.Grouping.Window, NearBits: 20, NearJaccard: 0.99, MinSimilar: 0.95, MinShingles: 20}
	versions[next] = strict
	defer delete(versions, next)

	rewrite := strings.NewReplacer("ended four-day talks", "concluded four-day talks", "officials said", "officials told reporters").Replace(istanbul)
	run := func(adoptAfter int) *world {
		w := newWorld(t)
		if w.s.Rules != 1 {
			t.Fatalf("a log whose instance names no version is at %d, want 1", w.s.Rules)
		}
		for i, text := range []string{istanbul, rewrite, istanbul + " Later, talks resumed.", rewrite + " Talks resumed later."} {
			if i == adoptAfter {
				w.must(truce.SystemAuthor, KindRulesAdopted, RulesAdoption{Version: next})
			}
			w.must("ana", KindSourceIngested, source(10+i, []string{"Khyber Courier", "Gulf Wire"}[i%2], text))
		}
		return w
	}
	storyOf := func(w *world, id string) string { r, _ := w.s.Report(id); return r.Story }

	v1 := run(-1)
	if storyOf(v1, "SRC-0002") != storyOf(v1, "SRC-0001") || storyOf(v1, "SRC-0004") != storyOf(v1, "SRC-0003") {
		t.Fatal("under version 1 the rewrites do not join their originals' story")
	}
	mixed := run(2) // the next version from the third source on
	if mixed.s.Rules != next {
		t.Fatalf("rules in force %d after the adoption", mixed.s.Rules)
	}
	if storyOf(mixed, "SRC-0002") != storyOf(mixed, "SRC-0001") {
		t.Error("adopting the next version changed where an earlier source went")
	}
	if storyOf(mixed, "SRC-0004") == storyOf(mixed, "SRC-0003") {
		t.Error("the next version, in force, was not applied to later sources")
	}
	// Replaying the same log gives the same: the version is in the log.
	again := run(2)
	for _, id := range []string{"SRC-0001", "SRC-0002", "SRC-0003", "SRC-0004"} {
		if storyOf(again, id) != storyOf(mixed, id) {
			t.Errorf("replay placed %s otherwise", id)
		}
	}
	// Versions only move forward, and only the system adopts them.
	if _, err := mixed.apply(truce.SystemAuthor, KindRulesAdopted, RulesAdoption{Version: next}); truce.ErrorCode(err) != truce.CodeConflict {
		t.Errorf("adopting the version in force: %v", err)
	}
	if _, err := mixed.apply("adm", KindRulesAdopted, RulesAdoption{Version: next}); truce.ErrorCode(err) != truce.CodeForbidden {
		t.Errorf("an admin adopting rules: %v", err)
	}
	if _, err := mixed.apply(truce.SystemAuthor, KindRulesAdopted, RulesAdoption{Version: 9}); err == nil || !strings.Contains(err.Error(), "not known to this build") {
		t.Errorf("adopting an unknown version: %v", err)
	}
}

// A log begun under a version this build does not know is refused at its
// first entry, saying so, rather than read under other rules.
func TestUnknownVersionRefused(t *testing.T) {
	w := &world{t: t, s: New(), keys: map[string]*entry.PrivateKey{}, seqs: map[string]uint64{}, clock: t0}
	sys, _ := entry.GenerateKey(truce.SystemAuthor)
	w.keys[truce.SystemAuthor] = sys
	_, err := w.apply(truce.SystemAuthor, KindInstanceCreated, Instance{Rules: LatestVersion + 1, Origin: origin, Name: "test", SystemKey: sys.PublicKey(), LogKey: "x"})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("rules version %d is not known", LatestVersion+1)) || w.s.Size != 0 {
		t.Fatalf("a log of rules version %d: %v", LatestVersion+1, err)
	}
}

// newStrictWorld is a world under the latest rules, its parties not yet
// enrolled.
func newStrictWorld(t *testing.T) *world {
	return newWorldAt(t, LatestVersion, []MemberRegistration{
		{ID: "tr", Name: "TR", Role: truce.RoleMediator, Party: "TR"},
		{ID: "qa", Name: "QA", Role: truce.RoleMediator, Party: "QA"},
		{ID: "pk", Name: "PK", Role: truce.RoleLiaison, Party: "PK"},
		{ID: "af", Name: "AF", Role: truce.RoleLiaison, Party: "AF"},
		{ID: "af2", Name: "AF 2", Role: truce.RoleLiaison, Party: "AF"},
		{ID: "adm", Name: "Admin", Role: truce.RoleAdmin, Party: truce.Mechanism},
	})
}

// Keys a party did not consent to sign nothing, and consent is counted
// afresh once a party is enrolled; a key the server holds manages no keys.
func TestKeyConsent(t *testing.T) {
	w := newStrictWorld(t)
	pkKey := w.keys["pk"].ID()
	approve := func(by, member string) error {
		_, err := w.apply(by, KindKeyApproved, KeyApproval{Member: member, Key: w.keys[member].ID()})
		return err
	}
	if _, err := w.apply("pk", KindAllegationFiled, filing("AF")); truce.ErrorCode(err) != truce.CodeRevokedKey {
		t.Fatalf("PK's key before its enrolment: %v", err)
	}
	w.must("tr", KindKeyApproved, KeyApproval{Member: "pk", Key: pkKey})
	if _, err := w.apply("pk", KindAllegationFiled, filing("AF")); truce.ErrorCode(err) != truce.CodeRevokedKey {
		t.Fatalf("PK's key with one mediator state's approval of two: %v", err)
	}
	if err := approve("tr", "pk"); err != nil { // the same state again: still one
		t.Fatal(err)
	}
	if err := approve("qa", "pk"); err != nil {
		t.Fatal(err)
	}
	w.must("pk", KindAllegationFiled, filing("AF"))
	// AF: one mediator's approval of af's key, then af2 enrolled by both.
	if err := approve("tr", "af"); err != nil {
		t.Fatal(err)
	}
	for _, by := range []string{"tr", "qa"} {
		if err := approve(by, "af2"); err != nil {
			t.Fatal(err)
		}
	}
	// Once AF has a key, its own approve its members' keys, not mediators.
	if err := approve("qa", "af"); truce.ErrorCode(err) != truce.CodeForbidden {
		t.Fatalf("a mediator approving for an enrolled party: %v", err)
	}
	// af2 gives up its key: AF is without one again, and the approval tr
	// gave af's key before AF was enrolled no longer counts.
	w.must("af2", KindKeyRevoked, KeyRevocation{Member: "af2", Key: w.keys["af2"].ID(), Reason: "lost"})
	if err := approve("qa", "af"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.apply("af", KindReplyFiled, truce.Reply{Allegation: "AL-0001", Response: truce.ReplyDeny, Narrative: "No."}); truce.ErrorCode(err) != truce.CodeRevokedKey {
		t.Fatalf("af's key with a stale approval and one fresh: %v", err)
	}
	// The administrator neither strips a party of its keys nor approves.
	if _, err := w.apply("adm", KindKeyRevoked, KeyRevocation{Member: "pk", Key: pkKey, Reason: "x"}); truce.ErrorCode(err) != truce.CodeForbidden {
		t.Fatalf("the admin revoking PK's key: %v", err)
	}
	// A key the server holds for pk, once PK consents, signs pk's work but
	// adds no key: else the server could make itself a key that looks pk's own.
	cust, _ := entry.GenerateKey("pk")
	w.must("adm", KindKeyAdded, KeyAddition{Member: "pk", Key: cust.PublicKey(), Custodial: true, Proof: cust.ProvePossession(origin, "pk")})
	w.must("pk", KindKeyApproved, KeyApproval{Member: "pk", Key: cust.ID()})
	other, _ := entry.GenerateKey("pk")
	w.keys["pk"] = cust // sign as pk with the custodial key
	if _, err := w.apply("pk", KindKeyAdded, KeyAddition{Member: "pk", Key: other.PublicKey(), Proof: other.ProvePossession(origin, "pk")}); truce.ErrorCode(err) != truce.CodeForbidden {
		t.Fatalf("a custodial key adding a key: %v", err)
	}
}
