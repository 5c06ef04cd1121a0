package web

import (
	"net/http"

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

// addKey adds the key the browser made, with its proof of possession.
func (s *Server) addKey(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := gate.ParseForm(r); err != nil {
		return err
	}
	if _, err := s.cfg.Submit.AddKey(r.Context(), v.who, r.PostForm.Get("key"), r.PostForm.Get("proof")); err != nil {
		return err
	}
	http.Redirect(w, r, "/keys", http.StatusSeeOther)
	return nil
}
