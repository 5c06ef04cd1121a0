// Package stories groups articles: exact copies (the same normalised
// text), near copies such as syndicated wire stories (SimHash of word
// shingles, then shingle overlap), and stories — articles about one event,
// close in time and in what they say, never mixing two events held in
// different places (the Doha round and the Istanbul round are two stories
// however alike their reports read).
package stories

import (
	"hash/fnv"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Article is what grouping needs of an article.
type Article struct {
	ID        string
	Published time.Time
	Text      string
	// Actors are the parties, groups and spokesmen it names, by one name
	// whatever its language: they let reports in different languages of
	// talks at one venue join one story.
	Actors []string
	// Dates are the days the article says things happened on (its date
	// claims and the ends of its ranges).
	Dates []time.Time
	// Places are the places it names, each by one key whatever the
	// language it is named in; Where those its lead (first paragraph)
	// names, where what it reports happened (Options.Events).
	Places, Where []string
}

// Grouped is an article's place in the groups.
//
// A near copy is found in two steps: SimHash of word 3-shingles within
// NearBits (a cheap filter), then the Jaccard similarity of the shingle
// sets at least NearJaccard (the decision). The filter is loose: two texts
// sharing 70% of their shingles differ in about 12 of 64 SimHash bits on
// average, and a wire story lightly edited by a second outlet was seen at
// 10 and more. Copies never cross venues.
type Grouped struct {
	ID       string  `json:"id"`
	Story    int     `json:"story"`              // stories are numbered from 1 in order of their first article
	CopyOf   string  `json:"copy_of,omitempty"`  // the first article this one copies, exactly or nearly
	Exact    bool    `json:"exact,omitempty"`    // a byte-for-byte copy of the normalised text
	Distance int     `json:"distance,omitempty"` // SimHash bits from the one it copies
	Overlap  float64 `json:"overlap,omitempty"`  // Jaccard similarity of their shingles
	// Contained is the share of the shorter text's shingles within the
	// other's, for a copy cut short or extended (Options.Contain).
	Contained float64 `json:"contained,omitempty"`
}

// Options tune grouping.
type Options struct {
	Window      time.Duration // how far apart articles of one story may be; default 4 days
	NearBits    int           // SimHash distance of candidate near copies; default 20
	NearJaccard float64       // shingle overlap of near copies; default 0.7
	MinSimilar  float64       // Jaccard similarity of content words to join a story; default 0.12
	MinShingles int           // texts with fewer shingles are never near copies; default 20
	// Contain, if set, also makes a copy of a text whose shingles lie
	// mostly (this share of the smaller set) within an original's: a copy
	// cut short, extended, or given a new headline or first paragraph,
	// which overlap and SimHash miss. 0: not used (rules before version 5).
	Contain float64
	// DatesApart keeps an article out of a story when every day it says
	// things happened on is more than a day from every day the story's
	// reports give: a clash on the 12th and another on the 15th are two
	// stories, however alike their words. false: not used (before rules
	// version 5).
	DatesApart bool
	// Events groups reports by the event they tell of (before rules
	// version 6: false):
	//   - an article joins a story whose originals name a place it names,
	//     on a day within a day of one the story gives, whatever the words
	//     or language of either: one clash told in one side's words and
	//     the other's;
	//   - an article whose lead names where it happened (Article.Where,
	//     and the venues its first paragraph names) never joins a story
	//     whose leads name only other places: a clash in Kurram and an
	//     attack in North Waziristan the next day are two stories;
	//   - the days a story's reports were published are days of the
	//     story too: talks still going on when reported.
	Events bool
}

func (o *Options) defaults() {
	if o.Window == 0 {
		o.Window = 4 * 24 * time.Hour
	}
	if o.NearBits == 0 {
		o.NearBits = 20
	}
	if o.NearJaccard == 0 {
		o.NearJaccard = 0.7
	}
	if o.MinSimilar == 0 {
		o.MinSimilar = 0.12
	}
	if o.MinShingles == 0 {
		o.MinShingles = 20
	}
}

// venues are places where rounds of talks and meetings are held, each with
// its spellings in English, Urdu, Dari and Pashto: two reports naming
// different venues, and none in common, are two events.
var venues = []struct {
	name      string
	spellings []string
}{
	{"doha", []string{"doha", "دوحہ", "دوحه"}}, {"istanbul", []string{"istanbul", "استنبول"}},
	{"ankara", []string{"ankara", "انقرہ", "آنکارا"}}, {"riyadh", []string{"riyadh", "ریاض"}},
	{"jeddah", []string{"jeddah", "جدہ", "جده"}}, {"tehran", []string{"tehran", "تہران", "تهران"}},
	{"beijing", []string{"beijing", "بیجنگ", "پکن"}}, {"urumqi", []string{"urumqi", "ارومچی"}},
	{"moscow", []string{"moscow", "ماسکو", "مسکو"}}, {"tashkent", []string{"tashkent", "تاشقند", "تاشکند"}},
	{"dushanbe", []string{"dushanbe", "دوشنبے"}}, // not دوشنبه: that is also Monday in Dari
	{"geneva", []string{"geneva", "جنیوا"}}, {"oslo", []string{"oslo", "اوسلو"}},
	{"kabul", []string{"kabul", "کابل"}}, {"islamabad", []string{"islamabad", "اسلام آباد"}},
	{"muscat", []string{"muscat", "مسقط"}}, {"abu dhabi", []string{"abu dhabi", "ابوظہبی", "ابوظبی"}},
	{"dubai", []string{"dubai", "دبئی", "دبی"}},
}

// spelling is one way of writing a venue, as words.
type spelling struct {
	name  string
	words []string
}

// venueWords are the venues' spellings, by their first word.
var venueWords = func() map[string][]spelling {
	m := map[string][]spelling{}
	for _, v := range venues {
		for _, sp := range v.spellings {
			ws := tokens(sp)
			m[ws[0]] = append(m[ws[0]], spelling{v.name, ws})
		}
	}
	return m
}()

// heldAt tells a place named as where something happens ("talks in
// Istanbul", "the Doha round", "returned from Kabul"; "استنبول میں",
// "در استنبول", "مذاکرات استنبول") from a capital named for its government
// ("Kabul denies", "KABUL:" as a dateline).
func heldAt(toks []string, from, to int) bool {
	return from > 0 && slices.Contains(before, toks[from-1]) || to < len(toks) && slices.Contains(after, toks[to])
}

var (
	before = []string{"in", "at", "from", "to", "در", "په", "از", "مذاکرات", "مذاکراتو", "اجلاس", "نشست"}
	after  = []string{"talks", "round", "meeting", "meetings", "process", "negotiations", "summit", "format", "framework",
		"میں", "مذاکرات", "کې", "اجلاس"}
)

type features struct {
	id        string
	published time.Time
	exact     uint64
	simhash   uint64
	shingle   int
	shingles  []uint64 // sorted, distinct
	words     map[string]bool
	venues    []string
}

// story is a group being built.
type story struct {
	n           int
	first, last time.Time
	words       map[string]int // content words and how many of the story's originals use them
	size        int
	venues      map[string]bool
	originals   []*features // for copy checks
	stale       bool        // long past: its shingle sets are dropped
	actors      map[string]bool
	days        map[int64]bool  // days its originals say things happened on
	places      map[string]bool // places its originals name
	where       map[string]bool // places and venues its originals' leads name
}

// near reports whether t falls within the window of the story's span.
func (s *story) near(t time.Time, window time.Duration) bool {
	return !t.Before(s.first.Add(-window)) && !t.After(s.last.Add(window))
}

// Grouper groups articles one at a time, in the order they are added: an
// article joins the story it fits best or starts one, and is never moved
// afterwards — so a record of where each article went stays true as more
// arrive. It is deterministic: the same articles added in the same order
// give the same groups.
type Grouper struct {
	o       Options
	stories []*story
	byDay   map[int64][]*story // the stories whose span covers each day
	byExact map[uint64]original
	newest  time.Time // the latest publication seen
	added   int
}

func dayOf(t time.Time) int64 { return t.Unix() / 86400 }

// nearby lists, in the order they were begun, the stories whose span comes
// within the window of t: the only ones an article of t may join, found
// without going through the whole archive.
func (g *Grouper) nearby(t time.Time) []*story {
	var out []*story
	for d := dayOf(t.Add(-g.o.Window)); d <= dayOf(t.Add(g.o.Window)); d++ {
		for _, s := range g.byDay[d] {
			if s.near(t, g.o.Window) && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, func(a, b *story) int { return a.n - b.n })
	return out
}

// cover records that a story's span now reaches t.
func (g *Grouper) cover(s *story, t time.Time) {
	from, to := dayOf(s.first), dayOf(s.last)
	if t.Before(s.first) {
		s.first = t
	}
	if t.After(s.last) {
		s.last = t
	}
	for d := dayOf(s.first); d <= dayOf(s.last); d++ {
		if d < from || d > to {
			g.byDay[d] = append(g.byDay[d], s)
		}
	}
}

// Shingle sets are the bulk of a grouper's memory. Those of stories that
// ended more than keepShingles before the latest publication seen are
// dropped (every sweepEvery articles); a late report of such an old story
// is then taken for a near copy only if its SimHash is within
// staleBits — nearly the same text. It depends on the articles alone, so
// replay drops the same sets at the same points.
const (
	keepShingles = 30 * 24 * time.Hour
	sweepEvery   = 256
	staleBits    = 3
)

// sweep drops the shingle sets of stories long past.
func (g *Grouper) sweep() {
	for _, s := range g.stories {
		if s.last.Add(keepShingles).Before(g.newest) && !s.stale {
			s.stale = true
			for _, x := range s.originals {
				x.shingles = nil
			}
		}
	}
}

type original struct {
	id string
	s  *story
}

// NewGrouper returns an empty grouper.
func NewGrouper(o Options) *Grouper {
	o.defaults()
	return &Grouper{o: o, byExact: map[uint64]original{}, byDay: map[int64][]*story{}}
}

// Retune sets the options articles added from now on are placed with;
// where earlier ones went stays as it was.
func (g *Grouper) Retune(o Options) {
	o.defaults()
	g.o = o
}

// Add places an article: in a story, and as a copy of an earlier article
// if it is one.
func (g *Grouper) Add(a Article) Grouped {
	o := g.o
	f := featuresOf(a.Text)
	f.id, f.published = a.ID, a.Published
	out := Grouped{ID: a.ID}
	var home *story
	// Exact copies, then near copies of an original in a nearby story.
	if x, ok := g.byExact[f.exact]; ok {
		out.CopyOf, out.Exact, home = x.id, true, x.s
	}
	nearby := g.nearby(a.Published)
	var where []string
	if o.Events {
		where = append(slices.Clone(a.Where), leadVenues(a.Text)...)
	}
	if home == nil && f.shingle >= o.MinShingles {
	near:
		for _, s := range nearby {
			if conflict(f.venues, s.venues) {
				continue
			}
			for _, x := range s.originals {
				d := bits.OnesCount64(f.simhash ^ x.simhash)
				if x.shingle < o.MinShingles {
					continue
				}
				if s.stale {
					if d <= staleBits {
						out.CopyOf, out.Distance = x.id, d
						home = s
						break near
					}
					continue
				}
				if d <= o.NearBits {
					if ov := jaccard(f.shingles, x.shingles); ov >= o.NearJaccard {
						out.CopyOf, out.Distance, out.Overlap = x.id, d, ov
						home = s
						break near
					}
				}
				if o.Contain > 0 {
					if c := containment(f.shingles, x.shingles); c >= o.Contain {
						out.CopyOf, out.Distance, out.Contained = x.id, d, c
						home = s
						break near
					}
				}
			}
		}
	}
	if home == nil {
		best, bestSim := (*story)(nil), o.MinSimilar
		for _, s := range nearby {
			if conflict(f.venues, s.venues) || o.DatesApart && apart(a.Dates, s.days) || conflict(where, s.where) {
				continue
			}
			if sim := similarity(f.words, s); sim >= bestSim {
				best, bestSim = s, sim
			}
		}
		if best == nil {
			best = acrossLanguages(a, f, nearby)
		}
		if best == nil && o.Events {
			best = samePlaceAndDay(a, f, where, nearby)
		}
		if best == nil {
			best = &story{n: len(g.stories) + 1, words: map[string]int{}, venues: map[string]bool{}, actors: map[string]bool{},
				days: map[int64]bool{}, places: map[string]bool{}, where: map[string]bool{}, first: a.Published, last: a.Published}
			g.stories = append(g.stories, best)
			g.byDay[dayOf(a.Published)] = append(g.byDay[dayOf(a.Published)], best)
		}
		home = best
	}
	out.Story = home.n
	if out.CopyOf == "" {
		g.byExact[f.exact] = original{a.ID, home}
		for w := range f.words {
			home.words[w]++
		}
		f.words = nil // the story keeps the counts
		home.originals = append(home.originals, &f)
		home.size++
		for _, v := range f.venues {
			home.venues[v] = true
		}
		for _, x := range a.Actors {
			home.actors[x] = true
		}
		for _, d := range a.Dates {
			home.days[dayNumber(d)] = true
		}
		if o.Events {
			y, m, d := a.Published.Date()
			home.days[dayNumber(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))] = true
		}
		for _, p := range a.Places {
			home.places[p] = true
		}
		for _, p := range where {
			home.where[p] = true
		}
		// Only originals stretch a story's span: a copy reprinted months
		// later does not make the story a neighbour of everything between.
		g.cover(home, a.Published)
	}
	if home.stale {
		f.shingles = nil
	}
	if a.Published.After(g.newest) {
		g.newest = a.Published
	}
	if g.added++; g.added%sweepEvery == 0 {
		g.sweep()
	}
	return out
}

// Move puts an original article in another story (0: a new story of its
// own), as an analyst decided, and returns that story's number, or 0 if
// the article is not an original the grouper holds. Later articles that
// copy it are placed with it. The stories' word profiles are not
// recomputed: the analyst's decision is about this article, and the
// grouper keeps no texts to learn from it again.
func (g *Grouper) Move(id string, to int) int {
	for _, s := range g.stories {
		i := slices.IndexFunc(s.originals, func(x *features) bool { return x.id == id })
		if i < 0 {
			continue
		}
		f := s.originals[i]
		var dest *story
		switch {
		case to == 0:
			dest = &story{n: len(g.stories) + 1, words: map[string]int{}, venues: map[string]bool{}, actors: map[string]bool{},
				days: map[int64]bool{}, places: map[string]bool{}, where: map[string]bool{}, first: f.published, last: f.published}
			g.stories = append(g.stories, dest)
			g.byDay[dayOf(f.published)] = append(g.byDay[dayOf(f.published)], dest)
		case to >= 1 && to <= len(g.stories):
			dest = g.stories[to-1]
		default:
			return 0
		}
		if dest == s {
			return s.n
		}
		s.originals = slices.Delete(s.originals, i, i+1)
		dest.originals = append(dest.originals, f)
		g.byExact[f.exact] = original{id, dest}
		g.cover(dest, f.published)
		return dest.n
	}
	return 0
}

// Group assigns every article a story and marks copies, taking the
// articles in publication order; the result is in the order given.
func Group(articles []Article, o Options) []Grouped {
	order := make([]int, len(articles))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return articles[order[a]].Published.Before(articles[order[b]].Published) })
	g := NewGrouper(o)
	out := make([]Grouped, len(articles))
	for _, i := range order {
		out[i] = g.Add(articles[i])
	}
	return out
}

// acrossLanguages finds the story of an article that shares no words with
// any — a report in another language — by what does not depend on
// language: the same venue named as where it happened, within the time
// window, and at least two of the same actors. The story sharing the most
// actors wins; the earliest, of equals.
func acrossLanguages(a Article, f features, nearby []*story) *story {
	var best *story
	most := 1
	for _, s := range nearby {
		if len(f.venues) == 0 || len(s.venues) == 0 || conflict(f.venues, s.venues) {
			continue
		}
		n := 0
		for _, x := range a.Actors {
			if s.actors[x] {
				n++
			}
		}
		if n > most {
			best, most = s, n
		}
	}
	return best
}

// samePlaceAndDay finds the story of an article that shares too few words
// with any — told in other words or another language — by where and when:
// a place both name, on a day within a day of one the story gives. The
// story sharing the most places wins; the earliest, of equals.
func samePlaceAndDay(a Article, f features, where []string, nearby []*story) *story {
	var best *story
	most := 0
	for _, s := range nearby {
		if conflict(f.venues, s.venues) || len(a.Dates) == 0 || apart(a.Dates, s.days) || conflict(where, s.where) {
			continue
		}
		n := 0
		for _, p := range a.Places {
			if named(p, s.places) {
				n++
			}
		}
		if n > most {
			best, most = s, n
		}
	}
	return best
}

// leadVenues are the venues the first paragraph of a text names as where
// something happens, as keys of their own.
func leadVenues(text string) []string {
	lead, _, _ := strings.Cut(strings.TrimSpace(text), "\n\n")
	var out []string
	for _, v := range venuesIn(tokens(lead)) {
		out = append(out, "venue:"+v)
	}
	return out
}

// conflict is two sets of places or venues, both named, with none in
// common: two events.
func conflict(a []string, b map[string]bool) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	for _, v := range a {
		if named(v, b) {
			return false
		}
	}
	return true
}

// named reports whether a set holds a place or venue: the same key, or a
// place within a tenth of a degree or so (twin towns of one crossing, a
// district and its town), places being keyed "lat,lon".
func named(k string, set map[string]bool) bool {
	if set[k] {
		return true
	}
	lat, lon, ok := coordinates(k)
	if !ok {
		return false
	}
	for x := range set {
		if la, lo, ok := coordinates(x); ok && math.Abs(la-lat) <= 0.15 && math.Abs(lo-lon) <= 0.15 {
			return true
		}
	}
	return false
}

func coordinates(k string) (float64, float64, bool) {
	a, b, ok := strings.Cut(k, ",")
	if !ok {
		return 0, 0, false
	}
	lat, err1 := strconv.ParseFloat(a, 64)
	lon, err2 := strconv.ParseFloat(b, 64)
	return lat, lon, err1 == nil && err2 == nil
}

// similarity is the Jaccard similarity of an article's content words with
// the words most of a story's articles use.
func similarity(words map[string]bool, s *story) float64 {
	if len(words) == 0 || s.size == 0 {
		return 0
	}
	inter, union := 0, len(words)
	for w, n := range s.words {
		if 2*n < s.size && s.size > 1 { // a word only a minority of the story uses does not define it
			continue
		}
		if words[w] {
			inter++
		} else {
			union++
		}
	}
	return float64(inter) / float64(union)
}

// stop words carry no topic: English, Urdu, Dari and Pashto function
// words, and the words that mark exercise material.
var stop = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but of in on at to from by for with as is was were be been are has have had
		it its this that these those he she they we you i his her their our not no said says say will would could should may
		after before over under about into than then there here which who whom what when where while also more most some any
		all one two three four five six seven eight nine ten new last first other both each such only very just up out off
		fictional exercise فرضی مشق تمرین
		اور کے کی کا میں نے سے کو پر ہے ہیں تھا تھی تھے ایک یہ وہ بھی بعد کہا
		و در از به با که را این آن برای هم بر تا یا شد است کرد گفت
		د او په له چې دا هغه کې ته هم وو شول وویل`) {
		m[w] = true
	}
	return m
}()

func featuresOf(text string) features {
	var f features
	toks := tokens(text)
	h := fnv.New64a()
	h.Write([]byte(strings.Join(toks, " ")))
	f.exact = h.Sum64()
	// SimHash of word 3-shingles.
	var v [64]int
	for i := 0; i+3 <= len(toks); i++ {
		h := fnv.New64a()
		h.Write([]byte(toks[i] + " " + toks[i+1] + " " + toks[i+2]))
		x := h.Sum64()
		f.shingles = append(f.shingles, x)
		for b := 0; b < 64; b++ {
			if x&(1<<b) != 0 {
				v[b]++
			} else {
				v[b]--
			}
		}
		f.shingle++
	}
	for b := 0; b < 64; b++ {
		if v[b] > 0 {
			f.simhash |= 1 << b
		}
	}
	slices.Sort(f.shingles)
	f.shingles = slices.Compact(f.shingles)
	f.words = map[string]bool{}
	for _, t := range toks {
		if len(t) > 2 && !stop[t] && !isNumber(t) {
			f.words[t] = true
		}
	}
	f.venues = venuesIn(toks)
	return f
}

// venuesIn are the venues words name as where something is held, sorted,
// each once.
func venuesIn(toks []string) []string {
	var out []string
	for i, t := range toks {
		for _, v := range venueWords[t] {
			if end := i + len(v.words); end <= len(toks) && slices.Equal(toks[i:end], v.words) && heldAt(toks, i, end) {
				out = append(out, v.name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tokens are the lower-cased words of a text.
func tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func isNumber(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

func dayNumber(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// apart reports whether none of the days given is within a day of a day
// the story gives (and both give some).
func apart(dates []time.Time, days map[int64]bool) bool {
	if len(dates) == 0 || len(days) == 0 {
		return false
	}
	for _, d := range dates {
		n := dayNumber(d)
		if days[n-1] || days[n] || days[n+1] {
			return false
		}
	}
	return true
}

// containment is the share of the smaller of two sorted sets that lies
// within the other.
func containment(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	return float64(intersection(a, b)) / float64(min(len(a), len(b)))
}

// jaccard is the Jaccard similarity of two sorted sets.
func jaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := intersection(a, b)
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// intersection counts the elements two sorted sets share.
func intersection(a, b []uint64) int {
	n := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}
