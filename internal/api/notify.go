package api

import (
	"net/http"
	"strings"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/notify"
)

func (s *Server) getNotifications(w http.ResponseWriter, r *http.Request) error {
	st, err := s.cfg.Notify.Settings(r.Context(), gate.Viewer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) putNotifications(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email  string   `json:"email"`
		Events []string `json:"events"`
		Hours  int      `json:"hours"`
		Feed   bool     `json:"feed"` // as GET answers it; a feed is made by POST .../feed
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	st, err := s.cfg.Notify.PutSettings(r.Context(), gate.Viewer(r), notify.Settings{Email: in.Email, Events: in.Events, Hours: in.Hours})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) newFeed(w http.ResponseWriter, r *http.Request) error {
	tok, err := s.cfg.Notify.NewFeedToken(r.Context(), gate.Viewer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"token": tok, "path": notify.FeedPath(tok)})
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	ws, err := s.cfg.Notify.Webhooks(r.Context(), gate.Viewer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ws})
	return nil
}

// DecodeWebhook reads a webhook's registration strictly: unknown fields,
// trailing data and a bad address are refused, naming the problem.
func DecodeWebhook(body []byte) (*notify.NewWebhook, error) {
	var in notify.NewWebhook
	if err := strictJSON(body, &in); err != nil {
		return nil, err
	}
	if _, err := notify.ParseURL(in.URL); err != nil {
		return nil, err
	}
	return &in, nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	in, err := DecodeWebhook(body)
	if err != nil {
		return err
	}
	wh, err := s.cfg.Notify.CreateWebhook(r.Context(), gate.Viewer(r), *in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, wh)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Notify.DeleteWebhook(r.Context(), gate.Viewer(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) feed(w http.ResponseWriter, r *http.Request) error {
	token, ok := strings.CutSuffix(r.PathValue("file"), ".atom")
	if !ok {
		return truce.Errorf(truce.CodeNotFound, "no such feed")
	}
	atom, err := s.cfg.Notify.Feed(r.Context(), token)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Write(atom)
	return nil
}
