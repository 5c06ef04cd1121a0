package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/web"
)

// viewers are who the matrix tries every route as.
var viewers = []string{"anonymous", "observer", "pk-liaison", "af-liaison", "tr-mediator", "monitor-01", "analyst", "admin"}

var (
	everyone = viewers
	authed   = viewers[1:]                                                                  // the public role too
	members  = viewers[2:]                                                                  // not the public role
	workers  = []string{"pk-liaison", "af-liaison", "tr-mediator", "monitor-01", "analyst"} // who handle evidence
)

// expected is the access policy written out independently of the code:
// for each action, who may do it and which credential scope it needs ("":
// none). A route whose action is missing here fails the test, and so does
// an action no route uses, so no route of either surface goes without a
// decided policy.
var expected = map[policy.Action]struct {
	who   []string
	scope string
}{
	policy.Health:              {everyone, ""},
	policy.Static:              {everyone, ""},
	policy.APIDoc:              {everyone, ""},
	policy.LogCheckpoint:       {everyone, ""},
	policy.Login:               {everyone, ""},
	policy.Enrol:               {everyone, ""},
	policy.LogRead:             {members, "read"},
	policy.Logout:              {authed, ""},
	policy.Dashboard:           {authed, "read"},
	policy.ReadRecords:         {authed, "read"},
	policy.Export:              {authed, "read"},
	policy.ManageTokens:        {authed, "manage"},
	policy.ReadMembers:         {members, "read"},
	policy.ReadOverdue:         {members, "read"},
	policy.ReadBlob:            {members, "read"},
	policy.Submit:              {members, "write"},
	policy.UploadBlob:          {workers, "write"},
	policy.InviteMembers:       {[]string{"admin"}, "manage"},
	policy.ManageNotifications: {authed, "manage"},
	policy.ReadFeed:            {everyone, ""},
	policy.ReadPublished:       {everyone, ""},
}

// credential is how a viewer authenticates: a browser session (every
// scope), or a token with one scope.
type credential struct {
	name    string
	scopes  []string
	session bool
}

var credentials = []credential{
	{"session", policy.AllScopes, true},
	{"read-token", []string{"read"}, false},
	{"write-token", []string{"write"}, false},
	{"manage-token", []string{"manage"}, false},
}

// route is a route of either surface.
type route struct {
	surface, method, path string
	action                policy.Action
}

func routes() []route {
	var out []route
	for _, r := range api.Routes() {
		out = append(out, route{"api", r.Method, r.Path, r.Action})
	}
	for _, r := range web.Routes() {
		out = append(out, route{"pages", r.Method, r.Path, r.Action})
	}
	return out
}

// deniedByPolicy tells a refusal by the access policy — a 401 or 403 that
// says so, or, on the pages, the redirect to sign in — from any other
// answer (the rules' refusals and missing records among them).
func deniedByPolicy(rt route, resp *http.Response, body string) bool {
	if rt.surface == "pages" && resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
		return true
	}
	return (resp.StatusCode == 401 || resp.StatusCode == 403) &&
		(strings.Contains(body, "needs an Authorization") || strings.Contains(body, " may not do ") || strings.Contains(body, "lacks the"))
}

// TestAuthorizationMatrix tries every route of the API and of the pages,
// as every kind of viewer with every kind of credential, and checks the
// answer against the written-out policy.
func TestAuthorizationMatrix(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	limits := gate.DefaultLimits()
	limits.MemberRate, limits.AddressRate = 0, 0 // thousands of requests from one address
	srv, err := server.New(env.In, server.Options{Clock: env.Clock.Now, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler)
	defer ts.Close()
	ctx := context.Background()
	tokens := map[string]string{}
	for _, who := range viewers[1:] {
		for _, c := range credentials[1:] {
			tok, _, err := auth.IssueToken(ctx, env.In.Store, auth.TokenSpec{Member: who, Scopes: c.scopes}, testkit.Start)
			if err != nil {
				t.Fatal(err)
			}
			tokens[who+"/"+c.name] = tok
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	paths := strings.NewReplacer("{id}", "X", "{sha256}", strings.Repeat("ab", 32), "{path...}", "0/000",
		"{type}", "allegation", "{action}", "X", "{$}", "", "{file}", "X.atom")
	seen := map[policy.Action]bool{}
	tried := 0
	for _, rt := range routes() {
		want, ok := expected[rt.action]
		if !ok {
			t.Errorf("%s %s %s: action %q has no expected policy", rt.surface, rt.method, rt.path, rt.action)
			continue
		}
		seen[rt.action] = true
		// What changes anything needs a credential that may write (signing
		// in and out aside): a read-only token never writes, whatever the
		// route names.
		if rt.method != "GET" && rt.action != policy.Login && rt.action != policy.Logout && rt.action != policy.Enrol && want.scope != "write" && want.scope != "manage" {
			t.Errorf("%s %s %s changes state under %q, which needs no write or manage scope", rt.surface, rt.method, rt.path, rt.action)
		}
		path := paths.Replace(rt.path)
		for _, who := range viewers {
			creds := credentials
			if who == "anonymous" {
				creds = []credential{{name: "none"}}
			}
			for _, c := range creds {
				var body io.Reader
				req, _ := http.NewRequest(rt.method, ts.URL+path, nil)
				csrf := ""
				switch {
				case c.session:
					// A fresh session each time: some routes end theirs.
					cookie, sess, err := auth.NewSession(ctx, env.In.Store, who, testkit.Start, auth.SessionTTL)
					if err != nil {
						t.Fatal(err)
					}
					req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: cookie})
					csrf = sess.CSRF
				case who != "anonymous":
					req.Header.Set("Authorization", "Bearer "+tokens[who+"/"+c.name])
				}
				if rt.method == "POST" || rt.method == "PUT" || rt.method == "DELETE" {
					if rt.surface == "api" {
						body = strings.NewReader(`{}`)
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("X-CSRF-Token", csrf)
					} else {
						body = strings.NewReader(url.Values{"csrf": {csrf}}.Encode())
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					}
					req.Body = io.NopCloser(body)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				tried++
				allowed := slices.Contains(want.who, who) && (want.scope == "" || slices.Contains(c.scopes, want.scope))
				if denied := deniedByPolicy(rt, resp, string(b)); denied == allowed {
					t.Errorf("%s %s %s as %s with %s: %d %.120s (allowed: %v)", rt.surface, rt.method, path, who, c.name, resp.StatusCode, b, allowed)
				}
			}
		}
	}
	for a := range expected {
		if !seen[a] {
			t.Errorf("action %q is expected but no route uses it", a)
		}
	}
	for _, a := range policy.Actions() {
		if _, ok := expected[a]; !ok {
			t.Errorf("the policy has action %q, which the matrix does not expect", a)
		}
	}
	t.Logf("%d requests", tried)
}
