// Package report renders the record for people and tools outside Truce:
// allegations as ACLED CSV, HXL-tagged CSV and GeoJSON.
package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/truce-mvm/truce"
)

// acledColumns are ACLED's, in ACLED's order, for the fields an
// allegation has.
var acledColumns = []string{
	"event_id_cnty", "event_date", "year", "time_precision", "event_type", "sub_event_type",
	"actor1", "actor2", "country", "admin1", "admin2", "admin3", "location",
	"latitude", "longitude", "geo_precision", "source", "notes", "fatalities", "tags",
}

// hxlTags tag the same columns for HXL.
var hxlTags = []string{
	"#event+id", "#date+occurred", "#date+year", "#meta+time_precision", "#event+type", "#event+type+sub",
	"#group+name+perpetrator", "#group+name+filer", "#country+code", "#adm1+name", "#adm2+name", "#adm3+name", "#loc+name",
	"#geo+lat", "#geo+lon", "#meta+geo_precision", "#meta+source", "#description", "#affected+killed", "#meta+tags",
}

func row(a truce.Allegation) []string {
	ff := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	actor := func() string {
		switch p := a.Perpetrator; p.Kind {
		case truce.PerpParty:
			return "Military Forces of " + p.Party
		case truce.PerpNonState:
			return p.Group
		}
		return "Unidentified Armed Group"
	}
	var sources []string
	for _, s := range a.Sources {
		sources = append(sources, strings.TrimSpace(s.Title+" "+s.URL))
	}
	tags := []string{"truce:" + a.Status, "filed_by:" + a.FilingParty}
	if a.Exercise {
		tags = append(tags, "EXERCISE")
	}
	return []string{
		a.ID, a.Occurred.From.Format("2006-01-02"), strconv.Itoa(a.Occurred.From.Year()), strconv.Itoa(a.Occurred.Precision),
		a.EventType, a.SubEventType, actor(), "Military Forces of " + a.FilingParty,
		a.Place.Country, a.Place.Admin1, a.Place.Admin2, a.Place.Admin3, a.Place.Location,
		ff(a.Place.Lat), ff(a.Place.Lon), strconv.Itoa(a.Place.GeoPrecision), strings.Join(sources, "; "),
		a.Narrative, strconv.Itoa(a.Casualties.Killed), strings.Join(tags, "; "),
	}
}

// WriteACLED writes allegations as CSV with ACLED's column names.
func WriteACLED(w io.Writer, as []truce.Allegation) error { return writeCSV(w, as, false) }

// WriteHXL writes the same CSV with an HXL hashtag row under the header.
func WriteHXL(w io.Writer, as []truce.Allegation) error { return writeCSV(w, as, true) }

func writeCSV(w io.Writer, as []truce.Allegation, hxl bool) error {
	c := csv.NewWriter(w)
	c.Write(acledColumns)
	if hxl {
		c.Write(hxlTags)
	}
	for _, a := range as {
		r := row(a)
		for i := range r {
			r[i] = inert(r[i])
		}
		c.Write(r)
	}
	c.Flush()
	return c.Error()
}

// inert keeps a spreadsheet from running a cell as a formula: text that
// starts as one would (=, +, -, @, a tab or a carriage return, or their
// full-width forms, behind any spaces or byte-order marks) is prefixed with
// an apostrophe, as OWASP advises for CSV exports. Numbers, negative ones
// included, are left as they are.
func inert(cell string) string {
	lead := strings.TrimLeft(cell, " \ufeff")
	if lead == "" {
		return cell
	}
	if r, _ := utf8.DecodeRuneInString(lead); !strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
		return cell
	}
	if _, err := strconv.ParseFloat(cell, 64); err == nil {
		return cell
	}
	return "'" + cell
}

// WriteGeoJSON writes allegations as a GeoJSON FeatureCollection of points.
func WriteGeoJSON(w io.Writer, as []truce.Allegation) error {
	type feature struct {
		Type       string         `json:"type"`
		ID         string         `json:"id"`
		Geometry   map[string]any `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection", Features: []feature{}}
	for _, a := range as {
		props := map[string]any{}
		for i, col := range acledColumns {
			props[col] = row(a)[i]
		}
		props["status"], props["accused"] = a.Status, a.Accused
		fc.Features = append(fc.Features, feature{Type: "Feature", ID: a.ID,
			Geometry: map[string]any{"type": "Point", "coordinates": []float64{a.Place.Lon, a.Place.Lat}}, Properties: props})
	}
	return json.NewEncoder(w).Encode(fc)
}
