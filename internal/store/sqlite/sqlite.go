// Package sqlite is the embedded Store: one SQLite database file (pure Go,
// modernc.org/sqlite) in WAL mode with synchronous=FULL, so a committed
// batch survives power loss. One connection writes; a pool reads.
package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
)

//go:embed migrations/*.sql
var embedded embed.FS

// migrations holds the numbered schema migrations, applied in name order.
var migrations, _ = fs.Sub(embedded, "migrations")

// DefaultWALLimit is the write-ahead log's size past which the writer
// folds it into the database.
const DefaultWALLimit = 64 << 20

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
	// WALLimit bounds the write-ahead log: past it, the writer folds what
	// the background checkpoints have not yet copied into the database, so
	// the next commit starts the log from its beginning and the file is cut
	// back to this size. Default 64 MiB.
	WALLimit int64
	// MinFree is the free disk space below which the store reports itself
	// unwritable (Writable). Default 32 MiB.
	MinFree int64
	// MaxPages, if set, caps the database at that many pages, so that a
	// test can fill it as a full disk would.
	MaxPages int
}

// DB is a Store on SQLite.
//
// Checkpointing the WAL into the database file is taken off the writer (it
// would otherwise run inside a commit every thousand pages) and done by a
// goroutine on its own connection, which does not block writers. Under
// sustained load those checkpoints never reach the end of a WAL that keeps
// growing, so past Options.WALLimit the writer itself copies the few frames
// they have not, and the log starts over; when the writer is idle the
// checkpointer truncates the WAL.
type DB struct {
	w, r, c *sql.DB
	path    string
	fail    func(string) error
	opts    Options

	walMax atomic.Int64 // the largest WAL seen after a commit
	full   atomic.Bool  // the last batch found the disk full
	probed atomic.Int64 // unix nanoseconds of the last probe for room

	commits chan struct{} // nudges the checkpointer
	// searches are the searches running: fewer than the readers, so that
	// lists still get one.
	searches chan struct{}
	stop     chan struct{}
	stopped  chan struct{}

	closeOnce sync.Once
	closeErr  error

	upsertTile, deleteBundle, insertBundle, upsertRecord, insertHistory, insertCheckpoint, setTree, insertSealed *sql.Stmt
	indexRecord                                                                                                  *sql.Stmt
	readToken, readTile                                                                                          *sql.Stmt
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path.
func Open(ctx context.Context, path string, o Options) (*DB, error) {
	if err := create(path); err != nil {
		return nil, err
	}
	if o.WALLimit <= 0 {
		o.WALLimit = DefaultWALLimit
	}
	if o.MinFree <= 0 {
		o.MinFree = 32 << 20
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)" +
		"&_pragma=cache_size(-65536)&_pragma=temp_store(memory)&_pragma=wal_autocheckpoint(0)" +
		fmt.Sprintf("&_pragma=journal_size_limit(%d)", o.WALLimit)
	wdsn := dsn
	if o.MaxPages > 0 {
		wdsn += fmt.Sprintf("&_pragma=max_page_count(%d)", o.MaxPages)
	}
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	db := &DB{w: w, path: path, fail: o.Fail, opts: o}
	if err := db.migrate(ctx, o.Migrate); err != nil {
		w.Close()
		return nil, err
	}
	if err := db.reindex(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if db.r, err = sql.Open("sqlite", dsn+"&_pragma=query_only(1)"); err != nil {
		w.Close()
		return nil, err
	}
	db.r.SetMaxOpenConns(8)
	db.r.SetMaxIdleConns(8)
	if db.c, err = sql.Open("sqlite", dsn); err != nil {
		db.Close()
		return nil, err
	}
	db.c.SetMaxOpenConns(1)
	db.commits, db.stop, db.stopped = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	db.searches = make(chan struct{}, 4)
	go db.checkpointer()
	if db.readToken, err = db.r.PrepareContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`); err == nil {
		db.readTile, err = db.r.PrepareContext(ctx, `SELECT data FROM tiles WHERE level = ? AND n = ?`)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, s := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&db.upsertTile, `INSERT INTO tiles (level, n, data) VALUES (?, ?, ?) ON CONFLICT (level, n) DO UPDATE SET data = excluded.data`},
		{&db.deleteBundle, `DELETE FROM bundles WHERE n = ?`},
		{&db.insertBundle, `INSERT INTO bundles (n, first, data) VALUES (?, ?, ?)`},
		{&db.upsertRecord, `INSERT INTO records (type, id, party, against, category, status, member, parent, visibility, owner, t_from, t_to, lat, lon, created, updated, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (type, id) DO UPDATE SET party = excluded.party, against = excluded.against,
			category = excluded.category, status = excluded.status, member = excluded.member, parent = excluded.parent,
			visibility = excluded.visibility, owner = excluded.owner, t_from = excluded.t_from, t_to = excluded.t_to,
			lat = excluded.lat, lon = excluded.lon, updated = excluded.updated, doc = excluded.doc`},
		{&db.indexRecord, `INSERT OR REPLACE INTO search (rowid, title, body) SELECT rowid, ?, ? FROM records WHERE type = ? AND id = ?`},
		{&db.insertHistory, `INSERT INTO history (type, id, idx, kind, author, logged, custodial) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&db.insertSealed, `INSERT INTO sealed (commitment, idx, salt, content, body, rtype, rid) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&db.insertCheckpoint, `INSERT INTO checkpoints (size, note) VALUES (?, ?)`},
		{&db.setTree, `INSERT INTO tree (id, size, root) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root`},
	} {
		if *s.stmt, err = w.PrepareContext(ctx, s.sql); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// pageSize is the database page size. Larger pages than SQLite's 4 KiB
// mean a quarter of the write calls per commit: each WAL frame is one page,
// and entries and projection rows run to a few KiB.
const pageSize = 16384

// create makes a new database file with the page size, which must be set
// before the first table and before WAL mode (the DSN pragmas run in
// alphabetical order, journal_mode first).
func create(path string) error {
	if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath())
	if err != nil {
		return err
	}
	defer db.Close()
	for _, p := range []string{fmt.Sprintf("PRAGMA page_size = %d", pageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := db.Exec(p); err != nil {
			return fmt.Errorf("creating %s: %w", path, err)
		}
	}
	return nil
}

// migrate applies the embedded migrations, each in one transaction, keeping
// the schema version in PRAGMA user_version.
func (db *DB) migrate(ctx context.Context, allowed bool) error {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var version int
	if err := db.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
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
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", names[i], err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// checkpointer copies the WAL into the database after commits, at most
// every checkpointEvery, without blocking the writer; once no commit has
// come for a whole period it truncates the WAL, so an idle server keeps no
// large log beside its database.
func (db *DB) checkpointer() {
	defer close(db.stopped)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	dirty := false
	for {
		select {
		case <-db.stop:
			return
		case <-tick.C:
		}
		select {
		case <-db.commits:
			db.c.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			dirty = true
		default:
			if dirty {
				// Idle: fold the rest and cut the file. TRUNCATE waits for
				// readers (busy_timeout) but the writer is not writing.
				db.c.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
				dirty = false
			}
		}
	}
}

// checkpointEvery is how often the checkpointer copies the WAL.
const checkpointEvery = 250 * time.Millisecond

// boundWAL runs after each commit on the writer: past the limit, it copies
// into the database what the checkpointer has not yet (little, as it keeps
// up), so that the next transaction starts the WAL over and SQLite cuts
// the file back to journal_size_limit.
func (db *DB) boundWAL() {
	fi, err := os.Stat(db.path + "-wal")
	if err != nil {
		return
	}
	size := fi.Size()
	for {
		m := db.walMax.Load()
		if size <= m || db.walMax.CompareAndSwap(m, size) {
			break
		}
	}
	if size > db.opts.WALLimit {
		db.w.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// WALMax is the largest size, in bytes, the write-ahead log has reached
// after a commit since the store was opened.
func (db *DB) WALMax() int64 { return db.walMax.Load() }

// Writable reports the store unwritable when the disk it is on has less
// than Options.MinFree left, or when the last batch found it full and a
// test write still does not fit.
func (db *DB) Writable(ctx context.Context) error {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(db.path), &fs); err == nil {
		if free := int64(fs.Bavail) * int64(fs.Bsize); free < db.opts.MinFree {
			return truce.Errorf(truce.CodeNoSpace, "the disk holding the database has %d bytes free, under the %d it needs", free, db.opts.MinFree)
		}
	}
	if db.full.Load() && !db.probe(ctx) {
		return truce.Errorf(truce.CodeNoSpace, "the last batch found the disk full, and a test write of 1 MiB still does not fit")
	}
	return nil
}

// probe writes and deletes 1 MiB, at most every probeEvery, to tell
// whether a disk found full has room again.
func (db *DB) probe(ctx context.Context) bool {
	now := time.Now().UnixNano()
	if last := db.probed.Load(); now-last < int64(probeEvery) || !db.probed.CompareAndSwap(last, now) {
		return false
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('writable_probe', hex(randomblob(524288)))
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`); err != nil {
		return false
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = 'writable_probe'`); err != nil {
		return false
	}
	if tx.Commit() != nil {
		return false
	}
	db.full.Store(false)
	return true
}

// probeEvery spaces the probes of a disk found full.
const probeEvery = 2 * time.Second

// noSpace turns SQLite's "database or disk is full" into the coded error
// every surface answers with 507.
func noSpace(err error) error {
	var se *sqlite.Error
	if (errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL) || errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w (%v)", truce.Errorf(truce.CodeNoSpace, "the server's disk is full: nothing was stored"), err)
	}
	return err
}

// Close closes the database, folding the WAL into it. Closing twice is
// harmless.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { db.closeErr = db.close() })
	return db.closeErr
}

func (db *DB) close() error {
	var errs []error
	if db.stop != nil {
		close(db.stop)
		<-db.stopped
		errs = append(errs, db.c.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	db.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	errs = append(errs, db.w.Close())
	return errors.Join(errs...)
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
	if err == nil {
		db.boundWAL()
	}
	return err
}

func (db *DB) append(ctx context.Context, b *store.Batch) (err error) {
	if len(b.Bundles) != len(b.BundleFrom) {
		return fmt.Errorf("batch has %d bundles and %d offsets", len(b.Bundles), len(b.BundleFrom))
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := db.step("begin"); err != nil {
		return err
	}
	var stored int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(size), 0) FROM tree`).Scan(&stored); err != nil {
		return err
	}
	if b.Start != stored || b.Size <= b.Start {
		return fmt.Errorf("batch from %d to %d does not extend the stored tree of size %d", b.Start, b.Size, stored)
	}
	st := func(s *sql.Stmt) *sql.Stmt { return tx.StmtContext(ctx, s) }
	if _, err := st(db.setTree).ExecContext(ctx, b.Size, b.Root[:]); err != nil {
		return err
	}
	upsertTile := st(db.upsertTile)
	for _, t := range b.Tiles {
		if _, err := upsertTile.ExecContext(ctx, t.Tile.L, t.Tile.N, t.Data); err != nil {
			return err
		}
	}
	if err := db.step("tiles"); err != nil {
		return err
	}
	deleteBundle, insertBundle := st(db.deleteBundle), st(db.insertBundle)
	for i, t := range b.Bundles {
		from := b.BundleFrom[i]
		if t.Tile.W == tlog.TileWidth && from > 0 {
			// The bundle is full: one row replaces its fragments.
			if _, err := deleteBundle.ExecContext(ctx, t.Tile.N); err != nil {
				return err
			}
			from = 0
		}
		if _, err := insertBundle.ExecContext(ctx, t.Tile.N, from, t.Data[from:]); err != nil {
			return err
		}
	}
	if err := db.step("bundles"); err != nil {
		return err
	}
	upsertRecord, indexRecord := st(db.upsertRecord), st(db.indexRecord)
	for _, r := range b.Records {
		if _, err := upsertRecord.ExecContext(ctx, r.Type, r.ID, r.Party, r.Against, r.Category, r.Status, r.Member, r.Parent,
			r.Visibility, r.Owner, r.From, r.To, r.Lat, r.Lon, r.Created, r.Updated, r.Doc); err != nil {
			return err
		}
		if title, body, ok := store.SearchText(r.Type, r.Doc); ok {
			if _, err := indexRecord.ExecContext(ctx, title, body, r.Type, r.ID); err != nil {
				return err
			}
		}
	}
	if err := db.step("records"); err != nil {
		return err
	}
	insertHistory := st(db.insertHistory)
	for _, h := range b.History {
		if _, err := insertHistory.ExecContext(ctx, h.Type, h.ID, h.Index, h.Kind, h.Author, h.Logged, h.Custodial); err != nil {
			return err
		}
	}
	insertSealed := st(db.insertSealed)
	for _, x := range b.Sealed {
		if _, err := insertSealed.ExecContext(ctx, x.Commitment, x.Index, x.Salt, x.Content, x.Body, x.Record.Type, x.Record.ID); err != nil {
			return err
		}
	}
	if err := db.step("history"); err != nil {
		return err
	}
	if b.Checkpoint != nil {
		if _, err := st(db.insertCheckpoint).ExecContext(ctx, b.Size, b.Checkpoint); err != nil {
			return err
		}
	}
	if err := db.step("checkpoint"); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	select {
	case db.commits <- struct{}{}:
	default:
	}
	return db.step("commit")
}

// ReadTile reads a hash tile or, at level -1, an entry bundle.
func (db *DB) ReadTile(ctx context.Context, level int, n int64) ([]byte, error) {
	if level >= 0 {
		var data []byte
		err := db.readTile.QueryRowContext(ctx, level, n).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, tlog.ErrNotFound
		}
		return data, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT first, data FROM bundles WHERE n = ? ORDER BY first`, n)
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
	err := db.r.QueryRowContext(ctx, `SELECT size, root FROM tree WHERE id = 1`).Scan(&size, &root)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, tlog.Hash{}, nil
	}
	if err != nil {
		return 0, tlog.Hash{}, err
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

func (db *DB) addCheckpoint(ctx context.Context, size int64, signed []byte) (err error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var tree, newest int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT size FROM tree WHERE id = 1), 0), COALESCE((SELECT MAX(size) FROM checkpoints), 0)`).Scan(&tree, &newest); err != nil {
		return err
	}
	if size > tree || size <= newest {
		return fmt.Errorf("checkpoint for size %d: committed tree has %d, newest checkpoint %d", size, tree, newest)
	}
	if _, err := tx.StmtContext(ctx, db.insertCheckpoint).ExecContext(ctx, size, signed); err != nil {
		return err
	}
	return tx.Commit()
}

// Checkpoint returns the newest checkpoint.
func (db *DB) Checkpoint(ctx context.Context) ([]byte, int64, error) {
	var note []byte
	var size int64
	err := db.r.QueryRowContext(ctx, `SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1`).Scan(&size, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	return note, size, err
}

// Cosign stores the cosigned note of the checkpoint for size.
func (db *DB) Cosign(ctx context.Context, size int64, cosigned []byte) error {
	res, err := db.w.ExecContext(ctx, `UPDATE checkpoints SET note = ?, cosigned = 1 WHERE size = ?`, cosigned, size)
	if err != nil {
		return noSpace(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("no checkpoint for size %d to cosign", size)
	}
	return nil
}

// Cosigned returns the newest cosigned checkpoint.
func (db *DB) Cosigned(ctx context.Context) ([]byte, int64, error) {
	var note []byte
	var size int64
	err := db.r.QueryRowContext(ctx, `SELECT size, note FROM checkpoints WHERE cosigned = 1 ORDER BY size DESC LIMIT 1`).Scan(&size, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	return note, size, err
}

// Checkpoints calls fn for every checkpoint in size order.
func (db *DB) Checkpoints(ctx context.Context, fn func(int64, []byte) error) error {
	rows, err := db.r.QueryContext(ctx, `SELECT size, note FROM checkpoints ORDER BY size`)
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

const recordColumns = `type, id, party, against, category, status, member, parent, visibility, owner, t_from, t_to, lat, lon, created, updated, doc`

func scanRecord(s interface{ Scan(...any) error }) (truce.Record, error) {
	var r truce.Record
	var lat, lon sql.NullFloat64
	err := s.Scan(&r.Type, &r.ID, &r.Party, &r.Against, &r.Category, &r.Status, &r.Member, &r.Parent, &r.Visibility, &r.Owner, &r.From, &r.To, &lat, &lon, &r.Created, &r.Updated, &r.Doc)
	if lat.Valid && lon.Valid {
		r.Lat, r.Lon = &lat.Float64, &lon.Float64
	}
	return r, err
}

// Record returns one record.
func (db *DB) Record(ctx context.Context, typ, id string) (*truce.Record, error) {
	r, err := scanRecord(db.r.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records WHERE type = ? AND id = ?`, typ, id))
	if err != nil {
		return nil, found(err)
	}
	return &r, nil
}

// Records lists records matching q, newest first.
func (db *DB) Records(ctx context.Context, q truce.Query) ([]truce.Record, error) {
	if q.Access == nil {
		return nil, store.ErrNoAccess
	}
	where, args := Where(q)
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+recordColumns+` FROM records WHERE `+where+
		` ORDER BY created DESC LIMIT `+strconv.Itoa(limit), args...)
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
	where, args := Where(q)
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM records WHERE `+where, args...).Scan(&n)
	return n, err
}

// Search finds the records whose text matches q's words, best first.
func (db *DB) Search(ctx context.Context, q truce.Search) ([]truce.SearchHit, error) {
	if q.Access == nil {
		return nil, store.ErrNoAccess
	}
	words := store.SearchWords(q.Text)
	if len(words) == 0 {
		return nil, nil
	}
	// Each word a quoted phrase (no query syntax passes), the last also a
	// prefix: "mortar shel" finds "mortar shells".
	match := make([]string, len(words))
	for i, w := range words {
		match[i] = `"` + w + `"`
	}
	match[len(match)-1] += "*"
	conds, args := []string{"search MATCH ?"}, []any{strings.Join(match, " ")}
	if q.Type != "" {
		conds, args = append(conds, "r.type = ?"), append(args, q.Type)
	}
	if q.From != 0 {
		conds, args = append(conds, "r.t_to >= ?"), append(args, q.From)
	}
	if q.To != 0 {
		conds, args = append(conds, "r.t_from <= ?"), append(args, q.To)
	}
	if a := q.Access; !a.All {
		conds = append(conds, "(r.visibility = ? OR (r.visibility = ? AND ?) OR (r.visibility = ? AND (? OR r.owner = ?)))")
		args = append(args, truce.Public, truce.Parties, a.Parties || a.Mechanism, truce.Internal, a.Mechanism, nonEmpty(a.Party))
	}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	// A search holds one of the store's readers: it gets a few seconds,
	// not as long as the words make it take.
	ctx, cancel := context.WithTimeout(ctx, searchTime)
	defer cancel()
	// Newest first, not by FTS5's rank: a rank weighs words by the
	// records that hold them, hidden ones included, and so would tell a
	// reader about records it may not see. Newest is the highest rowid (a
	// record keeps the rowid of its first insert, in log order), which
	// FTS5 hands out in order: a search of a word in every record stops
	// at the page's last hit instead of sorting them all. The snippet is cut in Go from
	// the hits alone (FTS5's snippet costs the square of a record's
	// matches).
	select {
	case db.searches <- struct{}{}:
		defer func() { <-db.searches }()
	case <-ctx.Done():
		return nil, tooLong(ctx.Err())
	}
	rows, err := db.r.QueryContext(ctx, `SELECT r.type, r.id, search.title, search.body
		FROM search JOIN records r ON r.rowid = search.rowid WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY search.rowid DESC LIMIT `+strconv.Itoa(limit), args...)
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

// reindex fills the search index from the records, once, for a database
// whose records were written before it had one.
func (db *DB) reindex(ctx context.Context) error {
	var indexed, records int
	if err := db.w.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM search), (SELECT count(*) FROM records)`).Scan(&indexed, &records); err != nil {
		return err
	}
	if indexed > 0 || records == 0 {
		return nil
	}
	rows, err := db.w.QueryContext(ctx, `SELECT rowid, type, doc FROM records`)
	if err != nil {
		return err
	}
	type row struct {
		rowid       int64
		title, body string
	}
	var todo []row
	for rows.Next() {
		var id int64
		var typ string
		var doc []byte
		if err := rows.Scan(&id, &typ, &doc); err != nil {
			rows.Close()
			return err
		}
		if title, body, ok := store.SearchText(typ, doc); ok {
			todo = append(todo, row{id, title, body})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, r := range todo {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO search (rowid, title, body) VALUES (?, ?, ?)`, r.rowid, r.title, r.body); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Where renders q as an SQL condition with ? placeholders.
func Where(q truce.Query) (string, []any) {
	conds := []string{"type = ?"}
	args := []any{q.Type}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if q.Party != "" {
		add("(party = ? OR against = ?)", q.Party, q.Party)
	}
	if q.Filer != "" {
		add("party = ?", q.Filer)
	}
	if q.Against != "" {
		add("against = ?", q.Against)
	}
	if q.Category != "" {
		add("category = ?", q.Category)
	}
	if q.Status != "" {
		add("status = ?", q.Status)
	}
	if q.Member != "" {
		add("member = ?", q.Member)
	}
	if q.Parent != "" {
		add("parent = ?", q.Parent)
	}
	if q.From != 0 {
		add("t_to >= ?", q.From)
	}
	if q.To != 0 {
		add("t_from <= ?", q.To)
	}
	if b := q.BBox; b != nil {
		add("lon >= ? AND lat >= ? AND lon <= ? AND lat <= ?", b[0], b[1], b[2], b[3])
	}
	if q.After > 0 {
		add("created < ?", q.After)
	}
	if q.Since > 0 {
		add("updated >= ?", q.Since)
	}
	if a := q.Access; a != nil && !a.All {
		add("(visibility = ? OR (visibility = ? AND ?) OR (visibility = ? AND (? OR owner = ?)))",
			truce.Public, truce.Parties, a.Parties || a.Mechanism, truce.Internal, a.Mechanism, nonEmpty(a.Party))
	}
	return strings.Join(conds, " AND "), args
}

// nonEmpty returns s, or a value no owner has when s is empty.
func nonEmpty(s string) string {
	if s == "" {
		return "\x00"
	}
	return s
}

// findSQL are the lookups Find makes, by type and field: each matches an
// expression index of migration 0004 word for word, so that it is used.
var findSQL = func() map[[2]string]string {
	m := map[[2]string]string{}
	for typ, fields := range store.Findable {
		for _, f := range fields {
			m[[2]string{typ, f}] = `SELECT ` + recordColumns + ` FROM records WHERE type = '` + typ + `' AND json_extract(CAST(doc AS TEXT), '$.` + f + `') = ? ORDER BY created DESC LIMIT 1`
		}
	}
	return m
}()

// Find returns the newest record of typ whose document has value in field.
func (db *DB) Find(ctx context.Context, typ, field, value string) (*truce.Record, error) {
	q, ok := findSQL[[2]string{typ, field}]
	if !ok {
		return nil, fmt.Errorf("records of type %q are not looked up by %q", typ, field)
	}
	r, err := scanRecord(db.r.QueryRowContext(ctx, q, value))
	if err != nil {
		return nil, found(err)
	}
	return &r, nil
}

// History lists the entries that touched a record.
func (db *DB) History(ctx context.Context, typ, id string) ([]truce.HistoryItem, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT type, id, idx, kind, author, logged, custodial FROM history WHERE type = ? AND id = ? ORDER BY idx`, typ, id)
	if err != nil {
		return nil, err
	}
	return collectHistory(rows, nil)
}

func collectHistory(rows *sql.Rows, fn func(truce.HistoryItem) error) ([]truce.HistoryItem, error) {
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
	rows, err := db.r.QueryContext(ctx, `SELECT `+recordColumns+` FROM records ORDER BY type, id`)
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
	rows, err := db.r.QueryContext(ctx, `SELECT type, id, idx, kind, author, logged, custodial FROM history ORDER BY idx, type, id`)
	if err != nil {
		return err
	}
	_, err = collectHistory(rows, fn)
	return err
}

// Meta reads a configuration value.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	return v, found(err)
}

// SetMeta writes a configuration value.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return noSpace(err)
}

// PutToken stores a token.
func (db *DB) PutToken(ctx context.Context, t store.Token) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO tokens (hash, id, name, member, scopes, created, expires, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET id = excluded.id, name = excluded.name, member = excluded.member,
		scopes = excluded.scopes, expires = excluded.expires, revoked = excluded.revoked`,
		t.Hash, t.ID, t.Name, t.Member, strings.Join(t.Scopes, " "), fmtTime(t.Created), fmtTime(t.Expires), t.Revoked)
	return noSpace(err)
}

const tokenColumns = `hash, id, name, member, scopes, created, expires, revoked`

func scanToken(s interface{ Scan(...any) error }) (*store.Token, error) {
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
	t, err := scanToken(db.readToken.QueryRowContext(ctx, hash))
	if err != nil {
		return nil, found(err)
	}
	return t, nil
}

// Tokens lists a member's tokens, or everyone's.
func (db *DB) Tokens(ctx context.Context, member string) ([]store.Token, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE ? = '' OR member = ? ORDER BY created, id`, member, member)
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

// PutSession stores a session.
func (db *DB) PutSession(ctx context.Context, s store.Session) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO sessions (hash, member, csrf, created, expires) VALUES (?, ?, ?, ?, ?)`,
		s.Hash, s.Member, s.CSRF, fmtTime(s.Created), fmtTime(s.Expires))
	return noSpace(err)
}

// Session finds a session by hash.
func (db *DB) Session(ctx context.Context, hash []byte) (*store.Session, error) {
	s := store.Session{Hash: bytes.Clone(hash)}
	var created, expires string
	err := db.r.QueryRowContext(ctx, `SELECT member, csrf, created, expires FROM sessions WHERE hash = ?`, hash).Scan(&s.Member, &s.CSRF, &created, &expires)
	if err != nil {
		return nil, found(err)
	}
	s.Created, s.Expires = parseTime(created), parseTime(expires)
	return &s, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return noSpace(err)
}

// PutInvite stores a one-time link in place of the member's earlier ones.
func (db *DB) PutInvite(ctx context.Context, i store.Invite) (err error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return noSpace(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM invites WHERE member = ?`, i.Member); err != nil {
		return noSpace(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO invites (hash, member, created, expires) VALUES (?, ?, ?, ?)`,
		i.Hash, i.Member, fmtTime(i.Created), fmtTime(i.Expires)); err != nil {
		return noSpace(err)
	}
	return noSpace(tx.Commit())
}

// DeleteSessions ends every session of a member.
func (db *DB) DeleteSessions(ctx context.Context, member string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE member = ?`, member)
	return noSpace(err)
}

// Invite reads a one-time link.
func (db *DB) Invite(ctx context.Context, hash []byte) (*store.Invite, error) {
	return scanInvite(db.r.QueryRowContext(ctx, `SELECT hash, member, created, expires FROM invites WHERE hash = ?`, hash))
}

// TakeInvite reads and deletes a one-time link.
func (db *DB) TakeInvite(ctx context.Context, hash []byte) (*store.Invite, error) {
	return scanInvite(db.w.QueryRowContext(ctx, `DELETE FROM invites WHERE hash = ? RETURNING hash, member, created, expires`, hash))
}

func scanInvite(row *sql.Row) (*store.Invite, error) {
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
	err := db.r.QueryRowContext(ctx, `SELECT salt, content, body, rtype, rid FROM sealed WHERE idx = ? AND commitment = ?`, index, commitment).
		Scan(&x.Salt, &x.Content, &x.Body, &x.Record.Type, &x.Record.ID)
	if err != nil {
		return nil, found(err)
	}
	return &x, nil
}

// EachSealed calls fn for every opening of the entries from index from
// on, in log order.
func (db *DB) EachSealed(ctx context.Context, from int64, fn func(store.Sealed) error) error {
	rows, err := db.r.QueryContext(ctx, `SELECT s.commitment, s.idx, s.salt, s.content, s.body, s.rtype, s.rid, r.visibility, r.owner
		FROM sealed s LEFT JOIN records r ON r.type = s.rtype AND r.id = s.rid WHERE s.idx >= ? ORDER BY s.idx, s.commitment`, from)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var x store.Sealed
		var vis, owner sql.NullString
		if err := rows.Scan(&x.Commitment, &x.Index, &x.Salt, &x.Content, &x.Body, &x.Record.Type, &x.Record.ID, &vis, &owner); err != nil {
			return err
		}
		if vis.Valid {
			x.Visibility, x.Owner = vis.String, owner.String
		} else {
			x.Visibility = truce.Internal // no record: as hidden as can be
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
	_, err := db.w.ExecContext(ctx, `INSERT INTO uploads (sha256, party, size, media_type, name, uploader, uploaded) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sha256, party) DO NOTHING`, b.SHA256, b.Party, b.Size, b.MediaType, b.Name, b.Uploader, fmtTime(b.Uploaded))
	return noSpace(err)
}

// DeleteBlob forgets a party's upload of a file.
func (db *DB) DeleteBlob(ctx context.Context, sha, party string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM uploads WHERE sha256 = ? AND party = ?`, sha, party)
	return noSpace(err)
}

// Blob reads a party's upload of a file, or ("") the first of any party's.
func (db *DB) Blob(ctx context.Context, sha, party string) (*store.Blob, error) {
	b := store.Blob{SHA256: sha}
	var uploaded string
	err := db.r.QueryRowContext(ctx, `SELECT party, size, media_type, name, uploader, uploaded FROM uploads
		WHERE sha256 = ? AND (? = '' OR party = ?) ORDER BY uploaded, party LIMIT 1`, sha, party, party).
		Scan(&b.Party, &b.Size, &b.MediaType, &b.Name, &b.Uploader, &uploaded)
	if err != nil {
		return nil, found(err)
	}
	b.Uploaded = parseTime(uploaded)
	return &b, nil
}

// PutCustodialKey stores an encrypted custodial key.
func (db *DB) PutCustodialKey(ctx context.Context, member, keyID string, sealed []byte) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO custodial_keys (key_id, member, sealed) VALUES (?, ?, ?)`, keyID, member, sealed)
	return noSpace(err)
}

// CustodialKey returns an encrypted custodial key.
func (db *DB) CustodialKey(ctx context.Context, keyID string) (string, []byte, error) {
	var member string
	var sealed []byte
	err := db.r.QueryRowContext(ctx, `SELECT member, sealed FROM custodial_keys WHERE key_id = ?`, keyID).Scan(&member, &sealed)
	return member, sealed, found(err)
}

// PutPassword stores a password hash.
func (db *DB) PutPassword(ctx context.Context, member, hash string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO passwords (member, hash) VALUES (?, ?) ON CONFLICT (member) DO UPDATE SET hash = excluded.hash`, member, hash)
	return noSpace(err)
}

// Password reads a password hash.
func (db *DB) Password(ctx context.Context, member string) (string, error) {
	var h string
	err := db.r.QueryRowContext(ctx, `SELECT hash FROM passwords WHERE member = ?`, member).Scan(&h)
	return h, found(err)
}

// found maps a single-row read that found no row to store.ErrNotFound, the
// store's one way of saying so.
func found(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
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
