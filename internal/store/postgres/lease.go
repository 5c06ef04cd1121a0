package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/truce-mvm/truce/internal/store"
)

var _ store.Leases = (*DB)(nil)

// interval is ttl as an interval literal the database adds to its clock.
func interval(ttl time.Duration) string { return fmt.Sprintf("%d milliseconds", ttl.Milliseconds()) }

// Acquire takes or renews the lease: in one transaction that first locks
// the tree's row, as Append does, so that it falls wholly before or after
// any batch.
func (db *DB) Acquire(ctx context.Context, holder, addr string, ttl time.Duration) (store.Lease, bool, error) {
	var l store.Lease
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return l, false, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT size FROM tree WHERE id = 1 FOR UPDATE`); err != nil {
		return l, false, err
	}
	if l, err = readLease(ctx, tx, true); err != nil {
		return l, false, err
	}
	mine := l.Term != 0 && l.Term == db.term.Load()
	if l.Held && !mine {
		return l, false, nil
	}
	term := l.Term
	if !mine {
		term++
	}
	if _, err := tx.Exec(ctx, `UPDATE lease SET term = $1, holder = $2, addr = $3, expires = now() + $4::INTERVAL WHERE id = 1`,
		term, holder, addr, interval(ttl)); err != nil {
		return l, false, err
	}
	if l, err = readLease(ctx, tx, false); err != nil {
		return l, false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return l, false, err
	}
	db.term.Store(term)
	return l, true, nil
}

// Renew extends the lease this handle holds.
func (db *DB) Renew(ctx context.Context, ttl time.Duration) error {
	term := db.term.Load()
	if term == 0 {
		return store.ErrLeaseLost
	}
	tag, err := db.pool.Exec(ctx, `UPDATE lease SET expires = now() + $2::INTERVAL WHERE id = 1 AND term = $1`, term, interval(ttl))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		db.term.Store(0)
		return store.ErrLeaseLost
	}
	return nil
}

// Release ends this handle's lease now. The term stays: it still fences
// the handle's own batches, which must not follow its release.
func (db *DB) Release(ctx context.Context) error {
	term := db.term.Swap(0)
	if term == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE lease SET expires = now(), holder = '', addr = '' WHERE id = 1 AND term = $1`, term)
	return err
}

// Lease reads the lease.
func (db *DB) Lease(ctx context.Context) (store.Lease, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return store.Lease{}, err
	}
	defer tx.Rollback(ctx)
	return readLease(ctx, tx, false)
}

func readLease(ctx context.Context, tx pgx.Tx, lock bool) (store.Lease, error) {
	q := `SELECT term, holder, addr, expires, expires > now() FROM lease WHERE id = 1`
	if lock {
		q += ` FOR UPDATE`
	}
	var l store.Lease
	err := tx.QueryRow(ctx, q).Scan(&l.Term, &l.Holder, &l.Addr, &l.Expires, &l.Held)
	return l, err
}

// fenceQuery reads the lease's term.
const fenceQuery = `SELECT term FROM lease WHERE id = 1`
