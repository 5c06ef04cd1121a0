package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/web"
)

// site is the exercise instance served with its pages.
type site struct {
	url   string
	in    *instance.Instance
	creds map[string]demo.Credential
}

func newSite(t testing.TB) *site {
	t.Helper()
	in, _, creds := testkit.Demo(t)
	s := &site{in: in, creds: creds}
	var accounts []web.Account
	for _, c := range creds {
		accounts = append(accounts, web.Account{ID: c.ID, Name: c.Name, Role: string(c.Role), Party: c.Party, Password: c.Password})
	}
	limits := gate.DefaultLimits()
	limits.MemberRate, limits.AddressRate = 0, 0 // the tests read every page in every language at once
	srv0, err := server.New(in, server.Options{Accounts: accounts, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(srv0.Handler)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// browser is a client with a cookie jar that does not follow redirects.
func (s *site) browser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (s *site) signIn(t testing.TB, member string) *http.Client {
	t.Helper()
	c := s.browser(t)
	resp, err := c.PostForm(s.url+"/signin", url.Values{"member": {member}, "password": {s.creds[member].Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in as %s = %d", member, resp.StatusCode)
	}
	return c
}

func get(t testing.TB, c *http.Client, u string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var pages = []string{"/", "/allegations", "/allegations?status=filed&party=AF", "/allegations/AL-0001", "/agreement", "/log",
	"/records/finding/FD-0001", "/records/consequence/CQ-0001", "/act/allege", "/act/reply?allegation=AL-0001", "/act/propose-finding", "/evidence/new?case=CS-0001", "/records/case/CS-0001", "/map", "/map?category=armed_clash&from=2026-01-01&to=2030-12-31",
	"/stories", "/stories?disputed=1", "/stories/ST-0002", "/sources/SRC-0002", "/sources/SRC-0004", "/records/outlet/gulf-wire", "/act/link-source?story=ST-0002", "/act/move-source?source=SRC-0006",
	"/search?q=mortar", "/search?q=%22&type=case", "/records/finding", "/records/consequence?party=AF", "/records/case?status=closed", "/reports"}

// Every page renders for every role in every language, with no missing
// message, in the language's direction.
func TestPagesInEveryLanguage(t *testing.T) {
	s := newSite(t)
	for _, member := range []string{"pk-liaison", "af-liaison", "tr-mediator", "monitor", "analyst", "admin"} {
		c := s.signIn(t, member)
		for _, l := range web.Languages() {
			for _, p := range pages {
				sep := "?"
				if strings.Contains(p, "?") {
					sep = "&"
				}
				code, body := get(t, c, s.url+p+sep+"lang="+l.Tag)
				if member == "admin" && strings.HasPrefix(p, "/evidence/") {
					if code != http.StatusForbidden {
						t.Fatalf("%s as an admin, who handles no evidence = %d", p, code)
					}
					continue
				}
				if code != 200 {
					t.Fatalf("%s %s as %s = %d", p, l.Tag, member, code)
				}
				if i := strings.Index(body, "⟦"); i >= 0 {
					t.Fatalf("%s %s as %s: missing message %s", p, l.Tag, member, body[i:min(len(body), i+40)])
				}
				if want := `<html lang="` + l.Tag + `" dir="` + l.Dir() + `">`; !strings.Contains(body, want) {
					t.Fatalf("%s %s: no %s", p, l.Tag, want)
				}
			}
		}
	}
	// Signed out: the sign-in page lists the exercise accounts, and the
	// log page is public.
	c := s.browser(t)
	code, body := get(t, c, s.url+"/signin")
	if code != 200 || !strings.Contains(body, "pk-liaison") || !strings.Contains(body, s.creds["tr-mediator"].Password) {
		t.Fatalf("sign-in page = %d without the exercise accounts", code)
	}
	if code, _ := get(t, c, s.url+"/allegations"); code != http.StatusSeeOther {
		t.Fatalf("allegations signed out = %d, want a redirect to sign in", code)
	}
}

// The language comes from ?lang= (then kept in a cookie), else from
// Accept-Language; Urdu, Pashto and Dari are right to left.
func TestLanguageChoice(t *testing.T) {
	s := newSite(t)
	c := s.browser(t)
	for accept, want := range map[string]string{"ur-PK,ur;q=0.9": `lang="ur" dir="rtl"`, "ps": `lang="ps" dir="rtl"`,
		"tr-TR": `lang="tr" dir="ltr"`, "de-DE": `lang="en" dir="ltr"`, "": `lang="en" dir="ltr"`} {
		if _, body := get(t, c, s.url+"/signin", "Accept-Language", accept); !strings.Contains(body, want) {
			t.Errorf("Accept-Language %q: want %s", accept, want)
		}
	}
	get(t, c, s.url+"/signin?lang=prs")
	if _, body := get(t, c, s.url+"/log", "Accept-Language", "en"); !strings.Contains(body, `lang="prs" dir="rtl"`) {
		t.Error("the chosen language was not kept")
	}
}

// User text is escaped wherever it is shown.
func TestUserTextIsEscaped(t *testing.T) {
	s := newSite(t)
	c := s.creds["pk-liaison"]
	key, err := entry.ReadKeyFile(c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	body := testkit.Allegation("AF", 1)
	body.Occurred.From = time.Now().Add(-time.Hour)
	body.Narrative = `<script>alert("x")</script> & more`
	body.Place.Location = `"><img src=x onerror=alert(1)>`
	seq := s.in.Seq.Snapshot().Seq(c.ID)
	env, err := sequencer.Sign(rules.KindAllegationFiled, demo.Origin, c.ID, seq+1, time.Now(), body, key)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := s.in.Seq.Submit(context.Background(), env, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := s.signIn(t, "af-liaison")
	for _, p := range []string{"/allegations/" + ack.Record.ID, "/allegations", "/"} {
		_, page := get(t, b, s.url+p)
		if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
			t.Fatalf("%s shows user text unescaped", p)
		}
	}
	if _, page := get(t, b, s.url+"/allegations/"+ack.Record.ID); !strings.Contains(page, "&lt;script&gt;") {
		t.Fatal("the narrative is not shown")
	}
}

// Signing in and out: a wrong password is refused on the form; signing
// out needs the session's CSRF token.
func TestSignInAndOut(t *testing.T) {
	s := newSite(t)
	c := s.browser(t)
	resp, err := c.PostForm(s.url+"/signin", url.Values{"member": {"pk-liaison"}, "password": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), `role="alert"`) || !strings.Contains(string(b), `value="pk-liaison"`) {
		t.Fatalf("wrong password = %d", resp.StatusCode)
	}
	c = s.signIn(t, "pk-liaison")
	resp, _ = c.PostForm(s.url+"/signout", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("signing out without the CSRF token = %d", resp.StatusCode)
	}
	_, page := get(t, c, s.url+"/")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF token on the page")
	}
	resp, _ = c.PostForm(s.url+"/signout", url.Values{"csrf": {csrf[1]}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing out = %d", resp.StatusCode)
	}
	if code, _ := get(t, c, s.url+"/allegations"); code != http.StatusSeeOther {
		t.Fatal("still signed in after signing out")
	}
	// The API beside the pages still answers JSON.
	code, body := get(t, c, s.url+"/healthz")
	var h map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &h) != nil {
		t.Fatalf("/healthz through the pages' handler = %d %s", code, body)
	}
}

// What a party may not see is not found, on the pages as in the API.
func TestPagesFollowAccess(t *testing.T) {
	s := newSite(t)
	var hidden string
	recs, _ := s.in.Store.Records(context.Background(), truce.Query{Type: rules.TypeAllegation, Limit: 200, Access: truce.Everything})
	for _, r := range recs {
		if r.Visibility == truce.Internal && r.Owner != "AF" {
			hidden = r.ID
		}
	}
	if hidden == "" {
		t.Fatal("the demo has no mechanism-only allegation hidden from AF")
	}
	if code, _ := get(t, s.signIn(t, "af-liaison"), s.url+"/allegations/"+hidden); code != http.StatusNotFound {
		t.Fatalf("AF reading %s = %d, want 404", hidden, code)
	}
	if code, _ := get(t, s.signIn(t, "tr-mediator"), s.url+"/allegations/"+hidden); code != 200 {
		t.Fatalf("a mediator reading %s = %d", hidden, code)
	}
	_, list := get(t, s.signIn(t, "af-liaison"), s.url+"/allegations")
	if strings.Contains(list, ">"+hidden+"<") {
		t.Fatal("AF's list shows a mechanism-only allegation")
	}
}

// BenchmarkPages renders each page at the demo's size, against the
// design's bound of 100 ms a page.
func BenchmarkPages(b *testing.B) {
	s := newSite(b)
	c := s.signIn(b, "tr-mediator")
	for _, p := range pages {
		name := strings.Trim(strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "_").Replace(p), "_")
		if name == "" {
			name = "dashboard"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if code, _ := get(b, c, s.url+p); code != 200 {
					b.Fatalf("%s = %d", p, code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
			b.ReportMetric(100, "bound-ms")
		})
	}
}

// csrfOf reads the CSRF token a signed-in page carries.
func csrfOf(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	_, page := get(t, c, base+"/")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	return m[1]
}

// post submits a form and returns the status, the redirect and the page.
func post(t *testing.T, c *http.Client, base, path string, form url.Values) (int, string, string) {
	t.Helper()
	form.Set("csrf", csrfOf(t, c, base))
	resp, err := c.PostForm(base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (s *site) size() int64 {
	n := s.in.Seq.Snapshot().Size
	return n
}

// The whole workflow through the forms: a liaison files, the accused party
// replies, mediators admit, open a case, propose and sign a finding, and
// the consequence shows on the accused party's dashboard.
func TestWorkflowThroughForms(t *testing.T) {
	s := newSite(t)
	pk, af := s.signIn(t, "pk-liaison"), s.signIn(t, "af-liaison")
	tr, qa := s.signIn(t, "tr-mediator"), s.signIn(t, "qa-mediator")
	when := time.Now().UTC().Add(-3 * time.Hour).Format("2006-01-02T15:04")
	allegation := url.Values{
		"category": {"shelling_artillery_missile"}, "occurred.from": {when}, "occurred.precision": {"1"},
		"place.lat": {"30.921"}, "place.lon": {"66.460"}, "place.geo_precision": {"1"}, "place.country": {"PK"},
		"place.admin1": {"Balochistan"}, "place.location": {"Chaman"}, "clauses": {"no-cross-border-fire"},
		"perpetrator.kind": {"party"}, "perpetrator.party": {"AF"}, "casualties.injured": {"2"},
		"narrative": {"[EXERCISE] Mortar rounds near the Friendship Gate."},
	}
	// Bad input is refused next to its field, and nothing is logged.
	before := s.size()
	bad := url.Values{}
	for k, v := range allegation {
		bad[k] = v
	}
	bad.Set("place.lat", "95")
	code, _, page := post(t, pk, s.url, "/act/allege", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-place.lat"`) || !strings.Contains(page, "latitude") {
		t.Fatalf("latitude 95 = %d, error not next to the field", code)
	}
	bad.Set("place.lat", "30.9")
	bad.Set("occurred.from", "yesterday")
	if code, _, page := post(t, pk, s.url, "/act/allege", bad); code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-occurred.from"`) {
		t.Fatalf("a bad time = %d", code)
	}
	if s.size() != before {
		t.Fatal("refused forms grew the log")
	}
	step := func(c *http.Client, action string, form url.Values) string {
		t.Helper()
		code, loc, page := post(t, c, s.url, "/act/"+action, form)
		if code != http.StatusSeeOther {
			i := strings.Index(page, `role="alert"`)
			t.Fatalf("%s = %d: %s", action, code, page[max(0, i):min(len(page), i+300)])
		}
		return loc[strings.LastIndex(loc, "/")+1:]
	}
	al := step(pk, "allege", allegation)
	step(af, "reply", url.Values{"allegation": {al}, "response": {"deny"}, "narrative": {"Afghan forces did not fire."}})
	// A party may not admit: the rules refuse, the form says so.
	if code, _, _ := post(t, af, s.url, "/act/admit", url.Values{"allegation": {al}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("a party admitting = %d", code)
	}
	step(tr, "admit", url.Values{"allegation": {al}})
	cs := step(tr, "open-case", url.Values{"allegation": {al}, "title": {"Mortar fire at Chaman"}})
	fd := step(tr, "propose-finding", url.Values{"case": {cs}, "determination": {"violation"}, "responsible": {"AF"},
		"clauses": {"no-cross-border-fire"}, "severity": {"serious"}, "confidence": {"high"}, "reasoning": {"Impacts and bearing establish it."}})
	step(tr, "sign-finding", url.Values{"finding": {fd}, "concur": {"on"}})
	step(qa, "sign-finding", url.Values{"finding": {fd}, "concur": {"on"}})
	_, page = get(t, af, s.url+"/records/finding/"+fd)
	if !strings.Contains(page, "<dd>In effect</dd>") {
		t.Fatalf("the finding is not in effect: %s", page)
	}
	// The consequence is on the accused party's dashboard.
	_, dash := get(t, af, s.url+"/")
	var f struct {
		Consequences []string `json:"consequences"`
	}
	rec, _ := s.in.Store.Record(context.Background(), rules.TypeFinding, fd)
	json.Unmarshal(rec.Doc, &f)
	if len(f.Consequences) == 0 || !strings.Contains(dash, f.Consequences[0]) {
		t.Fatalf("the consequences %v are not on AF's dashboard", f.Consequences)
	}
	// Only the accused party is offered the reply, and only until it replies.
	if _, page := get(t, pk, s.url+"/allegations/"+al); strings.Contains(page, "/act/reply?") {
		t.Fatal("the filing party is offered a reply to its own allegation")
	}
	// The entries were signed with the members' custodial keys.
	_, page = get(t, pk, s.url+"/allegations/"+al)
	if !strings.Contains(page, "allegation.filed") || !strings.Contains(page, "reply.filed") {
		t.Fatal("the allegation's timeline lacks its entries")
	}
}

// The map shows every allegation a reader may see, where it happened, and
// the filters narrow it.
func TestMap(t *testing.T) {
	s := newSite(t)
	c := s.signIn(t, "af-liaison")
	_, page := get(t, c, s.url+"/map")
	markers := strings.Count(page, `<a href="/allegations/`)
	recs, _ := s.in.Store.Records(context.Background(), truce.Query{Type: rules.TypeAllegation, Limit: 1000,
		Access: &truce.Access{Parties: true, Party: "AF"}})
	if markers == 0 || markers != len(recs) {
		t.Fatalf("the map shows %d allegations; AF may see %d", markers, len(recs))
	}
	if !strings.Contains(page, `class="country c-PK"`) || !strings.Contains(page, `class="country c-AF"`) {
		t.Fatal("the map lacks Pakistan's or Afghanistan's outline")
	}
	// A marker sits where its place projects: Chaman is near 66.45°E 30.92°N.
	x, y := web.Project(66.45, 30.92)
	if x < 300 || x > 400 || y < 300 || y > 500 {
		t.Fatalf("Chaman projects to %.0f,%.0f", x, y)
	}
	_, none := get(t, c, s.url+"/map?from=2001-01-01&to=2001-12-31")
	if n := strings.Count(none, `<a href="/allegations/`); n != 0 {
		t.Fatalf("a year without allegations shows %d", n)
	}
	_, clashes := get(t, c, s.url+"/map?category=armed_clash")
	if n := strings.Count(clashes, `<a href="/allegations/`); n == 0 || n >= markers {
		t.Fatalf("armed clashes: %d of %d", n, markers)
	}
	if code, page := get(t, c, s.url+"/map?from=yesterday"); code != 200 || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("a bad date = %d without a message", code)
	}
	// Towns are named, a scale is drawn, the status outlines explained,
	// and the map zooms and moves by links that keep the filters.
	for _, want := range []string{">Peshawar</text>", ">Kandahar</text>", ">Chaman</text>", ` km</text>`, `class="marker s-decided"`,
		`aria-label="Zoom in"`, "/api/v1/exports/allegations.geojson?category=armed_clash", fmt.Sprintf("%d found", n(clashes))} {
		if !strings.Contains(clashes, want) {
			t.Errorf("the map lacks %s", want)
		}
	}
	if !strings.Contains(clashes, `href="/map?category=armed_clash&amp;cx=500&amp;cy=`) || !strings.Contains(clashes, "z=2") {
		t.Error("zooming in loses the filter or the centre")
	}
	_, zoomed := get(t, c, s.url+"/map?z=4&cx=340&cy=400")
	box := regexp.MustCompile(`<svg viewBox="([-0-9. ]+)" role="img"`).FindStringSubmatch(zoomed)
	var bx, by, bw, bh float64
	if box == nil {
		t.Fatal("no view box")
	}
	fmt.Sscan(box[1], &bx, &by, &bw, &bh)
	if bw != 250 || bx != 340-125 || by+bh/2 != 400 {
		t.Errorf("zoom 4 about 340,400 has view box %s", box[1])
	}
	// A centre far outside is brought back within the region; a silly zoom is the deepest.
	_, far := get(t, c, s.url+"/map?z=9999&cx=-1e9&cy=NaN")
	if !strings.Contains(far, `<svg viewBox="0.0 `) || !strings.Contains(far, "×8") {
		t.Error("an out-of-range view is not clamped")
	}
}

// n counts the markers of a map page.
func n(page string) int { return strings.Count(page, `<a href="/allegations/`) }

// Evidence uploads: the file is kept by its hash and registered in the
// log; a form without a file or over the limit changes nothing.
func TestEvidenceUpload(t *testing.T) {
	s := newSite(t)
	c := s.signIn(t, "monitor")
	upload := func(fields map[string]string, file []byte) (int, string, string) {
		t.Helper()
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("csrf", csrfOf(t, c, s.url))
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		if file != nil {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="file"; filename="crater.jpg"`)
			h.Set("Content-Type", "image/jpeg")
			part, _ := mw.CreatePart(h)
			part.Write(file)
		}
		mw.Close()
		req, _ := http.NewRequest("POST", s.url+"/evidence/new", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(page)
	}
	open, _ := s.in.Store.Records(context.Background(), truce.Query{Type: rules.TypeCase, Status: "open", Limit: 1, Access: truce.Everything})
	if len(open) == 0 {
		t.Fatal("the demo has no open case")
	}
	fields := map[string]string{"case": open[0].ID, "description": "Crater at the impact site", "captured_by": "monitor",
		"captured_at": time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")}
	before := s.size()
	if code, _, page := upload(fields, nil); code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-file"`) {
		t.Fatalf("no file = %d", code)
	}
	if s.size() != before {
		t.Fatal("a refused upload grew the log")
	}
	photo := []byte("\xff\xd8\xff\xe0 not really a photo")
	code, loc, _ := upload(fields, photo)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/records/evidence/EV-") {
		_, _, page := upload(fields, photo)
		i := strings.Index(page, `role="alert"`)
		t.Fatalf("upload = %d %s: %s", code, loc, page[max(0, i):min(len(page), i+400)])
	}
	_, page := get(t, c, s.url+loc)
	sum := sha256.Sum256(photo)
	if !strings.Contains(page, hex.EncodeToString(sum[:])) || !strings.Contains(page, "image/jpeg") {
		t.Fatal("the evidence page does not show the file's hash and type")
	}
}

// The story page lays each discrepancy out with both sources' sentences,
// marks copies, and grades claims; the analyst is offered the link to an
// allegation, a party's liaison is not.
// The header's search finds an allegation by a word of its narrative for
// those who may see it, links to it, and never shows one kept within the
// mechanism to a party that does not own it.
func TestSearchPage(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	recs, _ := s.in.Store.Records(ctx, truce.Query{Type: rules.TypeAllegation, Access: truce.Everything, Limit: 1000})
	var shared, kept *truce.Allegation
	owner := ""
	for _, r := range recs {
		var a truce.Allegation
		json.Unmarshal(r.Doc, &a)
		switch {
		case r.Visibility == truce.Parties && shared == nil:
			shared = &a
		case r.Visibility == truce.Internal && kept == nil:
			kept, owner = &a, r.Owner
		}
	}
	if shared == nil || kept == nil {
		t.Fatal("the demo has no shared and no kept allegation")
	}
	word := func(a *truce.Allegation) string { // its longest word
		var w string
		for _, f := range strings.FieldsFunc(a.Narrative, func(r rune) bool { return !unicode.IsLetter(r) }) {
			if len(f) > len(w) {
				w = f
			}
		}
		return w
	}
	other := "af-liaison" // a party that does not own it
	if owner == "AF" {
		other = "pk-liaison"
	}
	for _, c := range []struct {
		who, q, id string
		found      bool
	}{
		{"pk-liaison", word(shared), shared.ID, true},
		{"analyst", word(kept), kept.ID, true},
		{other, word(kept), kept.ID, false},
	} {
		code, page := get(t, s.signIn(t, c.who), s.url+"/search?q="+url.QueryEscape(c.q))
		if code != http.StatusOK || strings.Contains(page, `href="/allegations/`+c.id+`"`) != c.found {
			t.Errorf("%s searching %q: %d, found %s: %v, want %v", c.who, c.q, code, c.id, !c.found, c.found)
		}
	}
	if _, page := get(t, s.signIn(t, "pk-liaison"), s.url+"/"); !strings.Contains(page, `action="/search"`) {
		t.Error("the header has no search")
	}
}

func TestStoryPage(t *testing.T) {
	s := newSite(t)
	var story truce.Story
	rec, _ := s.in.Store.Record(context.Background(), rules.TypeStory, "ST-0002")
	json.Unmarshal(rec.Doc, &story)
	if len(story.Discrepancies) != 3 {
		t.Fatalf("the demo's Istanbul story has %d discrepancies", len(story.Discrepancies))
	}
	analyst, liaison := s.signIn(t, "analyst"), s.signIn(t, "pk-liaison")
	code, page := get(t, analyst, s.url+"/stories/ST-0002")
	if code != http.StatusOK {
		t.Fatalf("story page = %d", code)
	}
	for _, d := range story.Discrepancies {
		for _, q := range []*truce.Quote{&d.A, d.B} {
			if q != nil && !strings.Contains(page, template.HTMLEscapeString(q.Sentence)) {
				t.Errorf("the page lacks the quote %q", q.Sentence)
			}
		}
	}
	// Each party's figure is given by that party, named, and disputed by
	// the other's: never confirmed by the outlets that repeat it.
	for _, want := range []string{"exact copy of SRC-", "near copy of SRC-", "confirmed by independent sources", "/act/link-source?story=ST-0002", "GeoNames",
		"given by Afghanistan (", "given by Pakistan ("} {
		if !strings.Contains(page, want) {
			t.Errorf("the story page lacks %q", want)
		}
	}
	if _, page := get(t, liaison, s.url+"/stories/ST-0002"); strings.Contains(page, "/act/link-source") {
		t.Error("a liaison is offered to link sources")
	}
	// A source's page: its claims in words beside its sentences, its text,
	// what it copies; the page as read only for the mechanism.
	_, src := get(t, analyst, s.url+"/sources/SRC-0004")
	for _, want := range []string{"23 killed (PK), says military", "exact copy of SRC-0002", "The round followed a week of heavy fighting", "/api/v1/blobs/"} {
		if !strings.Contains(src, template.HTMLEscapeString(want)) {
			t.Errorf("the source page lacks %q", want)
		}
	}
	if _, src := get(t, liaison, s.url+"/sources/SRC-0004"); strings.Contains(src, "/api/v1/blobs/") {
		t.Error("a party's liaison is offered the mechanism's copy of the page")
	}
	// The demo's analyst tied the story to an allegation: both pages show it.
	if len(story.Links) != 1 {
		t.Fatalf("the story's links: %+v", story.Links)
	}
	al := story.Links[0].Allegation
	if _, page := get(t, liaison, s.url+"/allegations/"+al); !strings.Contains(page, `href="/stories/ST-0002"`) {
		t.Errorf("the allegation %s does not show the story tied to it", al)
	}
	if !strings.Contains(page, `href="/allegations/`+al+`"`) {
		t.Errorf("the story does not show the allegation tied to it")
	}
	// The analysts' and mediators' dashboards list the disputed story.
	for member, want := range map[string]bool{"analyst": true, "tr-mediator": true, "pk-liaison": false} {
		c := map[string]*http.Client{"analyst": analyst, "pk-liaison": liaison}[member]
		if c == nil {
			c = s.signIn(t, member)
		}
		if _, dash := get(t, c, s.url+"/"); strings.Contains(dash, `href="/stories/ST-0002"`) != want {
			t.Errorf("%s's dashboard lists the disputed story: %v, want %v", member, !want, want)
		}
	}
	// An allegation near a place the story names, in its days, lists it as
	// a report that may bear on it, with the form to tie them for the
	// analyst; one far away does not.
	byLocation := func(prefix string) string {
		var id string
		recs, _ := s.in.Store.Records(context.Background(), truce.Query{Type: rules.TypeAllegation, Access: truce.Everything, Limit: 1000})
		for _, r := range recs {
			if strings.Contains(string(r.Doc), `"location":"`+prefix) {
				id = r.ID
			}
		}
		return id
	}
	near, far := byLocation("Spin Boldak, Wesh"), byLocation("Chitral")
	if _, page := get(t, analyst, s.url+"/allegations/"+near); !strings.Contains(page, `href="/stories/ST-0002"`) ||
		!strings.Contains(page, "/act/link-source?allegation="+near+"&amp;story=ST-0002") {
		t.Errorf("the allegation %s at Spin Boldak does not list the Istanbul story as related", near)
	}
	if _, page := get(t, analyst, s.url+"/allegations/"+far); strings.Contains(page, `href="/stories/ST-0002"`) {
		t.Errorf("the allegation %s in Chitral lists the Istanbul story", far)
	}
	// The list flags the disputed story.
	if _, list := get(t, analyst, s.url+"/stories?disputed=1"); !strings.Contains(list, "ST-0002") || strings.Contains(list, "ST-0001") {
		t.Errorf("the disputed list does not hold exactly the Istanbul story")
	}
}

// Static files are linked by their content's hash and kept for a year;
// an address without the current hash is kept for an hour only.
func TestStaticVersions(t *testing.T) {
	s := newSite(t)
	_, page := get(t, s.signIn(t, "analyst"), s.url+"/stories")
	link := regexp.MustCompile(`/static/style\.css\?v=[0-9a-f]{12}`).FindString(page)
	if link == "" {
		t.Fatal("the page does not link the stylesheet by its version")
	}
	for path, want := range map[string]string{link: "immutable", "/static/style.css": "max-age=3600", "/static/style.css?v=000000000000": "max-age=3600"} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), want) {
			t.Errorf("%s: %d, Cache-Control %q, want %q", path, resp.StatusCode, resp.Header.Get("Cache-Control"), want)
		}
	}
}

// An administrator gives a member a one-time link from the pages; the
// link works once, and replaces the one given before it.
func TestInviteFromPages(t *testing.T) {
	s := newSite(t)
	admin := s.signIn(t, "admin")
	if code, page := get(t, admin, s.url+"/members"); code != 200 || !strings.Contains(page, "/members/af-liaison/invite") {
		t.Fatalf("the members page = %d", code)
	}
	link := func() string {
		t.Helper()
		code, _, page := post(t, admin, s.url, "/members/af-liaison/invite", url.Values{})
		m := regexp.MustCompile(`<code class="link">([^<]+)</code>`).FindStringSubmatch(page)
		if code != 200 || m == nil || !strings.Contains(m[1], "/enrol/") {
			t.Fatalf("giving a link = %d", code)
		}
		return html.UnescapeString(m[1])
	}
	first, second := link(), link()
	anon := s.browser(t)
	if code, _ := get(t, anon, first); code != http.StatusNotFound {
		t.Fatalf("the link a newer one replaced = %d", code)
	}
	if code, page := get(t, anon, second); code != 200 || !strings.Contains(page, "af-liaison") {
		t.Fatalf("the newest link = %d", code)
	}
	// Nobody else may: not the member's own party.
	if code, _, _ := post(t, s.signIn(t, "pk-liaison"), s.url, "/members/af-liaison/invite", url.Values{}); code != http.StatusForbidden {
		t.Fatalf("a liaison giving a link = %d", code)
	}
}

// A liaison's dashboard opens with what its party owes, then the findings
// in effect that concern it, and shows none of the mechanism's overdue
// list; a mediator's shows that list with who owes each item.
func TestDashboardWhatIOwe(t *testing.T) {
	s := newSite(t)
	_, pk := get(t, s.signIn(t, "pk-liaison"), s.url+"/")
	first := strings.Index(pk, "<h2>")
	if first < 0 || !strings.HasPrefix(pk[first:], "<h2>Replies due from your party") {
		t.Errorf("PK's dashboard does not open with the replies it owes: %.200s", pk[max(first, 0):])
	}
	if strings.Contains(pk, `class="overdue"`) {
		t.Error("PK's dashboard shows the mechanism's overdue list")
	}
	// AF sees the findings in effect against it, with links.
	recs, _ := s.in.Store.Records(context.Background(), truce.Query{Type: rules.TypeFinding, Status: truce.FindingInEffect, Access: truce.Everything})
	var against string
	for _, r := range recs {
		if f, _ := decodeFinding(r.Doc); f.Responsible == "AF" {
			against = f.ID
			break
		}
	}
	if against == "" {
		t.Fatal("the demo has no finding in effect against AF")
	}
	_, af := get(t, s.signIn(t, "af-liaison"), s.url+"/")
	if !strings.Contains(af, "Findings in effect concerning my party") || !strings.Contains(af, `href="/records/finding/`+against+`"`) {
		t.Errorf("AF's dashboard lacks the finding %s against it", against)
	}
	_, tr := get(t, s.signIn(t, "tr-mediator"), s.url+"/")
	if !strings.Contains(tr, `class="overdue"`) || !strings.Contains(tr, "owed by Afghanistan") && !strings.Contains(tr, "owed by Pakistan") {
		t.Error("the mediator's overdue list is missing or does not say who owes each item")
	}
}

func decodeFinding(doc []byte) (truce.Finding, error) {
	var f truce.Finding
	return f, json.Unmarshal(doc, &f)
}

// A record reads as people read it: a finding's signatures a list of who
// signed when, the records it names links, no raw JSON.
func TestRecordReadable(t *testing.T) {
	s := newSite(t)
	code, page := get(t, s.signIn(t, "tr-mediator"), s.url+"/records/finding/FD-0001")
	if code != http.StatusOK {
		t.Fatalf("finding page = %d", code)
	}
	main := page[strings.Index(page, "<main"):]
	for _, want := range []string{`<ul class="facts-list">`, `href="/allegations/AL-`, `href="/records/case/CS-`, `<time datetime=`} {
		if !strings.Contains(main, want) {
			t.Errorf("the finding page lacks %s", want)
		}
	}
	if strings.Contains(main, `{&#34;`) || strings.Contains(main, `{"`) {
		t.Error("the finding page shows raw JSON")
	}
}

// List pages for the records without one of their own: filtered, linked,
// and only what the reader may see.
func TestRecordLists(t *testing.T) {
	s := newSite(t)
	_, page := get(t, s.signIn(t, "tr-mediator"), s.url+"/records/finding")
	if !strings.Contains(page, `href="/records/finding/FD-0001"`) {
		t.Error("the findings list lacks FD-0001")
	}
	// A party does not see, in the list, the tasks kept within the mechanism.
	recs, _ := s.in.Store.Records(context.Background(), truce.Query{Type: rules.TypeTask, Access: truce.Everything})
	_, af := get(t, s.signIn(t, "af-liaison"), s.url+"/records/task")
	kept := 0
	for _, r := range recs {
		if r.Visibility == truce.Internal && r.Owner != "AF" {
			kept++
			if strings.Contains(af, `href="/records/task/`+r.ID+`"`) {
				t.Errorf("AF sees %s, kept within the mechanism, in the list", r.ID)
			}
		}
	}
	if kept == 0 {
		t.Fatal("the demo keeps no task from AF")
	}
	for path, want := range map[string]int{"/records/member": 404, "/records/case?party=XX": 400, "/records/allegation": 303} {
		c := s.signIn(t, "tr-mediator")
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		if code, _ := get(t, c, s.url+path); code != want {
			t.Errorf("%s = %d, want %d", path, code, want)
		}
	}
}

// A page offers only the actions the rules would accept of the record as
// it stands: no task on a closed case, no second reply.
func TestActionsFollowTheRules(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	first := func(typ, status string) string {
		recs, _ := s.in.Store.Records(ctx, truce.Query{Type: typ, Status: status, Access: truce.Everything})
		if len(recs) == 0 {
			t.Fatalf("the demo has no %s %s", status, typ)
		}
		return recs[0].ID
	}
	tr := s.signIn(t, "tr-mediator")
	_, closed := get(t, tr, s.url+"/records/case/"+first(rules.TypeCase, truce.CaseClosed))
	_, open := get(t, tr, s.url+"/records/case/"+first(rules.TypeCase, truce.CaseOpen))
	if strings.Contains(closed, "/act/assign-task") || strings.Contains(closed, "/evidence/new") {
		t.Error("a closed case offers a task or evidence")
	}
	if !strings.Contains(open, "/act/assign-task") || !strings.Contains(open, "/evidence/new") {
		t.Error("an open case offers no task or evidence")
	}
	// The accused replies once; the filer never.
	recs, _ := s.in.Store.Records(ctx, truce.Query{Type: rules.TypeAllegation, Access: truce.Everything})
	var unanswered, answered string
	for _, r := range recs {
		var a truce.Allegation
		if err := json.Unmarshal(r.Doc, &a); err != nil || a.Accused != "AF" || a.Status == truce.AllegationRejected || a.Status == truce.AllegationDecided {
			continue
		}
		if a.Reply == nil && unanswered == "" {
			unanswered = a.ID
		} else if a.Reply != nil && answered == "" {
			answered = a.ID
		}
	}
	if unanswered == "" || answered == "" {
		t.Fatal("the demo lacks an open allegation against AF with and without a reply")
	}
	af, pk := s.signIn(t, "af-liaison"), s.signIn(t, "pk-liaison")
	if _, p := get(t, af, s.url+"/allegations/"+unanswered); !strings.Contains(p, "/act/reply?") {
		t.Errorf("AF is not offered a reply to %s", unanswered)
	}
	if _, p := get(t, af, s.url+"/allegations/"+answered); strings.Contains(p, "/act/reply?") {
		t.Errorf("AF is offered a second reply to %s", answered)
	}
	if _, p := get(t, pk, s.url+"/allegations/"+unanswered); strings.Contains(p, "/act/reply?") {
		t.Errorf("PK is offered a reply to its own allegation %s", unanswered)
	}
}

// The dashboard lists what changed since the member's previous visit,
// after what it owes; reloading the page within a visit keeps the list.
func TestSinceLastVisit(t *testing.T) {
	s := newSite(t)
	af := s.signIn(t, "af-liaison")
	if _, page := get(t, af, s.url+"/"); !strings.Contains(page, "What changes will show here from your next visit.") {
		t.Fatal("a first visit does not say changes come from the next one")
	}
	// An hour later, a new visit: PK has filed against AF meanwhile.
	u, _ := url.Parse(s.url)
	af.Jar.SetCookies(u, []*http.Cookie{web.VisitCookie("af-liaison", s.size(), s.size(), time.Now().Add(-time.Hour))})
	when := time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04")
	code, loc, _ := post(t, s.signIn(t, "pk-liaison"), s.url, "/act/allege", url.Values{
		"category": {"armed_clash"}, "occurred.from": {when}, "occurred.precision": {"1"},
		"place.lat": {"34.03"}, "place.lon": {"71.10"}, "place.geo_precision": {"1"}, "place.country": {"PK"},
		"place.admin1": {"Khyber Pakhtunkhwa"}, "place.location": {"Torkham"}, "clauses": {"no-cross-border-fire"},
		"perpetrator.kind": {"party"}, "perpetrator.party": {"AF"}, "narrative": {"[EXERCISE] Small-arms fire at the crossing."}})
	if code != http.StatusSeeOther {
		t.Fatalf("filing = %d", code)
	}
	al := loc[strings.LastIndex(loc, "/")+1:]
	for range 2 { // the second view is a reload within the same visit
		_, page := get(t, af, s.url+"/")
		changes := page[strings.Index(page, `class="changes"`):]
		if !strings.Contains(changes, `href="/allegations/`+al+`"`) || !strings.Contains(changes, `class="new"`) {
			t.Fatalf("the changes since the last visit lack the new %s", al)
		}
		if strings.Index(page, "Replies due from your party") > strings.Index(page, "Since your last visit") {
			t.Fatal("what changed comes before what AF owes")
		}
	}
	// A cookie of another member's visits is no visit of AF's.
	af.Jar.SetCookies(u, []*http.Cookie{web.VisitCookie("pk-liaison", 1, 1, time.Now().Add(-time.Hour))})
	if _, page := get(t, af, s.url+"/"); !strings.Contains(page, "What changes will show here") {
		t.Error("another member's visit cookie was taken as AF's")
	}
}

// The allegations list counts what matches, offers the exports with its
// filters, filters by dates, and sends words to the search.
func TestAllegationsFilters(t *testing.T) {
	s := newSite(t)
	af := s.signIn(t, "af-liaison")
	n, _ := s.in.Store.Count(context.Background(), truce.Query{Type: rules.TypeAllegation, Party: "AF", Status: truce.AllegationFiled,
		Access: &truce.Access{Parties: true, Party: "AF"}})
	_, page := get(t, af, s.url+"/allegations?party=AF&status=filed")
	if !strings.Contains(page, fmt.Sprintf("%d found", n)) || !strings.Contains(page, "/api/v1/exports/allegations.csv?party=AF&amp;status=filed") {
		t.Errorf("the list does not count its %d or lacks the export with its filters", n)
	}
	if _, none := get(t, af, s.url+"/allegations?from=2001-01-01&to=2001-01-31"); !strings.Contains(none, "0 found") {
		t.Error("a month without allegations lists some")
	}
	if _, bad := get(t, af, s.url+"/allegations?from=yesterday"); !strings.Contains(bad, `role="alert"`) {
		t.Error("a bad date is not explained")
	}
	if code, _ := get(t, af, s.url+"/allegations?q=mortar"); code != http.StatusSeeOther {
		t.Errorf("words in the list = %d, not sent to the search", code)
	}
}

// An allegation's timeline tells its whole story — case, tasks, finding,
// consequences — with only the entries of records the reader may see.
func TestFullTimeline(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	recs, _ := s.in.Store.Records(ctx, truce.Query{Type: rules.TypeFinding, Status: truce.FindingInEffect, Access: truce.Everything})
	var f truce.Finding
	for _, r := range recs {
		if json.Unmarshal(r.Doc, &f); len(f.Consequences) > 0 {
			break
		}
	}
	if len(f.Consequences) == 0 {
		t.Fatal("the demo has no finding in effect with consequences")
	}
	_, tr := get(t, s.signIn(t, "tr-mediator"), s.url+"/allegations/"+f.Allegation)
	timeline := tr[strings.Index(tr, `<ol class="timeline">`):]
	for _, want := range []string{"<code>case.opened</code>", "<code>finding.proposed</code>", "<code>finding.signed</code>",
		`href="/records/consequence/` + f.Consequences[0] + `"`, `href="/records/finding/` + f.ID + `"`} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the mediator's timeline of %s lacks %s", f.Allegation, want)
		}
	}
	// The parties do not see the tasks kept within the mechanism, nor their entries.
	cs, _ := s.in.Store.Record(ctx, rules.TypeCase, f.Case)
	var c truce.Case
	json.Unmarshal(cs.Doc, &c)
	for _, party := range []string{"af-liaison", "pk-liaison"} {
		_, page := get(t, s.signIn(t, party), s.url+"/allegations/"+f.Allegation)
		for _, id := range c.Tasks {
			task, _ := s.in.Store.Record(ctx, rules.TypeTask, id)
			if task.Visibility == truce.Internal && strings.Contains(page, id) {
				t.Errorf("%s sees the mechanism's task %s in the timeline", party, id)
			}
		}
		if !strings.Contains(page, "<code>finding.proposed</code>") && f.Status == truce.FindingInEffect {
			t.Errorf("%s does not see the finding in effect in the timeline", party)
		}
	}
}

// The agreement says each consequence rule in words, in the reader's
// language, beside its CEL, and where each commitment stands.
func TestAgreementInWords(t *testing.T) {
	s := newSite(t)
	c := s.signIn(t, "pk-liaison")
	_, en := get(t, c, s.url+"/agreement")
	for _, want := range []string{"When: the finding&#39;s determination is “Violation confirmed”", "the number of the findings in effect so far where",
		"30 days", "Then: Formal notice to the responsible party, for the responsible party, within 7 days", "<summary>as the rules run it</summary>",
		"Status: "} {
		if !strings.Contains(en, want) {
			t.Errorf("the agreement page lacks %q", want)
		}
	}
	_, ur := get(t, c, s.url+"/agreement?lang=ur")
	if !strings.Contains(ur, "نتیجے کا فیصلہ") {
		t.Error("the rules are not in words in Urdu")
	}
}

// The allegation form can be filled in a hurry: in sections, the map
// beside the place and before the button, clauses ticked from the
// agreement, the other party and zero casualties already chosen.
func TestAllegeForm(t *testing.T) {
	s := newSite(t)
	pk := s.signIn(t, "pk-liaison")
	_, page := get(t, pk, s.url+"/act/allege")
	place, picker, submit := strings.Index(page, "<legend>Where it happened</legend>"), strings.Index(page, "data-pick"), strings.LastIndex(page, `<button type="submit">`)
	if place < 0 || picker < place || submit < picker {
		t.Errorf("the map is not beside the place, before the button (%d, %d, %d)", place, picker, submit)
	}
	for _, want := range []string{`<input type="checkbox" name="clauses" value="no-cross-border-fire">`, `<option value="AF" selected>`,
		`id="f-casualties.killed" name="casualties.killed" type="number" value="0"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	// Two clauses ticked are two clauses.
	when := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	code, loc, _ := post(t, pk, s.url, "/act/allege", url.Values{
		"category": {"armed_clash"}, "occurred.from": {when}, "occurred.precision": {"1"},
		"place.lat": {"34.03"}, "place.lon": {"71.10"}, "place.geo_precision": {"1"}, "place.country": {"PK"},
		"place.location": {"Torkham"}, "clauses": {"no-cross-border-fire", "no-air-strikes"},
		"perpetrator.kind": {"party"}, "perpetrator.party": {"AF"}, "narrative": {"[EXERCISE] Fire at the crossing."}})
	if code != http.StatusSeeOther {
		t.Fatalf("filing with two clauses = %d", code)
	}
	rec, err := s.in.Store.Record(context.Background(), rules.TypeAllegation, loc[strings.LastIndex(loc, "/")+1:])
	if err != nil || !strings.Contains(string(rec.Doc), `"clauses":["no-cross-border-fire","no-air-strikes"]`) {
		t.Errorf("the clauses ticked were not both filed: %v", err)
	}
}
