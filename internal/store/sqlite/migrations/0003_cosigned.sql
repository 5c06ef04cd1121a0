-- A checkpoint's note gains witness cosignatures once enough witnesses
-- have checked it; only such checkpoints are published.
ALTER TABLE checkpoints ADD COLUMN cosigned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX checkpoints_cosigned ON checkpoints (size) WHERE cosigned = 1;
