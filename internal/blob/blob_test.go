package blob_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/blob/blobtest"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		root := t.TempDir()
		d, err := blob.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		// Whatever the case did, nothing half-written is left behind.
		t.Cleanup(func() { noTemporary(t, root) })
		return d
	})
}

func noTemporary(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), ".upload-") {
			t.Errorf("left %s", p)
		}
		return nil
	})
}

// TestDirLayout: files are under DIR/ab/abcd…, readable only by their
// owner, and a file changed on disk after it was staged is refused.
func TestDirLayout(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := blob.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	sha, _, _, err := blob.Put(ctx, d, strings.NewReader("evidence"), 100)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, sha[:2], sha))
	if err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("the file is not kept under its hash, readable only by its owner: %v %v", fi, err)
	}

	st, err := d.Stage(ctx, strings.NewReader("original"), 100)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	tmps, _ := filepath.Glob(filepath.Join(root, ".upload-*"))
	if len(tmps) != 1 {
		t.Fatalf("staged files: %v", tmps)
	}
	os.WriteFile(tmps[0], []byte("tampered"), 0o600)
	if _, err := st.Keep(ctx); err != blob.ErrMismatch {
		t.Fatalf("Keep of a file changed since staged = %v, want ErrMismatch", err)
	}
	if f, err := d.Open(ctx, st.SHA256); err == nil {
		f.Close()
		t.Fatal("the changed file was kept")
	}
	st.Discard()
	noTemporary(t, root)
}
