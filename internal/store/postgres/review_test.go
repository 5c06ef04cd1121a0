package postgres

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/store/storetest"
)

func rec(id, text string) truce.Record {
	return truce.Record{Type: "allegation", ID: id, Visibility: truce.Public, Created: 1, Updated: 1,
		Doc: []byte(`{"title":"` + text + `","description":"` + text + `"}`)}
}

// waitLocked waits until some backend waits on a lock.
func waitLocked(t *testing.T, db *DB) {
	for i := 0; i < 100; i++ {
		var n int
		db.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE NOT granted`).Scan(&n)
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the second writer never waited on the tree's lock")
}

// Two writers (two processes): B's batch extends the tree A is committing.
// B's SELECT size, (SELECT MAX(seq) ...) FOR UPDATE waits for A, then sees
// A's tree size (EvalPlanQual re-reads the locked row) but MAX(seq) from
// the snapshot taken before the wait: B reuses A's seq.
func TestSeqReadBeforeLockWait(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	held := make(chan struct{})
	var a *DB
	a, u := open(t, Options{Migrate: true, Fail: func(step string) error {
		if step == "checkpoint" {
			close(held)
			<-release
		}
		return nil
	}})
	b, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	root := [32]byte{1}
	errA := make(chan error, 1)
	go func() {
		errA <- a.Append(ctx, &store.Batch{Start: 0, Size: 1, Root: root, Records: []truce.Record{rec("a1", "alpha")}})
	}()
	<-held
	errB := make(chan error, 1)
	go func() {
		errB <- b.Append(ctx, &store.Batch{Start: 1, Size: 2, Root: root, Records: []truce.Record{rec("b1", "beta")}})
	}()
	waitLocked(t, b)
	close(release)
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	if err := <-errB; err != nil {
		t.Fatalf("a batch extending the committed tree was refused: %v", err)
	}
}

// The same for AddCheckpoint: its "newest checkpoint" is read before the
// lock wait, so a checkpoint older than the newest gets stored.
func TestCheckpointReadBeforeLockWait(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	held := make(chan struct{})
	var once bool
	a, u := open(t, Options{Migrate: true, Fail: func(step string) error {
		if step == "checkpoint" && once {
			close(held)
			<-release
		}
		return nil
	}})
	b, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	root := [32]byte{1}
	if err := a.Append(ctx, &store.Batch{Start: 0, Size: 1, Root: root, Checkpoint: []byte("cp1")}); err != nil {
		t.Fatal(err)
	}
	once = true
	errA := make(chan error, 1)
	go func() {
		errA <- a.Append(ctx, &store.Batch{Start: 1, Size: 3, Root: root, Checkpoint: []byte("cp3")})
	}()
	<-held
	errB := make(chan error, 1)
	go func() { errB <- b.AddCheckpoint(ctx, 2, []byte("cp2")) }()
	waitLocked(t, b)
	close(release)
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	if err := <-errB; err == nil {
		t.Fatalf("AddCheckpoint(2) stored a checkpoint older than the newest (3)")
	}
}

// fold removes U+0300–U+036F from every script, SQLite's unicode61
// (remove_diacritics 2) only from Latin: "иод" finds "йод" on PostgreSQL only.
func TestFoldNonLatin(t *testing.T) {
	ctx := context.Background()
	pg, _ := open(t, Options{Migrate: true})
	sl, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	for _, s := range []store.Store{pg, sl} {
		if err := storetest.AppendRecords(t, s, []truce.Record{rec("x", "йод ёлка")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{"иод", "елка"} {
		p, _ := pg.Search(ctx, truce.Search{Text: q, Access: truce.Everything})
		s, _ := sl.Search(ctx, truce.Search{Text: q, Access: truce.Everything})
		if len(p) != len(s) {
			t.Errorf("search %q: PostgreSQL %d hits, SQLite %d", q, len(p), len(s))
		}
	}
}

// The portability check: INT/INTEGER are 32-bit on PostgreSQL and 64-bit
// on CockroachDB; an ALTER TABLE migration passes although apply() runs it
// in one transaction with UPDATE schema_version (a write).
func TestPortableMisses(t *testing.T) {
	for _, sql := range []string{
		`CREATE TABLE a (n INT PRIMARY KEY);`,
		`CREATE TABLE a (n INTEGER PRIMARY KEY);`,
	} {
		if len(portable(sql)) == 0 {
			t.Errorf("passed as portable: %s", strings.TrimSpace(sql))
		}
	}
}
