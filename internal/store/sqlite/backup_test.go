package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/truce-mvm/truce/internal/store/storetest"
	"github.com/truce-mvm/truce/internal/tlog"
)

// TestSnapshotWhileWriting takes snapshots of a database another
// connection keeps appending batches to: each is one committed state (its
// tiles give the root of its tree, its newest checkpoint is for its tree),
// private to its owner, and the writer never waits on it long enough to
// fail.
func TestSnapshotWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "truce.db")
	db, err := Open(ctx, src, Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	done := make(chan error, 1)
	go func() { done <- storetest.Load(t, db, 300, 7, 300) }()
	var sizes []int64
	for i := 0; ; i++ {
		dst := filepath.Join(dir, fmt.Sprintf("snap-%d.db", i))
		if err := Snapshot(ctx, src, dst); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("the snapshot's mode: %v %v", fi, err)
		}
		snap, err := Open(ctx, dst, Options{})
		if err != nil {
			t.Fatal(err)
		}
		size, root, err := snap.Tree(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if size%7 != 0 {
			t.Fatalf("snapshot %d holds part of a batch: %d entries", i, size)
		}
		if size > 0 {
			if got, err := tlog.RootAt(ctx, snap, size); err != nil || got != root {
				t.Fatalf("snapshot %d: its tiles give root %v (%v), its tree says %v", i, got, err, root)
			}
			if _, cpSize, err := snap.Checkpoint(ctx); err != nil || cpSize != size {
				t.Fatalf("snapshot %d: newest checkpoint %d (%v) for a tree of %d", i, cpSize, err, size)
			}
		}
		snap.Close()
		sizes = append(sizes, size)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the writer failed beside the snapshots: %v", err)
			}
			if len(sizes) < 2 {
				t.Fatalf("only %d snapshots taken while writing", len(sizes))
			}
			t.Logf("snapshots at sizes %v", sizes)
			if err := Snapshot(ctx, src, filepath.Join(dir, "snap-0.db")); err == nil {
				t.Fatal("a snapshot overwrote an existing file")
			}
			return
		default:
		}
	}
}
