// Package api is Truce's HTTP surface: the log in C2SP tlog-tiles form
// under /log/, and the JSON API under /api/v1/. Every route is declared
// once, in the table in routes.go, from which the mux, authentication and
// the OpenAPI document are all derived; every error goes through writeError,
// which maps codes to statuses in one place.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/custody"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/witness"
)

// Config is what the server serves.
type Config struct {
	Seq   *sequencer.Sequencer
	Store store.Store
	Vault *custody.Vault // custodial keys, for members working in the browser
	Blobs *blob.Dir      // evidence files
	VKey  string         // checkpoint verifier key
	// Witnesses publishes cosigned checkpoints; nil for a log without
	// witnesses, whose checkpoints are published as soon as signed.
	Witnesses *witness.Publisher
	Logger    *slog.Logger
	Clock     func() time.Time // for expiries; default time.Now
	Policy    policy.Options
	Limits    Limits // zero: DefaultLimits
	// SecureCookies marks session cookies Secure; set it when serving
	// over TLS (directly or behind a terminating proxy).
	SecureCookies bool
}

// Server serves the log and the API.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux

	openapiOnce sync.Once
	openapiJSON []byte
	openapiErr  error

	tokensMu sync.Mutex
	tokens   map[string]cachedToken

	memberLimit, addressLimit, loginAddr *limiter
	lockouts                             *lockouts
}

// cachedToken is a token looked up less than tokenTTL ago.
type cachedToken struct {
	t  *store.Token
	at time.Time
}

// tokenTTL bounds how long a token lookup is reused, and so how long a
// revocation made outside this process takes to bite.
const tokenTTL = 5 * time.Second

// New returns a server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits()
	}
	l := cfg.Limits
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), tokens: map[string]cachedToken{},
		memberLimit: newLimiter(l.MemberRate, l.MemberBurst), addressLimit: newLimiter(l.AddressRate, l.AddressBurst),
		loginAddr: newLimiter(10.0/60, 10), lockouts: newLockouts()}
	for _, rt := range routes {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, truce.Errorf(truce.CodeNotFound, "no such resource: %s %s", r.Method, r.URL.Path))
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// NewHTTPServer returns an http.Server with timeouts on every phase, so a
// slow or stalled client cannot hold a connection.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
}

func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic", "route", rt.Path, "panic", v)
				writeError(w, errors.New("panic"))
			}
		}()
		if err := s.serve(rt, w, r); err != nil {
			if truce.ErrorCode(err) == truce.CodeInternal {
				s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
		}
	})
}

// serve runs one request through the limits, authentication and the
// policy, then the route's handler. Every route goes through here.
func (s *Server) serve(rt route, w http.ResponseWriter, r *http.Request) error {
	if t := s.cfg.Limits.RequestTimeout; t > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), t)
		defer cancel()
		r = r.WithContext(ctx)
	}
	if ok, wait := s.addressLimit.allow(clientAddress(r)); !ok {
		return tooMany(w, wait, "from this address")
	}
	v, sess, err := s.Identify(r)
	if err != nil {
		return err
	}
	if err := policy.Check(v, rt.Action, s.cfg.Policy); err != nil {
		return err
	}
	if err := CheckCSRF(r, sess); err != nil {
		return err
	}
	if v.Member != nil {
		if ok, wait := s.memberLimit.allow(v.Member.ID); !ok {
			return tooMany(w, wait, "by "+v.Member.ID)
		}
	}
	ctx := context.WithValue(r.Context(), viewerKey{}, v)
	ctx = context.WithValue(ctx, sessionKey{}, sess)
	return rt.handle(s, w, r.WithContext(ctx))
}

// statuses maps error codes to HTTP statuses. It is the only such mapping.
var statuses = map[truce.Code]int{
	truce.CodeInvalid:       http.StatusBadRequest,
	truce.CodeBadSignature:  http.StatusBadRequest,
	truce.CodeUnknownAuthor: http.StatusBadRequest,
	truce.CodeRevokedKey:    http.StatusForbidden,
	truce.CodeWrongOrigin:   http.StatusBadRequest,
	truce.CodeReusedSeq:     http.StatusConflict,
	truce.CodeUnknownClause: http.StatusUnprocessableEntity,
	truce.CodeBadLocation:   http.StatusUnprocessableEntity,
	truce.CodeBadTime:       http.StatusUnprocessableEntity,
	truce.CodeTooLarge:      http.StatusRequestEntityTooLarge,
	truce.CodeMediaType:     http.StatusUnsupportedMediaType,
	truce.CodeForbidden:     http.StatusForbidden,
	truce.CodeUnauthorized:  http.StatusUnauthorized,
	truce.CodeRateLimited:   http.StatusTooManyRequests,
	truce.CodeNotFound:      http.StatusNotFound,
	truce.CodeConflict:      http.StatusConflict,
	truce.CodeUnavailable:   http.StatusServiceUnavailable,
	truce.CodeInternal:      http.StatusInternalServerError,
}

// Status returns the HTTP status of an error.
func Status(err error) int {
	if st, ok := statuses[truce.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error struct {
		Code    truce.Code `json:"code"`
		Message string     `json:"message"`
		Field   string     `json:"field,omitempty"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, err error) {
	var b errorBody
	b.Error.Code = truce.ErrorCode(err)
	b.Error.Message = truce.ErrorMessage(err)
	var te *truce.Error
	if errors.As(err, &te) {
		b.Error.Field = te.Field
	}
	if b.Error.Code == truce.CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="truce"`)
	}
	writeJSON(w, Status(err), b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v) // HTML-escapes <, > and &: no user text reaches a page unescaped
}

// readBody reads a request body up to the JSON body limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.Limits.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, truce.Errorf(truce.CodeTooLarge, "the request body is over %d bytes", s.cfg.Limits.MaxBodyBytes)
	}
	if err != nil {
		return nil, truce.Errorf(truce.CodeInvalid, "reading the request body: %v", err)
	}
	return body, nil
}
