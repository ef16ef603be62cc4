-- Dated versions of the grid set (the same columns as the PostGIS store:
-- see src/store/postgis/migrations/0005_grid_revisions.sql).
--
-- Every grid change is a revision: who, when, why, when it takes effect, and
-- the grids it wrote or removed as they were written. The grids in force at
-- any moment are the revisions effective by then, applied in order of
-- (effective_at, revision): model::fold_revisions. `grids` stays the current
-- set (what every read without `as_of` uses); a scheduled revision is only
-- here until its time comes and the grid service applies it.
CREATE TABLE grid_revisions (
    -- The grid-set version the recording change claimed.
    revision     INTEGER PRIMARY KEY,
    actor        TEXT    NOT NULL,
    -- Milliseconds since 1970 UTC.
    recorded_at  INTEGER NOT NULL,
    effective_at INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    -- 1: its grids replaced the whole set; 0: written and removed by id.
    replaces_all INTEGER NOT NULL CHECK (replaces_all IN (0, 1)),
    state        TEXT    NOT NULL CHECK (state IN ('applied', 'scheduled')),
    applied_at   INTEGER NULL,
    -- How many grids it wrote and removed (kept here so that listing the
    -- revisions reads no grid rows).
    written      INTEGER NOT NULL,
    removed      INTEGER NOT NULL
) STRICT;

CREATE INDEX grid_revisions_effective ON grid_revisions (effective_at, revision);
CREATE INDEX grid_revisions_scheduled ON grid_revisions (effective_at) WHERE state = 'scheduled';

-- The grids of each revision as written (the columns of `grids`), or, with
-- removed = 1, an id it removed (the other columns NULL).
CREATE TABLE grid_revision_grids (
    revision   INTEGER NOT NULL REFERENCES grid_revisions (revision) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    removed    INTEGER NOT NULL CHECK (removed IN (0, 1)),
    level      INTEGER NULL,
    parent_id  TEXT    NULL,
    name       TEXT    NULL,
    properties TEXT    NULL,
    geom       BLOB    NULL,
    PRIMARY KEY (revision, id),
    CHECK (removed = 1 OR (level IS NOT NULL AND name IS NOT NULL
                           AND properties IS NOT NULL AND geom IS NOT NULL))
) STRICT;

CREATE INDEX grid_revision_grids_id ON grid_revision_grids (id);

-- The grids stored before versions were kept become the first revision,
-- in force since 1970: `as_of` any earlier date answers them.
INSERT INTO grid_revisions
    (revision, actor, recorded_at, effective_at, reason, summary, replaces_all, state, applied_at,
     written, removed)
SELECT version, 'wangge', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 0, '',
       'the grids stored before versions were kept', 1, 'applied', NULL,
       (SELECT COUNT(*) FROM grids), 0
FROM grid_set WHERE EXISTS (SELECT 1 FROM grids);

INSERT INTO grid_revision_grids (revision, id, removed, level, parent_id, name, properties, geom)
SELECT (SELECT version FROM grid_set), id, 0, level, parent_id, name, properties, geom
FROM grids;
