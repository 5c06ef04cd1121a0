-- A sealed entry's whole body is kept here too, with the record it is
-- about: who may read an opening follows who may see that record.
ALTER TABLE sealed ADD COLUMN body INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sealed ADD COLUMN rtype TEXT NOT NULL DEFAULT '';
ALTER TABLE sealed ADD COLUMN rid TEXT NOT NULL DEFAULT '';
CREATE INDEX sealed_idx ON sealed (idx);
