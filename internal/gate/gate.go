// Package gate is the one door every request of every surface comes
// through: the API's and the pages' route tables each name a policy
// action per route, and Admit applies, in this order and in this one
// place, the request time limit, the per-address rate limit,
// identification, the policy (scopes included), the body limit, the CSRF
// check of session requests, and the per-member rate limit.
package gate

import (
	"context"
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/limit"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/store"
)

// Limits bound what one client can ask of the server. Zero rates mean no
// limit.
type Limits struct {
	MaxBodyBytes   int64         // JSON bodies and forms
	MaxUploadBytes int64         // evidence files
	MemberRate     float64       // requests a second per member
	MemberBurst    int           //
	AddressRate    float64       // requests a second per client address
	AddressBurst   int           //
	RequestTimeout time.Duration // for handling one request
}

// DefaultLimits are the limits of a server started without others. No
// entry is over 64 KiB (a tlog-tiles leaf), so a body of 128 KiB holds any
// entry with room for its sealed content.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes: 128 << 10, MaxUploadBytes: 256 << 20,
		MemberRate: 50, MemberBurst: 200, AddressRate: 200, AddressBurst: 400,
		RequestTimeout: 30 * time.Second,
	}
}

// Gate admits requests.
type Gate struct {
	auth    *auth.Service
	policy  policy.Options
	limits  Limits
	member  *limit.Keyed
	address *limit.Keyed
}

// New returns a gate; zero limits are DefaultLimits.
func New(a *auth.Service, p policy.Options, l Limits) *Gate {
	if l == (Limits{}) {
		l = DefaultLimits()
	}
	return &Gate{auth: a, policy: p, limits: l, member: limit.New(l.MemberRate, l.MemberBurst), address: limit.New(l.AddressRate, l.AddressBurst)}
}

// Limits are the gate's limits.
func (g *Gate) Limits() Limits { return g.limits }

// Allows reports whether the policy lets v do a: for a page to offer only
// what its reader may do.
func (g *Gate) Allows(v policy.Viewer, a policy.Action) bool {
	return policy.Check(v, a, g.policy) == nil
}

// Route is what the gate needs to know of a route.
type Route struct {
	Action policy.Action
	// Upload routes take a file: their body may be MaxUploadBytes (and a
	// form), not MaxBodyBytes.
	Upload bool
	// Lenient routes (the pages) take bad or ended credentials for none:
	// the reader is anonymous and is sent to sign in, not shown an error.
	Lenient bool
}

// SessionCookie names the browser session cookie.
const SessionCookie = auth.SessionCookie

type viewerKey struct{}
type sessionKey struct{}

// UploadTimeout is how long an upload route may take to read its body
// and answer: a field monitor's photographs on a poor connection take
// minutes, not the seconds other requests get.
const UploadTimeout = 30 * time.Minute

// Serve runs r through the limits, identification, the policy and the
// CSRF check for rt, then handle with the admitted request, which carries
// the viewer and the session. It returns the coded error to answer with
// (a *auth.RetryAfter for rate limits): the gate's refusal or handle's.
// Nothing of the body is read unless the policy admits it, and a form's
// files spooled to disk are removed once the request is answered, whoever
// read them.
func (g *Gate) Serve(w http.ResponseWriter, r *http.Request, rt Route, handle func(*http.Request) error) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	r = r.WithContext(ctx) // the one copy every reader of the form shares
	defer func() {
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
	}()
	if err := g.admit(w, r, rt); err != nil {
		return err
	}
	return handle(r)
}

// admit checks r in place; its context gains the viewer and session.
func (g *Gate) admit(w http.ResponseWriter, r *http.Request, rt Route) error {
	timeout := g.limits.RequestTimeout
	if rt.Upload {
		timeout = UploadTimeout
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Now().Add(UploadTimeout))
		rc.SetWriteDeadline(time.Now().Add(UploadTimeout + time.Minute))
	}
	if timeout > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		context.AfterFunc(r.Context(), cancel)
		*r = *r.WithContext(ctx)
	}
	trace := TraceOf(r)
	if trace != nil {
		trace.Route = r.Pattern
	}
	if ok, wait := g.address.Allow(ClientAddress(r)); !ok {
		return auth.TooMany(wait, "from this address")
	}
	if err := sameOrigin(r); err != nil {
		return err
	}
	v, sess, err := g.identify(r)
	if trace != nil && v.Member != nil {
		trace.Member = v.Member.ID
	}
	if err != nil && !(rt.Lenient && truce.ErrorCode(err) == truce.CodeUnauthorized) {
		return err
	}
	if err := policy.Check(v, rt.Action, g.policy); err != nil {
		return err
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		limit := g.limits.MaxBodyBytes
		if rt.Upload {
			limit = g.limits.MaxUploadBytes + g.limits.MaxBodyBytes
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := checkCSRF(r, sess); err != nil {
			return err
		}
	}
	if v.Member != nil {
		if ok, wait := g.member.Allow(v.Member.ID); !ok {
			return auth.TooMany(wait, "by "+v.Member.ID)
		}
	}
	ctx := context.WithValue(r.Context(), viewerKey{}, v)
	ctx = context.WithValue(ctx, sessionKey{}, sess)
	*r = *r.WithContext(ctx)
	return nil
}

// sameOrigin refuses a state-changing request a browser sent from another
// site: browsers name the page's origin in the Origin header of every
// POST, so a form elsewhere can neither act with a member's session nor
// sign a member in as someone else. Clients that are not browsers send no
// Origin and are not concerned.
func sameOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Host != r.Host {
		return truce.Errorf(truce.CodeForbidden, "a request from another site (%s) is refused", o)
	}
	return nil
}

// identify reads a request's credentials: an Authorization header, which
// must be a bearer token, or the session cookie.
func (g *Gate) identify(r *http.Request) (policy.Viewer, *store.Session, error) {
	var bearer, cookie string
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "use Authorization: Bearer <token>")
		}
		bearer = tok
	} else if c, err := r.Cookie(SessionCookie); err == nil {
		cookie = c.Value
	}
	return g.auth.Identify(r.Context(), bearer, cookie)
}

// Viewer is who an admitted request is from.
func Viewer(r *http.Request) policy.Viewer {
	v, _ := r.Context().Value(viewerKey{}).(policy.Viewer)
	return v
}

// Session is an admitted request's browser session, nil if it has none.
func Session(r *http.Request) *store.Session {
	s, _ := r.Context().Value(sessionKey{}).(*store.Session)
	return s
}

// checkCSRF requires, of a state-changing request made with a session
// cookie, the session's CSRF token in the X-CSRF-Token header or the csrf
// form field. Bearer tokens are not sent by browsers on their own, so they
// need none.
func checkCSRF(r *http.Request, sess *store.Session) error {
	if sess == nil {
		return nil
	}
	got := r.Header.Get("X-CSRF-Token")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); got == "" && (mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data") {
		if err := ParseForm(r); err != nil {
			return err
		}
		got = r.PostForm.Get("csrf")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		return ErrCSRF
	}
	return nil
}

// ErrCSRF refuses a session's state-changing request without the
// session's CSRF token.
var ErrCSRF = truce.Errorf(truce.CodeForbidden, "missing or wrong CSRF token")

// ParseForm reads a posted form, a multipart one with files over 8 MiB
// kept on disk, within the body limit Admit set.
func ParseForm(r *http.Request) error {
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return truce.Errorf(truce.CodeTooLarge, "the request body is over %d bytes", tooBig.Limit)
	}
	if err != nil {
		return truce.Errorf(truce.CodeInvalid, "the form could not be read: %v", err)
	}
	return nil
}
