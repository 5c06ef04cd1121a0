package read

import (
	"context"
	"errors"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/tlog"
	"github.com/truce-mvm/truce/internal/wire"
	"github.com/truce-mvm/truce/internal/witness"
)

// Health says whether the server is ready: the log loaded and accepting
// entries, and the store able to take them.
func (s *Service) Health(ctx context.Context, v policy.Viewer) (*wire.Health, error) {
	if err := s.check(v, policy.Health); err != nil {
		return nil, err
	}
	if err := s.cfg.Seq.Err(); err != nil {
		return nil, truce.Errorf(truce.CodeUnavailable, "the log is not accepting entries: %v", err)
	}
	if err := s.cfg.Store.Writable(ctx); err != nil {
		if truce.ErrorCode(err) == truce.CodeNoSpace {
			return nil, truce.Errorf(truce.CodeUnavailable, "the store cannot be written: %s", truce.ErrorMessage(err))
		}
		return nil, err
	}
	snap := s.cfg.Seq.Snapshot()
	return &wire.Health{Status: "ok", Origin: s.cfg.Seq.Origin(), Size: snap.Size, Rules: snap.Rules}, nil
}

// published is the newest published checkpoint: with witnesses, the
// newest enough of them cosigned; without, the newest the log signed.
func (s *Service) published() (int64, []byte) {
	if s.cfg.Witnesses != nil {
		if p := s.cfg.Witnesses.Published(); p != nil {
			return p.Size, p.Note
		}
		return 0, nil
	}
	if cp := s.cfg.Seq.Checkpoint(); cp != nil {
		return cp.Size, cp.Signed
	}
	return 0, nil
}

// Published is the newest published checkpoint and the size it covers;
// before there is one, an error that says why.
func (s *Service) Published(v policy.Viewer) (int64, []byte, error) {
	if err := s.check(v, policy.LogCheckpoint); err != nil {
		return 0, nil, err
	}
	size, note := s.published()
	if note == nil && s.cfg.Witnesses != nil {
		return 0, nil, truce.Errorf(truce.CodeUnavailable, "no checkpoint has been cosigned by %d witnesses yet", s.cfg.Witnesses.Policy().Quorum)
	}
	if note == nil {
		return 0, nil, truce.Errorf(truce.CodeNotFound, "no checkpoint yet")
	}
	return size, note, nil
}

// VKey is the checkpoint verifier key.
func (s *Service) VKey(v policy.Viewer) (string, error) {
	if err := s.check(v, policy.LogCheckpoint); err != nil {
		return "", err
	}
	return s.cfg.VKey, nil
}

// Witnesses are the witnesses that cosign checkpoints and how many must.
func (s *Service) Witnesses(v policy.Viewer) (witness.Policy, error) {
	if err := s.check(v, policy.LogCheckpoint); err != nil {
		return witness.Policy{}, err
	}
	if s.cfg.Witnesses == nil {
		return witness.Policy{Peers: []witness.Peer{}}, nil
	}
	return s.cfg.Witnesses.Policy(), nil
}

// Tile reads a hash tile or entry bundle by its tlog-tiles path
// ("tile/0/000", "tile/entries/001.p/7"), trimmed to the width asked.
func (s *Service) Tile(ctx context.Context, v policy.Viewer, path string) (tlog.Tile, []byte, error) {
	if err := s.check(v, policy.LogRead); err != nil {
		return tlog.Tile{}, nil, err
	}
	t, err := tlog.ParseTilePath(path)
	if err != nil {
		return t, nil, truce.Errorf(truce.CodeNotFound, "%v", err)
	}
	data, err := s.cfg.Seq.Tiles().ReadTile(ctx, t.L, t.N)
	if err == nil {
		data, err = tlog.TrimTile(t, data)
	}
	if errors.Is(err, tlog.ErrNotFound) {
		return t, nil, truce.Errorf(truce.CodeNotFound, "%s is not in the log", path)
	}
	return t, data, err
}

// signedSize checks that size is covered by the newest checkpoint, so
// every proof served is against a signed tree.
func (s *Service) signedSize(size int64) error {
	newest := int64(0)
	if cp := s.cfg.Seq.Checkpoint(); cp != nil {
		newest = cp.Size
	}
	if size > newest {
		return truce.FieldErrorf(truce.CodeInvalid, "size", "%d is beyond the newest checkpoint (%d)", size, newest)
	}
	return nil
}

// InclusionProof proves the entry at index is in the tree of size size.
func (s *Service) InclusionProof(ctx context.Context, v policy.Viewer, index, size int64) ([]tlog.Hash, error) {
	if err := s.check(v, policy.LogRead); err != nil {
		return nil, err
	}
	if err := s.signedSize(size); err != nil {
		return nil, err
	}
	if index < 0 || index >= size {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "index", "%d is not in a tree of size %d", index, size)
	}
	return tlog.InclusionProof(ctx, s.cfg.Seq.Tiles(), index, size)
}

// ConsistencyProof proves the tree of size old is a prefix of the tree of
// size size.
func (s *Service) ConsistencyProof(ctx context.Context, v policy.Viewer, old, size int64) ([]tlog.Hash, error) {
	if err := s.check(v, policy.LogRead); err != nil {
		return nil, err
	}
	if err := s.signedSize(size); err != nil {
		return nil, err
	}
	if old < 1 || old > size {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "old", "must be between 1 and size (%d)", size)
	}
	return tlog.ConsistencyProof(ctx, s.cfg.Seq.Tiles(), old, size)
}

// Origin is the log's origin: what every entry signed for it names.
func (s *Service) Origin() string { return s.cfg.Seq.Origin() }

// Members lists the registered members as the log stands; for pages that
// the policy has already admitted (the administrator's).
func (s *Service) Members() []truce.Member { return s.cfg.Seq.Snapshot().Members() }
