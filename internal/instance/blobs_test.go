package instance_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/testkit/pgtest"
)

func initInstance(t *testing.T, dir, db string) {
	t.Helper()
	if err := instance.Init(context.Background(), dir, instance.InitOptions{
		Origin: "truce.example.org/blobs", Agreement: testkit.DemoAgreement(t), DB: db,
	}); err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, s blob.Store, b []byte) string {
	t.Helper()
	sha, _, _, err := blob.Put(context.Background(), s, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

func read(t *testing.T, s blob.Store, sha string) ([]byte, error) {
	t.Helper()
	f, err := s.Open(context.Background(), sha)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// storeFiles opens the files of the instance in dir read-only, as a
// command beside a serving process would.
func storeFiles(t *testing.T, dir string) blob.Store {
	t.Helper()
	in, err := instance.OpenStore(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	files, err := in.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestBlobsOnSQLite: an instance on SQLite keeps its files in DIR/blobs.
func TestBlobsOnSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	initInstance(t, dir, "")
	in, err := instance.Open(ctx, dir, instance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	files, err := in.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	sha := put(t, files, []byte("a photograph"))
	if _, err := os.Stat(filepath.Join(dir, instance.BlobDir, sha[:2], sha)); err != nil {
		t.Fatalf("the file is not in DIR/blobs: %v", err)
	}
}

// TestBlobsOnPostgres: an instance on PostgreSQL keeps its files in the
// database, where another data directory over the same database (a
// standby's, with its own copy of the keys) reads them, and nothing of
// them is in the directory; migrate copies in the files an older instance
// kept in DIR/blobs, and refuses one that is not its hash.
func TestBlobsOnPostgres(t *testing.T) {
	ctx := context.Background()
	db := pgtest.URL(t)
	dir := t.TempDir()
	initInstance(t, dir, db)
	in, err := instance.Open(ctx, dir, instance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := in.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("evidence "), 300_000) // more than two chunks
	sha := put(t, files, big)
	if _, err := os.Stat(filepath.Join(dir, instance.BlobDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("DIR/blobs exists on PostgreSQL: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, instance.SpoolDir)); len(left) != 0 {
		t.Fatalf("left in the spool: %v", left)
	}

	// Another directory naming the same database reads it.
	other := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(dir, instance.DatabaseFile))
	os.WriteFile(filepath.Join(other, instance.DatabaseFile), b, 0o600)
	if got, err := read(t, storeFiles(t, other), sha); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("the other directory reads %d bytes, %v", len(got), err)
	}
	in.Close()

	// Files an instance on PostgreSQL kept in DIR/blobs before are copied
	// in by migrate, and left where they were.
	old, err := blob.Open(filepath.Join(dir, instance.BlobDir))
	if err != nil {
		t.Fatal(err)
	}
	before := put(t, old, []byte("kept in the directory before"))
	put(t, old, big) // in both: copied once
	files = storeFiles(t, dir)
	if _, err := read(t, files, before); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("before migrate, the database has the directory's file: %v", err)
	}
	in, err = instance.Open(ctx, dir, instance.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := read(t, files, before); err != nil || string(got) != "kept in the directory before" {
		t.Fatalf("after migrate the file reads %q, %v", got, err)
	}
	if _, err := read(t, old, before); err != nil {
		t.Fatalf("migrate removed the directory's copy: %v", err)
	}
	in.Close()

	// A file in DIR/blobs that is not its name is refused, and named.
	forged := strings.Repeat("ab", 32)
	os.MkdirAll(filepath.Join(dir, instance.BlobDir, "ab"), 0o700)
	os.WriteFile(filepath.Join(dir, instance.BlobDir, "ab", forged), []byte("not its hash"), 0o600)
	if in, err := instance.Open(ctx, dir, instance.Options{Migrate: true}); err == nil || !strings.Contains(err.Error(), forged) {
		if in != nil {
			in.Close()
		}
		t.Fatalf("migrate with a file that is not its hash = %v", err)
	}
	if _, err := read(t, files, forged); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the forged file was copied: %v", err)
	}
}
