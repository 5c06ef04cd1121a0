package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/read"
	"github.com/truce-mvm/truce/internal/rules"
)

// section is one list of a dashboard: what awaits the member.
type section struct {
	Title string // catalogue key
	Items []item
}

type item struct {
	ID, Href, Text string
	Due            time.Time
	Overdue        bool
	Owes           string // who must act on an overdue item: a party, the mediators, the mechanism, a member
}

type dashboardData struct {
	Sections []section
	Overdue  []item
	// Changes are the records touched since the member's previous visit;
	// FirstVisit says there was none to compare with.
	Changes    []change
	FirstVisit bool
}

// change is a record touched since the previous visit.
type change struct {
	Type, ID, Href, Title, Status string
	New                           bool // created since
}

// dashboard gathers what awaits the member, what it owes first, by role:
// replies due and consequences falling due for a party, then the findings
// in effect that concern it; allegations to admit, findings to sign and
// consequences to confirm for a mediator; tasks for a monitor or an
// analyst; open-source stories whose sources disagree for an analyst or a
// mediator. The mechanism's whole overdue list, with who owes each item,
// is for the mechanism's members: a party's own overdue items are marked
// late in its sections.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, v *view) (*dashboardData, error) {
	ctx := r.Context()
	m := v.Member
	d := &dashboardData{}
	defer func() { // what the member owes comes first; then what changed
		if err := s.changes(w, r, v, d); err != nil {
			s.cfg.Logger.Warn("changes since the last visit", "err", err)
		}
	}()
	list := func(q truce.Query) ([]truce.Record, error) {
		q.Limit = 200
		return s.cfg.Read.List(ctx, v.who, q)
	}
	link := recordPath
	add := func(title string, items []item) {
		d.Sections = append(d.Sections, section{Title: title, Items: items})
	}
	allegations := func(q truce.Query, keep func(*truce.Allegation) (time.Time, bool, bool)) ([]item, error) {
		q.Type = rules.TypeAllegation
		recs, err := list(q)
		if err != nil {
			return nil, err
		}
		var out []item
		for _, rec := range recs {
			a, err := decode[truce.Allegation](rec.Doc)
			if err != nil {
				return nil, err
			}
			if due, overdue, ok := keep(a); ok {
				out = append(out, item{ID: a.ID, Href: link(rules.TypeAllegation, a.ID), Text: a.Place.Location + " — " + v.L.Category(a.Category), Due: due, Overdue: overdue})
			}
		}
		return out, nil
	}
	consequences := func(q truce.Query) ([]item, error) {
		q.Type, q.Status = rules.TypeConsequence, truce.ConsequenceOpen
		recs, err := list(q)
		if err != nil {
			return nil, err
		}
		var out []item
		for _, rec := range recs {
			c, err := decode[truce.Consequence](rec.Doc)
			if err != nil {
				return nil, err
			}
			out = append(out, item{ID: c.ID, Href: link(rules.TypeConsequence, c.ID), Text: c.Title + " (" + c.Target + ")", Due: c.Deadline.Due, Overdue: c.Deadline.Overdue})
		}
		return out, nil
	}
	switch {
	case m.Role == truce.RoleLiaison:
		due, err := allegations(truce.Query{Against: m.Party, Status: truce.AllegationFiled}, func(a *truce.Allegation) (time.Time, bool, bool) {
			if a.Notice == nil || a.Reply != nil {
				return time.Time{}, false, false
			}
			return a.Notice.Reply.Due, a.Notice.Reply.Overdue, true
		})
		if err != nil {
			return nil, err
		}
		add("dash.replies_due", due)
		cq, err := consequences(truce.Query{Against: m.Party})
		if err != nil {
			return nil, err
		}
		add("dash.consequences_due", cq)
		recs, err := list(truce.Query{Type: rules.TypeFinding, Status: truce.FindingInEffect})
		if err != nil {
			return nil, err
		}
		var against []item
		for _, rec := range recs {
			f, err := decode[truce.Finding](rec.Doc)
			if err != nil {
				return nil, err
			}
			if f.Responsible == m.Party && len(against) < 10 { // newest first
				against = append(against, item{ID: f.ID, Href: link(rules.TypeFinding, f.ID), Text: v.L.T("dash.finding_against", v.L.Label("choice."+f.Determination), f.Allegation)})
			}
		}
		add("dash.findings_against", against)
		return d, nil // its overdue items are marked in its sections; the mechanism's are the mechanism's
	case m.Role == truce.RoleMediator:
		admit, err := allegations(truce.Query{Status: truce.AllegationFiled}, func(a *truce.Allegation) (time.Time, bool, bool) {
			return a.Admission.Due, a.Admission.Overdue, true
		})
		if err != nil {
			return nil, err
		}
		add("dash.to_admit", admit)
		recs, err := list(truce.Query{Type: rules.TypeFinding, Status: truce.FindingProposed})
		if err != nil {
			return nil, err
		}
		var sign []item
		for _, rec := range recs {
			f, err := decode[truce.Finding](rec.Doc)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(f.Signatures, func(sg truce.Signature) bool { return sg.Member == m.ID }) {
				sign = append(sign, item{ID: f.ID, Href: link(rules.TypeFinding, f.ID), Text: v.L.Label("choice."+f.Determination) + " — " + f.Allegation})
			}
		}
		add("dash.to_sign", sign)
		cq, err := consequences(truce.Query{})
		if err != nil {
			return nil, err
		}
		add("dash.consequences_due", cq)
	case m.Role == truce.RoleMonitor || m.Role == truce.RoleAnalyst:
		recs, err := list(truce.Query{Type: rules.TypeTask, Member: m.ID, Status: truce.TaskAssigned})
		if err != nil {
			return nil, err
		}
		var tasks []item
		for _, rec := range recs {
			t, err := decode[truce.Task](rec.Doc)
			if err != nil {
				return nil, err
			}
			tasks = append(tasks, item{ID: t.ID, Href: link(rules.TypeTask, t.ID), Text: t.Type + " — " + t.Case, Due: t.Deadline.Due, Overdue: t.Deadline.Overdue})
		}
		add("dash.my_tasks", tasks)
	}
	if m.Role == truce.RoleAnalyst || m.Role == truce.RoleMediator {
		recs, err := list(truce.Query{Type: rules.TypeStory, Status: "disputed"})
		if err != nil {
			return nil, err
		}
		var disputed []item
		for _, rec := range recs {
			st, err := decode[truce.Story](rec.Doc)
			if err != nil {
				return nil, err
			}
			disputed = append(disputed, item{ID: st.ID, Href: link(rules.TypeStory, st.ID), Text: v.L.T("dash.story_disputed", st.Title, len(st.Discrepancies))})
		}
		add("dash.disputed", disputed)
	}
	overdue, err := s.cfg.Read.Overdue(v.who)
	if truce.ErrorCode(err) == truce.CodeForbidden {
		return d, nil // the public role is not shown the mechanism's deadlines
	}
	if err != nil {
		return nil, err
	}
	for _, o := range overdue.Items {
		ref := o.Ref()
		d.Overdue = append(d.Overdue, item{ID: o.ID, Href: link(ref.Type, o.ID), Text: o.Kind, Due: o.Due, Overdue: true,
			Owes: s.owes(r, v, o)})
	}
	return d, nil
}

// owes says who must act on an overdue item: the accused party for a
// reply, the target of a consequence, the assignee of a task, the
// mediators for an admission, the mechanism for a verification.
func (s *Server) owes(r *http.Request, v *view, o rules.Overdue) string {
	ref := o.Ref()
	rec, _, err := s.cfg.Read.Get(r.Context(), v.who, ref.Type, ref.ID)
	if err != nil {
		return ""
	}
	switch o.Kind {
	case rules.DueReply:
		if a, err := decode[truce.Allegation](rec.Doc); err == nil && a.Accused != "" {
			return v.L.T("party." + a.Accused)
		}
	case rules.DueConsequence:
		if c, err := decode[truce.Consequence](rec.Doc); err == nil {
			return c.Target
		}
	case rules.DueTask:
		if t, err := decode[truce.Task](rec.Doc); err == nil {
			return t.Assignee
		}
	case rules.DueAdmission:
		return v.L.T("dash.owes_mediators")
	}
	return v.L.T("dash.owes_mechanism")
}

// visitCookie keeps, in the member's browser, the log sizes at its
// previous and latest visits; a visit ends visitGap after its last view of
// the dashboard, so that reloading the page does not clear what changed.
const (
	visitCookie = "truce_visit"
	visitGap    = 30 * time.Minute
)

// changedTypes are the records whose changes a dashboard lists.
var changedTypes = []string{rules.TypeAllegation, rules.TypeCase, rules.TypeFinding, rules.TypeConsequence, rules.TypeCommitment}

// changes lists what was touched since the member's previous visit, only
// what the member may see, and moves the visit on.
func (s *Server) changes(w http.ResponseWriter, r *http.Request, v *view, d *dashboardData) error {
	size, _, _ := s.cfg.Read.Published(v.who)
	now := time.Now()
	prev, last, at, ok := readVisit(cookieValue(r, visitCookie), v.Member.ID)
	switch {
	case !ok:
		prev, last = size, size
	case now.Sub(at) > visitGap: // a new visit: the latest becomes the previous
		prev, last = last, size
	}
	http.SetCookie(w, &http.Cookie{Name: visitCookie, Value: writeVisit(v.Member.ID, prev, last, now), Path: "/",
		MaxAge: 90 * 24 * 3600, HttpOnly: true, Secure: s.cfg.API.SecureCookie(r), SameSite: http.SameSiteLaxMode})
	if !ok || prev == 0 {
		d.FirstVisit = true
		return nil
	}
	for _, typ := range changedTypes {
		recs, err := s.cfg.Read.List(r.Context(), v.who, truce.Query{Type: typ, Since: prev, Limit: 20})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			d.Changes = append(d.Changes, change{Type: typ, ID: rec.ID, Href: recordPath(typ, rec.ID), Title: read.Title(typ, rec.Doc),
				Status: rec.Status, New: rec.Created >= prev})
		}
	}
	return nil
}

// writeVisit and readVisit keep a member's visits in a cookie value:
// whose (a hash: the cookie does not name the member), previous size,
// latest size, time of the last view. A value that is malformed or
// another member's is no visit.
func writeVisit(member string, prev, last int64, at time.Time) string {
	return url.Values{"m": {visitor(member)}, "p": {strconv.FormatInt(prev, 10)}, "l": {strconv.FormatInt(last, 10)},
		"t": {strconv.FormatInt(at.Unix(), 10)}}.Encode()
}

func visitor(member string) string {
	sum := sha256.Sum256([]byte("truce visit\x00" + member))
	return hex.EncodeToString(sum[:8])
}

func readVisit(value, member string) (prev, last int64, at time.Time, ok bool) {
	q, err := url.ParseQuery(value)
	if err != nil || q.Get("m") != visitor(member) {
		return 0, 0, time.Time{}, false
	}
	prev, err1 := strconv.ParseInt(q.Get("p"), 10, 64)
	last, err2 := strconv.ParseInt(q.Get("l"), 10, 64)
	t, err3 := strconv.ParseInt(q.Get("t"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || prev < 0 || last < prev {
		return 0, 0, time.Time{}, false
	}
	return prev, last, time.Unix(t, 0), true
}
