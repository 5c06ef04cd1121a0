package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/custody"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/store/postgres"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/tlog"
)

// archive is a backup file opened for reading: the key that decrypts its
// parts found and its manifest read and checked.
type archive struct {
	f       *os.File
	m       *Manifest
	line    []byte // the manifest's bytes, as manifest.json holds them
	offset  int64  // where the encrypted parts begin
	size    int64
	fileKey []byte
}

// openArchive reads what a backup says in clear and finds, with ids, the
// key of its encrypted parts: a wrong passphrase or identity is refused
// here, before anything is read further. It then reads the manifest
// (format 2: decrypting manifest.json, checked against the header; format
// 1: the line in clear).
func openArchive(path string, ids []age.Identity) (*archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	a := &archive{f: f}
	if err := a.open(ids); err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

func (a *archive) open(ids []age.Identity) error {
	fi, err := a.f.Stat()
	if err != nil {
		return err
	}
	a.size = fi.Size()
	c, err := readClear(a.f)
	if err != nil {
		return err
	}
	a.offset = c.n
	var encryption string
	if c.header != nil {
		encryption = c.header.Encryption
	} else {
		encryption = c.m.Encryption
	}
	hdr, err := age.ExtractHeader(io.NewSectionReader(a.f, a.offset, a.size-a.offset))
	if err != nil {
		return invalid("the encrypted parts: %v", err)
	}
	if len(ids) == 0 {
		return truce.Errorf(truce.CodeUnauthorized, "the backup's parts are encrypted: give the passphrase or an identity")
	}
	a.fileKey, err = age.DecryptHeader(hdr, ids...)
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		return truce.Errorf(truce.CodeUnauthorized, "the passphrase or identity given does not open this backup (%s)", encryption)
	}
	if err != nil {
		return invalid("the encrypted parts: %v", err)
	}
	if c.header == nil {
		a.m, a.line = c.m, c.line
		return nil
	}
	return a.readManifest(c.header)
}

// readManifest decrypts the manifest of a backup of format 2, the first
// part, and checks it and that it says what the header says.
func (a *archive) readManifest(h *Header) error {
	r, err := age.Decrypt(io.NewSectionReader(a.f, a.offset, a.size-a.offset), age.NewInjectedFileKeyIdentity(a.fileKey))
	if err != nil {
		return invalid("the encrypted parts: %v", err)
	}
	tr := tar.NewReader(r)
	th, err := tr.Next()
	if err != nil {
		return invalid("reading the encrypted manifest: %v", err)
	}
	if th.Name != manifestName || th.Typeflag != tar.TypeReg || th.Size <= 0 || th.Size > maxManifest {
		return invalid("the first part is %q of %d bytes, not the manifest", th.Name, th.Size)
	}
	line, err := io.ReadAll(tr)
	if err != nil {
		return invalid("reading the encrypted manifest: %v", err)
	}
	m, err := parseManifest(line, Format)
	if err != nil {
		return err
	}
	if m.header() != *h {
		return invalid("the manifest differs from the header in clear")
	}
	a.m, a.line = m, line
	return nil
}

func (a *archive) close() { a.f.Close() }

// parts decrypts the parts and calls fn with each, in order, then checks
// what fn read (and what it left, read here) against the part's size and
// SHA-256. It checks that the encrypted manifest.json is the manifest
// openArchive read, that the parts are the manifest's and nothing follows
// them; the encryption itself refuses any changed or missing byte. fn sees a
// part's bytes before they are checked: a caller that keeps them reads
// the backup through once first with a fn that keeps nothing.
func (a *archive) parts(fn func(p Part, r io.Reader) error) error {
	r, err := age.Decrypt(io.NewSectionReader(a.f, a.offset, a.size-a.offset), age.NewInjectedFileKeyIdentity(a.fileKey))
	if err != nil {
		return invalid("the encrypted parts: %v", err)
	}
	tr := tar.NewReader(r)
	next := func(p Part) error {
		h, err := tr.Next()
		if err != nil {
			return invalid("reading part %s: %v", p.Name, err)
		}
		if h.Name != p.Name || h.Typeflag != tar.TypeReg || h.Size != p.Size {
			return invalid("the part %q of %d bytes is where %s of %d bytes should be", h.Name, h.Size, p.Name, p.Size)
		}
		return nil
	}
	if err := next(Part{Name: manifestName, Size: int64(len(a.line))}); err != nil {
		return err
	}
	inner, err := io.ReadAll(tr)
	if err != nil {
		return invalid("reading the encrypted manifest: %v", err)
	}
	if !bytes.Equal(inner, a.line) {
		return invalid("the manifest differs from the one the encryption carries")
	}
	for _, p := range a.m.Parts {
		if err := next(p); err != nil {
			return err
		}
		h := newHashingReader(tr)
		if err := fn(p, h); err != nil {
			if _, ok := errors.AsType[*truce.Error](err); ok {
				return err
			}
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if _, err := io.Copy(io.Discard, h); err != nil {
			return invalid("reading part %s: %v", p.Name, err)
		}
		if h.n != p.Size || h.sum() != p.SHA256 {
			return invalid("the part %s does not match its SHA-256 in the manifest", p.Name)
		}
	}
	if h, err := tr.Next(); err != io.EOF {
		if err == nil {
			return invalid("a part %q that the manifest does not list", h.Name)
		}
		return invalid("after the last part: %v", err)
	}
	if n, err := io.Copy(io.Discard, r); err != nil || n > 0 {
		return invalid("%d bytes after the parts (%v)", n, err)
	}
	return nil
}

// Check reads a backup through and checks it as Restore does before it
// writes anything: the manifest, the decryption, every part against its
// hash. It writes nothing.
func Check(ctx context.Context, path string, ids []age.Identity) (*Manifest, error) {
	a, err := openArchive(path, ids)
	if err != nil {
		return nil, err
	}
	defer a.close()
	return a.m, a.parts(func(Part, io.Reader) error { return ctx.Err() })
}

// RestoreOptions say where to restore a backup and how to decrypt it.
type RestoreOptions struct {
	// Dir is the new data directory: absent or empty.
	Dir string
	// DB is, for a backup of an instance on PostgreSQL, the database to
	// restore it into, whose schema (search_path) must hold no table.
	DB         string
	Identities []age.Identity
	Logger     *slog.Logger
}

// Restore restores the backup at path into a new data directory (and,
// for a PostgreSQL backup, an empty database schema). It first reads the
// whole backup and checks it (Check): a damaged or altered backup, or a
// wrong passphrase, is refused before anything is written. It then
// writes the parts, checking each again, loads the database (in one
// transaction on PostgreSQL), and checks the restored log against the
// manifest: the same origin and log key, the same committed tree and
// newest checkpoint, the tiles giving the checkpoint's root, and the log
// key in the backup signing for the log's verifier key. If anything fails
// after the directory was made, what was written is removed.
//
// A SQLite backup restores into SQLite and a PostgreSQL backup into
// PostgreSQL; a backup is not moved between kinds of store.
func Restore(ctx context.Context, path string, o RestoreOptions) (m *Manifest, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a, err := openArchive(path, o.Identities)
	if err != nil {
		return nil, err
	}
	defer a.close()
	m = a.m
	switch {
	case m.Store == StoreSQLite && o.DB != "":
		return nil, fmt.Errorf("the backup holds a SQLite database: restore it without --db (a backup is not moved between kinds of store)")
	case m.Store == StorePostgres && o.DB == "":
		return nil, fmt.Errorf("the backup holds a PostgreSQL database: restore it with --db postgres://… naming an empty schema (a backup is not moved between kinds of store)")
	case m.Store == StorePostgres && !postgres.IsURL(o.DB):
		return nil, fmt.Errorf("--db is not a postgres:// or postgresql:// URL")
	}
	if err := emptyTarget(o.Dir); err != nil {
		return nil, err
	}
	if err := a.parts(func(Part, io.Reader) error { return ctx.Err() }); err != nil {
		return nil, err
	}
	var load *postgres.Loader
	if m.Store == StorePostgres {
		if load, err = postgres.NewLoader(ctx, o.DB, m.Schema, m.Tables); err != nil {
			return nil, err
		}
		defer load.Close()
		if f := load.Foreign(); len(f) > 0 {
			o.Logger.Warn("the backup holds tables that are not Truce's (an extension's, or another program's, in the instance's schema): they are not restored", "tables", f)
		}
	}
	created, err := makeTarget(o.Dir)
	if err != nil {
		return nil, err
	}
	committed := false // past it, the database holds the instance: the directory naming it stays
	defer func() {
		if err != nil && !committed {
			removeTarget(o.Dir, created)
		}
	}()
	if err := os.MkdirAll(filepath.Join(o.Dir, "keys"), 0o700); err != nil {
		return nil, err
	}
	blobs, err := blob.Open(filepath.Join(o.Dir, instance.BlobDir))
	if err != nil {
		return nil, err
	}
	err = a.parts(func(p Part, r io.Reader) error {
		switch {
		case p.Name == sqliteName:
			return writeFile(filepath.Join(o.Dir, instance.DBFile), r)
		case strings.HasPrefix(p.Name, "database/"):
			return load.Copy(ctx, strings.TrimSuffix(strings.TrimPrefix(p.Name, "database/"), ".copy"), r)
		case strings.HasPrefix(p.Name, "blobs/"):
			st, err := blobs.Stage(ctx, r, p.Size)
			if err != nil {
				return err
			}
			defer st.Discard()
			if st.SHA256 != p.SHA256 {
				return invalid("the evidence file %s does not hash to its name", p.Name)
			}
			_, err = st.Keep(ctx)
			return err
		case isKey(p.Name):
			b, err := io.ReadAll(io.LimitReader(r, p.Size))
			if err != nil {
				return err
			}
			return entry.WriteSecretFile(filepath.Join(o.Dir, p.Name), b)
		}
		return invalid("unexpected part %s", p.Name)
	})
	if err != nil {
		return nil, err
	}
	if err := checkKeys(o.Dir, m); err != nil {
		return nil, err
	}
	if m.Store == StoreSQLite {
		if err := checkSQLite(ctx, filepath.Join(o.Dir, instance.DBFile), m); err != nil {
			return nil, err
		}
	} else {
		st, err := load.State(ctx, instance.MetaOrigin, instance.MetaVKey)
		if err != nil {
			return nil, err
		}
		if err := checkState(ctx, state{Origin: st.Meta[instance.MetaOrigin], VKey: st.Meta[instance.MetaVKey], Size: st.Size, Root: st.Root, Checkpoint: st.Checkpoint}, load, m); err != nil {
			return nil, err
		}
		if err := entry.WriteSecretFile(filepath.Join(o.Dir, instance.DatabaseFile), []byte(o.DB+"\n")); err != nil {
			return nil, err
		}
		if err := load.Commit(ctx); err != nil {
			return nil, err
		}
		committed = true
		// This build's later migrations, as truce migrate would apply them.
		db, err := postgres.Open(ctx, o.DB, postgres.Options{Migrate: true})
		if err != nil {
			return nil, err
		}
		db.Close()
	}
	if err := syncDir(o.Dir); err != nil {
		return nil, err
	}
	o.Logger.Info("backup restored", "dir", o.Dir, "origin", m.Origin, "entries", m.TreeSize)
	return m, nil
}

// emptyTarget refuses a data directory that holds an instance or anything
// else.
func emptyTarget(dir string) error {
	if instance.Exists(dir) {
		return truce.Errorf(truce.CodeConflict, "%s already holds an instance: restore into a new directory", dir)
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return truce.Errorf(truce.CodeConflict, "%s is not empty: restore into a new directory", dir)
	}
	return nil
}

// makeTarget makes the data directory (0700), saying whether it made it.
func makeTarget(dir string) (bool, error) {
	if _, err := os.Stat(dir); err == nil {
		return false, os.Chmod(dir, 0o700)
	}
	return true, os.MkdirAll(dir, 0o700)
}

// removeTarget removes what a failed restore wrote.
func removeTarget(dir string, created bool) {
	if created {
		os.RemoveAll(dir)
		return
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// writeFile writes r to the new file path (0600), synced.
func writeFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkKeys checks that the restored keys are the instance's: the log key
// signs for the manifest's verifier key, and the others are keys.
func checkKeys(dir string, m *Manifest) error {
	raw, err := os.ReadFile(filepath.Join(dir, instance.LogKeyFile))
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(raw)))
	if err != nil {
		return invalid("%s: %v", instance.LogKeyFile, err)
	}
	_, v, err := m.checkpoint()
	if err != nil {
		return invalid("%v", err)
	}
	msg, err := note.Sign(&note.Note{Text: "truce restore\n"}, signer)
	if err != nil {
		return err
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		return invalid("%s is not the key of the log's verifier key %s", instance.LogKeyFile, m.LogKey)
	}
	if _, err := entry.ReadKeyFile(filepath.Join(dir, instance.SystemKeyFile)); err != nil {
		return invalid("%s: %v", instance.SystemKeyFile, err)
	}
	if _, err := custody.Open(nil, filepath.Join(dir, instance.CustodyKeyFile)); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// checkSQLite checks the restored SQLite database against the manifest,
// bringing its schema up to date.
func checkSQLite(ctx context.Context, path string, m *Manifest) error {
	db, err := sqlite.Open(ctx, path, sqlite.Options{Migrate: true})
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := readState(ctx, db)
	if err != nil {
		return err
	}
	return checkState(ctx, st, db, m)
}

// checkState checks the restored log's state against the manifest, and
// that its hash tiles give the roots of its tree and of its checkpoint.
func checkState(ctx context.Context, st state, tiles tlog.TileReader, m *Manifest) error {
	root, err := m.root()
	if err != nil {
		return invalid("%v", err)
	}
	cp, _, err := m.checkpoint()
	if err != nil {
		return invalid("%v", err)
	}
	switch {
	case st.Origin != m.Origin || st.VKey != m.LogKey:
		return invalid("the restored database is of the log %s (key %s), the manifest says %s (key %s)", st.Origin, st.VKey, m.Origin, m.LogKey)
	case st.Size != m.TreeSize || st.Root != root:
		return invalid("the restored tree has %d entries (root %s), the manifest says %d (root %s)", st.Size, st.Root, m.TreeSize, root)
	case !bytes.Equal(st.Checkpoint, []byte(m.Checkpoint)):
		return invalid("the restored newest checkpoint is not the manifest's")
	}
	for _, want := range []tlog.Checkpoint{{Size: st.Size, Root: root}, cp} {
		if want.Size == 0 {
			continue
		}
		got, err := tlog.RootAt(ctx, tiles, want.Size)
		if err != nil {
			return invalid("the restored tiles of a tree of %d entries: %v", want.Size, err)
		}
		if got != want.Root {
			return invalid("the restored tiles give the tree of %d entries the root %s, not %s", want.Size, got, want.Root)
		}
	}
	return nil
}
