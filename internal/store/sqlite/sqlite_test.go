package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

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
