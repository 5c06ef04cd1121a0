package rules

import (
	"fmt"
	"mime"
	"regexp"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
)

// Entry kinds of the verification workflow.
const (
	KindReplyFiled         = "reply.filed"
	KindAllegationAdmitted = "allegation.admitted"
	KindAllegationRejected = "allegation.rejected"
	KindCaseOpened         = "case.opened"
	KindTaskAssigned       = "task.assigned"
	KindTaskCompleted      = "task.completed"
	KindEvidenceRegistered = "evidence.registered"
	KindEvidenceCustody    = "evidence.custody"
)

// --- reply.filed: the accused party answers.

func checkReply(r *truce.Reply) error {
	switch r.Response {
	case truce.ReplyAdmit, truce.ReplyDeny, truce.ReplyContest, truce.ReplyDecline:
		if r.ThirdParty != "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body.third_party", "only an attribution names a third party")
		}
	case truce.ReplyAttribute:
		if err := text("body.third_party", r.ThirdParty, 200, true); err != nil {
			return err
		}
	default:
		return truce.FieldErrorf(truce.CodeInvalid, "body.response", "must be admit, deny, contest, attribute or decline")
	}
	if err := text("body.narrative", r.Narrative, 20000, r.Response != truce.ReplyDecline); err != nil {
		return err
	}
	return checkRefs("body.evidence", r.Evidence)
}

func applyReply(s *State, c *applyCtx, body any) error {
	r := body.(*truce.Reply)
	a, err := s.openAllegation(r.Allegation)
	if err != nil {
		return err
	}
	if err := mayReply(a, c.author); err != nil {
		return err
	}
	if err := s.checkEvidence("body.evidence", r.Evidence); err != nil {
		return err
	}
	a.Reply = &truce.ReplyRecord{Reply: *r, By: c.author.ID, At: c.logged, Index: c.index, Late: c.logged.After(a.Notice.Reply.Due)}
	a.Notice.Reply.Met = true
	c.touch(TypeAllegation, a.ID)
	return nil
}

// openAllegation finds an allegation that is still being dealt with.
func (s *State) openAllegation(id string) (*truce.Allegation, error) {
	a, ok := s.allegations[id]
	if !ok {
		return nil, truce.FieldErrorf(truce.CodeNotFound, "body.allegation", "no allegation %q", id)
	}
	if err := allegationOpen(a); err != nil {
		return nil, err
	}
	if a.Case != "" && s.cases[a.Case].Status == truce.CaseClosed {
		return nil, truce.Errorf(truce.CodeConflict, "the case on %s is closed", a.ID)
	}
	return a, nil
}

func orNone(s string) string {
	if s == "" {
		return "none named"
	}
	return s
}

// --- allegation.admitted / allegation.rejected: mediators decide.

func checkAdmission(a *truce.Admission) error { return text("body.note", a.Note, 5000, false) }

func applyAdmission(s *State, c *applyCtx, body any) error {
	ad := body.(*truce.Admission)
	a, err := s.filedAllegation(ad.Allegation)
	if err != nil {
		return err
	}
	a.Status = truce.AllegationAdmitted
	a.Admission.Met = true
	a.Decision = &truce.AdmissionRecord{Admitted: true, Note: ad.Note, By: c.author.ID, At: c.logged, Index: c.index}
	c.touch(TypeAllegation, a.ID)
	return nil
}

func checkRejection(r *truce.Rejection) error {
	switch r.Grounds {
	case truce.RejectDuplicate:
		if r.DuplicateOf == "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body.duplicate_of", "name the allegation this one duplicates")
		}
	case truce.RejectOutOfScope, truce.RejectUnfounded:
		if r.DuplicateOf != "" {
			return truce.FieldErrorf(truce.CodeInvalid, "body.duplicate_of", "only a duplicate names another allegation")
		}
	default:
		return truce.FieldErrorf(truce.CodeInvalid, "body.grounds", "must be out_of_scope, duplicate or unfounded")
	}
	return text("body.note", r.Note, 5000, r.Grounds != truce.RejectDuplicate)
}

func applyRejection(s *State, c *applyCtx, body any) error {
	r := body.(*truce.Rejection)
	a, err := s.filedAllegation(r.Allegation)
	if err != nil {
		return err
	}
	if r.DuplicateOf != "" {
		if _, ok := s.allegations[r.DuplicateOf]; !ok || r.DuplicateOf == a.ID {
			return truce.FieldErrorf(truce.CodeInvalid, "body.duplicate_of", "%q is not another allegation", r.DuplicateOf)
		}
	}
	a.Status = truce.AllegationRejected
	a.Admission.Met = true
	a.Decision = &truce.AdmissionRecord{Grounds: r.Grounds, DuplicateOf: r.DuplicateOf, Note: r.Note, By: c.author.ID, At: c.logged, Index: c.index}
	c.touch(TypeAllegation, a.ID)
	return nil
}

// filedAllegation finds an allegation awaiting admission.
func (s *State) filedAllegation(id string) (*truce.Allegation, error) {
	a, ok := s.allegations[id]
	if !ok {
		return nil, truce.FieldErrorf(truce.CodeNotFound, "body.allegation", "no allegation %q", id)
	}
	if err := awaitsAdmission(a); err != nil {
		return nil, err
	}
	return a, nil
}

// --- case.opened

func checkCase(o *truce.CaseOpening) error { return text("body.title", o.Title, 300, true) }

func applyCase(s *State, c *applyCtx, body any) error {
	o := body.(*truce.CaseOpening)
	a, ok := s.allegations[o.Allegation]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.allegation", "no allegation %q", o.Allegation)
	}
	if err := mayOpenCase(a); err != nil {
		return err
	}
	cs := &truce.Case{
		ID: s.next(KindCaseOpened).ID, Allegation: a.ID, Title: o.Title, OpenedBy: c.author.ID, Opened: c.logged,
		Status: truce.CaseOpen, Verification: truce.Deadline{Due: c.logged.Add(time.Duration(s.Agreement.Deadlines.Verification))},
		Filer: a.FilingParty, Accused: a.Accused, Exercise: s.Instance.Exercise,
	}
	s.cases[cs.ID] = cs
	s.schedule(DueVerification, cs.ID, cs.Verification.Due)
	a.Status, a.Case = truce.AllegationInCase, cs.ID
	c.touch(TypeCase, cs.ID)
	c.touch(TypeAllegation, a.ID)
	return nil
}

// openCase finds a case still under verification.
func (s *State) openCase(field, id string) (*truce.Case, error) {
	cs, ok := s.cases[id]
	if !ok {
		return nil, truce.FieldErrorf(truce.CodeNotFound, field, "no case %q", id)
	}
	if err := caseOpen(cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// --- task.assigned / task.completed

var taskTypes = []string{truce.TaskSiteVisit, truce.TaskImageryReview, truce.TaskInterviews, truce.TaskSourceReview}

func checkTask(t *truce.TaskAssignment) error {
	if !slices.Contains(taskTypes, t.Type) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.type", "must be one of %v", taskTypes)
	}
	if t.Due.IsZero() {
		return truce.FieldErrorf(truce.CodeBadTime, "body.due", "is required")
	}
	return text("body.description", t.Description, 5000, true)
}

func applyTask(s *State, c *applyCtx, body any) error {
	t := body.(*truce.TaskAssignment)
	cs, err := s.openCase("body.case", t.Case)
	if err != nil {
		return err
	}
	who, ok := s.members[t.Assignee]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.assignee", "no member %q", t.Assignee)
	}
	if !slices.Contains([]truce.Role{truce.RoleMonitor, truce.RoleAnalyst, truce.RoleMediator}, who.Role) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.assignee", "tasks go to monitors, analysts or mediators, not to a %s", who.Role)
	}
	if !t.Due.After(c.logged) || t.Due.After(c.logged.Add(365*24*time.Hour)) {
		return truce.FieldErrorf(truce.CodeBadTime, "body.due", "must be after now and within a year")
	}
	task := &truce.Task{ID: s.next(KindTaskAssigned).ID, TaskAssignment: *t, AssignedBy: c.author.ID, Assigned: c.logged,
		Status: truce.TaskAssigned, Deadline: truce.Deadline{Due: t.Due.UTC()}}
	task.Due = task.Deadline.Due
	s.tasks[task.ID] = task
	s.schedule(DueTask, task.ID, task.Deadline.Due)
	cs.Tasks = append(cs.Tasks, task.ID)
	c.touch(TypeTask, task.ID)
	c.touch(TypeCase, cs.ID)
	return nil
}

func checkTaskResult(r *truce.TaskResult) error {
	if err := text("body.result", r.Result, 20000, true); err != nil {
		return err
	}
	return checkRefs("body.evidence", r.Evidence)
}

func applyTaskResult(s *State, c *applyCtx, body any) error {
	r := body.(*truce.TaskResult)
	t, ok := s.tasks[r.Task]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.task", "no task %q", r.Task)
	}
	if err := mayComplete(t, c.author); err != nil {
		return err
	}
	if _, err := s.openCase("body.task", t.Case); err != nil {
		return err
	}
	if err := s.checkEvidence("body.evidence", r.Evidence); err != nil {
		return err
	}
	at := c.logged
	t.Status, t.Result, t.Evidence, t.Completed = truce.TaskDone, r.Result, r.Evidence, &at
	t.Deadline.Met = true
	c.touch(TypeTask, t.ID)
	return nil
}

// --- evidence.registered / evidence.custody

var (
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	refPattern    = regexp.MustCompile(`^[A-Z]{2}-[0-9]{4,}$`)
)

// checkRefs checks a list of record ids.
func checkRefs(field string, ids []string) error {
	if len(ids) > 100 {
		return truce.FieldErrorf(truce.CodeInvalid, field, "at most 100")
	}
	for i, id := range ids {
		if !refPattern.MatchString(id) {
			return truce.FieldErrorf(truce.CodeInvalid, fmt.Sprintf("%s[%d]", field, i), "%q is not a record id", id)
		}
	}
	return nil
}

// checkEvidence checks that evidence ids are registered.
func (s *State) checkEvidence(field string, ids []string) error {
	for i, id := range ids {
		if _, ok := s.evidence[id]; !ok {
			return truce.FieldErrorf(truce.CodeNotFound, fmt.Sprintf("%s[%d]", field, i), "no evidence %q", id)
		}
	}
	return nil
}

const maxEvidenceSize = 10 << 30

func checkEvidenceRegistration(e *truce.EvidenceRegistration) error {
	if !sha256Pattern.MatchString(e.SHA256) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.sha256", "must be 64 lowercase hex digits")
	}
	if mt, _, err := mime.ParseMediaType(e.MediaType); err != nil || mt != e.MediaType {
		return truce.FieldErrorf(truce.CodeInvalid, "body.media_type", "must be a media type such as image/jpeg")
	}
	if e.Size < 0 || e.Size > maxEvidenceSize {
		return truce.FieldErrorf(truce.CodeInvalid, "body.size", "must be between 0 and %d bytes", int64(maxEvidenceSize))
	}
	if e.CapturedAt.Before(earliest) {
		return truce.FieldErrorf(truce.CodeBadTime, "body.captured_at", "is missing or before %d", earliest.Year())
	}
	// A protected source's identity goes in the sealed part, not here.
	if err := text("body.captured_by", e.CapturedBy, 200, e.Sealed == nil); err != nil {
		return err
	}
	if err := checkVisibility("body.visibility", e.Visibility, truce.Internal, truce.Parties, truce.Public); err != nil {
		return err
	}
	if err := checkSealed("body.sealed", e.Sealed); err != nil {
		return err
	}
	if e.Place != nil {
		if err := checkPlace("body.place", *e.Place); err != nil {
			return err
		}
	}
	return text("body.description", e.Description, 5000, true)
}

func applyEvidence(s *State, c *applyCtx, body any) error {
	e := body.(*truce.EvidenceRegistration)
	if e.CapturedAt.After(c.logged.Add(MaxSkew)) {
		return truce.FieldErrorf(truce.CodeBadTime, "body.captured_at", "is in the future")
	}
	if id, dup := s.evidenceByHash[e.SHA256]; dup {
		return truce.FieldErrorf(truce.CodeConflict, "body.sha256", "this file is already registered as %s", id)
	}
	var cs *truce.Case
	if e.Case != "" {
		var err error
		if cs, err = s.openCase("body.case", e.Case); err != nil {
			return err
		}
	}
	if e.Allegation != "" {
		if _, ok := s.allegations[e.Allegation]; !ok {
			return truce.FieldErrorf(truce.CodeNotFound, "body.allegation", "no allegation %q", e.Allegation)
		}
	}
	ev := &truce.Evidence{ID: s.next(KindEvidenceRegistered).ID, EvidenceRegistration: *e, RegisteredBy: c.author.ID, Registered: c.logged,
		Custody: []truce.Custody{{Index: c.index, At: c.logged, By: c.author.ID, Action: "registered"}}}
	if ev.Visibility == "" {
		ev.Visibility = truce.Internal
	}
	s.evidence[ev.ID] = ev
	s.evidenceByHash[e.SHA256] = ev.ID
	c.touch(TypeEvidence, ev.ID)
	if cs != nil {
		cs.Evidence = append(cs.Evidence, ev.ID)
		c.touch(TypeCase, cs.ID)
	}
	return nil
}

var custodyActions = []string{"transferred", "received", "stored", "examined", "copied", "sealed", "returned"}

func checkCustody(e *truce.CustodyEvent) error {
	if !slices.Contains(custodyActions, e.Action) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.action", "must be one of %v", custodyActions)
	}
	return text("body.note", e.Note, 5000, false)
}

func applyCustody(s *State, c *applyCtx, body any) error {
	e := body.(*truce.CustodyEvent)
	ev, ok := s.evidence[e.Evidence]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.evidence", "no evidence %q", e.Evidence)
	}
	if e.To != "" {
		if _, ok := s.members[e.To]; !ok {
			return truce.FieldErrorf(truce.CodeNotFound, "body.to", "no member %q", e.To)
		}
	}
	if e.Action == "transferred" && e.To == "" {
		return truce.FieldErrorf(truce.CodeInvalid, "body.to", "a transfer names who received it")
	}
	ev.Custody = append(ev.Custody, truce.Custody{Index: c.index, At: c.logged, By: c.author.ID, Action: e.Action, To: e.To, Note: e.Note})
	c.touch(TypeEvidence, ev.ID)
	return nil
}
