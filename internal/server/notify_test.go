package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/notify"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/testkit"
)

// mailbox is a small SMTP server that keeps what it is sent.
type mailbox struct {
	addr string
	mu   sync.Mutex
	mail []mail
	got  chan struct{}
}

type mail struct {
	from string
	to   []string
	data string
}

type smtpSession struct {
	box *mailbox
	m   mail
}

func (s *smtpSession) Reset()        { s.m = mail{} }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.m.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.to = append(s.m.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.data = string(b)
	s.box.mu.Lock()
	s.box.mail = append(s.box.mail, s.m)
	s.box.mu.Unlock()
	select {
	case s.box.got <- struct{}{}:
	default:
	}
	return nil
}

func newMailbox(t *testing.T) *mailbox {
	box := &mailbox{got: make(chan struct{}, 1)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{box: box}, nil }))
	srv.Domain = "mail.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return box
}

func (b *mailbox) all() []mail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]mail{}, b.mail...)
}

// receiver is a webhook receiver: it answers 500 to the first fail
// requests, then 204, and keeps every request.
type receiver struct {
	*httptest.Server
	fail  int32
	calls atomic.Int32
	mu    sync.Mutex
	ok    []delivery
	got   chan struct{}
}

type delivery struct {
	body []byte
	sig  string
}

func newReceiver(t *testing.T, fail int32) *receiver {
	r := &receiver{fail: fail, got: make(chan struct{}, 16)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.calls.Add(1) <= r.fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		r.mu.Lock()
		r.ok = append(r.ok, delivery{body, req.Header.Get(notify.SignatureHeader)})
		r.mu.Unlock()
		r.got <- struct{}{}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) delivered() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery{}, r.ok...)
}

// notifyTarget serves a test instance with its notifier running; with
// logTime, the notifier's clock is the test's log time (for deadlines),
// else the wall clock (for retries).
func notifyTarget(t *testing.T, o server.NotifyOptions, logTime bool) *target {
	t.Helper()
	env := testkit.New(t, instance.Options{})
	o.BaseURL = "https://truce.example"
	o.Delivery = notify.Delivery{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Poll: 50 * time.Millisecond,
		Timeout: 2 * time.Second, Sweep: 100 * time.Millisecond}
	if logTime {
		o.Clock = env.Clock.Now
	}
	srv, err := server.New(env.In, server.Options{Clock: env.Clock.Now, Notify: o})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Start(context.Background()))
	return &target{Env: env, url: ts.URL,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// call makes an API request with a bearer token and decodes the answer.
func (tg *target) call(t *testing.T, method, path, token, body string, out any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, tg.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, b := tg.do(t, req)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, b
}

// wait waits up to 5 s for a signal.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5 s", what)
	}
}

// TestNotificationsReachTheirParty is the test: a webhook
// receiver and an SMTP server receive a signed notification within 5 s of
// an allegation filed against their party, and nothing about a record
// they may not see.
func TestNotificationsReachTheirParty(t *testing.T) {
	box := newMailbox(t)
	tg := notifyTarget(t, server.NotifyOptions{Mail: &notify.Mailer{Addr: box.addr, From: "truce@truce.example"}, AllowPrivate: true}, false)
	afHook, pkHook := newReceiver(t, 1), newReceiver(t, 0) // AF's fails once first
	afTok, pkTok := tg.token(t, "af-liaison", policy.ScopeManage), tg.token(t, "pk-liaison", policy.ScopeManage)

	var afWebhook notify.Webhook
	if st, b := tg.call(t, "POST", "/api/v1/webhooks", afTok, `{"url":"`+afHook.URL+`/hook","events":["allegation.filed_against"]}`, &afWebhook); st != 201 || afWebhook.Secret == "" || afWebhook.ID == "" {
		t.Fatalf("registering a webhook = %d %s", st, b)
	}
	if st, b := tg.call(t, "POST", "/api/v1/webhooks", pkTok, `{"url":"`+pkHook.URL+`","events":["allegation.filed_against","finding.in_effect"]}`, nil); st != 201 {
		t.Fatalf("registering PK's webhook = %d %s", st, b)
	}
	if st, b := tg.call(t, "PUT", "/api/v1/notifications", afTok, `{"email":"af@example.org","events":["allegation.filed_against"],"hours":12}`, nil); st != 200 {
		t.Fatalf("setting AF's e-mail = %d %s", st, b)
	}
	var feed struct{ Token, Path string }
	if st, b := tg.call(t, "POST", "/api/v1/notifications/feed", afTok, ``, &feed); st != 201 || !strings.HasPrefix(feed.Path, "/feeds/") {
		t.Fatalf("making a feed = %d %s", st, b)
	}
	// The secret is shown only once.
	var list struct{ Items []notify.Webhook }
	if st, b := tg.call(t, "GET", "/api/v1/webhooks", afTok, "", &list); st != 200 || len(list.Items) != 1 || strings.Contains(b, afWebhook.Secret) || list.Items[0].Secret != "" {
		t.Fatalf("listing webhooks = %d %s", st, b)
	}

	// First an allegation for the mechanism's eyes only (AF may not read
	// it), then one AF may read.
	hidden := testkit.Allegation("AF", 1)
	hidden.Visibility = truce.Internal
	hiddenAck := tg.Submit(t, tg.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, hidden))
	ack := tg.Submit(t, tg.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 2)))
	if hiddenAck.Record.ID == ack.Record.ID {
		t.Fatal("one record")
	}

	wait(t, afHook.got, "webhook delivery to AF")
	got := afHook.delivered()
	if len(got) != 1 {
		t.Fatalf("AF's receiver got %d deliveries", len(got))
	}
	var body notify.Body
	d := json.NewDecoder(bytes.NewReader(got[0].body))
	d.DisallowUnknownFields()
	if err := d.Decode(&body); err != nil {
		t.Fatalf("the body is not {event, record, index, logged}: %v: %s", err, got[0].body)
	}
	if body.Event != notify.AllegationFiledAgainst || body.Record != (truce.Ref{Type: "allegation", ID: ack.Record.ID}) || body.Index != ack.Index || !body.Logged.Equal(ack.Logged) {
		t.Fatalf("delivered %s for %+v", got[0].body, ack)
	}
	if got[0].sig != notify.Sign(got[0].body, afWebhook.Secret) || !strings.HasPrefix(got[0].sig, "sha256=") {
		t.Fatalf("signature %q does not check with the secret", got[0].sig)
	}
	if afHook.calls.Load() != 2 {
		t.Fatalf("AF's receiver was called %d times: the 500 was not retried once", afHook.calls.Load())
	}

	wait(t, box.got, "e-mail to AF")
	mails := box.all()
	if len(mails) != 1 || mails[0].to[0] != "af@example.org" || mails[0].from != "truce@truce.example" ||
		!strings.Contains(mails[0].data, ack.Record.ID) || !strings.Contains(mails[0].data, "https://truce.example/allegations/"+ack.Record.ID) {
		t.Fatalf("mail = %+v", mails)
	}
	if strings.Contains(mails[0].data, "Mortar rounds") {
		t.Fatal("the e-mail carries the allegation's narrative")
	}

	// Nothing more comes: not the hidden allegation, not a second copy,
	// nothing to PK (the allegations are not against PK).
	time.Sleep(500 * time.Millisecond)
	if n := len(afHook.delivered()); n != 1 || afHook.calls.Load() != 2 {
		t.Fatalf("AF's receiver got %d deliveries in %d calls", n, afHook.calls.Load())
	}
	if n := len(box.all()); n != 1 {
		t.Fatalf("%d e-mails", n)
	}
	if pkHook.calls.Load() != 0 {
		t.Fatalf("PK's receiver was called %d times for allegations against AF", pkHook.calls.Load())
	}
	for _, ch := range []string{notify.ChannelWebhook, notify.ChannelEmail, notify.ChannelFeed} {
		ds, err := tg.In.Store.Deliveries(context.Background(), "af-liaison", ch, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Record.ID == hiddenAck.Record.ID {
				t.Fatalf("a %s delivery to AF about the allegation it may not read: %+v", ch, d)
			}
		}
	}

	// The feed lists the allegation AF may read, not the other; an
	// unknown token is not found.
	resp, atom := tg.do(t, mustRequest(t, "GET", tg.url+feed.Path))
	if resp.StatusCode != 200 || !strings.Contains(atom, "<feed") || !strings.Contains(atom, ack.Record.ID) || strings.Contains(atom, hiddenAck.Record.ID) {
		t.Fatalf("feed = %d %s", resp.StatusCode, atom)
	}
	if resp, _ := tg.do(t, mustRequest(t, "GET", tg.url+"/feeds/tf_nothing.atom")); resp.StatusCode != 404 {
		t.Fatalf("an unknown feed = %d", resp.StatusCode)
	}
	// A new feed token replaces the old.
	tg.call(t, "POST", "/api/v1/notifications/feed", afTok, ``, nil)
	if resp, _ := tg.do(t, mustRequest(t, "GET", tg.url+feed.Path)); resp.StatusCode != 404 {
		t.Fatalf("a replaced feed = %d", resp.StatusCode)
	}
	// A deleted webhook is deleted for its member only.
	if st, _ := tg.call(t, "DELETE", "/api/v1/webhooks/"+afWebhook.ID, pkTok, "", nil); st != 404 {
		t.Fatalf("PK deleting AF's webhook = %d", st)
	}
	if st, _ := tg.call(t, "DELETE", "/api/v1/webhooks/"+afWebhook.ID, afTok, "", nil); st != 204 {
		t.Fatalf("AF deleting its webhook = %d", st)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestWebhookRegistrationAttacks: who may not register a webhook, and
// what is refused — with a 4xx that names the problem, and nothing stored.
func TestWebhookRegistrationAttacks(t *testing.T) {
	tg := notifyTarget(t, server.NotifyOptions{}, false) // a real instance: no private addresses
	manage := tg.token(t, "af-liaison", policy.ScopeManage)
	good := `{"url":"https://93.184.215.14/hook","events":["allegation.filed_against"]}`
	for _, c := range []struct {
		name, token, body string
		status            int
		says              string
	}{
		{"anonymous", "", good, 401, "Authorization"},
		{"read-only token", tg.token(t, "af-liaison", policy.ScopeRead), good, 403, "manage"},
		{"write token", tg.token(t, "af-liaison", policy.ScopeWrite), good, 403, "manage"},
		{"loopback", manage, `{"url":"http://127.0.0.1:8080/x","events":["allegation.filed_against"]}`, 400, "private"},
		{"name of loopback", manage, `{"url":"http://localhost/x","events":["allegation.filed_against"]}`, 400, "private"},
		{"private", manage, `{"url":"https://10.1.2.3/x","events":["allegation.filed_against"]}`, 400, "private"},
		{"link-local", manage, `{"url":"http://[fe80::1]/x","events":["allegation.filed_against"]}`, 400, "private"},
		{"metadata", manage, `{"url":"http://169.254.169.254/latest","events":["allegation.filed_against"]}`, 400, "private"},
		{"credentials", manage, `{"url":"https://user:pw@example.org/x","events":["allegation.filed_against"]}`, 400, "credentials"},
		{"scheme", manage, `{"url":"ftp://example.org/x","events":["allegation.filed_against"]}`, 400, "http or https"},
		{"no url", manage, `{"events":["allegation.filed_against"]}`, 400, "url"},
		{"unknown event", manage, `{"url":"https://93.184.215.14/x","events":["everything"]}`, 400, "everything"},
		{"no events", manage, `{"url":"https://93.184.215.14/x","events":[]}`, 400, "events"},
		{"malformed", manage, `{"url":`, 400, "JSON"},
		{"unknown field", manage, `{"url":"https://93.184.215.14/x","events":["allegation.filed_against"],"secret":"mine"}`, 400, "secret"},
		{"trailing", manage, good + `{}`, 400, "JSON"},
		{"oversize", manage, `{"url":"https://93.184.215.14/` + strings.Repeat("a", int(gate.DefaultLimits().MaxBodyBytes)) + `","events":[]}`, 413, "over"},
	} {
		st, b := tg.call(t, "POST", "/api/v1/webhooks", c.token, c.body, nil)
		if st != c.status || !strings.Contains(b, c.says) || !strings.Contains(b, `"error"`) {
			t.Errorf("%s: %d %.300s (want %d naming %s)", c.name, st, b, c.status, c.says)
		}
	}
	if ws, err := tg.In.Store.Webhooks(context.Background(), ""); err != nil || len(ws) != 0 {
		t.Fatalf("refused registrations stored %d webhooks (%v)", len(ws), err)
	}
	// Settings are refused alike.
	for _, body := range []string{`{"email":"not an address","events":[]}`, `{"email":"a@b.example\r\nBcc: x@y.example","events":[]}`, `{"events":["nope"]}`, `{"events":[],"hours":100000}`} {
		if st, b := tg.call(t, "PUT", "/api/v1/notifications", manage, body, nil); st != 400 {
			t.Errorf("settings %s: %d %s", body, st, b)
		}
	}
	if _, err := tg.In.Store.Subscription(context.Background(), "af-liaison"); err == nil {
		t.Fatal("refused settings were stored")
	}
}

// TestDeadlineReminders: a party's member who asked to be told of replies
// falling due within its hours is told, once; the filer is not.
func TestDeadlineReminders(t *testing.T) {
	tg := notifyTarget(t, server.NotifyOptions{AllowPrivate: true}, true)
	afHook, pkHook := newReceiver(t, 0), newReceiver(t, 0)
	afTok, pkTok := tg.token(t, "af-liaison", policy.ScopeManage), tg.token(t, "pk-liaison", policy.ScopeManage)
	for _, c := range []struct{ tok, url string }{{afTok, afHook.URL}, {pkTok, pkHook.URL}} {
		if st, b := tg.call(t, "POST", "/api/v1/webhooks", c.tok, `{"url":"`+c.url+`","events":["reply.due"]}`, nil); st != 201 {
			t.Fatalf("registering = %d %s", st, b)
		}
		// The demo agreement gives 72 hours to reply: tell 100 hours before.
		if st, b := tg.call(t, "PUT", "/api/v1/notifications", c.tok, `{"events":[],"hours":100}`, nil); st != 200 {
			t.Fatalf("settings = %d %s", st, b)
		}
	}
	ack := tg.Submit(t, tg.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 3)))
	wait(t, afHook.got, "reply.due to AF")
	var body notify.Body
	if err := json.Unmarshal(afHook.delivered()[0].body, &body); err != nil || body.Event != notify.ReplyDue || body.Record.ID != ack.Record.ID {
		t.Fatalf("delivered %s (%v)", afHook.delivered()[0].body, err)
	}
	time.Sleep(400 * time.Millisecond) // several sweeps
	if n := afHook.calls.Load(); n != 1 {
		t.Fatalf("AF was reminded %d times", n)
	}
	if n := pkHook.calls.Load(); n != 0 {
		t.Fatalf("PK, which filed, was told a reply of AF's falls due (%d)", n)
	}
}

// TestNotificationsPage: a signed-in member sets its e-mail and events on
// the settings page, through the same gate and service as the API; a bad
// address is refused naming the field, and nothing is stored.
func TestNotificationsPage(t *testing.T) {
	tg := notifyTarget(t, server.NotifyOptions{}, false)
	cookie, csrf := tg.session(t, "af-liaison")
	post := func(form url.Values) (*http.Response, string) {
		req, _ := http.NewRequest("POST", tg.url+"/notifications", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		return tg.do(t, req)
	}
	req, _ := http.NewRequest("GET", tg.url+"/notifications", nil)
	req.AddCookie(cookie)
	if resp, body := tg.do(t, req); resp.StatusCode != 200 || !strings.Contains(body, `value="allegation.filed_against"`) {
		t.Fatalf("settings page = %d", resp.StatusCode)
	}
	if resp, body := post(url.Values{"csrf": {csrf}, "email": {"not an address"}, "events": {"allegation.filed_against"}}); resp.StatusCode != 422 || !strings.Contains(body, "email-error") {
		t.Fatalf("a bad address = %d", resp.StatusCode)
	}
	if _, err := tg.In.Store.Subscription(context.Background(), "af-liaison"); err == nil {
		t.Fatal("a refused form was stored")
	}
	if resp, _ := post(url.Values{"email": {"af@example.org"}, "events": {"allegation.filed_against"}}); resp.StatusCode != 403 {
		t.Fatalf("a form without its CSRF token = %d", resp.StatusCode)
	}
	if resp, body := post(url.Values{"csrf": {csrf}, "email": {"af@example.org"}, "events": {"allegation.filed_against", "finding.in_effect"}, "hours": {"48"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving = %d %s", resp.StatusCode, body)
	}
	sub, err := tg.In.Store.Subscription(context.Background(), "af-liaison")
	if err != nil || sub.Email != "af@example.org" || len(sub.Events) != 2 || sub.Hours != 48 {
		t.Fatalf("stored %+v, %v", sub, err)
	}
}
