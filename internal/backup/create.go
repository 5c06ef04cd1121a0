package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"filippo.io/age"

	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/store/postgres"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/tlog"
)

// Options say what to back up and how to encrypt it.
type Options struct {
	// Dir is the data directory; DB, if set, the PostgreSQL database in
	// place of the one the directory names.
	Dir, DB string
	// Recipients encrypt the parts: an age scrypt recipient (a
	// passphrase) or age public keys.
	Recipients []age.Recipient
	// Encryption says in the manifest how (no secret).
	Encryption string
	Now        func() time.Time
	Logger     *slog.Logger
}

// source is a part and where its bytes are read from.
type source struct {
	Part
	path string       // a file; or
	data []byte       // bytes in memory (the keys)
	key  age.Identity // if set, decrypts the file at path
}

// Create writes a backup of the instance in o.Dir to the new file out
// (mode 0600), beside a process serving the instance: it takes no lock,
// writes nothing in the database, and in the data directory only its
// work directory, for a SQLite instance (below). The database
// is snapshotted first (SQLite's online backup API; one read-only
// transaction on PostgreSQL), then the evidence files are read: a file is
// written before the record that names it commits, so every file the
// snapshot names is there. Nothing in clear is written where backups
// are kept, even by a backup killed midway: a SQLite snapshot is made in
// a work directory in the data directory (beside the database it copies,
// which is there in clear already), a PostgreSQL dump's tables in one
// beside out, encrypted to a key held only in this process's memory. The
// work directory is removed.
func Create(ctx context.Context, out string, o Options) (*Manifest, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(o.Recipients) == 0 {
		return nil, errors.New("no passphrase or recipient to encrypt the backup to")
	}
	if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s exists: a backup is written to a new file", out)
	}
	pg, err := instance.Database(o.Dir, o.DB)
	if err != nil {
		return nil, err
	}
	if pg == "" && !instance.Exists(o.Dir) {
		return nil, fmt.Errorf("%s holds no instance", o.Dir)
	}
	workIn := filepath.Dir(out)
	if pg == "" {
		workIn = o.Dir
	}
	work, err := os.MkdirTemp(workIn, ".truce-backup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	m := &Manifest{Format: Format, Created: o.Now().UTC().Truncate(time.Second), Encryption: o.Encryption}
	var parts []source
	var st state
	if pg == "" {
		m.Store = StoreSQLite
		snap := filepath.Join(work, "truce.db")
		if err := sqlite.Snapshot(ctx, filepath.Join(o.Dir, instance.DBFile), snap); err != nil {
			return nil, err
		}
		if st, err = sqliteState(ctx, snap, false); err != nil {
			return nil, err
		}
		p, err := fileSource(sqliteName, snap)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	} else {
		m.Store = StorePostgres
		scratch, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, err
		}
		files := map[string]*hashingWriter{}
		snap, err := postgres.Dump(ctx, pg, func(table string) (io.WriteCloser, error) {
			if !tableName.MatchString(table) {
				return nil, fmt.Errorf("the database has a table named %q, which a backup cannot name", table)
			}
			f, err := os.OpenFile(filepath.Join(work, table+".copy"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return nil, err
			}
			enc, err := age.Encrypt(f, scratch.Recipient())
			if err != nil {
				f.Close()
				return nil, err
			}
			w := &hashingWriter{f: f, enc: enc, h: sha256.New()}
			files[table] = w
			return w, nil
		}, instance.MetaOrigin, instance.MetaVKey)
		if err != nil {
			return nil, err
		}
		m.Schema, m.Tables = snap.Schema, snap.Tables
		st = state{Origin: snap.Meta[instance.MetaOrigin], VKey: snap.Meta[instance.MetaVKey], Size: snap.Size, Root: snap.Root, Checkpoint: snap.Checkpoint}
		for _, t := range snap.Tables {
			w := files[t.Name]
			parts = append(parts, source{Part: Part{Name: tablePart(t.Name), Size: w.n, SHA256: hex.EncodeToString(w.h.Sum(nil))}, path: w.f.Name(), key: scratch})
		}
	}
	m.Origin, m.LogKey, m.TreeSize, m.TreeRoot, m.Checkpoint = st.Origin, st.VKey, st.Size, base64.StdEncoding.EncodeToString(st.Root[:]), string(st.Checkpoint)

	if snapshotted != nil {
		snapshotted()
	}
	blobs, err := listBlobs(filepath.Join(o.Dir, instance.BlobDir))
	if err != nil {
		return nil, err
	}
	parts = append(parts, blobs...)
	for _, name := range keyFiles {
		b, err := os.ReadFile(filepath.Join(o.Dir, name))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		parts = append(parts, source{Part: Part{Name: name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}, data: b})
	}
	for _, p := range parts {
		m.Parts = append(m.Parts, p.Part)
	}
	h := m.header()
	if err := errors.Join(m.check(), h.check()); err != nil {
		return nil, fmt.Errorf("the instance cannot be backed up as it is: %w", err) // nothing was written
	}
	if err := write(out, m, parts, o.Recipients); err != nil {
		return nil, err
	}
	o.Logger.Info("backup written", "file", out, "origin", m.Origin, "entries", m.TreeSize, "parts", len(m.Parts))
	return m, nil
}

// state is what a snapshot holds of the log.
type state struct {
	Origin, VKey string
	Size         int64
	Root         tlog.Hash
	Checkpoint   []byte
}

// sqliteState reads the log's state from the SQLite database at path
// (bringing its schema up to date if migrate) and closes it again,
// leaving one file.
func sqliteState(ctx context.Context, path string, migrate bool) (state, error) {
	var st state
	db, err := sqlite.Open(ctx, path, sqlite.Options{Migrate: migrate})
	if err != nil {
		return st, err
	}
	st, err = readState(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, err
	}
	for _, side := range []string{"-wal", "-shm"} {
		if fi, err := os.Stat(path + side); err == nil && fi.Size() > 0 && side == "-wal" {
			return st, fmt.Errorf("%s: the snapshot kept a write-ahead log", path)
		}
		os.Remove(path + side)
	}
	return st, nil
}

// readState reads the log's state through the store.
func readState(ctx context.Context, db interface {
	Meta(context.Context, string) (string, error)
	Tree(context.Context) (int64, tlog.Hash, error)
	Checkpoint(context.Context) ([]byte, int64, error)
}) (state, error) {
	var st state
	var err error
	if st.Origin, err = db.Meta(ctx, instance.MetaOrigin); err != nil {
		return st, fmt.Errorf("the origin: %w", err)
	}
	if st.VKey, err = db.Meta(ctx, instance.MetaVKey); err != nil {
		return st, fmt.Errorf("the log key: %w", err)
	}
	if st.Size, st.Root, err = db.Tree(ctx); err != nil {
		return st, err
	}
	st.Checkpoint, _, err = db.Checkpoint(ctx)
	return st, err
}

// fileSource hashes a file into a part.
func fileSource(name, path string) (source, error) {
	f, err := os.Open(path)
	if err != nil {
		return source{}, err
	}
	defer f.Close()
	h := newHashingReader(f)
	if _, err := io.Copy(io.Discard, h); err != nil {
		return source{}, err
	}
	return source{Part: Part{Name: name, Size: h.n, SHA256: h.sum()}, path: path}, nil
}

// listBlobs lists the evidence files in dir (absent: none), by name. A
// file's hash is its name, checked as it is written into the backup.
func listBlobs(dir string) ([]source, error) {
	var out []source
	subs, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, sub := range subs {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue // staged uploads (.upload-*) are not kept files
		}
		files, err := os.ReadDir(filepath.Join(dir, sub.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			name := f.Name()
			if !f.Type().IsRegular() || !hexHash.MatchString(name) || name[:2] != sub.Name() {
				continue
			}
			fi, err := f.Info()
			if err != nil {
				return nil, err
			}
			out = append(out, source{Part: Part{Name: "blobs/" + name, Size: fi.Size(), SHA256: name}, path: filepath.Join(dir, sub.Name(), name)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// hashingWriter hashes and counts what is written to it, and writes it
// encrypted (enc) to the work file f.
type hashingWriter struct {
	f   *os.File
	enc io.WriteCloser
	h   hashState
	n   int64
}

func (w *hashingWriter) Write(p []byte) (int, error) {
	n, err := w.enc.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

func (w *hashingWriter) Close() error {
	err := w.enc.Close()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// write writes the backup file: the format line and the header in clear,
// then encrypted the manifest and the parts, each part checked against
// its hash as it is copied. The file appears under its name only once
// complete and synced.
func write(out string, m *Manifest, parts []source, recipients []age.Recipient) (err error) {
	line, err := m.marshal()
	if err != nil {
		return err
	}
	header, err := json.Marshal(m.header())
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(out), ".truce-backup-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(append(append([]byte(Magic), header...), '\n')); err != nil {
		return err
	}
	aw, err := age.Encrypt(f, recipients...)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(aw)
	put := func(p Part, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: p.Name, Size: p.Size, Mode: 0o600, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		h := newHashingReader(io.LimitReader(r, p.Size+1))
		if _, err := io.Copy(tw, h); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if h.n != p.Size || h.sum() != p.SHA256 {
			return fmt.Errorf("%s changed while it was being backed up (or does not hash to its name): the backup was not written", p.Name)
		}
		return nil
	}
	sum := sha256.Sum256(line)
	if err := put(Part{Name: manifestName, Size: int64(len(line)), SHA256: hex.EncodeToString(sum[:])}, bytes.NewReader(line)); err != nil {
		return err
	}
	for _, p := range parts {
		if p.path == "" {
			err = put(p.Part, bytes.NewReader(p.data))
		} else {
			err = copyFile(p, put)
		}
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := aw.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(f.Name(), out); err != nil { // never over a file that appeared meanwhile
		os.Remove(f.Name())
		return err
	}
	os.Remove(f.Name())
	return syncDir(filepath.Dir(out))
}

func copyFile(p source, put func(Part, io.Reader) error) error {
	f, err := os.Open(p.path)
	if err != nil {
		return fmt.Errorf("%s: %w (retry the backup)", p.Name, err)
	}
	defer f.Close()
	var r io.Reader = f
	if p.key != nil {
		if r, err = age.Decrypt(f, p.key); err != nil {
			return fmt.Errorf("%s: the work file: %w", p.Name, err)
		}
	}
	return put(p.Part, r)
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// snapshotted, if set, is called once the database is snapshotted and
// before the backup is written (tests: what the work files hold).
var snapshotted func()
