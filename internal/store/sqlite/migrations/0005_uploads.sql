-- A file's record is kept per party that uploaded it, not only for the first
-- uploader: each side reads the files its own members uploaded, under the
-- name and media type they gave, whoever else holds the same bytes.
CREATE TABLE uploads (
	sha256     TEXT    NOT NULL,
	party      TEXT    NOT NULL,
	size       INTEGER NOT NULL,
	media_type TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	uploader   TEXT    NOT NULL,
	uploaded   TEXT    NOT NULL,
	PRIMARY KEY (sha256, party)
);
INSERT INTO uploads (sha256, party, size, media_type, name, uploader, uploaded)
	SELECT sha256, party, size, media_type, name, uploader, uploaded FROM blobs;
DROP TABLE blobs;
