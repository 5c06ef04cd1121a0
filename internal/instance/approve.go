package instance

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
)

// ApprovePending approves the pending keys of the parties' members as an
// exercise or test instance's enrolment does, signing with keys, the
// members' own: each party's first key by a quorum of the agreement's
// mediators, the member's other keys by the member with that first key.
// A real instance's parties and mediators approve with truce approve-key.
func (in *Instance) ApprovePending(ctx context.Context, keys map[string]*entry.PrivateKey, now func() time.Time) error {
	sign := func(author, member, keyID string) error {
		k, ok := keys[author]
		if !ok {
			return fmt.Errorf("no key for %s to approve %s's key", author, member)
		}
		env, err := sequencer.Sign(rules.KindKeyApproved, in.Origin, author, in.Seq.Snapshot().Seq(author)+1, now(),
			rules.KeyApproval{Member: member, Key: keyID}, k)
		if err != nil {
			return err
		}
		_, err = in.Seq.Submit(ctx, env, nil, nil)
		return err
	}
	rec, err := in.Store.Record(ctx, rules.TypeAgreement, "current")
	if err != nil {
		return err
	}
	var ag truce.Agreement
	if err := json.Unmarshal(rec.Doc, &ag); err != nil {
		return err
	}
	snap := in.Seq.Snapshot()
	var mediators []truce.Member
	for _, m := range snap.Members() {
		if m.Role == truce.RoleMediator {
			mediators = append(mediators, m)
		}
	}
	enroller := map[string]string{} // by party: the member whose key its mediators approved
	for _, m := range snap.Members() {
		for _, k := range m.Keys {
			if !k.Pending {
				continue
			}
			if by, ok := enroller[m.Party]; ok { // the party approves its own
				if err := sign(by, m.ID, k.ID); err != nil {
					return err
				}
				continue
			}
			if _, own := keys[m.ID]; !own || k.Custodial {
				continue // the mediators enrol a party by a key its member holds
			}
			states := map[string]bool{}
			for _, med := range mediators {
				if len(states) == ag.Quorum || states[med.Party] {
					continue
				}
				if err := sign(med.ID, m.ID, k.ID); err != nil {
					return err
				}
				states[med.Party] = true
			}
			enroller[m.Party] = m.ID
		}
	}
	// Keys passed over before their party was enrolled.
	for _, m := range in.Seq.Snapshot().Members() {
		for _, k := range m.Keys {
			if by, ok := enroller[m.Party]; ok && k.Pending {
				if err := sign(by, m.ID, k.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
