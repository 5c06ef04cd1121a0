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
	"slices"
	"strings"
	"sync"
	"time"

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
	Sealed      int64 // sealed entries opened and checked in full
	// Unconsented are keys in use that someone other than their member
	// added, under rules that did not ask the member's party or state.
	Unconsented []rules.UnconsentedKey
}

// Unchecked is an entry whose body's rules a reader could not check: a
// sealed entry it holds no opening for, or one built on such an entry.
type Unchecked struct {
	Index int64
	Kind  string
	Why   string
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

// checker takes a log's entries in order and checks each as Verify does:
// its form and index, its author's key at that point of the log, its
// signature (on all cores, off the caller's goroutine), and its rules;
// and recomputes the tree. Verify feeds it from a store, the auditor from
// a server.
type checker struct {
	// tiles are the recomputed hash tiles, and the entry bundles only if
	// bundles is set (an auditor compares what it is served with them):
	// the bundles are the whole log, which a verifier must not hold.
	tiles   memTiles
	bundles bool
	tree    *tlog.Tree
	state   *rules.State
	sigs    *verifier
	batch   [][]byte
	sealed  map[sealedAt]bool // each commitment in the log, with its entry's index
	// open gives the opening of a sealed body, if the reader holds it.
	open      func(index int64, commitment string) *truce.Opening
	opened    int64       // sealed entries opened and checked
	unchecked []Unchecked // entries whose rules could not be checked
}

func newChecker(ctx context.Context, open func(int64, string) *truce.Opening) (*checker, error) {
	empty, _ := tlog.RootAt(ctx, nil, 0)
	c := &checker{tiles: memTiles{}, state: rules.New(), sigs: newVerifier(), sealed: map[sealedAt]bool{}, open: open}
	var err error
	c.tree, err = tlog.OpenTree(ctx, c.tiles, 0, empty)
	return c, err
}

// size is how many entries the checker took.
func (c *checker) size() int64 { return c.state.Size }

// addAll checks leaves as the entries from index start on, which must be
// the next. Decoding is independent of the state, so it runs on all cores
// first; keys and rules are then applied in log order.
func (c *checker) addAll(ctx context.Context, start int64, leaves [][]byte) error {
	type decoded struct {
		logged time.Time
		cmd    *rules.Command
		err    error
	}
	dec := make([]decoded, len(leaves))
	workers := min(runtime.GOMAXPROCS(0), len(leaves))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(leaves); i += workers {
				d := &dec[i]
				d.logged, d.cmd, d.err = rules.DecodeLeaf(leaves[i], start+int64(i))
				if d.err == nil && d.cmd.Blind() {
					d.cmd, d.err = c.unseal(start+int64(i), d.cmd)
				}
			}
		}()
	}
	wg.Wait()
	for k, d := range dec {
		i := start + int64(k)
		if i != c.state.Size {
			return &Problem{i, fmt.Sprintf("entry %d given after %d entries", i, c.state.Size)}
		}
		if d.err != nil {
			return &Problem{i, d.err.Error()}
		}
		pub, err := c.state.SigningKey(d.cmd.Entry)
		if err != nil {
			return &Problem{i, err.Error()}
		}
		c.sigs.check(i, d.cmd.Entry, pub)
		if err := c.apply(i, d.logged, d.cmd); err != nil {
			return &Problem{i, err.Error()}
		}
		c.batch = append(c.batch, leaves[k])
		if len(c.batch) == tlog.TileWidth {
			if err := c.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// sealedAt is a commitment in the log: the same content and salt may be
// committed to by more than one entry.
type sealedAt struct {
	index      int64
	commitment string
}

// unseal opens a sealed entry with the opening the reader holds; without
// one, the entry stays blind.
func (c *checker) unseal(i int64, cmd *rules.Command) (*rules.Command, error) {
	o := c.open(i, cmd.Entry.Payload.Sealed.Commitment)
	if o == nil {
		return cmd, nil
	}
	if err := cmd.Entry.Unseal(*o); err != nil {
		return nil, fmt.Errorf("the opening given for the sealed entry: %w", err)
	}
	return rules.Decode(cmd.Entry)
}

// apply applies an entry to the state. A sealed entry without its opening
// is checked as far as it can be without its body and skipped; so is an
// entry about a record known only by such an entry, and an entry the
// rules refuse once the state misses skipped entries if the refusal may
// come from what it misses: it names a record they touched, or one that
// does not exist, or it is a tick (what falls due depends on every
// entry). All are listed as unchecked. Whether an entry is sealed when it
// must be is always checked: that needs no body.
func (c *checker) apply(i int64, logged time.Time, cmd *rules.Command) error {
	if sealed := cmd.Entry.Payload.Sealed; sealed != nil {
		c.sealed[sealedAt{i, sealed.Commitment}] = true
	}
	if sc := rules.SealedOf(cmd); sc != nil && !cmd.Blind() {
		c.sealed[sealedAt{i, sc.Commitment}] = true
	}
	if cmd.Blind() {
		c.unchecked = append(c.unchecked, Unchecked{i, cmd.Kind(), "sealed, and no opening is held"})
		return c.state.Skip(cmd, i, logged)
	}
	named := func(is func(rules.Ref) bool) bool {
		return slices.ContainsFunc(rules.Refs(cmd), func(n rules.Named) bool { return is(n.Ref) })
	}
	if named(c.state.Placeholder) {
		if err := c.state.CheckSealing(cmd); err != nil {
			return err
		}
		c.unchecked = append(c.unchecked, Unchecked{i, cmd.Kind(), "about a record known only by a sealed entry not opened"})
		return c.state.Skip(cmd, i, logged)
	}
	_, err := c.state.Apply(cmd, i, logged)
	if err == nil || c.state.Skipped() == 0 || strings.HasPrefix(truce.ErrorField(err), "payload") {
		if err == nil && cmd.Entry.Payload.Sealed != nil {
			c.opened++
		}
		return err
	}
	if !named(c.state.Tainted) && truce.ErrorCode(err) != truce.CodeNotFound && cmd.Kind() != rules.KindTick {
		return err
	}
	c.unchecked = append(c.unchecked, Unchecked{i, cmd.Kind(), fmt.Sprintf("built on entries not checked: %v", err)})
	return c.state.Skip(cmd, i, logged)
}

// flush grows the tree by the entries taken since the last flush.
func (c *checker) flush(ctx context.Context) error {
	if len(c.batch) == 0 {
		return nil
	}
	g, err := c.tree.Grow(ctx, c.batch)
	if err != nil {
		return err
	}
	keep := g.Tiles
	if c.bundles {
		keep = append(keep, g.Bundles...)
	}
	for _, td := range keep {
		c.tiles[[2]int64{int64(td.Tile.L), td.Tile.N}] = td.Data
	}
	c.tree.Commit(g)
	c.batch = c.batch[:0]
	return nil
}

// settle grows the tree by every entry taken and waits for their
// signatures to be checked, returning the first that failed.
func (c *checker) settle(ctx context.Context) error {
	if p := c.sigs.wait(); p != nil {
		return p
	}
	return c.flush(ctx)
}

func (c *checker) close() { c.sigs.stop() }

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
	c, err := newChecker(ctx, func(i int64, commitment string) *truce.Opening {
		x, err := st.Opening(ctx, i, commitment)
		if err != nil {
			return nil
		}
		o := x.Opening()
		return &o
	})
	if err != nil {
		return nil, err
	}
	defer c.close()
	var bad error
	var pending [][]byte
	err = store.Leaves(ctx, st, 0, size, func(i int64, leaf []byte) error {
		if pending = append(pending, leaf); len(pending) < tlog.TileWidth && i+1 < size {
			return nil
		}
		if bad = c.addAll(ctx, i+1-int64(len(pending)), pending); bad != nil {
			return errStop
		}
		pending = pending[:0]
		if progress != nil {
			progress(i+1, size)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, &Problem{-1, fmt.Sprintf("reading the entries: %v", err)}
	}
	if bad == nil && len(pending) > 0 { // fewer entries than the tree says
		bad = c.addAll(ctx, c.size(), pending)
	}
	// A bad signature earlier than the entry that stopped the reading is
	// the first problem.
	var stopped *Problem
	if p := c.sigs.wait(); p != nil && (bad == nil || errors.As(bad, &stopped) && p.Index < stopped.Index) {
		bad = p
	}
	rep.Signatures, rep.Sealed, rep.Unconsented = c.sigs.n, c.opened, c.state.Unconsented()
	if bad == nil && len(c.unchecked) > 0 {
		u := c.unchecked[0]
		bad = &Problem{u.Index, "the content behind this sealed entry is not kept, or does not open it"}
	}
	if bad != nil {
		return rep, bad
	}
	if err := c.settle(ctx); err != nil {
		return nil, err
	}
	if progress != nil {
		progress(size, size)
	}
	if c.size() != size {
		return rep, &Problem{c.size(), fmt.Sprintf("the tree has %d entries but only %d could be read", size, c.size())}
	}
	rep.Root = c.tree.Root()
	mine, sealed := c.tiles, c.sealed

	// Stored tiles must be exactly the recomputed ones. Level-0 tiles first,
	// so a changed entry is named by its index.
	stored := func(t tlog.Tile) ([]byte, error) {
		data, err := st.ReadTile(ctx, t.L, t.N)
		if err != nil {
			return nil, &Problem{t.N * tlog.TileWidth << (tlog.TileHeight * t.L), fmt.Sprintf("tile %d/%d: %v", t.L, t.N, err)}
		}
		return data, nil
	}
	if err := compareTiles(mine, 0, size, "the stored", stored); err != nil {
		return rep, err
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
func checkSealed(ctx context.Context, st store.Store, commitments map[sealedAt]bool) *Problem {
	var bad *Problem
	opened := map[sealedAt]bool{}
	err := st.EachSealed(ctx, 0, func(x store.Sealed) error {
		at := sealedAt{x.Index, x.Commitment}
		switch {
		case !commitments[at]:
			bad = &Problem{x.Index, "the store keeps sealed content for a commitment this entry does not carry"}
		case truce.Commit(x.Salt, x.Content) != x.Commitment:
			bad = &Problem{x.Index, "the sealed content kept for this entry does not open its commitment"}
		default:
			opened[at] = true
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
	for at := range commitments {
		if !opened[at] && (first < 0 || at.index < first) {
			first = at.index
		}
	}
	if first >= 0 {
		return &Problem{first, "the content behind this entry's sealed commitment is not kept"}
	}
	return nil
}

var errStop = errors.New("stop")

// compareTiles checks hash tiles that someone holds — the store, or a
// server — against those recomputed from the entries (mine), for the tree
// of size entries from the tiles over entry old on. Level 0 comes first,
// so a changed entry is named by its index. read gives a tile at the
// width t asks for (or wider, which is itself a problem); whose names the
// holder in the problem.
func compareTiles(mine memTiles, old, size int64, whose string, read func(t tlog.Tile) ([]byte, error)) error {
	for level := 0; level < 64 && size>>(tlog.TileHeight*level) > 0; level++ {
		count := size >> (tlog.TileHeight * level)
		for n := (old >> (tlog.TileHeight * level)) / tlog.TileWidth; n*tlog.TileWidth < count; n++ {
			t := tlog.Tile{H: tlog.TileHeight, L: level, N: n, W: int(min(tlog.TileWidth, count-n*tlog.TileWidth))}
			want, err := tlog.TrimTile(t, mine[[2]int64{int64(level), n}])
			if err != nil {
				return err
			}
			got, err := read(t)
			if err != nil {
				return err
			}
			if bytes.Equal(got, want) {
				continue
			}
			for i := 0; i < t.W; i++ {
				h := want[i*tlog.HashSize : (i+1)*tlog.HashSize]
				if len(got) < (i+1)*tlog.HashSize || !bytes.Equal(got[i*tlog.HashSize:(i+1)*tlog.HashSize], h) {
					first := (n*tlog.TileWidth + int64(i)) << (tlog.TileHeight * level)
					return &Problem{first, fmt.Sprintf("%s hash tile %s does not hold the hash of the entries from here", whose, tlog.TilePath(t))}
				}
			}
			return &Problem{-1, fmt.Sprintf("%s hash tile %s is wider than the tree", whose, tlog.TilePath(t))}
		}
	}
	return nil
}

// verifier checks envelope signatures on all cores, remembering the first
// failure.
type verifier struct {
	jobs    chan sigJob
	workers sync.WaitGroup
	pending sync.WaitGroup
	mu      sync.Mutex
	bad     *Problem
	n       int64
}

type sigJob struct {
	index int64
	e     *entry.Entry
	pub   *entry.PublicKey
}

func newVerifier() *verifier {
	v := &verifier{jobs: make(chan sigJob, 1024)}
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		v.workers.Add(1)
		go func() {
			defer v.workers.Done()
			for j := range v.jobs {
				if err := j.e.Verify(j.pub); err != nil {
					v.mu.Lock()
					if v.bad == nil || j.index < v.bad.Index {
						v.bad = &Problem{j.index, err.Error()}
					}
					v.mu.Unlock()
				}
				v.pending.Done()
			}
		}()
	}
	return v
}

func (v *verifier) check(i int64, e *entry.Entry, pub *entry.PublicKey) {
	v.n++
	v.pending.Add(1)
	v.jobs <- sigJob{i, e, pub}
}

// wait waits for every signature given so far and returns the first bad.
func (v *verifier) wait() *Problem {
	v.pending.Wait()
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.bad
}

func (v *verifier) stop() {
	close(v.jobs)
	v.workers.Wait()
}
