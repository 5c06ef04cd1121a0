// Package postgres is the Store on PostgreSQL (pgx v5): the same contract
// and the same schema as the SQLite store, for an instance that keeps its
// log and projections in a database server, where several processes can
// reach them and the server's own replication keeps a standby copy.
//
// One transaction per batch, as on SQLite: Append locks the tree's one row
// (SELECT … FOR UPDATE), so that batches from two processes commit one
// after the other and a batch that does not extend the stored tree is
// refused; the rest of the batch goes to the server in one round trip (a
// pgx batch) inside that transaction, as a few statements each writing all
// of a table's rows from arrays (INSERT … SELECT FROM unnest(…)), so that
// the server's work per batch grows with its rows, not its statements.
//
// The SQL is kept to what CockroachDB also accepts (see
// TestMigrationsPortable): plain types, no sequences, no triggers, no
// functions of our own; the record order search lists by is assigned under
// the tree's lock, and delivery ids from a counter row.
//
// Evidence files are kept here too (Files, a blob.Store: each file's row
// and its bytes in chunks of 1 MiB, committed together), unlike SQLite's
// instance, which keeps them in its data directory: every process over
// the database, a standby on another machine among them, must read the
// files any of them received. The instance's keys are not: they stay in
// each process's data directory, so that whoever reads the database or
// its dumps cannot sign.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/text/unicode/norm"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
)

//go:embed migrations/*.sql
var embedded embed.FS

// migrations holds the numbered schema migrations, applied in name order.
var migrations, _ = fs.Sub(embedded, "migrations")

// Options configure Open.
type Options struct {
	// Migrate brings an older schema up to date instead of refusing it.
	Migrate bool
	// Fail, if set, is called at each step of Append with the step's name
	// ("begin", "tiles", "bundles", "records", "history", "checkpoint",
	// "commit"); an error it returns aborts the batch there. "commit" is
	// called after the commit, to stand for a crash before the caller hears
	// of it. For crash tests only.
	Fail func(step string) error
	// MaxConns bounds the connections to the server. Default 16.
	MaxConns int32
}

// DB is a Store on PostgreSQL.
type DB struct {
	pool *pgxpool.Pool
	fail func(string) error

	full   atomic.Bool  // the last batch found the server's disk full
	term   atomic.Int64 // the lease's term while this handle holds it (Leases), else 0
	probed atomic.Int64 // unix nanoseconds of the last probe for room

	// searches are the searches running: fewer than the connections, so
	// that lists still get one.
	searches chan struct{}

	closeOnce sync.Once
}

var _ store.Store = (*DB)(nil)

// IsURL says whether a --db value names a PostgreSQL database.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://…) and brings its
// schema up to date when it is new or Options.Migrate says so.
func Open(ctx context.Context, url string, o Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database address: %w", err)
	}
	cfg.MaxConns = 16
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db := &DB{pool: pool, fail: o.Fail, searches: make(chan struct{}, max(1, int(cfg.MaxConns)/4))}
	if err := db.migrate(ctx, o.Migrate); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// migrate applies the embedded migrations, each in one transaction,
// keeping the schema version in the one row of schema_version, which each
// migration locks: two processes starting at once apply each migration
// once.
func (db *DB) migrate(ctx context.Context, allowed bool) error {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	if _, err := db.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (id INT8 PRIMARY KEY CHECK (id = 1), version INT8 NOT NULL)`); err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`); err != nil {
		return err
	}
	var version int
	if err := db.pool.QueryRow(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&version); err != nil {
		return err
	}
	if version > len(names) {
		return fmt.Errorf("database schema version %d is newer than this build (%d)", version, len(names))
	}
	if version < len(names) && version > 0 && !allowed {
		return fmt.Errorf("%w: version %d, this build needs %d; run truce migrate", store.ErrSchema, version, len(names))
	}
	for i := version; i < len(names); i++ {
		script, err := fs.ReadFile(migrations, names[i])
		if err != nil {
			return err
		}
		if err := db.apply(ctx, i, names[i], string(script)); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, i int, name, script string) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var v int
	if err := tx.QueryRow(ctx, `SELECT version FROM schema_version WHERE id = 1 FOR UPDATE`).Scan(&v); err != nil {
		return err
	}
	if v > i { // another process applied it meanwhile
		return nil
	}
	// Without arguments the script goes as one simple query: several
	// statements in one call.
	if _, err := tx.Exec(ctx, script); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1 WHERE id = 1`, i+1); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Writable reports the store unwritable when the last batch found the
// server's disk full and a test write still does not fit. (The disk is
// the server's: unlike SQLite's, its free space cannot be read from here.)
func (db *DB) Writable(ctx context.Context) error {
	if db.full.Load() && !db.probe(ctx) {
		return truce.Errorf(truce.CodeNoSpace, "the last batch found the database server's disk full, and a test write still does not fit")
	}
	return nil
}

// probe writes and rolls back 1 MiB, at most every probeEvery, to tell
// whether a disk found full has room again.
func (db *DB) probe(ctx context.Context) bool {
	now := time.Now().UnixNano()
	if last := db.probed.Load(); now-last < int64(probeEvery) || !db.probed.CompareAndSwap(last, now) {
		return false
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('writable_probe', repeat('x', 1048576))
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`); err != nil {
		return false
	}
	db.full.Store(false)
	return true
}

// probeEvery spaces the probes of a disk found full.
const probeEvery = 2 * time.Second

// noSpace turns the server's disk_full into the coded error every surface
// answers with 507.
func noSpace(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "53100" {
		return fmt.Errorf("%w (%v)", truce.Errorf(truce.CodeNoSpace, "the database server's disk is full: nothing was stored"), err)
	}
	return err
}

// Close closes the connections. Closing twice is harmless.
func (db *DB) Close() error {
	db.closeOnce.Do(db.pool.Close)
	return nil
}

func (db *DB) step(name string) error {
	if db.fail == nil {
		return nil
	}
	return db.fail(name)
}

// Append commits a batch in one transaction.
func (db *DB) Append(ctx context.Context, b *store.Batch) error {
	err := noSpace(db.append(ctx, b))
	db.full.Store(truce.ErrorCode(err) == truce.CodeNoSpace)
	return err
}

func (db *DB) append(ctx context.Context, b *store.Batch) (err error) {
	if len(b.Bundles) != len(b.BundleFrom) {
		return fmt.Errorf("batch has %d bundles and %d offsets", len(b.Bundles), len(b.BundleFrom))
	}
	if b.Size <= b.Start {
		return fmt.Errorf("batch from %d to %d is empty", b.Start, b.Size)
	}
	rows := newRecordRows(b.Records)
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection given back inside a transaction (the rollback below
	// failed) is closed by the pool, which ends the transaction.
	defer conn.Release()
	// The whole batch goes to the server in one round trip, the commit
	// with it, and nothing before: the server runs the statements one
	// after another, and a statement that fails makes it skip the rest,
	// the commit with them (the transaction is then rolled back below).
	// The first statement
	// takes the tree's row and extends it only from the size the batch
	// starts at; then, under that lock, the lease's term must be this
	// process's. Each is its own statement: under read committed a
	// statement that waited for the lock re-reads only the locked row, and
	// the ones after it see what the writer it waited for committed.
	q := &pgx.Batch{}
	q.Queue(`BEGIN`)
	q.Queue(`WITH t AS (UPDATE tree SET size = $2, root = $3 WHERE id = 1 AND size = $1 RETURNING size)
		SELECT CAST(CASE WHEN count(*) = 1 THEN '0' ELSE $4 END AS INT8) FROM t`, b.Start, b.Size, b.Root[:], refusedTree)
	q.Queue(`SELECT CAST(CASE WHEN (SELECT term FROM lease WHERE id = 1) = $1 THEN '0' ELSE $2 END AS INT8)`, db.term.Load(), refusedLease)
	steps := []struct {
		name  string
		queue func()
	}{
		{"begin", func() {}},
		{"tiles", func() { queueTiles(q, b.Tiles) }},
		{"bundles", func() { queueBundles(q, b.Bundles, b.BundleFrom) }},
		{"records", func() { queueRecords(q, rows) }},
		{"history", func() { queueHistory(q, b.History); queueSealed(q, b.Sealed) }},
		{"checkpoint", func() {
			if b.Checkpoint != nil {
				q.Queue(`INSERT INTO checkpoints (size, note) VALUES ($1, $2)`, b.Size, b.Checkpoint)
			}
		}},
	}
	for _, st := range steps {
		st.queue()
		if err := db.step(st.name); err != nil {
			return err
		}
	}
	q.Queue(`COMMIT`)
	if err := conn.SendBatch(ctx, q).Close(); err != nil {
		// Rolled back first: the failed transaction holds the tree's row,
		// which the refusal's own reads and the new leader wait for.
		conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		return db.refusal(ctx, err, b)
	}
	return db.step("commit")
}

// What the checks of a batch raise, as the text of a failed cast (the one
// error both PostgreSQL and CockroachDB raise from a plain statement).
const (
	refusedTree  = "truce: the batch does not extend the stored tree"
	refusedLease = "truce: the lease is another process's"
)

// refusal names what a batch that failed at its checks ran into. A batch
// that does not extend the tree because another process has taken the
// lease and appended is refused as the lease lost, as the term is checked
// after the tree: its sender is deposed, not facing a failing store.
func (db *DB) refusal(ctx context.Context, err error, b *store.Batch) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	// lost reads the lease's term: whether it is known to be another's,
	// and the error that says so.
	lost := func() (bool, error) {
		var term int64
		read := db.pool.QueryRow(ctx, fenceQuery).Scan(&term)
		return read == nil && term != db.term.Load(),
			fmt.Errorf("%w (the lease's term is %d, this process's %d)", store.ErrLeaseLost, term, db.term.Load())
	}
	switch {
	case strings.Contains(pe.Message, refusedLease):
		_, err := lost()
		return err
	case strings.Contains(pe.Message, refusedTree):
		if deposed, err := lost(); deposed {
			return err
		}
		var stored int64
		db.pool.QueryRow(ctx, `SELECT size FROM tree WHERE id = 1`).Scan(&stored)
		return fmt.Errorf("batch from %d to %d does not extend the stored tree (of size %d now)", b.Start, b.Size, stored)
	}
	return err
}

// docField reads a findable field of a record's document: a string as it
// is, anything else as its JSON.
func docField(doc []byte, field string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return "", false
	}
	raw, ok := m[field]
	if !ok || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	return string(raw), true
}

// fold is text as search reads it: lower case, without the diacritics of
// Latin letters (é is e), as SQLite's unicode61 tokenizer with
// remove_diacritics reads it.
func fold(s string) string {
	d := norm.NFD.String(strings.ToLower(s))
	var b strings.Builder
	latin := false // the mark's letter is Latin: й and ё keep theirs
	for _, r := range d {
		if r >= 0x300 && r <= 0x36f { // combining diacritical marks
			if latin {
				continue
			}
		} else {
			latin = unicode.Is(unicode.Latin, r)
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// indexWords are the words of a record's text, as SearchWords splits a
// query (letters and digits of any script), each once, in order, and at
// most maxIndexBytes of them: a tsvector holds at most 1 MiB, and a batch
// must not fail on a record's text.
func indexWords(text string) []string {
	var out []string
	seen, n := map[string]bool{}, 0
	for _, w := range strings.FieldsFunc(fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\u200c' }) {
		if seen[w] || len(w) > 255 {
			continue
		}
		if n += len(w) + 1; n > maxIndexBytes {
			break
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// maxIndexBytes bounds the words of a record that search indexes.
const maxIndexBytes = 256 << 10

// ReadTile reads a hash tile or, at level -1, an entry bundle.
func (db *DB) ReadTile(ctx context.Context, level int, n int64) ([]byte, error) {
	if level >= 0 {
		var data []byte
		err := db.pool.QueryRow(ctx, `SELECT data FROM tiles WHERE level = $1 AND n = $2`, level, n).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, tlog.ErrNotFound
		}
		return data, err
	}
	rows, err := db.pool.Query(ctx, `SELECT first, data FROM bundles WHERE n = $1 ORDER BY first`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.JoinBundle(n, rows)
}

// Tree returns the committed tree.
func (db *DB) Tree(ctx context.Context) (int64, tlog.Hash, error) {
	var size int64
	var root []byte
	if err := db.pool.QueryRow(ctx, `SELECT size, root FROM tree WHERE id = 1`).Scan(&size, &root); err != nil {
		return 0, tlog.Hash{}, err
	}
	if size == 0 {
		return 0, tlog.Hash{}, nil
	}
	if len(root) != len(tlog.Hash{}) {
		return 0, tlog.Hash{}, fmt.Errorf("stored root is %d bytes", len(root))
	}
	return size, tlog.Hash(root), nil
}

// AddCheckpoint stores a checkpoint for the committed tree.
func (db *DB) AddCheckpoint(ctx context.Context, size int64, signed []byte) error {
	return noSpace(db.addCheckpoint(ctx, size, signed))
}

func (db *DB) addCheckpoint(ctx context.Context, size int64, signed []byte) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var tree, newest int64 // the lock, then the newest checkpoint as of holding it (see Append)
	if err := tx.QueryRow(ctx, `SELECT size FROM tree WHERE id = 1 FOR UPDATE`).Scan(&tree); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(size), 0) FROM checkpoints`).Scan(&newest); err != nil {
		return err
	}
	if size > tree || size <= newest {
		return fmt.Errorf("checkpoint for size %d: committed tree has %d, newest checkpoint %d", size, tree, newest)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO checkpoints (size, note) VALUES ($1, $2)`, size, signed); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Checkpoint returns the newest checkpoint.
func (db *DB) Checkpoint(ctx context.Context) ([]byte, int64, error) {
	return db.newest(ctx, `SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1`)
}

// Cosigned returns the newest cosigned checkpoint.
func (db *DB) Cosigned(ctx context.Context) ([]byte, int64, error) {
	return db.newest(ctx, `SELECT size, note FROM checkpoints WHERE cosigned ORDER BY size DESC LIMIT 1`)
}

func (db *DB) newest(ctx context.Context, q string) ([]byte, int64, error) {
	var note []byte
	var size int64
	err := db.pool.QueryRow(ctx, q).Scan(&size, &note)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	return note, size, err
}

// Cosign stores the cosigned note of the checkpoint for size.
func (db *DB) Cosign(ctx context.Context, size int64, cosigned []byte) error {
	tag, err := db.pool.Exec(ctx, `UPDATE checkpoints SET note = $1, cosigned = true WHERE size = $2`, cosigned, size)
	if err != nil {
		return noSpace(err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("no checkpoint for size %d to cosign", size)
	}
	return nil
}

// Checkpoints calls fn for every checkpoint in size order.
func (db *DB) Checkpoints(ctx context.Context, fn func(int64, []byte) error) error {
	rows, err := db.pool.Query(ctx, `SELECT size, note FROM checkpoints ORDER BY size`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var size int64
		var note []byte
		if err := rows.Scan(&size, &note); err != nil {
			return err
		}
		if err := fn(size, note); err != nil {
			return err
		}
	}
	return rows.Err()
}

const recordColumns = `r.type, r.id, r.party, r.against, r.category, r.status, r.member, r.parent, r.visibility, r.owner, r.t_from, r.t_to, r.lat, r.lon, r.created, r.updated, r.doc`

func scanRecord(s pgx.Row) (truce.Record, error) {
	var r truce.Record
	var vis string
	err := s.Scan(&r.Type, &r.ID, &r.Party, &r.Against, &r.Category, &r.Status, &r.Member, &r.Parent, &vis, &r.Owner, &r.From, &r.To, &r.Lat, &r.Lon, &r.Created, &r.Updated, &r.Doc)
	r.Visibility = truce.Visibility(vis)
	return r, err
}

// Record returns one record.
func (db *DB) Record(ctx context.Context, typ, id string) (*truce.Record, error) {
	r, err := scanRecord(db.pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM records r WHERE r.type = $1 AND r.id = $2`, typ, id))
	if err != nil {
		return nil, found(err)
	}
	return &r, nil
}

// where builds an SQL condition with numbered placeholders.
type where struct {
	conds []string
	args  []any
}

// add appends a condition in which each ? stands for the next argument.
func (w *where) add(cond string, args ...any) {
	for range args {
		w.args = append(w.args, nil)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	copy(w.args[len(w.args)-len(args):], args)
	w.conds = append(w.conds, cond)
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

// access adds the condition that a reader with access a sees a record of
// the table named p, as SQLite's Where does.
func (w *where) access(p string, a *truce.Access) {
	if a.All {
		return
	}
	var or []string
	var args []any
	or = append(or, p+"visibility = ?")
	args = append(args, string(truce.Public))
	if a.Parties || a.Mechanism {
		or = append(or, p+"visibility = ?")
		args = append(args, string(truce.Parties))
	}
	if a.Mechanism {
		or = append(or, p+"visibility = ?")
		args = append(args, string(truce.Internal))
	} else if a.Party != "" {
		or = append(or, "("+p+"visibility = ? AND "+p+"owner = ?)")
		args = append(args, string(truce.Internal), a.Party)
	}
	w.add("("+strings.Join(or, " OR ")+")", args...)
}

// Where renders q as an SQL condition on records r with numbered
// placeholders.
func Where(q truce.Query) (string, []any) {
	w := &where{}
	w.add("r.type = ?", q.Type)
	if q.Party != "" {
		w.add("(r.party = ? OR r.against = ?)", q.Party, q.Party)
	}
	if q.Filer != "" {
		w.add("r.party = ?", q.Filer)
	}
	if q.Against != "" {
		w.add("r.against = ?", q.Against)
	}
	if q.Category != "" {
		w.add("r.category = ?", q.Category)
	}
	if q.Status != "" {
		w.add("r.status = ?", q.Status)
	}
	if q.Member != "" {
		w.add("r.member = ?", q.Member)
	}
	if q.Parent != "" {
		w.add("r.parent = ?", q.Parent)
	}
	if q.From != 0 {
		w.add("r.t_to >= ?", q.From)
	}
	if q.To != 0 {
		w.add("r.t_from <= ?", q.To)
	}
	if b := q.BBox; b != nil {
		w.add("r.lon >= ? AND r.lat >= ? AND r.lon <= ? AND r.lat <= ?", b[0], b[1], b[2], b[3])
	}
	if q.After > 0 {
		w.add("r.created < ?", q.After)
	}
	if q.Since > 0 {
		w.add("r.updated >= ?", q.Since)
	}
	if q.Access != nil {
		w.access("r.", q.Access)
	}
	return w.String(), w.args
}

// Records lists records matching q, newest first.
func (db *DB) Records(ctx context.Context, q truce.Query) ([]truce.Record, error) {
	if q.Access == nil {
		return nil, store.ErrNoAccess
	}
	cond, args := Where(q)
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.pool.Query(ctx, `SELECT `+recordColumns+` FROM records r WHERE `+cond+
		` ORDER BY r.created DESC LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []truce.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Count counts the records matching q, its After and Limit aside.
func (db *DB) Count(ctx context.Context, q truce.Query) (int, error) {
	if q.Access == nil {
		return 0, store.ErrNoAccess
	}
	q.After = 0
	cond, args := Where(q)
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM records r WHERE `+cond, args...).Scan(&n)
	return n, err
}

// Search finds the records whose text matches q's words, newest first.
func (db *DB) Search(ctx context.Context, q truce.Search) ([]truce.SearchHit, error) {
	if q.Access == nil {
		return nil, store.ErrNoAccess
	}
	words := store.SearchWords(q.Text)
	if len(words) == 0 {
		return nil, nil
	}
	// Each word quoted (it holds only letters and digits, so no query
	// syntax passes), all required, the last also a prefix: "mortar shel"
	// finds "mortar shells".
	terms := make([]string, 0, len(words))
	for _, w := range store.SearchWords(fold(q.Text)) {
		terms = append(terms, "'"+w+"'")
	}
	if len(terms) == 0 {
		return nil, nil
	}
	terms[len(terms)-1] += ":*"
	w := &where{}
	w.add("s.words @@ to_tsquery('simple', ?)", strings.Join(terms, " & "))
	if q.Type != "" {
		w.add("r.type = ?", q.Type)
	}
	if q.From != 0 {
		w.add("r.t_to >= ?", q.From)
	}
	if q.To != 0 {
		w.add("r.t_from <= ?", q.To)
	}
	w.access("r.", q.Access)
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	// A search holds one of the store's connections: it gets a few
	// seconds, not as long as the words make it take.
	ctx, cancel := context.WithTimeout(ctx, searchTime)
	defer cancel()
	select {
	case db.searches <- struct{}{}:
		defer func() { <-db.searches }()
	case <-ctx.Done():
		return nil, tooLong(ctx.Err())
	}
	// Newest first by the order records were first written, not by a
	// rank: a rank weighs words by the records that hold them, hidden ones
	// included, and so would tell a reader about records it may not see.
	rows, err := db.pool.Query(ctx, `SELECT r.type, r.id, s.title, s.body FROM search s JOIN records r ON r.seq = s.seq WHERE `+
		w.String()+` ORDER BY s.seq DESC LIMIT `+strconv.Itoa(limit), w.args...)
	if err != nil {
		return nil, tooLong(err)
	}
	defer rows.Close()
	var out []truce.SearchHit
	for rows.Next() {
		var h truce.SearchHit
		var body string
		if err := rows.Scan(&h.Type, &h.ID, &h.Title, &body); err != nil {
			return nil, tooLong(err)
		}
		h.Snippet = store.Snippet(body, words)
		out = append(out, h)
	}
	return out, tooLong(rows.Err())
}

// searchTime bounds one search.
const searchTime = 3 * time.Second

// tooLong says a search that ran out of time is one to narrow.
func tooLong(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return truce.Errorf(truce.CodeUnavailable, "the search took too long: use fewer or rarer words")
	}
	return err
}

// Find returns the newest record of typ whose document has value in field.
func (db *DB) Find(ctx context.Context, typ, field, value string) (*truce.Record, error) {
	if !slices.Contains(store.Findable[typ], field) {
		return nil, fmt.Errorf("records of type %q are not looked up by %q", typ, field)
	}
	r, err := scanRecord(db.pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM record_keys k JOIN records r ON r.type = k.type AND r.id = k.id
		WHERE k.type = $1 AND k.field = $2 AND k.value = $3 ORDER BY k.created DESC LIMIT 1`, typ, field, value))
	if err != nil {
		return nil, found(err)
	}
	return &r, nil
}

const historyColumns = `type, id, idx, kind, author, logged, custodial`

// History lists the entries that touched a record.
func (db *DB) History(ctx context.Context, typ, id string) ([]truce.HistoryItem, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+historyColumns+` FROM history WHERE type = $1 AND id = $2 ORDER BY idx`, typ, id)
	if err != nil {
		return nil, err
	}
	return collectHistory(rows, nil)
}

// HistoryFrom lists the history items of the first limit entries from
// index from on.
func (db *DB) HistoryFrom(ctx context.Context, from int64, limit int) ([]truce.HistoryItem, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+historyColumns+` FROM history
		WHERE idx IN (SELECT DISTINCT idx FROM history WHERE idx >= $1 ORDER BY idx LIMIT $2) ORDER BY idx, type, id`, from, limit)
	if err != nil {
		return nil, err
	}
	return collectHistory(rows, nil)
}

func collectHistory(rows pgx.Rows, fn func(truce.HistoryItem) error) ([]truce.HistoryItem, error) {
	defer rows.Close()
	var out []truce.HistoryItem
	for rows.Next() {
		var h truce.HistoryItem
		if err := rows.Scan(&h.Type, &h.ID, &h.Index, &h.Kind, &h.Author, &h.Logged, &h.Custodial); err != nil {
			return nil, err
		}
		if fn != nil {
			if err := fn(h); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// EachRecord calls fn for every record, ordered by type and id.
func (db *DB) EachRecord(ctx context.Context, fn func(truce.Record) error) error {
	rows, err := db.pool.Query(ctx, `SELECT `+recordColumns+` FROM records r ORDER BY r.type, r.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachHistory calls fn for every history item in log order.
func (db *DB) EachHistory(ctx context.Context, fn func(truce.HistoryItem) error) error {
	rows, err := db.pool.Query(ctx, `SELECT `+historyColumns+` FROM history ORDER BY idx, type, id`)
	if err != nil {
		return err
	}
	_, err = collectHistory(rows, fn)
	return err
}

// Meta reads a configuration value.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	return v, found(err)
}

// SetMeta writes a configuration value.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return noSpace(err)
}

// found maps a single-row read that found no row to store.ErrNotFound, the
// store's one way of saying so.
func found(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
