package truce

import "time"

// The workflow's records, from an allegation to the consequence of its
// finding (docs/log-format.md lists the entry kinds). Bodies of entries are the ...Filing/...Body types;
// the rest are projections.

// Reply responses.
const (
	ReplyAdmit     = "admit"     // the accused admits the violation
	ReplyDeny      = "deny"      // it did not happen, or not by us
	ReplyContest   = "contest"   // the facts are wrong
	ReplyAttribute = "attribute" // a third party did it
	ReplyDecline   = "decline"   // no comment
)

// Reply is the accused party's answer to an allegation.
type Reply struct {
	Allegation string   `json:"allegation"`
	Response   string   `json:"response"`
	ThirdParty string   `json:"third_party,omitempty"` // for attribute
	Narrative  string   `json:"narrative"`
	Evidence   []string `json:"evidence,omitempty"` // evidence ids
}

// Rejection grounds.
const (
	RejectOutOfScope = "out_of_scope"
	RejectDuplicate  = "duplicate"
	RejectUnfounded  = "unfounded"
)

// Admission is the body of allegation.admitted: a mediator's decision to
// verify an allegation.
type Admission struct {
	Allegation string `json:"allegation"`
	Note       string `json:"note,omitempty"`
}

// Rejection is the body of allegation.rejected.
type Rejection struct {
	Allegation  string `json:"allegation"`
	Grounds     string `json:"grounds"`
	DuplicateOf string `json:"duplicate_of,omitempty"` // for a duplicate
	Note        string `json:"note,omitempty"`
}

// Allegation statuses.
const (
	AllegationAdmitted = "admitted" // to be verified
	AllegationRejected = "rejected"
	AllegationInCase   = "in_case"
	AllegationDecided  = "decided" // a finding on it is in effect
)

// Deadline is something due at a log time; Overdue is set by the tick that
// found it past due.
type Deadline struct {
	Due     time.Time `json:"due"`
	Met     bool      `json:"met,omitempty"`
	Overdue bool      `json:"overdue,omitempty"`
}

// Notice is the automatic notice to the accused party.
type Notice struct {
	To    string    `json:"to"`
	At    time.Time `json:"at"`
	Reply Deadline  `json:"reply"`
}

// Case opening.
type CaseOpening struct {
	Allegation string `json:"allegation"`
	Title      string `json:"title"`
}

// Case statuses.
const (
	CaseOpen   = "open"
	CaseClosed = "closed"
)

// Case is a verification case on an admitted allegation.
type Case struct {
	ID           string    `json:"id"`
	Allegation   string    `json:"allegation"`
	Title        string    `json:"title"`
	OpenedBy     string    `json:"opened_by"`
	Opened       time.Time `json:"opened"`
	Status       string    `json:"status"`
	Verification Deadline  `json:"verification"`
	Tasks        []string  `json:"tasks,omitempty"`
	Evidence     []string  `json:"evidence,omitempty"`
	Findings     []string  `json:"findings,omitempty"`
	Filer        string    `json:"filer"`   // party codes, for lists
	Accused      string    `json:"accused"` //
	Exercise     bool      `json:"exercise,omitempty"`
	Links        []Link    `json:"links,omitempty"` // open-source reports tied to it
}

// Task types.
const (
	TaskSiteVisit     = "site_visit"
	TaskImageryReview = "imagery_review"
	TaskInterviews    = "interviews"
	TaskSourceReview  = "source_review"
)

// TaskAssignment is the body of task.assigned.
type TaskAssignment struct {
	Case        string    `json:"case"`
	Type        string    `json:"type"`
	Assignee    string    `json:"assignee"` // member id
	Due         time.Time `json:"due"`
	Description string    `json:"description"`
}

// TaskResult is the body of task.completed.
type TaskResult struct {
	Task     string   `json:"task"`
	Result   string   `json:"result"`
	Evidence []string `json:"evidence,omitempty"`
}

// Task statuses.
const (
	TaskAssigned = "assigned"
	TaskDone     = "done"
)

// Task is a piece of verification work.
type Task struct {
	ID string `json:"id"`
	TaskAssignment
	AssignedBy string     `json:"assigned_by"`
	Assigned   time.Time  `json:"assigned"`
	Status     string     `json:"status"`
	Deadline   Deadline   `json:"deadline"`
	Result     string     `json:"result,omitempty"`
	Evidence   []string   `json:"evidence,omitempty"`
	Completed  *time.Time `json:"completed,omitempty"`
}

// EvidenceRegistration is the body of evidence.registered: a content-
// addressed file (Berkeley Protocol: hash on capture, then custody).
type EvidenceRegistration struct {
	SHA256      string    `json:"sha256"` // hex
	MediaType   string    `json:"media_type"`
	Size        int64     `json:"size"`
	CapturedBy  string    `json:"captured_by"` // who captured it (may be outside the mechanism)
	CapturedAt  time.Time `json:"captured_at"`
	Place       *Place    `json:"place,omitempty"`
	Description string    `json:"description"`
	Case        string    `json:"case,omitempty"`
	Allegation  string    `json:"allegation,omitempty"`
	// Visibility is Internal (the default: the mechanism and the
	// registering party) or Parties or Public.
	Visibility Visibility `json:"visibility,omitempty"`
	// Sealed commits to what must stay out of the log, such as the identity
	// of a protected source; CapturedBy then may be left empty.
	Sealed *Sealed `json:"sealed,omitempty"`
}

// CustodyEvent is the body of evidence.custody.
type CustodyEvent struct {
	Evidence string `json:"evidence"`
	Action   string `json:"action"` // transferred, received, stored, examined, sealed, copied
	To       string `json:"to,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Custody is one link of an evidence item's chain of custody.
type Custody struct {
	Index  int64     `json:"index"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"`
	To     string    `json:"to,omitempty"`
	Note   string    `json:"note,omitempty"`
}

// Evidence is a registered evidence item.
type Evidence struct {
	ID string `json:"id"`
	EvidenceRegistration
	RegisteredBy string    `json:"registered_by"`
	Registered   time.Time `json:"registered"`
	Custody      []Custody `json:"custody"`
}

// Finding determinations.
const (
	DeterminationViolation    = "violation"           // violation confirmed
	DeterminationNotConfirmed = "not_confirmed"       // not confirmed for lack of evidence
	DeterminationNoViolation  = "no_violation"        //
	DeterminationNonParty     = "non_party_violation" // by a non-party armed group
)

// Host responsibility under the territory clause, for non-party violations.
const (
	HostFailedToPrevent = "failed_to_prevent"
	HostNotResponsible  = "not_responsible"
	HostUndetermined    = "undetermined"
)

// Severities and confidences.
const (
	SeverityMinor   = "minor"
	SeveritySerious = "serious"
	SeverityGrave   = "grave"
)

// FindingProposal is the body of finding.proposed.
type FindingProposal struct {
	Case               string   `json:"case"`
	Determination      string   `json:"determination"`
	Responsible        string   `json:"responsible,omitempty"` // party code
	Group              string   `json:"group,omitempty"`       // for non-party violations
	HostResponsibility string   `json:"host_responsibility,omitempty"`
	Clauses            []string `json:"clauses,omitempty"`
	Severity           string   `json:"severity,omitempty"`
	Confidence         string   `json:"confidence"` // low, medium, high
	Reasoning          string   `json:"reasoning"`
	Evidence           []string `json:"evidence,omitempty"`
}

// FindingSignature is the body of finding.signed.
type FindingSignature struct {
	Finding string `json:"finding"`
	Concur  bool   `json:"concur"` // false records dissent
	Note    string `json:"note,omitempty"`
}

// Signature is a mediator's signature on a finding.
type Signature struct {
	Member   string    `json:"member"`
	Mediator string    `json:"mediator"` // mediator code
	Concur   bool      `json:"concur"`
	Note     string    `json:"note,omitempty"`
	Index    int64     `json:"index"`
	At       time.Time `json:"at"`
}

// FindingObjection is the body of finding.objected.
type FindingObjection struct {
	Finding string `json:"finding"`
	Grounds string `json:"grounds"`
}

// Objection is a party's objection to a finding.
type Objection struct {
	Party   string    `json:"party"`
	Member  string    `json:"member"`
	Grounds string    `json:"grounds"`
	Index   int64     `json:"index"`
	At      time.Time `json:"at"`
}

// Finding statuses.
const (
	FindingProposed = "proposed"
	FindingInEffect = "in_effect"
	FindingFailed   = "failed" // dissent made the quorum unreachable
)

// Finding is a proposed or adopted finding.
type Finding struct {
	ID string `json:"id"`
	FindingProposal
	Allegation   string      `json:"allegation"`
	Category     string      `json:"category"`
	ProposedBy   string      `json:"proposed_by"`
	Proposed     time.Time   `json:"proposed"`
	Status       string      `json:"status"`
	Quorum       int         `json:"quorum"`
	Signatures   []Signature `json:"signatures"`
	Effective    *time.Time  `json:"effective,omitempty"`
	Objections   []Objection `json:"objections,omitempty"`
	Consequences []string    `json:"consequences,omitempty"`
	// RuleErrors lists consequence rules that could not be evaluated for
	// this finding (and so did not apply).
	RuleErrors []string `json:"rule_errors,omitempty"`
	Exercise   bool     `json:"exercise,omitempty"`
}

// Consequence actions a rule may take.
const (
	ActionFormalNotice     = "formal_notice"
	ActionEmergencySession = "emergency_session"
	ActionReferral         = "referral_to_guarantors"
	ActionInvestigation    = "investigation_demand"
	ActionOther            = "other"
)

// ConsequenceRule is an agreement rule: when the condition (CEL, over
// finding and history) holds for a finding that takes effect, the action
// is due from the target within the deadline.
type ConsequenceRule struct {
	ID       string   `json:"id" yaml:"id"`
	Title    string   `json:"title" yaml:"title"`
	When     string   `json:"when" yaml:"when"`
	Action   string   `json:"action" yaml:"action"`
	Target   string   `json:"target" yaml:"target"` // "responsible", "mediators", "guarantors" or a party code
	Deadline Duration `json:"deadline" yaml:"deadline"`
	Text     string   `json:"text,omitempty" yaml:"text,omitempty"`
}

// Consequence statuses.
const (
	ConsequenceOpen      = "open"
	ConsequenceFulfilled = "fulfilled"
	ConsequenceWaived    = "waived"
	ConsequenceEscalated = "escalated" // not fulfilled when due
)

// ConsequenceDecision is the body of consequence.fulfilled and
// consequence.waived.
type ConsequenceDecision struct {
	Consequence string `json:"consequence"`
	Note        string `json:"note"` // the reasons, for a waiver
}

// Consequence is what a rule made of a finding.
type Consequence struct {
	ID       string     `json:"id"`
	Finding  string     `json:"finding"`
	Rule     string     `json:"rule"`
	Title    string     `json:"title"`
	Action   string     `json:"action"`
	Target   string     `json:"target"`
	Text     string     `json:"text,omitempty"`
	Created  time.Time  `json:"created"`
	Deadline Deadline   `json:"deadline"`
	Status   string     `json:"status"`
	Note     string     `json:"note,omitempty"`
	Resolved *time.Time `json:"resolved,omitempty"`
	Exercise bool       `json:"exercise,omitempty"`
}

// TalksRound is a round of talks and what it committed the sides to.
type TalksRound struct {
	ID          string       `json:"id" yaml:"id"`
	Name        string       `json:"name" yaml:"name"`
	Place       string       `json:"place" yaml:"place"`
	From        time.Time    `json:"from" yaml:"from"`
	To          time.Time    `json:"to" yaml:"to"`
	Commitments []Commitment `json:"commitments,omitempty" yaml:"commitments,omitempty"`
}

// Commitment statuses.
const (
	CommitmentOpen = "open"
	CommitmentDone = "done"
)

// Commitment is a promise made in talks, with who owes it and by when.
type Commitment struct {
	ID    string    `json:"id" yaml:"id"`
	Text  string    `json:"text" yaml:"text"`
	Owner string    `json:"owner" yaml:"owner"` // party or mediator code, or MECH
	Due   time.Time `json:"due" yaml:"due"`
}

// CommitmentUpdate is the body of commitment.updated.
type CommitmentUpdate struct {
	Commitment string `json:"commitment"`
	Status     string `json:"status"` // open or done
	Note       string `json:"note,omitempty"`
}

// CommitmentRecord is a commitment as tracked.
type CommitmentRecord struct {
	Commitment
	Round    string   `json:"round"`
	Status   string   `json:"status"`
	Deadline Deadline `json:"deadline"`
	Note     string   `json:"note,omitempty"`
}

// AmendmentProposal is the body of amendment.proposed: the agreement as
// it would read, and why.
type AmendmentProposal struct {
	Summary   string    `json:"summary"`
	Agreement Agreement `json:"agreement"`
}

// AmendmentSignature is the body of amendment.signed.
type AmendmentSignature struct {
	Amendment string `json:"amendment"`
}

// Amendment statuses.
const (
	AmendmentProposed = "proposed"
	AmendmentInEffect = "in_effect"
	AmendmentLapsed   = "lapsed" // another amendment took effect first
)

// Amendment is a proposed change to the agreement.
type Amendment struct {
	ID         string    `json:"id"`
	Summary    string    `json:"summary"`
	ProposedBy string    `json:"proposed_by"`
	Proposed   time.Time `json:"proposed"`
	Base       int       `json:"base"` // the agreement version it amends
	Agreement  Agreement `json:"agreement"`
	// SignedBy maps each signatory code (parties and mediators) to the
	// member who signed for it.
	SignedBy  map[string]string `json:"signed_by"`
	Needed    []string          `json:"needed"`
	Status    string            `json:"status"`
	Effective *time.Time        `json:"effective,omitempty"`
}
