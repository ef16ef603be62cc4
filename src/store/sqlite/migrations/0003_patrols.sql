-- Hazards, the road network, saved patrol routes, patrols and the hazard
-- inspections they made. The same columns as the PostGIS store (see
-- src/store/postgis/migrations/0003_patrols.sql), so one set of statements
-- serves both. Times are whole milliseconds since 1970 UTC.

-- The grid chain is the grids at the hazard's location when it was last
-- located (registration, a move, or a boundary import).
CREATE TABLE hazards (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    risk              TEXT    NOT NULL CHECK (risk IN ('major', 'significant', 'general', 'low')),
    interval_days     INTEGER NOT NULL CHECK (interval_days > 0),
    status            TEXT    NOT NULL CHECK (status IN ('open', 'mitigated', 'closed')),
    lon               REAL    NOT NULL,
    lat               REAL    NOT NULL,
    -- A GeoJSON Polygon, when the hazard is an area.
    area              TEXT    NULL,
    description       TEXT    NOT NULL,
    grid_l1           TEXT    NULL,
    grid_l2           TEXT    NULL,
    grid_l3           TEXT    NULL,
    grid_l4           TEXT    NULL,
    grid_l5           TEXT    NULL,
    last_inspected_at INTEGER NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    version           INTEGER NOT NULL
);

-- The road network, replaced whole on import; coords is a JSON array of
-- {lon, lat}.
CREATE TABLE roads (
    position INTEGER PRIMARY KEY,
    name     TEXT NULL,
    class    TEXT NOT NULL,
    coords   TEXT NOT NULL
);

-- A saved route is a JSON document (stops, way, lengths, assignees); the
-- grid it was planned for and every grid it passes are columns to look up by.
CREATE TABLE patrol_routes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    grid_id    TEXT    NOT NULL,
    shift      TEXT    NOT NULL CHECK (shift IN ('day', 'night')),
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);

CREATE TABLE patrol_route_grids (
    route_id INTEGER NOT NULL REFERENCES patrol_routes (id),
    grid_id  TEXT    NOT NULL,
    PRIMARY KEY (route_id, grid_id)
);
CREATE INDEX patrol_route_grids_grid ON patrol_route_grids (grid_id);

-- A patrol (one walk of a route) is a JSON document: track, check-ins,
-- visits. A route that has been walked cannot be deleted.
CREATE TABLE patrols (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    route_id   INTEGER NOT NULL REFERENCES patrol_routes (id),
    started_at INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    version    INTEGER NOT NULL
);
CREATE INDEX patrols_started ON patrols (started_at);

-- Each hazard a patrol reached, once per patrol: what coverage counts.
-- No foreign key to hazards: a deleted hazard's inspections stay on record.
CREATE TABLE hazard_inspections (
    hazard_id INTEGER NOT NULL,
    patrol_id INTEGER NOT NULL REFERENCES patrols (id),
    at        INTEGER NOT NULL,
    PRIMARY KEY (hazard_id, patrol_id)
);
CREATE INDEX hazard_inspections_at ON hazard_inspections (at);
