package postgres

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
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

// waitLocked waits until n lock requests wait.
func waitLocked(t *testing.T, db *DB, n int) {
	for i := 0; i < 100; i++ {
		var waiting int
		db.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE NOT granted`).Scan(&waiting)
		if waiting >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d lock requests ever waited", n)
}

// holdCheckpoint holds a checkpoint row of size until release: a batch
// with that checkpoint stops inside its transaction there, after taking
// the tree's row (as a writer that is slow to commit does).
func holdCheckpoint(t *testing.T, db *DB, size int64) (release func()) {
	ctx := context.Background()
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO checkpoints (size, note) VALUES ($1, 'held')`, size); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback(ctx) }) }
	t.Cleanup(release)
	return release
}

// Two writers (two processes): B's batch extends the tree A is still
// committing. B is refused, with nothing written, rather than reading the
// records' largest seq from before A's commit (and reusing A's); built
// again once A committed, it is taken, each record with its own seq.
func TestBatchBehindACommit(t *testing.T) {
	ctx := context.Background()
	a, b := openTwo(t, Options{Migrate: true})
	root := [32]byte{1}
	release := holdCheckpoint(t, a, 1)
	errA := make(chan error, 1)
	go func() {
		errA <- a.Append(ctx, &store.Batch{Start: 0, Size: 1, Root: root, Records: []truce.Record{rec("a1", "alpha")}, Checkpoint: []byte("cp1")})
	}()
	waitLocked(t, a, 1)
	behind := &store.Batch{Start: 1, Size: 2, Root: root, Records: []truce.Record{rec("b1", "beta")}}
	if err := b.Append(ctx, behind); err == nil || !strings.Contains(err.Error(), "does not extend") {
		t.Fatalf("a batch extending an uncommitted one = %v", err)
	}
	release()
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	if err := b.Append(ctx, behind); err != nil {
		t.Fatalf("a batch extending the committed tree was refused: %v", err)
	}
	var seqs []int64
	rows, _ := a.pool.Query(ctx, `SELECT seq FROM records ORDER BY id`)
	for rows.Next() {
		var s int64
		rows.Scan(&s)
		seqs = append(seqs, s)
	}
	if len(seqs) != 2 || seqs[0] != 1 || seqs[1] != 2 {
		t.Fatalf("seqs %v, want [1 2]", seqs)
	}
}

// The same for AddCheckpoint: its "newest checkpoint" must be read after
// the lock wait, or a checkpoint older than the newest gets stored.
func TestCheckpointReadBeforeLockWait(t *testing.T) {
	ctx := context.Background()
	a, b := openTwo(t, Options{Migrate: true})
	root := [32]byte{1}
	if err := a.Append(ctx, &store.Batch{Start: 0, Size: 1, Root: root, Checkpoint: []byte("cp1")}); err != nil {
		t.Fatal(err)
	}
	release := holdCheckpoint(t, a, 3)
	errA := make(chan error, 1)
	go func() {
		errA <- a.Append(ctx, &store.Batch{Start: 1, Size: 3, Root: root, Checkpoint: []byte("cp3")})
	}()
	waitLocked(t, a, 1)
	errB := make(chan error, 1)
	go func() { errB <- b.AddCheckpoint(ctx, 2, []byte("cp2")) }()
	waitLocked(t, b, 2)
	release()
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
