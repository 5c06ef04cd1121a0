package api

import (
	"io"
	"net/http"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/report"
	"github.com/truce-mvm/truce/internal/rules"
)

// exportable lists the allegations a request's filters select and its
// viewer may see, newest first.
func (s *Server) exportable(r *http.Request) ([]truce.Allegation, error) {
	q := truce.Query{Type: rules.TypeAllegation}
	if err := listings[rules.TypeAllegation].filters(r, &q); err != nil {
		return nil, err
	}
	return s.cfg.Read.Export(r.Context(), gate.Viewer(r), q)
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
	return attach(w, "text/csv; charset=utf-8", "allegations.csv", func(wr io.Writer) error { return write(wr, as) })
}

func (s *Server) exportGeoJSON(w http.ResponseWriter, r *http.Request) error {
	as, err := s.exportable(r)
	if err != nil {
		return err
	}
	return attach(w, "application/geo+json", "allegations.geojson", func(wr io.Writer) error { return report.WriteGeoJSON(wr, as) })
}

func attach(w http.ResponseWriter, contentType, name string, write func(io.Writer) error) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	return write(w)
}
