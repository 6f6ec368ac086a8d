-- Hosted images (POST /assets): the file itself is kept in the database so
-- that every server instance serves it, with no shared disk. Files are
-- checked before they are stored (type from the bytes, dimensions, safe
-- SVG) and never change afterwards. Same logical schema as
-- migrations-postgres.

CREATE TABLE assets (
    id          TEXT PRIMARY KEY NOT NULL,
    media_type  TEXT NOT NULL CHECK (media_type IN
        ('image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml')),
    bytes       BLOB NOT NULL,
    -- SHA-256 of bytes, hex: the ETag it is served with.
    etag        TEXT NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    -- Pixels; NULL for an SVG that gives no size in pixels.
    width       INTEGER,
    height      INTEGER,
    uploaded_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
);
