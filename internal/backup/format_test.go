package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/instance"
)

// tarEntry is one file of a backup's encrypted tar stream.
type tarEntry struct {
	name string
	data []byte
}

// openBackup decrypts a backup with id: its clear lines (the format line
// and the header or manifest) and its tar entries.
func openBackup(t *testing.T, path string, id age.Identity) ([][]byte, []tarEntry) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitN(raw, []byte("\n"), 3)
	r, err := age.Decrypt(bytes.NewReader(lines[2]), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []tarEntry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{h.Name, b})
	}
	return lines[:2], out
}

// sealBackup writes a backup of the given clear lines and tar entries,
// encrypted to r: what anyone who knows a backup's public recipient can
// make.
func sealBackup(t *testing.T, path string, clear [][]byte, entries []tarEntry, r age.Recipient) {
	t.Helper()
	var b bytes.Buffer
	b.Write(bytes.Join(clear, []byte("\n")))
	b.WriteByte('\n')
	aw, err := age.Encrypt(&b, r)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(aw)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Size: int64(len(e.data)), Mode: 0o600, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	if err := errors.Join(tw.Close(), aw.Close()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestForgedBackupRefused: a backup made by someone who knows the public
// recipient it is encrypted to, with a manifest that lists other parts
// than the file holds, or says something else than the header, is refused
// by Check and by Restore, which writes nothing. The same file sealed
// again unchanged passes: the refusals are of the changes.
func TestForgedBackupRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ids := []age.Identity{f.id}
	clear, entries := openBackup(t, f.archive, f.id)
	if entries[0].name != manifestName || len(entries) != len(f.m.Parts)+1 {
		t.Fatalf("the backup's entries: %d, the first %s", len(entries), entries[0].name)
	}
	manifest := func(m *Manifest) tarEntry {
		b, err := m.marshal()
		if err != nil {
			t.Fatal(err)
		}
		return tarEntry{manifestName, b}
	}
	header := func(m *Manifest) []byte {
		b, err := json.Marshal(m.header())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	blob := slices.IndexFunc(entries, func(e tarEntry) bool { return strings.HasPrefix(e.name, "blobs/") })
	key := len(entries) - 1
	edited := func(edit func(m *Manifest)) *Manifest {
		m := *f.m
		m.Parts = slices.Clone(f.m.Parts)
		edit(&m)
		return &m
	}
	without := func(es []tarEntry, i int) []tarEntry { return slices.Delete(slices.Clone(es), i, i+1) }
	for _, tc := range []struct {
		name    string
		clear   [][]byte
		entries []tarEntry
	}{
		{"an evidence file missing", clear, without(entries, blob)},
		{"a key missing", clear, without(entries, key)},
		{"a part that is not listed", clear, append(slices.Clone(entries), tarEntry{"blobs/" + strings.Repeat("a", 64), []byte("x")})},
		{"two parts swapped", clear, func() []tarEntry {
			es := slices.Clone(entries)
			es[key], es[key-1] = es[key-1], es[key]
			return es
		}()},
		{"two parts swapped in the manifest too", clear, func() []tarEntry {
			m := edited(func(m *Manifest) {
				m.Parts[len(m.Parts)-1], m.Parts[len(m.Parts)-2] = m.Parts[len(m.Parts)-2], m.Parts[len(m.Parts)-1]
			})
			es := slices.Clone(entries)
			es[0] = manifest(m)
			es[key], es[key-1] = es[key-1], es[key]
			return es
		}()},
		{"an evidence file changed", clear, func() []tarEntry {
			es := slices.Clone(entries)
			es[blob].data = append(slices.Clone(es[blob].data), '!')
			return es
		}()},
		{"a part's SHA-256 changed in the manifest", clear, append([]tarEntry{manifest(edited(func(m *Manifest) { m.Parts[0].SHA256 = strings.Repeat("0", 64) }))}, entries[1:]...)},
		{"a manifest that says another tree", clear, append([]tarEntry{manifest(edited(func(m *Manifest) { m.TreeSize++ }))}, entries[1:]...)},
		{"a manifest that says another encryption", clear, append([]tarEntry{manifest(edited(func(m *Manifest) { m.Encryption = "none" }))}, entries[1:]...)},
		{"a key part over its bound", [][]byte{clear[0], header(edited(func(m *Manifest) { m.Parts[len(m.Parts)-1].Size = 1 << 40 }))},
			append([]tarEntry{manifest(edited(func(m *Manifest) { m.Parts[len(m.Parts)-1].Size = 1 << 40 }))}, entries[1:]...)},
		{"a manifest of format 1", clear, append([]tarEntry{manifest(edited(func(m *Manifest) { m.Format = 1 }))}, entries[1:]...)},
		{"no manifest", clear, entries[1:]},
		{"the manifest not first", clear, append(slices.Clone(entries[1:]), entries[0])},
		{"a manifest with a field more", clear, append([]tarEntry{{manifestName, append(bytes.TrimSuffix(slices.Clone(entries[0].data), []byte("}")), []byte(`,"note":"x"}`)...)}}, entries[1:]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "forged.backup")
			sealBackup(t, path, tc.clear, tc.entries, f.id.Recipient())
			if _, err := Check(ctx, path, ids); truce.ErrorCode(err) != truce.CodeInvalid {
				t.Fatalf("Check of a forged backup: %v", err)
			}
			dir := filepath.Join(t.TempDir(), "restored")
			if _, err := Restore(ctx, path, RestoreOptions{Dir: dir, Identities: ids}); err == nil {
				t.Fatal("a forged backup was restored")
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("a refused restore left its directory")
			}
		})
	}
	path := filepath.Join(t.TempDir(), "resealed.backup")
	sealBackup(t, path, clear, entries, f.id.Recipient())
	if _, err := Check(ctx, path, ids); err != nil {
		t.Fatalf("the backup sealed again unchanged: %v", err)
	}
}

// TestFormat1Restores: a backup of format 1 (written by earlier builds,
// its whole manifest in clear and again encrypted) is still checked and
// restored, and one whose manifest in clear was changed is refused.
func TestFormat1Restores(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ids := []age.Identity{f.id}
	_, entries := openBackup(t, f.archive, f.id)
	m := *f.m
	m.Format = 1
	line, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	entries[0].data = line
	v1 := filepath.Join(t.TempDir(), "v1.backup")
	sealBackup(t, v1, [][]byte{[]byte(strings.TrimSpace(magic1)), line}, entries, f.id.Recipient())
	got, err := Check(ctx, v1, ids)
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != 1 || len(got.Parts) != len(f.m.Parts) {
		t.Fatalf("Check of a format 1 backup: format %d, %d parts", got.Format, len(got.Parts))
	}
	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(ctx, v1, RestoreOptions{Dir: dir, Identities: ids}); err != nil {
		t.Fatal(err)
	}
	in, err := instance.OpenStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if rep, err := audit.Verify(ctx, in.Store, in.Origin, in.Verifier, nil); err != nil || rep.Size != f.m.TreeSize {
		t.Fatalf("the log restored from a format 1 backup: %+v %v", rep, err)
	}
	if _, err := os.Stat(filepath.Join(dir, instance.BlobDir, f.blob[:2], f.blob)); err != nil {
		t.Fatalf("the evidence file was not restored: %v", err)
	}

	for _, edit := range []func(*Manifest){
		func(m *Manifest) { m.TreeSize++ },
		func(m *Manifest) { m.Created = m.Created.Add(1) },
		func(m *Manifest) { m.Parts[0].SHA256 = strings.Repeat("0", 64) },
	} {
		m2 := m
		m2.Parts = slices.Clone(m.Parts)
		edit(&m2)
		changed, _ := m2.marshal()
		path := filepath.Join(t.TempDir(), "v1-changed.backup")
		sealBackup(t, path, [][]byte{[]byte(strings.TrimSpace(magic1)), changed}, entries, f.id.Recipient())
		if _, err := Check(ctx, path, ids); err == nil {
			t.Fatal("a format 1 backup whose clear manifest was changed passed Check")
		}
	}
	// A format 1 file whose clear line is a format 2 header is refused.
	raw, _ := os.ReadFile(f.archive)
	path := filepath.Join(t.TempDir(), "mixed.backup")
	os.WriteFile(path, append([]byte(magic1), raw[len(Magic):]...), 0o600)
	if _, err := Check(ctx, path, ids); err == nil {
		t.Fatal("a format 2 header under the format 1 line passed Check")
	}
	// A later format is named as such.
	os.WriteFile(path, append([]byte("truce-backup 3\n"), raw[len(Magic):]...), 0o600)
	if _, err := Check(ctx, path, ids); err == nil || !strings.Contains(err.Error(), "format 3") {
		t.Fatalf("a backup of format 3: %v", err)
	}
}
