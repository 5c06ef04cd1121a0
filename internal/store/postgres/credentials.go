package postgres

import (
	"bytes"
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
)

// PutToken stores a token.
func (db *DB) PutToken(ctx context.Context, t store.Token) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO tokens (hash, id, name, member, scopes, created, expires, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (hash) DO UPDATE SET id = excluded.id, name = excluded.name, member = excluded.member,
		scopes = excluded.scopes, expires = excluded.expires, revoked = excluded.revoked`,
		t.Hash, t.ID, t.Name, t.Member, strings.Join(t.Scopes, " "), fmtTime(t.Created), fmtTime(t.Expires), t.Revoked)
	return noSpace(err)
}

const tokenColumns = `hash, id, name, member, scopes, created, expires, revoked`

func scanToken(s pgx.Row) (*store.Token, error) {
	var t store.Token
	var scopes, created, expires string
	if err := s.Scan(&t.Hash, &t.ID, &t.Name, &t.Member, &scopes, &created, &expires, &t.Revoked); err != nil {
		return nil, err
	}
	t.Scopes = strings.Fields(scopes)
	t.Created, t.Expires = parseTime(created), parseTime(expires)
	return &t, nil
}

// Token finds a token by hash.
func (db *DB) Token(ctx context.Context, hash []byte) (*store.Token, error) {
	t, err := scanToken(db.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if err != nil {
		return nil, found(err)
	}
	return t, nil
}

// Tokens lists a member's tokens, or everyone's.
func (db *DB) Tokens(ctx context.Context, member string) ([]store.Token, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE $1 = '' OR member = $1 ORDER BY created, id`, member)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// PutPassword stores a password hash.
func (db *DB) PutPassword(ctx context.Context, member, hash string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO passwords (member, hash) VALUES ($1, $2) ON CONFLICT (member) DO UPDATE SET hash = excluded.hash`, member, hash)
	return noSpace(err)
}

// Password reads a password hash.
func (db *DB) Password(ctx context.Context, member string) (string, error) {
	var h string
	err := db.pool.QueryRow(ctx, `SELECT hash FROM passwords WHERE member = $1`, member).Scan(&h)
	return h, found(err)
}

// PutSession stores a session.
func (db *DB) PutSession(ctx context.Context, s store.Session) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (hash, member, csrf, created, expires) VALUES ($1, $2, $3, $4, $5)`,
		s.Hash, s.Member, s.CSRF, fmtTime(s.Created), fmtTime(s.Expires))
	return noSpace(err)
}

// Session finds a session by hash.
func (db *DB) Session(ctx context.Context, hash []byte) (*store.Session, error) {
	s := store.Session{Hash: bytes.Clone(hash)}
	var created, expires string
	err := db.pool.QueryRow(ctx, `SELECT member, csrf, created, expires FROM sessions WHERE hash = $1`, hash).Scan(&s.Member, &s.CSRF, &created, &expires)
	if err != nil {
		return nil, found(err)
	}
	s.Created, s.Expires = parseTime(created), parseTime(expires)
	return &s, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return noSpace(err)
}

// DeleteSessions ends every session of a member.
func (db *DB) DeleteSessions(ctx context.Context, member string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE member = $1`, member)
	return noSpace(err)
}

// PutInvite stores a one-time link in place of the member's earlier ones.
func (db *DB) PutInvite(ctx context.Context, i store.Invite) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return noSpace(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM invites WHERE member = $1`, i.Member); err != nil {
		return noSpace(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO invites (hash, member, created, expires) VALUES ($1, $2, $3, $4)`,
		i.Hash, i.Member, fmtTime(i.Created), fmtTime(i.Expires)); err != nil {
		return noSpace(err)
	}
	return noSpace(tx.Commit(ctx))
}

// Invite reads a one-time link.
func (db *DB) Invite(ctx context.Context, hash []byte) (*store.Invite, error) {
	return scanInvite(db.pool.QueryRow(ctx, `SELECT hash, member, created, expires FROM invites WHERE hash = $1`, hash))
}

// TakeInvite reads and deletes a one-time link in one statement: of two
// requests racing, one gets the row.
func (db *DB) TakeInvite(ctx context.Context, hash []byte) (*store.Invite, error) {
	return scanInvite(db.pool.QueryRow(ctx, `DELETE FROM invites WHERE hash = $1 RETURNING hash, member, created, expires`, hash))
}

func scanInvite(row pgx.Row) (*store.Invite, error) {
	var i store.Invite
	var created, expires string
	if err := row.Scan(&i.Hash, &i.Member, &created, &expires); err != nil {
		return nil, noSpace(found(err))
	}
	i.Created, i.Expires = parseTime(created), parseTime(expires)
	return &i, nil
}

// Opening returns the content behind a commitment.
func (db *DB) Opening(ctx context.Context, index int64, commitment string) (*store.Sealed, error) {
	x := store.Sealed{Index: index, Commitment: commitment}
	err := db.pool.QueryRow(ctx, `SELECT salt, content, body, rtype, rid FROM sealed WHERE idx = $1 AND commitment = $2`, index, commitment).
		Scan(&x.Salt, &x.Content, &x.Body, &x.Record.Type, &x.Record.ID)
	if err != nil {
		return nil, found(err)
	}
	return &x, nil
}

// EachSealed calls fn for every opening of the entries from index from
// on, in log order.
func (db *DB) EachSealed(ctx context.Context, from int64, fn func(store.Sealed) error) error {
	rows, err := db.pool.Query(ctx, `SELECT s.commitment, s.idx, s.salt, s.content, s.body, s.rtype, s.rid, r.visibility, r.owner
		FROM sealed s LEFT JOIN records r ON r.type = s.rtype AND r.id = s.rid WHERE s.idx >= $1 ORDER BY s.idx, s.commitment`, from)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var x store.Sealed
		var vis, owner *string
		if err := rows.Scan(&x.Commitment, &x.Index, &x.Salt, &x.Content, &x.Body, &x.Record.Type, &x.Record.ID, &vis, &owner); err != nil {
			return err
		}
		if vis != nil {
			x.Visibility, x.Owner = *vis, *owner
		} else {
			x.Visibility = string(truce.Internal) // no record: as hidden as can be
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PutBlob records a party's upload of a stored file; a party's first
// upload of a hash keeps its record.
func (db *DB) PutBlob(ctx context.Context, b store.Blob) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO uploads (sha256, party, size, media_type, name, uploader, uploaded) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (sha256, party) DO NOTHING`, b.SHA256, b.Party, b.Size, b.MediaType, b.Name, b.Uploader, fmtTime(b.Uploaded))
	return noSpace(err)
}

// DeleteBlob forgets a party's upload of a file.
func (db *DB) DeleteBlob(ctx context.Context, sha, party string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM uploads WHERE sha256 = $1 AND party = $2`, sha, party)
	return noSpace(err)
}

// Blob reads a party's upload of a file, or ("") the first of any party's.
func (db *DB) Blob(ctx context.Context, sha, party string) (*store.Blob, error) {
	b := store.Blob{SHA256: sha}
	var uploaded string
	err := db.pool.QueryRow(ctx, `SELECT party, size, media_type, name, uploader, uploaded FROM uploads
		WHERE sha256 = $1 AND ($2 = '' OR party = $2) ORDER BY uploaded, party LIMIT 1`, sha, party).
		Scan(&b.Party, &b.Size, &b.MediaType, &b.Name, &b.Uploader, &uploaded)
	if err != nil {
		return nil, found(err)
	}
	b.Uploaded = parseTime(uploaded)
	return &b, nil
}

// PutCustodialKey stores an encrypted custodial key.
func (db *DB) PutCustodialKey(ctx context.Context, member, keyID string, sealed []byte) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO custodial_keys (key_id, member, sealed) VALUES ($1, $2, $3)`, keyID, member, sealed)
	return noSpace(err)
}

// CustodialKey returns an encrypted custodial key.
func (db *DB) CustodialKey(ctx context.Context, keyID string) (string, []byte, error) {
	var member string
	var sealed []byte
	err := db.pool.QueryRow(ctx, `SELECT member, sealed FROM custodial_keys WHERE key_id = $1`, keyID).Scan(&member, &sealed)
	return member, sealed, found(err)
}
