// Package api is Truce's HTTP surface: the log in C2SP tlog-tiles form
// under /log/, and the JSON API under /api/v1/. Every route is declared
// once, in the table in routes.go, from which the mux and the OpenAPI
// document are derived; every request goes through the gate (limits,
// identification, the policy action the route names, CSRF) and then
// reads through the read service or writes through the submit service,
// never the store or the sequencer; every error goes through writeError,
// which maps codes to statuses in one place.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/notify"
	"github.com/truce-mvm/truce/internal/read"
	"github.com/truce-mvm/truce/internal/submit"
	"github.com/truce-mvm/truce/internal/wire"
)

// Config is what the server serves with.
type Config struct {
	Gate   *gate.Gate
	Read   *read.Service
	Submit *submit.Service
	Auth   *auth.Service
	Notify *notify.Service
	Logger *slog.Logger
	// SecureCookies marks session cookies Secure even on requests that
	// did not come over HTTPS (those that did have them Secure anyway).
	SecureCookies bool
	// Ready answers /readyz; nil: /readyz is not served.
	Ready func(context.Context) *wire.Ready
}

// Server serves the log and the API.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux

	openapiOnce sync.Once
	openapiJSON []byte
	openapiErr  error
}

// New returns a server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
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

func (s *Server) wrap(rt route) http.Handler {
	gr := gate.Route{Action: rt.Action, Upload: rt.Upload}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic", "route", rt.Path, "panic", v)
				writeError(w, errors.New("panic"))
			}
		}()
		err := s.cfg.Gate.Serve(w, r, gr, func(r *http.Request) error { return rt.handle(s, w, r) })
		if err != nil {
			if c := truce.ErrorCode(err); c == truce.CodeInternal || c == truce.CodeNoSpace {
				s.log.Error("request failed", "method", r.Method, "path", gate.LogPath(r), "err", err)
			}
			writeError(w, err)
		}
	})
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
	truce.CodeNoSpace:       http.StatusInsufficientStorage,
	truce.CodeInternal:      http.StatusInternalServerError,
}

// Status returns the HTTP status of an error.
func Status(err error) int {
	if st, ok := statuses[truce.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// SetHeaders sets the headers an error's answer carries besides its
// status: when to retry, how to authenticate. The pages share it.
func SetHeaders(w http.ResponseWriter, err error) {
	if after, ok := auth.Seconds(err); ok {
		w.Header().Set("Retry-After", after)
	}
	switch truce.ErrorCode(err) {
	case truce.CodeUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="truce"`)
	case truce.CodeUnavailable, truce.CodeNoSpace:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "5")
		}
	}
}

func writeError(w http.ResponseWriter, err error) {
	var b wire.Error
	b.Error.Code = truce.ErrorCode(err)
	b.Error.Message = truce.ErrorMessage(err)
	var te *truce.Error
	if errors.As(err, &te) {
		b.Error.Field = te.Field
	}
	SetHeaders(w, err)
	writeJSON(w, Status(err), b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v) // HTML-escapes <, > and &: no user text reaches a page unescaped
}

// readBody reads a request body, which the gate bounded.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, truce.Errorf(truce.CodeTooLarge, "the request body is over %d bytes", tooBig.Limit)
	}
	if err != nil {
		return nil, truce.Errorf(truce.CodeInvalid, "reading the request body: %v", err)
	}
	return body, nil
}

// readJSON strictly decodes a bounded JSON body.
func readJSON(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return strictJSON(body, v)
}

// strictJSON decodes b into v, refusing unknown fields and trailing data.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil || d.More() {
		return truce.Errorf(truce.CodeInvalid, "the request body is not the JSON expected: %v", err)
	}
	return nil
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
