package truce

import (
	"time"
)

// Open-source reports: articles and statements ingested from outlets,
// grouped into stories, and what they claim.

// SourceIngestion is the body of source.ingested: one article or statement
// as it was read, with what was extracted from it. The raw page is kept
// beside the log by its SHA-256; the extracted text is in the entry, so
// that grouping, claims and quotes can be checked from the log alone.
type SourceIngestion struct {
	SHA256    string    `json:"sha256"` // of the raw page, as fetched or read
	MediaType string    `json:"media_type"`
	Outlet    string    `json:"outlet"` // who published it: a newspaper, an agency, a ministry
	URL       string    `json:"url,omitempty"`
	Title     string    `json:"title"`
	Published time.Time `json:"published"`
	Language  string    `json:"language,omitempty"`  // BCP 47
	Text      string    `json:"text,omitempty"`      // required in the entry; records leave it in the log
	Truncated bool      `json:"truncated,omitempty"` // the text was clipped to fit an entry
	// Claims, places and actors were extracted by the ingesting member's
	// software; every claim's sentence is quoted from Text.
	Claims []Claim        `json:"claims,omitempty"`
	Places []PlaceMention `json:"places,omitempty"`
	Actors []ActorMention `json:"actors,omitempty"`
	// Revises is the source an earlier reading of the same address
	// became, when the page has changed since — its text, its title or its
	// date (a correction): this reading takes its place in its story.
	Revises string `json:"revises,omitempty"`
}

// PlaceMention is a place an article names, resolved in the gazetteer.
type PlaceMention struct {
	Name    string  `json:"name"`    // as the gazetteer spells it
	Country string  `json:"country"` // ISO 3166-1 alpha-2
	Admin1  string  `json:"admin1,omitempty"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
}

// ActorMention is a party, mediator, armed group or spokesperson an
// article names.
type ActorMention struct {
	Name  string `json:"name"`
	Type  string `json:"type"`            // party, mediator, armed_group, spokesperson
	Party string `json:"party,omitempty"` // the party or mediator state they speak for
}

// Report is an ingested article or statement, as the state keeps it: all
// its entry says but the text, which stays in the log (one copy, not one in
// every process's memory), and is named by its hash.
type Report struct {
	ID string `json:"id"`
	SourceIngestion
	TextSHA256 string    `json:"text_sha256"`
	Story      string    `json:"story"`
	CopyOf     string    `json:"copy_of,omitempty"` // the earlier source it copies
	Exact      bool      `json:"exact,omitempty"`   // word for word
	Ingested   time.Time `json:"ingested"`
	IngestedBy string    `json:"ingested_by"`
	Links      []Link    `json:"links,omitempty"`
	// Days are the days it tells of, under rules that date reports by
	// their events (version 6 on): its lead's, never after publication.
	Days []time.Time `json:"days,omitempty"`
	// RevisedBy is a later reading of the same page that takes its place.
	RevisedBy string `json:"revised_by,omitempty"`
}

// Story is articles about one event: originals and their copies, the
// claims they make with a credibility grade, and where they disagree.
type Story struct {
	ID            string         `json:"id"`
	Title         string         `json:"title"` // its first original's
	First         time.Time      `json:"first"` // publication span
	Last          time.Time      `json:"last"`
	Sources       []StorySource  `json:"sources"`
	Independent   int            `json:"independent"`      // outlets with an original
	Places        []PlaceMention `json:"places,omitempty"` // every place its sources name, once, by name
	Actors        []string       `json:"actors,omitempty"`
	Claims        []GradedClaim  `json:"claims,omitempty"`
	Discrepancies []Discrepancy  `json:"discrepancies,omitempty"`
	Links         []Link         `json:"links,omitempty"`
}

// StorySource is one source of a story.
type StorySource struct {
	ID        string    `json:"id"`
	Outlet    string    `json:"outlet"`
	Title     string    `json:"title"`
	Published time.Time `json:"published"`
	CopyOf    string    `json:"copy_of,omitempty"`
	Exact     bool      `json:"exact,omitempty"`
	RevisedBy string    `json:"revised_by,omitempty"` // a later reading of the page, which the story reads instead
}

// GradedClaim is one thing a story's sources assert, with the outlets that
// assert it independently and its credibility on the Admiralty scale:
// 1 confirmed by independent sources, 2 probably true, 3 possibly true,
// 4 doubtful, 5 improbable, 6 cannot be judged.
type GradedClaim struct {
	Subject     string   `json:"subject"` // e.g. "PK killed", "duration"
	Says        string   `json:"says"`
	Outlets     []string `json:"outlets"`
	Supported   []string `json:"supported,omitempty"` // outlets whose other claims bear it out (the dates, for a duration)
	Against     []string `json:"against,omitempty"`   // outlets that say otherwise
	Credibility int      `json:"credibility"`
	// For a casualty figure (rules version 4 on): who gives it — a party
	// (PK, AF), an independent observer (other: a hospital, the UN), or an
	// outlet on its own account (outlet: NAME) — and so what the figure
	// itself is worth, apart from how widely the claim was reported:
	// claimed (one claimant, however many outlets repeat it),
	// corroborated (independent claimants agree) or disputed (claimants
	// give other figures).
	Claimants []string `json:"claimants,omitempty"`
	Grade     string   `json:"grade,omitempty"`
}

// Grades of a casualty figure.
const (
	FigureClaimed      = "claimed"
	FigureCorroborated = "corroborated"
	FigureDisputed     = "disputed"
)

// Reliability grades of an outlet on the Admiralty scale.
var Reliabilities = []string{"A", "B", "C", "D", "E", "F"}

// OutletGrading is the body of outlet.graded: an analyst's judgement of a
// source's reliability (A completely reliable, B usually reliable, C fairly
// reliable, D not usually reliable, E unreliable, F cannot be judged).
type OutletGrading struct {
	Outlet      string `json:"outlet"`
	Reliability string `json:"reliability"`
	Reason      string `json:"reason"`
}

// Outlet is a publisher of sources and its grade; ungraded outlets are F.
type Outlet struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Reliability string          `json:"reliability"`
	Grades      []OutletGrading `json:"grades,omitempty"`
	Sources     int             `json:"sources"`
}

// SourceLink is the body of source.linked: an analyst ties a source or a
// story to an allegation or a case.
type SourceLink struct {
	Source     string `json:"source,omitempty"` // SRC-… or
	Story      string `json:"story,omitempty"`  // ST-…
	Allegation string `json:"allegation,omitempty"`
	Case       string `json:"case,omitempty"`
	Relation   string `json:"relation"` // corroborates, contradicts, context
	Note       string `json:"note,omitempty"`
}

// SourceMove is the body of source.moved: an analyst puts an original
// source (and its copies) in another story, or a story of its own, where
// the grouping was wrong.
type SourceMove struct {
	Source string `json:"source"`
	Story  string `json:"story,omitempty"` // "" for a new story
	Reason string `json:"reason"`
}

// Link relations.
var LinkRelations = []string{"corroborates", "contradicts", "context"}

// Link is a SourceLink as the records on both ends keep it.
type Link struct {
	SourceLink
	Index int64     `json:"index"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
}
