-- Photos taken on patrols and with reports (the same columns as the PostGIS
-- store: see src/store/postgis/migrations/0008_photos.sql). The upload as
-- sent (checked to be the image it says it is) and a JPEG thumbnail.
CREATE TABLE photos (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The photo's public name: 128 random bits in hex. Its address is
    -- known only to those shown the check-in or report that names it.
    token        TEXT    NOT NULL UNIQUE,
    -- image/jpeg, image/png or image/webp
    content_type TEXT    NOT NULL,
    bytes        BLOB    NOT NULL,
    thumbnail    BLOB    NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    uploaded_by  TEXT    NOT NULL,
    -- Milliseconds since 1970 UTC.
    uploaded_at  INTEGER NOT NULL
);
