package sequencer_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/testkit/pgtest"
)

// TestStandby runs two sequencers over one PostgreSQL database: the
// second stands by, refuses submissions naming the leader, and follows
// the log; when the leader's lease is taken from it (as if it had been
// paused past it), the standby leads, the old leader's next batch is
// refused, and it follows the new one. The log never forks.
func TestStandby(t *testing.T) {
	ctx := context.Background()
	db := pgtest.URL(t)
	var paused pausable
	o := instance.Options{DB: db, LeaseTTL: 600 * time.Millisecond, Advertise: "http://a.example",
		WrapLeases: func(l store.Leases) store.Leases { paused.Leases = l; return &paused }}
	env := testkit.New(t, o)
	o.WrapLeases = nil
	a := env.In
	if r := a.Seq.Role(); r.Name() != "leader" || r.Lease.Term == 0 {
		t.Fatalf("the first process's role = %s %+v", r.Name(), r.Lease)
	}
	o.Advertise = "http://b.example"
	o.Clock = env.Clock.Now
	b, err := instance.Open(ctx, env.Dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if r := b.Seq.Role(); r.Name() != "standby" {
		t.Fatalf("the second process's role = %s", r.Name())
	}
	pk := env.Signers["pk-liaison"]
	// file signs allegation n with the next seq as in knows it.
	file := func(in *instance.Instance, n int) (*truce.Ack, error) {
		e := pk.SignSeq(t, rules.KindAllegationFiled, in.Seq.Snapshot().Seq(pk.ID)+1, testkit.Allegation("AF", n))
		return in.Seq.Submit(ctx, e, testkit.Opening(e), nil)
	}
	if _, err := file(a, 1); err != nil {
		t.Fatal(err)
	}
	_, err = file(b, 2)
	if truce.ErrorCode(err) != truce.CodeUnavailable || !strings.Contains(err.Error(), "http://a.example") {
		t.Fatalf("a submission to the standby = %v, want unavailable naming the leader", err)
	}
	waitSize(t, b, a.Seq.Snapshot().Size)
	if b.Seq.Checkpoint() == nil {
		t.Fatal("the standby publishes no checkpoint")
	}

	// The leader's renewals stop, as if it were paused: its lease lapses,
	// the standby takes over, and the old leader, which still believes it
	// leads, has its next batch refused.
	paused.stopped.Store(true)
	waitRole(t, b, "leader")
	if a.Seq.Role().Name() != "leader" {
		t.Fatal("the paused leader noticed it was deposed before it tried to append")
	}
	before := b.Seq.Snapshot().Size
	_, err = file(a, 3)
	if truce.ErrorCode(err) != truce.CodeUnavailable {
		t.Fatalf("a submission to the deposed leader = %v, want unavailable", err)
	}
	ack, err := file(b, 4)
	if err != nil || ack.Index != before {
		t.Fatalf("the new leader's first entry = %+v %v, want index %d", ack, err, before)
	}
	paused.stopped.Store(false)
	waitRole(t, a, "standby")
	waitSize(t, a, before+1)
	if ra, rb := a.Seq.Role().Lease, b.Seq.Role().Lease; ra.Term != rb.Term || rb.Holder == "" {
		t.Fatalf("the two processes disagree on the lease: %+v, %+v", ra, rb)
	}
	if err := a.Seq.Behind(); err != nil {
		t.Fatalf("a standby that follows says it is behind: %v", err)
	}
	// A standby that cannot read the log says so (readiness reports it).
	a.Store.Close()
	for deadline := time.Now().Add(10 * time.Second); a.Seq.Behind() == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a standby whose database is gone does not say it is behind")
		}
	}
}

func waitSize(t *testing.T, in *instance.Instance, size int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); in.Seq.Snapshot().Size < size; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the standby's state has %d entries, the log %d", in.Seq.Snapshot().Size, size)
		}
	}
}

func waitRole(t *testing.T, in *instance.Instance, role string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); in.Seq.Role().Name() != role; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the role stayed %s, want %s", in.Seq.Role().Name(), role)
		}
	}
}

// pausable is a process's leases whose renewals can be stopped: Renew
// then does nothing and says it did, as a paused process that has not
// yet noticed.
type pausable struct {
	store.Leases
	stopped atomic.Bool
}

func (p *pausable) Renew(ctx context.Context, ttl time.Duration) error {
	if p.stopped.Load() {
		return nil
	}
	return p.Leases.Renew(ctx, ttl)
}
