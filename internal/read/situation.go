package read

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sitrep"
	"github.com/truce-mvm/truce/internal/store"
)

// Situation is the situation report of [from, to) as v may see it: made
// only of the records v may read, so that a party's report holds nothing
// the mechanism keeps from it.
//
// audience, if not "", narrows the report to what another reader may see
// (AudienceAccess): a mediator's report for the press, or for one party.
// It is refused if it would show what v may not see.
func (s *Service) Situation(ctx context.Context, v policy.Viewer, title, audience string, from, to time.Time) (*sitrep.Situation, error) {
	if err := s.check(v, policy.ReadRecords); err != nil {
		return nil, err
	}
	access := policy.AccessOf(v)
	if audience != "" {
		narrow, err := AudienceAccess(audience)
		if err != nil {
			return nil, err
		}
		if !within(narrow, access) {
			return nil, truce.FieldErrorf(truce.CodeForbidden, "audience", "a report for %s would show what you may not see", audience)
		}
		access = narrow
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case s.reports <- struct{}{}:
		defer func() { <-s.reports }()
	case <-wait.Done():
		return nil, truce.Errorf(truce.CodeUnavailable, "other reports are being made: try again shortly")
	}
	return Situation(ctx, s.cfg.Store, access, title, from, to)
}

// AudienceAccess is the reading of a report's audience: "public",
// "parties" (what both parties see), "mechanism", "all", or a party's code.
func AudienceAccess(audience string) (*truce.Access, error) {
	switch audience {
	case "all":
		return truce.Everything, nil
	case "public":
		return &truce.Access{}, nil
	case "parties":
		return &truce.Access{Parties: true}, nil
	case "mechanism":
		return &truce.Access{Parties: true, Mechanism: true}, nil
	}
	if len(audience) < 2 || len(audience) > 8 || strings.ToUpper(audience) != audience || strings.ContainsFunc(audience, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "audience", "public, parties, mechanism, all, or a party's code such as PK")
	}
	return &truce.Access{Parties: true, Party: audience}, nil
}

// within reports whether a reader with access a sees nothing that one
// with access of may not.
func within(a, of *truce.Access) bool {
	switch {
	case of.All:
		return true
	case a.All:
		return false
	case of.Mechanism:
		return true
	case a.Mechanism:
		return false
	case a.Party != "" && a.Party != of.Party:
		return false
	}
	return !a.Parties || of.Parties
}

// Situation is the situation report of [from, to) from a store, as access
// allows (truce.Everything: an instance's operator reading its own data).
func Situation(ctx context.Context, st store.Store, access *truce.Access, title string, from, to time.Time) (*sitrep.Situation, error) {
	// The size first: the records read after it are at least as new, and
	// the report says which log it was made from.
	size, _, err := st.Tree(ctx)
	if err != nil {
		return nil, err
	}
	in := sitrep.Input{Title: title, From: from, To: to, AsOf: size, Audience: Audience(access)}
	if rec, err := st.Record(ctx, rules.TypeAgreement, "current"); err == nil && access.Sees(rec.Visibility, rec.Owner) {
		in.Agreement = new(truce.Agreement)
		if err := json.Unmarshal(rec.Doc, in.Agreement); err != nil {
			return nil, err
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	// Room for every allegation at once: growing a slice of them as they
	// are read copies them over and over.
	n, err := st.Count(ctx, truce.Query{Type: rules.TypeAllegation, Access: access})
	if err != nil {
		return nil, err
	}
	in.Allegations = make([]truce.Allegation, 0, n)
	for _, c := range []struct {
		typ  string
		into func([]byte) error
	}{
		{rules.TypeAllegation, appendDoc(&in.Allegations)},
		{rules.TypeFinding, appendDoc(&in.Findings)},
		{rules.TypeConsequence, appendDoc(&in.Consequences)},
		{rules.TypeCommitment, appendDoc(&in.Commitments)},
	} {
		err := each(ctx, st, truce.Query{Type: c.typ, Access: access}, func(r truce.Record) error {
			if !access.Sees(r.Visibility, r.Owner) { // the store filters; a report is checked again
				return nil
			}
			return c.into(r.Doc)
		})
		if err != nil {
			return nil, err
		}
	}
	return sitrep.Compute(in), nil
}

// PublishedReports lists the situation reports mediators published, newest
// first (at most MaxList): public records, for anyone.
func (s *Service) PublishedReports(ctx context.Context, v policy.Viewer) ([]rules.PublishedReport, error) {
	if err := s.check(v, policy.ReadPublished); err != nil {
		return nil, err
	}
	recs, err := s.cfg.Store.Records(ctx, truce.Query{Type: rules.TypeReport, Limit: MaxList, Access: &truce.Access{}})
	if err != nil {
		return nil, err
	}
	out := make([]rules.PublishedReport, 0, len(recs))
	add := appendDoc(&out)
	for _, r := range recs {
		if err := add(r.Doc); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func appendDoc[T any](out *[]T) func([]byte) error {
	return func(doc []byte) error {
		var v T
		if err := json.Unmarshal(doc, &v); err != nil {
			return err
		}
		*out = append(*out, v)
		return nil
	}
}

// Audience names whose reading a report is: public, a party's code,
// parties, mechanism, or all (an operator's).
func Audience(a *truce.Access) string {
	switch {
	case a.All:
		return "all"
	case a.Mechanism:
		return "mechanism"
	case a.Party != "":
		return a.Party
	case a.Parties:
		return "parties"
	}
	return "public"
}
