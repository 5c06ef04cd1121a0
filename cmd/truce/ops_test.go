package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 named cn, and
// its key, to certFile and keyFile, and returns the certificate.
func selfSigned(t *testing.T, cn, certFile, keyFile string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The key first: a reader between the two writes sees a pair that does
	// not match, which the server must survive.
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// opsServer is a truce serve whose standard error (its log) is kept.
type opsServer struct {
	cmd      *exec.Cmd
	url      string
	mu       sync.Mutex
	out, log bytes.Buffer
	done     chan struct{}
}

func (s *opsServer) logged() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

var httpsLine = regexp.MustCompile(`https://127\.0\.0\.1:\d+`)

func startOps(t *testing.T, args ...string) *opsServer {
	t.Helper()
	s := &opsServer{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	stdout, _ := s.cmd.StdoutPipe()
	s.cmd.Stderr = lockedWriter{&s.mu, &s.log}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if u := httpsLine.FindString(sc.Text()); u != "" {
				select {
				case found <- u:
				default:
				}
			}
		}
		s.cmd.Wait()
		close(s.done)
	}()
	select {
	case s.url = <-found:
	case <-s.done:
		t.Fatalf("%v exited: %s", args, s.logged())
	case <-time.After(60 * time.Second):
		t.Fatalf("%v printed no https URL: %s", args, s.logged())
	}
	t.Cleanup(func() { s.stop(syscall.SIGKILL) })
	return s
}

func (s *opsServer) stop(sig syscall.Signal) {
	s.cmd.Process.Signal(sig)
	<-s.done
}

// trusting is a client that trusts only cert, on a new connection each
// time, following no redirects.
func trusting(cert *x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestServeTLS drives truce serve as an operator would: configured by a
// file, serving HTTPS with a self-signed pair, TLS 1.2 at least, plain
// HTTP redirected, the pair renewed in place and served without a restart,
// JSON logs with a request line per request, metrics on their own
// loopback address and not on the main one. Then with --autocert: its
// cache private, no certificate for a name it was not given.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if out, errOut, code := run(t, "init", "--data", data, "--origin", "truce.example.org/log", "--agreement", "../../internal/demo/agreement.yaml"); code != 0 {
		t.Fatalf("init: %s %s", out, errOut)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := selfSigned(t, "truce test one", certFile, keyFile)
	redirect, metrics := freeAddr(t), freeAddr(t)
	config := filepath.Join(dir, "truce.yaml")
	os.WriteFile(config, []byte(strings.Join([]string{
		"data: " + data, "addr: 127.0.0.1:8443", "tls-cert: " + certFile, "tls-key: " + keyFile,
		"http-redirect: " + redirect, "metrics-addr: " + metrics, "log-format: text", "",
	}, "\n")), 0o600)
	// The command line wins over the file: another port, JSON logs.
	s := startOps(t, "serve", "--config", config, "--addr", "127.0.0.1:0", "--log-format", "json")

	resp, err := trusting(first).Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 || resp.TLS.PeerCertificates[0].Subject.CommonName != "truce test one" {
		t.Fatalf("/healthz over TLS = %d %+v", resp.StatusCode, resp.TLS)
	}
	host := strings.TrimPrefix(s.url, "https://")
	if c, err := tls.Dial("tcp", host, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Errorf("a TLS 1.1 handshake succeeded")
	}
	if c, err := net.DialTimeout("tcp", host, 5*time.Second); err == nil {
		// Plain HTTP on the TLS port is not served.
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		b, _ := io.ReadAll(c)
		c.Close()
		if strings.Contains(string(b), `"status":"ok"`) {
			t.Errorf("plain HTTP on the TLS port answered: %s", b)
		}
	}

	// Plain HTTP is redirected to the same path and query over HTTPS.
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = plain.Get("http://" + redirect + "/log/checkpoint?from=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != s.url+"/log/checkpoint?from=1" {
		t.Fatalf("the redirect = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Metrics on their own address, not on the main one.
	resp, err = plain.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "truce_log_size_entries ") || !strings.Contains(string(body), `route="GET /healthz"`) {
		t.Fatalf("/metrics on the metrics address = %d %.300s", resp.StatusCode, body)
	}
	resp, err = trusting(first).Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/metrics on the main address = %d", resp.StatusCode)
	}

	// A renewed pair is served without a restart; until it is, the old one.
	time.Sleep(10 * time.Millisecond)
	second := selfSigned(t, "truce test two", certFile, keyFile)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := trusting(second).Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.TLS.PeerCertificates[0].Subject.CommonName == "truce test two" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renewed certificate is not served: %v\n%s", err, s.logged())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := trusting(first).Get(s.url + "/healthz"); err == nil {
		t.Errorf("the old certificate is still served")
	}

	s.stop(syscall.SIGTERM)

	requests := 0
	for _, line := range strings.Split(strings.TrimSpace(s.logged()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a log line is not JSON: %s", line)
		}
		if m["msg"] == "request" {
			requests++
			if m["client"] != "127.0.0.1" || m["status"] == nil || m["duration_ms"] == nil {
				t.Errorf("request line: %s", line)
			}
		}
	}
	if requests < 3 || !strings.Contains(s.logged(), "certificate reloaded") {
		t.Errorf("%d request lines; the log:\n%s", requests, s.logged())
	}

	// ACME: the cache is private; a name not given gets no certificate
	// (and no request to the authority).
	s = startOps(t, "serve", "--data", data, "--addr", "127.0.0.1:0", "--autocert", "truce.example.org")
	fi, err := os.Stat(filepath.Join(data, "autocert"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the ACME cache: %v %v", err, fi)
	}
	host = strings.TrimPrefix(s.url, "https://")
	if c, err := tls.Dial("tcp", host, &tls.Config{ServerName: "elsewhere.example", InsecureSkipVerify: true}); err == nil {
		c.Close()
		t.Errorf("a handshake for a name not in --autocert succeeded")
	}
	s.stop(syscall.SIGTERM)
}

// readyRole is the role a server's /readyz reports, ready or not.
func readyRole(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rd struct{ Role string }
	if err := json.NewDecoder(resp.Body).Decode(&rd); err != nil {
		t.Fatalf("/readyz = %d: %v", resp.StatusCode, err)
	}
	return rd.Role
}
