package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/submit"
)

// action is a form that signs one kind of entry with the member's
// custodial key. Its fields are the body's, by JSON name (nested ones
// dotted: place.lat), so the form cannot drift from what the rules take;
// the rules judge it, and their errors come back next to the field.
type action struct {
	name  string // URL segment and catalogue key act.<name>
	kind  string
	body  any          // a zero body
	roles []truce.Role // who is offered it (the rules decide)
}

var actions = []action{
	{"allege", rules.KindAllegationFiled, truce.AllegationFiling{}, []truce.Role{truce.RoleLiaison, truce.RoleMonitor}},
	{"reply", rules.KindReplyFiled, truce.Reply{}, []truce.Role{truce.RoleLiaison}},
	{"admit", rules.KindAllegationAdmitted, truce.Admission{}, []truce.Role{truce.RoleMediator}},
	{"reject", rules.KindAllegationRejected, truce.Rejection{}, []truce.Role{truce.RoleMediator}},
	{"open-case", rules.KindCaseOpened, truce.CaseOpening{}, []truce.Role{truce.RoleMediator}},
	{"assign-task", rules.KindTaskAssigned, truce.TaskAssignment{}, []truce.Role{truce.RoleMediator}},
	{"complete-task", rules.KindTaskCompleted, truce.TaskResult{}, []truce.Role{truce.RoleMonitor, truce.RoleMediator, truce.RoleAnalyst}},
	{"propose-finding", rules.KindFindingProposed, truce.FindingProposal{}, []truce.Role{truce.RoleMediator}},
	{"sign-finding", rules.KindFindingSigned, truce.FindingSignature{}, []truce.Role{truce.RoleMediator}},
	{"object", rules.KindFindingObjected, truce.FindingObjection{}, []truce.Role{truce.RoleLiaison}},
	{"fulfil", rules.KindConsequenceFulfilled, truce.ConsequenceDecision{}, []truce.Role{truce.RoleMediator}},
	{"waive", rules.KindConsequenceWaived, truce.ConsequenceDecision{}, []truce.Role{truce.RoleMediator}},
	{"link-source", rules.KindSourceLinked, truce.SourceLink{}, rules.Roles(rules.KindSourceLinked)},
	{"grade-outlet", rules.KindOutletGraded, truce.OutletGrading{}, rules.Roles(rules.KindOutletGraded)},
	{"move-source", rules.KindSourceMoved, truce.SourceMove{}, rules.Roles(rules.KindSourceMoved)},
}

func actionNamed(name string) (action, bool) {
	i := slices.IndexFunc(actions, func(a action) bool { return a.name == name })
	if i < 0 {
		return action{}, false
	}
	return actions[i], true
}

// choices are the values a field takes, shown as a list.
var choices = map[string][]string{
	"relation":            truce.LinkRelations,
	"reliability":         truce.Reliabilities,
	"response":            {truce.ReplyAdmit, truce.ReplyDeny, truce.ReplyContest, truce.ReplyAttribute, truce.ReplyDecline},
	"reject.grounds":      {truce.RejectOutOfScope, truce.RejectDuplicate, truce.RejectUnfounded},
	"determination":       {truce.DeterminationViolation, truce.DeterminationNotConfirmed, truce.DeterminationNoViolation, truce.DeterminationNonParty},
	"severity":            {"", truce.SeverityMinor, truce.SeveritySerious, truce.SeverityGrave},
	"confidence":          {"low", "medium", "high"},
	"host_responsibility": {"", truce.HostFailedToPrevent, truce.HostNotResponsible, truce.HostUndetermined},
	"perpetrator.kind":    {truce.PerpParty, truce.PerpNonState, truce.PerpUnknown},
	"perpetrator.party":   {"", "PK", "AF"},
	"responsible":         {"", "PK", "AF"},
	"place.country":       {"PK", "AF"},
	"visibility":          {"", string(truce.Parties), string(truce.Internal)},
	"type":                {truce.TaskSiteVisit, truce.TaskImageryReview, truce.TaskInterviews, truce.TaskSourceReview},
	"occurred.precision":  {"1", "2", "3"},
	"place.geo_precision": {"1", "2", "3"},
}

func init() {
	for _, c := range truce.Categories {
		choices["category"] = append(choices["category"], c.Slug)
	}
}

// field is one input of a form.
type field struct {
	Name     string // form name: the dotted JSON path
	Label    string // catalogue key
	Input    string // text, textarea, number, datetime-local, checkbox, select
	Step     string // for numbers
	Choices  []string
	Value    string
	Required bool
	Hint     string // catalogue key, or ""
	Error    string
	// Boxes are the choices of a list to tick (clauses from the agreement).
	Boxes []box
}

// box is one choice of a list of boxes.
type box struct {
	Value, Label string
	Checked      bool
}

// formSection is a group of a form's fields: the body's nested object
// (the place, the time, the perpetrator), with the map beside the place.
type formSection struct {
	Legend string // catalogue key; "" for the body's own fields
	Fields []field
	Map    *regionMap
}

// sections groups fields by their object, in the order they come.
func sections(fields []field) []formSection {
	var out []formSection
	for _, f := range fields {
		group, _, nested := strings.Cut(f.Name, ".")
		legend := ""
		if nested {
			legend = "section." + group
		}
		if len(out) == 0 || out[len(out)-1].Legend != legend {
			out = append(out, formSection{Legend: legend})
		}
		sec := &out[len(out)-1]
		sec.Fields = append(sec.Fields, f)
		if f.Name == "place.lat" {
			sec.Map = region
		}
	}
	return out
}

// defaults are what a new form starts with, by action and field, besides
// those that depend on the member (formDefaults).
var defaults = map[string]map[string]string{
	"allege": {"occurred.precision": "1", "place.geo_precision": "1", "perpetrator.kind": truce.PerpParty,
		"casualties.killed": "0", "casualties.injured": "0", "casualties.civilians_killed": "0", "casualties.civilians_injured": "0"},
}

// formDefaults fills in a new form: the defaults, and for a party's
// liaison the other party as the one accused and its own territory as the
// place.
func formDefaults(a action, m *truce.Member, values url.Values) {
	for k, x := range defaults[a.name] {
		if !values.Has(k) {
			values.Set(k, x)
		}
	}
	if a.name == "allege" && (m.Party == "PK" || m.Party == "AF") {
		other := map[string]string{"PK": "AF", "AF": "PK"}[m.Party]
		for k, x := range map[string]string{"perpetrator.party": other, "place.country": m.Party} {
			if !values.Has(k) {
				values.Set(k, x)
			}
		}
	}
}

// skipped are body fields a form does not offer: sealed details and
// source lists are for the API and the CLI.
var skipped = map[reflect.Type]bool{
	reflect.TypeOf(&truce.Sealed{}): true, reflect.TypeOf([]truce.Source{}): true, reflect.TypeOf(truce.Agreement{}): true,
}

var timeType = reflect.TypeOf(time.Time{})

// fieldsOf lists the inputs of an action's body type.
func fieldsOf(act string, t reflect.Type, prefix string) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous {
			out = append(out, fieldsOf(act, f.Type, prefix)...)
			continue
		}
		if name == "" || name == "-" || skipped[f.Type] {
			continue
		}
		path := prefix + name
		ft := f.Type
		if ft.Kind() == reflect.Pointer && ft.Elem() != timeType {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != timeType {
			out = append(out, fieldsOf(act, ft, path+".")...)
			continue
		}
		fd := field{Name: path, Label: "field." + path, Required: !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer}
		switch {
		case choices[act+"."+path] != nil:
			fd.Input, fd.Choices = "select", choices[act+"."+path]
		case choices[path] != nil:
			fd.Input, fd.Choices = "select", choices[path]
		case ft == timeType || ft == reflect.TypeOf(&time.Time{}):
			fd.Input, fd.Hint = "datetime-local", "hint.utc"
		case ft.Kind() == reflect.Bool:
			fd.Input, fd.Required = "checkbox", false
		case ft.Kind() == reflect.Int || ft.Kind() == reflect.Int64:
			fd.Input, fd.Step = "number", "1"
		case ft.Kind() == reflect.Float64:
			fd.Input, fd.Step = "number", "any"
		case ft.Kind() == reflect.Slice:
			fd.Input, fd.Hint = "text", "hint.list"
		case name == "narrative" || name == "reasoning" || name == "result" || name == "description" || name == "note":
			fd.Input = "textarea"
		default:
			fd.Input = "text"
		}
		out = append(out, fd)
	}
	return out
}

// fill sets the body's fields from a submitted form, returning the
// fields' errors by name.
func fill(body reflect.Value, form url.Values, prefix string, errs map[string]string) {
	t := body.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			fill(body.Field(i), form, prefix, errs)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || skipped[f.Type] {
			continue
		}
		path, fv := prefix+name, body.Field(i)
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && f.Type.Elem() != timeType {
			inner := reflect.New(f.Type.Elem())
			fill(inner.Elem(), form, path+".", errs)
			if !inner.Elem().IsZero() {
				fv.Set(inner)
			}
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != timeType {
			fill(fv, form, path+".", errs)
			continue
		}
		s := strings.TrimSpace(strings.Join(form[path], ",")) // a list may come as boxes ticked
		if s == "" {
			continue
		}
		if err := setField(fv, s); err != nil {
			errs[path] = err.Error()
		}
	}
}

// setField parses s into a field of a body.
func setField(v reflect.Value, s string) error {
	switch v.Interface().(type) {
	case time.Time, *time.Time:
		t, err := time.ParseInLocation("2006-01-02T15:04", s, time.UTC)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, s); err != nil {
				return errors.New("hint.utc")
			}
		}
		if v.Kind() == reflect.Pointer {
			v.Set(reflect.ValueOf(&t))
		} else {
			v.Set(reflect.ValueOf(t))
		}
		return nil
	case []string:
		var xs []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				xs = append(xs, p)
			}
		}
		v.Set(reflect.ValueOf(xs))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(s == "on" || s == "true")
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errors.New("hint.number")
		}
		v.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New("hint.number")
		}
		if x == 0 {
			x = 0 // not -0, which entries do not take
		}
		v.SetFloat(x)
	default:
		return fmt.Errorf("hint.unsupported")
	}
	return nil
}

type formData struct {
	Action   string
	Fields   []field
	Sections []formSection // the fields, grouped as the body groups them
	// What the browser signs with, if it holds one of the member's keys:
	// the log's origin, the member, and the member's usable keys that
	// the server does not hold.
	Kind, Origin, Member, Keys string
	Custodial                  bool // the server holds a key to sign for the member
}

// form renders an action's form, pre-filled from the query (a reply
// form opened from an allegation names it) or from what was submitted.
func (s *Server) form(w http.ResponseWriter, r *http.Request, v *view) error {
	a, ok := actionNamed(r.PathValue("action"))
	if !ok {
		return truce.Errorf(truce.CodeNotFound, "no action %q", r.PathValue("action"))
	}
	s.renderForm(w, r, v, a, r.URL.Query(), nil)
	return nil
}

func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, v *view, a action, values url.Values, errs map[string]string) {
	ag, _ := s.cfg.Read.Agreement(r.Context(), v.who) // none readable: clauses are typed
	fields := fieldsOf(a.name, reflect.TypeOf(a.body), "")
	d := &formData{Action: a.name}
	if errs == nil {
		values = maps.Clone(values)
		if values == nil {
			values = url.Values{}
		}
		formDefaults(a, v.Member, values)
	}
	for i := range fields {
		f := &fields[i]
		f.Value = strings.Join(values[f.Name], ",")
		f.Error = errs[f.Name]
		if f.Name == "clauses" && ag != nil { // chosen from the agreement, not typed
			chosen := strings.Split(f.Value, ",")
			for _, c := range ag.Clauses {
				f.Boxes = append(f.Boxes, box{Value: c.ID, Label: c.Title, Checked: slices.Contains(chosen, c.ID)})
			}
			f.Input, f.Hint = "boxes", ""
		}
	}
	d.Fields, d.Sections = fields, sections(fields)
	d.Kind, d.Origin, d.Member = a.kind, s.cfg.Read.Origin(), v.Member.ID
	var keys []string
	for _, k := range v.Member.Keys {
		switch {
		case !k.Usable():
		case k.Custodial:
			d.Custodial = true
		default:
			keys = append(keys, k.ID)
		}
	}
	d.Keys = strings.Join(keys, " ")
	s.render(w, v, "form", v.L.T("act."+a.name), d)
}

// prepare answers a form the browser is to sign: the entry's payload,
// built as act would build it, for the browser to sign with a key the
// server never holds (static/sign.js), or the form's errors, as JSON.
func (s *Server) prepare(w http.ResponseWriter, r *http.Request, v *view) error {
	a, body, errs, err := s.posted(r, v)
	if err != nil {
		return err
	}
	var p *submit.Prepared
	if len(errs) == 0 {
		raw, err := json.Marshal(body.Interface())
		if err != nil {
			return err
		}
		if p, err = s.cfg.Submit.Prepare(r.Context(), v.who, submit.Route{Kind: a.kind}, raw); err != nil {
			if err := refused(err, v, errs, fieldsOf(a.name, reflect.TypeOf(a.body), "")); err != nil {
				return err
			}
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if p == nil {
		unprocessable(w, v)
		return json.NewEncoder(w).Encode(map[string]any{"error": v.Error, "fields": errs})
	}
	return json.NewEncoder(w).Encode(p)
}

// signed logs an entry the member's browser signed (prepare, then
// static/sign.js), with the opening of its sealed body if it has one.
func (s *Server) signed(w http.ResponseWriter, r *http.Request, v *view) error {
	a, _, _, err := s.posted(r, v)
	if err != nil {
		return err
	}
	env, err := entry.ParseEnvelope([]byte(r.PostForm.Get("envelope")))
	if err != nil {
		return err
	}
	var seal *submit.PreparedSeal
	if o := r.PostForm.Get("opening"); o != "" {
		if err := json.Unmarshal([]byte(o), &seal); err != nil {
			return truce.FieldErrorf(truce.CodeInvalid, "opening", "not the opening this server prepared")
		}
	}
	ack, err := s.cfg.Submit.Signed(r.Context(), v.who, submit.Route{Kind: a.kind}, env, seal.Opening(), nil)
	if err != nil {
		return err
	}
	toRecord(w, r, ack)
	return nil
}

// posted reads an action's submitted form: the action the path names, and
// the body its fields fill, with the fields' errors.
func (s *Server) posted(r *http.Request, v *view) (action, reflect.Value, map[string]string, error) {
	a, ok := actionNamed(r.PathValue("action"))
	if !ok {
		return a, reflect.Value{}, nil, truce.Errorf(truce.CodeNotFound, "no action %q", r.PathValue("action"))
	}
	if err := gate.ParseForm(r); err != nil {
		return a, reflect.Value{}, nil, err
	}
	body := reflect.New(reflect.TypeOf(a.body))
	return a, body, readForm(v, body.Elem(), r.PostForm), nil
}

// toRecord sends the browser to the record an entry logged is about.
func toRecord(w http.ResponseWriter, r *http.Request, ack *truce.Ack) {
	target := "/"
	if ack.Record != nil {
		target = recordPath(ack.Record.Type, ack.Record.ID)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// act signs and submits an action with the member's custodial key.
func (s *Server) act(w http.ResponseWriter, r *http.Request, v *view) error {
	a, body, errs, err := s.posted(r, v)
	if err != nil {
		return err
	}
	if len(errs) == 0 {
		ack, err := s.submit(r, v, a.kind, body.Interface())
		if err == nil {
			toRecord(w, r, ack)
			return nil
		}
		if err := refused(err, v, errs, fieldsOf(a.name, reflect.TypeOf(a.body), "")); err != nil {
			return err
		}
	}
	unprocessable(w, v)
	s.renderForm(w, r, v, a, r.PostForm, errs)
	return nil
}

// readForm fills a body from a submitted form and returns the fields'
// errors, in the reader's language.
func readForm(v *view, body reflect.Value, values url.Values) map[string]string {
	errs := map[string]string{}
	fill(body, values, "", errs)
	for k, e := range errs {
		errs[k] = v.L.T(e)
	}
	return errs
}

// refused shows the rules' refusal of a form next to the field it names,
// if the form has that field, else above the form. Errors that are not
// refusals — the server's own trouble (a full disk, a failing store), a
// rate limit — are returned, to be answered with their own status.
func refused(err error, v *view, errs map[string]string, fields []field) error {
	var te *truce.Error
	if !errors.As(err, &te) || api.Status(err) >= 500 || te.Code == truce.CodeRateLimited {
		return err
	}
	name := strings.TrimPrefix(te.Field, "body.")
	if name != "" && slices.ContainsFunc(fields, func(f field) bool { return f.Name == name }) {
		errs[name] = te.Message
	} else {
		v.Error = te.Message
	}
	return nil
}

// unprocessable answers a form that was not logged.
func unprocessable(w http.ResponseWriter, v *view) {
	if v.Error == "" {
		v.Error = v.L.T("form.fix")
	}
	w.WriteHeader(http.StatusUnprocessableEntity)
}

// submit signs body as kind with the member's custodial key and logs it.
func (s *Server) submit(r *http.Request, v *view, kind string, body any) (*truce.Ack, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	ack, err := s.cfg.Submit.Custodial(r.Context(), v.who, submit.Route{Kind: kind}, raw, nil)
	return ack, nokey(v, err)
}

// nokey says, in the member's language, that the server holds no key to
// sign with for them.
func nokey(v *view, err error) error {
	if errors.Is(err, submit.ErrNoCustodialKey) {
		return truce.Errorf(truce.CodeForbidden, "%s", v.L.T("form.nokey"))
	}
	return err
}
