-- Learners: the `learner` role, their e-mail identities (verified before
-- awards to them are linked), the backpack of credentials they hold, their
-- OB 3.0 profile, and the previous server's backpack platforms. See
-- docs/learners.md. Same logical schema as migrations-postgres.
--
-- SQLite cannot alter a CHECK constraint, so `users` (role) and
-- `mail_outbox` (a second kind of message) are rebuilt: new table, copy,
-- drop, rename, indexes again. The migration runner turns foreign key
-- enforcement off around the migrations and runs `PRAGMA foreign_key_check`
-- before it commits (SQLite's documented procedure): with enforcement on,
-- dropping `users` would cascade into `api_keys` and clear `issuers.owner_id`.

CREATE TABLE users_rebuilt (
    id                 TEXT PRIMARY KEY NOT NULL,
    username           TEXT NOT NULL,
    email              TEXT,
    password_hash      TEXT NOT NULL,
    role               TEXT NOT NULL
        CHECK (role IN ('admin', 'issuer', 'viewer', 'learner')),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    session_generation INTEGER NOT NULL DEFAULT 0 CHECK (session_generation >= 0),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email)
);
INSERT INTO users_rebuilt
    (id, username, email, password_hash, role, created_at, updated_at, session_generation)
SELECT id, username, email, password_hash, role, created_at, updated_at, session_generation
FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
CREATE INDEX users_created_idx ON users (created_at, id);

-- An address a learner claims. `email` is lower-cased; `lookup_key` is the
-- unsalted `sha256$<hex>` of it, the same key assertions keep in
-- `recipient_key`, so linking awards is an index lookup. Until verified it
-- carries a single-use token: only its SHA-256 is stored, with its expiry
-- and the nonce the mail worker derives the token from (with the server's
-- secret; the nonce alone gives nothing). Verification clears all three.
-- A verified address belongs to one learner only.
CREATE TABLE learner_emails (
    id               TEXT PRIMARY KEY NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    lookup_key       TEXT NOT NULL,
    verified_at      TEXT,
    token_hash       TEXT,
    token_nonce      TEXT,
    token_expires_at TEXT,
    created_at       TEXT NOT NULL,
    CONSTRAINT learner_emails_user_email_key UNIQUE (user_id, email),
    CONSTRAINT learner_emails_token_key UNIQUE (token_hash),
    CONSTRAINT learner_emails_token_check CHECK (
        (token_hash IS NULL) = (token_expires_at IS NULL)
        AND (token_hash IS NULL) = (token_nonce IS NULL)
    )
);
CREATE INDEX learner_emails_user_idx ON learner_emails (user_id, created_at, id);
CREATE UNIQUE INDEX learner_emails_verified_key ON learner_emails (email)
    WHERE verified_at IS NOT NULL;
CREATE INDEX learner_emails_lookup_idx ON learner_emails (lookup_key)
    WHERE verified_at IS NOT NULL;

-- The previous server's backpack: platforms that authenticate their users
-- with JWTs signed by the platform's key (public key kept, nothing secret).
CREATE TABLE backpack_platforms (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    client_id   TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    webhook_url TEXT,
    status      TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'inactive', 'suspended')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT backpack_platforms_client_id_key UNIQUE (client_id)
);
CREATE INDEX backpack_platforms_created_idx ON backpack_platforms (created_at, id);

-- A platform's user, mapped to the learner account that holds their badges.
CREATE TABLE platform_users (
    id               TEXT PRIMARY KEY NOT NULL,
    platform_id      TEXT NOT NULL REFERENCES backpack_platforms (id) ON DELETE CASCADE,
    external_user_id TEXT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display_name     TEXT,
    email            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CONSTRAINT platform_users_external_key UNIQUE (platform_id, external_user_id)
);
CREATE INDEX platform_users_user_idx ON platform_users (user_id);

-- The credentials a learner holds. One row per credential by the spec's
-- equality (owner, issuer id, credential id, both percent-decoded and
-- trimmed). `text` is exactly what was received or issued. Rows linked to
-- an award of this server (`assertion_id`) are read with the award's
-- current issued credential and go when the award is deleted.
CREATE TABLE held_credentials (
    id             TEXT PRIMARY KEY NOT NULL,
    owner_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer_key     TEXT NOT NULL,
    credential_key TEXT NOT NULL,
    valid_from     TEXT,
    format         TEXT NOT NULL CHECK (format IN ('json', 'jws')),
    text           TEXT NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('awarded', 'uploaded', 'platform')),
    assertion_id   TEXT REFERENCES assertions (id) ON DELETE CASCADE,
    client         TEXT,
    platform_id    TEXT REFERENCES backpack_platforms (id) ON DELETE CASCADE,
    received_at    TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CONSTRAINT held_credentials_equality_key UNIQUE (owner_id, issuer_key, credential_key),
    CHECK (source <> 'awarded' OR assertion_id IS NOT NULL),
    CHECK ((source = 'platform') = (platform_id IS NOT NULL)),
    CHECK (source = 'uploaded' OR client IS NULL)
);
CREATE INDEX held_credentials_owner_idx ON held_credentials (owner_id, received_at, id);
CREATE INDEX held_credentials_since_idx ON held_credentials (owner_id, valid_from);
CREATE INDEX held_credentials_assertion_idx ON held_credentials (assertion_id);
CREATE INDEX held_credentials_platform_idx ON held_credentials (platform_id);

-- A platform user's view of a held credential (the old /backpack/assertions):
-- the award they added, its status there and the platform's metadata.
CREATE TABLE platform_assertions (
    held_id          TEXT PRIMARY KEY NOT NULL
        REFERENCES held_credentials (id) ON DELETE CASCADE,
    platform_user_id TEXT NOT NULL REFERENCES platform_users (id) ON DELETE CASCADE,
    assertion_id     TEXT NOT NULL REFERENCES assertions (id) ON DELETE CASCADE,
    status           TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'hidden', 'deleted')),
    metadata         TEXT,
    added_at         TEXT NOT NULL,
    CONSTRAINT platform_assertions_user_assertion_key UNIQUE (platform_user_id, assertion_id)
);
CREATE INDEX platform_assertions_user_idx ON platform_assertions (platform_user_id, added_at, held_id);
CREATE INDEX platform_assertions_assertion_idx ON platform_assertions (assertion_id);

-- A learner's OB 3.0 Profile (getProfile / putProfile), kept as the text given.
CREATE TABLE learner_profiles (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    profile    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The outbox gains a second kind of message: the verification e-mail of a
-- learner's address. Exactly one of the two references is set, the one
-- `kind` names; each goes with what it is about.
CREATE TABLE mail_outbox_rebuilt (
    id               TEXT PRIMARY KEY NOT NULL,
    kind             TEXT NOT NULL DEFAULT 'award' CHECK (kind IN ('award', 'verification')),
    assertion_id     TEXT REFERENCES assertions (id) ON DELETE CASCADE,
    learner_email_id TEXT REFERENCES learner_emails (id) ON DELETE CASCADE,
    recipient        TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TEXT NOT NULL,
    claimed_until    TEXT,
    last_attempt_at  TEXT,
    last_error       TEXT,
    sent_at          TEXT,
    created_at       TEXT NOT NULL,
    CONSTRAINT mail_outbox_claim_check
        CHECK ((state = 'sending') = (claimed_until IS NOT NULL)),
    CONSTRAINT mail_outbox_sent_check
        CHECK ((state = 'sent') = (sent_at IS NOT NULL)),
    CONSTRAINT mail_outbox_reference_check CHECK (
        (kind = 'award') = (assertion_id IS NOT NULL)
        AND (kind = 'verification') = (learner_email_id IS NOT NULL)
    )
);
INSERT INTO mail_outbox_rebuilt
    (id, kind, assertion_id, recipient, state, attempts, next_attempt_at, claimed_until,
     last_attempt_at, last_error, sent_at, created_at)
SELECT id, 'award', assertion_id, recipient, state, attempts, next_attempt_at, claimed_until,
       last_attempt_at, last_error, sent_at, created_at
FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_rebuilt RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due_idx ON mail_outbox (state, next_attempt_at);
CREATE INDEX mail_outbox_assertion_idx ON mail_outbox (assertion_id);
CREATE INDEX mail_outbox_learner_email_idx ON mail_outbox (learner_email_id);
