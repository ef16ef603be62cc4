-- The grids: one row per polygon of the county's five-level hierarchy.
--
-- STRICT makes SQLite enforce the declared column types, so a row read back
-- always decodes (a REAL is a REAL, a BLOB a BLOB).
--
-- `rid` is an explicit INTEGER PRIMARY KEY, i.e. the rowid made stable: VACUUM
-- may renumber the implicit rowid of a table without one, and the R*Tree below
-- refers to grids by rowid. The grid's own id is the UNIQUE text column `id`,
-- which is what parent_id references and what the store's API speaks.
--
-- The bbox columns come before `properties` and `geom` so that a scan of them
-- stays on the row's first page and never touches a large geometry's overflow
-- pages. They are NULL only for an empty geometry.
CREATE TABLE grids (
    rid        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    level      INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    -- Deferred: a write that replaces a parent and its children in one
    -- transaction is checked once, at COMMIT, whatever the order of rows.
    parent_id  TEXT    NULL REFERENCES grids (id) DEFERRABLE INITIALLY DEFERRED,
    name       TEXT    NOT NULL,
    min_lon    REAL    NULL,
    min_lat    REAL    NULL,
    max_lon    REAL    NULL,
    max_lat    REAL    NULL,
    -- A JSON object as text, byte for byte as serialised, so key order survives.
    properties TEXT    NOT NULL CHECK (json_valid(properties) AND json_type(properties) = 'object'),
    -- The boundary as 2D WKB (crate::geom::wkb), a MultiPolygon in lon/lat degrees.
    geom       BLOB    NOT NULL
) STRICT;

CREATE INDEX grids_parent_id ON grids (parent_id);
CREATE INDEX grids_level_id ON grids (level, id);

-- An R*Tree over the grids' bounding boxes, kept in step by triggers.
--
-- Why, for a county of a few thousand grids: a bbox query is what every map
-- tile and every `?bbox=` request asks, and most boxes are small. The R*Tree
-- answers them in O(log n + k) instead of reading every row; plain B-tree
-- indexes on the four bbox columns can only narrow one axis at a time. The
-- cost is three triggers and a second small table (bundled SQLite has the
-- module built in). The R*Tree stores 32-bit floats rounded outwards, so it
-- only ever returns a superset; the store then tests the exact geometry.
CREATE VIRTUAL TABLE grids_bbox USING rtree (
    rid,
    min_lon, max_lon,
    min_lat, max_lat
);

CREATE TRIGGER grids_bbox_insert AFTER INSERT ON grids
WHEN new.min_lon IS NOT NULL
BEGIN
    INSERT INTO grids_bbox (rid, min_lon, max_lon, min_lat, max_lat)
    VALUES (new.rid, new.min_lon, new.max_lon, new.min_lat, new.max_lat);
END;

CREATE TRIGGER grids_bbox_delete AFTER DELETE ON grids
BEGIN
    DELETE FROM grids_bbox WHERE rid = old.rid;
END;

CREATE TRIGGER grids_bbox_update AFTER UPDATE ON grids
BEGIN
    DELETE FROM grids_bbox WHERE rid = old.rid;
    INSERT INTO grids_bbox (rid, min_lon, max_lon, min_lat, max_lat)
    SELECT new.rid, new.min_lon, new.max_lon, new.min_lat, new.max_lat
    WHERE new.min_lon IS NOT NULL;
END;
