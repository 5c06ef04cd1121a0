// Package web is Truce's pages: server-rendered HTML, usable without
// JavaScript, in the parties' languages. Every page is declared once, in
// the route table below, with the policy action it is; every request goes
// through the same gate as the API's (limits, identification, the policy,
// CSRF), then reads through the read service and writes through the
// submit service, as the API does; every page is rendered through render,
// which sets the language, the direction and the security headers.
package web

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/notify"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/read"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/submit"
	"github.com/truce-mvm/truce/internal/wire"
	"github.com/truce-mvm/truce/internal/witness"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Account is an exercise account shown on the sign-in page of a demo.
type Account struct {
	ID, Name, Role, Party, Password string
}

// Config is what the pages show and act on.
type Config struct {
	API    *api.Server // serves /api/, /log/, /healthz and /readyz, and signs members in
	Gate   *gate.Gate  // the API's
	Auth   *auth.Service
	Read   *read.Service
	Submit *submit.Service
	Notify *notify.Service
	// Accounts are listed on the sign-in page: only for exercise instances.
	Accounts []Account
	Logger   *slog.Logger
}

// Server serves the pages, and the API beside them.
type Server struct {
	cfg   Config
	mux   *http.ServeMux
	pages map[string]*template.Template
}

// page is a route of the pages: the policy action it is, as the API's
// routes name theirs.
type page struct {
	method, path string
	action       policy.Action
	handle       func(*Server, http.ResponseWriter, *http.Request, *view) error
	upload       bool // takes a file: the upload limit, not the form limit
}

var routes = []page{
	{"GET", "/{$}", policy.Dashboard, (*Server).home, false},
	{"GET", "/signin", policy.Login, (*Server).signinPage, false},
	{"POST", "/signin", policy.Login, (*Server).signin, false},
	{"POST", "/signout", policy.Logout, (*Server).signout, false},
	{"GET", "/enrol/{token}", policy.Enrol, (*Server).enrolPage, false},
	{"POST", "/enrol/{token}", policy.Enrol, (*Server).enrol, false},
	{"GET", "/allegations", policy.ReadRecords, (*Server).allegations, false},
	{"GET", "/allegations/{id}", policy.ReadRecords, (*Server).allegation, false},
	{"GET", "/agreement", policy.ReadRecords, (*Server).agreement, false},
	{"GET", "/log", policy.LogCheckpoint, (*Server).logPage, false},
	{"GET", "/reports", policy.ReadPublished, (*Server).reportsPage, false},
	{"GET", "/records/{type}/{id}", policy.ReadRecords, (*Server).record, false},
	{"GET", "/records/{type}", policy.ReadRecords, (*Server).records, false},
	{"GET", "/map", policy.ReadRecords, (*Server).mapPage, false},
	{"GET", "/stories", policy.ReadRecords, (*Server).stories, false},
	{"GET", "/search", policy.ReadRecords, (*Server).search, false},
	{"GET", "/stories/{id}", policy.ReadRecords, (*Server).story, false},
	{"GET", "/sources/{id}", policy.ReadRecords, (*Server).source, false},
	{"GET", "/act/{action}", policy.Submit, (*Server).form, false},
	{"POST", "/act/{action}", policy.Submit, (*Server).act, false},
	{"POST", "/act/{action}/prepare", policy.Submit, (*Server).prepare, false},
	{"POST", "/act/{action}/signed", policy.Submit, (*Server).signed, false},
	{"GET", "/keys", policy.Submit, (*Server).keysPage, false},
	{"GET", "/members", policy.InviteMembers, (*Server).membersPage, false},
	{"POST", "/members/{id}/invite", policy.InviteMembers, (*Server).invite, false},
	{"POST", "/keys", policy.Submit, (*Server).addKey, false},
	{"GET", "/notifications", policy.ManageNotifications, (*Server).notifyPage, false},
	{"POST", "/notifications", policy.ManageNotifications, (*Server).saveNotify, false},
	{"POST", "/notifications/feed", policy.ManageNotifications, (*Server).newFeed, false},
	{"GET", "/evidence/new", policy.UploadBlob, (*Server).evidenceForm, false},
	{"POST", "/evidence/new", policy.UploadBlob, (*Server).uploadEvidence, true},
	{"GET", "/static/", policy.Static, (*Server).static, false},
}

// Routes lists every route of the pages, with its action.
func Routes() []policy.Route {
	out := make([]policy.Route, len(routes))
	for i, rt := range routes {
		out[i] = policy.Route{Method: rt.method, Path: rt.path, Action: rt.action}
	}
	return out
}

// New returns the pages' handler; requests for the API and the log go to
// cfg.API.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "timeline" || name == "fields" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/timeline.html", "templates/fields.html", n)
		if err != nil {
			return nil, err
		}
		s.pages[name] = t
	}
	for _, rt := range routes {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	return s, nil
}

var staticServer = func() http.Handler {
	static, _ := fs.Sub(staticFiles, "static")
	return http.StripPrefix("/static/", cacheVersioned(http.FileServerFS(static)))
}()

func (s *Server) static(w http.ResponseWriter, r *http.Request, _ *view) error {
	staticServer.ServeHTTP(w, r)
	return nil
}

// staticVersions are the static files' content hashes: pages link them as
// /static/NAME?v=HASH, so a browser on a poor connection keeps a file for
// a year and still fetches the new one the day it changes.
var staticVersions = func() map[string]string {
	m := map[string]string{}
	fs.WalkDir(staticFiles, "static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := staticFiles.ReadFile(path)
			sum := sha256.Sum256(b)
			m[strings.TrimPrefix(path, "static/")] = hex.EncodeToString(sum[:6])
		}
		return nil
	})
	return m
}()

// staticURL is a static file's versioned address.
func staticURL(name string) string { return "/static/" + name + "?v=" + staticVersions[name] }

// cacheVersioned lets a versioned request be kept for a year, anything
// else for an hour.
func cacheVersioned(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("v"); v != "" && v == staticVersions[r.URL.Path] {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=3600")
		}
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP sends the API, the log and the feeds to the API server, the
// rest to the pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/log/") || strings.HasPrefix(p, "/feeds/") || p == "/healthz" || p == "/readyz" {
		s.cfg.API.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// view is what every page template gets.
type view struct {
	who    policy.Viewer // who reads: what every service call is made as
	L      *Lang
	Langs  []*Lang
	Member *truce.Member // nil: signed out
	Access *truce.Access
	CSRF   string
	Path   string // the page, for the language switcher
	Title  string
	Data   any
	Error  string
	Fields map[string]string // a form's errors by field
}

func (v *view) Is(role string) bool { return v.Member != nil && string(v.Member.Role) == role }

func (s *Server) wrap(rt page) http.Handler {
	gr := gate.Route{Action: rt.action, Upload: rt.upload, Lenient: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := langOf(r)
		if q := r.URL.Query().Get("lang"); q == l.Tag {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l.Tag, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
		}
		v := &view{L: l, Langs: languages, Path: r.URL.Path, Access: &truce.Access{}}
		admitted := false
		err := s.cfg.Gate.Serve(w, r, gr, func(r *http.Request) error {
			admitted = true
			v.who = gate.Viewer(r)
			if v.who.Member != nil {
				v.Member, v.Access = v.who.Member, policy.AccessOf(v.who)
				w.Header().Set("Cache-Control", "no-store") // a member's page is for that member only
			}
			if sess := gate.Session(r); sess != nil {
				v.CSRF = sess.CSRF
			}
			return rt.handle(s, w, r, v)
		})
		switch {
		case err == nil:
		case !admitted && truce.ErrorCode(err) == truce.CodeUnauthorized:
			// Anonymous, or an ended session: sign in first.
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		default:
			s.fail(w, v, err)
		}
	})
}

// fail renders an error page with the status its code maps to.
func (s *Server) fail(w http.ResponseWriter, v *view, err error) {
	status := api.Status(err) // the one mapping of codes to statuses
	var msg string
	switch {
	case errors.Is(err, gate.ErrCSRF):
		msg = v.L.T("error.csrf")
	case status == http.StatusNotFound:
		msg = v.L.T("error.notfound")
	case status == http.StatusInternalServerError:
		s.cfg.Logger.Error("page", "err", err)
		msg = v.L.T("error.internal")
	default:
		msg = truce.ErrorMessage(err)
	}
	api.SetHeaders(w, err)
	w.WriteHeader(status)
	s.render(w, v, "error", msg, nil)
}

// render writes a page. It renders into a buffer first, so a template
// error is a clean 500, never half a page.
func (s *Server) render(w http.ResponseWriter, v *view, name, title string, data any) {
	v.Title, v.Data = title, data
	var b bytes.Buffer
	if err := s.pages[name].Execute(&b, v); err != nil {
		s.cfg.Logger.Error("rendering", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.L.Tag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	if h.Get("Referrer-Policy") == "" {
		h.Set("Referrer-Policy", "same-origin")
	}
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
	w.Write(b.Bytes())
}

var funcs = template.FuncMap{
	"join": func(xs []string, sep string) string { return strings.Join(xs, sep) },
	"list": func(xs ...string) []string { return xs },
	// static is a static file's address, versioned by its content.
	"static": staticURL,
	// withL hands a partial template the language and one value.
	"withL": func(l *Lang, v any) map[string]any { return map[string]any{"L": l, "V": v} },
	// outletID is the id of an outlet's record; claim says what a claim asserts.
	"outletID": rules.OutletID,
	"claim":    func(c truce.Claim) string { return c.String() },
	// div, mul and add scale the map's marks to its zoom.
	"div": func(a, b float64) float64 { return a / b },
	"mul": func(a, b float64) float64 { return a * b },
	"add": func(a, b float64) float64 { return a + b },
	// receipt is where the API serves a record's receipt.
	"receipt": wire.ReceiptPath,
}

// --- pages

func (s *Server) home(w http.ResponseWriter, r *http.Request, v *view) error {
	d, err := s.dashboard(w, r, v)
	if err != nil {
		return err
	}
	s.render(w, v, "dashboard", v.L.T("nav.dashboard"), d)
	return nil
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request, v *view) error {
	s.render(w, v, "signin", v.L.T("signin.title"), s.signinData(r, ""))
	return nil
}

type signinData struct {
	Member   string
	Next     string
	Accounts []Account
}

func (s *Server) signinData(r *http.Request, member string) signinData {
	return signinData{Member: member, Next: localPath(r.FormValue("next")), Accounts: s.cfg.Accounts}
}

// localPath returns next if it is a path on this site, else "/": never an
// address a browser would take to another host ("//host", "/\host", or
// one with a control character that browsers drop, such as "/\thost").
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || u.Host != "" || u.Scheme != "" ||
		strings.ContainsRune(next, '\\') || strings.IndexFunc(next, unicode.IsControl) >= 0 || strings.ContainsAny(next, " \u00a0") {
		return "/"
	}
	return next
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request, v *view) error {
	member := strings.TrimSpace(r.PostFormValue("member"))
	_, _, err := s.cfg.API.SignIn(w, r, member, r.PostFormValue("password"))
	if err != nil {
		switch truce.ErrorCode(err) {
		case truce.CodeUnauthorized:
			v.Error = v.L.T("signin.failed")
		case truce.CodeRateLimited:
			v.Error = v.L.T("signin.locked")
		default:
			return err // the server's trouble, a full disk among it: not a wrong password
		}
		api.SetHeaders(w, err)
		w.WriteHeader(api.Status(err))
		s.render(w, v, "signin", v.L.T("signin.title"), s.signinData(r, member))
		return nil
	}
	http.Redirect(w, r, s.signinData(r, "").Next, http.StatusSeeOther)
	return nil
}

type enrolData struct{ Member string }

// enrolPage asks a member who follows a one-time link for a password.
func (s *Server) enrolPage(w http.ResponseWriter, r *http.Request, v *view) error {
	member, err := s.cfg.Auth.Invited(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	// The link is a secret: it is never sent to another site (the pages'
	// same-origin policy). Not no-referrer, with which browsers send the
	// form's POST with "Origin: null", which the gate refuses as a request
	// from another site.
	s.render(w, v, "enrol", v.L.T("enrol.title"), enrolData{member})
	return nil
}

// enrol sets the password and signs the member in; a weak or mistyped
// password is refused next to its field, and the link stays usable.
func (s *Server) enrol(w http.ResponseWriter, r *http.Request, v *view) error {
	token := r.PathValue("token")
	member, err := s.cfg.Auth.Invited(r.Context(), token)
	if err != nil {
		return err
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("again") {
		v.Fields = map[string]string{"password": v.L.T("enrol.mismatch")}
	} else if err := s.cfg.API.Enrol(w, r, token, pw); err == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	} else if truce.ErrorCode(err) != truce.CodeInvalid {
		return err
	} else {
		v.Fields = map[string]string{"password": truce.ErrorMessage(err)}
	}
	w.WriteHeader(http.StatusUnprocessableEntity)
	s.render(w, v, "enrol", v.L.T("enrol.title"), enrolData{member})
	return nil
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := s.cfg.API.SignOut(w, r); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: visitCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.API.SecureCookie(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// decode unmarshals a record's document.
func decode[T any](doc []byte) (*T, error) {
	var x T
	if err := json.Unmarshal(doc, &x); err != nil {
		return nil, err
	}
	return &x, nil
}

type allegationsData struct {
	Items         []*truce.Allegation
	Status, Party string
	Category      string
	From, To      string
	Categories    []truce.Category
	Statuses      []string
	Next          string
	Filtered      bool
	Count         int
	Exports       []link
}

func (s *Server) allegations(w http.ResponseWriter, r *http.Request, v *view) error {
	if words := strings.TrimSpace(r.FormValue("q")); words != "" { // words: the search, of allegations
		http.Redirect(w, r, "/search?"+url.Values{"q": {words}, "type": {rules.TypeAllegation}, "from": {r.FormValue("from")}, "to": {r.FormValue("to")}}.Encode(), http.StatusSeeOther)
		return nil
	}
	q := truce.Query{Type: rules.TypeAllegation, Limit: 50, Access: v.Access}
	d := &allegationsData{
		Status: r.FormValue("status"), Party: r.FormValue("party"), Category: r.FormValue("category"),
		From: r.FormValue("from"), To: r.FormValue("to"), Categories: truce.Categories,
		Statuses: []string{truce.AllegationFiled, truce.AllegationAdmitted, truce.AllegationRejected, truce.AllegationInCase, truce.AllegationDecided},
	}
	q.Status, q.Party, q.Category = d.Status, d.Party, d.Category
	var err error
	if q.From, q.To, err = api.Span(r); err != nil {
		v.Error = truce.ErrorMessage(err) // the list unfiltered by time, and why
		d.From, d.To = "", ""
	}
	filters := url.Values{}
	for k, x := range map[string]string{"status": d.Status, "party": d.Party, "category": d.Category, "from": d.From, "to": d.To} {
		if x != "" {
			filters.Set(k, x)
		}
	}
	d.Filtered, d.Exports = len(filters) > 0, exports(filters)
	if d.Items, d.Next, err = listPage[truce.Allegation](s, r, v, q, "/allegations", filters); err != nil {
		return err
	}
	if d.Count, err = s.cfg.Read.Count(r.Context(), v.who, q); err != nil {
		return err
	}
	s.render(w, v, "allegations", v.L.T("nav.allegations"), d)
	return nil
}

func listPage[T any](s *Server, r *http.Request, v *view, q truce.Query, path string, filters url.Values) ([]*T, string, error) {
	if c := r.FormValue("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 1 {
			return nil, "", truce.Errorf(truce.CodeInvalid, "%s", v.L.T("error.cursor"))
		}
		q.After = n
	}
	recs, err := s.cfg.Read.List(r.Context(), v.who, q)
	if err != nil {
		return nil, "", err
	}
	items := make([]*T, 0, len(recs))
	for _, rec := range recs {
		x, err := decode[T](rec.Doc)
		if err != nil {
			return nil, "", err
		}
		items = append(items, x)
	}
	if len(recs) < q.Limit {
		return items, "", nil
	}
	next := url.Values{"cursor": {strconv.FormatInt(recs[len(recs)-1].Created, 10)}}
	for k, vs := range filters {
		if len(vs) > 0 && vs[0] != "" {
			next.Set(k, vs[0])
		}
	}
	return items, path + "?" + next.Encode(), nil
}

// entryView is one entry of a record's timeline, linked to the log.
type entryView struct {
	truce.HistoryItem
	LoggedAt time.Time
	Proof    string // inclusion proof URL, once a published checkpoint covers it
	Records  []link // the other records the entry touched, in a timeline of several
}

type allegationData struct {
	A        *truce.Allegation
	Related  []related // open-source stories that may bear on it
	Timeline []entryView
	Receipt  string
	Actions  []link
}

func (s *Server) allegation(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	rec, hist, err := s.cfg.Read.Get(r.Context(), v.who, rules.TypeAllegation, id)
	if err != nil {
		return err
	}
	a, err := decode[truce.Allegation](rec.Doc)
	if err != nil {
		return err
	}
	d := &allegationData{A: a, Receipt: wire.ReceiptPath(rules.TypeAllegation, id),
		Actions: offer(v, "allegation", id, rules.Offers(*v.Member, a))}
	if d.Timeline, err = s.fullTimeline(r, v, a, hist); err != nil {
		return err
	}
	if d.Related, err = s.relatedStories(r, v, a); err != nil {
		return err
	}
	s.render(w, v, "allegation", a.ID, d)
	return nil
}

// timeline lists the entries that touched a record, each linked to its
// inclusion proof in the newest published checkpoint.
func (s *Server) timeline(v *view, hist []truce.HistoryItem) []entryView {
	size, _, _ := s.cfg.Read.Published(v.who) // none yet: no proofs to link
	out := make([]entryView, len(hist))
	for i, h := range hist {
		out[i].HistoryItem = h
		out[i].LoggedAt, _ = time.Parse(time.RFC3339Nano, h.Logged)
		if h.Index < size {
			out[i].Proof = fmt.Sprintf("/log/proof/inclusion?index=%d&size=%d", h.Index, size)
		}
	}
	return out
}

// fullTimeline is an allegation's whole story in log order: its own
// entries and those of its case, the case's tasks, evidence and findings,
// and the findings' consequences — those the reader may see — each line
// linked to the records it touched.
func (s *Server) fullTimeline(r *http.Request, v *view, a *truce.Allegation, own []truce.HistoryItem) ([]entryView, error) {
	all := slices.Clone(own)
	get := func(typ, id string) ([]byte, bool, error) {
		rec, hist, err := s.cfg.Read.Get(r.Context(), v.who, typ, id)
		if code := truce.ErrorCode(err); code == truce.CodeNotFound || code == truce.CodeForbidden {
			return nil, false, nil // kept from this reader: its entries stay out
		} else if err != nil {
			return nil, false, err
		}
		all = append(all, hist...)
		return rec.Doc, true, nil
	}
	if a.Case != "" {
		doc, ok, err := get(rules.TypeCase, a.Case)
		if err != nil {
			return nil, err
		}
		if ok {
			cs, err := decode[truce.Case](doc)
			if err != nil {
				return nil, err
			}
			for _, id := range cs.Tasks {
				if _, _, err := get(rules.TypeTask, id); err != nil {
					return nil, err
				}
			}
			for _, id := range cs.Evidence {
				if _, _, err := get(rules.TypeEvidence, id); err != nil {
					return nil, err
				}
			}
			for _, id := range cs.Findings {
				doc, ok, err := get(rules.TypeFinding, id)
				if err != nil || !ok {
					if err != nil {
						return nil, err
					}
					continue
				}
				f, err := decode[truce.Finding](doc)
				if err != nil {
					return nil, err
				}
				for _, q := range f.Consequences {
					if _, _, err := get(rules.TypeConsequence, q); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	slices.SortStableFunc(all, func(x, y truce.HistoryItem) int { return cmp.Compare(x.Index, y.Index) })
	touched := map[int64][]link{} // an entry may touch several of these records: one line, each linked
	for _, h := range all {
		if h.Type != rules.TypeAllegation || h.ID != a.ID {
			touched[h.Index] = append(touched[h.Index], link{Label: h.ID, Href: recordPath(h.Type, h.ID)})
		}
	}
	out := s.timeline(v, slices.CompactFunc(all, func(x, y truce.HistoryItem) bool { return x.Index == y.Index }))
	for i := range out {
		out[i].Records = touched[out[i].Index]
	}
	return out, nil
}

// agreementData is the agreement as the page shows it: each consequence
// rule in words beside its CEL, each commitment with where it stands.
type agreementData struct {
	*truce.Agreement
	Rules       []ruleView
	Commitments []commitmentView
}

type ruleView struct {
	truce.ConsequenceRule
	Words string // the condition in words; "" if it has none (its CEL alone is shown)
	Then  string
}

type commitmentView struct {
	truce.Commitment
	Round, Status string
	Overdue       bool
}

func (s *Server) agreement(w http.ResponseWriter, r *http.Request, v *view) error {
	ag, err := s.cfg.Read.Agreement(r.Context(), v.who)
	if err != nil {
		return err
	}
	d := &agreementData{Agreement: ag}
	say := rules.Phrases{
		Say: func(key string, args ...any) string {
			if strings.HasPrefix(key, "cel.field.") {
				return v.L.Label(key) // a field the catalogues do not name reads as its name
			}
			return v.L.T(key, args...)
		},
		Value: func(x string) string { return "“" + v.L.Label("choice."+x) + "”" },
	}
	span := func(d truce.Duration) string {
		if t := time.Duration(d); t%(24*time.Hour) == 0 {
			return v.L.T("cel.days", int(t/(24*time.Hour)))
		} else {
			return v.L.T("cel.hours", t.Hours())
		}
	}
	for _, rule := range ag.Rules {
		words, _ := rules.Describe(rule.When, say) // none: the CEL alone
		target := v.L.Label("target." + rule.Target)
		if _, ok := ag.Party(rule.Target); ok {
			target = v.L.T("party." + rule.Target)
		}
		d.Rules = append(d.Rules, ruleView{ConsequenceRule: rule, Words: words, Then: v.L.T("agreement.within", rule.Title, target, span(rule.Deadline))})
	}
	recs, err := s.cfg.Read.List(r.Context(), v.who, truce.Query{Type: rules.TypeCommitment, Limit: read.MaxList})
	if err != nil {
		return err
	}
	status := map[string]*truce.CommitmentRecord{}
	for _, rec := range recs {
		c, err := decode[truce.CommitmentRecord](rec.Doc)
		if err != nil {
			return err
		}
		status[c.ID] = c
	}
	for _, round := range ag.Talks {
		for _, c := range round.Commitments {
			cv := commitmentView{Commitment: c, Round: round.Name}
			if rec, ok := status[c.ID]; ok {
				cv.Status, cv.Overdue = rec.Status, rec.Deadline.Overdue
			}
			d.Commitments = append(d.Commitments, cv)
		}
	}
	s.render(w, v, "agreement", ag.Title, d)
	return nil
}

type logData struct {
	Size       int64
	Checkpoint string
	Signatures []string
	Witnesses  []witness.Peer
	Quorum     int
	VKey       string
}

// reportsPage lists the published situation reports, for anyone to
// check a report they were sent against its logged hash.
func (s *Server) reportsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	list, err := s.cfg.Read.PublishedReports(r.Context(), v.who)
	if err != nil {
		return err
	}
	s.render(w, v, "reports", v.L.T("nav.reports"), list)
	return nil
}

func (s *Server) logPage(w http.ResponseWriter, r *http.Request, v *view) error {
	d := &logData{}
	var err error
	if d.VKey, err = s.cfg.Read.VKey(v.who); err != nil {
		return err
	}
	p, err := s.cfg.Read.Witnesses(v.who)
	if err != nil {
		return err
	}
	d.Witnesses, d.Quorum = p.Peers, p.Quorum
	size, note, _ := s.cfg.Read.Published(v.who) // none yet: the page says so
	d.Size, d.Checkpoint = size, string(note)
	if _, sigs, ok := strings.Cut(d.Checkpoint, "\n\n"); ok {
		for _, l := range strings.Split(strings.TrimSpace(sigs), "\n") {
			if name, _, ok := strings.Cut(strings.TrimPrefix(l, "— "), " "); ok {
				d.Signatures = append(d.Signatures, name)
			}
		}
	}
	s.render(w, v, "log", v.L.T("nav.log"), d)
	return nil
}

// ownPages are the record types with a page of their own; the others are
// shown by the generic record page.
var ownPages = map[string]string{rules.TypeAllegation: "/allegations/", rules.TypeStory: "/stories/", rules.TypeSource: "/sources/"}

// recordPath is a record's page.
func recordPath(typ, id string) string {
	if p, ok := ownPages[typ]; ok {
		return p + url.PathEscape(id)
	}
	return "/records/" + typ + "/" + url.PathEscape(id)
}

// offer links the forms of the actions of kinds on a record, each
// pre-filled with the record.
func offer(v *view, field, id string, kinds []string) []link {
	var out []link
	for _, a := range actions {
		if v.Member != nil && slices.Contains(kinds, a.kind) && slices.Contains(a.roles, v.Member.Role) {
			out = append(out, link{Label: "act." + a.name, Href: "/act/" + a.name + "?" + url.Values{field: {id}}.Encode()})
		}
	}
	return out
}

type link struct{ Label, Href string }

// fact is one field of a record, as shown.
type fact struct {
	Key   string
	Value template.HTML // escaped text, with ids as links and times in the reader's zones
}

type recordData struct {
	Type, ID string
	Facts    []fact
	Timeline []entryView
	Receipt  string
	Actions  []link
}

// recordActions are, by record type, the field of an action's body that
// names the record, and what the record decodes to for rules.Offers.
var recordActions = map[string]struct {
	field string
	rec   func([]byte) (any, error)
}{
	rules.TypeCase:        {"case", decodeAny[truce.Case]},
	rules.TypeTask:        {"task", decodeAny[truce.Task]},
	rules.TypeFinding:     {"finding", decodeAny[truce.Finding]},
	rules.TypeConsequence: {"consequence", decodeAny[truce.Consequence]},
}

func decodeAny[T any](doc []byte) (any, error) { return decode[T](doc) }

func (s *Server) record(w http.ResponseWriter, r *http.Request, v *view) error {
	typ, id := r.PathValue("type"), r.PathValue("id")
	if _, ok := ownPages[typ]; ok {
		http.Redirect(w, r, recordPath(typ, id), http.StatusSeeOther)
		return nil
	}
	if wire.ListPath(typ) == "" {
		return truce.Errorf(truce.CodeNotFound, "no record type %q", typ)
	}
	rec, hist, err := s.cfg.Read.Get(r.Context(), v.who, typ, id)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Doc, &doc); err != nil {
		return err
	}
	d := &recordData{Type: typ, ID: id, Receipt: wire.ReceiptPath(typ, id), Timeline: s.timeline(v, hist)}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "id" || k == "exercise" {
			continue
		}
		d.Facts = append(d.Facts, fact{Key: "field." + k, Value: readable(v.L, k, doc[k])})
	}
	var kinds []string
	if ra, ok := recordActions[typ]; ok {
		x, err := ra.rec(rec.Doc)
		if err != nil {
			return err
		}
		kinds = rules.Offers(*v.Member, x)
		d.Actions = offer(v, ra.field, id, kinds)
	}
	if typ == rules.TypeOutlet {
		d.Actions = offer(v, "outlet", id, []string{rules.KindOutletGraded}) // any grade, any time: the role decides
	}
	// Evidence is registered on an open case, by those who may upload it
	// (a party's liaison uploads evidence with a reply instead).
	if slices.Contains(kinds, rules.KindEvidenceRegistered) && v.Member.Role != truce.RoleLiaison && s.cfg.Gate.Allows(v.who, policy.UploadBlob) {
		d.Actions = append(d.Actions, link{Label: "act.register-evidence", Href: "/evidence/new?" + url.Values{"case": {id}}.Encode()})
	}
	s.render(w, v, "record", v.L.T("type."+typ)+" "+id, d)
	return nil
}

// ids are the records a document names, by their prefixes.
var ids = regexp.MustCompile(`\b(AL|CS|TK|EV|FD|CQ|CM|AM|SRC|ST)-\d{4,}\b`)

var idTypes = map[string]string{"AL": rules.TypeAllegation, "CS": rules.TypeCase, "TK": rules.TypeTask, "EV": rules.TypeEvidence,
	"FD": rules.TypeFinding, "CQ": rules.TypeConsequence, "CM": rules.TypeCommitment, "AM": rules.TypeAmendment,
	"SRC": rules.TypeSource, "ST": rules.TypeStory}

// vocab names, by a field's name, the catalogue prefix its values are
// labelled with: a status, a determination, a party read in words.
var vocab = map[string]string{"status": "status.", "determination": "choice.", "severity": "choice.", "confidence": "choice.",
	"host_responsibility": "choice.", "response": "choice.", "grounds": "choice.", "relation": "choice.", "reliability": "choice.",
	"responsible": "party.", "accused": "party.", "filer": "party.", "target": "party.", "owner": "party.", "party": "party.",
	"mediator": "party.", "filing_party": "party.", "visibility": "choice."}

// readable renders a document's field as people read it: text escaped,
// record ids as links, times in UTC and each party's zone, a status or a
// determination in words, a signature as who signed when, a list of
// objects (signatures, custody events) as a list of lines, an object as
// its labelled fields.
func readable(l *Lang, key string, x any) template.HTML {
	switch x := x.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && len(x) >= 20 {
			return l.Time(t)
		}
		if key == "category" {
			return template.HTML(template.HTMLEscapeString(l.Category(x)))
		}
		if m, ok := l.messages[vocab[key]+x]; ok && vocab[key] != "" {
			return template.HTML(template.HTMLEscapeString(m))
		}
		esc := template.HTMLEscapeString(x)
		return template.HTML(ids.ReplaceAllStringFunc(esc, func(id string) string {
			typ := idTypes[id[:strings.IndexByte(id, '-')]]
			return `<a href="` + template.HTMLEscapeString(recordPath(typ, id)) + `">` + id + `</a>`
		}))
	case nil:
		return ""
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].(map[string]any); ok {
				var b strings.Builder
				b.WriteString("<ul class=\"facts-list\">")
				for _, e := range x {
					b.WriteString("<li>" + string(readable(l, key, e)) + "</li>")
				}
				b.WriteString("</ul>")
				return template.HTML(b.String())
			}
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = string(readable(l, key, e))
		}
		return template.HTML(strings.Join(parts, ", "))
	case map[string]any:
		if member, ok := x["member"].(string); ok {
			if concur, ok := x["concur"].(bool); ok { // a signature: who, for whom, concurring or not, when
				verdict := l.T("fact.dissents")
				if concur {
					verdict = l.T("fact.concurs")
				}
				line := template.HTMLEscapeString(member) + " (" + string(readable(l, "mediator", x["mediator"])) + ") " + template.HTMLEscapeString(verdict) +
					" · " + string(readable(l, "at", x["at"]))
				if i, ok := x["index"].(float64); ok {
					line += " · " + template.HTMLEscapeString(l.T("allegation.entry", int64(i)))
				}
				if note := readable(l, "note", x["note"]); note != "" {
					line += " — " + string(note)
				}
				return template.HTML(line)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			if v := readable(l, k, x[k]); v != "" { // "false" and "0" say something: a dissent, no one hurt
				parts = append(parts, template.HTMLEscapeString(l.Label("field."+k))+": "+string(v))
			}
		}
		return template.HTML(strings.Join(parts, " · "))
	default:
		return template.HTML(template.HTMLEscapeString(fmt.Sprint(x)))
	}
}

// listed are the record types with a list page of their own under
// /records/{type}; allegations, stories and sources have theirs.
var listed = []string{rules.TypeCase, rules.TypeTask, rules.TypeEvidence, rules.TypeFinding, rules.TypeConsequence, rules.TypeCommitment}

type recordRow struct {
	ID, Href, Title, Status string
	Entry                   int64 // the last entry that touched it
}

type recordsData struct {
	Type, Status, Party string
	From, To            string
	Types, Parties      []string
	Statuses            []string
	Rows                []recordRow
	Next                string
	Count               int
}

// statuses are the statuses a listed type's records take.
var statuses = map[string][]string{
	rules.TypeCase:        {truce.CaseOpen, truce.CaseClosed},
	rules.TypeTask:        {truce.TaskAssigned, truce.TaskDone},
	rules.TypeFinding:     {truce.FindingProposed, truce.FindingInEffect, truce.FindingFailed},
	rules.TypeConsequence: {truce.ConsequenceOpen, truce.ConsequenceFulfilled, truce.ConsequenceWaived, truce.ConsequenceEscalated},
	rules.TypeCommitment:  {truce.CommitmentOpen, truce.CommitmentDone},
}

// records lists the records of a type the reader may see, newest first,
// by status and party.
func (s *Server) records(w http.ResponseWriter, r *http.Request, v *view) error {
	typ := r.PathValue("type")
	if !slices.Contains(listed, typ) {
		if _, ok := ownPages[typ]; ok {
			http.Redirect(w, r, strings.TrimSuffix(ownPages[typ], "/"), http.StatusSeeOther)
			return nil
		}
		return truce.Errorf(truce.CodeNotFound, "no list of %q", typ)
	}
	d := &recordsData{Type: typ, Status: r.FormValue("status"), Party: r.FormValue("party"), From: r.FormValue("from"), To: r.FormValue("to"),
		Types: listed, Parties: []string{"PK", "AF"}, Statuses: statuses[typ]}
	if d.Party != "" && !slices.Contains(d.Parties, d.Party) {
		return truce.FieldErrorf(truce.CodeInvalid, "party", "must be PK or AF")
	}
	q := truce.Query{Type: typ, Status: d.Status, Party: d.Party, Limit: 100}
	var err error
	if q.From, q.To, err = api.Span(r); err != nil {
		v.Error = truce.ErrorMessage(err) // the list unfiltered by time, and why
		d.From, d.To = "", ""
	}
	if d.Count, err = s.cfg.Read.Count(r.Context(), v.who, q); err != nil {
		return err
	}
	if c := r.FormValue("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 1 {
			return truce.Errorf(truce.CodeInvalid, "%s", v.L.T("error.cursor"))
		}
		q.After = n
	}
	recs, err := s.cfg.Read.List(r.Context(), v.who, q)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		title := read.Title(rec.Type, rec.Doc)
		d.Rows = append(d.Rows, recordRow{ID: rec.ID, Href: recordPath(rec.Type, rec.ID), Title: title, Status: rec.Status, Entry: rec.Updated})
	}
	if len(recs) == q.Limit {
		next := url.Values{"cursor": {strconv.FormatInt(recs[len(recs)-1].Created, 10)}, "status": {d.Status}, "party": {d.Party}, "from": {d.From}, "to": {d.To}}
		d.Next = "/records/" + typ + "?" + next.Encode()
	}
	s.render(w, v, "records", v.L.T("type."+typ), d)
	return nil
}
