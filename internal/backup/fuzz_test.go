package backup

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// FuzzCheck feeds Check changed backups: it never panics, and accepts
// only the backup as it was written (the manifest must be the one the
// encryption carries, and the encryption authenticates every byte after
// it).
func FuzzCheck(f *testing.F) {
	fx := newFixture(f)
	orig, err := os.ReadFile(fx.archive)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(orig)
	f.Add(orig[:len(Magic)+200])
	f.Add([]byte(Magic + "{}\n"))
	dir := f.TempDir()
	ids := []age.Identity{fx.id}
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "fuzzed")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Check(context.Background(), path, ids); err == nil && !bytes.Equal(b, orig) {
			t.Fatalf("a changed backup of %d bytes passed Check", len(b))
		}
	})
}

// FuzzManifest feeds the manifest reader arbitrary first lines: it never
// panics, and what it accepts is a manifest whose facts agree.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(Magic + `{"format":1,"origin":"x","parts":[]}` + "\n"))
	f.Add([]byte(Magic + `{"format":1,"store":"postgres","schema_version":1,"tables":[{"name":"t","columns":["a"]}],"parts":[{"name":"database/t.copy"}]}` + "\n"))
	f.Add([]byte("truce-backup 2\n{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, line, n, err := readManifest(bytes.NewReader(b))
		if err != nil {
			return
		}
		if n != int64(len(Magic)+len(line)+1) || m.check() != nil {
			t.Fatalf("accepted a manifest that does not check: %+v", m)
		}
	})
}
