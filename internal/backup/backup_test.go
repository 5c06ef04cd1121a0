package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
)

// fixture is a serving test instance with an evidence file, a backup of
// it taken while a monitor kept filing, and the identity that opens it.
type fixture struct {
	env     *testkit.Env
	id      *age.X25519Identity
	archive string
	m       *Manifest
	blob    string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	env := testkit.New(t, instance.Options{})
	f := &fixture{env: env}
	blobs, err := env.In.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	if f.blob, _, _, err = blob.Put(context.Background(), blobs, strings.NewReader("a photograph of the crater"), 1<<20); err != nil {
		t.Fatal(err)
	}
	mon := env.Signers[testkit.MonitorID(1)]
	for n := range 5 {
		env.Submit(t, mon.Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", n)))
	}
	env.WaitCheckpoint(t, env.Size())
	if f.id, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	// Filing goes on while the backup is taken.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 5; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := env.In.Seq.Submit(ctx, mon.Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", n)), nil, nil); err != nil {
				t.Error(err)
				return
			}
		}
	})
	f.archive = filepath.Join(t.TempDir(), "instance.backup")
	f.m, err = Create(ctx, f.archive, Options{Dir: env.Dir, Recipients: []age.Recipient{f.id.Recipient()}, Encryption: "age, to a test key"})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestBackupAndRestore backs up a serving instance and restores it: the
// restored directory holds the same keys and evidence files, readable
// only by their owner, and a log that verifies in full and opens to
// sequence again from where the backup was taken.
func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if fi, err := os.Stat(f.archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the backup file's mode: %v %v", fi, err)
	}
	if f.m.Store != StoreSQLite || f.m.Origin != testkit.Origin || f.m.LogKey != f.env.In.VKey || f.m.TreeSize < 5 || blobs(f.m) != 1 {
		t.Fatalf("manifest: %+v", f.m)
	}
	if _, err := Create(ctx, f.archive, Options{Dir: f.env.Dir, Recipients: []age.Recipient{f.id.Recipient()}}); err == nil {
		t.Fatal("a backup overwrote an existing file")
	}
	if _, err := Check(ctx, f.archive, []age.Identity{f.id}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	m, err := Restore(ctx, f.archive, RestoreOptions{Dir: dir, Identities: []age.Identity{f.id}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keyFiles {
		want, _ := os.ReadFile(filepath.Join(f.env.Dir, k))
		got, err := os.ReadFile(filepath.Join(dir, k))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("restored %s differs: %v", k, err)
		}
	}
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is mode %v, not 0600", path, fi.Mode().Perm())
		}
		if err == nil && fi.IsDir() && fi.Mode().Perm() != 0o700 {
			t.Errorf("%s is mode %v, not 0700", path, fi.Mode().Perm())
		}
		return nil
	})
	in, err := instance.Open(ctx, dir, instance.Options{Clock: f.env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	bl, _ := in.Blobs()
	if r, err := bl.Open(context.Background(), f.blob); err != nil {
		t.Fatalf("the evidence file was not restored: %v", err)
	} else {
		r.Close()
	}
	if size := in.Seq.Snapshot().Size; size != m.TreeSize {
		t.Fatalf("the restored instance opens at %d entries, the backup has %d", size, m.TreeSize)
	}
	rep, err := audit.Verify(ctx, in.Store, in.Origin, in.Verifier, nil)
	if err != nil || rep.Size != m.TreeSize {
		t.Fatalf("the restored log does not verify: %v", err)
	}
	// It sequences on from where the backup was taken.
	ack, err := in.Seq.Submit(ctx, f.env.Signers[testkit.MonitorID(2)].Sign(t, rules.KindAllegationFiled, testkit.Allegation("PK", 1)), nil, nil)
	if err != nil || ack.Index != m.TreeSize {
		t.Fatalf("an entry on the restored instance: %+v %v", ack, err)
	}
}

func blobs(m *Manifest) int {
	n := 0
	for _, p := range m.Parts {
		if strings.HasPrefix(p.Name, "blobs/") {
			n++
		}
	}
	return n
}

// TestTamperedBackupRefused flips one byte anywhere in a backup: in the
// format line, the manifest, the encryption's header or any encrypted part.
// Each is refused by Check; and Restore writes nothing.
func TestTamperedBackupRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	orig, err := os.ReadFile(f.archive)
	if err != nil {
		t.Fatal(err)
	}
	ids := []age.Identity{f.id}
	tmp := t.TempDir()
	try := func(i int, b []byte, restore bool) {
		path := filepath.Join(tmp, "tampered")
		os.WriteFile(path, b, 0o600)
		if _, err := Check(ctx, path, ids); err == nil {
			t.Fatalf("a backup changed at byte %d of %d passed Check", i, len(b))
		}
		if !restore {
			return
		}
		dir := filepath.Join(tmp, "restored")
		_, err := Restore(ctx, path, RestoreOptions{Dir: dir, Identities: ids})
		if err == nil {
			t.Fatalf("a backup changed at byte %d was restored", i)
		}
		if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
			t.Fatalf("a refused restore (%v) left %s behind", err, dir)
		}
	}
	stride := max(1, len(orig)/400)
	for i := 0; i < len(orig); i += stride {
		b := bytes.Clone(orig)
		b[i] ^= 0x01
		try(i, b, i%(stride*40) == 0)
	}
	b := bytes.Clone(orig)
	b[len(b)-1] ^= 0x80
	try(len(b)-1, b, true)
	try(-1, orig[:len(orig)-1], true)
	try(-2, append(bytes.Clone(orig), 0), true)

	// A header that still reads well but says something else.
	lines := bytes.SplitN(orig, []byte("\n"), 3)
	var h Header
	if err := json.Unmarshal(lines[1], &h); err != nil {
		t.Fatal(err)
	}
	for _, edit := range []func(*Header){
		func(h *Header) { h.TreeSize++ },
		func(h *Header) { h.Parts++ },
		func(h *Header) { h.Bytes-- },
		func(h *Header) { h.Encryption = "none" },
		func(h *Header) { h.Store = StorePostgres },
	} {
		h2 := h
		edit(&h2)
		line, _ := json.Marshal(h2)
		try(-3, bytes.Join([][]byte{lines[0], line, lines[2]}, []byte("\n")), true)
	}
	// The file claims the other format.
	try(-4, bytes.Join([][]byte{[]byte(strings.TrimSpace(magic1)), lines[1], lines[2]}, []byte("\n")), true)
}

// TestRestoreRefusals: a wrong identity, a target that holds an instance
// or anything else, and a SQLite backup into PostgreSQL are refused, and
// nothing is written.
func TestRestoreRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	other, _ := age.GenerateX25519Identity()
	dir := filepath.Join(t.TempDir(), "restored")
	_, err := Restore(ctx, f.archive, RestoreOptions{Dir: dir, Identities: []age.Identity{other}})
	if truce.ErrorCode(err) != truce.CodeUnauthorized {
		t.Fatalf("a wrong identity: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused restore made its directory")
	}
	ids := []age.Identity{f.id}
	before := listing(t, f.env.Dir)
	if _, err := Restore(ctx, f.archive, RestoreOptions{Dir: f.env.Dir, Identities: ids}); truce.ErrorCode(err) != truce.CodeConflict {
		t.Fatalf("a restore onto the instance itself: %v", err)
	}
	if after := listing(t, f.env.Dir); after != before {
		t.Fatalf("a refused restore changed the instance's directory:\n%s\n%s", before, after)
	}
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "notes.txt"), []byte("mine"), 0o600)
	if _, err := Restore(ctx, f.archive, RestoreOptions{Dir: full, Identities: ids}); truce.ErrorCode(err) != truce.CodeConflict {
		t.Fatalf("a restore into a directory that is not empty: %v", err)
	}
	if _, err := Restore(ctx, f.archive, RestoreOptions{Dir: dir, DB: "postgres://localhost/none", Identities: ids}); err == nil || !strings.Contains(err.Error(), "not moved between kinds of store") {
		t.Fatalf("a SQLite backup into PostgreSQL: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused restore made its directory")
	}
}

// listing is a directory tree's names, sizes and modes.
func listing(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !strings.Contains(path, "truce.db") { // the serving database changes by itself
			b.WriteString(path + " " + fi.Mode().String() + "\n")
		}
		return nil
	})
	return b.String()
}

// TestNoSecretInClear: the key files' contents, and the evidence file's,
// appear nowhere in the backup's bytes; the manifest names no secret.
func TestNoSecretInClear(t *testing.T) {
	f := newFixture(t)
	b, err := os.ReadFile(f.archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keyFiles {
		key, _ := os.ReadFile(filepath.Join(f.env.Dir, k))
		for _, piece := range secretPieces(key) {
			if bytes.Contains(b, piece) {
				t.Fatalf("the backup holds %q of %s in clear", piece, k)
			}
		}
	}
	if bytes.Contains(b, []byte("a photograph of the crater")) {
		t.Fatal("the backup holds an evidence file in clear")
	}
}

// secretPieces are a key file's content, each of its lines of 24 or more
// bytes, and the key material at the end of a signed-note key (whose
// name, the origin, is no secret).
func secretPieces(key []byte) [][]byte {
	out := [][]byte{bytes.TrimSpace(key)}
	for _, l := range bytes.Split(key, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) >= 24 {
			out = append(out, l)
		}
		if bytes.HasPrefix(l, []byte("PRIVATE+KEY+")) {
			out = append(out, l[len(l)-40:])
		}
	}
	return out
}
