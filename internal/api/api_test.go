package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/testkit/c2sp"
)

type fixture struct {
	*testkit.Env
	srv     *httptest.Server
	tokens  map[string]string
	blobDir string
}

func newFixture(t *testing.T) *fixture {
	env := testkit.New(t, instance.Options{CheckpointInterval: time.Millisecond})
	f := &fixture{Env: env, tokens: map[string]string{}}
	for _, m := range testkit.Members {
		tok, _, err := auth.IssueToken(context.Background(), env.In.Store, auth.TokenSpec{Member: m.ID, Scopes: policy.AllScopes}, testkit.Start)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[m.ID] = tok
	}
	f.blobDir = filepath.Join(env.In.Dir, instance.BlobDir)
	limits := gate.DefaultLimits()
	limits.MaxUploadBytes = 1 << 20
	limits.AddressBurst = 10000 // the authorization matrix sends every route from one address
	srv, err := server.New(env.In, server.Options{Clock: env.Clock.Now, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(srv.Handler)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, token string, body []byte, hdr ...string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (f *fixture) post(t *testing.T, member string, e *dsse.Envelope) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(e)
	code, body, _ := f.do(t, "POST", "/api/v1/entries", f.tokens[member], b, "Content-Type", "application/json")
	return code, body
}

// errCode checks a JSON error body and returns its code.
func errCode(t *testing.T, body []byte) truce.Code {
	t.Helper()
	var e struct {
		Error struct {
			Code    truce.Code `json:"code"`
			Message string     `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not a JSON error: %s", body)
	}
	return e.Error.Code
}

func TestFileListGet(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		code, body := f.post(t, "pk-liaison", f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", i)))
		if code != 201 {
			t.Fatalf("POST = %d %s", code, body)
		}
	}
	a := testkit.Allegation("PK", 3)
	a.Category = "air_drone_strike"
	a.Clauses = []string{"no-air-strikes"}
	a.Place.Lat, a.Place.Lon = 31.6, 65.7 // Kandahar
	code, body := f.post(t, "af-liaison", f.Signers["af-liaison"].Sign(t, rules.KindAllegationFiled, a))
	if code != 201 {
		t.Fatalf("POST = %d %s", code, body)
	}
	var ack struct {
		Index  int64 `json:"index"`
		Record struct{ Type, ID string }
	}
	json.Unmarshal(body, &ack)
	if ack.Record.ID != "AL-0006" {
		t.Fatalf("ack = %s", body)
	}

	list := func(q string) []string {
		t.Helper()
		code, body, _ := f.do(t, "GET", "/api/v1/allegations"+q, f.tokens["tr-mediator"], nil)
		if code != 200 {
			t.Fatalf("GET %s = %d %s", q, code, body)
		}
		var l struct {
			Items []truce.Allegation `json:"items"`
			Next  string             `json:"next"`
		}
		json.Unmarshal(body, &l)
		var ids []string
		for _, it := range l.Items {
			ids = append(ids, it.ID)
		}
		if l.Next != "" {
			ids = append(ids, "next="+l.Next)
		}
		return ids
	}
	for q, want := range map[string]string{
		"":                           "[AL-0006 AL-0005 AL-0004 AL-0003 AL-0002 AL-0001]",
		"?accused=PK":                "[AL-0006]",
		"?filer=PK&limit=2":          fmt.Sprintf("[AL-0005 AL-0004 next=%d]", ack.Index-2),
		"?category=air_drone_strike": "[AL-0006]",
		"?bbox=64,30,67,33":          "[AL-0006]",
		"?party=AF&from=2026-10-25T06:30:00Z&to=2026-10-25T07:30:00Z": "[AL-0002]",
		"?from=2026-10-26": "[]",
	} {
		if got := fmt.Sprint(list(q)); got != want {
			t.Errorf("list %q = %s, want %s", q, got, want)
		}
	}
	if got := fmt.Sprint(list(fmt.Sprintf("?filer=PK&limit=2&cursor=%d", ack.Index-2))); got != fmt.Sprintf("[AL-0003 AL-0002 next=%d]", ack.Index-4) {
		t.Errorf("second page = %s", got)
	}

	code, body, _ = f.do(t, "GET", "/api/v1/allegations/AL-0006", f.tokens["pk-liaison"], nil)
	var one struct {
		Allegation truce.Allegation    `json:"allegation"`
		History    []truce.HistoryItem `json:"history"`
	}
	if err := json.Unmarshal(body, &one); code != 200 || err != nil || one.Allegation.Accused != "PK" || len(one.History) != 1 || one.History[0].Index != ack.Index {
		t.Fatalf("GET one = %d %s", code, body)
	}
	if code, body, _ := f.do(t, "GET", "/api/v1/allegations/AL-9999", f.tokens["pk-liaison"], nil); code != 404 || errCode(t, body) != truce.CodeNotFound {
		t.Fatalf("GET missing = %d %s", code, body)
	}
	code, body, _ = f.do(t, "GET", "/api/v1/members/pk-liaison", f.tokens["pk-liaison"], nil)
	if !strings.Contains(string(body), `"seq":6`) || code != 200 { // five filings, and its approval of its own custodial key
		t.Fatalf("GET member = %d %s", code, body)
	}
	code, body, _ = f.do(t, "GET", "/api/v1/agreement", f.tokens["pk-liaison"], nil)
	if code != 200 || !strings.Contains(string(body), "no-cross-border-fire") {
		t.Fatalf("GET agreement = %d %s", code, body)
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	expired, _, _ := auth.IssueToken(ctx, f.In.Store, auth.TokenSpec{Member: "pk-liaison", Expires: testkit.Start.Add(-time.Minute)}, testkit.Start)
	revoked, _, _ := auth.IssueToken(ctx, f.In.Store, auth.TokenSpec{Member: "pk-liaison"}, testkit.Start)
	tok, _ := f.In.Store.Token(ctx, auth.HashToken(revoked))
	tok.Revoked = true
	f.In.Store.PutToken(ctx, *tok)
	ghost, _, _ := auth.IssueToken(ctx, f.In.Store, auth.TokenSpec{Member: "nobody"}, testkit.Start)
	for name, token := range map[string]string{
		"none": "", "forged": "truce_AAAA", "expired": expired, "revoked": revoked, "unregistered member": ghost,
	} {
		code, body, hdr := f.do(t, "GET", "/api/v1/allegations", token, nil)
		if code != 401 || errCode(t, body) != truce.CodeUnauthorized || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s token: %d %s", name, code, body)
		}
	}
	// The log and the API description are public.
	for _, p := range []string{"/log/checkpoint", "/log/vkey", "/healthz", "/api/openapi.json"} {
		if code, body, _ := f.do(t, "GET", p, "", nil); code != 200 {
			t.Errorf("GET %s without a token = %d %s", p, code, body)
		}
	}
}

// Bad requests get a clear JSON error and the log does not grow.
func TestBadRequests(t *testing.T) {
	f := newFixture(t)
	pk := f.Signers["pk-liaison"]
	good, _ := json.Marshal(pk.SignSeq(t, rules.KindAllegationFiled, 100, testkit.Allegation("AF", 1)))
	offGlobe := testkit.Allegation("AF", 1)
	offGlobe.Place.Lat = -95
	offGlobeJSON, _ := json.Marshal(pk.SignSeq(t, rules.KindAllegationFiled, 101, offGlobe))
	size := f.Size()
	for _, c := range []struct {
		name   string
		body   []byte
		ct     string
		status int
		code   truce.Code
	}{
		{"malformed JSON", []byte(`{"payloadType":`), "application/json", 400, truce.CodeInvalid},
		{"not an envelope", []byte(`{"hello":"world"}`), "application/json", 400, truce.CodeInvalid},
		{"trailing data", append(append([]byte{}, good...), []byte(`{}`)...), "application/json", 400, truce.CodeInvalid},
		{"oversize body", bytes.Repeat([]byte(" "), 200000), "application/json", 413, truce.CodeTooLarge},
		{"wrong media type", good, "text/plain", 415, truce.CodeMediaType},
		{"bad coordinates", offGlobeJSON, "application/json", 422, truce.CodeBadLocation},
	} {
		code, body, _ := f.do(t, "POST", "/api/v1/entries", f.tokens["pk-liaison"], c.body, "Content-Type", c.ct)
		if code != c.status || errCode(t, body) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, body, c.status, c.code)
		}
	}
	if f.Size() != size {
		t.Fatal("the log grew")
	}
	for _, q := range []string{"?limit=0", "?limit=1000", "?cursor=x", "?from=yesterday", "?bbox=1,2,3", "?bbox=0,0,200,10", "?category=picnic", "?party=pakistan", "?from=2026-10-20&to=2026-10-01"} {
		code, body, _ := f.do(t, "GET", "/api/v1/allegations"+q, f.tokens["pk-liaison"], nil)
		if code/100 != 4 {
			t.Errorf("GET %s = %d %s", q, code, body)
		}
		errCode(t, body)
	}
	if code, body, _ := f.do(t, "DELETE", "/api/v1/allegations/AL-0001", f.tokens["pk-liaison"], nil); code/100 != 4 {
		t.Errorf("DELETE = %d %s", code, body)
	}
}

// The served log is accepted by an independent C2SP verifier.
func TestLogIsC2SP(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 300; i++ {
		author := testkit.MonitorID(1 + i%testkit.Monitors)
		f.Submit(t, f.Signers[author].Sign(t, rules.KindAllegationFiled, testkit.Allegation([]string{"AF", "PK"}[i%2], i)))
	}
	f.WaitCheckpoint(t, f.Size())
	res, err := c2sp.Verify(context.Background(), f.srv.URL+"/log", testkit.Origin, f.In.VKey, f.tokens["analyst"])
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != uint64(f.Size()) {
		t.Fatalf("verified a tree of %d, the log has %d", res.Size, f.Size())
	}
	code, body, hdr := f.do(t, "GET", "/log/vkey", "", nil)
	if code != 200 || strings.Count(string(body), "\n") != 1 || !strings.HasPrefix(string(body), testkit.Origin+"+") || hdr.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("vkey = %q", body)
	}
	for _, p := range []string{"/log/tile/0/x001", "/log/tile/0/000.p/0", "/log/tile/entries/999", "/log/tile/0/001.p/255", "/log/tile/0/..%2f000", "/log/tile/entries/000.p/256"} {
		if code, body, _ := f.do(t, "GET", p, f.tokens["analyst"], nil); code != 404 {
			t.Errorf("GET %s = %d %s", p, code, body)
		}
	}
	for _, q := range []string{"index=0&size=999999", "index=5&size=5", "index=-1&size=5", "old=0&size=5", "old=6&size=5"} {
		path := "/log/proof/inclusion?" + q
		if strings.HasPrefix(q, "old") {
			path = "/log/proof/consistency?" + q
		}
		if code, body, _ := f.do(t, "GET", path, f.tokens["analyst"], nil); code != 400 {
			t.Errorf("GET %s = %d %s", path, code, body)
		}
	}
	// The whole log is for members and witnesses; checkpoints are for all.
	if code, _, _ := f.do(t, "GET", "/log/tile/entries/000", "", nil); code != 401 {
		t.Errorf("anonymous tile read = %d", code)
	}
	if code, _, _ := f.do(t, "GET", "/log/checkpoint", "", nil); code != 200 {
		t.Errorf("anonymous checkpoint read = %d", code)
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	f := newFixture(t)
	code, body, _ := f.do(t, "GET", "/api/openapi.json", "", nil)
	if code != 200 {
		t.Fatal(code)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	// The document is the route table, and every documented operation is
	// served: without a token, a protected one answers 401, not 404.
	public := map[policy.Action]bool{policy.Health: true, policy.APIDoc: true, policy.LogCheckpoint: true, policy.Login: true,
		policy.ReadFeed:      true, // a feed's token is in its path
		policy.ReadPublished: true} // published reports are for anyone to check
	want := map[string]bool{}
	for _, rt := range api.Routes() {
		want[strings.ToLower(rt.Method)+" "+strings.ReplaceAll(rt.Path, "...}", "}")] = true
		if !public[rt.Action] {
			path := strings.NewReplacer("{id}", "X", "{sha256}", "X", "{path...}", "0/000").Replace(rt.Path)
			if code, body, _ := f.do(t, rt.Method, path, "", nil); code != 401 {
				t.Errorf("%s %s without a token = %d %s", rt.Method, path, code, body)
			}
		}
	}
	n := 0
	for p, ops := range doc.Paths {
		for m, op := range ops {
			n++
			if !want[m+" "+p] {
				t.Errorf("documented %s %s is not a route", m, p)
			}
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s has no responses", m, p)
			}
			for _, name := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(p, -1) {
				if !strings.Contains(fmt.Sprint(op["parameters"]), "name:"+name[1]) {
					t.Errorf("%s %s does not document its path parameter %s", m, p, name[1])
				}
			}
		}
	}
	if n != len(want) || n < 40 {
		t.Errorf("documented %d operations, the table has %d", n, len(want))
	}
	// Every $ref resolves.
	var full map[string]any
	json.Unmarshal(body, &full)
	schemas := full["components"].(map[string]any)["schemas"].(map[string]any)
	for _, ref := range refs(full) {
		if _, ok := schemas[strings.TrimPrefix(ref, "#/components/schemas/")]; !ok {
			t.Errorf("dangling $ref %s", ref)
		}
	}
}

func refs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, refs(x)...)
		}
	}
	return out
}

func base64Std(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
