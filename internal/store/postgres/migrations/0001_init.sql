-- The schema of the PostgreSQL store: the same tables as SQLite's
-- migrations 0001–0010 arrive at, in types both PostgreSQL and CockroachDB
-- take (see TestMigrationsPortable for what is kept out).

-- The log: hash tiles and entry bundles at their widest stored width, and
-- every checkpoint signed.
CREATE TABLE tiles (
	level INT8  NOT NULL,
	n     INT8  NOT NULL,
	data  BYTEA NOT NULL,
	PRIMARY KEY (level, n)
);
-- A bundle is kept as the fragments batches appended to it (first is the
-- byte offset of the fragment), full or not: a read joins them.
CREATE TABLE bundles (
	n     INT8  NOT NULL,
	first INT8  NOT NULL,
	data  BYTEA NOT NULL,
	PRIMARY KEY (n, first)
);
-- The committed tree: one row, there from the start, which every batch
-- locks (SELECT … FOR UPDATE) so that batches commit one after another.
CREATE TABLE tree (
	id   INT8  PRIMARY KEY CHECK (id = 1),
	size INT8  NOT NULL,
	root BYTEA NOT NULL
);
INSERT INTO tree (id, size, root) VALUES (1, 0, '');
-- A checkpoint's note gains witness cosignatures once enough witnesses
-- have checked it; only such checkpoints are published.
CREATE TABLE checkpoints (
	size     INT8  PRIMARY KEY,
	note     BYTEA NOT NULL,
	cosigned BOOL  NOT NULL DEFAULT false
);
CREATE INDEX checkpoints_cosigned ON checkpoints (size) WHERE cosigned;

-- Projections: derived from the log, rebuilt by replay. seq is the order
-- in which records were first written (the batch assigns it under the
-- tree's lock), which search lists newest first.
CREATE TABLE records (
	type       TEXT   NOT NULL,
	id         TEXT   NOT NULL,
	seq        INT8   NOT NULL UNIQUE,
	party      TEXT   NOT NULL,
	against    TEXT   NOT NULL,
	category   TEXT   NOT NULL,
	status     TEXT   NOT NULL,
	member     TEXT   NOT NULL,
	parent     TEXT   NOT NULL,
	visibility TEXT   NOT NULL,
	owner      TEXT   NOT NULL,
	t_from     INT8   NOT NULL,
	t_to       INT8   NOT NULL,
	lat        FLOAT8,
	lon        FLOAT8,
	created    INT8   NOT NULL,
	updated    INT8   NOT NULL,
	doc        BYTEA  NOT NULL,
	PRIMARY KEY (type, id)
);
CREATE INDEX records_list ON records (type, created, visibility, owner, party, against, category, status, member, parent, t_from, t_to, lat, lon);
CREATE INDEX records_updated ON records (type, updated);

-- The document fields records are looked up by (store.Findable), one row
-- per record and field, written with the record: a table rather than an
-- expression index over the document, which would need the document as
-- JSON and an immutable cast from bytes.
CREATE TABLE record_keys (
	type    TEXT NOT NULL,
	id      TEXT NOT NULL,
	field   TEXT NOT NULL,
	value   TEXT NOT NULL,
	created INT8 NOT NULL,
	PRIMARY KEY (type, id, field)
);
CREATE INDEX record_keys_value ON record_keys (type, field, value, created);

-- Full-text search over what people write in records: one row per
-- searchable record, by the record's seq. words is the text's words as
-- store.SearchWords reads them (lower case, Latin diacritics removed),
-- made into a tsvector with the 'simple' configuration: no stemming and
-- no stop words, in any script.
CREATE TABLE search (
	seq   INT8     PRIMARY KEY,
	title TEXT     NOT NULL,
	body  TEXT     NOT NULL,
	words TSVECTOR NOT NULL
);
CREATE INDEX search_words ON search USING GIN (words);

CREATE TABLE history (
	type      TEXT NOT NULL,
	id        TEXT NOT NULL,
	idx       INT8 NOT NULL,
	kind      TEXT NOT NULL,
	author    TEXT NOT NULL,
	logged    TEXT NOT NULL,
	custodial BOOL NOT NULL DEFAULT false,
	PRIMARY KEY (type, id, idx)
);
CREATE INDEX history_idx ON history (idx);

-- What sealed commitments in the log hide, by the entry they open, with
-- the record the entry is about: who may read an opening follows who may
-- see that record. A sealed entry's whole body is kept here too (body).
CREATE TABLE sealed (
	idx        INT8  NOT NULL,
	commitment TEXT  NOT NULL,
	salt       BYTEA NOT NULL,
	content    BYTEA NOT NULL,
	body       BOOL  NOT NULL DEFAULT false,
	rtype      TEXT  NOT NULL DEFAULT '',
	rid        TEXT  NOT NULL DEFAULT '',
	PRIMARY KEY (idx, commitment)
);

-- Outside the log: configuration and secrets (hashed).
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE tokens (
	hash    BYTEA PRIMARY KEY,
	id      TEXT  NOT NULL DEFAULT '',
	name    TEXT  NOT NULL DEFAULT '',
	member  TEXT  NOT NULL,
	scopes  TEXT  NOT NULL DEFAULT 'read write',
	created TEXT  NOT NULL,
	expires TEXT  NOT NULL,
	revoked BOOL  NOT NULL
);
CREATE INDEX tokens_member ON tokens (member);
CREATE TABLE passwords (
	member TEXT PRIMARY KEY,
	hash   TEXT NOT NULL
);
-- Browser sessions, by the hash of the cookie.
CREATE TABLE sessions (
	hash    BYTEA PRIMARY KEY,
	member  TEXT  NOT NULL,
	csrf    TEXT  NOT NULL,
	created TEXT  NOT NULL,
	expires TEXT  NOT NULL
);
CREATE INDEX sessions_member ON sessions (member);
-- One-time links that let a member set a password.
CREATE TABLE invites (
	hash    BYTEA PRIMARY KEY,
	member  TEXT  NOT NULL,
	created TEXT  NOT NULL,
	expires TEXT  NOT NULL
);
CREATE INDEX invites_member ON invites (member);

-- Keys the server holds for members who work in the browser, encrypted
-- with the instance's custody key.
CREATE TABLE custodial_keys (
	key_id TEXT  PRIMARY KEY,
	member TEXT  NOT NULL,
	sealed BYTEA NOT NULL
);
CREATE INDEX custodial_member ON custodial_keys (member);

-- Who uploaded the evidence files kept under DIR/blobs: one row per file
-- and party.
CREATE TABLE uploads (
	sha256     TEXT NOT NULL,
	party      TEXT NOT NULL,
	size       INT8 NOT NULL,
	media_type TEXT NOT NULL,
	name       TEXT NOT NULL,
	uploader   TEXT NOT NULL,
	uploaded   TEXT NOT NULL,
	PRIMARY KEY (sha256, party)
);

-- Notifications: what members chose to be told and where, and an outbox
-- of deliveries. E-mail addresses and webhook secrets (sealed with the
-- custody key) are kept here, never in the log.
CREATE TABLE subscriptions (
	member  TEXT  PRIMARY KEY,
	email   TEXT  NOT NULL,
	events  TEXT  NOT NULL, -- space-separated
	hours   INT8  NOT NULL,
	feed    BYTEA UNIQUE,   -- SHA-256 of the feed token
	updated TEXT  NOT NULL
);
CREATE TABLE webhooks (
	id      TEXT  PRIMARY KEY,
	member  TEXT  NOT NULL,
	url     TEXT  NOT NULL,
	events  TEXT  NOT NULL,
	secret  BYTEA NOT NULL,
	created TEXT  NOT NULL
);
CREATE INDEX webhooks_member ON webhooks (member);
-- Delivery ids come from the counters row 'deliveries', taken under its
-- row lock by Enqueue: ordered as enqueued, with no sequence (whose
-- semantics CockroachDB does not share).
CREATE TABLE deliveries (
	id       INT8 PRIMARY KEY,
	event    TEXT NOT NULL,
	rtype    TEXT NOT NULL,
	rid      TEXT NOT NULL,
	idx      INT8 NOT NULL,
	logged   TEXT NOT NULL,
	member   TEXT NOT NULL,
	channel  TEXT NOT NULL,
	target   TEXT NOT NULL,
	attempts INT8 NOT NULL DEFAULT 0,
	next     INT8 NOT NULL, -- Unix nanoseconds, to compare
	done     TEXT NOT NULL DEFAULT '',
	failed   BOOL NOT NULL DEFAULT false,
	err      TEXT NOT NULL DEFAULT '',
	UNIQUE (event, rtype, rid, idx, member, channel, target) -- an event of an entry once; a deadline's (idx 0) once
);
CREATE INDEX deliveries_due ON deliveries (next) WHERE done = '' AND NOT failed;
CREATE INDEX deliveries_member ON deliveries (member, channel, id);
CREATE TABLE counters (
	name TEXT PRIMARY KEY,
	n    INT8 NOT NULL
);
INSERT INTO counters (name, n) VALUES ('deliveries', 0);
