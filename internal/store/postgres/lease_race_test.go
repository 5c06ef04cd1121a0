package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/storetest"
)

// TestLeaseTakenUnderLoad races the taking of a lapsed lease against the
// old holder's batches, which keep coming: whichever way each race falls,
// once the new holder's Acquire has returned, not one more batch of the
// old holder's reaches the log (the lock of the tree's row orders them,
// and each batch reads the term only once it holds that lock).
func TestLeaseTakenUnderLoad(t *testing.T) {
	ctx := context.Background()
	a, b := openTwo(t, Options{Migrate: true})
	const ttl = 30 * time.Millisecond
	holder, other := a, b
	if _, ok, err := holder.Acquire(ctx, "a", "", ttl); err != nil || !ok {
		t.Fatal(ok, err)
	}
	for round := range 12 {
		// The holder appends without renewing, as a paused leader that
		// wakes and goes on would; the other takes the lease once lapsed.
		done := make(chan error, 1)
		go func() {
			for {
				if err := storetest.Load(t, holder, 1, 2, 10); err != nil {
					done <- err
					return
				}
			}
		}()
		for {
			_, ok, err := other.Acquire(ctx, "next", "", ttl)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		taken, _, err := other.Tree(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("round %d: the old holder's batch = %v, want ErrLeaseLost", round, err)
		}
		if after, _, _ := other.Tree(ctx); after != taken {
			t.Fatalf("round %d: the old holder appended after the lease was taken: %d → %d", round, taken, after)
		}
		holder, other = other, holder
	}
}
