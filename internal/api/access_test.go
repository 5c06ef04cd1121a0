package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/testkit"
)

// sealedOpening seals content with a fresh salt.
func sealedOpening(content string) (truce.Sealed, truce.Opening) {
	salt := make([]byte, 32)
	rand.Read(salt)
	return truce.Sealed{Commitment: truce.Commit(salt, []byte(content))}, truce.Opening{Salt: hex.EncodeToString(salt), Content: json.RawMessage(content)}
}

// TestVisibility: what is kept within the mechanism (and the owning party)
// is absent from the other party's listings, reads and exports, and sealed
// content reaches only those who may see it.
func TestVisibility(t *testing.T) {
	f := newFixture(t)
	// PK files a report for the mechanism only, with a sealed witness list.
	a := testkit.Allegation("AF", 1)
	a.Visibility = truce.Internal
	a.Narrative = "Internal report: fire from the Afghan post."
	sealed, opening := sealedOpening(`{"witnesses":["Gul Khan","Zarina"]}`)
	a.Sealed = &sealed
	env := f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, a)
	envJSON, _ := json.Marshal(env)
	wrapped, _ := json.Marshal(map[string]any{"envelope": json.RawMessage(envJSON), "opening": testkit.Opening(env), "sealed": opening})
	code, body, _ := f.do(t, "POST", "/api/v1/allegations", f.tokens["pk-liaison"], wrapped, "Content-Type", "application/json")
	if code != 201 {
		t.Fatalf("filing = %d %s", code, body)
	}
	var ack struct{ Record struct{ ID string } }
	json.Unmarshal(body, &ack)
	internal := ack.Record.ID
	// A shared one for comparison.
	f.Submit(t, f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 2)))

	get := func(who, path string) (int, string) {
		code, body, _ := f.do(t, "GET", path, f.tokens[who], nil)
		return code, string(body)
	}
	for _, c := range []struct {
		who          string
		sees, opened bool
	}{
		{"pk-liaison", true, true}, {"tr-mediator", true, true}, {"analyst", true, true},
		{"af-liaison", false, false}, {"observer", false, false},
	} {
		code, one := get(c.who, "/api/v1/allegations/"+internal)
		if c.sees != (code == 200) {
			t.Errorf("%s reading %s: %d", c.who, internal, code)
		}
		if c.sees && c.opened != strings.Contains(one, "Gul Khan") {
			t.Errorf("%s sees the sealed witnesses: %v", c.who, strings.Contains(one, "Gul Khan"))
		}
		_, list := get(c.who, "/api/v1/allegations?limit=200")
		_, csv := get(c.who, "/api/v1/exports/allegations.csv")
		_, geo := get(c.who, "/api/v1/exports/allegations.geojson")
		for name, doc := range map[string]string{"list": list, "csv": csv, "geojson": geo} {
			if strings.Contains(doc, internal) != c.sees || strings.Contains(doc, "Internal report") != c.sees {
				t.Errorf("%s's %s shows the internal report: %v", c.who, name, strings.Contains(doc, internal))
			}
		}
		if c.who == "observer" && strings.Contains(list, "AL-") {
			t.Errorf("the public sees allegations: %s", list)
		}
	}
	// An internal report notifies no one.
	_, one := get("pk-liaison", "/api/v1/allegations/"+internal)
	if strings.Contains(one, `"notice"`) {
		t.Error("an internal report sent a notice to the accused")
	}
	// The log holds the commitment to the body of a report kept within
	// the mechanism, never the body: not its narrative, nor its sealed
	// field, nor even that field's commitment.
	leaves := logText(t, f)
	bodyOpening := testkit.Opening(env)
	if bodyOpening == nil {
		t.Fatal("a report kept within the mechanism was not signed sealed")
	}
	for _, secret := range []string{"Gul Khan", "Internal report", sealed.Commitment} {
		if strings.Contains(leaves, secret) {
			t.Fatalf("the log holds %q of a report kept within the mechanism", secret)
		}
	}
	if !strings.Contains(leaves, `"sealed":{"commitment":"sha256:`) {
		t.Fatal("the log does not hold the sealed entry's commitment")
	}
	// A sealed entry without its opening is refused.
	a2 := testkit.Allegation("AF", 3)
	s2, _ := sealedOpening(`{"x":1}`)
	a2.Sealed = &s2
	code, body = f.post(t, "pk-liaison", f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, a2))
	if code != 400 || !strings.Contains(string(body), "sealed content") {
		t.Fatalf("sealed entry without its opening = %d %s", code, body)
	}
}

// logText is every leaf of the fixture's log, as text.
func logText(t *testing.T, f *fixture) string {
	t.Helper()
	var b strings.Builder
	size, _, _ := f.In.Store.Tree(context.Background())
	store.Leaves(context.Background(), f.In.Store, 0, size, func(_ int64, leaf []byte) error {
		b.Write(leaf)
		// Payloads are base64: decode them too.
		var l struct{ Envelope struct{ Payload string } }
		json.Unmarshal(leaf, &l)
		p, _ := base64Std(l.Envelope.Payload)
		b.Write(p)
		return nil
	})
	return b.String()
}

// TestCustodialSigning: a member working in the browser has the server
// sign; the entry is marked as signed by the server for the member.
func TestCustodialSigning(t *testing.T) {
	f := newFixture(t)
	body, _ := json.Marshal(map[string]any{"body": testkit.Allegation("AF", 4)})
	code, resp, _ := f.do(t, "POST", "/api/v1/allegations", f.tokens["pk-liaison"], body, "Content-Type", "application/json")
	if code != 201 {
		t.Fatalf("custodial filing = %d %s", code, resp)
	}
	var ack struct{ Record struct{ ID string } }
	json.Unmarshal(resp, &ack)
	code, resp, _ = f.do(t, "GET", "/api/v1/allegations/"+ack.Record.ID, f.tokens["pk-liaison"], nil)
	if code != 200 || !strings.Contains(string(resp), `"custodial":true`) {
		t.Fatalf("history does not say the server signed: %s", resp)
	}
	// The server signs at the member's next seq, alongside the member's own key.
	f.Submit(t, f.Signers["pk-liaison"].SignSeq(t, rules.KindAllegationFiled, 10, testkit.Allegation("AF", 5)))
	if code, resp, _ := f.do(t, "POST", "/api/v1/allegations", f.tokens["pk-liaison"], body, "Content-Type", "application/json"); code != 201 {
		t.Fatalf("second custodial filing = %d %s", code, resp)
	}
	// A party's token trying to sign a finding: forbidden, nothing logged.
	size := f.Size()
	sig, _ := json.Marshal(map[string]any{"body": truce.FindingSignature{Finding: "FD-0001", Concur: true}})
	code, resp, _ = f.do(t, "POST", "/api/v1/findings/FD-0001/signatures", f.tokens["pk-liaison"], sig, "Content-Type", "application/json")
	if code != 403 || f.Size() != size {
		t.Fatalf("a liaison signing a finding = %d %s", code, resp)
	}
	// Nor may one submit another member's signed entry.
	code, resp = f.post(t, "af-liaison", f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 6)))
	if code != 403 || f.Size() != size {
		t.Fatalf("submitting another's entry = %d %s", code, resp)
	}
}

// TestSessionsAndCSRF signs in, needs the CSRF token for changes, and
// signs out.
func TestSessionsAndCSRF(t *testing.T) {
	f := newFixture(t)
	hash, _ := auth.HashPassword("s3cret-pass")
	f.In.Store.PutPassword(context.Background(), "tr-mediator", hash)
	jar := &cookieJar{}
	do := func(method, path string, body []byte, hdr ...string) (int, []byte) {
		req, _ := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		jar.apply(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		jar.take(resp)
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes()
	}
	code, body := do("POST", "/api/v1/session", []byte(`{"member":"tr-mediator","password":"s3cret-pass"}`))
	var info struct{ CSRF string }
	json.Unmarshal(body, &info)
	if code != 201 || info.CSRF == "" || jar.cookie == nil || !jar.cookie.HttpOnly || jar.cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in = %d %s, cookie %+v", code, body, jar.cookie)
	}
	if code, _ := do("GET", "/api/v1/allegations", nil); code != 200 {
		t.Fatalf("reading with the session = %d", code)
	}
	size := f.Size()
	cmd, _ := json.Marshal(map[string]any{"body": truce.Admission{Allegation: "AL-0001"}})
	if code, body := do("POST", "/api/v1/allegations/AL-0001/admit", cmd); code != 403 || !strings.Contains(string(body), "CSRF") || f.Size() != size {
		t.Fatalf("a change without the CSRF token = %d %s", code, body)
	}
	if code, body := do("POST", "/api/v1/allegations/AL-0001/admit", cmd, "X-CSRF-Token", "wrong"); code != 403 || !strings.Contains(string(body), "CSRF") {
		t.Fatalf("a change with a wrong CSRF token = %d %s", code, body)
	}
	f.Submit(t, f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)))
	if code, body := do("POST", "/api/v1/allegations/AL-0001/admit", cmd, "X-CSRF-Token", info.CSRF); code != 201 {
		t.Fatalf("a change with the CSRF token = %d %s", code, body)
	}
	if code, _ := do("DELETE", "/api/v1/session", nil, "X-CSRF-Token", info.CSRF); code != 204 {
		t.Fatalf("sign-out = %d", code)
	}
	if code, _ := do("GET", "/api/v1/allegations", nil); code != 401 {
		t.Fatalf("after sign-out = %d", code)
	}
}

type cookieJar struct{ cookie *http.Cookie }

func (j *cookieJar) apply(r *http.Request) {
	if j.cookie != nil && j.cookie.MaxAge >= 0 {
		r.AddCookie(&http.Cookie{Name: j.cookie.Name, Value: j.cookie.Value})
	}
}

func (j *cookieJar) take(resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			j.cookie = c
			if c.MaxAge < 0 {
				j.cookie = nil
			}
		}
	}
}

// TestBruteForceLogin: failures lock the member out, even with the right
// password after; another member is not locked out.
func TestBruteForceLogin(t *testing.T) {
	f := newFixture(t)
	hash, _ := auth.HashPassword("right")
	f.In.Store.PutPassword(context.Background(), "af-liaison", hash)
	f.In.Store.PutPassword(context.Background(), "pk-liaison", hash)
	login := func(member, pw string) int {
		b, _ := json.Marshal(api.Login{Member: member, Password: pw})
		code, _, _ := f.do(t, "POST", "/api/v1/session", "", b, "Content-Type", "application/json")
		return code
	}
	for i := 0; i < 5; i++ {
		if code := login("af-liaison", fmt.Sprint("guess", i)); code != 401 {
			t.Fatalf("failed sign-in %d = %d", i, code)
		}
	}
	if code := login("af-liaison", "right"); code != 429 {
		t.Fatalf("after five failures the right password = %d, want 429", code)
	}
	if code := login("pk-liaison", "right"); code != 201 {
		t.Fatalf("another member = %d", code)
	}
	if code := login("nobody", "x"); code != 429 && code != 401 {
		t.Fatalf("unknown member = %d", code)
	}
}

// TestTokens: scoped tokens, revocation that bites at once, other
// instances' tokens.
func TestTokens(t *testing.T) {
	f := newFixture(t)
	mk := func(scopes string) (int, api.TokenInfo) {
		code, body, _ := f.do(t, "POST", "/api/v1/tokens", f.tokens["monitor-01"], []byte(`{"name":"field laptop","scopes":`+scopes+`,"expires":"30d"}`), "Content-Type", "application/json")
		var ti api.TokenInfo
		json.Unmarshal(body, &ti)
		return code, ti
	}
	code, ro := mk(`["read"]`)
	if code != 201 || ro.Token == "" || ro.Expires.IsZero() {
		t.Fatalf("issuing = %d %+v", code, ro)
	}
	if code, _, _ := f.do(t, "GET", "/api/v1/allegations", ro.Token, nil); code != 200 {
		t.Fatalf("reading with a read token = %d", code)
	}
	size := f.Size()
	code, body, _ := f.do(t, "POST", "/api/v1/allegations", ro.Token, []byte(`{"body":{}}`), "Content-Type", "application/json")
	if code != 403 || !strings.Contains(string(body), "write") || f.Size() != size {
		t.Fatalf("writing with a read token = %d %s", code, body)
	}
	if code, _ := mk(`["read","root"]`); code != 400 {
		t.Fatalf("an unknown scope = %d", code)
	}
	// A token cannot grant what its maker lacks.
	code, body, _ = f.do(t, "POST", "/api/v1/tokens", ro.Token, []byte(`{"scopes":["write"]}`), "Content-Type", "application/json")
	if code != 403 {
		t.Fatalf("a read token making tokens = %d %s", code, body)
	}
	code, body, _ = f.do(t, "GET", "/api/v1/tokens", f.tokens["monitor-01"], nil)
	if code != 200 || strings.Contains(string(body), ro.Token) || !strings.Contains(string(body), ro.ID) {
		t.Fatalf("listing tokens = %d %s (must never show a token)", code, body)
	}
	if code, _, _ := f.do(t, "DELETE", "/api/v1/tokens/"+ro.ID, f.tokens["af-liaison"], nil); code != 404 {
		t.Fatalf("revoking another member's token = %d", code)
	}
	if code, _, _ := f.do(t, "DELETE", "/api/v1/tokens/"+ro.ID, f.tokens["monitor-01"], nil); code != 200 {
		t.Fatalf("revoking = %d", code)
	}
	if code, _, _ := f.do(t, "GET", "/api/v1/allegations", ro.Token, nil); code != 401 {
		t.Fatalf("a revoked token = %d", code)
	}
	// A token of another instance is unknown here.
	other := testkit.New(t, instance.Options{})
	tok, _, _ := auth.IssueToken(context.Background(), other.In.Store, auth.TokenSpec{Member: "pk-liaison"}, testkit.Start)
	if code, _, _ := f.do(t, "GET", "/api/v1/allegations", tok, nil); code != 401 {
		t.Fatalf("another instance's token = %d", code)
	}
}

// TestUploads: limits and file-name tricks refused, nothing stored.
func TestUploads(t *testing.T) {
	f := newFixture(t)
	up := func(name, ct string, body []byte) (int, []byte) {
		code, resp, _ := f.do(t, "POST", "/api/v1/blobs?name="+name, f.tokens["monitor-01"], body, "Content-Type", ct)
		return code, resp
	}
	code, body := up("photo.jpg", "image/jpeg", []byte("JPEG DATA"))
	var b struct{ SHA256 string }
	json.Unmarshal(body, &b)
	if code != 201 || len(b.SHA256) != 64 {
		t.Fatalf("upload = %d %s", code, body)
	}
	if code, got, _ := f.do(t, "GET", "/api/v1/blobs/"+b.SHA256, f.tokens["tr-mediator"], nil); code != 200 || string(got) != "JPEG DATA" {
		t.Fatalf("download by a mediator = %d %s", code, got)
	}
	if code, _, _ := f.do(t, "GET", "/api/v1/blobs/"+b.SHA256, f.tokens["af-liaison"], nil); code != 404 {
		t.Fatalf("download by a party = %d, want 404", code)
	}
	for _, name := range []string{"..%2F..%2Fetc%2Fpasswd", "a%2Fb.jpg", "c%3A%5Cboot.ini", "x%00y", "..", "%0Aname"} {
		if code, body := up(name, "image/jpeg", []byte("X")); code != 400 {
			t.Errorf("file name %q = %d %s", name, code, body)
		}
	}
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	if code, body := up("big.bin", "application/octet-stream", big); code != 413 {
		t.Fatalf("oversize upload = %d %s", code, body)
	}
	if code, body := up("x.bin", "", []byte("X")); code != 415 {
		t.Fatalf("upload without a media type = %d %s", code, body)
	}
	// Only the one good file is stored.
	n := 0
	filepath.Walk(blobRoot(t, f), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n++
		}
		return nil
	})
	if n != 1 {
		t.Fatalf("%d files stored, want 1", n)
	}
}

// TestRateLimits answers 429 with Retry-After past a member's rate.
func TestRateLimits(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	tok, _, _ := auth.IssueToken(context.Background(), env.In.Store, auth.TokenSpec{Member: "analyst"}, testkit.Start)
	limits := gate.DefaultLimits()
	limits.MemberRate, limits.MemberBurst = 1, 3
	served, err := server.New(env.In, server.Options{Clock: env.Clock.Now, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(served.Handler)
	defer srv.Close()
	var codes []int
	var last *http.Response
	for i := 0; i < 5; i++ {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/allegations", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		last = resp
	}
	if fmt.Sprint(codes) != "[200 200 200 429 429]" || last.Header.Get("Retry-After") == "" {
		t.Fatalf("codes %v, Retry-After %q", codes, last.Header.Get("Retry-After"))
	}
}

// TestNoSecretsLogged: passwords, tokens and session cookies appear
// neither in the log nor in the server's own logs.
func TestNoSecretsLogged(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hash, _ := auth.HashPassword("correct horse battery")
	env.In.Store.PutPassword(context.Background(), "tr-mediator", hash)
	served, err := server.New(env.In, server.Options{Clock: env.Clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(served.Handler)
	defer srv.Close()
	post := func(path, tok string, body string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for i := 0; i < 6; i++ { // failures, a lock-out
		post("/api/v1/session", "", `{"member":"tr-mediator","password":"wrong horse"}`).Body.Close()
	}
	resp := post("/api/v1/session", "", `{"member":"pk-liaison","password":"correct horse battery"}`)
	resp.Body.Close()
	tok, _, _ := auth.IssueToken(context.Background(), env.In.Store, auth.TokenSpec{Member: "tr-mediator", Scopes: policy.AllScopes}, time.Now())
	resp = post("/api/v1/tokens", tok, `{"scopes":["read"]}`)
	var issued api.TokenInfo
	json.NewDecoder(resp.Body).Decode(&issued)
	resp.Body.Close()
	f := &fixture{Env: env}
	all := logText(t, f) + logs.String()
	for _, secret := range []string{"correct horse battery", "wrong horse", tok, issued.Token} {
		if secret == "" || strings.Contains(all, secret) {
			t.Fatalf("a secret (%.8s...) is in the log or the server's logs", secret)
		}
	}
	if !strings.Contains(logs.String(), "locked out") {
		t.Fatal("the lock-out was not logged (the test would see nothing)")
	}
}

// blobRoot finds the fixture's blob directory.
func blobRoot(t *testing.T, f *fixture) string { return f.blobDir }

var _ = blob.Open

// Search finds a record by a word of its narrative for those who may see
// it, and for no one else; sealed content is not searched; bad queries are
// refused with what is wrong.
func TestSearch(t *testing.T) {
	f := newFixture(t)
	a := testkit.Allegation("AF", 1)
	a.Visibility = truce.Internal
	a.Narrative = "Internal report: sniper fire from the ridge above Ghulam Khan."
	sealed, opening := sealedOpening(`{"witnesses":["Zarmina Afridi"]}`)
	a.Sealed = &sealed
	env := f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, a)
	envJSON, _ := json.Marshal(env)
	wrapped, _ := json.Marshal(map[string]any{"envelope": json.RawMessage(envJSON), "opening": testkit.Opening(env), "sealed": opening})
	if code, body, _ := f.do(t, "POST", "/api/v1/allegations", f.tokens["pk-liaison"], wrapped, "Content-Type", "application/json"); code != 201 {
		t.Fatalf("filing = %d %s", code, body)
	}
	shared := testkit.Allegation("AF", 2)
	shared.Narrative = "Sniper fire on the road to Ghulam Khan, shared with both parties."
	f.WaitCheckpoint(t, f.Submit(t, f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, shared)).Index+1)
	search := func(who, query string) (int, string) {
		code, body, _ := f.do(t, "GET", "/api/v1/search?"+query, f.tokens[who], nil)
		var out struct{ Items []truce.SearchHit }
		json.Unmarshal(body, &out)
		var ids []string
		for _, h := range out.Items {
			ids = append(ids, h.ID)
		}
		if code != 200 {
			return code, string(body)
		}
		return code, strings.Join(ids, " ")
	}
	for _, c := range []struct{ who, query, want string }{
		{"pk-liaison", "q=sniper", "AL-0002 AL-0001"}, // newest first
		{"tr-mediator", "q=ridge", "AL-0001"},
		{"af-liaison", "q=sniper", "AL-0002"},
		{"af-liaison", "q=ridge", ""},
		{"observer", "q=ridge", ""},
		{"pk-liaison", "q=zarmina", ""}, // sealed: never indexed
		{"pk-liaison", "q=sniper&type=case", ""},
		{"pk-liaison", "q=sniper&to=2000-01-01", ""},
	} {
		if code, got := search(c.who, c.query); code != 200 || got != c.want {
			t.Errorf("%s searching %s = %d %q, want %q", c.who, c.query, code, got, c.want)
		}
	}
	for _, q := range []string{"", "q=%22%2A", "type=member&q=sniper", "q=sniper&from=yesterday", "q=" + strings.Repeat("a+", 150)} {
		if code, body := search("pk-liaison", q); code/100 != 4 || !strings.Contains(body, `"error"`) {
			t.Errorf("search ?%s = %d %s, want a 4xx that names the problem", q, code, body)
		}
	}
	if code, _, _ := f.do(t, "GET", "/api/v1/search?q=sniper", "", nil); code != 401 {
		t.Errorf("an anonymous search = %d", code)
	}
}
