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

// Put stores what r yields, up to max bytes, and returns its hash and
// size. The file becomes visible only once complete and synced.
func (d *Dir) Put(r io.Reader, max int64) (string, int64, error) {
	tmp, err := os.CreateTemp(d.root, ".upload-*")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err != nil {
		return "", 0, err
	}
	if n > max {
		return "", 0, ErrTooLarge
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, err
	}
	sha := hex.EncodeToString(h.Sum(nil))
	if err := os.MkdirAll(filepath.Dir(d.path(sha)), 0o700); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp.Name(), d.path(sha)); err != nil {
		return "", 0, err
	}
	return sha, n, nil
}

// Open opens the file with the given hash.
func (d *Dir) Open(sha string) (*os.File, error) {
	if !hashPattern.MatchString(sha) {
		return nil, fmt.Errorf("%q is not a SHA-256", sha)
	}
	return os.Open(d.path(sha))
}
