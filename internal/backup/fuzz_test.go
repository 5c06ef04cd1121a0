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

// FuzzClear feeds the reader of what a backup says in clear arbitrary
// first lines: it never panics, and what it accepts is a manifest of
// format 1 or a header of format 2 whose facts agree.
func FuzzClear(f *testing.F) {
	fx := newFixture(f)
	orig, err := os.ReadFile(fx.archive)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(orig[:bytes.Index(orig, []byte("age-encryption.org"))])
	f.Add([]byte(magic1 + `{"format":1,"origin":"x","parts":[]}` + "\n"))
	f.Add([]byte(magic1 + `{"format":1,"store":"postgres","schema_version":1,"tables":[{"name":"t","columns":["a"]}],"parts":[{"name":"database/t.copy"}]}` + "\n"))
	f.Add([]byte(Magic + `{"format":2,"origin":"x","parts":4,"parts_bytes":-1}` + "\n"))
	f.Add([]byte("truce-backup 3\n{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := readClear(bytes.NewReader(b))
		if err != nil {
			return
		}
		switch {
		case c.m != nil:
			if c.header != nil || c.m.Format != 1 || c.m.check() != nil || c.n != int64(len(magic1)+len(c.line)+1) {
				t.Fatalf("accepted a format 1 manifest that does not check: %+v", c.m)
			}
		case c.header != nil:
			if c.header.check() != nil || c.n > int64(len(Magic)+maxHeader+1) {
				t.Fatalf("accepted a header that does not check: %+v", c.header)
			}
		default:
			t.Fatal("accepted nothing")
		}
	})
}

// FuzzManifest feeds the manifest's decoder (what manifest.json holds,
// which anyone who knows a public recipient can encrypt) arbitrary bytes:
// it never panics, and what it accepts checks.
func FuzzManifest(f *testing.F) {
	fx := newFixture(f)
	line, err := fx.m.marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(line)
	f.Add([]byte(`{"format":2,"store":"postgres","schema_version":1,"tables":[{"name":"t","columns":["a"]}],"parts":[{"name":"database/t.copy"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseManifest(b, Format)
		if err != nil {
			return
		}
		if m.Format != Format || m.check() != nil {
			t.Fatalf("accepted a manifest that does not check: %+v", m)
		}
		h := m.header()
		if h.check() != nil && h.Parts <= maxManifest/minPart {
			t.Fatalf("a manifest that checks gives a header that does not: %+v", h)
		}
	})
}
