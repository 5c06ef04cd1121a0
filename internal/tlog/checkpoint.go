package tlog

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a tlog-checkpoint body.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   Hash
}

// GenerateLogKey makes an Ed25519 signed-note key pair named origin.
func GenerateLogKey(origin string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, origin)
}

// VerifierKey returns the signed-note verifier key for an Ed25519 key.
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	return note.NewEd25519VerifierKey(name, pub)
}

// SignCheckpoint returns the signed note of c.
func SignCheckpoint(c Checkpoint, signer note.Signer) ([]byte, error) {
	if signer.Name() != c.Origin {
		return nil, fmt.Errorf("checkpoint key is named %q, origin is %q", signer.Name(), c.Origin)
	}
	body := log.Checkpoint{Origin: c.Origin, Size: uint64(c.Size), Hash: c.Root[:]}.Marshal()
	return note.Sign(&note.Note{Text: string(body)}, signer)
}

// OpenCheckpoint verifies a signed checkpoint for origin with the log's
// verifier and returns its body. Signatures by other keys (witnesses) are
// ignored here.
func OpenCheckpoint(signed []byte, origin string, v note.Verifier) (Checkpoint, error) {
	cp, _, _, err := log.ParseCheckpoint(signed, origin, v)
	if err != nil {
		return Checkpoint{}, err
	}
	if len(cp.Hash) != sumtlog.HashSize || cp.Size > 1<<62 {
		return Checkpoint{}, fmt.Errorf("checkpoint has a malformed root or size")
	}
	return Checkpoint{Origin: cp.Origin, Size: int64(cp.Size), Root: Hash(cp.Hash)}, nil
}

// HashReader returns a reader of the stored hashes of any tree no larger
// than the tiles tr holds. The tiles are trusted: this is for the log
// itself, serving proofs from its own store. Verifiers recompute instead.
func HashReader(ctx context.Context, tr TileReader) sumtlog.HashReader {
	return sumtlog.HashReaderFunc(func(indexes []int64) ([]Hash, error) {
		out := make([]Hash, len(indexes))
		for i, idx := range indexes {
			tile := sumtlog.TileForIndex(TileHeight, idx)
			data, err := tr.ReadTile(ctx, tile.L, tile.N)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", TilePath(tile), err)
			}
			if out[i], err = sumtlog.HashFromTile(tile, data, idx); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// InclusionProof proves leaf index is in the tree of the given size.
func InclusionProof(ctx context.Context, tr TileReader, index, size int64) ([]Hash, error) {
	if index < 0 || index >= size {
		return nil, fmt.Errorf("index %d is not in a tree of size %d", index, size)
	}
	return sumtlog.ProveRecord(size, index, HashReader(ctx, tr))
}

// ConsistencyProof proves the tree of size old is a prefix of the tree of
// the given size.
func ConsistencyProof(ctx context.Context, tr TileReader, old, size int64) ([]Hash, error) {
	if old < 1 || old > size {
		return nil, fmt.Errorf("no consistency proof from size %d to %d", old, size)
	}
	return sumtlog.ProveTree(size, old, HashReader(ctx, tr))
}

// RootAt returns the root of the tree of the given size.
func RootAt(ctx context.Context, tr TileReader, size int64) (Hash, error) {
	return sumtlog.TreeHash(size, HashReader(ctx, tr))
}
