package tlog

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// memTiles is a TileReader over a map, storing tiles at their widest.
type memTiles map[[2]int64][]byte

func (m memTiles) ReadTile(_ context.Context, level int, n int64) ([]byte, error) {
	d, ok := m[[2]int64{int64(level), n}]
	if !ok {
		return nil, ErrNotFound
	}
	return d, nil
}

func (m memTiles) store(g *Growth) {
	for _, td := range append(g.Tiles, g.Bundles...) {
		m[[2]int64{int64(td.Tile.L), td.Tile.N}] = td.Data
	}
}

func hx(s string) Hash {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		panic(s)
	}
	return Hash(b)
}

// The RFC 6962 test vectors used by Certificate Transparency implementations.
var goldenLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}

var goldenRoots = []string{
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

func goldenTree(t *testing.T) memTiles {
	t.Helper()
	m := memTiles{}
	tree, err := OpenTree(context.Background(), m, 0, emptyRoot())
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range goldenLeaves {
		leaf, _ := hex.DecodeString(l)
		g, err := tree.Grow(context.Background(), [][]byte{leaf})
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(g.Root[:]); got != goldenRoots[i] {
			t.Fatalf("root of size %d = %s, want %s", i+1, got, goldenRoots[i])
		}
		m.store(g)
		tree.Commit(g)
	}
	return m
}

func emptyRoot() Hash {
	h, _ := sumtlog.TreeHash(0, nil)
	return h
}

func TestGoldenRootsAndProofs(t *testing.T) {
	m := goldenTree(t)
	ctx := context.Background()
	inclusion := []struct {
		index, size int64
		proof       []string
	}{
		{0, 1, nil},
		{0, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{5, 8, []string{"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 3, []string{"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
		{1, 5, []string{"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	}
	for _, c := range inclusion {
		p, err := InclusionProof(ctx, m, c.index, c.size)
		if err != nil {
			t.Fatal(err)
		}
		checkHashes(t, fmt.Sprintf("inclusion(%d,%d)", c.index, c.size), p, c.proof)
	}
	consistency := []struct {
		old, size int64
		proof     []string
	}{
		{1, 1, nil},
		{1, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{6, 8, []string{"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 5, []string{"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	}
	for _, c := range consistency {
		p, err := ConsistencyProof(ctx, m, c.old, c.size)
		if err != nil {
			t.Fatal(err)
		}
		checkHashes(t, fmt.Sprintf("consistency(%d,%d)", c.old, c.size), p, c.proof)
	}
}

func checkHashes(t *testing.T, what string, got []Hash, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d hashes, want %d", what, len(got), len(want))
	}
	for i := range got {
		if hex.EncodeToString(got[i][:]) != want[i] {
			t.Errorf("%s[%d] = %x, want %s", what, i, got[i], want[i])
		}
	}
}

// TestGrowAgainstIndependentVerifier grows a tree in random batches across
// tile boundaries and checks every root, tile, bundle and proof against
// github.com/transparency-dev/merkle, which shares no code with sumdb/tlog.
func TestGrowAgainstIndependentVerifier(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	m := memTiles{}
	tree, err := OpenTree(ctx, m, 0, emptyRoot())
	if err != nil {
		t.Fatal(err)
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	cr := rf.NewEmptyRange(0)
	var leafHashes [][]byte
	var roots [][]byte
	for tree.Size() < 70000 {
		n := 1 + rng.IntN(300)
		if rng.IntN(10) == 0 {
			n = 1 + rng.IntN(3000)
		}
		var leaves [][]byte
		for i := 0; i < n; i++ {
			leaf := fmt.Appendf(nil, "leaf %d", tree.Size()+int64(i))
			leaves = append(leaves, leaf)
			lh := rfc6962.DefaultHasher.HashLeaf(leaf)
			leafHashes = append(leafHashes, lh)
			if err := cr.Append(lh, nil); err != nil {
				t.Fatal(err)
			}
		}
		g, err := tree.Grow(ctx, leaves)
		if err != nil {
			t.Fatal(err)
		}
		want, err := cr.GetRootHash(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g.Root[:], want) {
			t.Fatalf("size %d: root %x, independent %x", g.Size, g.Root, want)
		}
		for len(roots) < int(g.Size) {
			roots = append(roots, nil)
		}
		roots[g.Size-1] = want
		m.store(g)
		tree.Commit(g)
		// Reopening from the store at any point gives the same tree.
		if rng.IntN(5) == 0 {
			if tree, err = OpenTree(ctx, m, g.Size, g.Root); err != nil {
				t.Fatal(err)
			}
		}
	}
	size := tree.Size()
	// Level-0 tiles hold the leaf hashes; bundles hold the leaves.
	for n := int64(0); n*TileWidth < size; n++ {
		tile, _ := m.ReadTile(ctx, 0, n)
		bundle, _ := m.ReadTile(ctx, -1, n)
		entries, err := BundleEntries(bundle)
		if err != nil {
			t.Fatal(err)
		}
		if len(tile) != 32*len(entries) {
			t.Fatalf("tile %d has %d hashes, bundle %d entries", n, len(tile)/32, len(entries))
		}
		for i, e := range entries {
			idx := n*TileWidth + int64(i)
			if !bytes.Equal(rfc6962.DefaultHasher.HashLeaf(e), leafHashes[idx]) || !bytes.Equal(tile[32*i:32*i+32], leafHashes[idx]) {
				t.Fatalf("entry %d differs from the leaf appended", idx)
			}
		}
	}
	// Proofs between random sizes for which a checkpoint would exist.
	for i := 0; i < 300; i++ {
		sz := 1 + rng.Int64N(size)
		if roots[sz-1] == nil {
			continue
		}
		idx := rng.Int64N(sz)
		p, err := InclusionProof(ctx, m, idx, sz)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(idx), uint64(sz), leafHashes[idx], toBytes(p), roots[sz-1]); err != nil {
			t.Fatalf("inclusion %d in %d: %v", idx, sz, err)
		}
		old := 1 + rng.Int64N(sz)
		if roots[old-1] == nil {
			continue
		}
		c, err := ConsistencyProof(ctx, m, old, sz)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(old), uint64(sz), toBytes(c), roots[old-1], roots[sz-1]); err != nil {
			t.Fatalf("consistency %d→%d: %v", old, sz, err)
		}
	}
}

func toBytes(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

func TestOpenTreeRefusesWrongRoot(t *testing.T) {
	m := goldenTree(t)
	if _, err := OpenTree(context.Background(), m, 8, hx(goldenRoots[6])); err == nil {
		t.Fatal("opened a tree whose tiles do not give the checkpoint's root")
	}
}

func TestTilePaths(t *testing.T) {
	for _, c := range []struct {
		tile Tile
		path string
	}{
		{Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{Tile{H: 8, L: 2, N: 5, W: 17}, "tile/2/005.p/17"},
		{Tile{H: 8, L: -1, N: 1000, W: 256}, "tile/entries/x001/000"},
		{Tile{H: 8, L: -1, N: 3, W: 1}, "tile/entries/003.p/1"},
	} {
		if got := TilePath(c.tile); got != c.path {
			t.Errorf("TilePath(%+v) = %q, want %q", c.tile, got, c.path)
		}
		got, err := ParseTilePath(c.path)
		if err != nil || got != c.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v", c.path, got, err)
		}
	}
	for _, bad := range []string{
		"tile/0/1", "tile/00/000", "tile/0/001/002", "tile/0/x1/002", "tile/0/000.p/256", "tile/0/000.p/0",
		"tile/0/000.p/07", "tile/64/000", "tile/-1/000", "tile/data/000", "tile/8/0/000", "tile/entries/000.p/",
		"tile/0/x000/000", "tile/+1/000", "tiles/0/000", "tile/0/000/", "tile/0/-01",
	} {
		if _, err := ParseTilePath(bad); err == nil {
			t.Errorf("ParseTilePath(%q) accepted a non-canonical path", bad)
		}
	}
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/entries/x001/234.p/5", "tile/3/x999/x999/999", "tile/0/000.p/255"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tile, err := ParseTilePath(path)
		if err != nil {
			return
		}
		if TilePath(tile) != path {
			t.Fatalf("ParseTilePath(%q) = %+v, which formats as %q", path, tile, TilePath(tile))
		}
		if tile.W < 1 || tile.W > TileWidth || tile.L < -1 || tile.L > 63 || tile.N < 0 {
			t.Fatalf("ParseTilePath(%q) = out-of-range %+v", path, tile)
		}
	})
}

func TestBundles(t *testing.T) {
	var b []byte
	want := [][]byte{{}, []byte("a"), bytes.Repeat([]byte("x"), 65535)}
	for _, e := range want {
		var err error
		if b, err = AppendBundleEntry(b, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := AppendBundleEntry(nil, make([]byte, 65536)); err == nil {
		t.Fatal("accepted an entry too large for a uint16 length")
	}
	got, err := BundleEntries(b)
	if err != nil || len(got) != 3 || !bytes.Equal(got[2], want[2]) || len(got[0]) != 0 {
		t.Fatalf("BundleEntries = %d entries, %v", len(got), err)
	}
	two, err := TrimTile(Tile{L: -1, W: 2}, b)
	if err != nil || len(two) != 2+2+1 {
		t.Fatalf("TrimTile to 2 entries = %d bytes, %v", len(two), err)
	}
	if _, err := TrimTile(Tile{L: -1, W: 4}, b); err != ErrNotFound {
		t.Fatal("TrimTile served a bundle wider than stored")
	}
	if _, err := BundleEntries(b[:len(b)-1]); err == nil {
		t.Fatal("accepted a truncated bundle")
	}
}

// Leaf reads one entry out of its bundle.
func TestLeaf(t *testing.T) {
	m := goldenTree(t)
	for i, l := range goldenLeaves {
		want, _ := hex.DecodeString(l)
		if got, err := Leaf(context.Background(), m, int64(i)); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Leaf(%d) = %x, %v; want %x", i, got, err, want)
		}
	}
	if _, err := Leaf(context.Background(), m, int64(len(goldenLeaves))); err != ErrNotFound {
		t.Fatalf("Leaf past the tree = %v", err)
	}
}

func FuzzBundleEntries(f *testing.F) {
	f.Add([]byte{0, 1, 'a', 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := BundleEntries(b)
		if err != nil {
			return
		}
		var again []byte
		for _, e := range entries {
			again, _ = AppendBundleEntry(again, e)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("bundle does not round-trip")
		}
	})
}

func TestCheckpointAndReceipt(t *testing.T) {
	m := goldenTree(t)
	ctx := context.Background()
	skey, vkey, err := GenerateLogKey("example.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	root, _ := RootAt(ctx, m, 8)
	signed, err := SignCheckpoint(Checkpoint{Origin: "example.test/log", Size: 8, Root: root}, signer)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := OpenCheckpoint(signed, "example.test/log", verifier)
	if err != nil || cp.Size != 8 || cp.Root != hx(goldenRoots[7]) {
		t.Fatalf("OpenCheckpoint = %+v, %v", cp, err)
	}
	if _, err := OpenCheckpoint(signed, "other.test/log", verifier); err == nil {
		t.Fatal("checkpoint accepted for another origin")
	}
	tampered := bytes.Replace(signed, []byte("\n8\n"), []byte("\n9\n"), 1)
	if _, err := OpenCheckpoint(tampered, "example.test/log", verifier); err == nil {
		t.Fatal("tampered checkpoint accepted")
	}

	p, _ := InclusionProof(ctx, m, 5, 8)
	leaf, _ := hex.DecodeString(goldenLeaves[5])
	r := Receipt{Index: 5, Proof: p, Checkpoint: signed, Extra: leaf}
	parsed, err := ParseReceipt(r.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parsed.Verify("example.test/log", verifier, parsed.Extra); err != nil {
		t.Fatalf("receipt does not verify: %v", err)
	}
	if _, err := parsed.Verify("example.test/log", verifier, []byte("another leaf")); err == nil {
		t.Fatal("receipt verified for a different leaf")
	}
	parsed.Index = 4
	if _, err := parsed.Verify("example.test/log", verifier, leaf); err == nil {
		t.Fatal("receipt verified at the wrong index")
	}
}

// TestGrowBundleRoom: a batch across many bundles gives each the room for
// its own entries, not for the whole batch (which, for a batch of 4096
// entries, allocated sixteen times its bytes, and left the edge's bundle
// holding a batch's worth of spare capacity).
func TestGrowBundleRoom(t *testing.T) {
	ctx := context.Background()
	m := memTiles{}
	tree, err := OpenTree(ctx, m, 0, emptyRoot())
	if err != nil {
		t.Fatal(err)
	}
	leaf := bytes.Repeat([]byte("x"), 1000)
	// Start mid-bundle, so that the first bundle has stored bytes too.
	g, err := tree.Grow(ctx, [][]byte{leaf, leaf, leaf})
	if err != nil {
		t.Fatal(err)
	}
	m.store(g)
	tree.Commit(g)
	leaves := make([][]byte, 16*TileWidth)
	for i := range leaves {
		leaves[i] = leaf
	}
	if g, err = tree.Grow(ctx, leaves); err != nil {
		t.Fatal(err)
	}
	total, capacity := 0, 0
	for _, b := range g.Bundles {
		total += len(b.Data)
		capacity += cap(b.Data)
		if cap(b.Data) > TileWidth*(2+len(leaf)) {
			t.Errorf("bundle %d has room for %d bytes, more than a full bundle's %d", b.Tile.N, cap(b.Data), TileWidth*(2+len(leaf)))
		}
	}
	if capacity > 2*total {
		t.Fatalf("the bundles of a batch hold %d bytes in %d of capacity", total, capacity)
	}
}
