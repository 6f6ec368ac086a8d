-- Hosted images (POST /assets): the file itself is kept in the database so
-- that every server instance serves it, with no shared disk. Files are
-- checked before they are stored (type from the bytes, dimensions, safe
-- SVG) and never change afterwards.

CREATE TABLE assets (
    id          uuid PRIMARY KEY,
    media_type  text NOT NULL CHECK (media_type IN
        ('image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml')),
    bytes       bytea NOT NULL,
    -- SHA-256 of bytes, hex: the ETag it is served with.
    etag        text NOT NULL,
    size        bigint NOT NULL CHECK (size >= 0),
    -- Pixels; NULL for an SVG that gives no size in pixels.
    width       integer,
    height      integer,
    uploaded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL
);
