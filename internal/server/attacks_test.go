package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/testkit"
)

// target is a test instance served with both surfaces.
type target struct {
	*testkit.Env
	url    string
	client *http.Client // follows no redirects
}

// newTarget serves a test instance; prepare, if given, may reopen it first.
func newTarget(t *testing.T, limits gate.Limits, so instance.Options, prepare ...func(*testkit.Env)) *target {
	t.Helper()
	env := testkit.New(t, so)
	for _, p := range prepare {
		p(env)
	}
	srv, err := server.New(env.In, server.Options{Clock: env.Clock.Now, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler)
	t.Cleanup(ts.Close)
	return &target{Env: env, url: ts.URL,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// token issues a member a token with some scopes.
func (tg *target) token(t *testing.T, member string, scopes ...string) string {
	tok, _, err := auth.IssueToken(context.Background(), tg.In.Store, auth.TokenSpec{Member: member, Scopes: scopes}, testkit.Start)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// session starts a browser session: its cookie and CSRF token.
func (tg *target) session(t *testing.T, member string) (*http.Cookie, string) {
	cookie, sess, err := auth.NewSession(context.Background(), tg.In.Store, member, testkit.Start, auth.SessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: auth.SessionCookie, Value: cookie}, sess.CSRF
}

func (tg *target) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := tg.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// files counts the files kept beside the log and their records.
func (tg *target) files(t *testing.T) int {
	n := 0
	filepath.WalkDir(filepath.Join(tg.In.Dir, instance.BlobDir), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// 1. A read-only token does not write through the pages, nor a manage-only
// token read them.
func TestReadOnlyTokenCannotWriteThroughPages(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	tg.Submit(t, tg.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)))
	size := tg.Size()
	form := url.Values{"allegation": {"AL-0001"}, "response": {"deny"}, "narrative": {"It did not happen."}}
	req, _ := http.NewRequest("POST", tg.url+"/act/reply", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tg.token(t, "af-liaison", policy.ScopeRead))
	if resp, body := tg.do(t, req); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "write") || tg.Size() != size {
		t.Fatalf("a read-only token replying through the pages = %d, log %d → %d", resp.StatusCode, size, tg.Size())
	}
	req, _ = http.NewRequest("GET", tg.url+"/allegations/AL-0001", nil)
	req.Header.Set("Authorization", "Bearer "+tg.token(t, "af-liaison", policy.ScopeManage))
	if resp, body := tg.do(t, req); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "Mortar rounds") {
		t.Fatalf("a manage-only token reading an allegation page = %d", resp.StatusCode)
	}
	// With the write scope the same form is the rules' to judge: logged.
	req, _ = http.NewRequest("POST", tg.url+"/act/reply", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tg.token(t, "af-liaison", policy.ScopeWrite))
	if resp, body := tg.do(t, req); resp.StatusCode != http.StatusSeeOther || tg.Size() != size+1 {
		t.Fatalf("a write token replying = %d %.200s", resp.StatusCode, body)
	}
}

// evidenceForm is a multipart evidence upload of the pages.
func evidenceForm(t *testing.T, csrf, caseID string, file []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range map[string]string{"csrf": csrf, "case": caseID, "description": "Photograph of the crater", "captured_at": "2026-10-25T06:00"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "crater.jpg")
	fw.Write(file)
	mw.Close()
	return &b, mw.FormDataContentType()
}

// 2. The public role stores no file through the pages; nor does anyone
// whose registration the rules refuse.
func TestRefusedUploadsKeepNothing(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	file := bytes.Repeat([]byte("x"), 1<<20)
	cookie, csrf := tg.session(t, "observer")
	body, ct := evidenceForm(t, csrf, "CS-0001", file)
	req, _ := http.NewRequest("POST", tg.url+"/evidence/new", body)
	req.Header.Set("Content-Type", ct)
	req.AddCookie(cookie)
	size := tg.Size()
	if resp, _ := tg.do(t, req); resp.StatusCode != http.StatusForbidden || tg.files(t) != 0 || tg.Size() != size {
		t.Fatalf("the observer's upload = %d, %d files, log %d → %d", resp.StatusCode, tg.files(t), size, tg.Size())
	}
	// A monitor may upload, but not register evidence on a case that does
	// not exist: refused, and the file taken back with its record.
	cookie, csrf = tg.session(t, testkit.MonitorID(1))
	body, ct = evidenceForm(t, csrf, "CS-0099", file)
	req, _ = http.NewRequest("POST", tg.url+"/evidence/new", body)
	req.Header.Set("Content-Type", ct)
	req.AddCookie(cookie)
	if resp, _ := tg.do(t, req); resp.StatusCode != http.StatusUnprocessableEntity || tg.files(t) != 0 || tg.Size() != size {
		t.Fatalf("a refused registration = %d, %d files kept, log %d → %d", resp.StatusCode, tg.files(t), size, tg.Size())
	}
	sum := sha256hex(file)
	if _, err := tg.In.Store.Blob(context.Background(), sum, ""); err == nil {
		t.Fatal("the refused upload's record is kept")
	}
}

// 3. The pages are rate limited as the API is: per member and per address.
func TestPagesRateLimited(t *testing.T) {
	limits := gate.DefaultLimits()
	// A slow refill (one a minute), so that what passes is the burst
	// however slowly the machine runs the loop.
	limits.MemberRate, limits.MemberBurst = 1.0/60, 20
	tg := newTarget(t, limits, instance.Options{})
	cookie, csrf := tg.session(t, "pk-liaison")
	size := tg.Size()
	form := allegationForm(csrf, "Mortar fire.")
	limited, filed := 0, 0
	for range 60 {
		req, _ := http.NewRequest("POST", tg.url+"/act/allege", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		resp, body := tg.do(t, req)
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("a 429 page without Retry-After")
			}
		case http.StatusSeeOther:
			filed++
		default:
			t.Fatalf("filing through the form = %d %.300s", resp.StatusCode, body)
		}
	}
	if limited == 0 || filed > 22 || tg.Size()-size != int64(filed) {
		t.Fatalf("60 filings in a burst: %d logged, %d refused for the rate", filed, limited)
	}
}

// allegationForm is the pages' form filing an allegation against AF.
func allegationForm(csrf, narrative string) url.Values {
	a := testkit.Allegation("AF", 1)
	return url.Values{"csrf": {csrf}, "category": {a.Category}, "occurred.from": {a.Occurred.From.Format("2006-01-02T15:04")},
		"occurred.precision": {"1"}, "place.lat": {"34.1"}, "place.lon": {"71.1"}, "place.geo_precision": {"2"}, "place.country": {"PK"},
		"place.location": {"Torkham"}, "clauses": {"no-cross-border-fire"}, "perpetrator.kind": {"party"}, "perpetrator.party": {"AF"},
		"narrative": {narrative}, "visibility": {"parties"}}
}

// 5. After signing in, the browser is sent only to a path on this site.
func TestSignInRedirectStaysOnSite(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	hash, _ := auth.HashPassword("correct horse")
	tg.In.Store.PutPassword(context.Background(), "pk-liaison", hash)
	for next, want := range map[string]string{
		"/\\evil.example": "/", "/\t/evil.example": "/", "/\n/evil.example": "/", "//evil.example": "/", "https://evil.example/": "/",
		"/\\/evil.example": "/", "javascript:alert(1)": "/", "/allegations?status=filed": "/allegations?status=filed",
	} {
		form := url.Values{"member": {"pk-liaison"}, "password": {"correct horse"}, "next": {next}}
		req, _ := http.NewRequest("POST", tg.url+"/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ := tg.do(t, req)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("next=%q: %d to %q, want %q", next, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

// 6. A duplicate upload tells the uploader nothing of the first upload;
// empty files and non-finite numbers are refused.
func TestUploadsTellNothingOfOthers(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	upload := func(member, name string, file []byte) (*http.Response, string) {
		req, _ := http.NewRequest("POST", tg.url+"/api/v1/blobs?name="+url.QueryEscape(name), bytes.NewReader(file))
		req.Header.Set("Content-Type", "image/jpeg")
		req.Header.Set("Authorization", "Bearer "+tg.token(t, member, policy.ScopeWrite))
		return tg.do(t, req)
	}
	file := []byte("the same photograph")
	if resp, body := upload("pk-liaison", "informant Gul Khan.jpg", file); resp.StatusCode != 201 {
		t.Fatalf("first upload = %d %s", resp.StatusCode, body)
	}
	resp, body := upload("af-liaison", "x.jpg", file)
	if resp.StatusCode != 201 {
		t.Fatalf("second upload = %d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"Gul Khan", "pk-liaison", `"PK"`, "uploader", "party"} {
		if strings.Contains(body, leak) {
			t.Errorf("a duplicate upload's answer tells %q: %s", leak, body)
		}
	}
	var got map[string]any
	json.Unmarshal([]byte(body), &got)
	if got["sha256"] != sha256hex(file) || len(got) != 3 {
		t.Errorf("the answer is not the uploader's own file: %s", body)
	}
	if resp, body := upload("pk-liaison", "empty.jpg", nil); resp.StatusCode != 400 || !strings.Contains(body, "empty") {
		t.Errorf("an empty file = %d %s", resp.StatusCode, body)
	}
	for _, bbox := range []string{"NaN,NaN,NaN,NaN", "60,20,Inf,40", "60,20,NaN,40"} {
		req, _ := http.NewRequest("GET", tg.url+"/api/v1/allegations?bbox="+url.QueryEscape(bbox), nil)
		req.Header.Set("Authorization", "Bearer "+tg.token(t, "pk-liaison", policy.ScopeRead))
		if resp, body := tg.do(t, req); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "bbox") {
			t.Errorf("bbox %s = %d %s", bbox, resp.StatusCode, body)
		}
	}
}

// 7. A full disk is answered, on every write path, with a JSON 507 that
// says so, nothing is half-done, and /healthz and /readyz report the store
// unwritable.
func TestFullDiskAnswered(t *testing.T) {
	limits := gate.DefaultLimits()
	limits.MemberRate, limits.AddressRate = 0, 0
	// Room for the instance and little more: reopened with its database
	// capped a few pages over what it holds.
	tg := newTarget(t, limits, instance.Options{}, func(env *testkit.Env) {
		env.In.Close()
		fi, err := os.Stat(filepath.Join(env.Dir, instance.DBFile))
		if err != nil {
			t.Fatal(err)
		}
		env.In, err = instance.Open(context.Background(), env.Dir, instance.Options{Clock: env.Clock.Now,
			StoreOptions: sqlite.Options{MaxPages: int(fi.Size()/16384) + 40}})
		if err != nil {
			t.Fatal(err)
		}
	})
	tok := tg.token(t, "pk-liaison", policy.AllScopes...)
	post := func(path, ct string, body []byte) (*http.Response, string) {
		req, _ := http.NewRequest("POST", tg.url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+tok)
		return tg.do(t, req)
	}
	full := func(what string, attempt func(i int) (*http.Response, string)) {
		for i := range 5000 {
			resp, body := attempt(i)
			if resp.StatusCode < 300 {
				continue
			}
			var e struct{ Error struct{ Code truce.Code } }
			if resp.StatusCode != http.StatusInsufficientStorage || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != truce.CodeNoSpace {
				t.Fatalf("%s on a full disk = %d %.200s", what, resp.StatusCode, body)
			}
			return
		}
		t.Fatalf("%s never found the disk full", what)
	}
	full("filing", func(i int) (*http.Response, string) {
		a := testkit.Allegation("AF", i)
		a.Narrative = strings.Repeat("A long account of the night's shelling. ", 100)
		b, _ := json.Marshal(map[string]any{"body": a})
		return post("/api/v1/allegations", "application/json", b)
	})
	size := tg.Size()
	stored, _, _ := tg.In.Store.Tree(context.Background())
	if stored != size {
		t.Fatalf("the store holds %d entries, the log state %d", stored, size)
	}
	req, _ := http.NewRequest("GET", tg.url+"/healthz", nil)
	if resp, body := tg.do(t, req); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be written") {
		t.Fatalf("/healthz on a full disk = %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest("GET", tg.url+"/readyz", nil)
	if resp, body := tg.do(t, req); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"name":"store","ok":false`) {
		t.Fatalf("/readyz on a full disk = %d %s", resp.StatusCode, body)
	}
	full("a token", func(int) (*http.Response, string) {
		return post("/api/v1/tokens", "application/json", []byte(`{"name":"`+strings.Repeat("n", 90)+`","scopes":["read"]}`))
	})
	full("an upload", func(i int) (*http.Response, string) {
		return post("/api/v1/blobs?name=photo.jpg", "image/jpeg", bytes.Repeat([]byte{byte(i), byte(i >> 8), 1}, 4000))
	})
	cookie, csrf := tg.session(t, "pk-liaison")
	for i := 0; ; i++ {
		form := allegationForm(csrf, strings.Repeat("Shelling through the night. ", 150))
		req, _ = http.NewRequest("POST", tg.url+"/act/allege", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		resp, body := tg.do(t, req)
		if resp.StatusCode == http.StatusInsufficientStorage {
			if !strings.Contains(body, "disk is full") {
				t.Fatalf("the page does not say the disk is full: %.300s", body)
			}
			break
		}
		if resp.StatusCode != http.StatusSeeOther || i > 5000 {
			t.Fatalf("filing through the pages on a full disk = %d %.300s", resp.StatusCode, body)
		}
	}
	stored, _, _ = tg.In.Store.Tree(context.Background())
	if stored != tg.Size() {
		t.Fatalf("the store holds %d entries, the log state %d", stored, tg.Size())
	}
}

// failAt makes the store call f at one step of every batch it commits.
func failAt(step string, f func() error) sqlite.Options {
	return sqlite.Options{Fail: func(s string) error {
		if s == step {
			return f()
		}
		return nil
	}}
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// 8. Readers never see what a batch did before it is durable, nor after it
// failed: the overdue set's as_of, a member's seq and a source's lookup
// stay as the last committed batch left them.
func TestReadersSeeOnlyDurableState(t *testing.T) {
	hold, fail := make(chan struct{}), make(chan error, 1)
	var armed atomic.Bool
	so := instance.Options{StoreOptions: failAt("tiles", func() error {
		if !armed.CompareAndSwap(true, false) {
			return nil
		}
		hold <- struct{}{} // the batch is applied to the working state, not committed
		return <-fail
	})}
	tg := newTarget(t, gate.Limits{}, so)
	tok := tg.token(t, "analyst", policy.ScopeRead, policy.ScopeWrite)
	get := func(path string) string {
		req, _ := http.NewRequest("GET", tg.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		_, body := tg.do(t, req)
		return body
	}
	source := truce.SourceIngestion{SHA256: strings.Repeat("ab", 32), MediaType: "text/html", Outlet: "Gulf Wire",
		Title: "Talks resume", Published: testkit.Start.Add(-time.Hour), Text: "Talks resumed in Doha on Monday."}
	before := tg.Size()
	var seq map[string]any
	json.Unmarshal([]byte(get("/api/v1/members/analyst")), &seq)
	armed.Store(true)
	done := make(chan error, 1)
	go func() {
		b, _ := json.Marshal(map[string]any{"body": source})
		req, _ := http.NewRequest("POST", tg.url+"/api/v1/sources", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-hold
	check := func(when string) {
		var od struct {
			AsOf int64 `json:"as_of"`
		}
		json.Unmarshal([]byte(get("/api/v1/overdue")), &od)
		if od.AsOf != before {
			t.Errorf("%s: the overdue set is as of %d, the committed log has %d", when, od.AsOf, before)
		}
		if body := get("/api/v1/sources/lookup?sha256=" + source.SHA256); !strings.Contains(body, "not_found") {
			t.Errorf("%s: the source is found: %.200s", when, body)
		}
		var m map[string]any
		json.Unmarshal([]byte(get("/api/v1/members/analyst")), &m)
		if m["seq"] != seq["seq"] {
			t.Errorf("%s: the analyst's seq is %v, committed %v", when, m["seq"], seq["seq"])
		}
		if h := get("/healthz"); !strings.Contains(h, `"size":`+strconv.FormatInt(before, 10)) {
			t.Errorf("%s: /healthz says %s", when, h)
		}
	}
	check("while the batch is being written")
	fail <- errors.New("the disk went away")
	<-done
	check("after the batch failed")
	// The same entry logged for real is seen.
	b, _ := json.Marshal(map[string]any{"body": source})
	req, _ := http.NewRequest("POST", tg.url+"/api/v1/sources", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, body := tg.do(t, req); resp.StatusCode != 201 {
		t.Fatalf("logging the source = %d %s", resp.StatusCode, body)
	}
	if body := get("/api/v1/sources/lookup?sha256=" + source.SHA256); !strings.Contains(body, "Talks resume") {
		t.Fatalf("the logged source is not found: %.200s", body)
	}
}

// Forms' files spooled to disk are removed whether the gate refused the
// request or a handler read it: an attacker cannot fill the disk with
// refused uploads.
func TestRefusedFormsLeaveNoFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where net/http spools a form's files
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	cookie, csrf := tg.session(t, "af-liaison")
	big := bytes.Repeat([]byte("z"), 9<<20) // over what a form keeps in memory
	for _, c := range []struct{ path, csrf string }{
		{"/evidence/new", "wrong"}, // refused by the gate, after reading the form for its token
		{"/act/reply", csrf},       // read by a handler that takes no file
		{"/evidence/new", csrf},    // registration refused by the rules
	} {
		body, ct := evidenceForm(t, c.csrf, "CS-0099", big)
		req, _ := http.NewRequest("POST", tg.url+c.path, body)
		req.Header.Set("Content-Type", ct)
		req.AddCookie(cookie)
		resp, _ := tg.do(t, req)
		if resp.StatusCode < 400 {
			t.Fatalf("%s = %d", c.path, resp.StatusCode)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("%d spooled files left in the temporary directory", len(left))
	}
}

// Each party's upload of a file is its own: the other side's earlier
// upload of the same bytes neither blocks a party's download nor tells it
// that the other side holds them.
func TestUploadsArePerParty(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	upload := func(member, name string, file []byte) {
		req, _ := http.NewRequest("POST", tg.url+"/api/v1/blobs?name="+url.QueryEscape(name), bytes.NewReader(file))
		req.Header.Set("Content-Type", "image/jpeg")
		req.Header.Set("Authorization", "Bearer "+tg.token(t, member, policy.ScopeWrite))
		if resp, body := tg.do(t, req); resp.StatusCode != 201 {
			t.Fatalf("upload = %d %s", resp.StatusCode, body)
		}
	}
	download := func(member, sha string) (int, string) {
		req, _ := http.NewRequest("GET", tg.url+"/api/v1/blobs/"+sha, nil)
		req.Header.Set("Authorization", "Bearer "+tg.token(t, member, policy.ScopeRead))
		resp, _ := tg.do(t, req)
		return resp.StatusCode, resp.Header.Get("Content-Disposition")
	}
	photo := []byte("a photograph of the crossing")
	sha := sha256hex(photo)
	upload("af-liaison", "af-source.jpg", photo)
	if code, _ := download("pk-liaison", sha); code != 404 {
		t.Fatalf("PK downloads AF's file = %d", code)
	}
	upload("pk-liaison", "pk-evidence.jpg", photo)
	code, disp := download("pk-liaison", sha)
	if code != 200 || !strings.Contains(disp, "pk-evidence.jpg") {
		t.Fatalf("PK's own upload = %d %q: the other side's earlier upload stands in the way", code, disp)
	}
	if code, disp := download("af-liaison", sha); code != 200 || !strings.Contains(disp, "af-source.jpg") {
		t.Fatalf("AF's own upload = %d %q", code, disp)
	}
	if code, _ := download("tr-mediator", sha); code != 200 {
		t.Fatalf("the mechanism reads every file: %d", code)
	}
}

// Naming a record one may not see is answered as naming one that does not
// exist, on the write side too: the rules' refusal says nothing of it.
func TestWritesDoNotRevealHiddenRecords(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	a := testkit.Allegation("AF", 1)
	a.Visibility = truce.Internal
	ack := tg.Submit(t, tg.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, a))
	hidden := ack.Record.ID
	tok := tg.token(t, "af-liaison", policy.ScopeWrite)
	reply := func(id string) (int, string) {
		b, _ := json.Marshal(map[string]any{"body": truce.Reply{Allegation: id, Response: truce.ReplyDeny, Narrative: "No."}})
		req, _ := http.NewRequest("POST", tg.url+"/api/v1/allegations/"+id+"/reply", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, body := tg.do(t, req)
		return resp.StatusCode, body
	}
	code, body := reply(hidden)
	if code != 404 || !strings.Contains(body, "no allegation") {
		t.Fatalf("AF replying to PK's mechanism-only report = %d %s", code, body)
	}
	if code2, body2 := reply("AL-9999"); code2 != code || strings.ReplaceAll(body2, "AL-9999", hidden) != body {
		t.Fatalf("a hidden record answers %s, a missing one %s", body, body2)
	}
}

// A browser on another site can neither act with a member's session nor
// sign a member in; a member signed in may sign in again (another
// account); a member's pages are not kept by caches.
func TestPagesFromOtherSites(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	hash, _ := auth.HashPassword("correct horse")
	tg.In.Store.PutPassword(context.Background(), "pk-liaison", hash)
	tg.In.Store.PutPassword(context.Background(), "af-liaison", hash)
	signin := func(member, origin string, cookie *http.Cookie, csrf string) *http.Response {
		form := url.Values{"member": {member}, "password": {"correct horse"}, "csrf": {csrf}}
		req, _ := http.NewRequest("POST", tg.url+"/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, _ := tg.do(t, req)
		return resp
	}
	if resp := signin("pk-liaison", "https://evil.example", nil, ""); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("a sign-in posted from another site = %d", resp.StatusCode)
	}
	resp := signin("pk-liaison", tg.url, nil, "")
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("a sign-in from the site = %d", resp.StatusCode)
	}
	cookie := resp.Cookies()[0]
	req, _ := http.NewRequest("GET", tg.url+"/signin", nil)
	req.AddCookie(cookie)
	r, page := tg.do(t, req)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the sign-in form of a signed-in member has no CSRF token")
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a member's page may be cached: %q", r.Header.Get("Cache-Control"))
	}
	if resp := signin("af-liaison", "", cookie, html.UnescapeString(m[1])); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in again as another member = %d", resp.StatusCode)
	}
}

// A token cannot make a token that outlives it.
func TestTokensDoNotOutliveTheirMaker(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	ctx := context.Background()
	parent, _, err := auth.IssueToken(ctx, tg.In.Store, auth.TokenSpec{Member: "pk-liaison", Scopes: policy.AllScopes,
		Expires: testkit.Start.Add(24 * time.Hour)}, testkit.Start)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", tg.url+"/api/v1/tokens", strings.NewReader(`{"name":"forever","scopes":["read"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+parent)
	resp, body := tg.do(t, req)
	var child struct{ Expires time.Time }
	json.Unmarshal([]byte(body), &child)
	if resp.StatusCode != 201 || child.Expires.IsZero() || child.Expires.After(testkit.Start.Add(24*time.Hour)) {
		t.Fatalf("a token made by a day's token = %d, expires %v", resp.StatusCode, child.Expires)
	}
}

// One signed entry means one thing: the server refuses to sign, on a
// member's behalf, a body with a name twice or bytes that are not UTF-8.
func TestCustodialBodiesAreCanonical(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	tok := tg.token(t, "pk-liaison", policy.ScopeWrite)
	good, _ := json.Marshal(testkit.Allegation("AF", 1))
	size := tg.Size()
	for name, body := range map[string][]byte{
		"a name twice":  append([]byte(`{"narrative":"It was the other side.",`), good[1:]...),
		"names in case": append([]byte(`{"Narrative":"It was the other side.",`), good[1:]...),
		"invalid UTF-8": bytes.Replace(good, []byte(`"narrative":"`), []byte("\"narrative\":\"\xff"), 1),
	} {
		req, _ := http.NewRequest("POST", tg.url+"/api/v1/allegations", bytes.NewReader(append(append([]byte(`{"body":`), body...), '}')))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		if resp, b := tg.do(t, req); resp.StatusCode != 400 || tg.Size() != size {
			t.Errorf("%s: %d %s, log %d → %d", name, resp.StatusCode, b, size, tg.Size())
		}
	}
}
