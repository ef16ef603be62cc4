-- The grids: one row per polygon of the county's five-level hierarchy, in a
-- table GIS tools (QGIS, ogr2ogr) read directly: a text primary key and one
-- typed geometry column with a spatial index.
--
-- The PostGIS extension is created (or found) by the store before this runs;
-- it lives in `public`, and every connection's search_path ends in `public`.
CREATE TABLE grids (
    -- COLLATE "C": ids sort byte-wise, as in SQLite and in Rust, whatever the
    -- database's default collation, so both backends list grids in one order.
    id         text COLLATE "C" PRIMARY KEY,
    level      integer NOT NULL CHECK (level BETWEEN 1 AND 5),
    -- Deferred: a write that replaces a parent and its children in one
    -- transaction is checked once, at COMMIT, whatever the order of rows.
    parent_id  text COLLATE "C" NULL REFERENCES grids (id) DEFERRABLE INITIALLY DEFERRED,
    name       text NOT NULL,
    -- json, not jsonb: json keeps the text as given, so properties come back
    -- in the order they were imported; jsonb sorts keys by length then bytes.
    properties json NOT NULL CHECK (json_typeof(properties) = 'object'),
    -- Lon/lat degrees. No bbox columns as in SQLite: the GiST index below
    -- is the bbox prefilter (`geom && envelope`).
    geom       geometry(MultiPolygon, 4326) NOT NULL
);

CREATE INDEX grids_parent_id ON grids (parent_id);
CREATE INDEX grids_level_id ON grids (level, id);
CREATE INDEX grids_geom ON grids USING gist (geom);
