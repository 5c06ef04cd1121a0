package instance

import (
	"context"
	"errors"
	"fmt"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/custody"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
)

// checkKeys refuses, once the log is loaded and before anything is
// sequenced, a system key or a custody key in the data directory that is
// not the instance's, as open refuses such a log key. Each process over a
// PostgreSQL database has its own copy of DIR/keys, and a copy can be
// wrong (taken from another instance, or left by an init the database
// refused): with another system key every system entry would be refused
// (deadlines never marked), and with another custody key the custodial
// keys and webhook secrets the process kept would open in no other
// process, nor the ones they kept in it.
func (in *Instance) checkKeys(ctx context.Context, sys *entry.PrivateKey) func(*rules.Snapshot) error {
	return func(snap *rules.Snapshot) error {
		if snap.Instance == nil {
			return nil // a log not begun (init)
		}
		m, _ := snap.Member(truce.SystemAuthor)
		if !activeKey(m, sys.ID()) {
			return fmt.Errorf("%s is not a key of the log's system author (%s): the data directory's keys are not this instance's", SystemKeyFile, sys.ID())
		}
		// One custodial key the database holds tells whether the custody key
		// is the one that sealed them.
		for _, m := range snap.Members() {
			for _, k := range m.Keys {
				if !k.Custodial || k.Revoked != 0 {
					continue
				}
				_, err := in.Vault.Key(ctx, k.ID)
				if errors.Is(err, custody.ErrNoKey) {
					continue
				}
				if err != nil {
					return fmt.Errorf("%s does not open the custodial key %s the database holds (%v): the data directory's keys are not this instance's", CustodyKeyFile, k.ID, err)
				}
				return nil
			}
		}
		return nil
	}
}

func activeKey(m truce.Member, id string) bool {
	for _, k := range m.Keys {
		if k.ID == id && k.Revoked == 0 {
			return true
		}
	}
	return false
}
