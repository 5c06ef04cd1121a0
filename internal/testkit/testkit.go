// Package testkit builds instances, members and signed entries for tests.
package testkit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/agreement"
	"github.com/truce-mvm/truce/internal/clock"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/sequencer"
)

// Origin is the origin of test instances.
const Origin = "test.truce.example/log"

// Signer signs entries for one member, counting seq, and seals those the
// rules would have sealed (Opening gives the opening to send).
type Signer struct {
	ID    string
	Key   *entry.PrivateKey
	mu    sync.Mutex
	seq   uint64
	clock func() time.Time
	see   func() sequencer.Seer
}

// openings are the openings of the sealed envelopes signers made.
var openings sync.Map // *dsse.Envelope → *truce.Opening

// Opening returns the opening of a sealed envelope a Signer made, or nil.
func Opening(env *dsse.Envelope) *truce.Opening {
	o, _ := openings.Load(env)
	o2, _ := o.(*truce.Opening)
	return o2
}

// Sign signs body as kind with the next seq.
func (s *Signer) Sign(t testing.TB, kind string, body any) *dsse.Envelope {
	t.Helper()
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	return s.SignSeq(t, kind, seq, body)
}

// SignSeq signs body as kind with the given seq.
func (s *Signer) SignSeq(t testing.TB, kind string, seq uint64, body any) *dsse.Envelope {
	t.Helper()
	var see sequencer.Seer
	if s.see != nil {
		see = s.see()
	}
	env, o, err := sequencer.SignSealing(kind, Origin, s.ID, seq, s.clock(), body, s.Key, see)
	if err != nil {
		t.Fatal(err)
	}
	if o != nil {
		openings.Store(env, o)
	}
	return env
}

// Members of a test instance: one per role that files or decides, and
// field monitors to submit concurrently (an author's own entries go in one
// at a time, in seq order).
var Members = func() []instance.Member {
	ms := []instance.Member{
		{ID: "pk-liaison", Name: "PK Liaison", Role: truce.RoleLiaison, Party: "PK"},
		{ID: "af-liaison", Name: "AF Liaison", Role: truce.RoleLiaison, Party: "AF"},
		{ID: "tr-mediator", Name: "TR Mediator", Role: truce.RoleMediator, Party: "TR"},
		{ID: "qa-mediator", Name: "QA Mediator", Role: truce.RoleMediator, Party: "QA"},
		{ID: "analyst", Name: "Analyst", Role: truce.RoleAnalyst, Party: truce.Mechanism},
		{ID: "admin", Name: "Administrator", Role: truce.RoleAdmin, Party: truce.Mechanism},
		{ID: "observer", Name: "Press observer", Role: truce.RolePublic, Party: truce.Mechanism},
	}
	for i := 1; i <= Monitors; i++ {
		ms = append(ms, instance.Member{ID: MonitorID(i), Name: fmt.Sprintf("Field Monitor %d", i), Role: truce.RoleMonitor, Party: truce.Mechanism})
	}
	return ms
}()

// Monitors is how many field monitors a test instance has.
const Monitors = 14

// MonitorID names field monitor i, from 1.
func MonitorID(i int) string { return fmt.Sprintf("monitor-%02d", i) }

// Env is a test instance with a signer per member.
type Env struct {
	Dir     string
	In      *instance.Instance
	Signers map[string]*Signer
	Clock   *clock.Settable
}

// Start is when test instances begin, a week after the demo agreement takes effect.
var Start = time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)

// DemoAgreement reads the demo agreement.
func DemoAgreement(t testing.TB) *truce.Agreement {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "demo", "agreement.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// New initialises and opens an instance in a temporary directory.
func New(t testing.TB, o instance.Options) *Env {
	t.Helper()
	ctx := context.Background()
	env := &Env{Dir: t.TempDir(), Signers: map[string]*Signer{}, Clock: clock.New(Start)}
	var members []instance.Member
	for _, m := range Members {
		k, err := entry.GenerateKey(m.ID)
		if err != nil {
			t.Fatal(err)
		}
		env.Signers[m.ID] = &Signer{ID: m.ID, Key: k, clock: env.Clock.Now}
		m.PublicKeys, m.Custodial = []string{k.PublicKey()}, true
		members = append(members, m)
	}
	err := instance.Init(ctx, env.Dir, instance.InitOptions{
		Origin: Origin, Name: "Test instance", Exercise: true, Agreement: DemoAgreement(t),
		Members: members, Clock: env.Clock.Now, DB: o.DB,
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.Clock == nil {
		o.Clock = env.Clock.Now
	}
	env.In, err = instance.Open(ctx, env.Dir, o)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*entry.PrivateKey{}
	for id, s := range env.Signers {
		keys[id] = s.Key
	}
	if err := env.In.ApprovePending(ctx, keys, env.Clock.Now); err != nil {
		t.Fatal(err)
	}
	for id, s := range env.Signers { // the approvals used seqs
		s.seq = env.In.Seq.Snapshot().Seq(id)
		s.see = func() sequencer.Seer { return env.In.Seq.Seer(ctx) }
	}
	t.Cleanup(func() {
		if env.In != nil {
			env.In.Close()
		}
	})
	return env
}

// Allegation returns a valid filing against the other party of filer.
func Allegation(against string, n int) truce.AllegationFiling {
	occurred := Start.Add(-time.Duration(24+n%100) * time.Hour)
	return truce.AllegationFiling{
		Category: "shelling_artillery_missile",
		Occurred: truce.Occurred{From: occurred, Precision: 1},
		Place: truce.Place{Lat: 34.05 + float64(n%50)/100, Lon: 71.1 + float64(n%30)/100, GeoPrecision: 2,
			Country: map[string]string{"AF": "PK", "PK": "AF"}[against], Admin1: "Khyber Pakhtunkhwa", Location: "Torkham"},
		Clauses:     []string{"no-cross-border-fire"},
		Perpetrator: truce.Perpetrator{Kind: truce.PerpParty, Party: against},
		Casualties:  truce.Casualties{Killed: n % 3, Injured: n % 5},
		Narrative:   fmt.Sprintf("Mortar rounds fired across the border, report %d.", n),
	}
}

// Submit submits an envelope and fails the test on error.
func (e *Env) Submit(t testing.TB, env *dsse.Envelope) *truce.Ack {
	t.Helper()
	ack, err := e.In.Seq.Submit(context.Background(), env, Opening(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	return ack
}

// Size is the number of entries applied.
func (e *Env) Size() int64 {
	return e.In.Seq.Snapshot().Size
}

// WaitCheckpoint waits until the log has signed a checkpoint covering at
// least size entries, woken by each new checkpoint rather than polling.
func (e *Env) WaitCheckpoint(t testing.TB, size int64) *sequencer.Checkpoint {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		cp := e.In.Seq.Checkpoint()
		if cp != nil && cp.Size >= size {
			return cp
		}
		if cp == nil { // none yet to wait on: the first comes within the interval
			select {
			case <-time.After(time.Millisecond):
				continue
			case <-timeout:
				t.Fatalf("no checkpoint was signed")
			}
		}
		select {
		case <-cp.Superseded():
		case <-timeout:
			t.Fatalf("no checkpoint of size %d was signed", size)
		}
	}
}
