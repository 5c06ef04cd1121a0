package rules

import (
	"fmt"
	"time"

	"github.com/truce-mvm/truce"
)

// Published situation reports. A report itself is not logged — it is
// derived from the log — but its publication is: the hash of the exact
// bytes a mediator published, so that anyone holding the report can show
// it is the one the mechanism stood behind, and when.

// KindReportPublished publishes a situation report (rules version 7 on).
const KindReportPublished = "report.published"

// TypeReport is the record of a published report.
const TypeReport = "report"

// ReportPublication is the body of report.published.
type ReportPublication struct {
	// SHA256 is the hex SHA-256 of the report's canonical bytes: its JSON
	// rendering, byte for byte.
	SHA256 string    `json:"sha256"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Title  string    `json:"title"`
}

// PublishedReport is a report's record.
type PublishedReport struct {
	ID string `json:"id"`
	ReportPublication
	Published   time.Time `json:"published"`
	PublishedBy string    `json:"published_by"`
}

// published is the part of the state that publications build.
type published struct {
	sitreps    map[string]*PublishedReport
	sitrepHash map[string]string // sha256 → report id
}

func newPublished() published {
	return published{sitreps: map[string]*PublishedReport{}, sitrepHash: map[string]string{}}
}

func checkReportPublication(p *ReportPublication) error {
	switch {
	case !sha256Pattern.MatchString(p.SHA256):
		return truce.FieldErrorf(truce.CodeInvalid, "body.sha256", "must be 64 lowercase hex digits")
	case p.From.IsZero():
		return truce.FieldErrorf(truce.CodeInvalid, "body.from", "is required")
	case !p.To.After(p.From):
		return truce.FieldErrorf(truce.CodeInvalid, "body.to", "must be after from")
	}
	return text("body.title", p.Title, 200, true)
}

func applyReportPublication(s *State, c *applyCtx, body any) error {
	p := body.(*ReportPublication)
	if !s.version.Reports {
		return truce.FieldErrorf(truce.CodeInvalid, "payload.kind", "publishing a report needs rules version 7 or later; this log is under version %d", s.Rules)
	}
	if p.To.After(c.logged.Add(MaxSkew)) {
		return truce.FieldErrorf(truce.CodeBadTime, "body.to", "is in the future: a report tells of what has happened")
	}
	if id, dup := s.sitrepHash[p.SHA256]; dup {
		return truce.FieldErrorf(truce.CodeConflict, "body.sha256", "this report is already published as %s", id)
	}
	id := fmt.Sprintf("SR-%04d", len(s.sitreps)+1)
	s.sitreps[id] = &PublishedReport{ID: id, ReportPublication: *p, Published: c.logged, PublishedBy: c.author.ID}
	s.sitrepHash[p.SHA256] = id
	c.touch(TypeReport, id)
	return nil
}
