package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "truce.db"), Options{Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestRefusesOldSchemaUnlessMigrating(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "truce.db")
	db, err := Open(ctx, path, Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	// A build with one more migration than the database has seen.
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	next := fstest.MapFS{"9999_extra.sql": {Data: []byte("CREATE TABLE extra (x INTEGER);")}}
	names, _ := fs.Glob(saved, "*.sql")
	for _, n := range names {
		b, _ := fs.ReadFile(saved, n)
		next[n] = &fstest.MapFile{Data: b}
	}
	migrations = next
	if _, err := Open(ctx, path, Options{}); !errors.Is(err, store.ErrSchema) {
		t.Fatalf("Open on an old schema = %v, want ErrSchema", err)
	}
	db, err = Open(ctx, path, Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.w.ExecContext(ctx, "INSERT INTO extra (x) VALUES (1)"); err != nil {
		t.Fatalf("migration 2 not applied: %v", err)
	}
	// And a build older than the database refuses it too.
	migrations = saved
	if _, err := Open(ctx, path, Options{Migrate: true}); err == nil {
		t.Fatal("opened a database newer than the build")
	}
}

// TestWALBounded: under sustained commits, with readers, the write-ahead
// log stays near its limit instead of growing with everything written
// since the server started, and an idle store truncates it.
func TestWALBounded(t *testing.T) {
	const limit = 2 << 20
	path := filepath.Join(t.TempDir(), "truce.db")
	db, err := Open(context.Background(), path, Options{Migrate: true, WALLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a reader, as the API is
		for {
			select {
			case <-stop:
				return
			default:
				db.Records(context.Background(), truce.Query{Type: "allegation", Access: truce.Everything, Limit: 20})
			}
		}
	}()
	// 40 MiB of records in 4 KiB documents: twenty times the limit.
	if err := storetest.Load(t, db, 400, 25, 4<<10); err != nil {
		t.Fatal(err)
	}
	// One batch and what the checkpointer lags by may pass the limit
	// before the writer folds it — more since each batch also writes the
	// search index of its 4 KiB documents —; nothing like the 40 MiB
	// written.
	if m := db.WALMax(); m > 6*limit {
		t.Fatalf("the WAL reached %d bytes with a limit of %d", m, limit)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fi, err := os.Stat(path + "-wal")
		if err == nil && fi.Size() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an idle store kept a WAL of %d bytes", fi.Size())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDiskFull: a full database refuses the batch with the coded error
// that surfaces answer 507 with, keeps what it had, and says it cannot be
// written; once there is room again, it says so and takes writes.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "truce.db")
	db, err := Open(ctx, path, Options{Migrate: true, MaxPages: 60})
	if err != nil {
		t.Fatal(err)
	}
	err = storetest.Load(t, db, 100, 4, 8<<10)
	if truce.ErrorCode(err) != truce.CodeNoSpace {
		t.Fatalf("filling the database: %v, want %s", err, truce.CodeNoSpace)
	}
	size, _, _ := db.Tree(ctx)
	if size == 0 || size%4 != 0 {
		t.Fatalf("a full database holds a tree of %d entries: part of a batch", size)
	}
	if err := db.Writable(ctx); truce.ErrorCode(err) != truce.CodeNoSpace {
		t.Fatalf("Writable on a full database = %v", err)
	}
	// Room again, as when disk space is freed: it says so (after its
	// probe interval) without waiting for a batch.
	if _, err := db.w.Exec("PRAGMA max_page_count = 100000"); err != nil {
		t.Fatal(err)
	}
	db.probed.Store(0)
	if err := db.Writable(ctx); err != nil {
		t.Fatalf("Writable once there is room = %v", err)
	}
	db.Close()
	// Room again (the cap lifted, as disk space freed).
	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Writable(ctx); err != nil {
		t.Fatalf("Writable with room = %v", err)
	}
	if after, _, _ := db.Tree(ctx); after != size {
		t.Fatalf("reopened with %d entries, had %d", after, size)
	}
}

// TestFindUsesIndex: looking a source up by hash or address reads an
// index, not every record.
func TestFindUsesIndex(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "truce.db"), Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for k, q := range findSQL {
		var plan strings.Builder
		rows, err := db.r.Query("EXPLAIN QUERY PLAN "+q, "x")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan.WriteString(detail + "; ")
		}
		rows.Close()
		if !strings.Contains(plan.String(), "USING INDEX records_source_") {
			t.Errorf("Find %v: %s", k, plan.String())
		}
	}
}
