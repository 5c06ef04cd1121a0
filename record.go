package truce

import "time"

// Record is one row of a projection: a member, the agreement, an allegation,
// a case... Rules produce records from the log; stores keep them for
// queries. The indexed fields are generic slots so that every list filters
// in the store; what each holds per type is set in internal/rules. Doc is
// the record itself, as JSON, and is what surfaces return.
type Record struct {
	Type     string // "allegation", "member", "agreement", "case", ...
	ID       string // unique within Type
	Party    string // the party that acts (filer of an allegation)
	Against  string // the party concerned (the accused, the responsible)
	Category string // the kind within the type (event category, determination, action)
	Status   string //
	Member   string // the member concerned (a task's assignee)
	Parent   string // the record it belongs to (a task's case)
	// Visibility and Owner say who may read the record (see Access).
	Visibility Visibility
	Owner      string
	From       int64    // event time span, Unix seconds (0 if none)
	To         int64    //
	Lat, Lon   *float64 // event place
	Created    int64    // log index of the entry that created the record
	Updated    int64    // log index of the last entry that touched it
	Doc        []byte   // canonical JSON of the record
}

// Ref names a record.
type Ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Ack acknowledges an entry once it is durable: where it is in the log,
// when it was logged, and the record it is about.
type Ack struct {
	Index  int64     `json:"index"`
	Logged time.Time `json:"logged"`
	Kind   string    `json:"kind"`
	Record *Ref      `json:"record,omitempty"`
}

// HistoryItem says that the entry at Index touched a record.
type HistoryItem struct {
	Type   string `json:"-"`
	ID     string `json:"-"`
	Index  int64  `json:"index"`
	Kind   string `json:"kind"`
	Author string `json:"author"`
	Logged string `json:"logged"`
	// Custodial says the server signed the entry for the author.
	Custodial bool `json:"custodial,omitempty"`
}

// Query selects records of one type. Zero fields do not filter.
type Query struct {
	Type     string
	Party    string // matches Party or Against
	Filer    string // matches Party
	Against  string // matches Against
	Category string
	Status   string
	Member   string
	Parent   string
	From, To int64 // the record's time span overlaps [From, To]
	// BBox filters by place: min lon, min lat, max lon, max lat.
	BBox *[4]float64
	// After continues a listing: only records created before this index
	// (lists run newest first).
	After int64
	// Since keeps the records an entry at or after this index touched:
	// what changed since a reader last looked.
	Since int64
	Limit int
	// Access limits the records to those a reader may see. A store
	// refuses a query without it (truce.Everything is the system's).
	Access *Access
}

// Search asks for the records whose words match Text (each word, the last
// also as a prefix), of Type if given, whose time span overlaps [From, To]
// if given, that Access may see.
type Search struct {
	Text     string
	Type     string
	From, To int64
	Limit    int
	Access   *Access
}

// SearchHit is a record a search found: what it is, its title, and the
// words around the match.
type SearchHit struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Title   string `json:"title"`
	Snippet string `json:"snippet"`
}
