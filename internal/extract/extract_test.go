package extract

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtract(t *testing.T) {
	a, err := Extract(read(t, "khyber-courier.html"), "text/html", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Talks in Doha end with a ceasefire framework" {
		t.Errorf("title %q", a.Title)
	}
	if want := time.Date(2026, 10, 19, 3, 30, 0, 0, time.UTC); !a.Published.Equal(want) {
		t.Errorf("published %s, want %s", a.Published, want)
	}
	body := a.Body
	for _, gone := range []string{"You might also like", "Cricket", "Leave a Reply", "email address", "Photo: Courier", "All rights reserved", "Sign in"} {
		if strings.Contains(body, gone) {
			t.Errorf("the body keeps %q", gone)
		}
	}
	if n := strings.Count(body, "ran from 15 to 18 October"); n != 1 {
		t.Errorf("the repeated paragraph appears %d times", n)
	}
	for _, kept := range []string{"four days of talks in Doha", "a first step", "circulate the text"} {
		if !strings.Contains(body, kept) {
			t.Errorf("the body lost %q", kept)
		}
	}
	if len(a.Paragraphs()) != 4 {
		t.Errorf("%d paragraphs: %q", len(a.Paragraphs()), a.Paragraphs())
	}
}

// Pages in other encodings are decoded, as declared or detected.
func TestEncodings(t *testing.T) {
	a, err := Extract(read(t, "latin1.html"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Body, "The café on the corner") || strings.ContainsRune(a.Body, '\uFFFD') {
		t.Fatalf("windows-1252 page decoded as %q", a.Body[:60])
	}
	a, err = Extract([]byte("First paragraph of a statement, long enough to count as text.\n\nSecond paragraph of it."), "text/plain; charset=utf-8", nil)
	if err != nil || len(a.Paragraphs()) != 2 {
		t.Fatalf("text page = %v %v", a, err)
	}
}

// Bad input is refused with a clear error.
func TestBadPages(t *testing.T) {
	var zipped bytes.Buffer
	z := gzip.NewWriter(&zipped)
	z.Write(bytes.Repeat([]byte{0}, 1<<16))
	z.Close()
	for name, c := range map[string]struct {
		page []byte
		ct   string
		want error
	}{
		"binary":     {[]byte("\x00\x01\x02PK\x03\x04 binary"), "", ErrNotHTML},
		"an image":   {[]byte("GIF89a"), "image/gif", ErrNotHTML},
		"gzip bytes": {zipped.Bytes(), "application/gzip", ErrNotHTML},
		"empty page": {[]byte("<html><body><nav><a href=/>Home</a></nav></body></html>"), "text/html", ErrEmpty},
		"empty text": {[]byte("   \n  "), "text/plain", ErrEmpty},
		"too big":    {make([]byte, MaxPage+1), "text/html", ErrTooBig},
	} {
		if _, err := Extract(c.page, c.ct, nil); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestScore(t *testing.T) {
	text := "one two three four five six seven"
	if p, r, pOK, rOK := Score(text, text); p != 1 || r != 1 || !pOK || !rOK {
		t.Errorf("identical = %v %v", p, r)
	}
	if p, r, _, _ := Score(text, "eight nine ten eleven twelve"); p != 0 || r != 0 {
		t.Errorf("disjoint = %v %v", p, r)
	}
	if p, r, pOK, rOK := Score("", ""); p != 1 || r != 1 || !pOK || !rOK {
		t.Errorf("both empty = %v %v", p, r)
	}
	// Half the expected 4-grams, nothing extra.
	if p, r, _, _ := Score("a b c d e f g h", "a b c d e"); p != 1 || r != 0.4 {
		t.Errorf("a prefix = %v %v", p, r)
	}
	if _, _, pOK, rOK := Score("a b c d", ""); pOK || !rOK {
		t.Error("nothing extracted leaves precision undefined and recall 0")
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(read(f, "khyber-courier.html"), "text/html")
	f.Add(read(f, "latin1.html"), "")
	f.Add([]byte(`<script type="application/ld+json">[{"@graph":[{"@type":["NewsArticle"],"articleBody":"x"}]}]</script>`), "text/html; charset=iso-8859-6")
	f.Fuzz(func(t *testing.T, page []byte, ct string) {
		a, err := Extract(page, ct, nil)
		if err == nil && strings.TrimSpace(a.Body) == "" {
			t.Fatal("an article without a body")
		}
	})
}

// Who published a page is read where pages say it: og:site_name, JSON-LD's
// publisher, or the <title> after the headline.
func TestSite(t *testing.T) {
	var paras strings.Builder
	for i := range 8 {
		fmt.Fprintf(&paras, "<p>Paragraph %d: negotiators met again on Sunday to settle how the truce will be monitored along the frontier, and who will sit on the joint body that hears complaints from both sides, officials said.</p>", i+1)
	}
	body := "<article>" + paras.String() + "</article>"
	for _, c := range []struct{ head, want string }{
		{`<meta property="og:site_name" content="Gulf Ledger">`, "Gulf Ledger"},
		{`<script type="application/ld+json">{"@type":"NewsArticle","headline":"Talks","publisher":{"@type":"Organization","name":"Steppe Herald"}}</script>`, "Steppe Herald"},
		{`<script type="application/ld+json">{"@graph":[{"@type":"NewsArticle","headline":"Talks","publisher":[{"name":"Kabul Ledger"}]}]}</script>`, "Kabul Ledger"},
		{`<title>Talks resume on truce monitoring | Khyber Courier</title>`, "Khyber Courier"},
		{`<title>Talks resume on truce monitoring - Border Mirror</title>`, "Border Mirror"},
		{`<title>Talks resume on truce monitoring</title>`, ""},
	} {
		a, err := Extract([]byte("<html><head>"+c.head+"</head><body>"+body+"</body></html>"), "text/html", nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.Site != c.want {
			t.Errorf("%s: site %q, want %q", c.head, a.Site, c.want)
		}
	}
}
