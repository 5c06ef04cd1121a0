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
	// under /api/, /log/ and /healthz.
	Handler http.Handler
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
	s := &Server{seq: in.Seq}
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
	s.API = api.New(api.Config{Gate: s.Gate, Read: s.Read, Submit: s.Submit, Auth: s.Auth, Notify: s.Notifier.Service, Logger: o.Logger, SecureCookies: o.SecureCookies})
	pages, err := web.New(web.Config{API: s.API, Gate: s.Gate, Auth: s.Auth, Read: s.Read, Submit: s.Submit, Notify: s.Notifier.Service, Accounts: o.Accounts,
		SecureCookies: o.SecureCookies, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	s.Handler = pages
	return s, nil
}

// Start runs what works beside the handler — the notifier, which follows
// the log and delivers — until ctx ends or stop is called; stop returns
// once it has stopped. Of the servers over one database, only the leader
// delivers (sequencer.WhileLeading).
func (s *Server) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.seq.WhileLeading(ctx, s.Notifier.Run, nil) }()
	return func() { cancel(); <-done }
}
