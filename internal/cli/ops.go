package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/acme/autocert"

	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/server"
)

// opsFlags are the flags of operating a server: TLS, reverse proxies,
// logs, metrics and readiness.
type opsFlags struct {
	tlsCert, tlsKey string
	autocert        listFlag
	autocertEmail   string
	httpRedirect    string
	trustedProxies  listFlag
	logFormat       string
	metricsAddr     string
	metricsToken    string
	witnessLag      time.Duration
}

func (f *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM, with its chain); re-read when the file changes")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	fs.Var(&f.autocert, "autocert", "serve HTTPS with certificates obtained by ACME (Let's Encrypt) for these domains, comma-separated; the cache is DIR/autocert")
	fs.StringVar(&f.autocertEmail, "autocert-email", "", "the contact address given to the ACME certificate authority (with --autocert)")
	fs.StringVar(&f.httpRedirect, "http-redirect", "", "also listen on this address for plain HTTP, redirecting to HTTPS (and answering ACME challenges with --autocert)")
	fs.Var(&f.trustedProxies, "trusted-proxies", "reverse proxies (addresses or CIDR prefixes, comma-separated) whose X-Forwarded-For and X-Forwarded-Proto are believed")
	fs.StringVar(&f.logFormat, "log-format", "text", "log lines as text or json")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at /metrics on this separate address (e.g. 127.0.0.1:9090)")
	fs.StringVar(&f.metricsToken, "metrics-token", "", "a file holding a token: serve /metrics on the main address too, to requests with Authorization: Bearer <token>")
	fs.DurationVar(&f.witnessLag, "ready-witness-lag", server.DefaultWitnessLag, "how long a checkpoint may wait for the witnesses' cosignatures before /readyz answers 503 (negative: never)")
}

// logger returns the logger the flags ask for, writing to w.
func (f *opsFlags) logger(w io.Writer) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format is text or json, not %q", f.logFormat)
}

// check refuses flags that do not go together.
func (f *opsFlags) check() error {
	switch {
	case (f.tlsCert == "") != (f.tlsKey == ""):
		return errors.New("--tls-cert and --tls-key go together")
	case f.tlsCert != "" && len(f.autocert) > 0:
		return errors.New("--tls-cert and --autocert exclude each other: a certificate of your own, or ACME's")
	case f.autocertEmail != "" && len(f.autocert) == 0:
		return errors.New("--autocert-email goes with --autocert")
	case f.httpRedirect != "" && !f.tls():
		return errors.New("--http-redirect redirects to HTTPS: it needs --tls-cert or --autocert")
	}
	if _, err := gate.ParseProxies(f.trustedProxies); err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	_, err := f.logger(io.Discard)
	return err
}

func (f *opsFlags) tls() bool { return f.tlsCert != "" || len(f.autocert) > 0 }

// readMetricsToken reads the --metrics-token file.
func (f *opsFlags) readMetricsToken() (string, error) {
	if f.metricsToken == "" {
		return "", nil
	}
	b, err := os.ReadFile(f.metricsToken)
	if err != nil {
		return "", fmt.Errorf("--metrics-token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return "", fmt.Errorf("--metrics-token: %s holds %d characters; use a random token of 16 or more", f.metricsToken, len(tok))
	}
	return tok, nil
}

// tlsConfig returns the TLS configuration of the main listener, nil
// without TLS, and with --autocert the handler of ACME's HTTP challenges.
func (f *opsFlags) tlsConfig(log *slog.Logger, dataDir string) (*tls.Config, func(http.Handler) http.Handler, error) {
	switch {
	case f.tlsCert != "":
		kp, err := loadKeyPair(f.tlsCert, f.tlsKey, log)
		if err != nil {
			return nil, nil, err
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: kp.getCertificate}, nil, nil
	case len(f.autocert) > 0:
		cache := filepath.Join(dataDir, "autocert")
		if err := os.MkdirAll(cache, 0o700); err != nil {
			return nil, nil, err
		}
		if err := os.Chmod(cache, 0o700); err != nil { // it holds private keys
			return nil, nil, err
		}
		m := &autocert.Manager{Prompt: autocert.AcceptTOS, Cache: autocert.DirCache(cache),
			HostPolicy: autocert.HostWhitelist(f.autocert...), Email: f.autocertEmail}
		cfg := m.TLSConfig()
		cfg.MinVersion = tls.VersionTLS12
		return cfg, m.HTTPHandler, nil
	}
	return nil, nil, nil
}

// keyPair is a certificate and its key read from files, read again when
// either file changes (a renewed certificate needs no restart). A pair
// that does not load — one file renewed and not yet the other — leaves the
// previous one in use.
type keyPair struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamps  [2]os.FileInfo
	failed  [2]os.FileInfo // the stamps of the last pair that did not load
	checked time.Time
}

// keyPairCheck is how often the files are looked at, at most.
const keyPairCheck = time.Second

func loadKeyPair(certFile, keyFile string, log *slog.Logger) (*keyPair, error) {
	k := &keyPair{certFile: certFile, keyFile: keyFile, log: log}
	stamps, err := k.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	k.cert, k.stamps, k.checked = &cert, stamps, time.Now()
	return k, nil
}

func (k *keyPair) stat() ([2]os.FileInfo, error) {
	var st [2]os.FileInfo
	for i, f := range []string{k.certFile, k.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return st, err
		}
		st[i] = fi
	}
	return st, nil
}

func sameStamps(a, b [2]os.FileInfo) bool {
	for i := range a {
		if a[i] == nil || b[i] == nil || !os.SameFile(a[i], b[i]) || !a[i].ModTime().Equal(b[i].ModTime()) || a[i].Size() != b[i].Size() {
			return false
		}
	}
	return true
}

func (k *keyPair) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if time.Since(k.checked) < keyPairCheck {
		return k.cert, nil
	}
	k.checked = time.Now()
	stamps, err := k.stat()
	if err != nil || sameStamps(stamps, k.stamps) || sameStamps(stamps, k.failed) {
		return k.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		k.failed = stamps
		k.log.Warn("the changed certificate does not load; serving the previous one", "cert", k.certFile, "key", k.keyFile, "err", err)
		return k.cert, nil
	}
	k.cert, k.stamps = &cert, stamps
	k.log.Info("certificate reloaded", "cert", k.certFile)
	return k.cert, nil
}

// redirectToHTTPS sends a plain HTTP request to the same host and path
// over HTTPS, at port (omitted when 443).
func redirectToHTTPS(port string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			http.Error(w, "no host to redirect to", http.StatusBadRequest)
			return
		}
		if port != "443" {
			host = net.JoinHostPort(host, port)
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		u := url.URL{Scheme: "https", Host: host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
		http.Redirect(w, r, u.String(), http.StatusPermanentRedirect)
	})
}

// listener is one of the addresses a server answers on.
type listener struct {
	name string
	ln   net.Listener
	srv  *http.Server
	tls  bool
}

// runAll serves every listener until e.ctx ends or one fails, calling
// ready once they all listen; then shuts them all down.
func runAll(e *env, ls []listener, ready func()) error {
	errc := make(chan error, len(ls))
	for _, l := range ls {
		l.srv.ErrorLog = slog.NewLogLogger(e.log.Handler(), slog.LevelWarn)
		go func() {
			var err error
			if l.tls {
				err = l.srv.ServeTLS(l.ln, "", "")
			} else {
				err = l.srv.Serve(l.ln)
			}
			errc <- fmt.Errorf("%s: %w", l.name, err)
		}()
	}
	ready()
	var failed error
	select {
	case failed = <-errc:
	case <-e.ctx.Done():
	}
	e.log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, l := range ls {
		if err := l.srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) && failed == nil {
			failed = err
		}
	}
	return failed
}

// listen opens the listeners a serving command asks for beside its main
// one: the HTTP redirect and the metrics.
func (f *opsFlags) listen(main net.Listener, acme func(http.Handler) http.Handler, metrics http.Handler) ([]listener, error) {
	var ls []listener
	closeAll := func() {
		for _, l := range ls {
			l.ln.Close()
		}
	}
	if f.httpRedirect != "" {
		ln, err := net.Listen("tcp", f.httpRedirect)
		if err != nil {
			return nil, fmt.Errorf("--http-redirect: %w", err)
		}
		_, port, _ := net.SplitHostPort(main.Addr().String())
		h := redirectToHTTPS(port)
		if acme != nil {
			h = acme(h)
		}
		ls = append(ls, listener{name: "redirect", ln: ln, srv: api.NewHTTPServer(ln.Addr().String(), h)})
	}
	if f.metricsAddr != "" {
		ln, err := net.Listen("tcp", f.metricsAddr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET "+server.MetricsPath, metrics)
		ls = append(ls, listener{name: "metrics", ln: ln, srv: api.NewHTTPServer(ln.Addr().String(), mux)})
	}
	return ls, nil
}

// applyConfig sets, from a YAML file mapping flag names to values, the
// flags of fs that the command line did not set: the command line wins.
// A key that names no flag is an error naming it; a list flag takes a
// YAML sequence or a comma-separated string.
func applyConfig(fs *flag.FlagSet, file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: the configuration maps flag names to values (data: /var/lib/truce)", file, root.Line)
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		name := k.Value
		f := fs.Lookup(name)
		if f == nil || name == "config" {
			return fmt.Errorf("%s:%d: unknown key %q: the keys are the flags of %s, without their dashes", file, k.Line, name, fs.Name())
		}
		if seen[name] {
			return fmt.Errorf("%s:%d: %q given twice", file, k.Line, name)
		}
		seen[name] = true
		var values []string
		switch v.Kind {
		case yaml.ScalarNode:
			values = []string{v.Value}
		case yaml.SequenceNode:
			if _, list := f.Value.(*listFlag); !list {
				return fmt.Errorf("%s:%d: %q takes one value, not a list", file, v.Line, name)
			}
			for _, item := range v.Content {
				if item.Kind != yaml.ScalarNode {
					return fmt.Errorf("%s:%d: %q: each item is a value", file, item.Line, name)
				}
				values = append(values, item.Value)
			}
		default:
			return fmt.Errorf("%s:%d: %q takes a value, not a mapping", file, v.Line, name)
		}
		if onCommandLine[name] {
			continue
		}
		for _, val := range values {
			if err := f.Value.Set(val); err != nil {
				return fmt.Errorf("%s:%d: %s: %v", file, v.Line, name, err)
			}
		}
	}
	return nil
}
