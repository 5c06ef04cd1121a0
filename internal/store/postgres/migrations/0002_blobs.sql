-- Evidence files, kept in the database by their SHA-256, so that every
-- process over it (a standby on another machine) reads the files any of
-- them received. (Migration 0001's uploads table records who uploaded
-- them; it said they were under DIR/blobs, which remains so for SQLite.)
--
-- A file is one row of blob_files and its bytes in rows of 1 MiB of
-- blob_chunks, numbered from 0, all written in the transaction that adds
-- its blob_files row: a file is there whole or not at all, and a reader
-- fetches only the chunks it reads.
CREATE TABLE blob_files (
	sha256  TEXT        PRIMARY KEY,
	size    INT8        NOT NULL CHECK (size >= 0),
	created TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE blob_chunks (
	sha256 TEXT  NOT NULL,
	n      INT8  NOT NULL CHECK (n >= 0),
	data   BYTEA NOT NULL,
	PRIMARY KEY (sha256, n)
);
