package rules

import (
	"cmp"
	"container/heap"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
)

// KindTick is the system entry the sequencer appends when a deadline falls
// due: applying it marks everything due by its logged time as overdue, so
// the overdue set is in the log and replays exactly.
const KindTick = "tick"

// Tick is the body of a tick entry.
type Tick struct{}

// Deadline kinds.
const (
	DueReply        = "reply"        // an allegation's reply
	DueAdmission    = "admission"    // admission or rejection of an allegation
	DueVerification = "verification" // a case's finding
	DueTask         = "task"
	DueConsequence  = "consequence"
	DueCommitment   = "commitment"
)

// due is one deadline being tracked.
type due struct {
	at   time.Time
	kind string
	id   string
}

func (a due) compare(b due) int {
	return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.kind, b.kind), cmp.Compare(a.id, b.id))
}

// dueHeap orders deadlines by time, then kind and id, so that ties break
// the same way on every replay.
type dueHeap []due

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].compare(h[j]) < 0 }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (s *State) schedule(kind, id string, at time.Time) {
	heap.Push(&s.dues, due{at: at, kind: kind, id: id})
}

// deadline returns the deadline a tracked item points at, and whether it
// is still pending (not met, not overdue, not moot).
func (s *State) deadline(d due) (*truce.Deadline, bool) {
	switch d.kind {
	case DueReply:
		a := s.allegations[d.id]
		if a.Notice == nil || a.Reply != nil || a.Status == truce.AllegationRejected {
			return nil, false
		}
		return &a.Notice.Reply, !a.Notice.Reply.Overdue
	case DueAdmission:
		a := s.allegations[d.id]
		return &a.Admission, a.Status == truce.AllegationFiled && !a.Admission.Overdue
	case DueVerification:
		c := s.cases[d.id]
		return &c.Verification, c.Status == truce.CaseOpen && !c.Verification.Overdue
	case DueTask:
		t := s.tasks[d.id]
		return &t.Deadline, t.Status == truce.TaskAssigned && !t.Deadline.Overdue
	case DueConsequence:
		c := s.consequences[d.id]
		return &c.Deadline, c.Status == truce.ConsequenceOpen
	case DueCommitment:
		c := s.commitments[d.id]
		return &c.Deadline, c.Status == truce.CommitmentOpen && !c.Deadline.Overdue && c.Deadline.Due.Equal(d.at)
	}
	return nil, false
}

// NextDeadline returns the earliest pending deadline, if any. The
// sequencer appends a tick once log time reaches it.
func (s *State) NextDeadline() (time.Time, bool) {
	for len(s.dues) > 0 {
		if _, pending := s.deadline(s.dues[0]); pending {
			return s.dues[0].at, true
		}
		heap.Pop(&s.dues) // met or moot: forget it
	}
	return time.Time{}, false
}

func applyTick(s *State, c *applyCtx, _ any) error {
	if next, ok := s.NextDeadline(); !ok || next.After(c.logged) {
		return truce.Errorf(truce.CodeConflict, "nothing falls due by %s", c.logged.Format(time.RFC3339))
	}
	for len(s.dues) > 0 && !s.dues[0].at.After(c.logged) {
		d := heap.Pop(&s.dues).(due)
		dl, pending := s.deadline(d)
		if !pending {
			continue
		}
		dl.Overdue = true
		switch d.kind {
		case DueReply, DueAdmission:
			c.touch(TypeAllegation, d.id)
		case DueVerification:
			c.touch(TypeCase, d.id)
		case DueTask:
			c.touch(TypeTask, d.id)
		case DueConsequence:
			s.consequences[d.id].Status = truce.ConsequenceEscalated
			c.touch(TypeConsequence, d.id)
		case DueCommitment:
			c.touch(TypeCommitment, d.id)
		}
	}
	return nil
}

// Overdue is one overdue item.
type Overdue struct {
	Kind string    `json:"kind"` // one of the Due... constants
	ID   string    `json:"id"`   // the record it belongs to
	Due  time.Time `json:"due"`
}

// Ref is the record an overdue item belongs to.
func (o Overdue) Ref() Ref {
	switch o.Kind {
	case DueReply, DueAdmission:
		return Ref{Type: TypeAllegation, ID: o.ID}
	case DueVerification:
		return Ref{Type: TypeCase, ID: o.ID}
	case DueTask:
		return Ref{Type: TypeTask, ID: o.ID}
	case DueConsequence:
		return Ref{Type: TypeConsequence, ID: o.ID}
	}
	return Ref{Type: TypeCommitment, ID: o.ID}
}

// OverdueFor lists the overdue items whose records a reads.
func (s *State) OverdueFor(a *truce.Access) []Overdue {
	var out []Overdue
	for _, o := range s.Overdue() {
		if a.Sees(s.visibility(o.Ref())) {
			out = append(out, o)
		}
	}
	return out
}

// Overdue lists everything marked overdue, by due time, kind and id: the
// overdue set replay must reproduce.
func (s *State) Overdue() []Overdue {
	var out []Overdue
	add := func(kind, id string, d truce.Deadline) {
		if d.Overdue {
			out = append(out, Overdue{kind, id, d.Due})
		}
	}
	for _, id := range sortedKeys(s.allegations) {
		a := s.allegations[id]
		if a.Notice != nil {
			add(DueReply, id, a.Notice.Reply)
		}
		add(DueAdmission, id, a.Admission)
	}
	for _, id := range sortedKeys(s.cases) {
		add(DueVerification, id, s.cases[id].Verification)
	}
	for _, id := range sortedKeys(s.tasks) {
		add(DueTask, id, s.tasks[id].Deadline)
	}
	for _, id := range sortedKeys(s.consequences) {
		add(DueConsequence, id, s.consequences[id].Deadline)
	}
	for _, id := range sortedKeys(s.commitments) {
		add(DueCommitment, id, s.commitments[id].Deadline)
	}
	slices.SortFunc(out, func(a, b Overdue) int {
		return due{a.Due, a.Kind, a.ID}.compare(due{b.Due, b.Kind, b.ID})
	})
	return out
}
