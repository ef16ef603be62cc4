-- The change feed and the grid-set version (the same columns as the PostGIS
-- store: see src/store/postgis/migrations/0004_changes.sql).
--
-- Every committed change appends one row per thing it changed, in the same
-- transaction as the change: other processes and reconnecting clients catch
-- up by reading the rows after the last sequence number they saw.
-- AUTOINCREMENT, not a plain rowid: a sequence number is never reused, even
-- after the newest rows are deleted. SQLite has one writer at a time, so the
-- numbers commit in order.
CREATE TABLE changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    -- grids, incident, hazard, route, patrol, roads
    kind    TEXT    NOT NULL,
    -- The ids touched, as a JSON array of strings.
    ids     TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    -- Milliseconds since 1970 UTC.
    at      INTEGER NOT NULL,
    summary TEXT    NOT NULL
);

-- The version of the whole grid set: a grid change names the version it was
-- planned on and bumps it inside its transaction, so two changes planned on
-- the same version cannot both commit.
CREATE TABLE grid_set (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO grid_set (id, version) VALUES (1, 0);
