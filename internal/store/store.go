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
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/tlog"
)

// ErrNotFound is returned for absent records, tokens and meta keys. For
// tiles it is tlog.ErrNotFound.
var ErrNotFound = errors.New("not found")

// ErrNoAccess is returned for a query that does not say whose access it
// reads with: a reader whose access was not decided sees nothing.
var ErrNoAccess = truce.Errorf(truce.CodeForbidden, "a query without a reader's access is refused")

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
	// Sealed are the openings of commitments the batch's entries carry.
	Sealed []Sealed
}

// Sealed is the content behind a commitment in the log entry at Index.
type Sealed struct {
	Commitment string
	Index      int64
	Salt       []byte
	Content    []byte
	// Body says the content is the whole body of a sealed entry, not one
	// sealed field of a body in clear.
	Body bool
	// Record is the record the entry is about: who may see the opening
	// follows who may see it — its visibility and owner now, which
	// EachSealed reads with the opening.
	Record            truce.Ref
	Visibility, Owner string
}

// Session is a browser session. Only the hash of its cookie is stored.
type Session struct {
	Hash    []byte
	Member  string
	CSRF    string
	Created time.Time
	Expires time.Time
}

// Token is an API bearer token. Only its SHA-256 hash is stored.
type Token struct {
	Hash    []byte
	ID      string // a short public name for the token: the hash's first bytes
	Name    string
	Member  string
	Scopes  []string
	Created time.Time
	Expires time.Time // zero: no expiry
	Revoked bool
}

// Blob describes a stored evidence file.
type Blob struct {
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	MediaType string    `json:"media_type"`
	Name      string    `json:"name"`
	Uploader  string    `json:"uploader"`
	Party     string    `json:"party"`
	Uploaded  time.Time `json:"uploaded"`
}

// Log is the Merkle log: hash tiles, entry bundles, the committed tree
// and its checkpoints. Append commits a whole batch — log and projections —
// in one transaction.
type Log interface {
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
	// Cosign replaces the stored checkpoint for size with the same note
	// carrying witness cosignatures (which the caller has checked).
	Cosign(ctx context.Context, size int64, cosigned []byte) error
	// Cosigned returns the newest cosigned checkpoint and its size; nil
	// and 0 if none.
	Cosigned(ctx context.Context) ([]byte, int64, error)
	// Append commits b atomically. b.Start must be the committed size and
	// b.Size larger: a store never goes back.
	Append(ctx context.Context, b *Batch) error
}

// Records are the projections derived from the log: what a reader lists
// and reads. Every read that a member's request leads to filters by the
// reader's access; the store refuses a query without one (ErrNoAccess).
type Records interface {
	// Record returns one record, or ErrNotFound. It does not filter: the
	// caller checks the record's visibility before showing it.
	Record(ctx context.Context, typ, id string) (*truce.Record, error)
	// Records lists records matching q, newest first.
	Records(ctx context.Context, q truce.Query) ([]truce.Record, error)
	// Count counts the records matching q (its After and Limit aside), as
	// a list shows it beside its first page.
	Count(ctx context.Context, q truce.Query) (int, error)
	// Find returns the newest record of typ whose document has value in
	// field, or ErrNotFound. Only the fields Findable names may be asked.
	Find(ctx context.Context, typ, field, value string) (*truce.Record, error)
	// History lists the entries that touched a record, in log order.
	History(ctx context.Context, typ, id string) ([]truce.HistoryItem, error)
	// EachRecord calls fn for every record, ordered by type and id.
	EachRecord(ctx context.Context, fn func(truce.Record) error) error
	// EachHistory calls fn for every history item, ordered by index, type, id.
	EachHistory(ctx context.Context, fn func(truce.HistoryItem) error) error
	// HistoryFrom lists the history items of the first limit entries
	// from index from on that touched a record, ordered by index, type,
	// id: an entry's items all come in one call.
	HistoryFrom(ctx context.Context, from int64, limit int) ([]truce.HistoryItem, error)
	// Search finds records of the Searchable types by the words of what
	// people wrote in them (SearchText), newest first, only those
	// q.Access may see (ErrNoAccess without it). A query is its words
	// (SearchWords): each must match a word of the record, the last may
	// begin one; nothing else of it is read as syntax.
	Search(ctx context.Context, q truce.Search) ([]truce.SearchHit, error)
}

// Findable lists, by record type, the document fields Records.Find looks
// records up by; stores index them.
var Findable = map[string][]string{"source": {"sha256", "url"}}

// Credentials are what members sign in with: API tokens, password hashes
// and browser sessions. Only hashes of secrets are kept.
type Credentials interface {
	// PutToken stores a token; Token finds one by hash.
	PutToken(ctx context.Context, t Token) error
	Token(ctx context.Context, hash []byte) (*Token, error)
	// Tokens lists a member's tokens ("" for everyone's).
	Tokens(ctx context.Context, member string) ([]Token, error)
	// PutPassword stores a member's password hash (PHC string); Password
	// reads it.
	PutPassword(ctx context.Context, member, hash string) error
	Password(ctx context.Context, member string) (string, error)
	// PutSession, Session and DeleteSession keep browser sessions.
	PutSession(ctx context.Context, s Session) error
	Session(ctx context.Context, hash []byte) (*Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessions ends every session of a member.
	DeleteSessions(ctx context.Context, member string) error
	// PutInvite keeps a one-time link to set a password, in place of any
	// earlier link of the member; Invite reads it; TakeInvite reads and
	// deletes it in one step, so that a link works once even when two
	// requests race.
	PutInvite(ctx context.Context, i Invite) error
	Invite(ctx context.Context, hash []byte) (*Invite, error)
	TakeInvite(ctx context.Context, hash []byte) (*Invite, error)
}

// Invite is a one-time link for a member to set a password. Only the hash
// of its token is stored.
type Invite struct {
	Hash    []byte
	Member  string
	Created time.Time
	Expires time.Time
}

// Openings are the contents behind the sealed commitments in the log,
// written with the batch that logs them.
type Openings interface {
	// Opening returns the content behind a commitment of the entry at
	// index; EachSealed calls fn for every stored opening of the entries
	// from index from on, in log order.
	Opening(ctx context.Context, index int64, commitment string) (*Sealed, error)
	EachSealed(ctx context.Context, from int64, fn func(Sealed) error) error
}

// Opening is the opening x keeps, as entries and clients carry it.
func (x *Sealed) Opening() truce.Opening {
	return truce.Opening{Salt: hex.EncodeToString(x.Salt), Content: x.Content}
}

// Unseal opens the sealed entry at index with the opening st keeps of it.
func Unseal(ctx context.Context, st Openings, index int64, e *entry.Entry) error {
	x, err := st.Opening(ctx, index, e.Payload.Sealed.Commitment)
	if err != nil {
		return fmt.Errorf("the content behind the sealed entry: %w", err)
	}
	return e.Unseal(x.Opening())
}

// Blobs records who uploaded the files kept beside the log (the files
// themselves are in a blob.Store): one record per file and party, so that
// each side reads what its own members uploaded, under the name they gave,
// whoever else uploaded the same bytes.
type Blobs interface {
	// PutBlob records b.Party's upload of a file (that party's first
	// upload of the hash keeps its record).
	PutBlob(ctx context.Context, b Blob) error
	// Blob reads party's upload of a file, or with party "" the first
	// upload of any party's; ErrNotFound if there is none.
	Blob(ctx context.Context, sha256, party string) (*Blob, error)
	// DeleteBlob forgets party's upload of a file (one its registration
	// refused); absent, it does nothing.
	DeleteBlob(ctx context.Context, sha256, party string) error
}

// Custody keeps the keys the server holds for members who sign in the
// browser, encrypted.
type Custody interface {
	// PutCustodialKey stores a member's custodial key, encrypted;
	// CustodialKey returns it by key id.
	PutCustodialKey(ctx context.Context, member, keyID string, sealed []byte) error
	CustodialKey(ctx context.Context, keyID string) (member string, sealed []byte, err error)
}

// Subscription is what a member chose to be told and where. The e-mail
// address and the feed token's hash are personal data and a secret: they
// are kept here, beside passwords, never in the log (which the parties
// read).
type Subscription struct {
	Member string
	Email  string   // "": no e-mail
	Events []string // the notify package's event names
	Hours  int      // how long before a deadline the .due events come
	// FeedHash is the SHA-256 of the member's feed token; nil: no feed.
	FeedHash []byte
	Updated  time.Time
}

// Webhook is an address a member asked to be told at by a signed POST.
// Its secret signs the bodies, so it is kept, not hashed: sealed by the
// instance's custody key (custody.Vault), never in the log.
type Webhook struct {
	ID      string
	Member  string
	URL     string
	Events  []string
	Secret  []byte // sealed
	Created time.Time
}

// Delivery is one notification to one target: an outbox row, kept until
// sent so that retries survive a restart.
type Delivery struct {
	ID      int64 // assigned by Enqueue
	Event   string
	Record  truce.Ref
	Index   int64 // the entry that caused it (0 for a deadline)
	Logged  time.Time
	Member  string
	Channel string // "webhook", "email" or "feed"
	Target  string // the webhook's id, the e-mail address, or "" for the feed
	// Attempts made; Next is when the next is due. Done is when it was
	// sent (a feed item: when queued); Failed says it was given up.
	Attempts int
	Next     time.Time
	Done     time.Time
	Failed   bool
	Err      string
}

// Notices keep what members chose to be told and the notifications on
// their way: subscriptions, webhooks and an outbox of deliveries, with the
// index of the log the notifier has followed to.
type Notices interface {
	// PutSubscription stores a member's subscription in place of the
	// earlier one; Subscription reads it (ErrNotFound if none);
	// Subscriptions lists all, by member; FeedSubscription finds one by
	// the hash of its feed token.
	PutSubscription(ctx context.Context, s Subscription) error
	Subscription(ctx context.Context, member string) (*Subscription, error)
	Subscriptions(ctx context.Context) ([]Subscription, error)
	FeedSubscription(ctx context.Context, hash []byte) (*Subscription, error)
	// PutWebhook stores a new webhook (ids are unique); Webhook reads one;
	// Webhooks lists a member's ("" for everyone's), oldest first;
	// DeleteWebhook deletes a member's webhook (ErrNotFound if the member
	// has none of that id) with its pending deliveries.
	PutWebhook(ctx context.Context, w Webhook) error
	Webhook(ctx context.Context, id string) (*Webhook, error)
	Webhooks(ctx context.Context, member string) ([]Webhook, error)
	DeleteWebhook(ctx context.Context, member, id string) error
	// Enqueue adds deliveries and sets the notifier's cursor to cursor, in
	// one transaction. A delivery of an event, record, channel and target
	// already queued is skipped, so that a notifier following the log
	// again after a crash sends nothing twice. NoticeCursor reads the
	// cursor (0 before the first Enqueue).
	Enqueue(ctx context.Context, ds []Delivery, cursor int64) error
	NoticeCursor(ctx context.Context) (int64, error)
	// DueDeliveries lists up to limit deliveries neither done nor failed
	// whose Next is at or before now, oldest first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// UpdateDelivery records an attempt: Attempts, Next, Done, Failed and
	// Err of d (by d.ID).
	UpdateDelivery(ctx context.Context, d Delivery) error
	// Deliveries lists a member's deliveries on a channel, newest first.
	Deliveries(ctx context.Context, member, channel string, limit int) ([]Delivery, error)
}

// Meta reads and writes small configuration values outside the log.
type Meta interface {
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Leases is leadership over a database that several processes serve (a
// standby beside the leader): only the process holding the lease
// sequences. A store that one process alone may open (SQLite, whose data
// directory is locked) has none.
//
// The lease's term grows with each new holder and fences the log: Append
// refuses a batch, under the same lock that orders batches, from a handle
// whose term is not the lease's current one, so a leader that was paused
// or cut off cannot append once another has taken over. Acquire takes
// that lock too, so a new holder reads the log only after the last batch
// of the old one committed or was refused.
type Leases interface {
	// Acquire takes the lease for holder (serving at addr) for ttl by the
	// database's clock if it is free or expired, or renews it if this
	// handle holds it. It returns the lease as it stands after, and
	// whether this handle holds it.
	Acquire(ctx context.Context, holder, addr string, ttl time.Duration) (Lease, bool, error)
	// Renew extends this handle's lease by ttl; ErrLeaseLost if another
	// holds it now.
	Renew(ctx context.Context, ttl time.Duration) error
	// Release gives the lease up at once, so that a standby need not wait
	// for it to expire.
	Release(ctx context.Context) error
	// Lease reads the lease as it stands.
	Lease(ctx context.Context) (Lease, error)
}

// Lease is who leads a shared database, until when, and under which term.
type Lease struct {
	Term    int64
	Holder  string
	Addr    string // where the holder serves, for a standby to point clients to
	Expires time.Time
	Held    bool // Expires is after the database's clock
}

// ErrLeaseLost is returned to a process that no longer leads: by Renew,
// and by Append for a batch from a lease's former holder.
var ErrLeaseLost = truce.Errorf(truce.CodeUnavailable, "this server no longer leads the log: another has taken over")

// Store is a Truce database: every role, in one place, so that one
// transaction can cover the log and its projections.
type Store interface {
	Log
	Records
	Credentials
	Openings
	Blobs
	Custody
	Meta
	Notices
	// Writable reports why the store cannot take writes now (a full
	// disk, say), or nil.
	Writable(ctx context.Context) error
	Close() error
}

// Rows are the rows of a query, as both stores' drivers give them.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// JoinBundle joins entry bundle n from its fragments, rows of (first
// byte, data) in order: a bundle is stored as the fragments the batches
// that filled it wrote. None is tlog.ErrNotFound; a gap is an error.
func JoinBundle(n int64, rows Rows) ([]byte, error) {
	var out []byte
	found := false
	for rows.Next() {
		var first int
		var data []byte
		if err := rows.Scan(&first, &data); err != nil {
			return nil, err
		}
		if first != len(out) {
			return nil, fmt.Errorf("bundle %d: fragment at byte %d follows %d bytes", n, first, len(out))
		}
		out = append(out, data...)
		found = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, tlog.ErrNotFound
	}
	return out, nil
}

// Leaves calls fn with every leaf from index start on, in order, reading
// entry bundles from s.
func Leaves(ctx context.Context, s Log, start, size int64, fn func(index int64, leaf []byte) error) error {
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
