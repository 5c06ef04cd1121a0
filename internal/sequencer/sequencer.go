// Package sequencer is the one writer of a Truce log. Submissions are
// checked concurrently (form, signature, stateless body rules), then one
// goroutine applies them in order to the state, appends them to the Merkle
// tree and commits each batch — entries, tiles, projections — in one store
// transaction. A submission is acknowledged only after its batch is durable.
// The next batch is committed as soon as the previous one is, so batches
// grow with load instead of waiting on a timer.
//
// Checkpoints are signed for committed trees only, at most once per
// CheckpointInterval: in the batch's own transaction when one is due,
// otherwise by a timer once the interval has passed.
package sequencer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
)

// Config configures a Sequencer.
type Config struct {
	Store  store.Store
	LogKey note.Signer       // signs checkpoints; its name is the origin
	System *entry.PrivateKey // signs system entries
	// Clock gives log time; the demo sets it back to lay down a past
	// fortnight. Default time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
	// CheckpointInterval is the least time between two checkpoints.
	// Default 100ms.
	CheckpointInterval time.Duration
	// MaxBatch bounds the entries of one batch. Default 4096.
	MaxBatch int
	// Lease, if set, shares the store with other processes: this one
	// sequences only while it holds the lease (see Lease).
	Lease *Lease
	// Check, if set, is called with the state once the log is loaded,
	// before anything is sequenced or the lease taken; an error it
	// returns fails Open (keys that are not the log's, say).
	Check func(*rules.Snapshot) error
}

type result struct {
	ack *truce.Ack
	err error
}

// request is a submission waiting for the run loop: a checked entry, or
// (sys) a system entry the loop signs itself, so that system seqs follow
// the order in which the loop applies them.
type request struct {
	cmd    *rules.Command
	sys    *systemEntry
	sealed []store.Sealed // what the entry's commitments hide, kept beside the log
	res    chan result
}

// systemEntry is an entry the run loop signs itself: with the system key,
// or (key set) with a member's custodial key, at the member's next seq.
type systemEntry struct {
	kind   string
	body   any
	author string
	key    *entry.PrivateKey
	field  *truce.Opening // opens the body's sealed field, if it has one
}

// Checkpoint is a signed checkpoint and the size it covers.
type Checkpoint struct {
	Size   int64
	Signed []byte
	next   chan struct{}
}

// Superseded is closed when a newer checkpoint is published: a way for
// any number of goroutines to wait for the log to move on.
func (c *Checkpoint) Superseded() <-chan struct{} { return c.next }

// Sequencer sequences entries into the log.
type Sequencer struct {
	cfg    Config
	origin string
	log    *slog.Logger
	tiles  *tlog.Cache

	mu    sync.RWMutex // guards the working state, which submissions read keys from; the run loop writes it
	state *rules.State
	// snap is the state as of the last committed batch: what readers see.
	snap atomic.Pointer[rules.Snapshot]

	tree       *tlog.Tree // run loop only
	lastSigned time.Time  // run loop only

	reqs       chan *request
	checkpoint atomic.Pointer[Checkpoint]
	broken     atomic.Pointer[error]
	role       atomic.Pointer[Role]
	behind     atomic.Pointer[error] // a standby's last failure to follow the log
	lost       bool                  // run loop only: a batch found the lease taken by another
	stats      stats

	stop context.CancelFunc
	done chan struct{}
}

// ErrClosed is returned for submissions to a closed sequencer.
var ErrClosed = truce.Errorf(truce.CodeUnavailable, "the log is shutting down")

// Open loads the log from cfg.Store, replays it into the state, and starts
// sequencing.
func Open(ctx context.Context, cfg Config) (*Sequencer, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = 100 * time.Millisecond
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 4096
	}
	s := &Sequencer{
		cfg:    cfg,
		origin: cfg.LogKey.Name(),
		log:    cfg.Logger,
		tiles:  tlog.NewCache(cfg.Store, 4096),
		reqs:   make(chan *request, 8192),
		done:   make(chan struct{}),
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	if cfg.Check != nil {
		if err := cfg.Check(s.Snapshot()); err != nil {
			return nil, err
		}
	}
	if l := cfg.Lease; l != nil {
		if l.TTL <= 0 {
			l.TTL = 3 * time.Second
		}
		if l.Poll <= 0 {
			l.Poll = 250 * time.Millisecond
		}
		// A standby publishes the stored checkpoint; a process that finds
		// the lease free leads before it returns, so that a command that
		// opens the log to append can.
		if err := s.catchUp(ctx); err != nil {
			return nil, err
		}
		if _, err := s.tryLead(ctx); err != nil {
			return nil, err
		}
	} else {
		if err := s.catchUpCheckpoint(ctx); err != nil {
			return nil, err
		}
		s.setRole(true, store.Lease{})
	}
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.run(runCtx)
	return s, nil
}

// load rebuilds the tree edge and the state from the store.
func (s *Sequencer) load(ctx context.Context) error {
	size, root, err := s.cfg.Store.Tree(ctx)
	if err != nil {
		return err
	}
	if size == 0 {
		root, _ = tlog.RootAt(ctx, nil, 0)
	}
	tree, err := tlog.OpenTree(ctx, s.cfg.Store, size, root)
	if err != nil {
		return err
	}
	state, err := Replay(ctx, s.cfg.Store, size)
	if err != nil {
		return err
	}
	if state.Instance != nil && state.Instance.Origin != s.origin {
		return fmt.Errorf("the log's origin is %q but the checkpoint key is named %q", state.Instance.Origin, s.origin)
	}
	s.mu.Lock()
	s.state = state
	s.mu.Unlock()
	s.tree = tree
	if old := s.snap.Load(); old == nil || old.Size != state.Size {
		s.snap.Store(state.Snapshot(nil, nil))
	}
	return nil
}

// Replay applies the first size entries in store to a new state, without
// checking signatures (the store's own log; audit checks those).
func Replay(ctx context.Context, st store.Store, size int64) (*rules.State, error) {
	state := rules.New()
	if err := applyLeaves(ctx, st, state, 0, size, nil); err != nil {
		return nil, err
	}
	return state, nil
}

// applyLeaves applies the entries [from, to) of st to state, which holds
// the first from, calling each (if not nil) with what each did.
func applyLeaves(ctx context.Context, st store.Store, state *rules.State, from, to int64, each func(*rules.Applied)) error {
	err := store.Leaves(ctx, st, from, to, func(i int64, leaf []byte) error {
		logged, cmd, err := rules.DecodeLeaf(leaf, i)
		if err == nil && cmd.Blind() {
			if err = store.Unseal(ctx, st, i, cmd.Entry); err == nil {
				cmd, err = rules.Decode(cmd.Entry)
			}
		}
		if err != nil {
			return fmt.Errorf("log entry %d: %w", i, err)
		}
		a, err := state.Apply(cmd, i, logged)
		if err != nil {
			return fmt.Errorf("log entry %d: %w", i, err)
		}
		if each != nil {
			each(a)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if state.Size != to {
		return fmt.Errorf("replayed %d entries of %d", state.Size, to)
	}
	return nil
}

// catchUpCheckpoint makes sure the newest checkpoint covers the committed
// tree (a crash can fall between a batch and its checkpoint).
func (s *Sequencer) catchUpCheckpoint(ctx context.Context) error {
	signed, size, err := s.cfg.Store.Checkpoint(ctx)
	if err != nil {
		return err
	}
	if size > 0 {
		s.publish(size, signed)
	}
	if s.tree.Size() > size {
		return s.signStandalone(ctx)
	}
	return nil
}

// signStandalone signs and stores a checkpoint for the committed tree.
func (s *Sequencer) signStandalone(ctx context.Context) error {
	signed, err := s.sign(s.tree.Size(), s.tree.Root())
	if err != nil {
		return err
	}
	if err := s.cfg.Store.AddCheckpoint(ctx, s.tree.Size(), signed); err != nil {
		return err
	}
	s.publish(s.tree.Size(), signed)
	return nil
}

func (s *Sequencer) sign(size int64, root tlog.Hash) ([]byte, error) {
	s.lastSigned = time.Now()
	return tlog.SignCheckpoint(tlog.Checkpoint{Origin: s.origin, Size: size, Root: root}, s.cfg.LogKey)
}

func (s *Sequencer) publish(size int64, signed []byte) {
	if old := s.checkpoint.Swap(&Checkpoint{Size: size, Signed: signed, next: make(chan struct{})}); old != nil {
		close(old.next)
	}
}

// Close stops sequencing; pending submissions fail.
func (s *Sequencer) Close() {
	s.stop()
	<-s.done
}

// Origin is the log's origin.
func (s *Sequencer) Origin() string { return s.origin }

// Checkpoint returns the newest published checkpoint, nil before the first.
func (s *Sequencer) Checkpoint() *Checkpoint { return s.checkpoint.Load() }

// Tiles reads the log's tiles through a cache of full tiles.
func (s *Sequencer) Tiles() tlog.TileReader { return s.tiles }

// Snapshot returns the state as of the last committed batch. It is all a
// reader may see of the state: what a batch does is in it only once the
// batch is durable.
func (s *Sequencer) Snapshot() *rules.Snapshot { return s.snap.Load() }

// Err reports why the sequencer stopped accepting entries, or nil.
func (s *Sequencer) Err() error {
	if p := s.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// Submit checks a client-signed envelope and, if the rules allow it, logs
// it. It returns once the entry is durable. An error means the entry was
// not logged — except on ctx expiry after queuing, which the error says.
// body opens a sealed entry's body; field opens the commitment in its
// body's sealed field (Decode).
func (s *Sequencer) Submit(ctx context.Context, env *dsse.Envelope, body, field *truce.Opening) (*truce.Ack, error) {
	e, err := entry.Open(env)
	if err != nil {
		return nil, err
	}
	cmd, kept, err := Decode(e, body, field)
	if err != nil {
		return nil, err
	}
	return s.SubmitCommand(ctx, cmd, kept)
}

// Decode opens a sealed entry with body, the opening of its commitment,
// decodes it, and checks that field opens the commitment of its body's
// sealed field, if it has one. It returns what is to be kept beside the
// log: the openings, each to be written with the entry.
func Decode(e *entry.Entry, body, field *truce.Opening) (*rules.Command, []store.Sealed, error) {
	var kept []store.Sealed
	switch {
	case e.Payload.Sealed != nil && body == nil:
		return nil, nil, truce.FieldErrorf(truce.CodeInvalid, "opening", "the entry is sealed: send its body's opening (content and salt) with it, so the mechanism can read it")
	case e.Payload.Sealed == nil && body != nil:
		return nil, nil, truce.FieldErrorf(truce.CodeInvalid, "opening", "the entry is in clear: it has no sealed body to open")
	case body != nil:
		if err := e.Unseal(*body); err != nil {
			return nil, nil, err
		}
		kept = append(kept, keep(e.Payload.Sealed.Commitment, body, true))
	}
	cmd, err := rules.Decode(e)
	if err != nil {
		return nil, nil, err
	}
	c := rules.SealedOf(cmd)
	switch {
	case c == nil && field != nil:
		return nil, nil, truce.FieldErrorf(truce.CodeInvalid, "sealed", "the entry has no sealed commitment to open")
	case c != nil && field == nil:
		return nil, nil, truce.FieldErrorf(truce.CodeInvalid, "sealed", "send the sealed content with the entry, so the mechanism can read it")
	case c != nil:
		if err := field.Opens(*c); err != nil {
			return nil, nil, err
		}
		if err := entry.Canonical(field.Content); err != nil {
			return nil, nil, truce.FieldErrorf(truce.CodeInvalid, "sealed.content", "%v: sealed content must mean one thing to every reader", err)
		}
		kept = append(kept, keep(c.Commitment, field, false))
	}
	return cmd, kept, nil
}

func keep(commitment string, o *truce.Opening, body bool) store.Sealed {
	salt, _ := hex.DecodeString(o.Salt)
	return store.Sealed{Commitment: commitment, Salt: salt, Content: o.Content, Body: body}
}

// SubmitCommand logs an entry opened and decoded (Decode), with the
// openings to keep beside it.
func (s *Sequencer) SubmitCommand(ctx context.Context, cmd *rules.Command, kept []store.Sealed) (*truce.Ack, error) {
	s.mu.RLock()
	pub, err := s.state.SigningKey(cmd.Entry)
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if err := cmd.Entry.Verify(pub); err != nil {
		return nil, err
	}
	// Whether the rules in force ask for a canonical payload is theirs to
	// say, on the run loop; the check is made here, beside the other
	// requests', and the loop finds its answer (Entry.CheckCanonical).
	cmd.Entry.CheckCanonical()
	return s.enqueue(ctx, &request{cmd: cmd, sealed: kept, res: make(chan result, 1)})
}

// SubmitFor signs body as kind for member with the member's custodial key
// and logs it; the seq is the member's next when the entry is applied, so
// the server's signing never races the member's own, and the body is
// sealed if the rules then say it must be. field is the opening of the
// body's sealed field, if it has one.
func (s *Sequencer) SubmitFor(ctx context.Context, member string, key *entry.PrivateKey, kind string, body any, field *truce.Opening) (*truce.Ack, error) {
	return s.enqueue(ctx, &request{sys: &systemEntry{kind: kind, body: body, author: member, key: key, field: field}, res: make(chan result, 1)})
}

// Sync returns once everything submitted before it, and any tick due by
// then, is durable.
func (s *Sequencer) Sync(ctx context.Context) error {
	_, err := s.enqueue(ctx, &request{res: make(chan result, 1)})
	return err
}

// NextDeadline returns the log time at which the next deadline falls due.
func (s *Sequencer) NextDeadline() (time.Time, bool) {
	s.mu.Lock() // NextDeadline forgets deadlines that no longer apply
	defer s.mu.Unlock()
	return s.state.NextDeadline()
}

// SubmitSystem logs body as kind, signed with the system key.
func (s *Sequencer) SubmitSystem(ctx context.Context, kind string, body any) (*truce.Ack, error) {
	return s.enqueue(ctx, &request{sys: &systemEntry{kind: kind, body: body}, res: make(chan result, 1)})
}

// Sign builds and signs an entry.
func Sign(kind, origin, author string, seq uint64, at time.Time, body any, k *entry.PrivateKey) (*dsse.Envelope, error) {
	env, _, err := SignSealing(kind, origin, author, seq, at, body, k, nil)
	return env, err
}

// Seer gives the visibility of an existing record (false if there is
// none), for a signer to decide whether an entry must be sealed; nil says
// the log keeps every entry in clear.
type Seer func(rules.Ref) (truce.Visibility, bool)

// Prepare builds the payload of an entry, its body sealed under a fresh
// salt if the rules would have it sealed (rules.Confidential) given see;
// it returns the opening to send with a sealed entry. A body the rules
// refuse on its own is left in clear, for them to refuse.
func Prepare(kind, origin, author string, seq uint64, at time.Time, body any, see Seer) (entry.Payload, *truce.Opening, error) {
	raw, err := marshalBody(body)
	if err != nil {
		return entry.Payload{}, nil, err
	}
	p := entry.Payload{V: entry.Version, Kind: kind, Origin: origin, Author: author, Seq: seq, Time: at.UTC(), Body: raw}
	probe, err := rules.Decode(&entry.Entry{Payload: p})
	if err != nil || see == nil || !rules.Confidential(probe, see) {
		return p, nil, nil
	}
	p, o := entry.Seal(p, rules.SealedRefs(probe), salt())
	return p, o, nil
}

// SignSealing is Prepare, signed with k.
func SignSealing(kind, origin, author string, seq uint64, at time.Time, body any, k *entry.PrivateKey, see Seer) (*dsse.Envelope, *truce.Opening, error) {
	p, o, err := Prepare(kind, origin, author, seq, at, body, see)
	if err != nil {
		return nil, nil, err
	}
	env, err := entry.Sign(p, k)
	return env, o, err
}

// salt is a fresh salt for a commitment.
func salt() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// Seer is how an in-process signer sees records: from the store, if the
// rules in force seal entries.
func (s *Sequencer) Seer(ctx context.Context) Seer {
	if !rules.Seals(s.Snapshot().Rules) {
		return nil
	}
	return func(r rules.Ref) (truce.Visibility, bool) {
		rec, err := s.cfg.Store.Record(ctx, r.Type, r.ID)
		if err != nil {
			return "", false
		}
		return rec.Visibility, true
	}
}

func (s *Sequencer) enqueue(ctx context.Context, req *request) (*truce.Ack, error) {
	if err := s.Err(); err != nil {
		return nil, truce.Errorf(truce.CodeUnavailable, "the log is not accepting entries: %v", err)
	}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, ErrClosed
	}
	select {
	case r := <-req.res:
		return r.ack, r.err
	case <-s.done:
		// The loop has stopped: it answered everything it took before it
		// did; a request still in the queue was never taken (the first
		// select may queue it once the loop has drained the queue).
		select {
		case r := <-req.res:
			return r.ack, r.err
		default:
			return nil, ErrClosed
		}
	case <-ctx.Done():
		return nil, truce.Errorf(truce.CodeUnavailable, "gave up waiting; the entry may still be logged (resubmitting it is safe: its seq will be refused if it was)")
	}
}

func (s *Sequencer) run(ctx context.Context) {
	defer close(s.done)
	if s.cfg.Lease == nil {
		s.lead(ctx)
		return
	}
	defer s.release()
	for {
		if !s.Role().Leading && !s.follow(ctx) {
			return
		}
		if !s.lead(ctx) {
			return
		}
		// Lost the lease: a standby again, from the state as committed,
		// naming the new leader if it can.
		l, _ := s.cfg.Lease.Leases.Lease(ctx)
		s.setRole(false, l)
	}
}

// lead sequences until ctx ends (false) or, with a lease, the lease is
// lost (true).
func (s *Sequencer) lead(ctx context.Context) bool {
	checkpoint, deadline := time.NewTimer(time.Hour), time.NewTimer(time.Hour)
	checkpoint.Stop()
	// The lease is renewed beside the loop, so that a long batch does not
	// cost it; lost is closed when it is lost.
	var lost <-chan struct{}
	if s.cfg.Lease != nil {
		rctx, stop := context.WithCancel(ctx)
		ch, done := make(chan struct{}), make(chan struct{})
		go func() { defer close(done); s.keepLease(rctx, ch) }()
		defer func() { stop(); <-done }()
		lost = ch
	}
	pendingCheckpoint := false
	s.lost = false
	// One batch at a time is committed (inflight) while the next gathers
	// what arrives meanwhile (next): the store's round trips and the
	// rules' work overlap, and a batch holds what came in a whole commit.
	var inflight, next *pending
	// settle waits for the batch being committed. If it failed, the state
	// was rebuilt from the store, and the batch gathered on top of it is
	// refused too.
	settle := func() {
		if inflight == nil {
			return
		}
		p := inflight
		inflight = nil
		<-p.done
		if p.err != nil {
			s.fail(context.WithoutCancel(ctx), p)
			if next != nil {
				next.refuse(p.refusal)
				next = nil
			}
			if pendingCheckpoint { // for the tree committed before
				checkpoint.Reset(0)
			}
			return
		}
		// The tree takes the batch only now that the store holds it: a
		// failed batch whose state cannot be rebuilt (the store is gone)
		// must not leave the tree, which checkpoints are signed for,
		// ahead of the store.
		s.tree.Commit(p.growth)
		if p.b.Checkpoint == nil {
			pendingCheckpoint = true
			checkpoint.Reset(max(0, s.cfg.CheckpointInterval-time.Since(s.lastSigned)))
		} else {
			pendingCheckpoint = false
		}
	}
	// abandon refuses what was gathered and not committed, and rebuilds
	// the state, which holds it.
	abandon := func(err error) {
		settle()
		if next == nil {
			return
		}
		next.refuse(err)
		applied := len(next.accepted) > 0
		next = nil
		if applied {
			if err := s.load(context.WithoutCancel(ctx)); err != nil {
				s.log.Error("reloading after a batch was abandoned", "err", err)
				s.broken.Store(&err)
			}
		}
	}
	defer abandon(truce.Errorf(truce.CodeUnavailable, "not logged: this server stopped leading the log; try again, here or at the new leader"))
	// commitNext starts the commit of what was gathered, when nothing else
	// is being committed.
	commitNext := func() {
		p := next
		next = nil
		s.seal(context.WithoutCancel(ctx), p)
		switch {
		case p.err != nil:
			s.fail(context.WithoutCancel(ctx), p)
		case len(p.accepted) == 0:
			p.answerBarriers()
		default:
			s.start(context.WithoutCancel(ctx), p)
			inflight = p
		}
	}
	for {
		if inflight == nil && next != nil {
			commitNext()
		}
		s.armDeadline(deadline)
		var settled <-chan struct{}
		if inflight != nil {
			settled = inflight.done
		}
		reqs := s.reqs
		if next != nil && next.size() >= s.cfg.MaxBatch {
			reqs = nil // full: the rest waits for the next batch
		}
		var batch []*request
		select {
		case r := <-reqs:
			batch = append(batch, r)
		more:
			for next.size()+len(batch) < s.cfg.MaxBatch {
				select {
				case r := <-s.reqs:
					batch = append(batch, r)
				default:
					break more
				}
			}
		case <-settled:
			settle()
			if s.lost {
				return true
			}
			continue
		case <-deadline.C:
			// Something falls due: an empty batch appends the tick.
		case <-checkpoint.C:
			if pendingCheckpoint && inflight == nil {
				if err := s.signStandalone(ctx); err != nil {
					s.log.Error("checkpoint", "err", err)
				}
				pendingCheckpoint = false
			}
			continue
		case <-lost:
			return true
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			// Closing, whichever case was chosen: the batches begun are
			// committed (the store is not interrupted mid-commit), nothing
			// more is logged, and the tree committed gets its checkpoint.
			settle()
			if next != nil && !s.lost {
				commitNext()
				settle()
			}
			abandon(ErrClosed)
			for _, r := range batch {
				r.res <- result{err: ErrClosed}
			}
			s.drain()
			if pendingCheckpoint && !s.lost {
				sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				if err := s.signStandalone(sctx); err != nil {
					s.log.Warn("checkpoint at close", "err", err)
				}
				cancel()
			}
			return false
		}
		if next == nil {
			next = &pending{done: make(chan struct{}), seen: map[rules.Ref]bool{}}
		}
		s.add(next, batch)
	}
}

// armDeadline sets t to fire when the next deadline falls due in log time,
// looking again at least every minute (the clock may be moved).
func (s *Sequencer) armDeadline(t *time.Timer) {
	s.mu.Lock()
	next, ok := s.state.NextDeadline()
	s.mu.Unlock()
	t.Stop()
	if ok {
		t.Reset(min(max(0, next.Sub(s.cfg.Clock())), time.Minute))
	}
}

func (s *Sequencer) drain() {
	for {
		select {
		case r := <-s.reqs:
			r.res <- result{err: ErrClosed}
		default:
			return
		}
	}
}

// pending is a batch: gathered on the working state (add), then
// rendered and grown into the tree (seal), then committed (start).
type pending struct {
	leaves   [][]byte
	applied  []*rules.Applied
	touched  []rules.Ref
	seen     map[rules.Ref]bool
	accepted []*request
	acks     []*truce.Ack
	barriers []*request // answered once everything before them is committed
	b        store.Batch
	growth   *tlog.Growth
	snap     *rules.Snapshot // the state as of the batch, published once it commits
	err      error           // why it was not committed
	refusal  error           // what its submitters are told then
	done     chan struct{}   // closed when the store has answered
}

// size is how many requests the batch holds (nil: none).
func (p *pending) size() int {
	if p == nil {
		return 0
	}
	return len(p.accepted) + len(p.barriers)
}

func (p *pending) refuse(err error) {
	for _, r := range p.accepted {
		if r.res != nil {
			r.res <- result{err: err}
		}
	}
	p.answerBarriers()
}

func (p *pending) answerBarriers() {
	for _, r := range p.barriers {
		r.res <- result{}
	}
	p.barriers = nil
}

// add applies requests to the working state as entries of p, logged
// now, after a tick if a deadline has passed: it is marked before anything
// else is logged at this time.
func (s *Sequencer) add(p *pending, batch []*request) {
	if err := s.Err(); err != nil {
		for _, r := range batch {
			if r.res != nil {
				r.res <- result{err: truce.Errorf(truce.CodeUnavailable, "the log is not accepting entries: %v", err)}
			}
		}
		return
	}
	logged := s.cfg.Clock().UTC().Truncate(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if logged.Before(s.state.Logged) {
		logged = s.state.Logged // log time never goes back
	}
	if next, ok := s.state.NextDeadline(); ok && !next.After(logged) {
		batch = append([]*request{{sys: &systemEntry{kind: rules.KindTick, body: rules.Tick{}}}}, batch...)
	}
	for _, r := range batch {
		reply := func(res result) {
			if r.res != nil {
				r.res <- res
			} else if res.err != nil {
				s.log.Error("system entry refused", "err", res.err)
			}
		}
		if r.cmd == nil && r.sys == nil {
			p.barriers = append(p.barriers, r)
			continue
		}
		kept := r.sealed
		if r.sys != nil {
			var err error
			if r.cmd, kept, err = s.signSystem(r.sys, logged); err != nil {
				reply(result{err: err})
				continue
			}
		}
		index := s.state.Size
		leaf, err := entry.EncodeLeaf(index, logged, r.cmd.Entry.Envelope)
		if err != nil {
			reply(result{err: err})
			continue
		}
		a, err := s.state.Apply(r.cmd, index, logged)
		if err != nil {
			reply(result{err: err})
			continue
		}
		p.leaves = append(p.leaves, leaf)
		p.accepted = append(p.accepted, r)
		p.applied = append(p.applied, a)
		ack := &truce.Ack{Index: index, Logged: logged, Kind: r.cmd.Kind()}
		if a.Ref.Type != "" {
			ack.Record = &a.Ref
		}
		p.acks = append(p.acks, ack)
		p.b.History = append(p.b.History, a.History...)
		for _, x := range kept {
			x.Index, x.Record = index, s.state.Keeper(r.cmd, a.Touched, x.Body)
			p.b.Sealed = append(p.b.Sealed, x)
		}
		for _, ref := range a.Touched {
			if !p.seen[ref] {
				p.seen[ref] = true
				p.touched = append(p.touched, ref)
			}
		}
	}
}

// seal renders what a gathered batch touched, as the batch leaves it, and
// grows the tree: everything but the commit. It runs when no other batch
// is being committed.
func (s *Sequencer) seal(ctx context.Context, p *pending) {
	if len(p.accepted) == 0 {
		return
	}
	p.snap = s.state.Snapshot(s.snap.Load(), p.applied)
	// This loop is the only writer of the state, so it reads it without
	// the lock and lets submissions look up keys meanwhile.
	for _, ref := range p.touched {
		rec, err := s.state.Record(ref)
		if err != nil {
			p.err = err
			return
		}
		p.b.Records = append(p.b.Records, rec)
	}
	g, err := s.tree.Grow(ctx, p.leaves)
	if err != nil {
		p.err = err
		return
	}
	p.growth = g
	p.b.Start, p.b.Size, p.b.Root = g.OldSize, g.Size, g.Root
	p.b.Tiles, p.b.Bundles, p.b.BundleFrom = g.Tiles, g.Bundles, g.BundleFrom
	if time.Since(s.lastSigned) >= s.cfg.CheckpointInterval {
		p.b.Checkpoint, p.err = s.sign(g.Size, g.Root)
	}
}

// start commits a sealed batch beside the loop, and acknowledges it as
// soon as it is committed; the rest (the tree, a failure) is the loop's
// to handle (settle).
func (s *Sequencer) start(ctx context.Context, p *pending) {
	go func() {
		defer close(p.done)
		if p.err = s.cfg.Store.Append(ctx, &p.b); p.err != nil {
			return
		}
		s.stats.committed(len(p.accepted))
		s.snap.Store(p.snap)
		if p.b.Checkpoint != nil {
			s.publish(p.b.Size, p.b.Checkpoint)
		}
		for i, r := range p.accepted {
			if r.res != nil {
				r.res <- result{ack: p.acks[i]}
			}
		}
		p.answerBarriers()
	}()
}

// fail refuses a batch that was not committed and rebuilds the state and
// the tree, which hold it, from the store.
func (s *Sequencer) fail(ctx context.Context, p *pending) {
	err := p.err
	s.log.Error("batch not committed", "entries", len(p.accepted), "err", err)
	if !errors.Is(err, store.ErrLeaseLost) {
		s.stats.storeErrors.Add(1)
	}
	p.refusal = truce.Errorf(truce.CodeUnavailable, "not logged: the store failed; try again")
	switch {
	case truce.ErrorCode(err) == truce.CodeNoSpace:
		p.refusal = truce.Errorf(truce.CodeNoSpace, "not logged: the server's disk is full")
	case errors.Is(err, store.ErrLeaseLost):
		p.refusal = truce.Errorf(truce.CodeUnavailable, "not logged: this server stopped leading the log as it wrote; try again, here or at the new leader")
		s.lost = true
	}
	p.refuse(p.refusal)
	if err := s.load(ctx); err != nil {
		s.log.Error("reloading after a failed batch", "err", err)
		s.broken.Store(&err)
	}
}

// signSystem signs an entry the loop makes (a system entry, or a
// member's through the custodial key) with the author's next seq, to be
// applied at once, sealed if the rules say it must be; it returns the
// openings to keep.
func (s *Sequencer) signSystem(sys *systemEntry, logged time.Time) (*rules.Command, []store.Sealed, error) {
	author, key := truce.SystemAuthor, s.cfg.System
	if sys.key != nil {
		author, key = sys.author, sys.key
	}
	var see Seer
	if rules.Seals(s.state.Rules) {
		see = s.state.Visibility
	}
	env, opening, err := SignSealing(sys.kind, s.origin, author, s.state.Seq(author)+1, logged, sys.body, key, see)
	if err != nil {
		return nil, nil, err
	}
	e, err := entry.Open(env)
	if err != nil {
		return nil, nil, err
	}
	return Decode(e, opening, sys.field)
}

func marshalBody(body any) (json.RawMessage, error) {
	if raw, ok := body.(json.RawMessage); ok {
		return raw, nil
	}
	return json.Marshal(body)
}
