package api

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/report"
	"github.com/truce-mvm/truce/internal/rules"
)

// maxExport bounds one export.
const maxExport = 200_000

// exportable lists the allegations a request's filters select and its
// viewer may see, newest first.
func (s *Server) exportable(r *http.Request) ([]truce.Allegation, error) {
	var out []truce.Allegation
	q := truce.Query{Type: rules.TypeAllegation, Access: policy.AccessOf(viewerOf(r)), Limit: 500}
	if err := listings[rules.TypeAllegation].filters(r, &q); err != nil {
		return nil, err
	}
	for len(out) < maxExport {
		recs, err := s.cfg.Store.Records(r.Context(), q)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			var a truce.Allegation
			if err := json.Unmarshal(rec.Doc, &a); err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		if len(recs) < q.Limit {
			break
		}
		q.After = recs[len(recs)-1].Created
	}
	return out, nil
}

func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) error {
	write := report.WriteACLED
	switch r.URL.Query().Get("format") {
	case "", "acled":
	case "hxl":
		write = report.WriteHXL
	default:
		return truce.FieldErrorf(truce.CodeInvalid, "format", "acled or hxl")
	}
	as, err := s.exportable(r)
	if err != nil {
		return err
	}
	return s.attach(w, "text/csv; charset=utf-8", "allegations.csv", func(wr io.Writer) error { return write(wr, as) })
}

func (s *Server) exportGeoJSON(w http.ResponseWriter, r *http.Request) error {
	as, err := s.exportable(r)
	if err != nil {
		return err
	}
	return s.attach(w, "application/geo+json", "allegations.geojson", func(wr io.Writer) error { return report.WriteGeoJSON(wr, as) })
}

func (s *Server) attach(w http.ResponseWriter, contentType, name string, write func(io.Writer) error) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	return write(w)
}
