package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFetch(t *testing.T) {
	var bomb bytes.Buffer
	z := gzip.NewWriter(&bomb)
	z.Write(bytes.Repeat([]byte("a"), 4<<20))
	z.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/article":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<p>hello</p>"))
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/bomb":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "text/html")
			w.Write(bomb.Bytes())
		case "/big":
			w.Write(bytes.Repeat([]byte("b"), 2<<20))
		case "/missing":
			http.NotFound(w, r)
		case "/elsewhere":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}
	}))
	defer srv.Close()
	c := New(1<<20, true)
	c.PerHost = 0
	ctx := context.Background()
	p, err := c.Get(ctx, srv.URL+"/article")
	if err != nil || string(p.Body) != "<p>hello</p>" || !strings.HasPrefix(p.ContentType, "text/html") {
		t.Fatalf("article = %v %v", p, err)
	}
	for path, want := range map[string]error{"/loop": ErrRedirects, "/bomb": ErrTooLarge, "/big": ErrTooLarge, "/elsewhere": ErrScheme} {
		if _, err := c.Get(ctx, srv.URL+path); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", path, err, want)
		}
	}
	if _, err := c.Get(ctx, srv.URL+"/missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a missing page: %v", err)
	}
	if _, err := c.Get(ctx, "file:///etc/passwd"); !errors.Is(err, ErrScheme) {
		t.Errorf("a file URL: %v", err)
	}
}

// Requests to one host are spaced by PerHost.
func TestPolite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<p>x</p>")) }))
	defer srv.Close()
	c := New(1<<20, true)
	c.PerHost = 150 * time.Millisecond
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < 3; i++ {
		if _, err := c.Get(ctx, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 2*c.PerHost {
		t.Errorf("three requests to one host took %v, less than two intervals", d)
	}
}

// By default a page on a private address is not read — not directly, and
// not by a name that resolves to one.
func TestPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<p>internal</p>")) }))
	defer srv.Close()
	c := New(1<<20, false)
	c.PerHost = 0
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		if _, err := c.Get(context.Background(), u); !errors.Is(err, ErrPrivate) {
			t.Errorf("%s: %v, want %v", u, err, ErrPrivate)
		}
	}
	if _, err := New(1<<20, true).Get(context.Background(), srv.URL); err != nil {
		t.Errorf("allowed, %s: %v", srv.URL, err)
	}
}

func TestPrivate(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1": true, "10.1.2.3": true, "169.254.169.254": true, "100.64.0.1": true, "100.127.255.254": true,
		"64:ff9b::a00:1": true, "64:ff9b::808:808": false, "::1": true, "fd00::1": true, "8.8.8.8": false, "100.128.0.1": false, "2001:db8::1": false} {
		if got := Private(net.ParseIP(addr)); got != want {
			t.Errorf("Private(%s) = %v, want %v", addr, got, want)
		}
	}
}
