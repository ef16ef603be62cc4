-- Users, their credentials and the audit trail (the same columns as the
-- PostGIS store: see src/store/postgis/migrations/0007_accounts.sql).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    -- admin, planner, dispatcher, grid_leader, grid_member, department, viewer
    role          TEXT    NOT NULL,
    -- county, grid:ID or department:NAME
    scope         TEXT    NOT NULL,
    -- An argon2id PHC string; never leaves the store's account reads.
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

-- Web sessions and bearer tokens. Only the SHA-256 of the secret is kept:
-- a copy of the database gives no one a working credential.
CREATE TABLE credentials (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    secret_hash TEXT    NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    -- session or token
    kind        TEXT    NOT NULL,
    -- Capability names as a JSON array; [] = all the role allows.
    scopes      TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    -- Milliseconds since 1970 UTC.
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX credentials_user ON credentials (user_id);

-- Who did what, when and from where. Rows are only ever inserted.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    source  TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    detail  TEXT    NOT NULL
);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_action ON audit (action, id);

-- The trail is append-only in the database itself, not only in wangge.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
