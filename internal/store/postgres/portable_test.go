package postgres

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The SQL of this store is kept to what CockroachDB (v23.1 and later)
// also accepts, so that an operator may run the mechanism on either. No
// CockroachDB runs in this project's CI, so the migrations are checked by
// reading them, against the list below, chosen from what CockroachDB
// documents as unsupported or as behaving otherwise than PostgreSQL:
//
//   - sequences and what stands on them (SERIAL, IDENTITY, nextval):
//     CockroachDB's SERIAL is unique_rowid(), not consecutive, and its
//     sequences are slow and uncached across nodes; ids that must be in
//     order come from a row taken under its lock (counters, the tree);
//   - triggers, rules, functions, procedures and DO blocks (PL/pgSQL):
//     absent before v23.2/v24.3 and partial since; the store does in Go
//     what a trigger would;
//   - extensions (unaccent, pg_trgm, …), domains, enum and composite
//     types, table inheritance, exclusion constraints, tablespaces,
//     UNLOGGED tables, collations and CONCURRENTLY: none of them there;
//   - index methods other than B-tree and GIN (CockroachDB's inverted
//     index, which takes USING GIN; tsvector columns and GIN indexes on
//     them since v23.1): no GiST, BRIN, hash or SP-GiST;
//   - column types outside the common set below (no MONEY, XML, CIDR,
//     ranges, arrays of composites, …);
//   - changing a column's type (ALTER … TYPE), which CockroachDB runs
//     only as an experimental, non-transactional schema change;
//   - in one migration, both a schema change to a table that existed
//     before it and writes of rows: CockroachDB runs a schema change of an
//     existing table after its transaction commits, so the rows would be
//     written against the old schema.
//
// What is assumed supported, from CockroachDB's documentation: CREATE
// TABLE with PRIMARY KEY, UNIQUE and CHECK; partial indexes; tsvector with
// to_tsvector/to_tsquery and the 'simple' configuration; INSERT … ON
// CONFLICT … DO UPDATE/DO NOTHING; INSERT … SELECT; DELETE … RETURNING;
// SELECT … FOR UPDATE. The store's statements in Go use only these and
// are checked for the same forbidden words (TestQueriesPortable).

// forbidden are the constructs kept out, each with why.
var forbidden = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(`\b(SMALL|BIG)?SERIAL\b`), "SERIAL is unique_rowid() on CockroachDB: not consecutive"},
	{regexp.MustCompile(`\bCREATE\s+SEQUENCE\b|\bNEXTVAL\s*\(|\bSETVAL\s*\(|\bCURRVAL\s*\(`), "sequences differ on CockroachDB"},
	{regexp.MustCompile(`\bGENERATED\s+(ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY\b`), "identity columns are sequences"},
	{regexp.MustCompile(`\bCREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|TRIGGER|RULE|AGGREGATE)\b|\bCREATE\s+CONSTRAINT\s+TRIGGER\b`), "no functions, procedures, triggers or rules"},
	{regexp.MustCompile(`\$\$|\bLANGUAGE\b|(^|;)\s*DO\b`), "no PL/pgSQL"},
	{regexp.MustCompile(`\bCREATE\s+(EXTENSION|DOMAIN|TYPE|TABLESPACE|COLLATION|MATERIALIZED\s+VIEW)\b`), "no extensions, domains, types, tablespaces, collations or materialized views"},
	{regexp.MustCompile(`\bINHERITS\b|\bEXCLUDE\b|\bTABLESPACE\b|\bUNLOGGED\b|\bCOLLATE\b|\bCONCURRENTLY\b`), "no inheritance, exclusion constraints, tablespaces, unlogged tables, collations or concurrent index builds"},
	{regexp.MustCompile(`\bUSING\s+(GIST|BRIN|HASH|SPGIST)\b`), "only B-tree and GIN (inverted) indexes"},
	{regexp.MustCompile(`\bALTER\s+TABLE\b.*\bALTER\s+(COLUMN\s+)?\w+\s+(SET\s+DATA\s+)?TYPE\b`), "no changes of a column's type"},
	{regexp.MustCompile(`\bLOCK\s+TABLE\b|\bPG_ADVISORY_\w*|\bPG_IS_IN_RECOVERY\b|\bLISTEN\b|\bNOTIFY\b|::REGCLASS\b`), "PostgreSQL-only locks and functions"},
	{regexp.MustCompile(`\bUNACCENT\s*\(|\bSIMILARITY\s*\(|\bTS_HEADLINE\s*\(|\bWEBSEARCH_TO_TSQUERY\s*\(`), "functions of extensions or missing from CockroachDB's full-text search"},
}

// columnTypes are the types a column may have: integers by their width
// only, since INT and INTEGER are 32 bits on PostgreSQL and 64 on
// CockroachDB.
var columnTypes = []string{"INT8", "INT4", "INT2", "BIGINT", "SMALLINT", "TEXT", "BYTEA", "BOOL", "BOOLEAN",
	"FLOAT8", "DOUBLE PRECISION", "TSVECTOR", "JSONB", "TIMESTAMPTZ", "DATE", "UUID", "NUMERIC"}

// statements splits a migration into its statements, upper case, without
// comments, each on one line.
func statements(sql string) []string {
	var lines []string
	for _, l := range strings.Split(sql, "\n") {
		if i := strings.Index(l, "--"); i >= 0 {
			l = l[:i]
		}
		lines = append(lines, l)
	}
	var out []string
	for _, s := range strings.Split(strings.Join(lines, "\n"), ";") {
		if s = strings.Join(strings.Fields(strings.ToUpper(s)), " "); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var (
	createTable = regexp.MustCompile(`^CREATE TABLE (IF NOT EXISTS )?(\w+) \((.*)\)$`)
	createIndex = regexp.MustCompile(`^CREATE (UNIQUE )?INDEX (IF NOT EXISTS )?\w+ ON (\w+)`)
	alterTable  = regexp.MustCompile(`^ALTER TABLE (IF EXISTS )?(\w+) (.*)$`)
	addColumn   = regexp.MustCompile(`ADD (COLUMN )?(IF NOT EXISTS )?(\w+) (.*)$`)
	writes      = regexp.MustCompile(`^(INSERT|UPDATE|DELETE|UPSERT)\b`)
	kinds       = regexp.MustCompile(`^(CREATE TABLE|CREATE (UNIQUE )?INDEX|ALTER TABLE|DROP INDEX|DROP TABLE|INSERT INTO|UPDATE|DELETE FROM)\b`)
)

// portable lists what in one migration CockroachDB would not take.
func portable(sql string) []string {
	var bad []string
	created := map[string]bool{}
	var altered []string
	wrote := false
	for _, s := range statements(sql) {
		for _, f := range forbidden {
			if m := f.re.FindString(s); m != "" {
				bad = append(bad, fmt.Sprintf("%q: %s", m, f.why))
			}
		}
		if !kinds.MatchString(s) {
			bad = append(bad, fmt.Sprintf("%.40q…: not a statement a migration may hold", s))
			continue
		}
		wrote = wrote || writes.MatchString(s)
		if m := createTable.FindStringSubmatch(s); m != nil {
			created[m[2]] = true
			for _, col := range columns(m[3]) {
				bad = append(bad, columnType(m[2], col)...)
			}
		}
		if m := createIndex.FindStringSubmatch(s); m != nil && !created[m[3]] {
			altered = append(altered, m[3])
		}
		if m := alterTable.FindStringSubmatch(s); m != nil {
			if !created[m[2]] {
				altered = append(altered, m[2])
			}
			if c := addColumn.FindStringSubmatch(m[3]); c != nil {
				bad = append(bad, columnType(m[2], c[3]+" "+c[4])...)
			}
		}
	}
	if wrote && len(altered) > 0 {
		slices.Sort(altered)
		bad = append(bad, fmt.Sprintf("writes rows and changes the schema of tables it did not create (%s)", strings.Join(slices.Compact(altered), ", ")))
	}
	return bad
}

// columns splits a CREATE TABLE's body at its top-level commas and
// returns the column definitions (not the table's constraints).
func columns(body string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range body + "," {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				item := strings.TrimSpace(body[start:min(i, len(body))])
				start = i + 1
				if !regexp.MustCompile(`^(PRIMARY KEY|UNIQUE|CHECK|CONSTRAINT|FOREIGN KEY)\b`).MatchString(item) {
					out = append(out, item)
				}
			}
		}
	}
	return out
}

func columnType(table, def string) []string {
	f := strings.Fields(def)
	if len(f) < 2 {
		return []string{fmt.Sprintf("%s: column %q has no type", table, def)}
	}
	typ := f[1]
	if typ == "DOUBLE" && len(f) > 2 {
		typ += " " + f[2]
	}
	if !slices.Contains(columnTypes, typ) {
		return []string{fmt.Sprintf("%s.%s: type %s is not one both databases have alike", table, f[0], typ)}
	}
	return nil
}

// TestMigrationsPortable reads every migration for what CockroachDB does
// not take.
func TestMigrationsPortable(t *testing.T) {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	for _, n := range names {
		b, err := fs.ReadFile(migrations, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range portable(string(b)) {
			t.Errorf("%s: %s", n, p)
		}
	}
}

// TestQueriesPortable reads the store's Go source for the same forbidden
// constructs in the statements it runs.
func TestQueriesPortable(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Only the SQL: the raw strings of the file.
		for _, s := range regexp.MustCompile("(?s)`[^`]*`").FindAllString(string(b), -1) {
			s = strings.ToUpper(s)
			for _, fb := range forbidden {
				if m := fb.re.FindString(s); m != "" {
					t.Errorf("%s: %q: %s", f, m, fb.why)
				}
			}
		}
	}
}

// TestPortableCatches: the check finds what it is there to find.
func TestPortableCatches(t *testing.T) {
	for _, sql := range []string{
		`CREATE TABLE a (id SERIAL PRIMARY KEY);`,
		`CREATE TABLE a (id INT8 GENERATED ALWAYS AS IDENTITY);`,
		`CREATE SEQUENCE s;`,
		`CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN END $$ LANGUAGE plpgsql;`,
		`CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION f();`,
		`DO $$ BEGIN END $$;`,
		`CREATE EXTENSION unaccent;`,
		`CREATE TABLE a (x MONEY);`,
		`CREATE TABLE a (x INT8); CREATE INDEX a_x ON a USING GIST (x);`,
		`ALTER TABLE a ALTER COLUMN x TYPE TEXT;`,
		`ALTER TABLE a ADD COLUMN y INT8; UPDATE a SET y = 1;`,
		`CREATE INDEX CONCURRENTLY a_x ON a (x);`,
		`CREATE UNLOGGED TABLE a (x INT8);`,
		`LOCK TABLE a;`,
	} {
		if len(portable(sql)) == 0 {
			t.Errorf("passed as portable: %s", sql)
		}
	}
	if bad := portable(`CREATE TABLE a (x INT8 NOT NULL, w TSVECTOR, PRIMARY KEY (x)); CREATE INDEX a_w ON a USING GIN (w); INSERT INTO a (x) VALUES (1);`); len(bad) != 0 {
		t.Errorf("a portable migration refused: %v", bad)
	}
}

// TestMigrationsAdditive keeps every migration after the first to adding
// tables, columns and indexes: during an upgrade a process of the older
// build still serves beside the migrated schema (a standby upgraded
// first, then the leader), which it could not if what it reads were
// dropped, renamed or retyped.
func TestMigrationsAdditive(t *testing.T) {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v %v", names, err)
	}
	subtractive := regexp.MustCompile(`(?i)\bDROP\s+(TABLE|COLUMN|INDEX|CONSTRAINT)\b|\bRENAME\b|\bALTER\s+(COLUMN\s+)?\w+\s+(SET\s+DATA\s+)?TYPE\b|\bALTER\s+COLUMN\s+\w+\s+SET\s+NOT\s+NULL\b|\bDELETE\s+FROM\b|\bTRUNCATE\b`)
	for _, name := range names[1:] {
		b, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range statements(string(b)) {
			if m := subtractive.FindString(st); m != "" {
				t.Errorf("%s: %q: a later migration may only add, so that the older build keeps working beside it", name, m)
			}
		}
	}
}
