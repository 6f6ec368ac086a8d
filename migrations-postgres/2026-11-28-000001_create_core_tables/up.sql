-- Core tables of the Open Badges server. Forward-only: a later change is a new
-- migration. Every list is ordered by (created_at, id), so every lookup path
-- has an index that ends in those columns.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL,
    email         text,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'issuer', 'viewer')),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_created_idx ON users (created_at, id);

CREATE TABLE issuers (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    url         text NOT NULL,
    email       text,
    description text,
    image       text,
    owner_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX issuers_created_idx ON issuers (created_at, id);
CREATE INDEX issuers_owner_idx ON issuers (owner_id, created_at, id);

CREATE TABLE badge_classes (
    id                 uuid PRIMARY KEY,
    issuer_id          uuid NOT NULL REFERENCES issuers (id) ON DELETE RESTRICT,
    name               text NOT NULL,
    description        text NOT NULL,
    image              text,
    criteria_url       text,
    criteria_narrative text,
    tags               jsonb NOT NULL DEFAULT '[]',
    alignments         jsonb NOT NULL DEFAULT '[]',
    version            text,
    achievement_type   text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    -- Target of the assertions' composite foreign key: an award's issuer is
    -- always its badge class's issuer.
    CONSTRAINT badge_classes_id_issuer_key UNIQUE (id, issuer_id),
    CONSTRAINT badge_classes_criteria_check
        CHECK (criteria_url IS NOT NULL OR criteria_narrative IS NOT NULL)
);
CREATE INDEX badge_classes_issuer_idx ON badge_classes (issuer_id, created_at, id);
CREATE INDEX badge_classes_created_idx ON badge_classes (created_at, id);

CREATE TABLE assertions (
    id                 uuid PRIMARY KEY,
    badge_class_id     uuid NOT NULL,
    issuer_id          uuid NOT NULL,
    recipient_type     text NOT NULL
        CHECK (recipient_type IN ('email', 'url', 'telephone', 'did')),
    recipient_identity text NOT NULL,
    recipient_hashed   boolean NOT NULL,
    recipient_salt     text,
    -- Unsalted sha256 of the normalized identity: filter by recipient.
    recipient_key      text NOT NULL,
    issued_on          timestamptz NOT NULL,
    expires            timestamptz,
    evidence           jsonb NOT NULL DEFAULT '[]',
    narrative          text,
    image              text,
    status             text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'revoked', 'suspended')),
    status_reason      text,
    status_changed_at  timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
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
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    key_hash     text NOT NULL,
    prefix       text NOT NULL,
    permissions  jsonb NOT NULL DEFAULT '[]',
    issuer_scope uuid REFERENCES issuers (id) ON DELETE CASCADE,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at, id);
CREATE INDEX api_keys_issuer_scope_idx ON api_keys (issuer_scope);
