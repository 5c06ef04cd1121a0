package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
)

// sessionTTL is how long a browser session lasts.
const sessionTTL = 12 * time.Hour

type viewerKey struct{}

// viewerOf returns the viewer a request was authenticated as.
func viewerOf(r *http.Request) policy.Viewer {
	v, _ := r.Context().Value(viewerKey{}).(policy.Viewer)
	return v
}

// Identify resolves a request's credentials: a bearer token or a session
// cookie. No credentials is the anonymous viewer; bad credentials are an
// error, never silently anonymous. It also returns the session, if any.
// The pages share it with the API.
func (s *Server) Identify(r *http.Request) (policy.Viewer, *store.Session, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := cutBearer(h)
		if !ok {
			return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "use Authorization: Bearer <token>")
		}
		t, err := s.lookupToken(r.Context(), auth.HashToken(tok))
		if errors.Is(err, store.ErrNotFound) {
			return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "unknown token")
		}
		if err != nil {
			return policy.Viewer{}, nil, err
		}
		if t.Revoked {
			return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "the token was revoked")
		}
		if !t.Expires.IsZero() && !s.cfg.Clock().Before(t.Expires) {
			return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "the token expired at %s", t.Expires.UTC().Format(time.RFC3339))
		}
		m, err := s.member(t.Member)
		if err != nil {
			return policy.Viewer{}, nil, err
		}
		return policy.Viewer{Member: m, Scopes: t.Scopes}, nil, nil
	}
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil {
		return policy.Viewer{}, nil, nil // anonymous
	}
	sess, err := s.cfg.Store.Session(r.Context(), auth.HashToken(c.Value))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.cfg.Clock().Before(sess.Expires)) {
		return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "the session has ended; sign in again")
	}
	if err != nil {
		return policy.Viewer{}, nil, err
	}
	m, err := s.member(sess.Member)
	if err != nil {
		return policy.Viewer{}, nil, err
	}
	return policy.Viewer{Member: m, Scopes: policy.AllScopes, Session: true}, sess, nil
}

func cutBearer(h string) (string, bool) {
	const p = "Bearer "
	if len(h) <= len(p) || h[:len(p)] != p {
		return "", false
	}
	return h[len(p):], true
}

// member returns a copy of a registered member.
func (s *Server) member(id string) (*truce.Member, error) {
	var m *truce.Member
	s.cfg.Seq.View(func(st *rules.State) {
		if mm, ok := st.Member(id); ok {
			c := *mm
			m = &c
		}
	})
	if m == nil {
		return nil, truce.Errorf(truce.CodeUnauthorized, "the credential's member is not registered")
	}
	return m, nil
}

// CheckCSRF requires, of a state-changing request made with a session
// cookie, the session's CSRF token in the X-CSRF-Token header or the csrf
// form field. Bearer tokens are not sent by browsers on their own, so they
// need none.
func CheckCSRF(r *http.Request, sess *store.Session) error {
	if sess == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	got := r.Header.Get("X-CSRF-Token")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); got == "" && (mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data") {
		got = r.PostFormValue("csrf")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		return truce.Errorf(truce.CodeForbidden, "missing or wrong CSRF token")
	}
	return nil
}

func (s *Server) lookupToken(ctx context.Context, hash []byte) (*store.Token, error) {
	key := string(hash)
	s.tokensMu.Lock()
	c, ok := s.tokens[key]
	s.tokensMu.Unlock()
	if ok && time.Since(c.at) < tokenTTL {
		return c.t, nil
	}
	t, err := s.cfg.Store.Token(ctx, hash)
	if err != nil {
		return nil, err
	}
	s.tokensMu.Lock()
	if len(s.tokens) > 10000 {
		clear(s.tokens)
	}
	s.tokens[key] = cachedToken{t, time.Now()}
	s.tokensMu.Unlock()
	return t, nil
}

// forgetToken drops a token from the cache, so a revocation bites at once.
func (s *Server) forgetToken(hash []byte) {
	s.tokensMu.Lock()
	delete(s.tokens, string(hash))
	s.tokensMu.Unlock()
}

// --- sessions

// Login is the body of POST /api/v1/session.
type Login struct {
	Member   string `json:"member"`
	Password string `json:"password"`
}

// SessionInfo describes the caller's session.
type SessionInfo struct {
	Member *truce.Member `json:"member"`
	Scopes []string      `json:"scopes"`
	CSRF   string        `json:"csrf,omitempty"`
}

// SignIn checks a member's password, throttled per member and per
// address, and starts a session. It is shared by the API and the pages.
func (s *Server) SignIn(w http.ResponseWriter, r *http.Request, l Login) (*store.Session, error) {
	now := s.cfg.Clock()
	if ok, wait := s.loginAddr.allow(clientAddress(r)); !ok {
		return nil, tooMany(w, wait, "signing in from this address")
	}
	if locked, wait := s.lockouts.locked(l.Member, now); locked {
		return nil, tooMany(w, wait, "signing in as "+l.Member+" after failed attempts")
	}
	hash, err := s.cfg.Store.Password(r.Context(), l.Member)
	ok := false
	if err == nil {
		ok, err = auth.CheckPassword(hash, l.Password)
	} else if errors.Is(err, store.ErrNotFound) {
		auth.CheckPassword(dummyHash, l.Password) // take as long as for a real member
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		if s.lockouts.fail(l.Member, now, s.cfg.Limits) {
			s.log.Warn("sign-in locked out", "member", l.Member, "address", clientAddress(r))
		}
		return nil, truce.Errorf(truce.CodeUnauthorized, "wrong member or password")
	}
	s.lockouts.succeed(l.Member)
	cookie, sess, err := auth.NewSession(r.Context(), s.cfg.Store, l.Member, now, sessionTTL)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: cookie, Path: "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	return sess, nil
}

// dummyHash is checked against for unknown members, so that timing does
// not tell which members exist.
var dummyHash, _ = auth.HashPassword("no such member")

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var l Login
	if err := s.readJSON(w, r, &l); err != nil {
		return err
	}
	sess, err := s.SignIn(w, r, l)
	if err != nil {
		return err
	}
	m, err := s.member(sess.Member)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, SessionInfo{Member: m, Scopes: policy.AllScopes, CSRF: sess.CSRF})
	return nil
}

func (s *Server) session(w http.ResponseWriter, r *http.Request) error {
	v := viewerOf(r)
	info := SessionInfo{Member: v.Member, Scopes: v.Scopes}
	if sess, ok := r.Context().Value(sessionKey{}).(*store.Session); ok && sess != nil {
		info.CSRF = sess.CSRF
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

type sessionKey struct{}

// SignOut ends the request's session, if any.
func (s *Server) SignOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		if err := s.cfg.Store.DeleteSession(r.Context(), auth.HashToken(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.SignOut(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- tokens

// NewToken is the body of POST /api/v1/tokens.
type NewToken struct {
	Name    string   `json:"name"`
	Scopes  []string `json:"scopes"`
	Expires string   `json:"expires"` // a duration such as 30d; empty: no expiry
}

// TokenInfo describes a token, never with its secret.
type TokenInfo struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Member  string    `json:"member"`
	Scopes  []string  `json:"scopes"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
	Revoked bool      `json:"revoked,omitempty"`
	Token   string    `json:"token,omitempty"` // only when issued
}

func tokenInfo(t store.Token) TokenInfo {
	return TokenInfo{ID: t.ID, Name: t.Name, Member: t.Member, Scopes: t.Scopes, Created: t.Created, Expires: t.Expires, Revoked: t.Revoked}
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	v := viewerOf(r)
	member := v.Member.ID
	if v.Member.Role == truce.RoleAdmin && r.URL.Query().Get("all") != "" {
		member = ""
	}
	ts, err := s.cfg.Store.Tokens(r.Context(), member)
	if err != nil {
		return err
	}
	out := struct {
		Items []TokenInfo `json:"items"`
	}{Items: []TokenInfo{}}
	for _, t := range ts {
		out.Items = append(out.Items, tokenInfo(t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	v := viewerOf(r)
	var req NewToken
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Name) > 100 {
		return truce.FieldErrorf(truce.CodeInvalid, "name", "at most 100 characters")
	}
	if len(req.Scopes) == 0 {
		return truce.FieldErrorf(truce.CodeInvalid, "scopes", "name the scopes: read, write, manage")
	}
	for i, sc := range req.Scopes {
		// A token cannot do more than the credential that made it.
		if !slices.Contains(policy.AllScopes, sc) || !slices.Contains(v.Scopes, sc) {
			return truce.FieldErrorf(truce.CodeInvalid, "scopes["+string(rune('0'+i))+"]", "%q is not a scope you can grant", sc)
		}
	}
	var expires time.Time
	if req.Expires != "" {
		d, err := truce.ParseDuration(req.Expires)
		if err != nil || d <= 0 {
			return truce.FieldErrorf(truce.CodeInvalid, "expires", "a duration such as 30d")
		}
		expires = s.cfg.Clock().Add(time.Duration(d))
	}
	tok, t, err := auth.IssueToken(r.Context(), s.cfg.Store, auth.TokenSpec{Member: v.Member.ID, Name: req.Name, Scopes: req.Scopes, Expires: expires}, s.cfg.Clock())
	if err != nil {
		return err
	}
	info := tokenInfo(*t)
	info.Token = tok
	writeJSON(w, http.StatusCreated, info)
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	v := viewerOf(r)
	member := v.Member.ID
	if v.Member.Role == truce.RoleAdmin {
		member = ""
	}
	ts, err := s.cfg.Store.Tokens(r.Context(), member)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == r.PathValue("id") {
			t.Revoked = true
			if err := s.cfg.Store.PutToken(r.Context(), t); err != nil {
				return err
			}
			s.forgetToken(t.Hash)
			writeJSON(w, http.StatusOK, tokenInfo(t))
			return nil
		}
	}
	return truce.Errorf(truce.CodeNotFound, "you have no token %q", r.PathValue("id"))
}

// readJSON strictly decodes a bounded JSON body.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	return strictJSON(body, v)
}
