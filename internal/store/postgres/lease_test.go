package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/storetest"
)

// TestLeaseFences is a leader paused past its lease: another process
// takes the lease, and the first one's batches are refused from then on,
// its renewal too, and nothing it sends reaches the log.
func TestLeaseFences(t *testing.T) {
	ctx := context.Background()
	a, b := openTwo(t, Options{Migrate: true})
	const ttl = 700 * time.Millisecond

	la, ok, err := a.Acquire(ctx, "a", "http://a.example", ttl)
	if err != nil || !ok || la.Term != 1 || la.Holder != "a" || !la.Held {
		t.Fatalf("first acquire = %+v %v %v", la, ok, err)
	}
	if l, ok, err := b.Acquire(ctx, "b", "http://b.example", ttl); err != nil || ok || l.Holder != "a" || l.Addr != "http://a.example" {
		t.Fatalf("acquiring a held lease = %+v %v %v, want refused naming a", l, ok, err)
	}
	if err := storetest.Load(t, a, 1, 3, 10); err != nil {
		t.Fatalf("the holder's batch: %v", err)
	}
	if err := storetest.Load(t, b, 1, 3, 10); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("a batch from a process that never held the lease = %v, want ErrLeaseLost", err)
	}
	if err := a.Renew(ctx, ttl); err != nil {
		t.Fatal(err)
	}

	// a is paused: its lease lapses and b takes it.
	if l := takeLapsed(t, b, "b", "http://b.example", ttl); l.Term != 2 || l.Holder != "b" {
		t.Fatalf("the new lease = %+v", l)
	}
	size, _, _ := a.Tree(ctx)
	if err := storetest.Load(t, a, 1, 3, 10); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("the paused leader's batch after losing the lease = %v, want ErrLeaseLost", err)
	}
	if after, _, _ := a.Tree(ctx); after != size {
		t.Fatalf("the fenced batch changed the tree: %d → %d", size, after)
	}
	if err := a.Renew(ctx, ttl); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("the paused leader's renewal = %v, want ErrLeaseLost", err)
	}
	if err := storetest.Load(t, b, 1, 3, 10); err != nil {
		t.Fatalf("the new holder's batch: %v", err)
	}

	// Released, the lease is free at once, and a new term fences b.
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if l, ok, err := a.Acquire(ctx, "a", "", ttl); err != nil || !ok || l.Term != 3 {
		t.Fatalf("acquire after release = %+v %v %v", l, ok, err)
	}
	if err := storetest.Load(t, b, 1, 1, 10); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("a batch after releasing = %v, want ErrLeaseLost", err)
	}
}

// takeLapsed has db take the lease once it lapses, within 5 s.
func takeLapsed(t *testing.T, db *DB, holder, addr string, ttl time.Duration) store.Lease {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		l, ok, err := db.Acquire(context.Background(), holder, addr, ttl)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatal("the lapsed lease was never taken")
		}
	}
}
