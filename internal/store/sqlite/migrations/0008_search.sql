-- Full-text search over what people write in records: one row per
-- searchable record, by the record's rowid (stable across upserts).
CREATE VIRTUAL TABLE search USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
