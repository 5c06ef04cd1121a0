package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/storetest"
)

// TestFencedBehindTheNewLeader: a leader paused past its lease wakes with
// a batch built on the tree as it left it; meanwhile the new holder has
// appended. Both checks fail: the batch is refused as the lease lost
// (ErrLeaseLost), so that the old leader stands by at once, rather than
// as a store failure after which it reloads and goes on leading.
func TestFencedBehindTheNewLeader(t *testing.T) {
	ctx := context.Background()
	a, b := openTwo(t, Options{Migrate: true})
	const ttl = 300 * time.Millisecond
	if _, ok, err := a.Acquire(ctx, "a", "", ttl); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := storetest.Load(t, a, 1, 2, 10); err != nil {
		t.Fatal(err)
	}
	paused := storetest.NextBatch(t, a, 3)
	takeLapsed(t, b, "b", "", ttl)
	if err := storetest.Load(t, b, 1, 2, 10); err != nil {
		t.Fatalf("the new holder's batch: %v", err)
	}
	size, _, _ := b.Tree(ctx)
	if err := a.Append(ctx, paused); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("the paused leader's batch behind the new leader's = %v, want ErrLeaseLost", err)
	}
	if after, _, _ := b.Tree(ctx); after != size {
		t.Fatalf("the fenced batch changed the tree: %d → %d", size, after)
	}
}
