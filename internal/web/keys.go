package web

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
)

type keysData struct {
	Origin string
	Keys   []truce.Key
}

// keysPage lists the member's signing keys and makes one in the browser
// (static/sign.js): an Ed25519 key the browser will not export, kept in
// its own storage, so that the server never holds it.
func (s *Server) keysPage(w http.ResponseWriter, r *http.Request, v *view) error {
	s.render(w, v, "keys", v.L.T("keys.title"), keysData{Origin: s.cfg.Read.Origin(), Keys: v.Member.Keys})
	return nil
}

// addKey adds the key the browser made, with its proof of possession,
// once the member has typed its password again: a session left open, or
// a cookie stolen, must not give anyone a key that outlives it.
func (s *Server) addKey(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := gate.ParseForm(r); err != nil {
		return err
	}
	if err := s.cfg.Auth.Confirm(r.Context(), v.Member.ID, r.PostForm.Get("password"), gate.ClientAddress(r)); err != nil {
		if truce.ErrorCode(err) != truce.CodeUnauthorized {
			return err
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		v.Fields = map[string]string{"password": v.L.T("keys.password.wrong")}
		return s.keysPage(w, r, v)
	}
	if _, err := s.cfg.Submit.AddKey(r.Context(), v.who, r.PostForm.Get("key"), r.PostForm.Get("proof")); err != nil {
		return err
	}
	http.Redirect(w, r, "/keys", http.StatusSeeOther)
	return nil
}

type membersData struct {
	Members []truce.Member
	Link    string // the link just given, shown once
	For     string
}

// membersPage lists the members, for an administrator to give one a
// one-time link to set a password (to enrol, or after forgetting it).
func (s *Server) membersPage(w http.ResponseWriter, r *http.Request, v *view) error {
	s.render(w, v, "members", v.L.T("members.title"), s.members(""))
	return nil
}

func (s *Server) members(link string) membersData {
	d := membersData{Link: link}
	for _, m := range s.cfg.Read.Members() {
		if m.Role != truce.RoleSystem {
			d.Members = append(d.Members, m)
		}
	}
	slices.SortFunc(d.Members, func(a, b truce.Member) int { return cmp.Compare(a.ID, b.ID) })
	return d
}

// inviteTTL is how long a link given from the pages works.
const inviteTTL = 72 * time.Hour

// invite gives a member a link and shows it, once, to the administrator,
// to pass on by a channel the administrator trusts.
func (s *Server) invite(w http.ResponseWriter, r *http.Request, v *view) error {
	member := r.PathValue("id")
	tok, err := s.cfg.Auth.Invite(r.Context(), v.who, member, inviteTTL)
	if err != nil {
		return err
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	d := s.members(scheme + "://" + r.Host + "/enrol/" + tok)
	d.For = member
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, v, "members", v.L.T("members.title"), d)
	return nil
}
