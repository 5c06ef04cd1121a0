package audit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/witness"
)

// witnessServer is a witness serving a test instance, which a test can take down.
type witnessServer struct {
	*witness.Witness
	Dir  string
	URL  string
	down atomic.Bool
}

// SetDown makes the witness answer 503 (true) or serve again (false).
func (w *witnessServer) SetDown(down bool) { w.down.Store(down) }

func (w *witnessServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if w.down.Load() {
		http.Error(rw, "down for the test", http.StatusServiceUnavailable)
		return
	}
	w.Witness.ServeHTTP(rw, r)
}

// httpInstance is an instance httpInstance over HTTP, its checkpoints published by
// witnesses.
type httpInstance struct {
	In        *instance.Instance
	URL       string
	Publisher *witness.Publisher
	Witnesses []*witnessServer
}

// serveWith serves an open instance with n witnesses, all of which must
// cosign. clock is the server's clock for token expiries.
func serveWith(t testing.TB, in *instance.Instance, n int, clock func() time.Time) *httpInstance {
	t.Helper()
	ctx := context.Background()
	s := &httpInstance{In: in}
	var p witness.Policy
	for i := range n {
		w := &witnessServer{Dir: t.TempDir()}
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
	limits := gate.DefaultLimits()
	limits.MemberRate, limits.AddressRate = 0, 0 // auditors read a lot, fast
	httpInstance, err := server.New(in, server.Options{Witnesses: s.Publisher, Clock: clock, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpInstance.Handler)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Token issues an API token for a member.
func (s *httpInstance) Token(t testing.TB, member string) string {
	t.Helper()
	tok, _, err := auth.IssueToken(context.Background(), s.In.Store, auth.TokenSpec{Member: member, Scopes: policy.AllScopes}, testkit.Start)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// WaitPublished waits until the witnesses have cosigned the log up to its
// current size.
func (s *httpInstance) WaitPublished(t testing.TB) {
	t.Helper()
	if err := s.In.Seq.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	size := s.In.Seq.Snapshot().Size
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Publisher.Wait(ctx, size); err != nil {
		t.Fatalf("the witnesses did not cosign size %d; alarms %v", size, s.Publisher.Alarms())
	}
}
