// Package server puts an open instance's services together — who a
// request is from (auth), the one gate every request comes through, the
// read side and the write side — and both surfaces over them: the API and
// the pages. truce serve, the demo, the benchmark and the tests all serve
// through it, so there is one way to wire a server.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/notify"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/read"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/submit"
	"github.com/truce-mvm/truce/internal/web"
	"github.com/truce-mvm/truce/internal/witness"
)

// Options configure a server.
type Options struct {
	// Witnesses publishes cosigned checkpoints; nil for a log without.
	Witnesses *witness.Publisher
	Policy    policy.Options
	Limits    gate.Limits // zero: gate.DefaultLimits
	Login     auth.Limits // zero: auth.DefaultLimits
	// Accounts are listed on the sign-in page: only for exercise instances.
	Accounts      []web.Account
	SecureCookies bool
	Clock         func() time.Time // for expiries; default time.Now
	Logger        *slog.Logger
	// Notify configures notifications: where e-mail goes, whether webhooks
	// may reach private addresses, the public base URL for links.
	Notify NotifyOptions
	// Proxies are the reverse proxies trusted to name the client and its
	// scheme (gate.Proxies.Client); none by default.
	Proxies gate.Proxies
	// RequestLog writes a line per request to Logger: method, path (without
	// its secrets: gate.LogPath), route, status, bytes, duration, client,
	// member.
	RequestLog bool
	// MetricsToken, if set, serves the metrics at /metrics on Handler to
	// requests bearing it (Authorization: Bearer), and guards Metrics too.
	// Without it, Handler has no /metrics.
	MetricsToken string
	// Role says the node's role — leader, standby or single, "" while not
	// known — for /readyz and the metrics; nil: the sequencer's
	// (sequencer.Role).
	Role func() string
	// WitnessLag is how long the oldest checkpoint not yet cosigned may
	// wait before /readyz says not ready; zero: DefaultWitnessLag;
	// negative: the witnesses do not hold readiness back.
	WitnessLag time.Duration
}

// NotifyOptions configure notifications.
type NotifyOptions struct {
	Mail         *notify.Mailer // nil: no e-mail
	AllowPrivate bool           // webhooks to loopback and private addresses (exercise instances)
	BaseURL      string         // the instance's public address, for links
	Delivery     notify.Delivery
	// Clock is the notifier's, for retries and reminders of deadlines;
	// default time.Now (the wall clock: a reminder is not an entry).
	Clock func() time.Time
}

// Server is an instance's services and surfaces.
type Server struct {
	Auth   *auth.Service
	Gate   *gate.Gate
	Read   *read.Service
	Submit *submit.Service
	API    *api.Server
	// Notifier follows the log and delivers notifications (Start).
	Notifier *notify.Notifier
	seq      *sequencer.Sequencer
	// Handler serves both surfaces: the pages, and the API and the log
	// under /api/, /log/, /healthz and /readyz.
	Handler http.Handler
	// Metrics serves the metrics in Prometheus's text format, behind
	// Options.MetricsToken if set: for a listener of its own.
	Metrics http.Handler

	in          *instance.Instance
	log         *slog.Logger
	metrics     *metrics
	follow      *tracker
	witnesses   *witness.Publisher
	witnessLag  time.Duration
	roleFn      func() string
	probeErrors atomic.Int64
}

// New wires a server over an open instance.
func New(in *instance.Instance, o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Limits == (gate.Limits{}) {
		o.Limits = gate.DefaultLimits()
	}
	files, err := in.Blobs()
	if err != nil {
		return nil, err
	}
	s := &Server{seq: in.Seq, in: in, log: o.Logger, witnesses: o.Witnesses, roleFn: o.Role, witnessLag: o.WitnessLag,
		follow: newTracker(in.Seq, o.Witnesses)}
	if s.witnessLag == 0 {
		s.witnessLag = DefaultWitnessLag
	}
	if s.roleFn == nil {
		s.roleFn = func() string { return in.Seq.Role().Name() }
	}
	s.metrics = newMetrics(s, o)
	s.Metrics = guardMetrics(o.MetricsToken, s.metrics.handler())
	s.Auth = auth.NewService(auth.Config{Credentials: in.Store, Clock: o.Clock, Limits: o.Login, Logger: o.Logger,
		Members: func(id string) (truce.Member, bool) { return in.Seq.Snapshot().Member(id) }})
	s.Gate = gate.New(s.Auth, o.Policy, o.Limits)
	s.Read = read.New(read.Config{Store: in.Store, Files: files, Seq: in.Seq, Witnesses: o.Witnesses, VKey: in.VKey, Policy: o.Policy})
	s.Submit = submit.New(submit.Config{Seq: in.Seq, Vault: in.Vault, Files: files, Blobs: in.Store, Records: in.Store,
		MaxUpload: o.Limits.MaxUploadBytes, Policy: o.Policy, Clock: o.Clock})
	s.Notifier = notify.New(notify.Config{Store: in.Store, Read: s.Read, Vault: in.Vault, Policy: o.Policy, Clock: o.Notify.Clock,
		Members: func(id string) (truce.Member, bool) { return in.Seq.Snapshot().Member(id) },
		Follow: func() (int64, <-chan struct{}) {
			if cp := in.Seq.Checkpoint(); cp != nil {
				return cp.Size, cp.Superseded()
			}
			return 0, nil
		},
		Mail: o.Notify.Mail, AllowPrivate: o.Notify.AllowPrivate, BaseURL: strings.TrimSuffix(o.Notify.BaseURL, "/"), Delivery: o.Notify.Delivery,
	}, o.Logger)
	s.API = api.New(api.Config{Gate: s.Gate, Read: s.Read, Submit: s.Submit, Auth: s.Auth, Notify: s.Notifier.Service, Logger: o.Logger, SecureCookies: o.SecureCookies,
		Ready: s.Ready})
	pages, err := web.New(web.Config{API: s.API, Gate: s.Gate, Auth: s.Auth, Read: s.Read, Submit: s.Submit, Notify: s.Notifier.Service, Accounts: o.Accounts,
		Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	s.Handler = s.observe(o, pages)
	return s, nil
}

// Start runs what works beside the handler — the notifier, which follows
// the log and delivers (on the leader only, of the servers over one
// database: sequencer.WhileLeading), and what notes when checkpoints
// appear for the metrics and /readyz — until ctx ends or stop is called;
// stop returns once they have stopped.
func (s *Server) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.seq.WhileLeading(ctx, s.Notifier.Run, nil) })
	wg.Go(func() { s.follow.run(ctx) })
	return func() { cancel(); wg.Wait() }
}
