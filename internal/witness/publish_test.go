package witness

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce/internal/tlog"
)

// memCheckpoints is a CheckpointStore in memory.
type memCheckpoints struct {
	mu   sync.Mutex
	size int64
	note []byte
}

func (m *memCheckpoints) Cosign(_ context.Context, size int64, cosigned []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.size, m.note = size, cosigned
	return nil
}

func (m *memCheckpoints) Cosigned(context.Context) ([]byte, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.note, m.size, nil
}

// flaky serves a witness, or 503 while down.
type flaky struct {
	h    http.Handler
	down atomic.Bool
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	f.h.ServeHTTP(w, r)
}

// publishing is a fake log with a publisher and witnesses.
type publishing struct {
	log       *fakeLog
	mu        sync.Mutex
	size      int64
	signed    []byte
	next      chan struct{}
	witnesses []*Witness
	fronts    []*flaky
	policy    Policy
	pub       *Publisher
}

func (p *publishing) latest() (int64, []byte, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size, p.signed, p.next
}

// grow appends n leaves and signs a checkpoint, like the sequencer.
func (p *publishing) grow(n int) int64 {
	cp := p.log.grow(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.size, p.signed = p.log.tree.Size(), cp
	close(p.next)
	p.next = make(chan struct{})
	return p.size
}

func newPublishing(t *testing.T, witnesses, quorum int) *publishing {
	p := &publishing{log: newFakeLog(t), next: make(chan struct{})}
	for i := range witnesses {
		dir := t.TempDir()
		name := fmt.Sprintf("witness.test/w%d", i)
		vkey, err := Init(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := AddLog(context.Background(), dir, p.log.vkey); err != nil {
			t.Fatal(err)
		}
		w, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		f := &flaky{h: w}
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		p.witnesses = append(p.witnesses, w)
		p.fronts = append(p.fronts, f)
		p.policy.Peers = append(p.policy.Peers, Peer{Name: name, VKey: vkey, URL: srv.URL})
	}
	p.policy.Quorum = quorum
	return p
}

func (p *publishing) start(t *testing.T) {
	pub, err := NewPublisher(context.Background(), PublisherConfig{
		Policy: p.policy, Latest: p.latest, Tiles: p.log.tiles, Store: &memCheckpoints{}, Retry: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Start(context.Background()))
	p.pub = pub
}

// waitPublished waits until a checkpoint of at least size is published.
func (p *publishing) waitPublished(t *testing.T, size int64) *Published {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := p.pub.Wait(ctx, size)
	if err != nil {
		t.Fatalf("no checkpoint of size %d published; alarms %v", size, p.pub.Alarms())
	}
	return pub
}

// cosigners returns the names of the witnesses whose cosignatures on the
// published note verify, after checking the log's signature.
func (p *publishing) cosigners(t *testing.T, pub *Published) []string {
	t.Helper()
	vs, err := p.policy.Verifiers()
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(pub.Note, note.VerifierList(append(vs, mustVerifier(p.log.vkey))...))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range n.Sigs {
		if s.Name != origin {
			names = append(names, s.Name)
		}
	}
	if len(n.Sigs)-len(names) != 1 {
		t.Fatal("the published note lost the log's signature")
	}
	return names
}

func TestPublishWithQuorum(t *testing.T) {
	p := newPublishing(t, 2, 2)
	p.grow(5)
	p.start(t)
	pub := p.waitPublished(t, 5)
	if got := p.cosigners(t, pub); len(got) != 2 {
		t.Fatalf("cosigned by %v", got)
	}
	// Growth is followed, with consistency proofs from the witnesses' sizes.
	p.grow(300)
	if got := p.cosigners(t, p.waitPublished(t, 305)); len(got) != 2 {
		t.Fatalf("cosigned by %v", got)
	}

	// A witness down: the log keeps growing, nothing is published...
	p.fronts[1].down.Store(true)
	p.grow(10)
	time.Sleep(50 * time.Millisecond)
	if pub := p.pub.Published(); pub.Size != 305 {
		t.Fatalf("published size %d without the quorum", pub.Size)
	}
	p.grow(10)
	// ...until it answers again: then the newest checkpoint is published,
	// the returning witness catching up over a consistency proof.
	p.fronts[1].down.Store(false)
	if got := p.cosigners(t, p.waitPublished(t, 325)); len(got) != 2 {
		t.Fatalf("cosigned by %v", got)
	}
	if a := p.pub.Alarms(); len(a) != 0 {
		t.Fatalf("alarms %v", a)
	}
}

func TestPublishOneOfTwo(t *testing.T) {
	p := newPublishing(t, 2, 1)
	p.fronts[0].down.Store(true)
	p.grow(3)
	p.start(t)
	if got := p.cosigners(t, p.waitPublished(t, 3)); len(got) != 1 || got[0] != "witness.test/w1" {
		t.Fatalf("cosigned by %v", got)
	}
}

// A publisher that starts afresh learns each witness's size from its 409.
func TestPublishAdoptsWitnessSize(t *testing.T) {
	p := newPublishing(t, 1, 1)
	p.grow(40)
	body := p.log.request(0, p.signed)
	if _, err := p.witnesses[0].AddCheckpoint(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	p.grow(2)
	p.start(t)
	p.waitPublished(t, 42)
}

// A log that forked is refused, and the publisher raises the alarm: a tree
// that does not extend the one a witness cosigned, or one smaller than a
// witness cosigned (a log restored from an old backup). A same-size fork
// the publisher never submits; the witness's own tests cover it.
func TestPublishForkAlarms(t *testing.T) {
	ctx := context.Background()
	for name, fork := range map[string]func(p *publishing) (int64, []byte){
		"a root the proof does not reach": func(p *publishing) (int64, []byte) {
			p.start(t)
			p.waitPublished(t, 8)
			p.log.grow(8)
			return 16, p.log.checkpoint(16, tlog.Hash{9})
		},
		"witness saw more": func(p *publishing) (int64, []byte) {
			if _, err := p.witnesses[0].AddCheckpoint(ctx, p.log.request(0, p.log.grow(4))); err != nil {
				t.Fatal(err)
			}
			p.start(t)
			root, _ := tlog.RootAt(ctx, p.log.tiles, 8)
			return 8, p.log.checkpoint(8, root)
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := newPublishing(t, 1, 1)
			p.grow(8)
			size, signed := fork(p)
			p.mu.Lock()
			p.size, p.signed = size, signed
			close(p.next)
			p.next = make(chan struct{})
			p.mu.Unlock()
			deadline := time.Now().Add(10 * time.Second)
			for len(p.pub.Alarms()) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("no alarm")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if pub := p.pub.Published(); pub != nil && bytes.Contains(pub.Note, signed) {
				t.Fatal("the fork was published")
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	p := newPublishing(t, 2, 2)
	for name, mutate := range map[string]func(*Policy){
		"quorum too large": func(q *Policy) { q.Quorum = 3 },
		"negative quorum":  func(q *Policy) { q.Quorum = -1 },
		"bad key":          func(q *Policy) { q.Peers[0].VKey = "x" },
		"log key":          func(q *Policy) { q.Peers[0].VKey = p.log.vkey },
		"name mismatch":    func(q *Policy) { q.Peers[0].Name = "other" },
		"duplicate":        func(q *Policy) { q.Peers[1] = q.Peers[0] },
		"bad URL":          func(q *Policy) { q.Peers[0].URL = "file:///etc" },
	} {
		q := p.policy
		q.Peers = append([]Peer(nil), p.policy.Peers...)
		mutate(&q)
		if err := q.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := p.policy.Check(); err != nil {
		t.Fatal(err)
	}
}
