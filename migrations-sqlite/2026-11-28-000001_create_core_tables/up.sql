-- Core tables of the Open Badges server; the same logical schema as
-- migrations-postgres. Forward-only. On SQLite:
--   ids are lowercase hyphenated UUID text;
--   timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (always six digits,
--   so text order is time order);
--   JSON columns are text holding a JSON array.
-- Every list is ordered by (created_at, id), so every lookup path has an index
-- ending in those columns.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL,
    email         TEXT,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'issuer', 'viewer')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_created_idx ON users (created_at, id);

CREATE TABLE issuers (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    url         TEXT NOT NULL,
    email       TEXT,
    description TEXT,
    image       TEXT,
    owner_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX issuers_created_idx ON issuers (created_at, id);
CREATE INDEX issuers_owner_idx ON issuers (owner_id, created_at, id);

CREATE TABLE badge_classes (
    id                 TEXT PRIMARY KEY NOT NULL,
    issuer_id          TEXT NOT NULL REFERENCES issuers (id) ON DELETE RESTRICT,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL,
    image              TEXT,
    criteria_url       TEXT,
    criteria_narrative TEXT,
    tags               TEXT NOT NULL DEFAULT '[]',
    alignments         TEXT NOT NULL DEFAULT '[]',
    version            TEXT,
    achievement_type   TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    -- Target of the assertions' composite foreign key: an award's issuer is
    -- always its badge class's issuer.
    CONSTRAINT badge_classes_id_issuer_key UNIQUE (id, issuer_id),
    CONSTRAINT badge_classes_criteria_check
        CHECK (criteria_url IS NOT NULL OR criteria_narrative IS NOT NULL)
);
CREATE INDEX badge_classes_issuer_idx ON badge_classes (issuer_id, created_at, id);
CREATE INDEX badge_classes_created_idx ON badge_classes (created_at, id);

CREATE TABLE assertions (
    id                 TEXT PRIMARY KEY NOT NULL,
    badge_class_id     TEXT NOT NULL,
    issuer_id          TEXT NOT NULL,
    recipient_type     TEXT NOT NULL
        CHECK (recipient_type IN ('email', 'url', 'telephone', 'did')),
    recipient_identity TEXT NOT NULL,
    recipient_hashed   BOOLEAN NOT NULL,
    recipient_salt     TEXT,
    -- Unsalted sha256 of the normalized identity: filter by recipient.
    recipient_key      TEXT NOT NULL,
    issued_on          TEXT NOT NULL,
    expires            TEXT,
    evidence           TEXT NOT NULL DEFAULT '[]',
    narrative          TEXT,
    image              TEXT,
    status             TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'revoked', 'suspended')),
    status_reason      TEXT,
    status_changed_at  TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CONSTRAINT assertions_badge_class_fkey FOREIGN KEY (badge_class_id, issuer_id)
        REFERENCES badge_classes (id, issuer_id) ON DELETE RESTRICT,
    CONSTRAINT assertions_status_changed_check
        CHECK ((status = 'active') = (status_changed_at IS NULL))
);
CREATE INDEX assertions_badge_class_idx ON assertions (badge_class_id, created_at, id);
CREATE INDEX assertions_issuer_idx ON assertions (issuer_id, created_at, id);
CREATE INDEX assertions_recipient_idx ON assertions (recipient_key, created_at, id);
CREATE INDEX assertions_created_idx ON assertions (created_at, id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    permissions  TEXT NOT NULL DEFAULT '[]',
    issuer_scope TEXT REFERENCES issuers (id) ON DELETE CASCADE,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT,
    created_at   TEXT NOT NULL,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at, id);
CREATE INDEX api_keys_issuer_scope_idx ON api_keys (issuer_scope);
