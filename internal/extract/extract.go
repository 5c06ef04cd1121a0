// Package extract turns a fetched page into an article: title, publication
// time and body text. The body comes from readability (readeck's port of
// Mozilla's Readability.js) and, where the publisher states it, from the
// page's JSON-LD articleBody; then what readability leaves in is taken out:
// boilerplate trailers ("You might also like", "Leave a Reply", ...) and
// paragraphs repeated on the page. Pages in encodings other than UTF-8 are
// decoded first.
package extract

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// Article is what a page says.
type Article struct {
	Title     string
	Published time.Time // zero if the page does not say
	Site      string
	Language  string
	Body      string // paragraphs separated by blank lines
}

// Paragraphs splits the body into its paragraphs.
func (a *Article) Paragraphs() []string {
	if a.Body == "" {
		return nil
	}
	return strings.Split(a.Body, "\n\n")
}

// minText is the least text, in letters and digits, an article has: less
// is a page of links, or nothing.
const minText = 40

// MaxPage is the largest page Extract reads.
const MaxPage = 16 << 20

// Errors for pages that hold no article.
var (
	ErrNotHTML = errors.New("not an HTML or text page")
	ErrEmpty   = errors.New("the page holds no article text")
	ErrTooBig  = fmt.Errorf("the page is over %d bytes", MaxPage)
	ErrBroken  = errors.New("the page's text is not valid in its encoding")
)

// Extract reads an article from a page. contentType is the page's
// Content-Type ("" to sniff); pageURL, if known, resolves relative links.
func Extract(page []byte, contentType string, pageURL *url.URL) (*Article, error) {
	if len(page) > MaxPage {
		return nil, ErrTooBig
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "" {
		mt = sniff(page)
	}
	utf8, err := toUTF8(page, contentType)
	if err != nil {
		return nil, err
	}
	if broken(utf8) {
		return nil, ErrBroken
	}
	switch mt {
	case "text/plain":
		a := &Article{Body: clean(paragraphs(string(utf8)))}
		if len(normalise(a.Body)) < minText {
			return nil, ErrEmpty
		}
		return a, nil
	case "text/html", "application/xhtml+xml":
	default:
		return nil, fmt.Errorf("%w: %s", ErrNotHTML, mt)
	}
	doc, err := html.Parse(bytes.NewReader(utf8))
	if err != nil {
		return nil, err
	}
	ld := jsonLD(doc)
	dropCaptions(doc)
	a := &Article{Title: ld.Headline}
	if t, err := parseTime(ld.DatePublished); err == nil {
		a.Published = t
	}
	ra, err := readability.FromDocument(doc, pageURL)
	var text string
	if err == nil && ra.Node != nil {
		var b strings.Builder
		if ra.RenderText(&b) == nil {
			text = b.String()
		}
		if a.Title == "" {
			a.Title = ra.Title()
		}
		if a.Published.IsZero() {
			if t, err := ra.PublishedTime(); err == nil {
				a.Published = t.UTC()
			}
		}
		a.Site, a.Language = ra.SiteName(), ra.Language()
	}
	// Where pages say who published them: og:site_name (readability's
	// site name), JSON-LD's publisher, the <title>'s suffix.
	a.Site = cmp.Or(strings.TrimSpace(a.Site), ld.publisher(), titleSite(doc))
	body := paragraphs(text)
	// The publisher's own body wins when it is not a mere summary of what
	// readability found.
	if ldBody := paragraphs(html.UnescapeString(ld.ArticleBody)); words(ldBody) >= 50 && words(ldBody)*2 >= words(body) {
		body = ldBody
	}
	a.Title = strings.TrimSpace(a.Title)
	if a.Body = clean(body); len(normalise(a.Body)) < minText {
		return nil, ErrEmpty
	}
	return a, nil
}

// sniff tells HTML from text for pages that come without a type.
func sniff(page []byte) string {
	head := bytes.ToLower(page[:min(len(page), 1024)])
	if bytes.Contains(head, []byte("<html")) || bytes.Contains(head, []byte("<!doctype html")) || bytes.Contains(head, []byte("<body")) || bytes.Contains(head, []byte("<p")) {
		return "text/html"
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return "application/octet-stream"
	}
	return "text/plain"
}

// broken reports a page whose decoded text is more than 5% replacement
// characters: bytes its encoding could not give a meaning to.
func broken(b []byte) bool {
	bad := bytes.Count(b, []byte("\uFFFD"))
	return bad > 20 && bad*20 > utf8.RuneCount(b)
}

// toUTF8 decodes a page by its declared or detected encoding.
func toUTF8(page []byte, contentType string) ([]byte, error) {
	enc, name, _ := charset.DetermineEncoding(page, contentType)
	if name == "utf-8" {
		return bytes.ToValidUTF8(page, []byte("\uFFFD")), nil
	}
	out, err := io.ReadAll(enc.NewDecoder().Reader(bytes.NewReader(page)))
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", name, err)
	}
	return out, nil
}

// ldArticle is what JSON-LD says of an article.
type ldArticle struct {
	Headline      string          `json:"headline"`
	ArticleBody   string          `json:"articleBody"`
	DatePublished string          `json:"datePublished"`
	Publisher     json.RawMessage `json:"publisher"` // {"name": …}, a list of them, or a name
}

// publisher is the name of the article's publisher, as JSON-LD gives it.
func (a ldArticle) publisher() string {
	var one struct {
		Name string `json:"name"`
	}
	var name string
	var many []struct {
		Name string `json:"name"`
	}
	switch {
	case json.Unmarshal(a.Publisher, &one) == nil && one.Name != "":
		return strings.TrimSpace(one.Name)
	case json.Unmarshal(a.Publisher, &many) == nil && len(many) > 0:
		return strings.TrimSpace(many[0].Name)
	case json.Unmarshal(a.Publisher, &name) == nil:
		return strings.TrimSpace(name)
	}
	return ""
}

// titleSite is the outlet a page's <title> names after its headline:
// "Headline | Outlet", "Headline - Outlet", "Headline — Outlet".
func titleSite(doc *html.Node) string {
	var title string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if title != "" {
			return
		}
		if n.Type == html.ElementNode && n.Data == "title" && n.FirstChild != nil {
			title = n.FirstChild.Data
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, sep := range []string{" | ", " — ", " – ", " - ", " :: "} {
		if i := strings.LastIndex(title, sep); i > 0 {
			site := strings.TrimSpace(title[i+len(sep):])
			if n := len(strings.Fields(site)); n >= 1 && n <= 5 {
				return site
			}
		}
	}
	return ""
}

var articleTypes = map[string]bool{"Article": true, "NewsArticle": true, "BlogPosting": true, "ReportageNewsArticle": true,
	"AnalysisNewsArticle": true, "OpinionNewsArticle": true, "BackgroundNewsArticle": true, "WebPage": false}

// jsonLD finds the article the page's JSON-LD describes: an object, a list
// or an @graph, whose @type is an article type.
func jsonLD(doc *html.Node) ldArticle {
	var best ldArticle
	found := false
	var visit func(v any)
	visit = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				visit(e)
			}
		case map[string]any:
			if g, ok := v["@graph"]; ok {
				visit(g)
			}
			if isArticle(v["@type"]) {
				var a ldArticle
				b, _ := json.Marshal(v)
				json.Unmarshal(b, &a)
				if !found || len(a.ArticleBody) > len(best.ArticleBody) {
					best, found = a, true
				}
			}
		}
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" && attr(n, "type") == "application/ld+json" && n.FirstChild != nil {
			var v any
			if json.Unmarshal([]byte(n.FirstChild.Data), &v) == nil {
				visit(v)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return best
}

func isArticle(t any) bool {
	switch t := t.(type) {
	case string:
		return articleTypes[t]
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok && articleTypes[s] {
				return true
			}
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return strings.TrimSpace(strings.ToLower(a.Val))
		}
	}
	return ""
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("no time")
}

// paragraphs splits text into trimmed, non-empty paragraphs.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func words(ps []string) int {
	n := 0
	for _, p := range ps {
		n += len(strings.Fields(p))
	}
	return n
}

// trailers begin the boilerplate that follows articles: from the first of
// them in the article's last part, the rest is dropped.
var trailers = regexp.MustCompile(`(?i)^(©|copyright\b|all rights reserved|the contents of this site|tags:?$|you (might|may) also like|leave a (reply|comment)|your email address will not be published|related (articles|stories|posts|news)|read (more|next)|more (from|stories)|share this( article| story)?:?$|sign up for|subscribe to (our|the)|follow us on|recommended for you|also read|advertisement$|comments$|\d+ comments?$)`)

// inline are lines that point elsewhere in the middle of an article
// ("SEE MORE: ...", "Related: ..."), and leading are the byline and
// dateline lines above it.
var (
	inline  = regexp.MustCompile(`(?i)^(see (more|also)|related|read (more|also)|also read|watch|image \d+ of \d+)\b`)
	leading = regexp.MustCompile(`(?i)^(by |published|updated|posted|last updated)`)
)

// clean drops boilerplate: trailers and what follows them, menus (runs of
// short lines), lines repeated across the page, bylines and datelines at
// the top, and repeated paragraphs.
func clean(ps []string) string {
	cut := len(ps)
	for i := len(ps) / 2; i < len(ps); i++ {
		if trailers.MatchString(ps[i]) {
			cut = i
			break
		}
	}
	ps = ps[:cut]
	count := map[string]int{}
	for _, p := range ps {
		count[normalise(p)]++
	}
	drop := make([]bool, len(ps))
	for i := 0; i < len(ps); {
		j := i
		for j < len(ps) && menuLike(ps[j]) {
			j++
		}
		if j-i >= 3 {
			for k := i; k < j; k++ {
				drop[k] = true
			}
		}
		i = max(j, i+1)
	}
	seen := map[string]bool{}
	var out []string
	for i, p := range ps {
		key := normalise(p)
		switch {
		case drop[i], count[key] >= 3, inline.MatchString(p) && len(strings.Fields(p)) < 25,
			i < 3 && leading.MatchString(p) && len(strings.Fields(p)) <= 20,
			len(key) > 40 && seen[key]: // short lines (subheads) may repeat once
			continue
		}
		seen[key] = true
		out = append(out, p)
	}
	return strings.Join(out, "\n\n")
}

// menuLike is a line of a menu or a list of links: a few words without
// sentence punctuation.
func menuLike(p string) bool {
	return utf8.RuneCountInString(p) <= 40 && len(strings.Fields(p)) <= 4 && !strings.ContainsAny(p, ".!?:;\"“”。！？、")
}

// dropCaptions removes figure captions and photo credits, which belong to
// the images, not the article's text.
func dropCaptions(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			cls := attr(c, "class") + " " + attr(c, "id")
			if c.Data == "figcaption" || strings.Contains(cls, "caption") || strings.Contains(cls, "credit") {
				n.RemoveChild(c)
				c = next
				continue
			}
			dropCaptions(c)
		}
		c = next
	}
}

// normalise keeps letters and digits, lower-cased: two paragraphs that
// differ only in spacing or punctuation are the same paragraph.
func normalise(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}
