package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
)

func sample() []truce.Allegation {
	return []truce.Allegation{{ID: "AL-0001", AllegationFiling: truce.AllegationFiling{
		Category: "air_drone_strike", Occurred: truce.Occurred{From: time.Date(2026, 11, 14, 2, 0, 0, 0, time.UTC), Precision: 1},
		Place:       truce.Place{Lat: 32.783, Lon: 69.167, GeoPrecision: 2, Country: "AF", Admin1: "Paktika", Location: "Barmal"},
		Perpetrator: truce.Perpetrator{Kind: truce.PerpParty, Party: "PK"}, Casualties: truce.Casualties{Killed: 6},
		Narrative: "A drone struck, \"two houses\", at night.",
	}, EventType: "Explosions/Remote violence", SubEventType: "Air/drone strike", FilingParty: "AF", Status: "filed", Exercise: true}}
}

func TestACLEDAndHXL(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHXL(&b, sample()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	head, tags, r := rows[0], rows[1], rows[2]
	col := func(name string) string {
		for i, h := range head {
			if h == name {
				return r[i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	if col("event_date") != "2026-11-14" || col("sub_event_type") != "Air/drone strike" || col("actor1") != "Military Forces of PK" ||
		col("latitude") != "32.783" || col("fatalities") != "6" || !strings.Contains(col("tags"), "EXERCISE") || col("notes") != sample()[0].Narrative {
		t.Fatalf("row %v", r)
	}
	if len(tags) != len(head) || tags[1] != "#date+occurred" || tags[13] != "#geo+lat" {
		t.Fatalf("HXL row %v", tags)
	}
}

func TestGeoJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGeoJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string
		Features []struct {
			ID       string
			Geometry struct {
				Type        string
				Coordinates []float64
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 1 {
		t.Fatalf("%s %v", b.String(), err)
	}
	if g := fc.Features[0].Geometry; g.Type != "Point" || g.Coordinates[0] != 69.167 || g.Coordinates[1] != 32.783 {
		t.Fatalf("geometry %+v (GeoJSON is lon, lat)", g)
	}
}

// TestFormulasInert: text a spreadsheet would run as a formula reaches
// neither CSV export as one; negative numbers stay numbers.
func TestFormulasInert(t *testing.T) {
	as := sample()
	as[0].Narrative = `=cmd|' /C calc'!A0`
	as[0].Place.Location = `=HYPERLINK("http://evil.example","click")`
	as[0].Place.Admin1 = "@SUM(1+1)"
	as[0].Place.Admin2 = "+1+1"
	as[0].Place.Admin3 = "\t=1"
	as[0].Perpetrator = truce.Perpetrator{Kind: truce.PerpNonState, Group: "\ufeff=HYPERLINK(\"x\")"}
	as[0].Sources = []truce.Source{{Title: "＝1+1"}}
	as[0].Place.Lon = -69.5
	for name, write := range map[string]func(*bytes.Buffer) error{
		"acled": func(b *bytes.Buffer) error { return WriteACLED(b, as) },
		"hxl":   func(b *bytes.Buffer) error { return WriteHXL(b, as) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		text := b.String()
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, cell := range rows[len(rows)-1] {
			if lead := strings.TrimLeft(cell, " \ufeff"); lead != "" && (strings.ContainsRune("=+@\t\r", rune(lead[0])) || strings.HasPrefix(lead, "＝")) {
				t.Errorf("%s: a cell starts as a formula: %q", name, cell)
			}
			if cell != "" && cell[0] == '-' && cell != "-69.5" {
				t.Errorf("%s: %q", name, cell)
			}
		}
		if !strings.Contains(text, `'=cmd|' /C calc'!A0`) || !strings.Contains(text, "-69.5") {
			t.Errorf("%s: the text is not kept, made inert: %s", name, text)
		}
	}
}
