package backup

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/testkit/pgtest"
)

// evidence is the content of the file the tests below keep: a secret that
// must never be in clear outside the data directory and the database.
const evidence = "the photograph of the crater, before the site was cleared"

// TestWorkFilesNotInClear: while a backup is being written, nothing it
// writes beside the backup file (where backups are kept, perhaps another
// machine's disk) holds the database in clear: not the SQLite snapshot,
// not a PostgreSQL table's rows, not an evidence file. A backup killed
// midway would leave them there.
func TestWorkFilesNotInClear(t *testing.T) {
	for _, tc := range []struct{ name, db string }{{"sqlite", ""}, {"postgres", "postgres"}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			o := instance.Options{}
			if tc.db != "" {
				o.DB = pgtest.URL(t)
			}
			env := testkit.New(t, o)
			files, err := env.In.Blobs()
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := blob.Put(ctx, files, strings.NewReader(evidence), 1<<20); err != nil {
				t.Fatal(err)
			}
			env.Submit(t, env.Signers[testkit.MonitorID(1)].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)))
			id, _ := age.GenerateX25519Identity()
			outDir := t.TempDir()
			canaries := [][]byte{[]byte("SQLite format 3"), []byte(evidence), []byte(hex.EncodeToString([]byte(evidence))), []byte(testkit.Origin)}
			looked := false
			snapshotted = func() {
				looked = true
				filepath.WalkDir(outDir, func(path string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					b, _ := os.ReadFile(path)
					for _, c := range canaries {
						if bytes.Contains(b, c) {
							t.Errorf("%s, written beside the backup while it is made, holds %q in clear", path, c)
						}
					}
					return nil
				})
			}
			defer func() { snapshotted = nil }()
			out := filepath.Join(outDir, "instance.backup")
			if _, err := Create(ctx, out, Options{Dir: env.Dir, Recipients: []age.Recipient{id.Recipient()}}); err != nil {
				t.Fatal(err)
			}
			if !looked {
				t.Fatal("the work files were never looked at")
			}
			ents, _ := os.ReadDir(outDir)
			if len(ents) != 1 {
				t.Fatalf("beside the backup, after it: %v", ents)
			}
			if ents, _ := os.ReadDir(env.Dir); len(ents) == 0 || slices.ContainsFunc(ents, func(e fs.DirEntry) bool { return strings.HasPrefix(e.Name(), ".truce-backup-") }) {
				t.Fatalf("the data directory after a backup: %v", ents)
			}
			if _, err := Check(ctx, out, []age.Identity{id}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPostgresForeignTable: a table that is not Truce's in the instance's
// schema (an extension's, say PostGIS's spatial_ref_sys in public, or an
// operator's own) does not make the backup impossible to restore: the
// restore loads Truce's tables and leaves the other one out.
func TestPostgresForeignTable(t *testing.T) {
	ctx := context.Background()
	db := pgtest.URL(t)
	env := testkit.New(t, instance.Options{DB: db})
	env.Submit(t, env.Signers[testkit.MonitorID(1)].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)))
	env.WaitCheckpoint(t, env.Size())
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE spatial_ref_sys (srid INT4 PRIMARY KEY, auth_name TEXT); INSERT INTO spatial_ref_sys VALUES (4326, 'EPSG')`); err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	out := filepath.Join(t.TempDir(), "instance.backup")
	m, err := Create(ctx, out, Options{Dir: env.Dir, Recipients: []age.Recipient{id.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(ctx, out, RestoreOptions{Dir: dir, DB: pgtest.URL(t), Identities: []age.Identity{id}}); err != nil {
		t.Fatalf("a backup of an instance whose schema holds another table does not restore: %v", err)
	}
	in, err := instance.OpenStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if rep, err := audit.Verify(ctx, in.Store, in.Origin, in.Verifier, nil); err != nil || rep.Size != m.TreeSize {
		t.Fatalf("the restored log: %+v %v", rep, err)
	}
}

// TestKeyPartBounded: a manifest whose key part is larger than any key
// file is refused before anything is decrypted: restore reads a key part
// into memory, and a backup encrypted to a public recipient can be made
// by anyone who knows it.
func TestKeyPartBounded(t *testing.T) {
	f := newFixture(t)
	m := *f.m
	m.Parts = append([]Part(nil), f.m.Parts...)
	if err := m.check(); err != nil {
		t.Fatal(err)
	}
	m.Parts[len(m.Parts)-1].Size = 1 << 40
	if err := m.check(); err == nil {
		t.Fatalf("a manifest with a key part of %d bytes passed", m.Parts[len(m.Parts)-1].Size)
	}
}

// TestNothingConfidentialInClear: the bytes of a backup before its age
// payload (what anyone holding the file reads without the passphrase)
// name no evidence file: not its hash, in any spelling, nor a part named
// by it, since the log seals evidence registrations and so does not say
// which files the mechanism holds. Nor do they hold a key, the
// passphrase, or the database's address or password. On PostgreSQL the
// evidence files are rows of the dump, and one is also kept in DIR/blobs
// (an instance whose files predate the database's), which the backup
// lists as parts.
func TestNothingConfidentialInClear(t *testing.T) {
	for _, tc := range []struct{ name, db string }{{"sqlite", ""}, {"postgres", "postgres"}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			o := instance.Options{}
			if tc.db != "" {
				o.DB = pgtest.URL(t)
			}
			env := testkit.New(t, o)
			files, err := env.In.Blobs()
			if err != nil {
				t.Fatal(err)
			}
			var hashes []string
			for _, s := range []string{evidence, "the second photograph, from the north"} {
				sha, _, _, err := blob.Put(ctx, files, strings.NewReader(s), 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				hashes = append(hashes, sha)
			}
			if tc.db != "" {
				disk, err := blob.Open(filepath.Join(env.Dir, instance.BlobDir))
				if err != nil {
					t.Fatal(err)
				}
				sha, _, _, err := blob.Put(ctx, disk, strings.NewReader("a file kept on disk"), 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				hashes = append(hashes, sha)
			}
			env.Submit(t, env.Signers[testkit.MonitorID(1)].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)))
			env.WaitCheckpoint(t, env.Size())
			const passphrase = "correct horse battery staple, twice over"
			rcpt, err := age.NewScryptRecipient(passphrase)
			if err != nil {
				t.Fatal(err)
			}
			rcpt.SetWorkFactor(10)
			out := filepath.Join(t.TempDir(), "instance.backup")
			m, err := Create(ctx, out, Options{Dir: env.Dir, Recipients: []age.Recipient{rcpt}, Encryption: "age, scrypt passphrase"})
			if err != nil {
				t.Fatal(err)
			}
			if n, want := blobs(m), map[string]int{"": 2, "postgres": 1}[tc.db]; n != want {
				t.Fatalf("the backup holds %d evidence files as parts", n)
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			at := bytes.Index(raw, []byte("age-encryption.org/v1\n"))
			if at < 0 {
				t.Fatal("no age payload in the backup")
			}
			clear := raw[:at]
			if lines := bytes.Split(bytes.TrimSuffix(clear, []byte("\n")), []byte("\n")); len(lines) != 2 {
				t.Fatalf("the clear part of the backup is %d lines, not the format line and one of JSON:\n%s", len(lines), clear)
			}
			var secrets [][]byte
			for _, sha := range hashes {
				sum, _ := hex.DecodeString(sha)
				secrets = append(secrets, []byte(sha), []byte(strings.ToUpper(sha)), []byte(sha[:16]),
					[]byte(base64.StdEncoding.EncodeToString(sum)), []byte(base64.RawURLEncoding.EncodeToString(sum)))
			}
			secrets = append(secrets, []byte("blobs/"), []byte(passphrase))
			for _, k := range keyFiles {
				key, _ := os.ReadFile(filepath.Join(env.Dir, k))
				secrets = append(secrets, secretPieces(key)...)
			}
			if tc.db != "" {
				secrets = append(secrets, []byte(o.DB))
				if u, err := url.Parse(o.DB); err == nil {
					if pw, ok := u.User.Password(); ok {
						secrets = append(secrets, []byte(pw))
					}
					secrets = append(secrets, []byte(u.Query().Get("search_path")))
				}
			}
			for _, s := range secrets {
				if len(s) > 0 && bytes.Contains(clear, s) {
					t.Errorf("the backup holds %q in clear:\n%s", s, clear)
				}
			}
			for _, sha := range hashes { // nor, by chance or otherwise, anywhere after
				if bytes.Contains(raw, []byte(sha)) {
					t.Errorf("the backup holds the hash %s", sha)
				}
			}
			// What the clear part does say: enough to know which backup this is.
			for _, want := range []string{m.Origin, m.TreeRoot, m.Store} {
				if !bytes.Contains(clear, []byte(want)) {
					t.Errorf("the clear part does not say %q:\n%s", want, clear)
				}
			}
			got, err := Check(ctx, out, []age.Identity{mustScrypt(t, passphrase)})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Parts) != len(m.Parts) || blobs(got) != blobs(m) {
				t.Fatalf("Check read %d parts, %d evidence files; Create wrote %d, %d", len(got.Parts), blobs(got), len(m.Parts), blobs(m))
			}
		})
	}
}

func mustScrypt(t *testing.T, passphrase string) age.Identity {
	t.Helper()
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
