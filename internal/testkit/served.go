package testkit

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/witness"
)

// Witness is a witness serving a test instance, which a test can take down.
type Witness struct {
	*witness.Witness
	Dir  string
	URL  string
	down atomic.Bool
}

// SetDown makes the witness answer 503 (true) or serve again (false).
func (w *Witness) SetDown(down bool) { w.down.Store(down) }

func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if w.down.Load() {
		http.Error(rw, "down for the test", http.StatusServiceUnavailable)
		return
	}
	w.Witness.ServeHTTP(rw, r)
}

// Served is an instance served over HTTP, its checkpoints published by
// witnesses.
type Served struct {
	In        *instance.Instance
	URL       string
	Publisher *witness.Publisher
	Witnesses []*Witness
}

// Serve serves an open instance with n witnesses, all of which must
// cosign. clock is the server's clock for token expiries.
func Serve(t testing.TB, in *instance.Instance, n int, clock func() time.Time) *Served {
	t.Helper()
	ctx := context.Background()
	s := &Served{In: in}
	var p witness.Policy
	for i := range n {
		w := &Witness{Dir: t.TempDir()}
		if _, err := witness.Init(w.Dir, fmt.Sprintf("witness-%d.test", i)); err != nil {
			t.Fatal(err)
		}
		if err := witness.AddLog(ctx, w.Dir, in.VKey); err != nil {
			t.Fatal(err)
		}
		var err error
		if w.Witness, err = witness.Open(w.Dir, nil); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(w)
		t.Cleanup(func() { srv.Close(); w.Close() })
		w.URL = srv.URL
		s.Witnesses = append(s.Witnesses, w)
		p.Peers = append(p.Peers, witness.Peer{Name: w.Name(), VKey: w.VerifierKey(), URL: srv.URL})
	}
	p.Quorum = n
	if err := in.SetWitnessPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.Publisher, err = in.Publisher(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if s.Publisher != nil {
		t.Cleanup(s.Publisher.Start(ctx))
	}
	limits := api.DefaultLimits()
	limits.MemberRate, limits.AddressRate = 0, 0 // auditors read a lot, fast
	srv := httptest.NewServer(api.New(api.Config{Seq: in.Seq, Store: in.Store, Vault: in.Vault,
		VKey: in.VKey, Witnesses: s.Publisher, Clock: clock, Limits: limits}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Token issues an API token for a member.
func (s *Served) Token(t testing.TB, member string) string {
	t.Helper()
	tok, _, err := auth.IssueToken(context.Background(), s.In.Store, auth.TokenSpec{Member: member, Scopes: policy.AllScopes}, Start)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// WaitPublished waits until the witnesses have cosigned the log up to its
// current size.
func (s *Served) WaitPublished(t testing.TB) {
	t.Helper()
	if err := s.In.Seq.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	var size int64
	s.In.Seq.View(func(st *rules.State) { size = st.Size })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Publisher.Wait(ctx, size); err != nil {
		t.Fatalf("the witnesses did not cosign size %d; alarms %v", size, s.Publisher.Alarms())
	}
}

// Demo creates the exercise instance in a temporary directory and opens
// it with checkpoints as often as possible; it returns the instance, its
// directory and the demo's credentials by member.
func Demo(t testing.TB) (*instance.Instance, string, map[string]demo.Credential) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	creds, err := demo.Create(ctx, dir, time.Now(), instance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := instance.Open(ctx, dir, instance.Options{CheckpointInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	byID := map[string]demo.Credential{}
	for _, c := range creds {
		byID[c.ID] = c
	}
	return in, dir, byID
}
