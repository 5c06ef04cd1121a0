package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/extract"
	"github.com/truce-mvm/truce/internal/fetch"
	"github.com/truce-mvm/truce/internal/ingest"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
)

// sources are the exercise's articles: fictional outlets on the Istanbul
// round and the Doha round before it, and the two sides' statements on the
// round in Urdu and Dari.
var sources = filepath.Join("..", "demo", "sources")

// newIngester returns an ingester into a fresh test instance whose clock
// stands after the fixtures were published.
func newIngester(t *testing.T) (*ingest.Ingester, *testkit.Env) {
	env := testkit.New(t, instance.Options{})
	env.Clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	// The deadlines passed on the way are ticked now, not amid the test.
	if err := env.In.Seq.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink, err := ingest.NewLocal(env.In, env.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	f := fetch.New(extract.MaxPage, true) // the test servers are on loopback
	f.PerHost = 0
	return &ingest.Ingester{Sink: sink, Fetch: f, Clock: env.Clock.Now}, env
}

// The test: a handful of articles about the same talks from
// different outlets — two of them official statements in Urdu and Dari —
// make one story; copies are marked as copies; each planted disagreement
// is flagged once, with both quotes; a report about the earlier Doha round
// stays out of it.
func TestTalks(t *testing.T) {
	g, env := newIngester(t)
	ctx := context.Background()
	rs := g.Run(ctx, []string{sources})
	by := map[string]*truce.Report{}
	for _, r := range rs {
		if r.Status != ingest.Ingested {
			t.Fatalf("%s: %s %s", r.Input, r.Status, r.Error)
		}
		by[strings.TrimSuffix(filepath.Base(r.Input), ".html")] = r.Source
	}
	if len(by) != 8 {
		t.Fatalf("%d sources ingested", len(by))
	}
	// The Urdu and Dari statements join the English reports of the round.
	story := by["khyber-courier"].Story
	for _, name := range []string{"border-mirror", "kabul-ledger", "gulf-wire", "frontier-daily", "ispr-statement-ur", "mod-statement-prs"} {
		if by[name].Story != story {
			t.Errorf("%s is in %s, the Istanbul round is %s", name, by[name].Story, story)
		}
	}
	if by["spin-ghar-doha-recap"].Story == story {
		t.Error("the Doha round's report joined the Istanbul round's story")
	}
	if m := by["border-mirror"]; m.CopyOf != by["khyber-courier"].ID || !m.Exact {
		t.Errorf("the mirror is not an exact copy of the courier: copy of %q, exact %v", m.CopyOf, m.Exact)
	}
	if f := by["frontier-daily"]; f.CopyOf != by["gulf-wire"].ID || f.Exact {
		t.Errorf("the syndicated wire story is not a near copy: copy of %q, exact %v", f.CopyOf, f.Exact)
	}
	for _, name := range []string{"khyber-courier", "kabul-ledger", "gulf-wire", "spin-ghar-doha-recap", "ispr-statement-ur", "mod-statement-prs"} {
		if by[name].CopyOf != "" {
			t.Errorf("%s, an original, is marked a copy of %s", name, by[name].CopyOf)
		}
	}
	// Boilerplate gone, the repeated paragraph once.
	courier := by["khyber-courier"].Text
	for _, junk := range []string{"You might also like", "Leave a Reply", "Your email address", "All rights reserved", "Home"} {
		if strings.Contains(courier, junk) {
			t.Errorf("the courier's text keeps %q", junk)
		}
	}
	if n := strings.Count(courier, "The round followed a week of heavy fighting"); n != 1 {
		t.Errorf("the repeated paragraph appears %d times", n)
	}
	if by["kabul-ledger"].Published != time.Date(2026, 10, 31, 4, 45, 0, 0, time.UTC) {
		t.Errorf("the ledger's JSON-LD date was read as %v", by["kabul-ledger"].Published)
	}

	var st truce.Story
	if rec, err := env.In.Store.Record(ctx, rules.TypeStory, story); err != nil {
		t.Fatal(err)
	} else {
		json.Unmarshal(rec.Doc, &st)
	}
	if st.Independent != 5 {
		t.Errorf("%d independent outlets, want 5 (the copies do not count)", st.Independent)
	}
	count := map[string]int{}
	for _, d := range st.Discrepancies {
		count[d.Kind]++
		t.Logf("%s %s: %q / %+v", d.Kind, d.Subject, d.A.Sentence, d.B)
		switch d.Kind {
		case truce.DurationVsRange:
			if !strings.Contains(d.A.Sentence, "four-day") || d.B == nil || !strings.Contains(d.B.Sentence, "25 to 30 October") {
				t.Errorf("the duration discrepancy without both quotes: %+v", d)
			}
		case truce.WeekdayMismatch:
			if !strings.Contains(d.A.Sentence, "Saturday, 30 October") {
				t.Errorf("weekday discrepancy: %+v", d)
			}
		case truce.ClaimantsDisagree:
			// 58 from Kabul against ISPR's 23, in English or in Urdu.
			quotes := d.A.Sentence + " | " + d.B.Sentence
			if !strings.Contains(quotes, "23 Pakistani soldiers") && !strings.Contains(quotes, "23 پاکستانی فوجی") ||
				!strings.Contains(quotes, "58 Pakistani soldiers") || d.A.Outlet == d.B.Outlet {
				t.Errorf("the casualty discrepancy without both quotes: %+v", d)
			}
		}
	}
	want := map[string]int{truce.DurationVsRange: 1, truce.WeekdayMismatch: 1, truce.ClaimantsDisagree: 1}
	if len(count) != len(want) || count[truce.DurationVsRange] != 1 || count[truce.WeekdayMismatch] != 1 || count[truce.ClaimantsDisagree] != 1 {
		t.Errorf("discrepancies %v, want each planted one once: %v", count, want)
	}
	// Three outlets give the same dates independently: confirmed.
	for _, c := range st.Claims {
		if c.Subject == "dates" && c.Says == "25 October to 30 October 2026" && (c.Credibility != 1 || len(c.Outlets) != 3) {
			t.Errorf("the dates three outlets agree on: %+v", c)
		}
		// 23 dead: the courier and the military's own statement (in Urdu);
		// 58: the ledger and the Afghan ministry's (in Dari). Each is one
		// party's figure, disputed by the other's: neither is confirmed by
		// the outlets that repeat it.
		if c.Subject == "PK killed" && (c.Grade != truce.FigureDisputed || c.Credibility < 5 || len(c.Outlets) != 2 || len(c.Against) != 2) {
			t.Errorf("a contested casualty figure: %+v", c)
		}
	}

	// Ingesting the same pages again logs nothing.
	size := env.Size()
	for _, r := range g.Run(ctx, []string{sources}) {
		if r.Status != ingest.Unchanged {
			t.Errorf("%s re-ingested: %s", r.Input, r.Status)
		}
	}
	if env.Size() != size {
		t.Errorf("re-ingesting grew the log from %d to %d", size, env.Size())
	}
}

// Each bad input fails alone with its reason, leaves nothing stored — no
// entry, no page — and the rest of the batch is ingested.
func TestBadInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(sources, "gulf-wire.html"))
	if err != nil {
		t.Fatal(err)
	}
	var bomb bytes.Buffer
	z := gzip.NewWriter(&bomb)
	z.Write(bytes.Repeat([]byte("<p>a</p>"), extract.MaxPage/4))
	z.Close()
	broken := append([]byte(`<html><head><meta charset="utf-8"></head><body><article><p>`), bytes.Repeat([]byte{0xff, 0xfe, 'a', ' '}, 2000)...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(good)
		case "/report.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			w.Write([]byte("%PDF-1.7 ..."))
		case "/empty":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body><nav>Home</nav></body></html>"))
		case "/huge":
			w.Header().Set("Content-Type", "text/html")
			w.Write(bytes.Repeat([]byte("<p>x</p>"), extract.MaxPage/8+1))
		case "/bomb":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "text/html")
			w.Write(bomb.Bytes())
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/broken":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(broken)
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><item><title>A</title><link>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	g, env := newIngester(t)
	size := env.Size()
	inputs := map[string]string{ // input → words its error must say
		"/report.pdf": "not an HTML", "/empty": "no article text", "/huge": "larger than the limit", "/bomb": "larger than the limit",
		"/loop": "redirects", "/broken": "not valid in its encoding", "/feed.xml": "not a valid RSS or Atom feed", "/missing": "404",
	}
	var urls []string
	for path := range inputs {
		urls = append(urls, srv.URL+path)
	}
	slices.Sort(urls)
	urls = append(urls, srv.URL+"/good")
	rs := g.Run(context.Background(), urls)
	ingested := 0
	for _, r := range rs {
		path := strings.TrimPrefix(r.Input, srv.URL)
		switch {
		case path == "/good":
			if r.Status != ingest.Ingested {
				t.Errorf("the good page after the bad ones: %s %s", r.Status, r.Error)
			}
			ingested++
		case r.Status != ingest.Failed || !strings.Contains(r.Error, inputs[path]):
			t.Errorf("%s: %s %q, want a failure saying %q", path, r.Status, r.Error, inputs[path])
		}
	}
	if len(rs) != len(urls) {
		t.Errorf("%d results for %d inputs", len(rs), len(urls))
	}
	if env.Size() != size+1 {
		t.Errorf("the log grew by %d entries, want 1", env.Size()-size)
	}
	files := 0
	filepath.WalkDir(filepath.Join(env.Dir, instance.BlobDir), func(_ string, d fs.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files != ingested {
		t.Errorf("%d pages kept for %d ingested", files, ingested)
	}
}

// A feed's items are fetched and ingested; an item whose page fails fails
// alone. A text file may carry its title, outlet and date in a header.
func TestFeedAndText(t *testing.T) {
	var srv *httptest.Server
	fetched := 0
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/atom":
			w.Header().Set("Content-Type", "application/atom+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Kabul Ledger</title>
<entry><title>Monitors agreed</title><link href="%s/ledger"/><updated>2026-11-03T00:00:00Z</updated></entry></feed>`, srv.URL)
		case "/feed":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Kabul Ledger</title>
<item><title>Monitors agreed</title><link>%[1]s/ledger</link><pubDate>Sat, 31 Oct 2026 05:00:00 GMT</pubDate></item>
<item><title>Gone</title><link>%[1]s/gone</link></item></channel></rss>`, srv.URL)
		case "/ledger":
			fetched++
			b, _ := os.ReadFile(filepath.Join(sources, "kabul-ledger.html"))
			w.Header().Set("Content-Type", "text/html")
			w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	statement := "Title: Statement on the Istanbul talks\nOutlet: Inter-Services Public Relations\nPublished: 2026-10-30T19:00:00+05:00\n\n" +
		"[FICTIONAL EXERCISE] Pakistan welcomes the agreement reached in Istanbul on a joint mechanism to monitor the ceasefire. " +
		"The armed forces will continue to respond to any attack from across the border. 23 soldiers were killed in the clashes in Kurram, the statement said.\n"
	os.WriteFile(filepath.Join(dir, "ispr.txt"), []byte(statement), 0o644)
	urdu := `<!DOCTYPE html><html lang="ur" dir="rtl"><head><meta charset="utf-8"><title>استنبول مذاکرات</title>
<meta property="og:site_name" content="سرحد نیوز"><meta property="article:published_time" content="2026-10-31T08:00:00+05:00"></head>
<body><nav><a href="/">صفحہ اول</a></nav><article><h1>استنبول مذاکرات ختم</h1>
<p>[فرضی مشق] پاکستان اور افغانستان کے وفود نے استنبول میں مذاکرات کے بعد جنگ بندی کی نگرانی کے ایک مشترکہ نظام پر اتفاق کیا۔ مذاکرات میں قطر اور ترکی نے ثالثی کی۔</p>
<p>آئی ایس پی آر کے مطابق مذاکرات سے پہلے کی جھڑپوں میں ۲۳ پاکستانی فوجی شہید ہوئے۔ سرحدی علاقوں کے رہائشیوں نے معاہدے کا خیرمقدم کیا اور کہا کہ وہ دیکھیں گے کہ گولہ باری رکتی ہے یا نہیں۔</p>
</article></body></html>`
	os.WriteFile(filepath.Join(dir, "sarhad.html"), []byte(urdu), 0o644)
	g, _ := newIngester(t)
	rs := g.Run(context.Background(), []string{srv.URL + "/feed", dir})
	by := map[string]ingest.Result{}
	for _, r := range rs {
		by[filepath.Base(r.Input)] = r
	}
	if r := by["ledger"]; r.Status != ingest.Ingested || r.Source.Outlet != "Kabul Ledger" {
		t.Errorf("the feed's item: %+v", r)
	}
	if r := by["gone"]; r.Status != ingest.Failed || !strings.Contains(r.Error, "404") {
		t.Errorf("the feed's missing item: %+v", r)
	}
	s := by["ispr.txt"].Source
	if s == nil || s.Title != "Statement on the Istanbul talks" || s.Outlet != "Inter-Services Public Relations" ||
		!s.Published.Equal(time.Date(2026, 10, 30, 14, 0, 0, 0, time.UTC)) || strings.Contains(s.Text, "Outlet:") {
		t.Fatalf("the statement: %+v", by["ispr.txt"])
	}
	if len(s.Claims) == 0 || len(s.Places) == 0 || len(s.Actors) == 0 {
		t.Errorf("the statement's claims %v, places %v, actors %v", s.Claims, s.Places, s.Actors)
	}
	// An Urdu page: its article, its claims and actors read in Urdu.
	u := by["sarhad.html"].Source
	if u == nil || u.Outlet != "سرحد نیوز" || u.Language != "ur" || len(u.Claims) != 1 || u.Claims[0].Count != 23 || u.Claims[0].Side != "PK" ||
		u.Claims[0].Claimant != "آئی ایس پی آر" || len(u.Actors) < 3 || strings.Contains(u.Text, "صفحہ اول") {
		t.Errorf("the Urdu page: %+v", by["sarhad.html"])
	}
	// The feed read again: the item read before is not fetched again...
	if r := g.Run(context.Background(), []string{srv.URL + "/feed"})[0]; r.Status != ingest.Unchanged || fetched != 1 {
		t.Errorf("the feed read again: %+v, the page fetched %d times", r, fetched)
	}
	// ...unless a feed says it was updated since.
	if r := g.Run(context.Background(), []string{srv.URL + "/atom"})[0]; r.Status != ingest.Unchanged || fetched != 2 {
		t.Errorf("an item updated since: %+v, the page fetched %d times", r, fetched)
	}
}

func FuzzHeader(f *testing.F) {
	f.Add("Title: x\nOutlet: y\nPublished: 2026-10-30\n\nbody")
	f.Add("no header\n\nbody")
	f.Fuzz(func(t *testing.T, s string) {
		title, outlet, published, rest := ingest.ReadHeader([]byte(s))
		if len(rest) > len(s) || (title != "" || outlet != "" || !published.IsZero()) && len(rest) == len(s) {
			t.Fatalf("header %q %q %v, rest %d of %d bytes", title, outlet, published, len(rest), len(s))
		}
	})
}

// A page read again with only its surroundings changed (an advertisement,
// a counter) is the same source; a changed article is a new one, a copy of
// its earlier version, not an independent report.
func TestPageReadAgain(t *testing.T) {
	page, _ := os.ReadFile(filepath.Join(sources, "gulf-wire.html"))
	n, revised, redated := 0, false, false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		body := strings.Replace(string(page), "Sign up for our newsletter", fmt.Sprintf("Sign up for our newsletter (offer %d)", n), 1)
		if revised {
			body = strings.Replace(body, "A further round of talks is expected", "Updated: a further round is expected", 1)
		}
		if redated {
			body = strings.Replace(body, "2026-10-30T16:00:00Z", "2026-10-29T16:00:00Z", 1)
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(body))
	}))
	defer srv.Close()
	g, env := newIngester(t)
	ctx := context.Background()
	first := g.Run(ctx, []string{srv.URL + "/story"})[0]
	again := g.Run(ctx, []string{srv.URL + "/story"})[0]
	if first.Status != ingest.Ingested || again.Status != ingest.Unchanged || again.ID != first.ID {
		t.Fatalf("read twice: %+v then %+v", first, again)
	}
	size := env.Size()
	revised = true
	update := g.Run(ctx, []string{srv.URL + "/story"})[0]
	// The changed page revises the earlier reading, in its story, in its
	// place: not a copy of itself.
	if update.Status != ingest.Revised || update.Source.Revises != first.ID || update.Source.CopyOf != "" ||
		update.Source.Story != first.Source.Story || env.Size() != size+1 {
		t.Fatalf("the revised article: %+v", update)
	}
	// Its date corrected, the text the same: a revision too, not silence.
	redated = true
	fix := g.Run(ctx, []string{srv.URL + "/story"})[0]
	if fix.Status != ingest.Revised || fix.Source.Revises != update.ID || !fix.Source.Published.Equal(time.Date(2026, 10, 29, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("the corrected date: %+v", fix)
	}
	if r := g.Run(ctx, []string{srv.URL + "/story"})[0]; r.Status != ingest.Unchanged || r.ID != fix.ID {
		t.Fatalf("read again after the correction: %+v", r)
	}
	var st truce.Story
	if rec, err := env.In.Store.Record(ctx, rules.TypeStory, first.Source.Story); err != nil {
		t.Fatal(err)
	} else {
		json.Unmarshal(rec.Doc, &st)
	}
	for _, x := range st.Sources {
		if want := map[string]string{first.ID: update.ID, update.ID: fix.ID, fix.ID: ""}[x.ID]; x.RevisedBy != want {
			t.Errorf("%s in its story: revised by %q, want %q", x.ID, x.RevisedBy, want)
		}
	}
}

// A directory of more pages than one batch holds: every page is read once,
// each batch in order of publication.
func TestLargeDirectory(t *testing.T) {
	dir := t.TempDir()
	const n = 130
	for i := range n {
		// Files sorted by name are in reverse order of publication.
		text := fmt.Sprintf("Title: Report %d\nOutlet: Wire %d\nPublished: %s\n\n[FICTIONAL] Market prices in district %d rose by %d percent this week, traders said, "+
			"as lorries carrying wheat and fuel waited at checkpoint %d for a %d-hour inspection.\n",
			i, i%7, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n-i)*time.Hour).Format(time.RFC3339), i, i%13, i, i%5+2)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%03d.txt", i)), []byte(text), 0o644)
	}
	g, _ := newIngester(t)
	rs := g.Run(context.Background(), []string{dir})
	if len(rs) != n {
		t.Fatalf("%d results for %d files", len(rs), n)
	}
	var last time.Time
	for i, r := range rs {
		if r.Status != ingest.Ingested {
			t.Fatalf("%s: %s %s", r.Input, r.Status, r.Error)
		}
		if i%100 != 0 && r.Source.Published.Before(last) {
			t.Errorf("%s logged after a later report", r.Input)
		}
		last = r.Source.Published
	}
}

// A page longer than an entry holds is clipped at a paragraph, said to be,
// and logged; its claims come from what is kept.
func TestLongPage(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<html lang="ur"><head><meta charset="utf-8"><meta property="og:site_name" content="سرحد نیوز"><title>طویل رپورٹ</title></head><body><article>`)
	for i := range 400 {
		fmt.Fprintf(&b, "<p>[فرضی مشق] آئی ایس پی آر کے مطابق سیکٹر %d میں جھڑپوں کے دوران %d پاکستانی فوجی زخمی ہوئے اور مقامی لوگوں نے علاقہ چھوڑ دیا۔</p>\n", i, i%9+1)
	}
	b.WriteString(`</article></body></html>`)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "long.html"), []byte(b.String()), 0o644)
	g, _ := newIngester(t)
	r := g.Run(context.Background(), []string{dir})[0]
	if r.Status != ingest.Ingested {
		t.Fatalf("the long page: %s %s", r.Status, r.Error)
	}
	s := r.Source
	if !s.Truncated || len(s.Text) >= b.Len() || !strings.HasSuffix(s.Text, "۔") || len(s.Claims) == 0 {
		t.Errorf("the long page: truncated %v, %d of %d bytes kept, %d claims, ends %q", s.Truncated, len(s.Text), b.Len(), len(s.Claims), s.Text[len(s.Text)-20:])
	}
}

// olderRules is a sink whose log is under rules version 5: what it is
// sent must be what that version reads.
type olderRules struct {
	latest *truce.Report
	sent   []*truce.SourceIngestion
}

func (o *olderRules) Known(context.Context, string) (string, bool, error)   { return "", false, nil }
func (o *olderRules) Latest(context.Context, string) (*truce.Report, error) { return o.latest, nil }
func (o *olderRules) PutPage(context.Context, []byte, string, string) error { return nil }
func (o *olderRules) Rules(context.Context) (int, error)                    { return 5, nil }
func (o *olderRules) Submit(_ context.Context, b *truce.SourceIngestion) (*truce.Report, error) {
	o.sent = append(o.sent, b)
	return &truce.Report{ID: fmt.Sprintf("SRC-%04d", len(o.sent)), SourceIngestion: *b}, nil
}

// Under rules before version 6 the ingester sends no day named by its
// weekday alone and no revision; a page whose date alone changed is
// unchanged, as those rules read it.
func TestOlderRules(t *testing.T) {
	page := `<html><head><title>Shelling in Kurram</title><meta property="article:published_time" content="2026-11-03T08:00:00Z"></head><body><article>
		<p>[FICTIONAL] Shells fired from across the border struck a house in Kurram on Sunday evening, killing two children, police said on Monday.</p>
		<p>The district administration said the families had been moved to a school in Parachinar until the shelling stopped.</p></article></body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(page))
	}))
	defer srv.Close()
	sink := &olderRules{}
	f := fetch.New(extract.MaxPage, true)
	f.PerHost = 0
	g := &ingest.Ingester{Sink: sink, Fetch: f, Clock: func() time.Time { return time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC) }}
	if r := g.Run(context.Background(), []string{srv.URL + "/kurram"})[0]; r.Status != ingest.Ingested || len(sink.sent) != 1 {
		t.Fatalf("first reading: %+v", r)
	}
	for _, c := range sink.sent[0].Claims {
		if c.Kind == truce.ClaimDay {
			t.Errorf("a day claim sent to a log under version 5: %+v", c)
		}
	}
	// Read again with its date corrected: unchanged under version 5.
	first := sink.sent[0]
	sink.latest = &truce.Report{ID: "SRC-0001", SourceIngestion: *first, TextSHA256: rules.TextHash(first.Text)}
	sink.latest.Published = first.Published.Add(-24 * time.Hour)
	if r := g.Run(context.Background(), []string{srv.URL + "/kurram"})[0]; r.Status != ingest.Unchanged || len(sink.sent) != 1 {
		t.Fatalf("the corrected date under version 5: %+v, %d sent", r, len(sink.sent))
	}
}

// A page that gives no date is dated when it is read; read again later
// with nothing changed, it is unchanged, not a correction of its date.
func TestUndatedPageReadAgain(t *testing.T) {
	page := `<html><head><title>Crossing reopens</title></head><body><article>
		<p>[FICTIONAL] The Torkham crossing reopened to lorries after a week, traders in Landi Kotal said, and queues stretched for kilometres.</p>
		<p>Customs officials said clearance would take several days while the backlog of perishable goods was cleared.</p></article>
		<footer>Served %d</footer></body></html>`
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++ // the page's bytes differ on every reading, its article does not
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, page, n)
	}))
	defer srv.Close()
	g, env := newIngester(t)
	first := g.Run(context.Background(), []string{srv.URL + "/torkham"})[0]
	env.Clock.Set(env.Clock.Now().Add(3 * time.Hour))
	again := g.Run(context.Background(), []string{srv.URL + "/torkham"})[0]
	if first.Status != ingest.Ingested || again.Status != ingest.Unchanged || again.ID != first.ID {
		t.Fatalf("an undated page read twice: %+v then %+v", first, again)
	}
}
