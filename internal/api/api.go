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
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
)

// Config is what the server serves.
type Config struct {
	Seq    *sequencer.Sequencer
	Store  store.Store
	VKey   string // checkpoint verifier key
	Logger *slog.Logger
	Clock  func() time.Time // for token expiry; default time.Now
	// MaxEntryBytes bounds POST /api/v1/entries bodies. Default 65536.
	MaxEntryBytes int64
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
	if cfg.MaxEntryBytes <= 0 {
		cfg.MaxEntryBytes = 65536
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), tokens: map[string]cachedToken{}}
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

type ctxKey struct{}

// member returns the authenticated member of a request.
func member(r *http.Request) *truce.Member {
	m, _ := r.Context().Value(ctxKey{}).(*truce.Member)
	return m
}

func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic", "route", rt.Path, "panic", v)
				writeError(w, errors.New("panic"))
			}
		}()
		if rt.Auth {
			m, err := s.authenticate(r)
			if err != nil {
				writeError(w, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, m))
		}
		if err := rt.handle(s, w, r); err != nil {
			if truce.ErrorCode(err) == truce.CodeInternal {
				s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
		}
	})
}

// authenticate resolves a bearer token to a member. Tokens are stored only
// as SHA-256 hashes: they are long random strings, so a slow hash adds
// nothing.
func (s *Server) authenticate(r *http.Request) (*truce.Member, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, truce.Errorf(truce.CodeUnauthorized, "this resource needs an Authorization: Bearer token")
	}
	t, err := s.lookupToken(r.Context(), auth.HashToken(tok))
	if errors.Is(err, store.ErrNotFound) {
		return nil, truce.Errorf(truce.CodeUnauthorized, "unknown token")
	}
	if err != nil {
		return nil, err
	}
	if t.Revoked {
		return nil, truce.Errorf(truce.CodeUnauthorized, "the token was revoked")
	}
	if !t.Expires.IsZero() && !s.cfg.Clock().Before(t.Expires) {
		return nil, truce.Errorf(truce.CodeUnauthorized, "the token expired at %s", t.Expires.UTC().Format(time.RFC3339))
	}
	var m *truce.Member
	s.cfg.Seq.View(func(st *rules.State) {
		if mm, ok := st.Member(t.Member); ok {
			c := *mm
			m = &c
		}
	})
	if m == nil {
		return nil, truce.Errorf(truce.CodeUnauthorized, "the token's member is not registered")
	}
	return m, nil
}

func (s *Server) lookupToken(ctx context.Context, hash []byte) (*store.Token, error) {
	key := string(hash)
	s.tokensMu.Lock()
	c, ok := s.tokens[key]
	s.tokensMu.Unlock()
	if ok && time.Since(c.at) < tokenTTL {
		return c.t, nil
	}
	t, err := s.cfg.Store.Token(ctx, hash)
	if err != nil {
		return nil, err
	}
	s.tokensMu.Lock()
	if len(s.tokens) > 10000 {
		clear(s.tokens)
	}
	s.tokens[key] = cachedToken{t, time.Now()}
	s.tokensMu.Unlock()
	return t, nil
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
