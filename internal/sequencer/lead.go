package sequencer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
)

// Lease configures leadership over a store that other processes serve
// too (store.Leases). The sequencer sequences only while it holds the
// lease; otherwise it is a standby that follows the log the leader
// appends, keeps its state and checkpoint current for readers, refuses
// submissions as unavailable (naming the leader) and takes the lease when
// it lapses.
type Lease struct {
	Leases store.Leases
	// Holder names this process in the lease (host and pid, say); Addr is
	// where it serves, which standbys name to clients.
	Holder, Addr string
	// TTL is how long a lease lasts unrenewed: how long a standby waits
	// after a leader dies. The leader renews it every TTL/3. Default 3s.
	TTL time.Duration
	// Poll is how often a standby reads the log and the lease. Default
	// 250ms.
	Poll time.Duration
}

// Role is what a sequencer is doing now.
type Role struct {
	// Leading says it sequences: always, without a lease.
	Leading bool
	// Lease is the lease as this sequencer last read it (zero without).
	Lease   store.Lease
	changed chan struct{}
}

// Name is "leader", "standby", or "single" for a sequencer without a
// lease.
func (r *Role) Name() string {
	switch {
	case r.Lease.Term == 0 && r.Leading:
		return "single"
	case r.Leading:
		return "leader"
	}
	return "standby"
}

// Changed is closed when the role changes.
func (r *Role) Changed() <-chan struct{} { return r.changed }

// Behind reports why a standby could not follow the log at its last look
// (an entry this build cannot apply, a store that does not answer), or
// nil: its state is then as of what it last could read.
func (s *Sequencer) Behind() error {
	if p := s.behind.Load(); p != nil {
		return *p
	}
	return nil
}

// Role returns what the sequencer is doing now.
func (s *Sequencer) Role() *Role { return s.role.Load() }

func (s *Sequencer) setRole(leading bool, l store.Lease) {
	if old := s.role.Load(); old != nil && old.Leading == leading && old.Lease.Term == l.Term && old.Lease.Holder == l.Holder {
		return
	}
	if old := s.role.Swap(&Role{Leading: leading, Lease: l, changed: make(chan struct{})}); old != nil {
		close(old.changed)
		if old.Leading != leading {
			s.log.Info("role changed", "leading", leading, "term", l.Term, "holder", l.Holder)
		}
	}
}

// standby is the refusal a standby gives submissions.
func (s *Sequencer) standby() error {
	l := s.Role().Lease
	if l.Held && l.Addr != "" {
		return truce.Errorf(truce.CodeUnavailable, "this server is a standby: the log is led by the server at %s; try there, or here again shortly", l.Addr)
	}
	return truce.Errorf(truce.CodeUnavailable, "this server is a standby and no server leads the log yet; try again shortly")
}

// tryLead takes the lease if it is free and, holding it, makes the
// sequencer the leader: its state caught up with everything the old
// leader committed (the lease's transaction ordered it after the last
// batch), its tree opened at that size, and a checkpoint signed if the
// old leader died before signing one for its last batch. It reports
// whether the sequencer now leads.
func (s *Sequencer) tryLead(ctx context.Context) (bool, error) {
	lc := s.cfg.Lease
	l, err := lc.Leases.Lease(ctx)
	if err != nil {
		return false, err
	}
	if l.Held {
		s.setRole(false, l)
		return false, nil
	}
	l, ok, err := lc.Leases.Acquire(ctx, lc.Holder, lc.Addr, lc.TTL)
	if err != nil || !ok {
		s.setRole(false, l)
		return false, err
	}
	err = s.catchUp(ctx)
	if err == nil {
		err = s.openTree(ctx)
	}
	if err == nil {
		err = s.catchUpCheckpoint(ctx)
	}
	if err != nil {
		s.release()
		return false, fmt.Errorf("taking over the log: %w", err)
	}
	s.setRole(true, l)
	return true, nil
}

// openTree opens the tree at the stored size.
func (s *Sequencer) openTree(ctx context.Context) error {
	size, root, err := s.cfg.Store.Tree(ctx)
	if err != nil {
		return err
	}
	if size == 0 {
		root, _ = tlog.RootAt(ctx, nil, 0)
	}
	if size != s.state.Size {
		return fmt.Errorf("the log has %d entries, the state %d", size, s.state.Size)
	}
	s.tree, err = tlog.OpenTree(ctx, s.cfg.Store, size, root)
	return err
}

// release gives the lease up, so that a standby takes over at once.
func (s *Sequencer) release() {
	if s.cfg.Lease == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Lease.Leases.Release(ctx); err != nil {
		s.log.Warn("releasing the lease", "err", err)
	}
}

// catchUp applies the entries other processes appended since the state's
// size, and publishes the newest stored checkpoint. Only the run loop
// calls it.
func (s *Sequencer) catchUp(ctx context.Context) error {
	size, _, err := s.cfg.Store.Tree(ctx)
	if err != nil {
		return err
	}
	if size > s.state.Size {
		var applied []*rules.Applied
		s.mu.Lock()
		err = applyLeaves(ctx, s.cfg.Store, s.state, s.state.Size, size, func(a *rules.Applied) { applied = append(applied, a) })
		s.mu.Unlock()
		if err != nil {
			// The state may hold part of the range: rebuild it.
			if lerr := s.load(ctx); lerr != nil {
				return errors.Join(err, lerr)
			}
			return err
		}
		s.snap.Store(s.state.Snapshot(s.snap.Load(), applied))
	}
	signed, cp, err := s.cfg.Store.Checkpoint(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if old := s.checkpoint.Load(); signed != nil && (old == nil || cp > old.Size) {
		s.publish(cp, signed)
	}
	return nil
}

// follow is the standby's loop: it keeps the state current and refuses
// submissions until it takes the lease (true) or ctx ends (false).
func (s *Sequencer) follow(ctx context.Context) bool {
	t := time.NewTicker(s.cfg.Lease.Poll)
	defer t.Stop()
	for {
		select {
		case r := <-s.reqs:
			if r.res != nil {
				r.res <- result{err: s.standby()}
			}
			continue
		case <-t.C:
		case <-ctx.Done():
			s.drain()
			return false
		}
		if err := s.catchUp(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("following the log", "err", err)
			s.behind.Store(&err)
		} else if err == nil {
			s.behind.Store(nil)
		}
		if ok, err := s.tryLead(ctx); ok {
			return true
		} else if err != nil && ctx.Err() == nil {
			s.log.Warn("taking the lease", "err", err)
		}
	}
}

// keepLease renews the lease every third of its term until ctx ends, and
// closes lost once it is lost, or could not be renewed for a whole term
// (another may hold it by now).
func (s *Sequencer) keepLease(ctx context.Context, lost chan<- struct{}) {
	lc := s.cfg.Lease
	t := time.NewTicker(lc.TTL / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := lc.Leases.Renew(ctx, lc.TTL)
		switch {
		case err == nil:
			renewed = time.Now()
			continue
		case ctx.Err() != nil:
			return
		case errors.Is(err, store.ErrLeaseLost):
			s.log.Warn("lost the lease: another server leads the log now")
		case time.Since(renewed) > lc.TTL:
			s.log.Error("could not renew the lease for its whole term: standing down", "err", err)
		default:
			s.log.Warn("renewing the lease", "err", err)
			continue
		}
		close(lost)
		return
	}
}

// WhileLeading runs lead whenever the sequencer leads and standby (if not
// nil) whenever it does not, each until the role changes, and returns
// when ctx ends. What acts on the log rather than only reading it — the
// notifier's deliveries, the witnesses' rounds, scheduled ingestion —
// runs as lead, so that of the processes serving one database only the
// leader does it.
func (s *Sequencer) WhileLeading(ctx context.Context, lead, standby func(context.Context)) {
	for ctx.Err() == nil {
		r := s.Role()
		fn := lead
		if !r.Leading {
			fn = standby
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if fn != nil {
				fn(rctx)
			}
		}()
		select {
		case <-r.Changed():
		case <-ctx.Done():
		}
		cancel()
		<-done
	}
}
