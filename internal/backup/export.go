package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	sumtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/tlog"
)

// Exported is what ExportLog wrote.
type Exported struct {
	Size int64
	Root tlog.Hash
	// Tiles counts the hash tiles and entry bundles of the tree; Written
	// those that were not in the directory already.
	Tiles, Written int
}

// ExportLog writes the log of the instance in under dir as the files a
// C2SP tlog-tiles log serves, at the paths and with the bytes the server
// serves under /log/: checkpoint (the newest published: with witnesses,
// the newest they cosigned), every hash tile tile/<L>/<N>[.p/<W>] and
// entry bundle tile/entries/<N>[.p/<W>] of that checkpoint's tree, and
// vkey. Any static web server can serve dir as a mirror of the log
// (serving the tiles as application/octet-stream and the checkpoint as
// text/plain; charset=utf-8).
//
// dir may hold an earlier export of the same log, which is brought up to
// date: tiles already there are kept (they never change), new ones are
// written each under a temporary name renamed into place, and the
// checkpoint last, so that a server serving dir meanwhile serves a
// consistent log. It refuses a dir that holds another log's checkpoint, a
// larger checkpoint (the export would roll the mirror back), a checkpoint
// whose tree is not a prefix of this log's, or a tile whose bytes differ
// from the log's.
//
// It reads only the store, beside a serving process; the log holds no
// sealed content (only commitments to it), so neither does the export.
func ExportLog(ctx context.Context, in *instance.Instance, dir string) (*Exported, error) {
	p, err := in.WitnessPolicy(ctx)
	if err != nil {
		return nil, err
	}
	read := in.Store.Checkpoint
	if len(p.Peers) > 0 {
		read = in.Store.Cosigned
	}
	signed, _, err := read(ctx)
	if err != nil {
		return nil, err
	}
	if signed == nil {
		return nil, truce.Errorf(truce.CodeNotFound, "the log has no published checkpoint yet")
	}
	cp, err := tlog.OpenCheckpoint(signed, in.Origin, in.Verifier)
	if err != nil {
		return nil, fmt.Errorf("the log's own checkpoint: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := checkMirror(ctx, in, dir, cp); err != nil {
		return nil, err
	}
	ex := &Exported{Size: cp.Size, Root: cp.Root}
	for _, t := range sumtlog.NewTiles(tlog.TileHeight, 0, cp.Size) {
		tiles := []tlog.Tile{t}
		if t.L == 0 { // each level-0 tile has the entry bundle of its entries
			tiles = append(tiles, tlog.Tile{H: t.H, L: -1, N: t.N, W: t.W})
		}
		for _, t := range tiles {
			data, err := in.Store.ReadTile(ctx, t.L, t.N)
			if err == nil {
				data, err = tlog.TrimTile(t, data)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tlog.TilePath(t), err)
			}
			wrote, err := writeStatic(dir, tlog.TilePath(t), data, true)
			if err != nil {
				return nil, err
			}
			ex.Tiles++
			if wrote {
				ex.Written++
			}
		}
	}
	if _, err := writeStatic(dir, "vkey", []byte(in.VKey+"\n"), true); err != nil {
		return nil, err
	}
	if _, err := writeStatic(dir, "checkpoint", signed, false); err != nil {
		return nil, err
	}
	return ex, syncDir(dir)
}

// checkMirror checks that the checkpoint already in dir, if any, is of
// this log and of a tree that cp's extends.
func checkMirror(ctx context.Context, in *instance.Instance, dir string, cp tlog.Checkpoint) error {
	old, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	prev, err := tlog.OpenCheckpoint(old, in.Origin, in.Verifier)
	if err != nil {
		return truce.Errorf(truce.CodeConflict, "%s holds a checkpoint that is not this log's (%v): export into a new directory", dir, err)
	}
	if prev.Size > cp.Size {
		return truce.Errorf(truce.CodeConflict, "%s holds a checkpoint of %d entries; the log's is of %d: exporting would roll the mirror back", dir, prev.Size, cp.Size)
	}
	if prev.Size > 0 {
		root, err := tlog.RootAt(ctx, in.Store, prev.Size)
		if err != nil {
			return err
		}
		if root != prev.Root {
			return truce.Errorf(truce.CodeConflict, "%s holds a checkpoint of %d entries whose root is not this log's at that size: the mirror is of a fork", dir, prev.Size)
		}
	}
	return nil
}

// writeStatic writes data to dir/name (mode 0644) under a temporary name
// renamed into place, unless the file holds data already; with immutable,
// a file holding other bytes is refused rather than replaced.
func writeStatic(dir, name string, data []byte, immutable bool) (bool, error) {
	path := filepath.Join(dir, filepath.FromSlash(name))
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, data):
		return false, nil
	case err == nil && immutable:
		return false, truce.Errorf(truce.CodeConflict, "%s holds other bytes than the log's %s: the directory holds another log", path, name)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return false, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return false, err
	}
	return true, nil
}
