package sequencer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/tlog"
)

// brokenStore fails, once armed, every batch and every read of the tree
// (so that the state cannot be rebuilt after a failed batch), and records
// the sizes of the checkpoints it is asked to add with the size of the
// tree it holds then.
type brokenStore struct {
	store.Store
	mu      sync.Mutex
	armed   bool
	offered [][2]int64 // checkpoint size, stored tree size
}

func (b *brokenStore) arm() {
	b.mu.Lock()
	b.armed = true
	b.mu.Unlock()
}

func (b *brokenStore) isArmed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.armed
}

func (b *brokenStore) Append(ctx context.Context, batch *store.Batch) error {
	if b.isArmed() {
		return errors.New("injected fault: the store is gone")
	}
	return b.Store.Append(ctx, batch)
}

func (b *brokenStore) Tree(ctx context.Context) (int64, tlog.Hash, error) {
	if b.isArmed() {
		return 0, tlog.Hash{}, errors.New("injected fault: the store is gone")
	}
	return b.Store.Tree(ctx)
}

func (b *brokenStore) AddCheckpoint(ctx context.Context, size int64, signed []byte) error {
	stored, _, err := b.Store.Tree(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.offered = append(b.offered, [2]int64{size, stored})
	b.mu.Unlock()
	return b.Store.AddCheckpoint(ctx, size, signed)
}

// openOver opens a sequencer over st (env's store, wrapped), after
// closing env's own.
func openOver(t *testing.T, env *testkit.Env, st store.Store, interval time.Duration) *sequencer.Sequencer {
	t.Helper()
	env.In.Seq.Close()
	skey, err := os.ReadFile(filepath.Join(env.Dir, instance.LogKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := entry.ReadKeyFile(filepath.Join(env.Dir, instance.SystemKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	seq, err := sequencer.Open(context.Background(), sequencer.Config{
		Store: st, LogKey: signer, System: sys, Clock: env.Clock.Now, CheckpointInterval: interval,
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// TestNoCheckpointForAFailedBatch: a batch whose commit fails, when the
// state cannot be rebuilt after it (the store is gone), leaves the
// sequencer broken — and its tree as the store holds it. No checkpoint is
// then signed for a tree that holds the failed batch: the store's tree is
// the only one a checkpoint may name (with another writer, the note
// would sign a fork).
func TestNoCheckpointForAFailedBatch(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	st := &brokenStore{Store: env.In.Store}
	seq := openOver(t, env, st, time.Hour)
	pk := env.Signers["pk-liaison"]
	submit := func(i int) error {
		_, err := seq.Submit(context.Background(), pk.Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", i)), nil, nil)
		return err
	}
	// The first batch carries a checkpoint, the second none (the interval
	// has not passed): its tree waits for one.
	for i := range 2 {
		if err := submit(i); err != nil {
			t.Fatal(err)
		}
	}
	st.arm()
	if err := submit(2); truce.ErrorCode(err) != truce.CodeUnavailable {
		t.Fatalf("a batch the store failed = %v, want unavailable", err)
	}
	for deadline := time.Now().Add(5 * time.Second); seq.Err() == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sequencer whose state could not be rebuilt does not say it is broken")
		}
	}
	time.Sleep(50 * time.Millisecond) // the checkpoint due for the committed tree
	seq.Close()
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, o := range st.offered {
		if o[0] > o[1] {
			t.Errorf("a checkpoint for size %d was signed and offered to a store whose tree has %d", o[0], o[1])
		}
	}
	if cp := seq.Checkpoint(); cp != nil {
		if size, _, _ := env.In.Store.Tree(context.Background()); cp.Size > size {
			t.Errorf("published checkpoint of size %d for a stored tree of %d", cp.Size, size)
		}
	}
}

// TestSubmitAfterClose: a submission that comes once the sequencer is
// closed is refused, never left waiting: the request may go into the
// queue the closed loop no longer reads.
func TestSubmitAfterClose(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	env.In.Seq.Close()
	pk := env.Signers["pk-liaison"]
	done := make(chan error)
	go func() {
		for i := range 50 {
			if err := env.In.Seq.Sync(context.Background()); err == nil {
				done <- errors.New("a Sync after Close succeeded")
				return
			}
			_, err := env.In.Seq.Submit(context.Background(), pk.Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", i)), nil, nil)
			if err == nil {
				done <- errors.New("a submission after Close was logged")
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a submission after Close is still waiting for an answer")
	}
}
