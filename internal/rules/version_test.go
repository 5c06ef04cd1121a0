package rules

import (
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
	_, err := w.apply(truce.SystemAuthor, KindInstanceCreated, Instance{Rules: 7, Origin: origin, Name: "test", SystemKey: sys.PublicKey(), LogKey: "x"})
	if err == nil || !strings.Contains(err.Error(), "rules version 7 is not known") || w.s.Size != 0 {
		t.Fatalf("a log of rules version 7: %v", err)
	}
}
