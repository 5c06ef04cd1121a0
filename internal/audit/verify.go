// Package audit checks a log the way a party's auditor would, trusting
// nothing the operator computed: Verify recomputes every hash, tile and
// root from the entries, checks every checkpoint's signature and every
// envelope's signature against its author's key at that point of the log,
// and re-applies every rule; Replay rebuilds the projections from the log
// and compares them with the live ones.
package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
)

// Problem is the first thing found wrong.
type Problem struct {
	Index int64 // the first bad entry, or -1 when the problem is not one entry's
	What  string
}

func (p *Problem) Error() string {
	if p.Index >= 0 {
		return fmt.Sprintf("entry %d: %s", p.Index, p.What)
	}
	return p.What
}

// Report summarises a verified log.
type Report struct {
	Size        int64
	Root        tlog.Hash
	Checkpoints int
	Signatures  int64
}

// Progress is told how many entries of how many are done.
type Progress func(done, total int64)

// memTiles holds recomputed tiles.
type memTiles map[[2]int64][]byte

func (m memTiles) ReadTile(_ context.Context, level int, n int64) ([]byte, error) {
	if d, ok := m[[2]int64{int64(level), n}]; ok {
		return d, nil
	}
	return nil, tlog.ErrNotFound
}

// Verify checks the whole log in st: entries against tiles, tiles against
// each other, checkpoints (signed by v for origin) against the tree, and
// every entry's signature and rules in log order. It returns the first
// problem as a *Problem.
func Verify(ctx context.Context, st store.Store, origin string, v note.Verifier, progress Progress) (*Report, error) {
	size, storedRoot, err := st.Tree(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Size: size}
	empty, _ := tlog.RootAt(ctx, nil, 0)
	mine := memTiles{}
	tree, err := tlog.OpenTree(ctx, mine, 0, empty)
	if err != nil {
		return nil, err
	}
	sigs := newVerifier()
	defer sigs.stop()
	state := rules.New()
	var batch [][]byte
	var bad *Problem
	sealed := map[int64]string{} // entry index → its sealed commitment
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		g, err := tree.Grow(ctx, batch)
		if err != nil {
			return err
		}
		for _, td := range append(g.Tiles, g.Bundles...) {
			mine[[2]int64{int64(td.Tile.L), td.Tile.N}] = td.Data
		}
		tree.Commit(g)
		batch = batch[:0]
		if progress != nil {
			progress(tree.Size(), size)
		}
		return nil
	}
	err = store.Leaves(ctx, st, 0, size, func(i int64, leaf []byte) error {
		batch = append(batch, leaf)
		logged, cmd, err := rules.DecodeLeaf(leaf, i)
		if err != nil {
			bad = &Problem{i, err.Error()}
			return errStop
		}
		pub, err := state.SigningKey(cmd.Entry)
		if err != nil {
			bad = &Problem{i, err.Error()}
			return errStop
		}
		sigs.check(i, cmd.Entry, pub)
		if c := rules.SealedOf(cmd); c != nil {
			sealed[i] = c.Commitment
		}
		if _, err := state.Apply(cmd, i, logged); err != nil {
			bad = &Problem{i, err.Error()}
			return errStop
		}
		if len(batch) == tlog.TileWidth {
			return flush()
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, &Problem{-1, fmt.Sprintf("reading the entries: %v", err)}
	}
	if p := sigs.wait(); p != nil && (bad == nil || p.Index < bad.Index) {
		bad = p
	}
	rep.Signatures = sigs.n
	if bad != nil {
		return rep, bad
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if state.Size != size {
		return rep, &Problem{state.Size, fmt.Sprintf("the tree has %d entries but only %d could be read", size, state.Size)}
	}
	rep.Root = tree.Root()

	// Stored tiles must be exactly the recomputed ones. Level-0 tiles first,
	// so a changed entry is named by its index.
	if p := compareTiles(ctx, st, mine, size); p != nil {
		return rep, p
	}
	if storedRoot != rep.Root {
		return rep, &Problem{-1, fmt.Sprintf("the stored tree root %s is not the root of the entries, %s", storedRoot, rep.Root)}
	}
	var prev int64
	err = st.Checkpoints(ctx, func(cpSize int64, signed []byte) error {
		rep.Checkpoints++
		cp, err := tlog.OpenCheckpoint(signed, origin, v)
		if err != nil {
			return &Problem{-1, fmt.Sprintf("checkpoint for size %d: %v", cpSize, err)}
		}
		if cp.Size != cpSize || cp.Size <= prev || cp.Size > size {
			return &Problem{-1, fmt.Sprintf("checkpoint for size %d says %d, after %d, of a tree of %d", cpSize, cp.Size, prev, size)}
		}
		root, err := tlog.RootAt(ctx, mine, cp.Size)
		if err != nil {
			return err
		}
		if root != cp.Root {
			return &Problem{cp.Size - 1, fmt.Sprintf("checkpoint for size %d has root %s; the entries give %s", cp.Size, cp.Root, root)}
		}
		prev = cp.Size
		return nil
	})
	var p *Problem
	if errors.As(err, &p) {
		return rep, p
	}
	if err != nil {
		return rep, err
	}
	if size > 0 && rep.Checkpoints == 0 {
		return rep, &Problem{-1, "no checkpoint was ever signed"}
	}
	if p := checkSealed(ctx, st, sealed); p != nil {
		return rep, p
	}
	return rep, nil
}

// checkSealed checks that what the store keeps behind each sealed
// commitment opens it, and that every commitment's content is kept.
func checkSealed(ctx context.Context, st store.Store, commitments map[int64]string) *Problem {
	var bad *Problem
	opened := map[int64]bool{}
	err := st.EachSealed(ctx, func(x store.Sealed) error {
		switch {
		case commitments[x.Index] != x.Commitment:
			bad = &Problem{x.Index, "the store keeps sealed content for a commitment this entry does not carry"}
		case truce.Commit(x.Salt, x.Content) != x.Commitment:
			bad = &Problem{x.Index, "the sealed content kept for this entry does not open its commitment"}
		default:
			opened[x.Index] = true
			return nil
		}
		return errStop
	})
	if bad != nil {
		return bad
	}
	if err != nil {
		return &Problem{-1, fmt.Sprintf("reading sealed content: %v", err)}
	}
	var first int64 = -1
	for i := range commitments {
		if !opened[i] && (first < 0 || i < first) {
			first = i
		}
	}
	if first >= 0 {
		return &Problem{first, "the content behind this entry's sealed commitment is not kept"}
	}
	return nil
}

var errStop = errors.New("stop")

func compareTiles(ctx context.Context, st store.Store, mine memTiles, size int64) *Problem {
	for level := 0; level < 64 && size>>(tlog.TileHeight*level) > 0; level++ {
		count := size >> (tlog.TileHeight * level)
		for n := int64(0); n*tlog.TileWidth < count; n++ {
			want := mine[[2]int64{int64(level), n}]
			got, err := st.ReadTile(ctx, level, n)
			if err != nil {
				return &Problem{n * tlog.TileWidth << (tlog.TileHeight * level), fmt.Sprintf("tile %d/%d: %v", level, n, err)}
			}
			if bytes.Equal(got, want) {
				continue
			}
			for i := 0; i < len(want)/tlog.HashSize; i++ {
				if i >= len(got)/tlog.HashSize || !bytes.Equal(got[i*32:i*32+32], want[i*32:i*32+32]) {
					first := (n*tlog.TileWidth + int64(i)) << (tlog.TileHeight * level)
					if level == 0 {
						return &Problem{first, "the entry does not hash to the stored leaf hash"}
					}
					return &Problem{first, fmt.Sprintf("stored hash %d of tile %d/%d differs from the entries'", i, level, n)}
				}
			}
			return &Problem{-1, fmt.Sprintf("tile %d/%d is wider than the tree", level, n)}
		}
	}
	return nil
}

// verifier checks envelope signatures on all cores, remembering the first
// failure.
type verifier struct {
	jobs chan sigJob
	wg   sync.WaitGroup
	mu   sync.Mutex
	bad  *Problem
	n    int64
}

type sigJob struct {
	index int64
	e     *entry.Entry
	pub   *entry.PublicKey
}

func newVerifier() *verifier {
	v := &verifier{jobs: make(chan sigJob, 1024)}
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for j := range v.jobs {
				if err := j.e.Verify(j.pub); err != nil {
					v.mu.Lock()
					if v.bad == nil || j.index < v.bad.Index {
						v.bad = &Problem{j.index, err.Error()}
					}
					v.mu.Unlock()
				}
			}
		}()
	}
	return v
}

func (v *verifier) check(i int64, e *entry.Entry, pub *entry.PublicKey) {
	v.n++
	v.jobs <- sigJob{i, e, pub}
}

func (v *verifier) wait() *Problem {
	close(v.jobs)
	v.wg.Wait()
	v.jobs = nil
	return v.bad
}

func (v *verifier) stop() {
	if v.jobs != nil {
		close(v.jobs)
		v.wg.Wait()
	}
}
