package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/truce-mvm/truce"
)

//go:embed i18n/*.json
var catalogueFiles embed.FS

// Lang is one interface language: its messages, its direction and how it
// shows times.
type Lang struct {
	Tag      string // BCP 47: en, ur, ps, prs, tr
	Name     string // in the language itself
	RTL      bool
	messages map[string]string
}

// Dir is the language's text direction, for the dir attribute.
func (l *Lang) Dir() string {
	if l.RTL {
		return "rtl"
	}
	return "ltr"
}

// missing marks a message the catalogue lacks; tests look for it.
const missing = "⟦%s⟧"

// T returns the message for key, formatted with args.
func (l *Lang) T(key string, args ...any) string {
	m, ok := l.messages[key]
	if !ok {
		return fmt.Sprintf(missing, key)
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// Label is the message for key if the catalogue has one, else the key's
// last part made readable: for names that come from the data (document
// fields, choice values), where the catalogue may lag behind the domain.
func (l *Lang) Label(key string) string {
	if m, ok := l.messages[key]; ok {
		return m
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		key = key[i+1:]
	}
	return strings.ReplaceAll(key, "_", " ")
}

// Category names an event category in the language, else as ACLED
// does.
func (l *Lang) Category(slug string) string {
	if m, ok := l.messages["category."+slug]; ok {
		return m
	}
	if c, ok := truce.CategoryBySlug(slug); ok {
		return c.SubEventType
	}
	return slug
}

// Subject names what a story's claim or discrepancy is about: "duration",
// "dates", or a side and what happened to them ("PK killed", "PK killed
// civilians"); anything
// else (a date) is shown as it is.
func (l *Lang) Subject(s string) string {
	if f := strings.Fields(s); len(f) >= 2 && slices.Contains([]string{"killed", "wounded", "captured", "missing"}, f[1]) {
		out := l.T("party."+f[0]) + " — " + l.T("casualty."+f[1])
		if len(f) == 3 { // and whom: "PK killed civilians" (rules version 6 on)
			out += " (" + l.T("group."+f[2]) + ")"
		}
		return out
	}
	if s == "duration" || s == "dates" {
		return l.T("subject." + s)
	}
	return s
}

// Claimants names who give a figure, as grading keys them ("PK", "other:
// hospital", "outlet: Gulf Wire"): a party by its name, an observer by
// what it is, an outlet that gives the figure on its own account by its
// name and so.
func (l *Lang) Claimants(keys []string) string {
	var out []string
	for _, k := range keys {
		kind, name, _ := strings.Cut(k, ": ")
		switch kind {
		case "PK", "AF":
			out = append(out, l.T("party."+kind))
		case "outlet":
			out = append(out, l.T("figure.outlet", name))
		default:
			out = append(out, name)
		}
	}
	return strings.Join(out, ", ")
}

// The parties' local times, fixed offsets (neither observes daylight
// saving), so no time zone database is needed.
var (
	pakistan    = time.FixedZone("PKT", 5*3600)
	afghanistan = time.FixedZone("AFT", 4*3600+1800)
)

// Time shows t in UTC and in each party's local time.
func (l *Lang) Time(t time.Time) template.HTML {
	if t.IsZero() {
		return ""
	}
	u := t.UTC()
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s UTC</time> <span class="local">(%s %s · %s %s)</span>`,
		u.Format(time.RFC3339), template.HTMLEscapeString(l.T("time.local")), u.Format("2006-01-02 15:04"),
		l.T("party.PK"), t.In(pakistan).Format("15:04"), l.T("party.AF"), t.In(afghanistan).Format("15:04")))
}

// languages are the catalogues, English first: the reference every other
// catalogue must match key for key.
var languages = mustLoadLanguages()

var languageNames = map[string]struct {
	name string
	rtl  bool
}{
	"en": {"English", false}, "ur": {"اردو", true}, "ps": {"پښتو", true}, "prs": {"دری", true}, "tr": {"Türkçe", false},
}

var languageOrder = []string{"en", "ur", "ps", "prs", "tr"}

func mustLoadLanguages() []*Lang {
	var out []*Lang
	for _, tag := range languageOrder {
		b, err := catalogueFiles.ReadFile(path.Join("i18n", tag+".json"))
		if err != nil {
			panic(err)
		}
		l := &Lang{Tag: tag, Name: languageNames[tag].name, RTL: languageNames[tag].rtl}
		if err := json.Unmarshal(b, &l.messages); err != nil {
			panic(fmt.Sprintf("i18n/%s.json: %v", tag, err))
		}
		out = append(out, l)
	}
	return out
}

var matcher = language.NewMatcher(func() []language.Tag {
	var tags []language.Tag
	for _, l := range languages {
		tags = append(tags, language.MustParse(l.Tag))
	}
	return tags
}())

// langCookie keeps a reader's choice of language.
const langCookie = "truce_lang"

// langOf picks the request's language: ?lang=, then the cookie, then
// Accept-Language, then English.
func langOf(r *http.Request) *Lang {
	for _, want := range []string{r.URL.Query().Get("lang"), cookieValue(r, langCookie)} {
		if i := slices.IndexFunc(languages, func(l *Lang) bool { return l.Tag == want }); i >= 0 {
			return languages[i]
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if len(tags) == 0 {
		return languages[0]
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return languages[0]
	}
	return languages[i]
}

func cookieValue(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return strings.TrimSpace(c.Value)
	}
	return ""
}
