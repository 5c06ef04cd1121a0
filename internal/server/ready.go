package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/wire"
	"github.com/truce-mvm/truce/internal/witness"
)

// Roles a node reports.
const (
	RoleLeader  = "leader"  // sequences the log, holding the lease over a shared database
	RoleStandby = "standby" // serves reads beside a leader, and takes over when it goes
	RoleSingle  = "single"  // sequences the log, alone over its database
)

// DefaultWitnessLag is how old the oldest checkpoint not yet cosigned may
// be before /readyz says the node is not ready.
const DefaultWitnessLag = time.Minute

// storeProbeTimeout bounds the store's answer to a readiness probe.
const storeProbeTimeout = 2 * time.Second

func (s *Server) role() string { return s.roleFn() }

// Ready runs the readiness checks: the log is loaded and not stopped by
// an error; the store answers and can be written; the node's role is
// known (a standby is ready: it serves reads); and, with
// witnesses, a quorum has cosigned a checkpoint and the oldest one not yet
// cosigned is younger than Options.WitnessLag.
func (s *Server) Ready(ctx context.Context) *wire.Ready {
	now := time.Now()
	rd := &wire.Ready{Role: s.role()}
	add := func(name string, err error, detail string) {
		c := wire.ReadyCheck{Name: name, OK: err == nil, Detail: detail}
		if err != nil {
			c.Detail = truce.ErrorMessage(err) // a coded error's message; an uncoded one's is not for the public
		}
		rd.Checks = append(rd.Checks, c)
	}
	seq := s.in.Seq
	logErr := seq.Err()
	if err := seq.Behind(); logErr == nil && err != nil {
		s.log.Warn("readiness: this standby cannot follow the log", "err", err)
		logErr = truce.Errorf(truce.CodeUnavailable, "this standby cannot follow the log: its state is behind the leader's")
	}
	add("log", logErr, fmt.Sprintf("%d entries", seq.Snapshot().Size))

	pctx, cancel := context.WithTimeout(ctx, storeProbeTimeout)
	err := s.in.Store.Writable(pctx)
	if err == nil {
		// A read that reaches the database: a store gone away says so here.
		_, err = s.in.Store.Meta(pctx, instance.MetaOrigin)
	}
	cancel()
	if err != nil {
		s.probeErrors.Add(1)
		s.log.Warn("readiness: the store did not answer", "err", err)
	}
	add("store", err, "answers, writable")

	switch rd.Role {
	case RoleLeader, RoleStandby, RoleSingle:
		add("role", nil, rd.Role)
	default:
		add("role", truce.Errorf(truce.CodeUnavailable, "role not known yet (%q)", rd.Role), "")
	}

	if s.witnesses != nil {
		cosigned, entries, lag := s.follow.witnessLag(now)
		var err error
		switch {
		case s.witnessLag < 0: // the operator said not to wait on them
		case s.witnesses.Published() == nil:
			err = truce.Errorf(truce.CodeUnavailable, "no checkpoint cosigned by a quorum yet")
		case lag > s.witnessLag:
			err = truce.Errorf(truce.CodeUnavailable, "the oldest checkpoint not cosigned is %s old (limit %s): %d entries wait for the witnesses", lag.Round(time.Second), s.witnessLag, entries)
		}
		add("witnesses", err, fmt.Sprintf("cosigned up to %d entries; %d waiting, for %s", cosigned, entries, lag.Round(time.Millisecond)))
	}
	rd.Ready = true
	for _, c := range rd.Checks {
		rd.Ready = rd.Ready && c.OK
	}
	return rd
}

// tracker follows the log's checkpoints and notes when each appeared,
// for the checkpoint's age and the witnesses' lag.
type tracker struct {
	seq     *sequencer.Sequencer
	pub     *witness.Publisher // nil: no witnesses
	started time.Time

	last int64 // the size of the newest checkpoint seen; run's own

	mu      sync.Mutex
	newest  time.Time // when the newest checkpoint appeared (started, for one loaded)
	pending []stamp   // checkpoints perhaps not cosigned yet, oldest first
}

type stamp struct {
	size int64
	at   time.Time
}

// maxPending bounds the checkpoints remembered while the witnesses are
// away; past it the oldest is kept (it is what the lag is measured from)
// and the next ones are dropped.
const maxPending = 4096

func newTracker(seq *sequencer.Sequencer, pub *witness.Publisher) *tracker {
	now := time.Now()
	f := &tracker{seq: seq, pub: pub, started: now, newest: now, last: -1}
	if cp := seq.Checkpoint(); cp != nil {
		f.pending = append(f.pending, stamp{cp.Size, now})
		f.last = cp.Size
	}
	return f
}

// run follows the checkpoints until ctx ends.
func (f *tracker) run(ctx context.Context) {
	for {
		cp := f.seq.Checkpoint()
		var next <-chan struct{}
		if cp != nil {
			if cp.Size != f.last {
				f.saw(cp.Size, time.Now())
				f.last = cp.Size
			}
			next = cp.Superseded()
		}
		select {
		case <-ctx.Done():
			return
		case <-next:
		case <-time.After(time.Second): // a log without a checkpoint yet
		}
	}
}

func (f *tracker) saw(size int64, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.newest = at
	f.pending = append(f.pending, stamp{size, at})
	if len(f.pending) > maxPending {
		f.pending = append(f.pending[:1], f.pending[2:]...)
	}
}

func (f *tracker) checkpointAge(now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return now.Sub(f.newest)
}

// witnessLag returns the size the witnesses cosigned, the entries signed
// beyond it, and how long the oldest checkpoint beyond it has waited.
func (f *tracker) witnessLag(now time.Time) (cosigned, entries int64, lag time.Duration) {
	if f.pub == nil {
		return 0, 0, 0
	}
	if p := f.pub.Published(); p != nil {
		cosigned = p.Size
	}
	cp := f.seq.Checkpoint()
	if cp == nil || cosigned >= cp.Size {
		return cosigned, 0, 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := 0
	for i < len(f.pending) && f.pending[i].size <= cosigned {
		i++
	}
	f.pending = f.pending[i:]
	since := f.started
	if len(f.pending) > 0 {
		since = f.pending[0].at
	}
	return cosigned, cp.Size - cosigned, now.Sub(since)
}
