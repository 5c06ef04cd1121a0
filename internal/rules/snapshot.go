package rules

import (
	"maps"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
)

// Snapshot is what the state holds beyond the stored projections — members
// and their keys, each author's last seq, the overdue set — as the log
// stood after a batch was committed. It never changes once built: the
// sequencer validates against its working state and publishes a new
// Snapshot after each commit, so that nothing a batch did is seen before
// it is durable, nor after the batch failed.
type Snapshot struct {
	Size     int64     // entries committed
	Logged   time.Time // logged time of the last of them
	Instance *Instance
	Rules    int // the version of the rules in force

	members   map[string]truce.Member // each with its own copy of Keys
	keyAdded  map[string]int64        // key id → index of the entry that added it
	custodial map[string]string       // member → active custodial key id
	seqs      map[string]uint64
	overdue   []overdueItem
}

// overdueItem is an overdue item with who may read its record.
type overdueItem struct {
	Overdue
	visibility truce.Visibility
	owner      string
}

// Snapshot returns the state as a Snapshot. prev, if not nil, is the
// snapshot of the state before the entries that applied (in order); what
// they cannot have changed is shared with it rather than copied.
func (s *State) Snapshot(prev *Snapshot, applied []*Applied) *Snapshot {
	out := &Snapshot{Size: s.Size, Logged: s.Logged, Instance: s.Instance, Rules: s.Rules}
	rebuildMembers, rebuildOverdue := prev == nil, prev == nil
	for _, a := range applied {
		for _, ref := range a.Touched {
			switch ref.Type {
			case TypeMember:
				rebuildMembers = true
			case TypeCommitment, TypeAgreement: // amendments may reset deadlines
				rebuildOverdue = true
			}
		}
		rebuildOverdue = rebuildOverdue || a.Kind == KindTick // only ticks mark items overdue
	}
	if rebuildMembers {
		out.members = make(map[string]truce.Member, len(s.members))
		out.keyAdded, out.custodial = map[string]int64{}, map[string]string{}
		for id, m := range s.members {
			c := *m
			c.Keys = slices.Clone(m.Keys)
			out.members[id] = c
			for _, k := range c.Keys {
				out.keyAdded[k.ID] = k.Added
			}
		}
		for id := range s.members {
			if k, ok := s.CustodialKey(id); ok {
				out.custodial[id] = k
			}
		}
	} else {
		out.members, out.keyAdded, out.custodial = prev.members, prev.keyAdded, prev.custodial
	}
	if rebuildOverdue {
		for _, o := range s.Overdue() {
			vis, owner := s.visibility(o.Ref())
			out.overdue = append(out.overdue, overdueItem{o, vis, owner})
		}
	} else {
		out.overdue = prev.overdue
	}
	if prev == nil || len(applied) > 0 {
		out.seqs = maps.Clone(s.seqs)
	} else {
		out.seqs = prev.seqs
	}
	return out
}

// Member returns a registered member.
func (s *Snapshot) Member(id string) (truce.Member, bool) {
	m, ok := s.members[id]
	m.Keys = slices.Clone(m.Keys)
	return m, ok
}

// Members lists the registered members, by id.
func (s *Snapshot) Members() []truce.Member {
	ids := slices.Sorted(maps.Keys(s.members))
	out := make([]truce.Member, len(ids))
	for i, id := range ids {
		out[i], _ = s.Member(id)
	}
	return out
}

// Seq returns the last seq an author used.
func (s *Snapshot) Seq(author string) uint64 { return s.seqs[author] }

// CustodialKey returns the id of a member's active custodial key, if any.
func (s *Snapshot) CustodialKey(member string) (string, bool) {
	k, ok := s.custodial[member]
	return k, ok
}

// KeyAdded returns the log index of the entry that added a key.
func (s *Snapshot) KeyAdded(keyID string) (int64, bool) {
	i, ok := s.keyAdded[keyID]
	return i, ok
}

// OverdueFor lists the overdue items whose records a reader with access a
// may read, by due time, kind and id.
func (s *Snapshot) OverdueFor(a *truce.Access) []Overdue {
	out := []Overdue{}
	for _, o := range s.overdue {
		if a.Sees(o.visibility, o.owner) {
			out = append(out, o.Overdue)
		}
	}
	return out
}
