package instance_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/testkit/pgtest"
)

// TestStaleUploadsSwept: the part of an upload a process was receiving
// when it died (killed to hand over to a standby, say) is removed when a
// process next opens the instance's files, once it is a day old; an
// upload younger than that may be another process's, in progress, and
// stays.
func TestStaleUploadsSwept(t *testing.T) {
	for _, tc := range []struct{ name, db, spool string }{{"sqlite", "", instance.BlobDir}, {"postgres", "pg", instance.SpoolDir}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := ""
			if tc.db != "" {
				db = pgtest.URL(t)
			}
			dir := t.TempDir()
			initInstance(t, dir, db)
			spool := filepath.Join(dir, tc.spool)
			os.MkdirAll(spool, 0o700)
			stale, fresh := filepath.Join(spool, ".upload-1"), filepath.Join(spool, ".upload-2")
			for _, p := range []string{stale, fresh} {
				if err := os.WriteFile(p, []byte("part of an upload"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			old := time.Now().Add(-25 * time.Hour)
			os.Chtimes(stale, old, old)
			in, err := instance.Open(ctx, dir, instance.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			if _, err := in.Blobs(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("an upload left a day ago is still there: %v", err)
			}
			if _, err := os.Stat(fresh); err != nil {
				t.Errorf("an upload that may be in progress was removed: %v", err)
			}
		})
	}
}
