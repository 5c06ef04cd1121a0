package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/truce-mvm/truce/internal/tlog"
)

// Table is a table of the store's schema as Dump copies it: its name and
// the columns copied, in order.
type Table struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
}

// State is what a snapshot holds of the log: the committed tree, its
// newest checkpoint (nil if none), and the meta values asked for.
type State struct {
	Size       int64
	Root       tlog.Hash
	Checkpoint []byte
	Meta       map[string]string
}

// Snapshot describes what Dump copied.
type Snapshot struct {
	// Schema is the schema version: the number of migrations applied.
	Schema int
	Tables []Table
	State
}

// Dump copies every table of the database's schema (the current schema,
// as the URL's search_path names it) in COPY's text format to the writer
// out gives for it, and reads the log's state, all in one REPEATABLE READ
// READ ONLY transaction: one consistent snapshot, taken beside processes
// that keep appending (they are not blocked), whose tables agree with
// each other and with the state returned.
//
// Every table of the schema is copied, not a list this package keeps, so
// that tables added by later migrations are in every dump without a
// change here. COPY in one transaction is used rather than pg_dump: no
// client binary whose version must match the server's, nothing that names
// the schema (a dump loads into any empty schema), and each table's bytes
// can be hashed and checked before they are loaded (NewLoader). Generated
// columns are left out, as COPY FROM could not take them.
func Dump(ctx context.Context, url string, out func(table string) (io.WriteCloser, error), metaKeys ...string) (*Snapshot, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("database address: %w", err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.Background())
	snap := &Snapshot{}
	if err := tx.QueryRow(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&snap.Schema); err != nil {
		return nil, fmt.Errorf("the schema version: %w", err)
	}
	if snap.Tables, err = tables(ctx, tx); err != nil {
		return nil, err
	}
	for _, t := range snap.Tables {
		w, err := out(t.Name)
		if err != nil {
			return nil, err
		}
		_, err = tx.Conn().PgConn().CopyTo(ctx, w, "COPY "+t.quoted()+" TO STDOUT")
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("copying table %s: %w", t.Name, err)
		}
	}
	if snap.State, err = state(ctx, tx, metaKeys); err != nil {
		return nil, err
	}
	return snap, tx.Commit(ctx)
}

// quoted is the table and its columns as COPY names them.
func (t Table) quoted() string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	return pgx.Identifier{t.Name}.Sanitize() + " (" + strings.Join(cols, ", ") + ")"
}

// tables lists the tables of the current schema and their columns that
// COPY can fill, in name and column order.
func tables(ctx context.Context, tx pgx.Tx) ([]Table, error) {
	rows, err := tx.Query(ctx, `SELECT c.table_name, c.column_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.is_generated <> 'ALWAYS'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Table
	for rows.Next() {
		var name, col string
		if err := rows.Scan(&name, &col); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, Table{Name: name})
		}
		out[len(out)-1].Columns = append(out[len(out)-1].Columns, col)
	}
	return out, rows.Err()
}

// state reads the log's state as the store keeps it.
func state(ctx context.Context, tx pgx.Tx, metaKeys []string) (State, error) {
	var s State
	var root []byte
	err := tx.QueryRow(ctx, `SELECT size, root FROM tree WHERE id = 1`).Scan(&s.Size, &root)
	if err != nil {
		return s, fmt.Errorf("the tree: %w", err)
	}
	if s.Size > 0 {
		if len(root) != len(s.Root) {
			return s, fmt.Errorf("the tree's root is %d bytes", len(root))
		}
		copy(s.Root[:], root)
	}
	err = tx.QueryRow(ctx, `SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1`).Scan(&s.Checkpoint)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("the newest checkpoint: %w", err)
	}
	s.Meta = map[string]string{}
	for _, k := range metaKeys {
		var v string
		err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, k).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return s, err
		}
		s.Meta[k] = v
	}
	return s, nil
}

// Loader loads a dump into a database schema that holds no table, in one
// transaction: nothing is there for anyone to see until Commit, and
// nothing is left if it is not called.
type Loader struct {
	conn    *pgx.Conn
	tx      pgx.Tx
	tables  map[string]Table
	foreign []string // the dump's tables that are not the store's
	copied  map[string]bool
	done    bool
}

// NewLoader begins loading a dump of schema version schema whose tables
// are tables into the database at url. It refuses a schema that holds any
// table (an instance, or anything else), and a version this build does
// not know. It creates the tables as this build's first schema migrations
// make them, checks that the dump has each of them (names and columns),
// and empties the rows those migrations insert, so that the dump's rows
// take their place. A table of the dump that the migrations do not make
// was not the store's (an extension's, or the operator's, in the same
// schema): it is not loaded (Foreign). Close must be called.
func NewLoader(ctx context.Context, url string, schema int, tables []Table) (*Loader, error) {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	if schema < 1 || schema > len(names) {
		return nil, fmt.Errorf("the dump is of schema version %d; this build knows versions 1 to %d", schema, len(names))
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("database address: %w", err)
	}
	l := &Loader{conn: conn, tables: map[string]Table{}, copied: map[string]bool{}}
	if err := l.begin(ctx, names[:schema], tables); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Loader) begin(ctx context.Context, scripts []string, tables []Table) error {
	var current *string
	if err := l.conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
		return err
	}
	if current == nil {
		return errors.New("the database's search_path names no schema that exists: create it first")
	}
	var n int
	if err := l.conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		var origin string
		if l.conn.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'origin'`).Scan(&origin) == nil {
			return fmt.Errorf("the database already holds the instance %s (schema %s)", origin, *current)
		}
		return fmt.Errorf("the database's schema %s already holds %d tables: restore into an empty one", *current, n)
	}
	var err error
	if l.tx, err = l.conn.Begin(ctx); err != nil {
		return err
	}
	// As migrate keeps the version, in the same transaction as the tables.
	if _, err := l.tx.Exec(ctx, `CREATE TABLE schema_version (id INT8 PRIMARY KEY CHECK (id = 1), version INT8 NOT NULL)`); err != nil {
		return err
	}
	for _, name := range scripts {
		script, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		if _, err := l.tx.Exec(ctx, string(script)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	made, err := tablesOf(ctx, l.tx)
	if err != nil {
		return err
	}
	var quoted []string
	seen := map[string]bool{}
	for _, t := range tables {
		if seen[t.Name] {
			return fmt.Errorf("the dump names table %s twice", t.Name)
		}
		seen[t.Name] = true
		have, ok := made[t.Name]
		if !ok {
			l.foreign = append(l.foreign, t.Name)
			continue
		}
		l.tables[t.Name] = t
		if a, b := slices.Sorted(slices.Values(t.Columns)), slices.Sorted(slices.Values(have)); !slices.Equal(a, b) {
			return fmt.Errorf("the dump's table %s has columns %v; schema version %d has %v", t.Name, t.Columns, len(scripts), have)
		}
		quoted = append(quoted, pgx.Identifier{t.Name}.Sanitize())
	}
	for name := range made {
		if !seen[name] {
			return fmt.Errorf("the dump has no table %s, which schema version %d has", name, len(scripts))
		}
	}
	_, err = l.tx.Exec(ctx, "TRUNCATE "+strings.Join(quoted, ", "))
	return err
}

// tablesOf maps the current schema's tables to their columns.
func tablesOf(ctx context.Context, tx pgx.Tx) (map[string][]string, error) {
	ts, err := tables(ctx, tx)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, t := range ts {
		out[t.Name] = t.Columns
	}
	return out, nil
}

// Foreign lists the tables of the dump that are not the store's, which
// are not loaded.
func (l *Loader) Foreign() []string { return l.foreign }

// Copy loads a table's rows from r, in COPY's text format as Dump wrote
// them; a foreign table's are read and dropped. Each table of the dump is
// copied once.
func (l *Loader) Copy(ctx context.Context, table string, r io.Reader) error {
	t, ok := l.tables[table]
	if !ok && slices.Contains(l.foreign, table) && !l.copied[table] {
		l.copied[table] = true
		_, err := io.Copy(io.Discard, r)
		return err
	}
	if !ok || l.copied[table] {
		return fmt.Errorf("table %s is not in the dump, or was copied already", table)
	}
	l.copied[table] = true
	if _, err := l.tx.Conn().PgConn().CopyFrom(ctx, r, "COPY "+t.quoted()+" FROM STDIN"); err != nil {
		return fmt.Errorf("loading table %s: %w", table, err)
	}
	return nil
}

// State reads the log's state from what was loaded, before it is
// committed.
func (l *Loader) State(ctx context.Context, metaKeys ...string) (State, error) {
	return state(ctx, l.tx, metaKeys)
}

// Commit makes what was loaded visible, once every table was copied.
func (l *Loader) Commit(ctx context.Context) error {
	for name := range l.tables {
		if !l.copied[name] {
			return fmt.Errorf("table %s was not loaded", name)
		}
	}
	if err := l.tx.Commit(ctx); err != nil {
		return err
	}
	l.done = true
	return nil
}

// Close undoes everything unless Commit was called, and disconnects.
func (l *Loader) Close() {
	ctx := context.Background()
	if l.tx != nil && !l.done {
		l.tx.Rollback(ctx)
	}
	l.conn.Close(ctx)
}

// ReadTile reads a hash tile (level ≥ 0) from what was loaded, before it
// is committed, so that the loaded tree can be checked; entry bundles are
// not read this way.
func (l *Loader) ReadTile(ctx context.Context, level int, n int64) ([]byte, error) {
	if level < 0 {
		return nil, errors.New("entry bundles are not read from a load in progress")
	}
	var data []byte
	err := l.tx.QueryRow(ctx, `SELECT data FROM tiles WHERE level = $1 AND n = $2`, level, n).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, tlog.ErrNotFound
	}
	return data, err
}
