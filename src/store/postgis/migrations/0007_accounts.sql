-- Users, their credentials and the audit trail (the same columns as the
-- SQLite store: see src/store/sqlite/migrations/0007_accounts.sql).
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         text    NOT NULL UNIQUE,
    display_name  text    NOT NULL,
    -- admin, planner, dispatcher, grid_leader, grid_member, department, viewer
    role          text    NOT NULL,
    -- county, grid:ID or department:NAME
    scope         text    NOT NULL,
    -- An argon2id PHC string; never leaves the store's account reads.
    password_hash text    NOT NULL,
    disabled      bigint  NOT NULL DEFAULT 0,
    version       bigint  NOT NULL DEFAULT 1,
    created_at    bigint  NOT NULL
);

-- Web sessions and bearer tokens. Only the SHA-256 of the secret is kept:
-- a copy of the database gives no one a working credential.
CREATE TABLE credentials (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret_hash text    NOT NULL UNIQUE,
    user_id     bigint NOT NULL REFERENCES users (id),
    -- session or token
    kind        text    NOT NULL,
    -- Capability names as a JSON array; [] = all the role allows.
    scopes      text    NOT NULL,
    label       text    NOT NULL,
    -- Milliseconds since 1970 UTC.
    created_at  bigint  NOT NULL,
    expires_at  bigint  NOT NULL,
    revoked_at  bigint
);
CREATE INDEX credentials_user ON credentials (user_id);

-- Who did what, when and from where. Rows are only ever inserted.
CREATE TABLE audit (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      bigint  NOT NULL,
    actor   text    NOT NULL,
    source  text    NOT NULL,
    action  text    NOT NULL,
    target  text    NOT NULL,
    detail  text    NOT NULL
);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_action ON audit (action, id);

-- The trail is append-only in the database itself, not only in wangge.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
