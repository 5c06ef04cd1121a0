package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/storetest"
)

// testURL is the database the tests use, from TRUCE_TEST_POSTGRES (a
// postgres:// URL; .ci/run starts a throwaway cluster and sets it).
// Without it the tests skip, except in CI, where they must run.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TRUCE_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TRUCE_TEST_POSTGRES is not set: CI must run the PostgreSQL store's tests against a real server")
		}
		t.Skip("TRUCE_TEST_POSTGRES is not set (a postgres:// URL of a database the tests may create schemas in): skipping the PostgreSQL store's tests")
	}
	return u
}

// Schema creates a schema of its own for one test in the database at
// base, dropped when the test ends, and returns base's URL with its
// search_path set to it: each store a test opens starts empty.
func Schema(t testing.TB, base string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to TRUCE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := "truce_test_" + lower(rand.Text()[:16])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

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
	a, u := open(t, Options{Migrate: true})
	b, err := Open(context.Background(), u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	errs := make(chan error, 2)
	for _, s := range []store.Store{a, b} {
		go func() { errs <- storetest.Load(t, s, 1, 5, 10) }()
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
