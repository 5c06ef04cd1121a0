// Package store defines what a Truce database keeps and the contract every
// implementation meets: the log (hash tiles, entry bundles, checkpoints) and
// the projections derived from it live in one database, and Append commits a
// batch of both in one transaction, so that a crash leaves either all of a
// batch or none of it.
//
// Implementations live in subpackages; storetest is the conformance suite
// they all run.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/tlog"
)

// ErrNotFound is returned for absent records, tokens and meta keys. For
// tiles it is tlog.ErrNotFound.
var ErrNotFound = errors.New("not found")

// ErrSchema is returned by Open when the database needs migrating.
var ErrSchema = errors.New("database schema is older than this build")

// Batch is what one sequencer batch commits.
type Batch struct {
	// Start is the tree size the batch extends, which must be the stored
	// size; Size and Root describe the tree after it.
	Start, Size int64
	Root        tlog.Hash
	// Checkpoint, if not nil, is signed for Size. Checkpoints are signed at
	// most a few times a second, so most batches carry none.
	Checkpoint []byte
	// Tiles are hash tiles (L ≥ 0) at their new width; Bundles are entry
	// bundles (L = -1) at their new width with BundleFrom the number of bytes
	// of each that are already stored.
	Tiles      []tlog.TileData
	Bundles    []tlog.TileData
	BundleFrom []int
	Records    []truce.Record
	History    []truce.HistoryItem
}

// Token is an API bearer token. Only its SHA-256 hash is stored.
type Token struct {
	Hash    []byte
	Member  string
	Created time.Time
	Expires time.Time // zero: no expiry
	Revoked bool
}

// Store is a Truce database.
type Store interface {
	// ReadTile returns the hash tile (level ≥ 0) or entry bundle (level -1)
	// number n at the widest width stored, or tlog.ErrNotFound.
	ReadTile(ctx context.Context, level int, n int64) ([]byte, error)
	// Tree returns the size and root of the committed tree (0 and the
	// empty root's zero value for an empty log).
	Tree(ctx context.Context) (int64, tlog.Hash, error)
	// Checkpoint returns the newest checkpoint and its tree size; nil and 0
	// if none was stored.
	Checkpoint(ctx context.Context) ([]byte, int64, error)
	// AddCheckpoint stores a checkpoint for a committed tree size larger
	// than the newest checkpoint's.
	AddCheckpoint(ctx context.Context, size int64, signed []byte) error
	// Checkpoints calls fn for every stored checkpoint in size order.
	Checkpoints(ctx context.Context, fn func(size int64, signed []byte) error) error
	// Append commits b atomically. b.Start must be the committed size and
	// b.Size larger: a store never goes back.
	Append(ctx context.Context, b *Batch) error

	// Record returns one record, or ErrNotFound.
	Record(ctx context.Context, typ, id string) (*truce.Record, error)
	// Records lists records matching q, newest first.
	Records(ctx context.Context, q truce.Query) ([]truce.Record, error)
	// History lists the entries that touched a record, in log order.
	History(ctx context.Context, typ, id string) ([]truce.HistoryItem, error)
	// EachRecord calls fn for every record, ordered by type and id.
	EachRecord(ctx context.Context, fn func(truce.Record) error) error
	// EachHistory calls fn for every history item, ordered by index, type, id.
	EachHistory(ctx context.Context, fn func(truce.HistoryItem) error) error

	// Meta reads and writes small configuration values outside the log.
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error

	// PutToken stores a token; Token finds one by hash.
	PutToken(ctx context.Context, t Token) error
	Token(ctx context.Context, hash []byte) (*Token, error)
	// PutPassword stores a member's password hash (PHC string); Password
	// reads it.
	PutPassword(ctx context.Context, member, hash string) error
	Password(ctx context.Context, member string) (string, error)

	Close() error
}

// Leaves calls fn with every leaf from index start on, in order, reading
// entry bundles from s.
func Leaves(ctx context.Context, s Store, start, size int64, fn func(index int64, leaf []byte) error) error {
	for n := start / tlog.TileWidth; n*tlog.TileWidth < size; n++ {
		bundle, err := s.ReadTile(ctx, -1, n)
		if err != nil {
			return err
		}
		entries, err := tlog.BundleEntries(bundle)
		if err != nil {
			return err
		}
		for i, e := range entries {
			idx := n*tlog.TileWidth + int64(i)
			if idx < start || idx >= size {
				continue
			}
			if err := fn(idx, e); err != nil {
				return err
			}
		}
	}
	return nil
}
