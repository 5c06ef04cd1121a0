// Package wire is the API's formats: the JSON shapes and paths that the
// server answers with and its clients — the CLI and the independent
// auditor, which must share nothing else with the server it checks —
// read.
package wire

import (
	"encoding/json"
	"net/url"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
)

// List is a page of records, newest first; Next is the cursor of the
// next page, empty on the last.
type List struct {
	Items []json.RawMessage `json:"items"`
	Next  string            `json:"next,omitempty"`
}

// Overdue is the overdue set: everything past its deadline in log time,
// as the first AsOf entries of the log leave it.
type Overdue struct {
	AsOf  int64           `json:"as_of"`
	Items []rules.Overdue `json:"items"`
}

// Opening is what opens one sealed commitment of the log: a sealed
// entry's body (Body) or a body's sealed field, at entry Index.
type Opening struct {
	Index      int64  `json:"index"`
	Commitment string `json:"commitment"`
	Body       bool   `json:"body,omitempty"`
	Salt       string `json:"salt"`
	// Content is base64: the commitment is to its bytes, which a JSON
	// encoder (compacting, escaping HTML) would not keep.
	Content []byte `json:"content"`
}

// Openings is a page of the openings a member may read, in log order;
// Next is the entry index to ask from for the next page, 0 on the last.
type Openings struct {
	Items []Opening `json:"items"`
	Next  int64     `json:"next,omitempty"`
}

// Proof is the JSON form of a Merkle proof: base64 hashes.
type Proof struct {
	Hashes []string `json:"hashes"`
}

// Health is the answer of /healthz.
type Health struct {
	Status string `json:"status"`
	Origin string `json:"origin"`
	Size   int64  `json:"size"`
	Rules  int    `json:"rules"` // the version of the rules in force
}

// Ready is the answer of /readyz: whether this server should be sent
// traffic, and each check that says so, in a fixed order. A check that
// does not apply (witnesses, on a log without) is not listed.
type Ready struct {
	Ready  bool         `json:"ready"`
	Role   string       `json:"role"` // leader, standby or single
	Checks []ReadyCheck `json:"checks"`
}

// ReadyCheck is one check of /readyz.
type ReadyCheck struct {
	Name   string `json:"name"` // log, store, role, witnesses
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Resources are the record types listed and shown under /api/v1/, with
// the plural of their path.
var Resources = []struct{ Type, Plural string }{
	{"allegation", "allegations"}, {"case", "cases"}, {"task", "tasks"},
	{"evidence", "evidence"}, {"finding", "findings"}, {"consequence", "consequences"},
	{"commitment", "commitments"}, {"amendment", "amendments"},
	{"source", "sources"}, {"story", "stories"}, {"outlet", "outlets"},
	{"report", "reports"},
}

// ListPath is where the API lists records of a type, "" if it does not.
func ListPath(typ string) string {
	if typ == "member" {
		return "/api/v1/members"
	}
	for _, r := range Resources {
		if r.Type == typ {
			return "/api/v1/" + r.Plural
		}
	}
	return ""
}

// RecordPath is where the API shows one record.
func RecordPath(typ, id string) string { return ListPath(typ) + "/" + url.PathEscape(id) }

// ReceiptPath is where a record's receipt is served.
func ReceiptPath(typ, id string) string { return RecordPath(typ, id) + "/receipt" }

// Error is the body of every error answer.
type Error struct {
	Error struct {
		Code    truce.Code `json:"code"`
		Message string     `json:"message"`
		Field   string     `json:"field,omitempty"`
	} `json:"error"`
}
