-- Notifications: what members chose to be told and where, and an outbox
-- of deliveries. E-mail addresses and webhook secrets (sealed with the
-- custody key) are kept here, never in the log.
CREATE TABLE subscriptions (
	member  TEXT PRIMARY KEY,
	email   TEXT NOT NULL,
	events  TEXT NOT NULL, -- space-separated
	hours   INTEGER NOT NULL,
	feed    BLOB UNIQUE,   -- SHA-256 of the feed token
	updated TEXT NOT NULL
);

CREATE TABLE webhooks (
	id      TEXT PRIMARY KEY,
	member  TEXT NOT NULL,
	url     TEXT NOT NULL,
	events  TEXT NOT NULL,
	secret  BLOB NOT NULL,
	created TEXT NOT NULL
);
CREATE INDEX webhooks_member ON webhooks (member);

CREATE TABLE deliveries (
	id       INTEGER PRIMARY KEY,
	event    TEXT NOT NULL,
	rtype    TEXT NOT NULL,
	rid      TEXT NOT NULL,
	idx      INTEGER NOT NULL,
	logged   TEXT NOT NULL,
	member   TEXT NOT NULL,
	channel  TEXT NOT NULL,
	target   TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next     INTEGER NOT NULL, -- Unix nanoseconds, to compare
	done     TEXT NOT NULL DEFAULT '',
	failed   INTEGER NOT NULL DEFAULT 0,
	err      TEXT NOT NULL DEFAULT '',
	UNIQUE (event, rtype, rid, idx, member, channel, target) -- an event of an entry once; a deadline's (idx 0) once
);
CREATE INDEX deliveries_due ON deliveries (next) WHERE done = '' AND failed = 0;
CREATE INDEX deliveries_member ON deliveries (member, channel, id);

-- The notifier follows the log by entry index.
CREATE INDEX history_idx ON history (idx);
