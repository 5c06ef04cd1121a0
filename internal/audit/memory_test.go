package audit

import (
	"context"
	"testing"

	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/testkit"
)

// TestCheckerKeepsNoBundles: the entry bundles are the whole log; a
// verifier that kept them held every entry in memory (9 GB at a million).
// Only an auditor, which compares what it is served with them, keeps them,
// and drops them once they are full and checked (Auditor.round).
func TestCheckerKeepsNoBundles(t *testing.T) {
	ctx := context.Background()
	env := testkit.New(t, instance.Options{})
	for i := range 300 { // more than a full bundle of 256
		env.Submit(t, env.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", i)))
	}
	size, root, _ := env.In.Store.Tree(ctx)
	var leaves [][]byte
	store.Leaves(ctx, env.In.Store, 0, size, func(_ int64, l []byte) error { leaves = append(leaves, append([]byte(nil), l...)); return nil })
	for _, keep := range []bool{false, true} {
		c, err := newChecker(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.bundles = keep
		if err := c.addAll(ctx, 0, leaves); err != nil {
			t.Fatal(err)
		}
		if err := c.settle(ctx); err != nil {
			t.Fatal(err)
		}
		c.close()
		if c.tree.Root() != root {
			t.Fatalf("bundles kept %v: the recomputed root differs from the stored", keep)
		}
		bundles := 0
		for k := range c.tiles {
			if k[0] == -1 {
				bundles++
			}
		}
		if keep != (bundles > 0) {
			t.Fatalf("bundles kept %v: %d bundles in memory", keep, bundles)
		}
	}
}
