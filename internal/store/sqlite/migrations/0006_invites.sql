-- One-time links that let a member set a password: to enrol, or to reset
-- a forgotten one. Only the hash of a link's token is kept.
CREATE TABLE invites (
	hash    BLOB PRIMARY KEY,
	member  TEXT NOT NULL,
	created TEXT NOT NULL,
	expires TEXT NOT NULL
);
