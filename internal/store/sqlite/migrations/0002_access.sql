-- Who may read each record.
ALTER TABLE records ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
ALTER TABLE records ADD COLUMN owner TEXT NOT NULL DEFAULT '';
DROP INDEX records_list;
CREATE INDEX records_list ON records (type, created, visibility, owner, party, against, category, status, member, parent, t_from, t_to, lat, lon);

-- Entries the server signed for a member with a custodial key.
ALTER TABLE history ADD COLUMN custodial INTEGER NOT NULL DEFAULT 0;

-- Tokens are named and scoped; their id is the first bytes of the hash.
ALTER TABLE tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read write';
CREATE INDEX tokens_member ON tokens (member);

-- Browser sessions, by the hash of the cookie.
CREATE TABLE sessions (
	hash    BLOB PRIMARY KEY,
	member  TEXT NOT NULL,
	csrf    TEXT NOT NULL,
	created TEXT NOT NULL,
	expires TEXT NOT NULL
);

-- What sealed commitments in the log hide: kept here, out of the log,
-- shown only to those who may see it.
CREATE TABLE sealed (
	commitment TEXT    PRIMARY KEY,
	idx        INTEGER NOT NULL,
	salt       BLOB    NOT NULL,
	content    BLOB    NOT NULL
);

-- Keys the server holds for members who work in the browser, encrypted
-- with the instance's custody key.
CREATE TABLE custodial_keys (
	key_id TEXT PRIMARY KEY,
	member TEXT NOT NULL,
	sealed BLOB NOT NULL
);
CREATE INDEX custodial_member ON custodial_keys (member);

-- Evidence files, stored by hash under DIR/blobs; who uploaded them.
CREATE TABLE blobs (
	sha256     TEXT    PRIMARY KEY,
	size       INTEGER NOT NULL,
	media_type TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	uploader   TEXT    NOT NULL,
	party      TEXT    NOT NULL,
	uploaded   TEXT    NOT NULL
);
