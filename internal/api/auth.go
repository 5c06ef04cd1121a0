package api

import (
	"net/http"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/store"
)

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

// SignIn checks a member's password, sets the session cookie and returns
// the signed-in viewer and session. The pages share it.
func (s *Server) SignIn(w http.ResponseWriter, r *http.Request, member, password string) (policy.Viewer, *store.Session, error) {
	cookie, _, err := s.cfg.Auth.SignIn(r.Context(), member, password, gate.ClientAddress(r))
	if err != nil {
		return policy.Viewer{}, nil, err
	}
	s.setSession(w, r, cookie, int(auth.SessionTTL.Seconds()))
	return s.cfg.Auth.Identify(r.Context(), "", cookie)
}

// Enrol uses a one-time link to set a member's password and signs the
// member in. The pages share it.
func (s *Server) Enrol(w http.ResponseWriter, r *http.Request, token, password string) error {
	cookie, _, err := s.cfg.Auth.Enrol(r.Context(), token, password)
	if err != nil {
		return err
	}
	s.setSession(w, r, cookie, int(auth.SessionTTL.Seconds()))
	return nil
}

// setSession sets the session cookie (maxAge -1 clears it).
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: value, Path: "/", HttpOnly: true,
		Secure: s.SecureCookie(r), SameSite: http.SameSiteStrictMode, MaxAge: maxAge})
}

// SecureCookie reports whether cookies set in answer to r are marked
// Secure: always with SecureCookies, and whenever the client connected
// over HTTPS (directly, or as a trusted proxy says). The pages share it.
func (s *Server) SecureCookie(r *http.Request) bool {
	return s.cfg.SecureCookies || gate.IsHTTPS(r)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var l Login
	if err := readJSON(r, &l); err != nil {
		return err
	}
	v, sess, err := s.SignIn(w, r, l.Member, l.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, SessionInfo{Member: v.Member, Scopes: v.Scopes, CSRF: sess.CSRF})
	return nil
}

func (s *Server) session(w http.ResponseWriter, r *http.Request) error {
	v := gate.Viewer(r)
	info := SessionInfo{Member: v.Member, Scopes: v.Scopes}
	if sess := gate.Session(r); sess != nil {
		info.CSRF = sess.CSRF
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// SignOut ends the request's session, if any, and clears its cookie.
func (s *Server) SignOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		if err := s.cfg.Auth.SignOut(r.Context(), c.Value); err != nil {
			return err
		}
	}
	s.setSession(w, r, "", -1)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.SignOut(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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
	ts, err := s.cfg.Auth.Tokens(r.Context(), gate.Viewer(r), r.URL.Query().Get("all") != "")
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
	var req auth.NewToken
	if err := readJSON(r, &req); err != nil {
		return err
	}
	tok, t, err := s.cfg.Auth.Issue(r.Context(), gate.Viewer(r), req)
	if err != nil {
		return err
	}
	info := tokenInfo(*t)
	info.Token = tok
	writeJSON(w, http.StatusCreated, info)
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	t, err := s.cfg.Auth.Revoke(r.Context(), gate.Viewer(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenInfo(*t))
	return nil
}
