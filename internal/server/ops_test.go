package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/web"
	"github.com/truce-mvm/truce/internal/wire"
)

// logBuffer collects log lines written from the handlers' goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines are the request log's lines, decoded.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a log line that is not JSON: %s", sc.Text())
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// await waits for the request log to hold n request lines: a line is
// written once the handler returns, which may be just after the client
// has the answer.
func (l *logBuffer) await(t *testing.T, n int) []map[string]any {
	t.Helper()
	for range 200 {
		if ls := l.lines(t); len(ls) >= n {
			return ls
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the request log has %d lines, not %d:\n%s", len(l.lines(t)), n, l.String())
	return nil
}

// opsTarget serves a test instance with o, its request log in JSON.
type opsTarget struct {
	*testkit.Env
	srv  *server.Server
	url  string
	logs *logBuffer
	c    *http.Client
}

func newOpsTarget(t *testing.T, env *testkit.Env, o server.Options) *opsTarget {
	t.Helper()
	if env == nil {
		env = testkit.New(t, instance.Options{})
	}
	logs := &logBuffer{}
	o.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	o.RequestLog = true
	if o.Clock == nil {
		o.Clock = env.Clock.Now
	}
	srv, err := server.New(env.In, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := srv.Start(ctx)
	ts := httptest.NewServer(srv.Handler)
	t.Cleanup(func() { ts.Close(); cancel(); stop() })
	return &opsTarget{Env: env, srv: srv, url: ts.URL, logs: logs,
		c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (o *opsTarget) get(t *testing.T, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", o.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return o.do(t, req)
}

func (o *opsTarget) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := o.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (o *opsTarget) token(t *testing.T, member string, scopes ...string) string {
	tok, _, err := auth.IssueToken(context.Background(), o.In.Store, auth.TokenSpec{Member: member, Scopes: scopes}, testkit.Start)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// addressLimits allow three requests an address, and no more for minutes.
func addressLimits() gate.Limits {
	l := gate.DefaultLimits()
	l.AddressRate, l.AddressBurst, l.MemberRate = 0.001, 3, 0
	return l
}

func proxies(t *testing.T, list ...string) gate.Proxies {
	p, err := gate.ParseProxies(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An attacker connecting directly cannot dodge the per-address rate limit
// by naming other addresses in X-Forwarded-For: only trusted proxies are
// believed, and this one (127.0.0.1) is not among them.
func TestSpoofedForwardedForIgnored(t *testing.T) {
	o := newOpsTarget(t, nil, server.Options{Limits: addressLimits(), Proxies: proxies(t, "10.0.0.0/8")})
	for i := range 4 {
		resp, _ := o.get(t, "/healthz", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i), "X-Forwarded-Proto", "https")
		if want := map[bool]int{true: 429, false: 200}[i == 3]; resp.StatusCode != want {
			t.Fatalf("request %d with a forged X-Forwarded-For = %d, want %d", i, resp.StatusCode, want)
		}
	}
	for _, l := range o.logs.await(t, 4) {
		if l["client"] != "127.0.0.1" {
			t.Errorf("the log believed a forged client: %v", l)
		}
	}
	// Behind a trusted proxy, each client has its own allowance, and one
	// client is limited by its own address.
	o = newOpsTarget(t, nil, server.Options{Limits: addressLimits(), Proxies: proxies(t, "127.0.0.1")})
	for i := range 6 {
		if resp, _ := o.get(t, "/healthz", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)); resp.StatusCode != 200 {
			t.Fatalf("client %d behind the proxy = %d", i, resp.StatusCode)
		}
	}
	for i := range 3 {
		if resp, _ := o.get(t, "/healthz", "X-Forwarded-For", "203.0.113.9"); resp.StatusCode != 200 {
			t.Fatalf("request %d of one client = %d", i, resp.StatusCode)
		}
	}
	if resp, _ := o.get(t, "/healthz", "X-Forwarded-For", "203.0.113.9"); resp.StatusCode != 429 {
		t.Fatalf("a client over its allowance behind the proxy = %d", resp.StatusCode)
	}
}

// Behind a chain of proxies the client is the rightmost address that is
// not a trusted proxy: what it wrote to the left of that is its own claim,
// and varying it neither changes who it is nor escapes its limit.
func TestForwardedChain(t *testing.T) {
	o := newOpsTarget(t, nil, server.Options{Limits: addressLimits(), Proxies: proxies(t, "127.0.0.1/32", "10.0.0.0/8")})
	for i := range 4 {
		resp, _ := o.get(t, "/healthz", "X-Forwarded-For", fmt.Sprintf("192.0.2.%d, 6.6.6.6, 10.0.0.2", i))
		if want := map[bool]int{true: 429, false: 200}[i == 3]; resp.StatusCode != want {
			t.Fatalf("request %d = %d, want %d", i, resp.StatusCode, want)
		}
	}
	for _, l := range o.logs.await(t, 4) {
		if l["client"] != "6.6.6.6" {
			t.Errorf("client = %v, want 6.6.6.6", l["client"])
		}
	}
}

// The request log has a line per request with what an operator needs, and
// none of the secrets a request can carry: API tokens, session cookies and
// CSRF tokens, passwords, the feed's token in its path, an enrolment
// link's token (also mistyped), tokens in a query.
func TestRequestLogHasNoSecrets(t *testing.T) {
	o := newOpsTarget(t, nil, server.Options{})
	ctx := context.Background()
	tok := o.token(t, "pk-liaison", policy.AllScopes...)
	var secrets []string
	secret := func(s string) string {
		if len(s) < 12 {
			t.Fatalf("secret %q is too short to look for", s)
		}
		secrets = append(secrets, s)
		return s
	}
	secret(tok)
	n := 0
	expect := func(resp *http.Response, body string, status int) {
		t.Helper()
		n++
		if resp.StatusCode != status {
			t.Fatalf("= %d, want %d: %.300s", resp.StatusCode, status, body)
		}
	}

	resp, body := o.get(t, "/api/v1/allegations?limit=5", "Authorization", "Bearer "+tok)
	expect(resp, body, 200)
	req, _ := http.NewRequest("POST", o.url+"/api/v1/notifications/feed", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, body = o.do(t, req)
	expect(resp, body, 201)
	var feed struct{ Token, Path string }
	json.Unmarshal([]byte(body), &feed)
	secret(feed.Token)
	resp, body = o.get(t, feed.Path)
	expect(resp, body, 200)

	invite, err := auth.NewInvite(ctx, o.In.Store, "af-liaison", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	secret(invite)
	resp, body = o.get(t, "/enrol/"+invite)
	expect(resp, body, 200)
	resp, body = o.get(t, "/enrl/"+invite) // mistyped
	expect(resp, body, 404)
	password := secret("Olive groves by the river 1914")
	form := url.Values{"password": {password}, "again": {password}}
	req, _ = http.NewRequest("POST", o.url+"/enrol/"+invite, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body = o.do(t, req)
	expect(resp, body, 303)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie after enrolling")
	}
	secret(cookie.Value)
	req, _ = http.NewRequest("GET", o.url+"/api/v1/session", nil)
	req.AddCookie(cookie)
	resp, body = o.do(t, req)
	expect(resp, body, 200)
	var sess struct{ CSRF string }
	json.Unmarshal([]byte(body), &sess)
	secret(sess.CSRF)
	req, _ = http.NewRequest("DELETE", o.url+"/api/v1/session", nil)
	req.AddCookie(cookie)
	req.Header.Set("X-CSRF-Token", sess.CSRF)
	resp, body = o.do(t, req)
	expect(resp, body, 204)

	resp, body = o.get(t, "/signin?next="+url.QueryEscape("/enrol/"+invite)+"&token="+tok)
	expect(resp, body, 200)
	resp, body = o.get(t, "/api/v1/allegations", "Authorization", "Bearer "+invite) // a wrong credential is still a secret
	expect(resp, body, 401)
	req, _ = http.NewRequest("POST", o.url+"/api/v1/session", strings.NewReader(`{"member":"af-liaison","password":"`+password+`"}`))
	resp, body = o.do(t, req)
	expect(resp, body, 201)

	lines := o.logs.await(t, n)
	raw := o.logs.String()
	for _, s := range secrets {
		if strings.Contains(raw, s) {
			t.Errorf("the log holds the secret %q:\n%s", s, raw)
		}
	}
	first := lines[0]
	for _, k := range []string{"method", "path", "route", "status", "bytes", "duration_ms", "client", "member"} {
		if _, ok := first[k]; !ok {
			t.Errorf("the request line has no %s: %v", k, first)
		}
	}
	if first["member"] != "pk-liaison" || first["path"] != "/api/v1/allegations" || first["route"] != "GET /api/v1/allegations" ||
		first["status"] != float64(200) || first["bytes"].(float64) < 10 || first["client"] != "127.0.0.1" {
		t.Errorf("the first request's line: %v", first)
	}
	paths := map[string]bool{}
	for _, l := range lines {
		paths[l["path"].(string)] = true
	}
	for _, p := range []string{"/feeds/[secret]", "/enrol/[secret]", "/enrl/[secret]", "/signin"} {
		if !paths[p] {
			t.Errorf("no line for %s: %v", p, paths)
		}
	}
}

// Cookies are Secure when the client came over HTTPS — as a trusted proxy
// says; a client's own X-Forwarded-Proto is not believed.
func TestSecureCookieBehindProxy(t *testing.T) {
	for _, c := range []struct {
		trust  string
		secure bool
	}{{"127.0.0.1", true}, {"10.0.0.0/8", false}} {
		o := newOpsTarget(t, nil, server.Options{Proxies: proxies(t, c.trust)})
		invite, err := auth.NewInvite(context.Background(), o.In.Store, "af-liaison", time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"password": {"Olive groves by the river 1914"}, "again": {"Olive groves by the river 1914"}}
		req, _ := http.NewRequest("POST", o.url+"/enrol/"+invite, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, body := o.do(t, req)
		if resp.StatusCode != 303 || len(resp.Cookies()) == 0 {
			t.Fatalf("enrolling = %d %.200s", resp.StatusCode, body)
		}
		for _, ck := range resp.Cookies() {
			if ck.Secure != c.secure {
				t.Errorf("trusting %s: cookie %s Secure = %v", c.trust, ck.Name, ck.Secure)
			}
		}
	}
}

func readyz(t *testing.T, o *opsTarget) (int, wire.Ready) {
	t.Helper()
	resp, body := o.get(t, "/readyz")
	var rd wire.Ready
	if err := json.Unmarshal([]byte(body), &rd); err != nil {
		t.Fatalf("/readyz = %d %s", resp.StatusCode, body)
	}
	return resp.StatusCode, rd
}

func check(rd wire.Ready, name string) *wire.ReadyCheck {
	for i := range rd.Checks {
		if rd.Checks[i].Name == name {
			return &rd.Checks[i]
		}
	}
	return nil
}

// /readyz reports each check, the node's role as its hook says, and is
// 503 while the role is not known; /healthz is not its concern.
func TestReadyz(t *testing.T) {
	var role atomic.Value
	role.Store("")
	o := newOpsTarget(t, nil, server.Options{Role: func() string { return role.Load().(string) }})
	status, rd := readyz(t, o)
	if status != 503 || rd.Ready || check(rd, "role") == nil || check(rd, "role").OK || !check(rd, "log").OK || !check(rd, "store").OK {
		t.Fatalf("/readyz with no role = %d %+v", status, rd)
	}
	if check(rd, "witnesses") != nil {
		t.Errorf("a witness check without witnesses: %+v", rd)
	}
	if resp, _ := o.get(t, "/healthz"); resp.StatusCode != 200 {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	role.Store("standby")
	if status, rd := readyz(t, o); status != 200 || !rd.Ready || rd.Role != "standby" {
		t.Fatalf("/readyz as a standby = %d %+v", status, rd)
	}
	o = newOpsTarget(t, nil, server.Options{})
	if status, rd := readyz(t, o); status != 200 || rd.Role != "single" || len(rd.Checks) != 3 {
		t.Fatalf("/readyz with the sequencer's role = %d %+v", status, rd)
	}
}

// With witnesses, /readyz waits for a quorum's cosignature and says not
// ready once a checkpoint has waited for one longer than allowed; the
// metrics show the lag.
func TestReadyzWitnesses(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopWitnesses, err := env.In.StartLocalWitnesses(ctx, []instance.LocalWitness{{Dir: "w1", Name: "witness.one.example"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stopWitnesses()
	pub, err := env.In.Publisher(ctx, nil)
	if err != nil || pub == nil {
		t.Fatalf("publisher: %v", err)
	}
	stopPub := pub.Start(ctx)
	defer stopPub()
	const token = "a-metrics-token-for-the-test"
	o := newOpsTarget(t, env, server.Options{Witnesses: pub, WitnessLag: time.Second, MetricsToken: token})
	if _, err := pub.Wait(ctx, env.In.Seq.Checkpoint().Size); err != nil {
		t.Fatal(err)
	}
	status, rd := readyz(t, o)
	if status != 200 || check(rd, "witnesses") == nil || !check(rd, "witnesses").OK {
		t.Fatalf("/readyz with the witness cosigning = %d %+v", status, rd)
	}
	stopWitnesses()
	o.Submit(t, o.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)))
	o.WaitCheckpoint(t, o.Size())
	time.Sleep(1200 * time.Millisecond)
	status, rd = readyz(t, o)
	if w := check(rd, "witnesses"); status != 503 || w == nil || w.OK || !strings.Contains(w.Detail, "not cosigned") {
		t.Fatalf("/readyz with the witness gone = %d %+v", status, rd)
	}
	m := scrape(t, o, token)
	if m["truce_witness_lag_entries"] < 1 || m["truce_witness_lag_seconds"] < 1 {
		t.Errorf("the witness lag in the metrics: %v entries, %v s", m["truce_witness_lag_entries"], m["truce_witness_lag_seconds"])
	}
}

// scrape reads the metrics on the main listener: every sample, by its
// name and labels as written.
func scrape(t *testing.T, o *opsTarget, token string) map[string]float64 {
	t.Helper()
	resp, body := o.get(t, "/metrics", "Authorization", "Bearer "+token)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics with its token = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return parseMetrics(t, body)
}

func parseMetrics(t *testing.T, body string) map[string]float64 {
	m := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q", line)
		}
		m[line[:i]] = v
	}
	return m
}

// /metrics is for the operator only: absent from the main listener
// without a metrics token; with one, refused to anyone without it — an
// anonymous reader, a member's API token or session — and its figures
// move as entries are appended.
func TestMetrics(t *testing.T) {
	o := newOpsTarget(t, nil, server.Options{})
	memberTok := o.token(t, "admin", policy.AllScopes...)
	for _, h := range [][]string{nil, {"Authorization", "Bearer " + memberTok}} {
		if resp, body := o.get(t, "/metrics", h...); resp.StatusCode != 404 || strings.Contains(body, "truce_") {
			t.Fatalf("/metrics without a metrics token (%v) = %d", h, resp.StatusCode)
		}
	}

	const token = "m3trics-t0ken-of-the-operator"
	o = newOpsTarget(t, nil, server.Options{MetricsToken: token})
	memberTok = o.token(t, "admin", policy.AllScopes...)
	cookie, _, err := auth.NewSession(context.Background(), o.In.Store, "admin", testkit.Start, auth.SessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string][]string{
		"anonymous":          nil,
		"a member's token":   {"Authorization", "Bearer " + memberTok},
		"a member's session": {"Cookie", auth.SessionCookie + "=" + cookie},
		"a wrong token":      {"Authorization", "Bearer " + token + "x"},
		"the token as basic": {"Authorization", "Basic " + token},
	} {
		if resp, body := o.get(t, "/metrics", h...); resp.StatusCode != 401 || strings.Contains(body, "truce_log") {
			t.Errorf("/metrics as %s = %d", name, resp.StatusCode)
		}
	}
	// The handler for a listener of its own is guarded by the token too.
	rec := httptest.NewRecorder()
	o.srv.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 401 {
		t.Errorf("the metrics listener's handler without the token = %d", rec.Code)
	}

	before := scrape(t, o, token)
	tok := o.token(t, "pk-liaison", policy.AllScopes...)
	const posted = 3
	for i := range posted {
		b, _ := json.Marshal(map[string]any{"body": testkit.Allegation("AF", i+1)})
		req, _ := http.NewRequest("POST", o.url+"/api/v1/allegations", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		if resp, body := o.do(t, req); resp.StatusCode != 201 {
			t.Fatalf("filing = %d %s", resp.StatusCode, body)
		}
	}
	o.get(t, "/api/v1/allegations/AL-0001", "Authorization", "Bearer "+tok)
	o.logs.await(t, 5+1+posted+1)
	after := scrape(t, o, token)
	for _, name := range []string{"truce_log_size_entries", "truce_log_entries_appended_total", "truce_log_batch_size_entries_count", "truce_log_batch_size_entries_sum"} {
		if d := after[name] - before[name]; d < posted || (name == "truce_log_size_entries" && d != posted) {
			t.Errorf("%s moved by %v for %d entries (%v → %v)", name, d, posted, before[name], after[name])
		}
	}
	if got := after[`truce_http_requests_total{code="201",route="POST /api/v1/allegations"}`]; got != posted {
		t.Errorf("requests counted for the filing route: %v\n", got)
	}
	if got := after[`truce_http_requests_total{code="200",route="GET /api/v1/allegations/{id}"}`]; got != 1 {
		t.Errorf("requests counted by route pattern, not path: %v", got)
	}
	if got := after[`truce_http_requests_total{code="401",route="GET /metrics"}`]; got != 5 {
		t.Errorf("refused scrapes counted: %v", got)
	}
	for _, name := range []string{`truce_http_request_duration_seconds_count{route="POST /api/v1/allegations"}`, `truce_log_checkpoint_age_seconds`,
		`truce_store_errors_total{op="append"}`, `truce_node_role{role="single"}`, `go_goroutines`, `process_resident_memory_bytes`} {
		if _, ok := after[name]; !ok {
			t.Errorf("no %s in the metrics", name)
		}
	}
	if after[`truce_store_errors_total{op="append"}`] != 0 {
		t.Errorf("store errors counted on a healthy store")
	}
}

// Every path parameter of either surface is decided: a credential, which
// the request log hides (gate.LogPath), or a name that may be logged. A
// route added with a parameter of a new name fails here until it is.
func TestLoggedPathParameters(t *testing.T) {
	public := map[string]bool{"{id}": true, "{type}": true, "{action}": true, "{sha256}": true, "{path...}": true}
	secret := map[string]bool{"GET /enrol/{token}": true, "POST /enrol/{token}": true, "GET /feeds/{file}": true}
	const tok = "q0Vd3k2xJ9mZ_u-7sQ1bT5wYc8LrA6eHnP4fGiKoMjU"
	for _, rt := range append(api.Routes(), web.Routes()...) {
		name := rt.Method + " " + rt.Path
		for _, seg := range strings.Split(rt.Path, "/") {
			if !strings.HasPrefix(seg, "{") || seg == "{$}" {
				continue
			}
			switch {
			case secret[name]:
				r := httptest.NewRequest(rt.Method, "/", nil)
				r.URL.Path = strings.ReplaceAll(rt.Path, seg, tok+".atom")
				if strings.Contains(gate.LogPath(r), tok) {
					t.Errorf("%s: the log shows its credential: %s", name, gate.LogPath(r))
				}
			case !public[seg]:
				t.Errorf("%s: is %s a secret? Decide here, and in gate.LogPath if it is", name, seg)
			}
		}
	}
}

// A batch the store does not commit is counted as a store error, and its
// entries not as appended.
func TestMetricsCountStoreErrors(t *testing.T) {
	var armed atomic.Bool
	env := testkit.New(t, instance.Options{StoreOptions: sqlite.Options{Fail: func(step string) error {
		if step == "records" && armed.CompareAndSwap(true, false) {
			return errors.New("injected fault")
		}
		return nil
	}}})
	const token = "m3trics-t0ken-of-the-operator"
	o := newOpsTarget(t, env, server.Options{MetricsToken: token})
	before := scrape(t, o, token)
	armed.Store(true)
	if _, err := o.In.Seq.Submit(context.Background(), o.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)), nil, nil); err == nil {
		t.Fatal("the injected fault refused nothing")
	}
	after := scrape(t, o, token)
	if d := after[`truce_store_errors_total{op="append"}`] - before[`truce_store_errors_total{op="append"}`]; d != 1 {
		t.Errorf("store errors moved by %v", d)
	}
	if after["truce_log_entries_appended_total"] != before["truce_log_entries_appended_total"] || after["truce_log_size_entries"] != before["truce_log_size_entries"] {
		t.Errorf("a refused batch counted as appended: %v → %v", before["truce_log_entries_appended_total"], after["truce_log_entries_appended_total"])
	}
}
