package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/truce-mvm/truce/internal/store"
)

// metaNoticeCursor keeps the index of the log the notifier followed to.
const metaNoticeCursor = "notice_cursor"

const subscriptionColumns = `member, email, events, hours, feed, updated`

func scanSubscription(s pgx.Row) (*store.Subscription, error) {
	var sub store.Subscription
	var events, updated string
	if err := s.Scan(&sub.Member, &sub.Email, &events, &sub.Hours, &sub.FeedHash, &updated); err != nil {
		return nil, found(err)
	}
	sub.Events, sub.Updated = strings.Fields(events), parseTime(updated)
	return &sub, nil
}

// PutSubscription stores a member's subscription in place of the earlier one.
func (db *DB) PutSubscription(ctx context.Context, s store.Subscription) error {
	var feed []byte
	if len(s.FeedHash) > 0 {
		feed = s.FeedHash
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO subscriptions (`+subscriptionColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (member) DO UPDATE SET email = excluded.email, events = excluded.events, hours = excluded.hours,
		feed = excluded.feed, updated = excluded.updated`,
		s.Member, s.Email, strings.Join(s.Events, " "), s.Hours, feed, fmtTime(s.Updated))
	return noSpace(err)
}

// Subscription reads a member's subscription.
func (db *DB) Subscription(ctx context.Context, member string) (*store.Subscription, error) {
	return scanSubscription(db.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE member = $1`, member))
}

// FeedSubscription finds a subscription by its feed token's hash.
func (db *DB) FeedSubscription(ctx context.Context, hash []byte) (*store.Subscription, error) {
	if len(hash) == 0 {
		return nil, store.ErrNotFound
	}
	return scanSubscription(db.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE feed = $1`, hash))
}

// Subscriptions lists every subscription, by member.
func (db *DB) Subscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions ORDER BY member`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Subscription
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, rows.Err()
}

const webhookColumns = `id, member, url, events, secret, created`

func scanWebhook(s pgx.Row) (*store.Webhook, error) {
	var w store.Webhook
	var events, created string
	if err := s.Scan(&w.ID, &w.Member, &w.URL, &events, &w.Secret, &created); err != nil {
		return nil, found(err)
	}
	w.Events, w.Created = strings.Fields(events), parseTime(created)
	return &w, nil
}

// PutWebhook stores a new webhook.
func (db *DB) PutWebhook(ctx context.Context, w store.Webhook) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		w.ID, w.Member, w.URL, strings.Join(w.Events, " "), w.Secret, fmtTime(w.Created))
	return noSpace(err)
}

// Webhook reads a webhook.
func (db *DB) Webhook(ctx context.Context, id string) (*store.Webhook, error) {
	return scanWebhook(db.pool.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
}

// Webhooks lists a member's webhooks, or everyone's, oldest first.
func (db *DB) Webhooks(ctx context.Context, member string) ([]store.Webhook, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE $1 = '' OR member = $1 ORDER BY created, id`, member)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *w)
	}
	return out, rows.Err()
}

// DeleteWebhook deletes a member's webhook and its pending deliveries.
func (db *DB) DeleteWebhook(ctx context.Context, member, id string) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return noSpace(err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE id = $1 AND member = $2`, id, member)
	if err != nil {
		return noSpace(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	if _, err := tx.Exec(ctx, `DELETE FROM deliveries WHERE channel = 'webhook' AND target = $1 AND done = '' AND NOT failed`, id); err != nil {
		return noSpace(err)
	}
	return noSpace(tx.Commit(ctx))
}

// Enqueue adds deliveries, skipping those already queued, and sets the
// cursor. Their ids are taken from the counter row, whose lock orders two
// notifiers' transactions.
func (db *DB) Enqueue(ctx context.Context, ds []store.Delivery, cursor int64) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return noSpace(err)
	}
	defer tx.Rollback(ctx)
	var last int64
	if err := tx.QueryRow(ctx, `UPDATE counters SET n = n + $1 WHERE name = 'deliveries' RETURNING n`, len(ds)).Scan(&last); err != nil {
		return noSpace(err)
	}
	id := last - int64(len(ds))
	q := &pgx.Batch{}
	for _, d := range ds {
		id++
		q.Queue(`INSERT INTO deliveries (id, event, rtype, rid, idx, logged, member, channel, target, attempts, next, done, failed, err)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING`,
			id, d.Event, d.Record.Type, d.Record.ID, d.Index, fmtTime(d.Logged), d.Member, d.Channel, d.Target,
			d.Attempts, nanos(d.Next), fmtTime(d.Done), d.Failed, d.Err)
	}
	q.Queue(`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		metaNoticeCursor, strconv.FormatInt(cursor, 10))
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return noSpace(err)
	}
	return noSpace(tx.Commit(ctx))
}

// NoticeCursor reads the index the notifier followed the log to.
func (db *DB) NoticeCursor(ctx context.Context) (int64, error) {
	v, err := db.Meta(ctx, metaNoticeCursor)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

const deliveryColumns = `id, event, rtype, rid, idx, logged, member, channel, target, attempts, next, done, failed, err`

func scanDeliveries(rows pgx.Rows) ([]store.Delivery, error) {
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		var d store.Delivery
		var logged, done string
		var next int64
		if err := rows.Scan(&d.ID, &d.Event, &d.Record.Type, &d.Record.ID, &d.Index, &logged, &d.Member, &d.Channel, &d.Target,
			&d.Attempts, &next, &done, &d.Failed, &d.Err); err != nil {
			return nil, err
		}
		d.Logged, d.Done, d.Next = parseTime(logged), parseTime(done), time.Unix(0, next).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// DueDeliveries lists pending deliveries due by now, oldest first.
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE done = '' AND NOT failed AND next <= $1 ORDER BY next, id LIMIT $2`,
		nanos(now), limit)
	if err != nil {
		return nil, err
	}
	return scanDeliveries(rows)
}

// UpdateDelivery records an attempt at a delivery.
func (db *DB) UpdateDelivery(ctx context.Context, d store.Delivery) error {
	_, err := db.pool.Exec(ctx, `UPDATE deliveries SET attempts = $1, next = $2, done = $3, failed = $4, err = $5 WHERE id = $6`,
		d.Attempts, nanos(d.Next), fmtTime(d.Done), d.Failed, d.Err, d.ID)
	return noSpace(err)
}

// Deliveries lists a member's deliveries on a channel, newest first.
func (db *DB) Deliveries(ctx context.Context, member, channel string, limit int) ([]store.Delivery, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE member = $1 AND channel = $2 ORDER BY id DESC LIMIT $3`,
		member, channel, limit)
	if err != nil {
		return nil, err
	}
	return scanDeliveries(rows)
}

// nanos is t in Unix nanoseconds, 0 for the zero time (due at once).
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
