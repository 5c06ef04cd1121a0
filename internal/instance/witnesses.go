package instance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/witness"
)

// MetaWitnesses holds the witness policy, JSON.
const MetaWitnesses = "witnesses"

// WitnessPolicy returns which witnesses must cosign the instance's
// checkpoints; the zero policy if none are configured.
func (in *Instance) WitnessPolicy(ctx context.Context) (witness.Policy, error) {
	var p witness.Policy
	v, err := in.Store.Meta(ctx, MetaWitnesses)
	if errors.Is(err, store.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return p, err
	}
	return p, p.Check()
}

// SetWitnessPolicy checks and stores the witness policy. A serving
// process reads it when it starts.
func (in *Instance) SetWitnessPolicy(ctx context.Context, p witness.Policy) error {
	if err := p.Check(); err != nil {
		return err
	}
	for _, w := range p.Peers {
		if w.Name == in.Origin {
			return fmt.Errorf("%s is the log's own key, not a witness's", w.VKey)
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return in.Store.SetMeta(ctx, MetaWitnesses, string(b))
}

// Publisher returns a publisher of the instance's checkpoints to its
// witnesses, or nil if it has none. The caller runs it.
func (in *Instance) Publisher(ctx context.Context, logger *slog.Logger) (*witness.Publisher, error) {
	p, err := in.WitnessPolicy(ctx)
	if err != nil || len(p.Peers) == 0 {
		return nil, err
	}
	return witness.NewPublisher(ctx, witness.PublisherConfig{
		Policy: p,
		Latest: func() (int64, []byte, <-chan struct{}) {
			cp := in.Seq.Checkpoint()
			if cp == nil {
				return 0, nil, nil
			}
			return cp.Size, cp.Signed, cp.Superseded()
		},
		Tiles:  in.Seq.Tiles(),
		Store:  in.Store,
		Logger: logger,
	})
}
