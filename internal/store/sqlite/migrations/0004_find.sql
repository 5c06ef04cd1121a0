-- Sources are looked up by their raw page's hash and by their address
-- (store.Findable), so that nothing is read twice. Partial indexes: only
-- source rows pay for them at commit.
CREATE INDEX records_source_sha256 ON records (json_extract(CAST(doc AS TEXT), '$.sha256'), created) WHERE type = 'source';
CREATE INDEX records_source_url ON records (json_extract(CAST(doc AS TEXT), '$.url'), created) WHERE type = 'source';
