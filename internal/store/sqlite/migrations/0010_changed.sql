-- What changed since a reader last looked: records by the index of the
-- last entry that touched them (truce.Query.Since).
CREATE INDEX records_updated ON records (type, updated);
