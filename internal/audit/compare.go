package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/wire"
)

// comparedTypes are the record types the API lists, compared in full.
var comparedTypes = []string{
	rules.TypeAllegation, rules.TypeCase, rules.TypeTask, rules.TypeEvidence, rules.TypeFinding,
	rules.TypeConsequence, rules.TypeCommitment, rules.TypeAmendment, rules.TypeMember,
	rules.TypeSource, rules.TypeStory, rules.TypeOutlet, rules.TypeReport,
}

// compareAPI compares what the API publishes with what the log gives, as
// far as the auditor's member may see: the overdue set, every listed record
// and the agreement. A record the log changed after the checkpoint is left
// for a later round.
func (a *Auditor) compareAPI(ctx context.Context, r *Round) error {
	size := a.chk.size()
	var od wire.Overdue
	if err := a.get(ctx, "/api/v1/overdue", &od); err != nil {
		return err
	}
	if od.AsOf == size {
		// What falls due of a record sealed entries may have changed is
		// what this member can derive, not what the log gives.
		uncomparable := func(o rules.Overdue) bool { return a.uncomparable(o.Ref()) }
		want := slices.DeleteFunc(a.chk.state.OverdueFor(a.access), uncomparable)
		got := slices.DeleteFunc(od.Items, uncomparable)
		if err := a.compareOverdue(want, got); err != nil {
			return err
		}
		r.Overdue = len(want)
	} else {
		r.Notes = append(r.Notes, fmt.Sprintf("the API's overdue set is of %d entries, the checkpoint of %d: compared in a later round", od.AsOf, size))
	}

	all, err := a.chk.state.Records()
	if err != nil {
		return err
	}
	want := map[string]map[string]truce.Record{}
	for _, rec := range all {
		if a.access.Sees(rec.Visibility, rec.Owner) {
			if want[rec.Type] == nil {
				want[rec.Type] = map[string]truce.Record{}
			}
			want[rec.Type][rec.ID] = rec
		}
	}
	later := 0
	for _, typ := range comparedTypes {
		got, err := a.list(ctx, wire.ListPath(typ))
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(got)+len(want[typ]))
		for id := range got {
			ids = append(ids, id)
		}
		for id := range want[typ] {
			if _, ok := got[id]; !ok {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			n, err := a.compareRecord(ctx, typ, wire.ListPath(typ)+"/"+url.PathEscape(id), id, want[typ], got[id], size)
			if err != nil {
				return err
			}
			later += n
			r.Records++
		}
	}
	// The agreement in force.
	var ag map[string]json.RawMessage
	if err := a.get(ctx, "/api/v1/agreement", &ag); err != nil {
		return err
	}
	agreements := map[string]truce.Record{}
	if rec, err := a.chk.state.Record(rules.Ref{Type: rules.TypeAgreement, ID: "current"}); err == nil {
		agreements["current"] = rec
	}
	n, err := a.compareRecord(ctx, rules.TypeAgreement, "/api/v1/agreement", "current", agreements, ag[rules.TypeAgreement], size)
	if err != nil {
		return err
	}
	later += n
	r.Records++
	if later > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d records changed after the checkpoint: compared in a later round", later))
	}
	return nil
}

// uncomparable reports whether what the log gives of a record is not known
// to this auditor: entries it could not check may have changed it (or made
// it: a finding's consequences, if a signature that may have put it in
// effect was not checked). Any other record the API shows and the log does
// not hold is an alarm.
func (a *Auditor) uncomparable(r rules.Ref) bool {
	st := a.chk.state
	if st.Tainted(r) {
		return true
	}
	_, known := st.Visibility(r)
	return !known && r.Type == rules.TypeConsequence && st.SkippedKind(rules.KindFindingSigned)
}

// compareRecord compares one record the API publishes (got, nil if it
// does not) with the log's (in want, if the log has it). It returns 1 if
// the difference is explained by entries after the checkpoint.
func (a *Auditor) compareRecord(ctx context.Context, typ, path, id string, want map[string]truce.Record, got json.RawMessage, size int64) (int, error) {
	rec, inLog := want[id]
	// A record an entry skipped touched, or one such an entry may have
	// made, is not what the log gives but what this member can derive.
	if a.uncomparable(rules.Ref{Type: typ, ID: id}) {
		a.uncompared++
		return 0, nil
	}
	if inLog && got != nil {
		field, err := docDiff(got, rec.Doc)
		if err != nil || field == "" {
			return 0, err
		}
		if changed, err := a.changedSince(ctx, path, typ, size); err != nil || changed {
			return 1, err
		}
		return 0, &Problem{rec.Updated, fmt.Sprintf("ALARM: the API publishes %s/%s with a %q that is not what the log gives (the log last changed it at entry %d)", typ, id, field, rec.Updated)}
	}
	if inLog {
		return 0, &Problem{rec.Created, fmt.Sprintf("ALARM: %s/%s is in the log (entry %d) but the API does not publish it", typ, id, rec.Created)}
	}
	if changed, err := a.changedSince(ctx, path, typ, size); err != nil || changed {
		return 1, err
	}
	return 0, &Problem{-1, fmt.Sprintf("ALARM: the API publishes %s/%s, which the log does not hold", typ, id)}
}

// changedSince reports whether the API's history of a record names an
// entry at or after size.
func (a *Auditor) changedSince(ctx context.Context, path, typ string, size int64) (bool, error) {
	var rec struct {
		History []truce.HistoryItem `json:"history"`
	}
	if err := a.get(ctx, path, &rec); err != nil {
		return false, err
	}
	for _, h := range rec.History {
		if h.Index >= size {
			return true, nil
		}
	}
	return false, nil
}

// list fetches every record of a list, by id.
func (a *Auditor) list(ctx context.Context, path string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	cursor := ""
	for {
		var page wire.List
		q := "?limit=200"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := a.get(ctx, path+q, &page); err != nil {
			return nil, err
		}
		for _, doc := range page.Items {
			var head struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(doc, &head); err != nil || head.ID == "" {
				return nil, fmt.Errorf("%s: an item without an id", path)
			}
			out[head.ID] = doc
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// compareOverdue compares the overdue set the API lists with the log's.
func (a *Auditor) compareOverdue(want, got []rules.Overdue) error {
	key := func(o rules.Overdue) string { return o.Kind + "/" + o.ID + "/" + o.Due.UTC().String() }
	has := map[string]bool{}
	for _, o := range got {
		has[key(o)] = true
	}
	for _, o := range want {
		if !has[key(o)] {
			idx := int64(-1)
			if rec, err := a.chk.state.Record(o.Ref()); err == nil {
				idx = rec.Updated
			}
			return &Problem{idx, fmt.Sprintf("ALARM: the log has %s %s overdue since %s; the API does not list it", o.Kind, o.ID, o.Due.Format("2006-01-02T15:04Z07:00"))}
		}
		delete(has, key(o))
	}
	for _, o := range got {
		if has[key(o)] {
			return &Problem{-1, fmt.Sprintf("ALARM: the API lists %s %s as overdue since %s; the log does not", o.Kind, o.ID, o.Due.Format("2006-01-02T15:04Z07:00"))}
		}
	}
	return nil
}

// docDiff names the first top-level field in which the API's document
// differs from the log's, ignoring the sealed content the API may add
// ("sealed_content"), which the log holds only as a commitment.
func docDiff(got, want []byte) (string, error) {
	if bytes.Equal(got, want) {
		return "", nil
	}
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		return "", fmt.Errorf("the API's document: %w", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		return "", err
	}
	delete(g, "sealed_content")
	keys := make([]string, 0, len(g)+len(w))
	for k := range g {
		keys = append(keys, k)
	}
	for k := range w {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if !reflect.DeepEqual(g[k], w[k]) {
			return k, nil
		}
	}
	return "", nil
}
