-- Incidents, their categories and their history.
--
-- Times are whole milliseconds since 1970 UTC (INTEGER), the same in both
-- backends, so comparisons and deadlines are exact integer arithmetic.

-- The categories are data: the county's list is seeded here and may be
-- extended without a release. `workflow` names the process incidents of the
-- category follow (crate::model::WorkflowKind).
CREATE TABLE incident_categories (
    code     TEXT    PRIMARY KEY,
    name     TEXT    NOT NULL,
    workflow TEXT    NOT NULL CHECK (workflow IN ('community_issue', 'dispute')),
    position INTEGER NOT NULL
) STRICT;

INSERT INTO incident_categories (code, name, workflow, position) VALUES
    ('dispute',        '矛盾纠纷', 'dispute',         1),
    ('safety_hazard',  '安全隐患', 'community_issue', 2),
    ('public_order',   '治安',     'community_issue', 3),
    ('sanitation',     '环境卫生', 'community_issue', 4),
    ('infrastructure', '水电暖气', 'community_issue', 5),
    ('other',          '其他',     'community_issue', 6);

-- One row per incident. The grid chain (grid_l1 .. grid_l5) is the grids of
-- the point when it was reported, kept as they were: no foreign key, because
-- a redrawn boundary must not move or lose a case.
CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    category          TEXT    NOT NULL REFERENCES incident_categories (code),
    workflow          TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    severity          TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    reporter_name     TEXT    NULL,
    reporter_phone    TEXT    NULL,
    source            TEXT    NOT NULL,
    -- A JSON array of URLs.
    photos            TEXT    NOT NULL CHECK (json_valid(photos) AND json_type(photos) = 'array'),
    lon               REAL    NOT NULL,
    lat               REAL    NOT NULL,
    original_lon      REAL    NOT NULL,
    original_lat      REAL    NOT NULL,
    crs               TEXT    NOT NULL,
    grid_l1           TEXT    NULL,
    grid_l2           TEXT    NULL,
    grid_l3           TEXT    NULL,
    grid_l4           TEXT    NULL,
    grid_l5           TEXT    NULL,
    tier              INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 5),
    responsible_name  TEXT    NULL,
    responsible_phone TEXT    NULL,
    owner_name        TEXT    NULL,
    owner_phone       TEXT    NULL,
    follow_up_due     INTEGER NULL,
    reported_at       INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    tier_since        INTEGER NOT NULL,
    deadline          INTEGER NOT NULL,
    resolved_at       INTEGER NULL,
    closed_at         INTEGER NULL,
    version           INTEGER NOT NULL
) STRICT;

-- Dispatchers list a town's (or village's ...) incidents by status, newest
-- first: one index per level of the chain.
CREATE INDEX incidents_l1 ON incidents (grid_l1, status, id);
CREATE INDEX incidents_l2 ON incidents (grid_l2, status, id);
CREATE INDEX incidents_l3 ON incidents (grid_l3, status, id);
CREATE INDEX incidents_l4 ON incidents (grid_l4, status, id);
CREATE INDEX incidents_l5 ON incidents (grid_l5, status, id);
CREATE INDEX incidents_status ON incidents (status, id);
-- The deadline sweep: open incidents past their deadline.
CREATE INDEX incidents_deadline ON incidents (deadline) WHERE closed_at IS NULL;
-- Duplicate hints and bbox filters: same category, nearby, recent.
CREATE INDEX incidents_category_place ON incidents (category, lon, lat);

-- Every change, in order: (incident, seq) with seq 1 the report itself.
CREATE TABLE incident_history (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    action      TEXT    NULL,
    status_from TEXT    NOT NULL,
    status_to   TEXT    NOT NULL,
    tier_from   INTEGER NOT NULL,
    tier_to     INTEGER NOT NULL,
    note        TEXT    NULL,
    detail      TEXT    NOT NULL CHECK (json_valid(detail)),
    PRIMARY KEY (incident_id, seq)
) STRICT;
