package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
	c := New(1 << 20)
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
