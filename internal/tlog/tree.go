package tlog

import (
	"context"
	"fmt"

	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// TileData is a hash tile or entry bundle to store: the whole tile at the
// width Tile.W.
type TileData struct {
	Tile Tile
	Data []byte
}

// Growth is what appending a batch of leaves produces.
type Growth struct {
	OldSize, Size int64
	Root          Hash
	Tiles         []TileData // hash tiles whose width changed
	Bundles       []TileData // entry bundles whose width changed
	// BundleFrom[i] is how many bytes of Bundles[i] were stored before.
	BundleFrom []int
}

// Tree tracks the right edge of a growing tree: the rightmost hash tile at
// each level and the rightmost entry bundle, so that appending reads the
// store only for the occasional left sibling in an older, full tile.
//
// Tree is not safe for concurrent use; the sequencer owns it.
type Tree struct {
	size  int64
	root  Hash
	edge  map[[2]int64][]byte // (level, n) → data; level -1 is the bundle
	store TileReader
}

// OpenTree loads the edge of a tree of the given size from store and checks
// that its tiles give root.
func OpenTree(ctx context.Context, store TileReader, size int64, root Hash) (*Tree, error) {
	t := &Tree{size: size, edge: map[[2]int64][]byte{}, store: store}
	for level := -1; size>>(TileHeight*max(level, 0)) > 0; level++ {
		n := rightmost(level, size)
		data, err := store.ReadTile(ctx, level, n)
		if err != nil {
			return nil, fmt.Errorf("loading tile (%d, %d): %w", level, n, err)
		}
		t.edge[[2]int64{int64(level), n}] = data
	}
	got, err := sumtlog.TreeHash(size, t.reader(ctx, nil))
	if err != nil {
		return nil, fmt.Errorf("tree of size %d: %w", size, err)
	}
	if got != root {
		return nil, fmt.Errorf("tree of size %d: tiles give root %s, checkpoint says %s", size, got, root)
	}
	t.root = root
	return t, nil
}

// Size is the number of leaves.
func (t *Tree) Size() int64 { return t.size }

// Root is the tree hash.
func (t *Tree) Root() Hash { return t.root }

// Grow computes the tree with leaves appended, without changing t; Commit
// makes it current once it is stored.
func (t *Tree) Grow(ctx context.Context, leaves [][]byte) (*Growth, error) {
	overlay := make(map[int64]Hash, 2*len(leaves)+1)
	hr := t.reader(ctx, overlay)
	for i, leaf := range leaves {
		n := t.size + int64(i)
		hs, err := sumtlog.StoredHashes(n, leaf, hr)
		if err != nil {
			return nil, err
		}
		base := sumtlog.StoredHashIndex(0, n)
		for j, h := range hs {
			overlay[base+int64(j)] = h
		}
	}
	g := &Growth{OldSize: t.size, Size: t.size + int64(len(leaves))}
	for _, tile := range sumtlog.NewTiles(TileHeight, g.OldSize, g.Size) {
		data, err := sumtlog.ReadTileData(tile, hr)
		if err != nil {
			return nil, err
		}
		g.Tiles = append(g.Tiles, TileData{tile, data})
	}
	// Entry bundles: extend the rightmost bundle, start new ones.
	var cur *TileData
	for i, leaf := range leaves {
		n := t.size + int64(i)
		if cur == nil || cur.Tile.N != n/TileWidth {
			tile := Tile{H: TileHeight, L: -1, N: n / TileWidth}
			prev := t.edge[[2]int64{-1, tile.N}]
			if int(n%TileWidth) > 0 && prev == nil {
				var err error
				if prev, err = t.store.ReadTile(ctx, -1, tile.N); err != nil {
					return nil, fmt.Errorf("bundle %d: %w", tile.N, err)
				}
			}
			// Room for the leaves of the batch that go into this bundle at
			// once: appending them one by one to a bundle of up to 256
			// entries regrew and cleared it.
			room := 0
			for _, l := range leaves[i:min(len(leaves), i+TileWidth-int(n%TileWidth))] {
				room += 2 + len(l)
			}
			data := make([]byte, len(prev), len(prev)+room)
			copy(data, prev)
			g.Bundles = append(g.Bundles, TileData{Tile: tile, Data: data})
			g.BundleFrom = append(g.BundleFrom, len(prev))
			cur = &g.Bundles[len(g.Bundles)-1]
			cur.Tile.W = int(n % TileWidth)
		}
		var err error
		if cur.Data, err = AppendBundleEntry(cur.Data, leaf); err != nil {
			return nil, err
		}
		cur.Tile.W++
	}
	var err error
	if g.Root, err = sumtlog.TreeHash(g.Size, hr); err != nil {
		return nil, err
	}
	return g, nil
}

// Commit makes g, computed by Grow on t's current state, current.
func (t *Tree) Commit(g *Growth) {
	if g.OldSize != t.size {
		panic("tlog: commit of a growth computed for another size")
	}
	for _, td := range append(g.Tiles, g.Bundles...) {
		t.edge[[2]int64{int64(td.Tile.L), td.Tile.N}] = td.Data
	}
	t.size, t.root = g.Size, g.Root
	// Forget tiles left of the edge: they are full and in the store.
	for k := range t.edge {
		if k[1] < rightmost(int(k[0]), t.size) {
			delete(t.edge, k)
		}
	}
}

// rightmost is the number of the rightmost tile at level (-1: bundles) of
// a tree of size > 0.
func rightmost(level int, size int64) int64 {
	return (size>>(TileHeight*max(level, 0)) - 1) / TileWidth
}

// reader returns a hash reader over the tree's tiles: overlay first, then
// the edge, then the store.
func (t *Tree) reader(ctx context.Context, overlay map[int64]Hash) sumtlog.HashReader {
	return sumtlog.HashReaderFunc(func(indexes []int64) ([]Hash, error) {
		out := make([]Hash, len(indexes))
		for i, idx := range indexes {
			if h, ok := overlay[idx]; ok {
				out[i] = h
				continue
			}
			tile := sumtlog.TileForIndex(TileHeight, idx)
			data, ok := t.edge[[2]int64{int64(tile.L), tile.N}]
			if !ok {
				var err error
				if data, err = t.store.ReadTile(ctx, tile.L, tile.N); err != nil {
					return nil, fmt.Errorf("reading %s: %w", TilePath(tile), err)
				}
			}
			h, err := sumtlog.HashFromTile(tile, data, idx)
			if err != nil {
				return nil, err
			}
			out[i] = h
		}
		return out, nil
	})
}
