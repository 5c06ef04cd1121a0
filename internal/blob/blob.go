// Package blob keeps evidence files on disk by their SHA-256: a file's
// name is its hash, so a stored file cannot be swapped without the hash
// the log holds showing it.
package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"

	"github.com/truce-mvm/truce"
)

// Dir is a directory of files named by hash.
type Dir struct{ root string }

// Open returns the store in root, creating it.
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	return &Dir{root: root}, nil
}

// ErrTooLarge is returned when a file exceeds the limit Put was given.
var ErrTooLarge = errors.New("file too large")

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (d *Dir) path(sha string) string { return filepath.Join(d.root, sha[:2], sha) }

// ErrNoSpace is returned when the disk is full; nothing was kept.
var ErrNoSpace = truce.Errorf(truce.CodeNoSpace, "the server's disk is full: the file was not kept")

// Put stores what r yields, up to max bytes, and returns its hash and
// size, and whether the file is new (not kept before). The file becomes
// visible only once complete and synced.
func (d *Dir) Put(r io.Reader, max int64) (sha string, size int64, fresh bool, err error) {
	st, err := d.Stage(r, max)
	if err != nil {
		return "", 0, false, err
	}
	defer st.Discard()
	fresh, err = st.Keep()
	return st.SHA256, st.Size, fresh, err
}

// Staged is a file read and synced to disk under a temporary name, its
// hash known, not yet kept.
type Staged struct {
	SHA256 string
	Size   int64
	d      *Dir
	tmp    string
}

// Stage reads what r yields, up to max bytes, into a staged file.
func (d *Dir) Stage(r io.Reader, max int64) (*Staged, error) {
	tmp, err := os.CreateTemp(d.root, ".upload-*")
	if err != nil {
		return nil, noSpace(err)
	}
	st := &Staged{d: d, tmp: tmp.Name()}
	h := sha256.New()
	st.Size, err = io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err == nil && st.Size > max {
		err = ErrTooLarge
	}
	if err == nil {
		err = tmp.Sync()
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

// Keep puts a staged file in place, under its hash; fresh says whether
// it was not kept before.
func (st *Staged) Keep() (fresh bool, err error) {
	path := st.d.path(st.SHA256)
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, noSpace(err)
	}
	if err := os.Rename(st.tmp, path); err != nil {
		return false, noSpace(err)
	}
	if f, err := os.Open(dir); err == nil { // the rename itself survives a crash
		f.Sync()
		f.Close()
	}
	return true, nil
}

// Discard removes what is left of a staged file; after Keep, nothing is.
func (st *Staged) Discard() { os.Remove(st.tmp) }

// noSpace names a full disk as such.
func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w (%v)", ErrNoSpace, err)
	}
	return err
}

// Remove deletes a stored file (one that its upload turned out not to
// need).
func (d *Dir) Remove(sha string) error {
	if !hashPattern.MatchString(sha) {
		return fmt.Errorf("%q is not a SHA-256", sha)
	}
	return os.Remove(d.path(sha))
}

// Open opens the file with the given hash.
func (d *Dir) Open(sha string) (*os.File, error) {
	if !hashPattern.MatchString(sha) {
		return nil, fmt.Errorf("%q is not a SHA-256", sha)
	}
	return os.Open(d.path(sha))
}
