-- Openings are kept by the entry they open, in log order (appends, not
-- random inserts by commitment), with the record the entry is about: who
-- may read an opening follows who may see that record. A sealed entry's
-- whole body is kept here too (body = 1).
CREATE TABLE sealed_by_entry (
	idx        INTEGER NOT NULL,
	commitment TEXT    NOT NULL,
	salt       BLOB    NOT NULL,
	content    BLOB    NOT NULL,
	body       INTEGER NOT NULL DEFAULT 0,
	rtype      TEXT    NOT NULL DEFAULT '',
	rid        TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (idx, commitment)
) WITHOUT ROWID;
INSERT INTO sealed_by_entry (idx, commitment, salt, content) SELECT idx, commitment, salt, content FROM sealed;
DROP TABLE sealed;
ALTER TABLE sealed_by_entry RENAME TO sealed;
