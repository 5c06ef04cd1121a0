-- Leadership: of the processes serving one database, only the holder of
-- the lease sequences. term grows by one with each new holder and is the
-- fencing token every batch checks under the tree's lock: a holder that
-- lost the lease (paused, cut off) cannot append after another took it.
-- expires is the database's clock, the one clock every process shares.
CREATE TABLE lease (
	id      INT8        PRIMARY KEY CHECK (id = 1),
	term    INT8        NOT NULL,
	holder  TEXT        NOT NULL,
	addr    TEXT        NOT NULL,
	expires TIMESTAMPTZ NOT NULL
);
INSERT INTO lease (id, term, holder, addr, expires) VALUES (1, 0, '', '', '1970-01-01T00:00:00Z');
