package instance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

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

// LocalWitness is a witness to run beside the instance: its state in
// DIR/witnesses/<Dir>, its name.
type LocalWitness struct{ Dir, Name string }

// StartLocalWitnesses starts witnesses on loopback beside the instance
// (creating them on first use) and makes the instance need all of their
// cosignatures. Their ports change from run to run; their keys and state
// do not.
func (in *Instance) StartLocalWitnesses(ctx context.Context, ws []LocalWitness, logger *slog.Logger) (stop func(), err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var running []*witness.Local
	stop = func() {
		for _, l := range running {
			l.Close()
		}
	}
	p := witness.Policy{Quorum: len(ws)}
	for _, w := range ws {
		l, err := witness.StartLocal(ctx, filepath.Join(in.Dir, "witnesses", w.Dir), w.Name, in.VKey, logger.With("witness", w.Name))
		if err != nil {
			stop()
			return nil, err
		}
		running = append(running, l)
		p.Peers = append(p.Peers, l.Peer)
	}
	if err := in.SetWitnessPolicy(ctx, p); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}
