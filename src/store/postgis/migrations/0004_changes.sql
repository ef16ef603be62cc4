-- The change feed and the grid-set version (the same columns as the SQLite
-- store: see src/store/sqlite/migrations/0004_changes.sql).
--
-- Every committed change appends one row per thing it changed, in the same
-- transaction as the change. Identity values are handed out when a row is
-- inserted, not when it commits, so two writers could commit out of order
-- and a follower reading "after seq N" would skip the slower one for good:
-- the store takes a transaction-scoped advisory lock before it appends
-- (released at COMMIT), so sequence numbers become visible in order.
CREATE TABLE changes (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- grids, incident, hazard, route, patrol, roads
    kind    text   NOT NULL,
    -- The ids touched, as a JSON array of strings.
    ids     text   NOT NULL,
    actor   text   NOT NULL,
    -- Milliseconds since 1970 UTC.
    at      bigint NOT NULL,
    summary text   NOT NULL
);

-- The version of the whole grid set: a grid change names the version it was
-- planned on and bumps it inside its transaction (the row lock makes a
-- second change planned on the same version wait, then find 0 rows).
CREATE TABLE grid_set (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);
INSERT INTO grid_set (id, version) VALUES (1, 0);
