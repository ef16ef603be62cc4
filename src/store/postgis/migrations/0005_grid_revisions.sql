-- Dated versions of the grid set (the same columns as the SQLite store:
-- see src/store/sqlite/migrations/0005_grid_revisions.sql, which says what
-- they are for).
--
-- The geometry is kept as WKB (bytea) rather than a PostGIS geometry: the
-- history is read whole per revision and folded in Rust, never queried
-- spatially, and the statements that read and write it are then the same
-- on both backends (src/store/revision_sql.rs).
CREATE TABLE grid_revisions (
    revision     bigint  PRIMARY KEY,
    actor        text    NOT NULL,
    recorded_at  bigint  NOT NULL,
    effective_at bigint  NOT NULL,
    reason       text    NOT NULL,
    summary      text    NOT NULL,
    replaces_all boolean NOT NULL,
    state        text    NOT NULL CHECK (state IN ('applied', 'scheduled')),
    applied_at   bigint  NULL,
    written      bigint  NOT NULL,
    removed      bigint  NOT NULL
);

CREATE INDEX grid_revisions_effective ON grid_revisions (effective_at, revision);
CREATE INDEX grid_revisions_scheduled ON grid_revisions (effective_at) WHERE state = 'scheduled';

CREATE TABLE grid_revision_grids (
    revision   bigint  NOT NULL REFERENCES grid_revisions (revision) ON DELETE CASCADE,
    id         text COLLATE "C" NOT NULL,
    removed    boolean NOT NULL,
    level      integer NULL,
    parent_id  text COLLATE "C" NULL,
    name       text    NULL,
    properties text    NULL,
    geom       bytea   NULL,
    PRIMARY KEY (revision, id),
    CHECK (removed OR (level IS NOT NULL AND name IS NOT NULL
                       AND properties IS NOT NULL AND geom IS NOT NULL))
);

CREATE INDEX grid_revision_grids_id ON grid_revision_grids (id);

INSERT INTO grid_revisions
    (revision, actor, recorded_at, effective_at, reason, summary, replaces_all, state, applied_at,
     written, removed)
SELECT version, 'wangge', (extract(epoch FROM now()) * 1000)::bigint, 0, '',
       'the grids stored before versions were kept', true, 'applied', NULL,
       (SELECT COUNT(*) FROM grids), 0
FROM grid_set WHERE EXISTS (SELECT 1 FROM grids);

INSERT INTO grid_revision_grids (revision, id, removed, level, parent_id, name, properties, geom)
SELECT (SELECT version FROM grid_set), id, false, level, parent_id, name, properties::text,
       ST_AsBinary(geom)
FROM grids;
