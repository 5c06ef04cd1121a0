package web

import (
	"net/http"
	"strconv"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/notify"
)

type notifyData struct {
	Settings *notify.Settings
	Events   []string
	Hooks    []notify.Webhook
	Feed     string // a feed's address just made, shown once
}

// Chosen reports whether the settings name an event.
func (d notifyData) Chosen(event string) bool {
	for _, e := range d.Settings.Events {
		if e == event {
			return true
		}
	}
	return false
}

// notifyPage shows what the member chose to be told, and where; webhooks
// are listed (registered through the API, which shows the secret once).
func (s *Server) notifyPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.renderNotify(w, r, v, nil, "")
}

func (s *Server) renderNotify(w http.ResponseWriter, r *http.Request, v *view, st *notify.Settings, feed string) error {
	if st == nil {
		var err error
		if st, err = s.cfg.Notify.Settings(r.Context(), v.who); err != nil {
			return err
		}
	}
	hooks, err := s.cfg.Notify.Webhooks(r.Context(), v.who)
	if err != nil {
		return err
	}
	s.render(w, v, "notifications", v.L.T("notifications.title"), notifyData{Settings: st, Events: notify.Events, Hooks: hooks, Feed: feed})
	return nil
}

// saveNotify sets the member's e-mail, events and hours.
func (s *Server) saveNotify(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := gate.ParseForm(r); err != nil {
		return err
	}
	in := notify.Settings{Email: r.PostForm.Get("email"), Events: r.PostForm["events"]}
	if h := r.PostForm.Get("hours"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil {
			n = -1 // refused below, naming the field
		}
		in.Hours = n
	}
	if _, err := s.cfg.Notify.PutSettings(r.Context(), v.who, in); err != nil {
		if truce.ErrorCode(err) != truce.CodeInvalid {
			return err
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		v.Fields = map[string]string{truce.ErrorField(err): truce.ErrorMessage(err)}
		in.Feed = false
		return s.renderNotify(w, r, v, &in, "")
	}
	http.Redirect(w, r, "/notifications", http.StatusSeeOther)
	return nil
}

// newFeed makes the member a feed address and shows it, once.
func (s *Server) newFeed(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := gate.ParseForm(r); err != nil {
		return err
	}
	tok, err := s.cfg.Notify.NewFeedToken(r.Context(), v.who)
	if err != nil {
		return err
	}
	return s.renderNotify(w, r, v, nil, notify.FeedPath(tok))
}
