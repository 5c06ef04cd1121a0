-- The log: hash tiles and entry bundles at their widest stored width, and
-- every checkpoint signed.
CREATE TABLE tiles (
	level INTEGER NOT NULL,
	n     INTEGER NOT NULL,
	data  BLOB    NOT NULL,
	PRIMARY KEY (level, n)
);
-- A bundle still filling is kept as fragments appended batch by batch (first
-- is the byte offset of the fragment); a full bundle is one row at first = 0.
CREATE TABLE bundles (
	n     INTEGER NOT NULL,
	first INTEGER NOT NULL,
	data  BLOB    NOT NULL,
	PRIMARY KEY (n, first)
);
-- The committed tree: one row.
CREATE TABLE tree (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	size INTEGER NOT NULL,
	root BLOB    NOT NULL
);
CREATE TABLE checkpoints (
	size INTEGER PRIMARY KEY,
	note BLOB    NOT NULL
);

-- Projections: derived from the log, rebuilt by replay. Every index costs
-- each commit a rewrite of its rightmost page, so records have one
-- secondary index, covering every filter: a filtered list scans it newest
-- first and reads documents only for the rows it returns.
CREATE TABLE records (
	type     TEXT    NOT NULL,
	id       TEXT    NOT NULL,
	party    TEXT    NOT NULL,
	against  TEXT    NOT NULL,
	category TEXT    NOT NULL,
	status   TEXT    NOT NULL,
	member   TEXT    NOT NULL,
	parent   TEXT    NOT NULL,
	t_from   INTEGER NOT NULL,
	t_to     INTEGER NOT NULL,
	lat      REAL,
	lon      REAL,
	created  INTEGER NOT NULL,
	updated  INTEGER NOT NULL,
	doc      BLOB    NOT NULL,
	PRIMARY KEY (type, id)
);
CREATE INDEX records_list ON records (type, created, party, against, category, status, member, parent, t_from, t_to, lat, lon);

CREATE TABLE history (
	type   TEXT    NOT NULL,
	id     TEXT    NOT NULL,
	idx    INTEGER NOT NULL,
	kind   TEXT    NOT NULL,
	author TEXT    NOT NULL,
	logged TEXT    NOT NULL,
	PRIMARY KEY (type, id, idx)
) WITHOUT ROWID;

-- Outside the log: configuration and secrets (hashed).
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE tokens (
	hash    BLOB    PRIMARY KEY,
	member  TEXT    NOT NULL,
	created TEXT    NOT NULL,
	expires TEXT    NOT NULL,
	revoked INTEGER NOT NULL
);
CREATE TABLE passwords (
	member TEXT PRIMARY KEY,
	hash   TEXT NOT NULL
);
