package rules

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/claims"
	"github.com/truce-mvm/truce/internal/stories"
)

// Open-source reports. Grouping is part of the rules: where an article goes
// (which story, a copy of what) follows from the log alone, in log order,
// so no ingesting client can place an article, and a replay places every
// article where the live server did.

// Entry kinds of open-source reports.
const (
	KindSourceIngested = "source.ingested"
	KindOutletGraded   = "outlet.graded"
	KindSourceLinked   = "source.linked"
	KindSourceMoved    = "source.moved"
)

// Record types of open-source reports.
const (
	TypeSource = "source"
	TypeStory  = "story"
	TypeOutlet = "outlet"
)

var (
	ingesters = []truce.Role{truce.RoleSystem, truce.RoleAnalyst, truce.RoleMonitor, truce.RoleMediator}
	analysts  = []truce.Role{truce.RoleAnalyst, truce.RoleMediator}
	linkers   = []truce.Role{truce.RoleAnalyst, truce.RoleMonitor, truce.RoleMediator}
)

// MaxSourceBody is the largest body of a source entry, as JSON: with the
// payload's other fields, base64 and the envelope around it, the entry
// stays within a tlog-tiles leaf (64 KiB). About 30,000 characters of
// English text and their claims fit: a long feature article; an
// ingester clips longer texts (and says so) to fit.
const MaxSourceBody = 46000

var (
	mediaPattern = regexp.MustCompile(`^[a-z]+/[a-z0-9.+-]+$`)
	claimKinds   = []string{truce.ClaimDate, truce.ClaimRange, truce.ClaimDuration, truce.ClaimCasualties, truce.ClaimDay}
	actorTypes   = []string{"party", "mediator", "armed_group", "spokesperson"}
)

// osint is the part of the state that open-source reports build.
type osint struct {
	reports  map[string]*truce.Report
	byHash   map[string]string
	byURL    map[string]string // the latest source from each address
	stories  map[string]*truce.Story
	outlets  map[string]*truce.Outlet
	grouper  *stories.Grouper
	nSource  int
	storyIDs map[int]string // the grouper's story numbers
	storyNum map[string]int // and back
	// heard is, for each story, what its originals' claims say and who
	// says them, as of its last assessment: a report that adds
	// nothing to it, from an outlet the story has, leaves its grades and
	// discrepancies as they are (rules version 6 on).
	heard map[string]map[heard]bool
}

func newOSINT() osint {
	return osint{reports: map[string]*truce.Report{}, byHash: map[string]string{}, byURL: map[string]string{}, stories: map[string]*truce.Story{},
		outlets: map[string]*truce.Outlet{}, grouper: stories.NewGrouper(stories.Options{}), storyIDs: map[int]string{}, storyNum: map[string]int{},
		heard: map[string]map[heard]bool{}}
}

// OutletID is the id of an outlet's record: its name, lower-cased, with
// runs of anything but letters and digits (in any script) made one dash.
func OutletID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			dash = true
			continue
		}
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
		dash = false
	}
	return b.String()
}

// TextHash names an article's text: hex SHA-256.
func TextHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

func checkSource(b *truce.SourceIngestion) error {
	if raw, _ := json.Marshal(b); len(raw) > MaxSourceBody {
		return truce.FieldErrorf(truce.CodeTooLarge, "body", "is %d bytes as JSON, the limit is %d: clip the text", len(raw), MaxSourceBody)
	}
	if !sha256Pattern.MatchString(b.SHA256) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.sha256", "must be 64 lowercase hex digits")
	}
	if !mediaPattern.MatchString(b.MediaType) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.media_type", "must be a media type such as text/html")
	}
	if err := text("body.outlet", b.Outlet, 200, true); err != nil {
		return err
	}
	if OutletID(b.Outlet) == "" {
		return truce.FieldErrorf(truce.CodeInvalid, "body.outlet", "must contain a letter or digit")
	}
	if b.URL != "" {
		u, err := url.Parse(b.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(b.URL) > 2000 {
			return truce.FieldErrorf(truce.CodeInvalid, "body.url", "must be an http or https address of at most 2000 bytes")
		}
	}
	if err := text("body.title", b.Title, 500, true); err != nil {
		return err
	}
	if b.Published.IsZero() {
		return truce.FieldErrorf(truce.CodeBadTime, "body.published", "is required")
	}
	if err := text("body.language", b.Language, 35, false); err != nil {
		return err
	}
	if err := text("body.text", b.Text, MaxSourceBody, true); err != nil {
		return err
	}
	for i, c := range b.Claims {
		f := fmt.Sprintf("body.claims[%d]", i)
		if !slices.Contains(claimKinds, c.Kind) {
			return truce.FieldErrorf(truce.CodeInvalid, f+".kind", "must be one of %v", claimKinds)
		}
		if c.Sentence == "" || !strings.Contains(b.Text, c.Sentence) {
			return truce.FieldErrorf(truce.CodeInvalid, f+".sentence", "must be quoted from body.text")
		}
		if c.Count < 0 || c.Days < 0 || c.Hours < 0 || c.CountMax < 0 {
			return truce.FieldErrorf(truce.CodeInvalid, f, "counts cannot be negative")
		}
		if c.Kind == truce.ClaimRange && c.To.Before(c.From) {
			return truce.FieldErrorf(truce.CodeInvalid, f+".to", "is before from")
		}
		if c.Weekday != nil && (*c.Weekday < time.Sunday || *c.Weekday > time.Saturday) {
			return truce.FieldErrorf(truce.CodeInvalid, f+".weekday", "must be 0 (Sunday) to 6")
		}
		for _, t := range []struct{ field, s string }{{"status", c.Status}, {"side", c.Side}, {"claimant", c.Claimant}} {
			if err := text(f+"."+t.field, t.s, 200, false); err != nil {
				return err
			}
		}
	}
	for i, p := range b.Places {
		f := fmt.Sprintf("body.places[%d]", i)
		if err := text(f+".name", p.Name, 200, true); err != nil {
			return err
		}
		if !codePattern.MatchString(p.Country) || len(p.Country) != 2 {
			return truce.FieldErrorf(truce.CodeInvalid, f+".country", "must be an ISO 3166-1 alpha-2 code")
		}
		if math.IsNaN(p.Lat) || p.Lat < -90 || p.Lat > 90 || math.IsNaN(p.Lon) || p.Lon < -180 || p.Lon > 180 {
			return truce.FieldErrorf(truce.CodeBadLocation, f, "%v, %v is off the globe", p.Lat, p.Lon)
		}
		if err := text(f+".admin1", p.Admin1, 200, false); err != nil {
			return err
		}
	}
	for i, a := range b.Actors {
		f := fmt.Sprintf("body.actors[%d]", i)
		if err := text(f+".name", a.Name, 200, true); err != nil {
			return err
		}
		if !slices.Contains(actorTypes, a.Type) {
			return truce.FieldErrorf(truce.CodeInvalid, f+".type", "must be one of %v", actorTypes)
		}
		if err := text(f+".party", a.Party, 8, false); err != nil {
			return err
		}
	}
	return nil
}

func applySource(s *State, c *applyCtx, body any) error {
	b := body.(*truce.SourceIngestion)
	if b.Published.After(c.logged.Add(MaxSkew)) {
		return truce.FieldErrorf(truce.CodeBadTime, "body.published", "is in the future")
	}
	if id, dup := s.byHash[b.SHA256]; dup {
		return truce.FieldErrorf(truce.CodeConflict, "body.sha256", "this page is already ingested as %s", id)
	}
	if err := s.checkEvents(b); err != nil {
		return err
	}
	var old *truce.Report
	if b.Revises != "" {
		old = s.reports[b.Revises]
		switch {
		case old == nil:
			return truce.FieldErrorf(truce.CodeNotFound, "body.revises", "no source %s", b.Revises)
		case b.URL == "" || old.URL != b.URL:
			return truce.FieldErrorf(truce.CodeInvalid, "body.revises", "%s was read from another address: only a later reading of the same page revises it", old.ID)
		case old.RevisedBy != "":
			return truce.FieldErrorf(truce.CodeConflict, "body.revises", "%s is already revised by %s: revise that", old.ID, old.RevisedBy)
		case s.byURL[b.URL] != old.ID:
			return truce.FieldErrorf(truce.CodeConflict, "body.revises", "%s is not the latest reading of %s (%s is): revise that", old.ID, b.URL, s.byURL[b.URL])
		}
	}
	s.nSource++
	src := &truce.Report{ID: fmt.Sprintf("SRC-%04d", s.nSource), SourceIngestion: *b, Ingested: c.logged, IngestedBy: c.author.ID}
	actors := make([]string, len(b.Actors))
	for i, a := range b.Actors {
		actors[i] = a.Name
	}
	in := stories.Article{ID: src.ID, Published: b.Published, Text: b.Text, Actors: actors, Dates: claims.Days(b.Claims)}
	if s.version.Events {
		src.Days = claims.EventDays(b.Claims, b.Text, b.Published)
		in.Dates, in.Places, in.Where = src.Days, PlaceKeys(b.Places), LeadPlaceKeys(b.Places, b.Text)
	}
	g := s.grouper.Add(in)
	src.CopyOf, src.Exact = g.CopyOf, g.Exact
	src.Text, src.TextSHA256 = "", TextHash(b.Text)
	var st *truce.Story
	if old == nil {
		st = s.storyOf(g.Story, b.Title, b.Published)
	} else {
		// A later reading of a page takes the earlier one's place in its
		// story (and no other story is begun for it): the story reads the
		// page as it now stands.
		old.RevisedBy = src.ID
		st = s.stories[old.Story]
		if n := s.storyNum[st.ID]; g.CopyOf == "" && g.Story != n {
			s.grouper.Move(src.ID, n)
		}
		if src.CopyOf == old.ID {
			src.CopyOf, src.Exact = "", false // the same page, not a copy of it
		}
		for i := range st.Sources {
			if st.Sources[i].ID == old.ID {
				st.Sources[i].RevisedBy = src.ID
			}
		}
	}
	src.Story = st.ID
	s.reports[src.ID] = src
	s.byHash[b.SHA256] = src.ID
	if b.URL != "" {
		s.byURL[b.URL] = src.ID
	}
	st.Sources = append(st.Sources, storySource(src))
	st.First, st.Last = minTime(st.First, b.Published), maxTime(st.Last, b.Published)

	oid := OutletID(b.Outlet)
	o, ok := s.outlets[oid]
	if !ok {
		o = &truce.Outlet{ID: oid, Name: b.Outlet, Reliability: "F"}
		s.outlets[oid] = o
	}
	o.Sources++
	switch {
	case src.CopyOf != "" && old == nil: // a copy says nothing its original did not
	case old == nil && s.version.Events && s.addsNothing(st, src):
		s.assessPlaces(st) // its places and actors, the rest as it was
	default:
		s.assess(st)
	}
	c.touch(TypeSource, src.ID) // first: the record the entry made
	c.touch(TypeStory, st.ID)
	c.touch(TypeOutlet, oid)
	if old != nil {
		c.touch(TypeSource, old.ID)
	}
	return nil
}

// Values a version 6 claim's fields may take.
var (
	approxes = []string{"", "at_least", "more_than", "about", "up_to", "dozens"}
	groups   = []string{"", "soldiers", "fighters", "militants", "civilians", "police", "people"}
)

// checkEvents checks what rules version 6 reads of a source and earlier
// versions refuse: days named by their weekday alone, revisions, and the
// claims' qualifiers and kinds of people, which it grades by.
func (s *State) checkEvents(b *truce.SourceIngestion) error {
	if !s.version.Events {
		if b.Revises != "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body.revises", "revising an earlier reading needs rules version 6 or later; this log is under version %d", s.Rules)
		}
		for i, c := range b.Claims {
			if c.Kind == truce.ClaimDay {
				return truce.FieldErrorf(truce.CodeInvalid, fmt.Sprintf("body.claims[%d].kind", i), "a day named by its weekday alone needs rules version 6 or later; this log is under version %d", s.Rules)
			}
		}
		return nil
	}
	y, m, d := b.Published.Date()
	published := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for i, c := range b.Claims {
		f := fmt.Sprintf("body.claims[%d]", i)
		switch {
		case c.Kind == truce.ClaimDay && (c.Weekday == nil || *c.Weekday != c.Date.Weekday()):
			return truce.FieldErrorf(truce.CodeInvalid, f+".weekday", "a day named by its weekday must carry that weekday")
		case c.Kind == truce.ClaimDay && (!c.Date.Equal(c.Date.Truncate(24*time.Hour)) || c.Date.After(published)):
			return truce.FieldErrorf(truce.CodeInvalid, f+".date", "a day named by its weekday is a day (midnight UTC) on or before the day the page was published")
		case !slices.Contains(approxes, c.Approx):
			return truce.FieldErrorf(truce.CodeInvalid, f+".approx", "must be one of %q", approxes[1:])
		case c.CountMax != 0 && c.CountMax <= c.Count:
			return truce.FieldErrorf(truce.CodeInvalid, f+".count_max", "must be above count")
		case !slices.Contains(groups, c.Group):
			return truce.FieldErrorf(truce.CodeInvalid, f+".group", "must be one of %q", groups[1:])
		}
	}
	return nil
}

// PlaceKeys name places by where they are, to a tenth of a degree, so
// that one place named in two languages is one key.
func PlaceKeys(ps []truce.PlaceMention) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%.1f,%.1f", p.Lat, p.Lon))
	}
	return out
}

// LeadPlaceKeys are the keys of those places that the first paragraph of
// text names, its closing attribution aside: where what a report tells
// of happened.
func LeadPlaceKeys(ps []truce.PlaceMention, text string) []string {
	lead, _, _ := strings.Cut(strings.TrimSpace(text), "\n\n")
	// "…, officials in Quetta said.": where the speaker is, not the event.
	if i := strings.LastIndex(lead, ","); i > 0 && slices.ContainsFunc(nameWords(lead[i:]), func(w string) bool {
		return w == "said" || w == "says" || w == "told" || w == "according"
	}) {
		lead = lead[:i]
	}
	lead = " " + strings.Join(nameWords(lead), " ") + " "
	var out []string
	for _, p := range ps {
		if strings.Contains(lead, " "+strings.Join(nameWords(p.Name), " ")+" ") {
			out = append(out, PlaceKeys([]truce.PlaceMention{p})...)
		}
	}
	return out
}

// nameWords are the lower-cased words of a name or text, as places are
// matched.
func nameWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// storyOf returns the story the grouper numbers n, beginning it if new.
func (s *State) storyOf(n int, title string, published time.Time) *truce.Story {
	if st, ok := s.stories[s.storyIDs[n]]; ok {
		return st
	}
	st := &truce.Story{ID: fmt.Sprintf("ST-%04d", len(s.stories)+1), Title: title, First: published, Last: published}
	s.storyIDs[n], s.storyNum[st.ID] = st.ID, n
	s.stories[st.ID] = st
	return st
}

func storySource(src *truce.Report) truce.StorySource {
	return truce.StorySource{ID: src.ID, Outlet: src.Outlet, Title: src.Title, Published: src.Published, CopyOf: src.CopyOf, Exact: src.Exact}
}

func checkSourceMove(m *truce.SourceMove) error {
	if err := text("body.source", m.Source, 64, true); err != nil {
		return err
	}
	return text("body.reason", m.Reason, 2000, true)
}

// applySourceMove puts a source and its copies in another story, or a new
// one, and reassesses both stories.
func applySourceMove(s *State, c *applyCtx, body any) error {
	m := body.(*truce.SourceMove)
	src, ok := s.reports[m.Source]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.source", "no source %q", m.Source)
	}
	if src.CopyOf != "" {
		return truce.FieldErrorf(truce.CodeInvalid, "body.source", "%s is a copy of %s: move the original, its copies go with it", src.ID, src.CopyOf)
	}
	to := 0
	if m.Story != "" {
		if _, ok := s.stories[m.Story]; !ok {
			return truce.FieldErrorf(truce.CodeNotFound, "body.story", "no story %q", m.Story)
		}
		if m.Story == src.Story {
			return truce.FieldErrorf(truce.CodeConflict, "body.story", "%s is already in %s", src.ID, m.Story)
		}
		to = s.storyNum[m.Story]
	}
	from := s.stories[src.Story]
	n := s.grouper.Move(src.ID, to)
	if n == 0 {
		return fmt.Errorf("the grouper does not hold %s", src.ID) // the state is broken: not the entry's fault
	}
	dest := s.storyOf(n, src.Title, src.Published)
	moved := func(x truce.StorySource) bool { return x.ID == src.ID || s.reports[x.ID].CopyOf == src.ID }
	for _, x := range from.Sources {
		if moved(x) {
			r := s.reports[x.ID]
			r.Story = dest.ID
			dest.Sources = append(dest.Sources, x)
			dest.First, dest.Last = minTime(dest.First, r.Published), maxTime(dest.Last, r.Published)
			c.touch(TypeSource, r.ID)
		}
	}
	from.Sources = slices.DeleteFunc(from.Sources, moved)
	s.assess(from)
	s.assess(dest)
	c.touch(TypeStory, from.ID)
	c.touch(TypeStory, dest.ID)
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// heard is what a claim of a report says, as grading and comparing read
// it, and who says it, in which outlet; or, with Kind "", an outlet the
// story has.
type heard struct {
	kind, outlet, side, status, group, claimant, approx string
	date, from, to                                      time.Time
	days, hours, count, max                             int
	weekday                                             time.Weekday
	dated, background                                   bool
}

func heardOf(c truce.Claim, src *truce.Report) heard {
	h := heard{kind: c.Kind, outlet: src.Outlet, side: c.Side, status: c.Status, group: c.Group, claimant: claims.Claimant(c, src.Outlet),
		approx: c.Approx, date: c.Date, from: c.From, to: c.To, days: c.Days, hours: c.Hours, count: c.Count, max: c.CountMax}
	if c.Weekday != nil {
		h.weekday, h.dated = *c.Weekday, true
	}
	h.background = claims.Background(c, src.Claims, src.Days, src.Published)
	return h
}

// addsNothing reports whether a new original says only what the story's
// originals already said, each thing in the same outlet, so that grading
// and comparing it again would give what they gave.
func (s *State) addsNothing(st *truce.Story, src *truce.Report) bool {
	said := s.heard[st.ID]
	if said == nil {
		return false
	}
	for _, c := range src.Claims {
		if !said[heardOf(c, src)] {
			return false
		}
	}
	return said[heard{outlet: src.Outlet}]
}

// assessPlaces recomputes the outlets, places and actors of a story, and
// returns its originals (neither copies nor revised readings).
func (s *State) assessPlaces(st *truce.Story) []*truce.Report {
	var originals []*truce.Report
	outlets := map[string]bool{}
	places, actors := map[string]truce.PlaceMention{}, map[string]bool{}
	for _, x := range st.Sources {
		src := s.reports[x.ID]
		for _, p := range src.Places {
			places[p.Name+"|"+p.Country] = p
		}
		for _, a := range src.Actors {
			actors[a.Name] = true
		}
		if src.CopyOf == "" && src.RevisedBy == "" {
			originals = append(originals, src)
			outlets[OutletID(src.Outlet)] = true
		}
	}
	st.Independent = len(outlets)
	st.Places = nil
	for _, k := range sortedKeys(places) {
		st.Places = append(st.Places, places[k])
	}
	st.Actors = sortedKeys(actors)
	return originals
}

// assess recomputes what a story's originals say together: independent
// outlets, places and actors, graded claims and discrepancies. Copies add
// nothing: a syndicated story is one source however often it is printed.
func (s *State) assess(st *truce.Story) {
	originals := s.assessPlaces(st)
	if len(originals) > 0 {
		st.Title = originals[0].Title
	}
	in := make([]claims.Source, len(originals))
	said := map[heard]bool{}
	for i, src := range originals {
		in[i] = claims.Source{Article: src.ID, Outlet: src.Outlet, Claims: src.Claims, Days: src.Days, Published: src.Published}
		if s.version.Events {
			said[heard{outlet: src.Outlet}] = true
			for _, c := range src.Claims {
				said[heardOf(c, src)] = true
			}
		}
	}
	if s.version.Events {
		s.heard[st.ID] = said
	}
	if s.version.Events {
		st.Discrepancies = claims.Compare(in)
	} else {
		st.Discrepancies = claims.Find(in)
	}
	st.Claims = gradeClaims(originals, func(outlet string) string { return s.outlets[OutletID(outlet)].Reliability }, s.version)
}

// Grade grades the claims of a story's originals as the latest rules do,
// every outlet of unknown reliability: what a benchmark of the pipeline
// measures.
func Grade(originals []*truce.Report) []truce.GradedClaim {
	return gradeClaims(originals, func(string) string { return "F" }, Latest())
}

// gradeClaims groups the originals' claims by subject and value and grades
// each value on the Admiralty credibility scale by how many independent
// outlets assert it (for a duration, also those whose dates give it) and
// how many assert something else. A value only
// one outlet gives is possibly true (3) if that outlet is usually reliable
// (A or B), else it cannot be judged (6).
//
// Under rules that grade figures (version 4 on), a casualty figure is
// graded by its claimants instead: the parties, independent observers,
// and outlets giving it on their own account. A figure one party alone
// gives is claimed, and can be judged no better (6), however many outlets
// report the claim; independent claimants agreeing corroborate it.
//
// Under rules that read reports by their events (version 6 on), a figure
// is also graded by what it is about: its subject names the kind of
// people ("PK killed civilians"; "people" joins the one kind the same
// figure is given for), a figure told as background is not graded in
// this story, claimants are told apart by who they are (claims.Claimant:
// one hospital is one claimant however outlets name it), and only a
// figure that cannot also be true disputes it ("more than 200" does not
// dispute 210).
func gradeClaims(originals []*truce.Report, reliability func(outlet string) string, ver Version) []truce.GradedClaim {
	figures, events := ver.Figures, ver.Events
	type value struct{ subject, says string }
	by := map[value]map[string]bool{}        // value → outlets asserting it
	claimants := map[value]map[string]bool{} // value → who gives it
	days := map[value]int{}                  // durations, and ranges counted inclusively
	figure := map[value]truce.Claim{}        // a casualty value's first claim
	for _, src := range originals {
		for _, c := range src.Claims {
			var v value
			switch {
			case events && claims.Background(c, src.Claims, src.Days, src.Published):
				continue // told as background in a report of another event
			case c.Kind == truce.ClaimCasualties && c.Side != "" && events:
				v = value{c.Side + " " + c.Status + " " + cmp.Or(c.Group, "people"), claims.Says(c)}
				if _, ok := figure[v]; !ok {
					figure[v] = c
				}
			case c.Kind == truce.ClaimCasualties && c.Side != "":
				v = value{c.Side + " " + c.Status, fmt.Sprint(c.Count)}
			case c.Kind == truce.ClaimDuration:
				v = value{"duration", fmt.Sprintf("%d days", c.Days)}
				days[v] = c.Days
			case c.Kind == truce.ClaimRange:
				v = value{"dates", c.From.Format("2 January") + " to " + c.To.Format("2 January 2006")}
				days[v] = int(c.To.Sub(c.From)/(24*time.Hour)) + 1
			default:
				continue
			}
			if by[v] == nil {
				by[v], claimants[v] = map[string]bool{}, map[string]bool{}
			}
			by[v][src.Outlet] = true
			if events {
				claimants[v][claims.Claimant(c, src.Outlet)] = true
			} else {
				claimants[v][claimantOf(c, src.Outlet)] = true
			}
		}
	}
	if events {
		mergePeople(by, claimants, func(v value) (string, string, string) {
			f := strings.Fields(v.subject)
			if len(f) != 3 { // not a casualty figure
				return v.subject, "", v.says
			}
			return f[0] + " " + f[1], f[2], v.says
		})
	}
	values := make([]value, 0, len(by))
	for v := range by {
		values = append(values, v)
	}
	slices.SortFunc(values, func(a, b value) int { return cmp.Or(cmp.Compare(a.subject, b.subject), cmp.Compare(a.says, b.says)) })
	// What each subject's values are asserted by, at once: each value is
	// then graded in time that grows with outlets and claimants, not with
	// the other values (a story may carry hundreds of figures).
	subjects := map[string][]value{}
	outletsOf, claimantsOf := map[string]map[string]bool{}, map[string]map[string]bool{}
	for _, v := range values {
		subjects[v.subject] = append(subjects[v.subject], v)
		if outletsOf[v.subject] == nil {
			outletsOf[v.subject], claimantsOf[v.subject] = map[string]bool{}, map[string]bool{}
		}
		maps.Copy(outletsOf[v.subject], by[v])
		maps.Copy(claimantsOf[v.subject], claimants[v])
	}
	var rivals func(v value) map[string]bool
	if events {
		rivals = rivalClaimants(values, figure, claimants)
	}
	var out []truce.GradedClaim
	for _, v := range values {
		g := truce.GradedClaim{Subject: v.subject, Says: v.says, Outlets: sortedKeys(by[v])}
		// Against: the outlets asserting another value of the subject and
		// not this one — durations a day apart aside, which may be the
		// same span counted two ways.
		against := map[string]bool{}
		if v.subject == "duration" {
			for _, w := range subjects[v.subject] {
				if w == v || abs(days[v]-days[w]) <= 1 {
					continue
				}
				for o := range by[w] {
					if !by[v][o] {
						against[o] = true
					}
				}
			}
		} else {
			for o := range outletsOf[v.subject] {
				if !by[v][o] {
					against[o] = true
				}
			}
		}
		// A duration is borne out by the outlets whose dates give it, counted
		// either way, and contradicted by those whose dates do not.
		support := maps.Clone(by[v])
		for _, r := range subjects["dates"] {
			if v.subject != "duration" {
				break
			}
			given := days[v] == days[r] || days[v] == days[r]-1
			for o := range by[r] {
				switch {
				case given && !by[v][o]:
					support[o] = true
					g.Supported = append(g.Supported, o)
				case !given && !by[v][o]:
					against[o] = true
				}
			}
		}
		for o := range support {
			delete(against, o)
		}
		slices.Sort(g.Supported)
		g.Supported = slices.Compact(g.Supported)
		g.Against = sortedKeys(against)
		if figures && strings.Contains(v.subject, " ") { // a casualty figure: "PK killed"
			// Its rivals: who gives another figure of the subject (from
			// version 6, one of the same people that cannot also be true).
			others := map[string]bool{}
			if events {
				others = rivals(v)
			} else {
				maps.Copy(others, claimantsOf[v.subject])
			}
			for c := range claimants[v] {
				delete(others, c)
			}
			gradeFigure(&g, claimants[v], others)
			out = append(out, g)
			continue
		}
		n, m := len(support), len(g.Against)
		switch {
		case m == 0 && n >= 3:
			g.Credibility = 1
		case m == 0 && n == 2:
			g.Credibility = 2
		case m == 0 && slices.Contains([]string{"A", "B"}, reliability(sortedKeys(support)[0])):
			g.Credibility = 3
		case m == 0:
			g.Credibility = 6
		case n > m:
			g.Credibility = 3
		case n == m:
			g.Credibility = 4
		default:
			g.Credibility = 5
		}
		out = append(out, g)
	}
	return out
}

// mergePeople puts a figure given for "people" with the same figure given
// for one kind of people (of the same side and status), when there is
// exactly one: "23 dead" and "23 soldiers killed" are one figure.
func mergePeople[V comparable](by, claimants map[V]map[string]bool, parts func(V) (string, string, string)) {
	for v := range by {
		base, group, n := parts(v)
		if group != "people" {
			continue
		}
		var into []V
		for w := range by {
			if b, g, m := parts(w); b == base && m == n && g != "people" && g != "" {
				into = append(into, w)
			}
		}
		if len(into) != 1 {
			continue
		}
		maps.Copy(by[into[0]], by[v])
		maps.Copy(claimants[into[0]], claimants[v])
		delete(by, v)
		delete(claimants, v)
	}
}

// rivalClaimants returns, for a casualty figure of version 6, who gives a
// figure of its side and status, of a kind of people it may count (any,
// for "people"), that cannot also be true: the figures wholly below it or
// wholly above it. Ordered by their upper and by their lower bounds, with
// the union of claimants before and after each place, the figures answer
// for each figure in time that grows with its claimants, not with them.
func rivalClaimants[V comparable](values []V, figure map[V]truce.Claim, claimants map[V]map[string]bool) func(V) map[string]bool {
	type span struct {
		v      V
		lo, hi float64
	}
	// ordered is one list of candidates, by upper and by lower bound, with
	// the claimants of each prefix (by upper) and suffix (by lower).
	type ordered struct {
		byHi, byLo []span
		below      []map[string]bool // below[i]: claimants of byHi[:i]
		above      []map[string]bool // above[i]: claimants of byLo[i:]
	}
	order := func(l []span) *ordered {
		o := &ordered{byHi: slices.Clone(l), byLo: slices.Clone(l)}
		slices.SortStableFunc(o.byHi, func(a, b span) int { return cmp.Compare(a.hi, b.hi) })
		slices.SortStableFunc(o.byLo, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
		o.below = make([]map[string]bool, len(l)+1)
		o.below[0] = map[string]bool{}
		for i, w := range o.byHi {
			o.below[i+1] = maps.Clone(o.below[i])
			maps.Copy(o.below[i+1], claimants[w.v])
		}
		o.above = make([]map[string]bool, len(l)+1)
		o.above[len(l)] = map[string]bool{}
		for i := len(l) - 1; i >= 0; i-- {
			o.above[i] = maps.Clone(o.above[i+1])
			maps.Copy(o.above[i], claimants[o.byLo[i].v])
		}
		return o
	}
	type key struct{ side, status, kind string }
	all := map[key][]span{} // by side, status and kind ("" for every kind)
	for _, v := range values {
		f, ok := figure[v]
		if !ok || claimants[v] == nil {
			continue
		}
		lo, hi := claims.Bounds(f)
		sp := span{v, lo, hi}
		all[key{f.Side, f.Status, ""}] = append(all[key{f.Side, f.Status, ""}], sp)
		if g := f.Group; g != "" && g != "people" {
			all[key{f.Side, f.Status, g}] = append(all[key{f.Side, f.Status, g}], sp)
		}
	}
	lists := map[key]*ordered{}
	list := func(f truce.Claim) *ordered {
		k := key{f.Side, f.Status, f.Group}
		if k.kind == "people" {
			k.kind = ""
		}
		if o, ok := lists[k]; ok {
			return o
		}
		l := all[k]
		if k.kind != "" { // a kind's figures and those of people of any kind
			for _, sp := range all[key{f.Side, f.Status, ""}] {
				if g := figure[sp.v].Group; g == "" || g == "people" {
					l = append(slices.Clip(l), sp)
				}
			}
		}
		lists[k] = order(l)
		return lists[k]
	}
	return func(v V) map[string]bool {
		f := figure[v]
		lo, hi := claims.Bounds(f)
		o := list(f)
		below := sort.Search(len(o.byHi), func(i int) bool { return o.byHi[i].hi >= lo })
		above := sort.Search(len(o.byLo), func(i int) bool { return o.byLo[i].lo > hi })
		out := maps.Clone(o.below[below])
		maps.Copy(out, o.above[above])
		return out
	}
}

// claimantOf is who gives a casualty figure: a party, an independent
// observer by name, or the outlet itself.
func claimantOf(c truce.Claim, outlet string) string {
	switch c.By {
	case "PK", "AF":
		return c.By
	case "other":
		return "other: " + strings.ToLower(cmp.Or(c.Claimant, "unnamed"))
	}
	return "outlet: " + outlet
}

// gradeFigure grades a casualty figure by its claimants: corroborated
// when claimants independent of each other give it (both parties, or a
// party and an observer, or two observers) and none gives another figure;
// disputed when a claimant gives another; else claimed — one claimant,
// however many outlets report it.
func gradeFigure(g *truce.GradedClaim, mine, others map[string]bool) {
	g.Claimants = sortedKeys(mine)
	independent := 0
	for c := range mine {
		if !strings.HasPrefix(c, "outlet: ") {
			independent++
		}
	}
	switch {
	case len(others) > 0 && independent <= len(others):
		g.Grade, g.Credibility = truce.FigureDisputed, 5
	case independent >= 2 && len(others) == 0:
		g.Grade, g.Credibility = truce.FigureCorroborated, 2
	case independent >= 2:
		g.Grade, g.Credibility = truce.FigureCorroborated, 3
	default:
		g.Grade, g.Credibility = truce.FigureClaimed, 6
	}
}

func abs(x int) int { return max(x, -x) }

func checkOutletGrading(g *truce.OutletGrading) error {
	if err := text("body.outlet", g.Outlet, 200, true); err != nil {
		return err
	}
	if !slices.Contains(truce.Reliabilities, g.Reliability) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.reliability", "must be one of %v", truce.Reliabilities)
	}
	return text("body.reason", g.Reason, 2000, true)
}

func applyOutletGrading(s *State, c *applyCtx, body any) error {
	g := body.(*truce.OutletGrading)
	oid := OutletID(g.Outlet)
	o, ok := s.outlets[oid]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.outlet", "no source from an outlet %q has been ingested", g.Outlet)
	}
	o.Reliability = g.Reliability
	o.Grades = append(o.Grades, *g)
	c.touch(TypeOutlet, oid)
	// Single-source claims are graded by their outlet's reliability.
	for _, id := range sortedKeys(s.stories) {
		st := s.stories[id]
		if slices.ContainsFunc(st.Sources, func(x truce.StorySource) bool { return OutletID(x.Outlet) == oid }) {
			s.assess(st)
			c.touch(TypeStory, id)
		}
	}
	return nil
}

func checkSourceLink(l *truce.SourceLink) error {
	if (l.Source == "") == (l.Story == "") {
		return truce.FieldErrorf(truce.CodeInvalid, "body.source", "name either a source or a story")
	}
	if (l.Allegation == "") == (l.Case == "") {
		return truce.FieldErrorf(truce.CodeInvalid, "body.allegation", "name either an allegation or a case")
	}
	if !slices.Contains(truce.LinkRelations, l.Relation) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.relation", "must be one of %v", truce.LinkRelations)
	}
	return text("body.note", l.Note, 2000, false)
}

func applySourceLink(s *State, c *applyCtx, body any) error {
	l := body.(*truce.SourceLink)
	link := truce.Link{SourceLink: *l, Index: c.index, By: c.author.ID, At: c.logged}
	var from, to *[]truce.Link
	var refs []Ref
	switch {
	case l.Source != "":
		src, ok := s.reports[l.Source]
		if !ok {
			return truce.FieldErrorf(truce.CodeNotFound, "body.source", "no source %q", l.Source)
		}
		from, refs = &src.Links, append(refs, Ref{Type: TypeSource, ID: src.ID})
	default:
		st, ok := s.stories[l.Story]
		if !ok {
			return truce.FieldErrorf(truce.CodeNotFound, "body.story", "no story %q", l.Story)
		}
		from, refs = &st.Links, append(refs, Ref{Type: TypeStory, ID: st.ID})
	}
	switch {
	case l.Allegation != "":
		a, ok := s.allegations[l.Allegation]
		if !ok {
			return truce.FieldErrorf(truce.CodeNotFound, "body.allegation", "no allegation %q", l.Allegation)
		}
		to, refs = &a.Links, append(refs, Ref{Type: TypeAllegation, ID: a.ID})
	default:
		cs, ok := s.cases[l.Case]
		if !ok {
			return truce.FieldErrorf(truce.CodeNotFound, "body.case", "no case %q", l.Case)
		}
		to, refs = &cs.Links, append(refs, Ref{Type: TypeCase, ID: cs.ID})
	}
	// Under sealing rules, a link to a record kept within the mechanism is
	// kept on that record only: the source and its story are the parties'
	// to read, the link (and that the record exists) is not.
	if v, _ := s.visibility(refs[1]); s.version.Sealing && v == truce.Internal {
		c.touch(refs[1].Type, refs[1].ID)
		*to = append(*to, link)
		return nil
	}
	for _, r := range refs {
		c.touch(r.Type, r.ID)
	}
	*from = append(*from, link)
	*to = append(*to, link)
	return nil
}

// Report returns a copy of an ingested source.
func (s *State) Report(id string) (truce.Report, bool) { return copyOf(s.reports, id) }

// Story returns a copy of a story.
func (s *State) Story(id string) (truce.Story, bool) { return copyOf(s.stories, id) }
