package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/gazetteer"
	"github.com/truce-mvm/truce/internal/rules"
)

type storiesData struct {
	Items    []*truce.Story
	Disputed bool
	Next     string
}

// stories lists the open-source stories, newest first; ?disputed=1 keeps
// those whose sources disagree.
func (s *Server) stories(w http.ResponseWriter, r *http.Request, v *view) error {
	q := truce.Query{Type: rules.TypeStory, Limit: 50, Access: v.Access}
	d := &storiesData{Disputed: r.FormValue("disputed") == "1"}
	if d.Disputed {
		q.Status = "disputed"
	}
	if c := r.FormValue("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 1 {
			return truce.Errorf(truce.CodeInvalid, "%s", v.L.T("error.cursor"))
		}
		q.After = n
	}
	recs, err := s.cfg.Store.Records(r.Context(), q)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		st, err := decode[truce.Story](rec.Doc)
		if err != nil {
			return err
		}
		d.Items = append(d.Items, st)
	}
	if len(recs) == q.Limit {
		next := url.Values{"cursor": {strconv.FormatInt(recs[len(recs)-1].Created, 10)}}
		if d.Disputed {
			next.Set("disputed", "1")
		}
		d.Next = "/stories?" + next.Encode()
	}
	s.render(w, v, "stories", v.L.T("nav.stories"), d)
	return nil
}

type storyData struct {
	S           *truce.Story
	Outlets     map[string]string // outlet name → reliability
	Timeline    []entryView
	Receipt     string
	Actions     []link
	Attribution string
}

func (s *Server) story(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	rec, hist, err := s.cfg.API.VisibleRecord(r.Context(), v.Access, rules.TypeStory, id)
	if err != nil {
		return err
	}
	st, err := decode[truce.Story](rec.Doc)
	if err != nil {
		return err
	}
	d := &storyData{S: st, Outlets: map[string]string{}, Timeline: s.timeline(hist), Receipt: api.ReceiptPath(rules.TypeStory, id),
		Actions: offer(v, "story", id, "link-source"), Attribution: gazetteer.Attribution}
	s.cfg.Seq.View(func(state *rules.State) {
		for _, src := range st.Sources {
			if o, ok := state.Outlet(src.Outlet); ok {
				d.Outlets[src.Outlet] = o.Reliability
			}
		}
	})
	s.render(w, v, "story", st.Title, d)
	return nil
}
