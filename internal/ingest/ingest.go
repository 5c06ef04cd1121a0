// Package ingest reads open-source reports — feeds, web pages, local files
// and watched directories — into the log: each page is read once, kept by
// its SHA-256, its article extracted, its claims, places and actors found,
// and a source.ingested entry submitted. The rules then place it in a
// story and mark it if it copies another.
//
// Each input fails alone: a page that is not HTML, empty, too large, badly
// encoded or behind too many redirects, or a feed that is not XML, is
// reported with its reason, leaves nothing stored, and the batch goes on.
package ingest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/actors"
	"github.com/truce-mvm/truce/internal/claims"
	"github.com/truce-mvm/truce/internal/extract"
	"github.com/truce-mvm/truce/internal/fetch"
	"github.com/truce-mvm/truce/internal/gazetteer"
	"github.com/truce-mvm/truce/internal/rules"
)

// Sink is where ingested sources go: a local instance or a server.
type Sink interface {
	// Known returns the source already ingested from a raw page.
	Known(ctx context.Context, sha256 string) (id string, ok bool, err error)
	// Latest returns the source last ingested from an address, or nil.
	Latest(ctx context.Context, url string) (*truce.Report, error)
	// PutPage keeps a raw page by its hash.
	PutPage(ctx context.Context, page []byte, mediaType, name string) error
	// Submit logs a source and says where the rules placed it (with its
	// text).
	Submit(ctx context.Context, b *truce.SourceIngestion) (*truce.Report, error)
	// Rules is the version of the rules in force: what an entry may say.
	Rules(ctx context.Context) (int, error)
}

// Statuses of a result.
const (
	Ingested  = "ingested"
	Revised   = "revised"   // read before and changed since: logged as revising the earlier reading
	Unchanged = "unchanged" // read before: nothing logged
	Failed    = "failed"
)

// Result is what became of one page.
type Result struct {
	Input  string        `json:"input"` // path, URL or feed item link
	Status string        `json:"status"`
	Source *truce.Report `json:"-"`
	ID     string        `json:"id,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// Ingester reads inputs into a sink.
type Ingester struct {
	Sink  Sink
	Fetch *fetch.Client
	// Outlet names the publisher of every input, overriding what pages say.
	Outlet string
	// Clock dates pages that carry no date of their own (when they were read).
	Clock func() time.Time
	// Progress, if set, is told of each result as it comes.
	Progress func(Result)
}

// page is one article to read, with what its container said of it.
type page struct {
	input     string
	body      []byte
	mediaType string
	url       *url.URL
	title     string
	outlet    string
	published time.Time
	err       error  // why a directory's file or a feed's item could not be read
	known     string // the source a feed's item was already read as
	lazy      bool   // a file whose body is read when its turn comes
}

// Run ingests every input: a URL (an article or a feed), a file (.html,
// .htm, .txt, or a feed: .xml, .rss, .atom) or a directory of them. Pages
// are all read first and then logged in order of publication, so that an
// original is logged before the copies made of it.
func (g *Ingester) Run(ctx context.Context, inputs []string) []Result {
	var out []Result
	report := func(r Result) {
		out = append(out, r)
		if g.Progress != nil {
			g.Progress(r)
		}
	}
	type ready struct {
		p *page
		b *truce.SourceIngestion
	}
	var batch []ready
	seen := map[string]string{} // the same page twice in one run
	flush := func() {
		slices.SortStableFunc(batch, func(x, y ready) int { return x.b.Published.Compare(y.b.Published) })
		for _, x := range batch {
			if ctx.Err() != nil {
				break
			}
			if id, ok := seen[x.b.SHA256]; ok {
				report(Result{Input: x.p.input, Status: Unchanged, ID: id})
				continue
			}
			r := g.store(ctx, x.p, x.b)
			seen[x.b.SHA256] = r.ID
			report(r)
		}
		batch = nil
	}
	// What an entry may say depends on the log's rules: asked once a run,
	// not once a page (a remote sink asks its server).
	version, err := g.Sink.Rules(ctx)
	if err != nil {
		for _, in := range inputs {
			report(Result{Input: in, Status: Failed, Error: err.Error()})
		}
		return out
	}
	events := rules.Events(version)
	for _, in := range inputs {
		pages, err := g.open(ctx, in)
		if err != nil {
			report(Result{Input: in, Status: Failed, Error: err.Error()})
		}
		for _, p := range pages {
			if ctx.Err() != nil {
				return out
			}
			b, known, err := g.read(ctx, p, events)
			switch {
			case err != nil:
				report(Result{Input: p.input, Status: Failed, Error: err.Error()})
			case known != "":
				report(Result{Input: p.input, Status: Unchanged, ID: known})
			default:
				batch = append(batch, ready{p, b})
			}
			if len(batch) == maxBatch {
				flush()
			}
		}
	}
	flush()
	return out
}

// maxBatch bounds the pages held at once (each up to extract.MaxPage);
// pages are put in order of publication within a batch.
const maxBatch = 100

// IsURL reports whether an input is a web address.
func IsURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// open turns an input into pages: itself, a feed's items, a directory's files.
func (g *Ingester) open(ctx context.Context, in string) ([]*page, error) {
	if IsURL(in) {
		p, err := g.get(ctx, in)
		if err != nil {
			return nil, err
		}
		if isFeed(p.body, p.mediaType) {
			return g.feed(ctx, p)
		}
		return []*page{p}, nil
	}
	st, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		p, err := readFile(in)
		if err != nil {
			return nil, err
		}
		if isFeed(p.body, p.mediaType) {
			return g.feed(ctx, p)
		}
		return []*page{p}, nil
	}
	files, err := Files(in)
	if err != nil {
		return nil, err
	}
	// A directory's pages are read one at a time, when their turn comes;
	// its feeds now, for their items.
	var out []*page
	for _, f := range files {
		if !slices.Contains(feedExts, strings.ToLower(filepath.Ext(f))) {
			out = append(out, &page{input: f, lazy: true})
			continue
		}
		sub, err := g.open(ctx, f)
		if err != nil {
			out = append(out, &page{input: f, err: err})
			continue
		}
		out = append(out, sub...)
	}
	return out, nil
}

// exts are the files a directory is read for; feedExts those that may be
// feeds.
var (
	exts     = []string{".html", ".htm", ".txt", ".xml", ".rss", ".atom"}
	feedExts = []string{".xml", ".rss", ".atom"}
)

// Files lists the files of a directory that ingestion reads, sorted;
// hidden files and subdirectories are left alone.
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type()&fs.ModeType == 0 && !strings.HasPrefix(e.Name(), ".") && slices.Contains(exts, strings.ToLower(filepath.Ext(e.Name()))) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

func readFile(path string) (*page, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > extract.MaxPage {
		return nil, extract.ErrTooBig
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	mt := mime.TypeByExtension(strings.ToLower(filepath.Ext(path)))
	mt, _, _ = mime.ParseMediaType(mt)
	return &page{input: path, body: b, mediaType: mt}, nil
}

func (g *Ingester) get(ctx context.Context, raw string) (*page, error) {
	if g.Fetch == nil {
		return nil, errors.New("this ingester reads no web pages")
	}
	p, err := g.Fetch.Get(ctx, raw)
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(p.ContentType)
	return &page{input: raw, body: p.Body, mediaType: mt, url: p.URL}, nil
}

// isFeed tells an RSS or Atom feed from a page.
func isFeed(b []byte, mediaType string) bool {
	switch mediaType {
	case "application/rss+xml", "application/atom+xml", "application/feed+json":
		return true
	case "text/html", "text/plain", "application/xhtml+xml":
		return false
	}
	head := bytes.ToLower(b[:min(len(b), 512)])
	return bytes.Contains(head, []byte("<rss")) || bytes.Contains(head, []byte("<feed")) || bytes.Contains(head, []byte("<rdf:rdf"))
}

// feed reads a feed's items: each item's page is fetched, but for an item
// without a link, and one of a local feed file that carries its whole
// content, which are taken from the feed itself.
func (g *Ingester) feed(ctx context.Context, p *page) ([]*page, error) {
	f, err := gofeed.NewParser().Parse(bytes.NewReader(p.body))
	if err != nil {
		return nil, fmt.Errorf("not a valid RSS or Atom feed: %v", err)
	}
	var out []*page
	for _, it := range f.Items {
		var item *page
		if IsURL(it.Link) && g.Fetch != nil && (p.url != nil || it.Content == "") {
			// An item read before is not fetched again unless the feed says
			// it was updated since: a feed read every few minutes would
			// otherwise fetch every page it lists each time.
			last, err := g.Sink.Latest(ctx, it.Link)
			if err != nil {
				return nil, err
			}
			if last != nil && (it.UpdatedParsed == nil || !it.UpdatedParsed.After(last.Ingested)) {
				out = append(out, &page{input: it.Link, known: last.ID})
				continue
			}
			item, err = g.get(ctx, it.Link)
			if err != nil {
				out = append(out, &page{input: it.Link, err: err})
				continue
			}
		} else {
			content := cmp.Or(it.Content, it.Description)
			item = &page{input: p.input + "#" + cmp.Or(it.GUID, it.Link, it.Title), body: []byte("<html><body><article>" + content + "</article></body></html>"), mediaType: "text/html"}
			if u, err := url.Parse(it.Link); err == nil && IsURL(it.Link) {
				item.url = u
			}
		}
		item.title, item.outlet = it.Title, f.Title
		if t := cmp.Or(it.PublishedParsed, it.UpdatedParsed); t != nil {
			item.published = t.UTC()
		}
		out = append(out, item)
	}
	return out, nil
}

// store keeps a page and logs its source.
func (g *Ingester) store(ctx context.Context, p *page, b *truce.SourceIngestion) Result {
	r := Result{Input: p.input, Status: Failed}
	if err := g.Sink.PutPage(ctx, p.body, b.MediaType, filepath.Base(p.input)); err != nil {
		r.Error = err.Error()
		return r
	}
	src, err := g.Sink.Submit(ctx, b)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Status, r.Source, r.ID = Ingested, src, src.ID
	if b.Revises != "" {
		r.Status = Revised
	}
	return r
}

// read builds a page's entry body, or says which source it already is.
// events says whether the log's rules read days named by their weekday
// alone and revisions (rules.Events), asked once a run.
func (g *Ingester) read(ctx context.Context, p *page, events bool) (b *truce.SourceIngestion, known string, err error) {
	if p.err != nil || p.known != "" {
		return nil, p.known, p.err
	}
	if p.lazy {
		f, err := readFile(p.input)
		if err != nil {
			return nil, "", err
		}
		*p = *f
	}
	sum := sha256.Sum256(p.body)
	sha := hex.EncodeToString(sum[:])
	if id, ok, err := g.Sink.Known(ctx, sha); err != nil || ok {
		return nil, id, err
	}
	body, hdr := p.body, header{}
	if p.mediaType == "text/plain" || p.mediaType == "" && !bytes.Contains(bytes.ToLower(body[:min(len(body), 1024)]), []byte("<")) {
		hdr, body = readHeader(body)
	}
	a, err := extract.Extract(body, p.mediaType, p.url)
	if err != nil {
		return nil, "", err
	}
	b = &truce.SourceIngestion{SHA256: sha, MediaType: cmp.Or(p.mediaType, "text/html"), Language: a.Language}
	b.Outlet = cmp.Or(g.Outlet, hdr.outlet, p.outlet, a.Site)
	if b.Outlet == "" && p.url != nil {
		b.Outlet = strings.TrimPrefix(p.url.Hostname(), "www.")
	}
	if b.Outlet == "" {
		return nil, "", errors.New("the page does not say who published it: give its outlet")
	}
	if p.url != nil {
		b.URL = p.url.String()
	} else if IsURL(hdr.url) {
		b.URL = hdr.url
	}
	b.Text = sanitize(a.Body)
	b.Title = clip(sanitize(cmp.Or(hdr.title, a.Title, p.title, firstLine(b.Text))), 500)
	b.Published = a.Published
	if b.Published.IsZero() {
		b.Published = hdr.published
	}
	if b.Published.IsZero() {
		b.Published = p.published
	}
	dated := !b.Published.IsZero() // a page without a date is dated when read: no date of its own to correct
	if !dated && g.Clock != nil {
		b.Published = g.Clock().UTC()
	}
	fit(b, events)
	// A page read again whose article has not changed — only its
	// advertisements, say — is not a new source; one whose text, title or
	// date has (a corrected date too) revises the earlier reading.
	if b.URL != "" {
		last, err := g.Sink.Latest(ctx, b.URL)
		if err != nil {
			return nil, "", err
		}
		same := last != nil && last.TextSHA256 == rules.TextHash(b.Text) && last.Title == b.Title
		if same && (!events || !dated || last.Published.Equal(b.Published)) {
			return nil, last.ID, nil
		}
		if last != nil && events && last.RevisedBy == "" { // before version 6, a new source of its own
			b.Revises = last.ID
		}
	}
	return b, "", nil
}

// ReadHeader reads a text file's header (see header): what it says, and
// the text after it — all of b if it has none.
func ReadHeader(b []byte) (title, outlet string, published time.Time, rest []byte) {
	h, rest := readHeader(b)
	return h.title, h.outlet, h.published, rest
}

// fit reads the text's claims, places and actors, clipping the text (and
// saying so) until the body fits an entry: a long article keeps its
// beginning, where news puts what matters; its claims are dropped from the
// last only if quoting them is what overflows. Days named by their weekday
// alone are claims only under rules that read them (events).
func fit(b *truce.SourceIngestion, events bool) {
	full := b.Text
	for limit := min(len(full), 2*rules.MaxSourceBody); ; limit = limit * 4 / 5 {
		b.Text = clip(full, utf8.RuneCountInString(full[:limit]))
		b.Truncated = len(b.Text) < len(full)
		// A "sentence" longer than a reader can check a claim against is
		// a list or broken text, and each of its claims would quote all of it.
		b.Claims = slices.DeleteFunc(claims.Extract(b.Text, b.Published), func(c truce.Claim) bool {
			return len(c.Sentence) > maxQuote || !events && c.Kind == truce.ClaimDay
		})
		b.Places = gazetteer.Find(b.Text)
		b.Actors = actors.Find(b.Text)
		if size(b) > rules.MaxSourceBody {
			// The most claims that fit, found by halving: each try
			// measures the whole body once.
			all := b.Claims
			n := sort.Search(len(all)+1, func(n int) bool { b.Claims = all[:n]; return size(b) > rules.MaxSourceBody }) - 1
			b.Claims = all[:max(n, 0)]
		}
		if size(b) <= rules.MaxSourceBody || limit < 1000 {
			return
		}
	}
}

// maxQuote is the longest sentence a claim may quote, in bytes.
const maxQuote = 2000

func size(b *truce.SourceIngestion) int {
	raw, _ := json.Marshal(b)
	return len(raw)
}

// header is the optional block of "Name: value" lines a text file may
// start with (Title, Outlet, Published, URL), ended by a blank line.
type header struct {
	title, outlet, url string
	published          time.Time
}

func readHeader(b []byte) (header, []byte) {
	var h header
	rest := b
	for n := 0; n < 8; n++ {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		l := strings.TrimSpace(string(line))
		if l == "" {
			if n > 0 {
				return h, after
			}
			return header{}, b
		}
		name, value, ok := strings.Cut(l, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "title":
			h.title = value
		case "outlet", "source", "publisher":
			h.outlet = value
		case "url":
			h.url = value
		case "published", "date":
			for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
				if t, err := time.Parse(layout, value); err == nil {
					h.published = t.UTC()
					break
				}
			}
		default:
			ok = false
		}
		if !ok || !found {
			return header{}, b
		}
		rest = after
	}
	return header{}, b
}

// sanitize keeps text the rules accept: no control characters but line
// breaks and tabs.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// clip cuts s to at most n runes, at a paragraph or word break if it must.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndex(cut, "\n\n"); i > len(cut)/2 {
		return cut[:i]
	}
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		return cut[:i]
	}
	return cut
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}
