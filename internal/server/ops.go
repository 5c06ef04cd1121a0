package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce/internal/gate"
)

// observe is the outermost handler: it decides who the client is (once,
// through the trusted proxies), serves /metrics when a token guards it on
// this listener, and after each request counts it in the metrics and, if
// asked, writes its line in the request log.
func (s *Server) observe(o Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r, t := o.Proxies.Trace(r)
		rec := &recorder{ResponseWriter: w}
		if r.URL.Path == MetricsPath && o.MetricsToken != "" {
			t.Route = "GET " + MetricsPath
			s.Metrics.ServeHTTP(rec, r)
		} else {
			next.ServeHTTP(rec, r)
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		d := time.Since(start)
		route := t.Route
		if route == "" {
			route = "unmatched"
		}
		s.metrics.request(route, rec.status, d)
		if o.RequestLog {
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("path", gate.LogPath(r)), slog.String("route", route),
				slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("client", t.Client),
			}
			if t.Member != "" {
				attrs = append(attrs, slog.String("member", t.Member))
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		}
	})
}

// recorder notes a response's status and size.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (deadlines of
// uploads, flushing).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// MetricsPath is where the metrics are served.
const MetricsPath = "/metrics"

// guardMetrics serves h only to requests bearing token, when there is one.
// It compares digests, so the time taken says nothing of the token.
func guardMetrics(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="truce-metrics"`)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":"unauthorized","message":"the metrics need the metrics token"}}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// statusText is a status as a metric label.
func statusText(code int) string { return strconv.Itoa(code) }
