// Package gazetteer resolves the places an article names against a
// compact gazetteer of Afghan and Pakistani places, and the cities where
// talks are held, derived from GeoNames (CC BY 4.0; see ATTRIBUTION and
// gazgen, which builds places.tsv).
//
// Names are matched as whole capitalised words, with diacritics folded
// ("Kandahar" finds Kandahār), longest first. A name that is also an
// ordinary English word (Tank, March, Bela...) is taken only after "in",
// "near", "at" or "from"; a name that two places share is taken only when
// the text names the country of one of them.
package gazetteer

import (
	_ "embed"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/truce-mvm/truce"
)

//go:embed places.tsv
var placesTSV string

// borderTSV adds the frontier's districts and sectors (border.tsv).
//
//go:embed border.tsv
var borderTSV string

// Attribution is what every display of the gazetteer's places owes.
const Attribution = "Places from GeoNames (geonames.org), CC BY 4.0"

type place struct {
	truce.PlaceMention
	province bool
}

var (
	once   sync.Once
	byName map[string][]place // folded name → places
	maxLen int                // most words in a name
)

func load() {
	byName = map[string][]place{}
	for line := range strings.Lines(placesTSV + borderTSV) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) != 6 {
			continue
		}
		lat, _ := strconv.ParseFloat(f[4], 64)
		lon, _ := strconv.ParseFloat(f[5], 64)
		p := place{truce.PlaceMention{Name: f[0], Country: f[1], Admin1: f[2], Lat: lat, Lon: lon}, f[3] == "A"}
		key := strings.Join(words(strings.ToLower(fold(f[0]))), " ")
		if key == "" {
			continue
		}
		byName[key] = append(byName[key], p)
		maxLen = max(maxLen, len(words(key)))
	}
}

// Size is the number of names the gazetteer knows.
func Size() int {
	once.Do(load)
	return len(byName)
}

var folder = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// fold removes diacritics and the apostrophe-like marks of transliteration.
func fold(s string) string {
	t := folder.Get().(transform.Transformer)
	defer folder.Put(t)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '‘', '’', 'ʼ', 'ʻ', '\'':
			return -1
		}
		return r
	}, out)
}

func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// common are names of places that are also English words or given names.
var common = map[string]bool{"tank": true, "march": true, "bela": true, "hub": true, "patan": true, "topi": true, "chak": true,
	"khar": true, "moro": true, "mach": true, "thal": true, "buni": true, "bati": true, "jati": true, "hala": true, "basra": true,
	"daur": true, "lawa": true, "karor": true, "nayak": true, "lakhi": true, "mehar": true, "dinga": true, "kamra": true}

var cues = []string{"in", "near", "at", "from", "of", "outside", "around"}

var countries = map[string]string{"pakistan": "PK", "afghanistan": "AF", "qatar": "QA", "turkey": "TR", "türkiye": "TR", "turkiye": "TR"}

var possessive = regexp.MustCompile(`(\pL)['’]s\b`)

// Find returns the places text names, each once, in the order first named.
func Find(text string) []truce.PlaceMention {
	once.Do(load)
	text = possessive.ReplaceAllString(text, "$1") // "Miranshah's hospital"
	orig := words(text)
	toks := words(strings.ToLower(fold(text)))
	if len(orig) != len(toks) { // folding split or joined a word: match on the folded text alone
		orig = words(fold(text))
		toks = words(strings.ToLower(fold(text)))
	}
	named := map[string]bool{}
	for _, t := range toks {
		if c, ok := countries[t]; ok {
			named[c] = true
		}
	}
	var out []truce.PlaceMention
	seen := map[string]bool{}
	for i := 0; i < len(toks); i++ {
		// A name is capitalised; scripts without case (Arabic) are taken as written.
		if r := []rune(orig[i]); unicode.IsLower(r[0]) {
			continue
		}
		for n := min(maxLen, len(toks)-i); n >= 1; n-- {
			key := strings.Join(toks[i:i+n], " ")
			ps, ok := byName[key]
			if !ok || n == 1 && common[key] && (i == 0 || !slices.Contains(cues, toks[i-1])) {
				continue
			}
			province := i+n < len(toks) && toks[i+n] == "province"
			p, ok := choose(ps, province, named)
			if ok && !seen[p.Name+p.Country] {
				seen[p.Name+p.Country] = true
				out = append(out, p.PlaceMention)
			}
			i += n - 1
			break
		}
	}
	return out
}

// choose picks among the places that share a name: the province if the
// text says "province", else a town; among several, the only one in a
// country the text names.
func choose(ps []place, province bool, named map[string]bool) (place, bool) {
	var kind []place
	for _, p := range ps {
		if p.province == province {
			kind = append(kind, p)
		}
	}
	if len(kind) == 0 {
		kind = ps
	}
	if len(kind) == 1 {
		return kind[0], true
	}
	var in []place
	for _, p := range kind {
		if named[p.Country] {
			in = append(in, p)
		}
	}
	if len(in) == 1 || len(in) > 1 && samePlace(in) {
		return in[0], true
	}
	return place{}, false
}

// samePlace is several entries for one town (GeoNames lists some twice).
func samePlace(ps []place) bool {
	for _, p := range ps[1:] {
		if p.Country != ps[0].Country || p.Admin1 != ps[0].Admin1 {
			return false
		}
	}
	return true
}
