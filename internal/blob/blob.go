// Package blob keeps evidence files by their SHA-256: a file's name is its
// hash, so a stored file cannot be swapped without the hash the log holds
// showing it.
//
// Store is what the server needs of a place that keeps them. Dir keeps them
// in a directory (an instance on SQLite); the PostgreSQL store keeps them
// in its database, so that every process over that database reads the
// files any of them received.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/truce-mvm/truce"
)

// Store keeps files by their SHA-256. A file is visible whole or not at
// all; the same bytes are kept once, however often they are put.
type Store interface {
	// Stage reads what r yields, up to max bytes, into a temporary file
	// and hashes it; nothing is kept until Keep. Over max it returns
	// ErrTooLarge and leaves nothing behind.
	Stage(ctx context.Context, r io.Reader, max int64) (*Staged, error)
	// Open opens the file with the given hash, for reading and seeking;
	// the caller closes it. An absent file is an error that is
	// fs.ErrNotExist; a string that is not a SHA-256 is an error too.
	Open(ctx context.Context, sha string) (File, error)
	// Remove deletes a kept file (one that its upload turned out not to
	// need). An absent file is not an error. A store that several
	// processes share (PostgreSQL's) leaves a file that an upload record
	// names: another process may have recorded an upload of the same
	// bytes since this one looked, which its per-process lock cannot see.
	Remove(ctx context.Context, sha string) error
	// Kept says whether the file is kept, once any removal of it in
	// progress has ended. Called after an upload of the file was
	// recorded, a true answer stays true: a removal that starts later
	// sees the record and leaves the file.
	Kept(ctx context.Context, sha string) (bool, error)
}

// File is a kept file, open for reading: what http.ServeContent serves.
type File interface {
	io.ReadSeekCloser
	// Size is the file's length in bytes.
	Size() int64
}

// Put stores what r yields, up to max bytes, in s and returns its hash and
// size, and whether the file is new (not kept before).
func Put(ctx context.Context, s Store, r io.Reader, max int64) (sha string, size int64, fresh bool, err error) {
	st, err := s.Stage(ctx, r, max)
	if err != nil {
		return "", 0, false, err
	}
	defer st.Discard()
	fresh, err = st.Keep(ctx)
	return st.SHA256, st.Size, fresh, err
}

// ErrTooLarge is returned when a file exceeds the limit it was staged
// with.
var ErrTooLarge = errors.New("file too large")

// ErrNoSpace is returned when the disk is full; nothing was kept.
var ErrNoSpace = truce.Errorf(truce.CodeNoSpace, "the server's disk is full: the file was not kept")

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckSHA refuses a string that is not a SHA-256 in lower-case hex, the
// only names a Store keeps files under.
func CheckSHA(sha string) error {
	if !hashPattern.MatchString(sha) {
		return fmt.Errorf("%q is not a SHA-256", sha)
	}
	return nil
}

// Staged is a file read to a temporary file, its hash and size known, not
// yet kept.
type Staged struct {
	SHA256 string
	Size   int64
	tmp    string
	keep   Keeper
}

// Keeper puts a staged file in its store, reading it from the temporary
// file at path; fresh says it was not kept before.
type Keeper func(ctx context.Context, st *Staged, path string) (fresh bool, err error)

// Spool reads what r yields, up to max bytes, into a temporary file in
// dir, hashing it, for a Store's Stage: keep is what Keep calls. A full
// disk is ErrNoSpace; over max is ErrTooLarge; either way nothing is left.
func Spool(dir string, r io.Reader, max int64, keep Keeper) (*Staged, error) {
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return nil, noSpace(err)
	}
	st := &Staged{tmp: tmp.Name(), keep: keep}
	h := sha256.New()
	st.Size, err = io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err == nil && st.Size > max {
		err = ErrTooLarge
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(st.tmp)
		return nil, noSpace(err)
	}
	st.SHA256 = hex.EncodeToString(h.Sum(nil))
	return st, nil
}

// StaleUpload is the age past which a temporary file of an upload is
// taken for one its process never finished (it died receiving it):
// older than any upload still in progress, in this process or another
// that shares the directory.
const StaleUpload = 24 * time.Hour

// SweepStale removes the temporary files Spool left in dir that are older
// than StaleUpload. It is best effort: what it cannot remove stays.
func SweepStale(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".upload-") || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > StaleUpload {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Keep puts a staged file in its store, under its hash; fresh says it was
// not kept before. It returns once the file is durable. Until Discard, a
// store that several processes share keeps it again if called again
// (another process removed the file meanwhile: Store.Kept).
func (st *Staged) Keep(ctx context.Context) (fresh bool, err error) {
	return st.keep(ctx, st, st.tmp)
}

// ErrMismatch is returned when the bytes to keep are not those staged:
// another hash or size than Stage found. Nothing is kept.
var ErrMismatch = errors.New("the file to keep is not the file staged: its hash or size differs")

// Verify reads r to its end and checks that it is st's bytes: its hash and
// size. A Keeper that does not read the temporary file as it keeps it
// (Dir's) calls it first; one that does hashes what it reads.
func Verify(r io.Reader, st *Staged) error {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return err
	}
	return Check(st, n, h.Sum(nil))
}

// Check compares a size and SHA-256 digest read back with st's.
func Check(st *Staged, size int64, sum []byte) error {
	if size != st.Size || hex.EncodeToString(sum) != st.SHA256 {
		return ErrMismatch
	}
	return nil
}

// Discard removes the temporary file; the file itself, once kept, stays.
func (st *Staged) Discard() { os.Remove(st.tmp) }

// noSpace names a full disk as such.
func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w (%v)", ErrNoSpace, err)
	}
	return err
}

// Dir is a Store in a directory: each file under DIR/ab/abcd…, named by
// its hash, placed there whole and synced.
type Dir struct{ root string }

var _ Store = (*Dir)(nil)

// Open returns the store in root, creating it, and removes what uploads
// left there unfinished long ago (SweepStale).
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	SweepStale(root)
	return &Dir{root: root}, nil
}

func (d *Dir) path(sha string) string { return filepath.Join(d.root, sha[:2], sha) }

// Stage implements Store: the temporary file is in the directory itself,
// so that keeping it is a link on the same file system.
func (d *Dir) Stage(_ context.Context, r io.Reader, max int64) (*Staged, error) {
	return Spool(d.root, r, max, d.keep)
}

// keep checks the staged file against its hash, syncs it and links it in
// place under its hash: the link fails if the hash is there already, so of
// two uploads of the same bytes at once exactly one is fresh.
func (d *Dir) keep(_ context.Context, st *Staged, tmp string) (bool, error) {
	if err := CheckSHA(st.SHA256); err != nil {
		return false, err
	}
	path := d.path(st.SHA256)
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	f, err := os.Open(tmp)
	if err != nil {
		return false, err
	}
	err = Verify(f, st)
	if err == nil {
		err = noSpace(f.Sync())
	}
	f.Close()
	if err != nil {
		return false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, noSpace(err)
	}
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return false, nil
	} else if err != nil {
		// A file system without hard links: the rename is as atomic, but
		// two uploads at once may both be told the file is fresh.
		if err := os.Rename(tmp, path); err != nil {
			return false, noSpace(err)
		}
	}
	if f, err := os.Open(dir); err == nil { // the link itself survives a crash
		f.Sync()
		f.Close()
	}
	return true, nil
}

// Remove implements Store.
func (d *Dir) Remove(_ context.Context, sha string) error {
	if err := CheckSHA(sha); err != nil {
		return err
	}
	if err := os.Remove(d.path(sha)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Kept implements Store. One process keeps a directory's files, and
// holds a file's lock while it removes it, so no removal is in progress.
func (d *Dir) Kept(_ context.Context, sha string) (bool, error) {
	if err := CheckSHA(sha); err != nil {
		return false, err
	}
	_, err := os.Stat(d.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Open implements Store.
func (d *Dir) Open(_ context.Context, sha string) (File, error) {
	if err := CheckSHA(sha); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(sha))
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return dirFile{f, fi.Size()}, nil
}

// dirFile is a file of a Dir.
type dirFile struct {
	*os.File
	size int64
}

func (f dirFile) Size() int64 { return f.size }
