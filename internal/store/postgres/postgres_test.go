package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/storetest"
	"github.com/truce-mvm/truce/internal/testkit/pgtest"
)

// testURL is the database the tests use (pgtest.Base).
func testURL(t testing.TB) string { return pgtest.Base(t) }

// Schema is pgtest.Schema.
func Schema(t testing.TB, base string) string { return pgtest.Schema(t, base) }

func open(t testing.TB, o Options) (*DB, string) {
	t.Helper()
	u := Schema(t, testURL(t))
	db, err := Open(context.Background(), u, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

// openTwo opens two handles on one fresh schema, as two processes over
// one database do; the first, a, with o.
func openTwo(t testing.TB, o Options) (a, b *DB) {
	t.Helper()
	a, u := open(t, o)
	b, err := Open(context.Background(), u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}

func TestConformance(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := open(t, Options{Migrate: true})
		return db
	})
}

func TestRefusesOldSchemaUnlessMigrating(t *testing.T) {
	ctx := context.Background()
	db, u := open(t, Options{Migrate: true})
	db.Close()

	// A build with one more migration than the database has seen.
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	next := fstest.MapFS{"9999_extra.sql": {Data: []byte("CREATE TABLE extra (x INT8);")}}
	names, _ := fs.Glob(saved, "*.sql")
	for _, n := range names {
		b, _ := fs.ReadFile(saved, n)
		next[n] = &fstest.MapFile{Data: b}
	}
	migrations = next
	if _, err := Open(ctx, u, Options{}); !errors.Is(err, store.ErrSchema) {
		t.Fatalf("Open on an old schema = %v, want ErrSchema", err)
	}
	db, err := Open(ctx, u, Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.pool.Exec(ctx, "INSERT INTO extra (x) VALUES (1)"); err != nil {
		t.Fatalf("the new migration was not applied: %v", err)
	}
	// And a build older than the database refuses it too.
	migrations = saved
	if _, err := Open(ctx, u, Options{Migrate: true}); err == nil {
		t.Fatal("opened a database newer than the build")
	}
}

// TestCrashMidBatch: a batch that fails at any step, or whose process
// dies before the commit, leaves nothing of itself; the store then takes
// the same batch whole.
func TestCrashMidBatch(t *testing.T) {
	for _, step := range []string{"begin", "tiles", "bundles", "records", "history", "checkpoint"} {
		t.Run(step, func(t *testing.T) {
			crash := errors.New("crash at " + step)
			armed := true
			db, _ := open(t, Options{Migrate: true, Fail: func(s string) error {
				if armed && s == step {
					return crash
				}
				return nil
			}})
			if err := storetest.Load(t, db, 1, 3, 10); !errors.Is(err, crash) {
				t.Fatalf("Append = %v, want the crash", err)
			}
			if size, _, _ := db.Tree(context.Background()); size != 0 {
				t.Fatalf("a crashed batch left a tree of %d", size)
			}
			if n, _ := db.Count(context.Background(), truce.Query{Type: "allegation", Access: truce.Everything}); n != 0 {
				t.Fatalf("a crashed batch left %d records", n)
			}
			armed = false
			if err := storetest.Load(t, db, 2, 3, 10); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestConcurrentBatches: two writers appending the same batch (two
// processes over one database) commit it once; the other is refused.
func TestConcurrentBatches(t *testing.T) {
	a, b := openTwo(t, Options{Migrate: true})
	// Both built before either appends: a writer built after the other's
	// commit would extend it, not race it.
	ba, bb := storetest.NextBatch(t, a, 5), storetest.NextBatch(t, b, 5)
	errs := make(chan error, 2)
	for _, w := range []struct {
		s store.Store
		b *store.Batch
	}{{a, ba}, {b, bb}} {
		go func() { errs <- w.s.Append(context.Background(), w.b) }()
	}
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("two writers of the same batch: %v and %v; want exactly one to commit", e1, e2)
	}
	if size, _, _ := a.Tree(context.Background()); size != 5 {
		t.Fatalf("tree of %d after one batch of 5", size)
	}
}

// TestIndexWords: a record's words are folded as a query's are, each
// indexed once, and bounded, so that no text makes a batch fail.
func TestIndexWords(t *testing.T) {
	if got := strings.Join(indexWords("Café CAFÉ naïve, «Kurram» گولہ-باری x"), " "); got != "cafe naive kurram گولہ باری x" {
		t.Fatalf("indexWords = %q", got)
	}
	var big strings.Builder
	for i := range 200000 {
		fmt.Fprintf(&big, "w%d ", i)
	}
	n := 0
	for _, w := range indexWords(big.String()) {
		n += len(w) + 1
	}
	if n > maxIndexBytes {
		t.Fatalf("indexed %d bytes of words", n)
	}
}

// TestSearchLargeText: a record whose text has more distinct words than
// a tsvector holds is stored and found.
func TestSearchLargeText(t *testing.T) {
	db, _ := open(t, Options{Migrate: true})
	var words []string
	for i := range 60000 {
		words = append(words, fmt.Sprintf("word%dlongerthanusual", i))
	}
	doc, _ := json.Marshal(map[string]string{"title": "Big", "narrative": strings.Join(words, " ")})
	recs := []truce.Record{{Type: "allegation", ID: "AL-1", Visibility: truce.Public, Created: 1, Updated: 1, Doc: doc}}
	if err := storetest.AppendRecords(t, db, recs); err != nil {
		t.Fatal(err)
	}
	hits, err := db.Search(context.Background(), truce.Search{Text: "word1longer", Access: truce.Everything})
	if err != nil || len(hits) != 1 {
		t.Fatalf("search = %v, %v", hits, err)
	}
}
