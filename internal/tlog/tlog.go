// Package tlog is the log's Merkle machinery in C2SP terms: tile and entry
// bundle paths and encodings (tlog-tiles), checkpoints (tlog-checkpoint over
// signed-note), tree growth in batches, proofs, and offline receipts
// (tlog-proof). The RFC 6962 arithmetic is golang.org/x/mod/sumdb/tlog's;
// this package only adapts it to tiles kept in a store.
package tlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// TileHeight is fixed by tlog-tiles.
const TileHeight = 8

// TileWidth is the number of hashes (or entries) in a full tile.
const TileWidth = 1 << TileHeight

// Hash is a Merkle tree hash.
type Hash = sumtlog.Hash

// Tile identifies a hash tile (L ≥ 0) or an entry bundle (L == -1).
type Tile = sumtlog.Tile

// ErrNotFound is returned by TileReaders for tiles they do not hold.
var ErrNotFound = errors.New("tile not found")

// TileReader reads stored tiles. ReadTile returns the tile at level L
// (-1 for the entry bundle) and number n at the widest width stored; a
// narrower version of the same tile is a prefix of it.
type TileReader interface {
	ReadTile(ctx context.Context, level int, n int64) ([]byte, error)
}

// TilePath returns the C2SP path of t, relative to the log prefix:
// tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>].
func TilePath(t Tile) string {
	p := strings.TrimPrefix(t.Path(), "tile/8/") // sumdb paths carry the height
	if rest, ok := strings.CutPrefix(p, "data/"); ok {
		return "tile/entries/" + rest
	}
	return "tile/" + p
}

// ParseTilePath parses a C2SP tile path, accepting only its canonical form.
func ParseTilePath(path string) (Tile, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return Tile{}, fmt.Errorf("malformed tile path %q", path)
	}
	sum := "tile/8/" + rest
	if r, ok := strings.CutPrefix(rest, "entries/"); ok {
		sum = "tile/8/data/" + r
	}
	t, err := sumtlog.ParseTilePath(sum)
	if err != nil || t.H != TileHeight || t.L > 63 || t.N < 0 || TilePath(t) != path {
		return Tile{}, fmt.Errorf("malformed tile path %q", path)
	}
	return t, nil
}

// AppendBundleEntry appends one length-prefixed entry to a bundle.
func AppendBundleEntry(bundle, entry []byte) ([]byte, error) {
	if len(entry) > 0xFFFF {
		return nil, fmt.Errorf("entry of %d bytes does not fit a bundle", len(entry))
	}
	bundle = binary.BigEndian.AppendUint16(bundle, uint16(len(entry)))
	return append(bundle, entry...), nil
}

// BundleEntries splits a bundle into its entries. Entries alias bundle.
func BundleEntries(bundle []byte) ([][]byte, error) {
	var out [][]byte
	for len(bundle) > 0 {
		if len(bundle) < 2 {
			return nil, errors.New("bundle: truncated length prefix")
		}
		n := int(binary.BigEndian.Uint16(bundle))
		if len(bundle) < 2+n {
			return nil, errors.New("bundle: truncated entry")
		}
		out = append(out, bundle[2:2+n:2+n])
		bundle = bundle[2+n:]
	}
	return out, nil
}

// Leaf reads the entry at index from its bundle in tr.
func Leaf(ctx context.Context, tr TileReader, index int64) ([]byte, error) {
	bundle, err := tr.ReadTile(ctx, -1, index/TileWidth)
	if err != nil {
		return nil, err
	}
	entries, err := BundleEntries(bundle)
	if err != nil {
		return nil, err
	}
	if i := index % TileWidth; i < int64(len(entries)) {
		return entries[i], nil
	}
	return nil, ErrNotFound
}

// TrimTile returns the prefix of stored tile data that is tile t, or
// ErrNotFound if the stored tile is narrower than t.
func TrimTile(t Tile, data []byte) ([]byte, error) {
	if t.L >= 0 {
		if len(data) < t.W*sumtlog.HashSize {
			return nil, ErrNotFound
		}
		return data[:t.W*sumtlog.HashSize], nil
	}
	end := 0
	for i := 0; i < t.W; i++ {
		if len(data) < end+2 {
			return nil, ErrNotFound
		}
		end += 2 + int(binary.BigEndian.Uint16(data[end:]))
	}
	if end > len(data) {
		return nil, ErrNotFound
	}
	return data[:end], nil
}
