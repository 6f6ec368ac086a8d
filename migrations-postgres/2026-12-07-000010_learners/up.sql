-- Learners: the `learner` role, their e-mail identities (verified before
-- awards to them are linked), the backpack of credentials they hold, their
-- OB 3.0 profile, and the previous server's backpack platforms. See
-- docs/learners.md. Same logical schema as migrations-sqlite. Credential and
-- profile texts are text, not jsonb: they are served exactly as received.

ALTER TABLE users DROP CONSTRAINT users_role_check,
    ADD CONSTRAINT users_role_check
        CHECK (role IN ('admin', 'issuer', 'viewer', 'learner'));

-- An address a learner claims. `email` is lower-cased; `lookup_key` is the
-- unsalted `sha256$<hex>` of it, the same key assertions keep in
-- `recipient_key`, so linking awards is an index lookup. Until verified it
-- carries a single-use token: only its SHA-256 is stored, with its expiry
-- and the nonce the mail worker derives the token from (with the server's
-- secret; the nonce alone gives nothing). Verification clears all three.
-- A verified address belongs to one learner only.
CREATE TABLE learner_emails (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email            text NOT NULL,
    lookup_key       text NOT NULL,
    verified_at      timestamptz,
    token_hash       text,
    token_nonce      text,
    token_expires_at timestamptz,
    created_at       timestamptz NOT NULL,
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
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    description text,
    client_id   text NOT NULL,
    public_key  text NOT NULL,
    webhook_url text,
    status      text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'inactive', 'suspended')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT backpack_platforms_client_id_key UNIQUE (client_id)
);
CREATE INDEX backpack_platforms_created_idx ON backpack_platforms (created_at, id);

-- A platform's user, mapped to the learner account that holds their badges.
CREATE TABLE platform_users (
    id               uuid PRIMARY KEY,
    platform_id      uuid NOT NULL REFERENCES backpack_platforms (id) ON DELETE CASCADE,
    external_user_id text NOT NULL,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display_name     text,
    email            text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT platform_users_external_key UNIQUE (platform_id, external_user_id)
);
CREATE INDEX platform_users_user_idx ON platform_users (user_id);

-- The credentials a learner holds. One row per credential by the spec's
-- equality (owner, issuer id, credential id, both percent-decoded and
-- trimmed). `text` is exactly what was received or issued. Rows linked to
-- an award of this server (`assertion_id`) are read with the award's
-- current issued credential and go when the award is deleted.
CREATE TABLE held_credentials (
    id             uuid PRIMARY KEY,
    owner_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer_key     text NOT NULL,
    credential_key text NOT NULL,
    valid_from     timestamptz,
    format         text NOT NULL CHECK (format IN ('json', 'jws')),
    text           text NOT NULL,
    source         text NOT NULL CHECK (source IN ('awarded', 'uploaded', 'platform')),
    assertion_id   uuid REFERENCES assertions (id) ON DELETE CASCADE,
    client         text,
    platform_id    uuid REFERENCES backpack_platforms (id) ON DELETE CASCADE,
    received_at    timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
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
    held_id          uuid PRIMARY KEY REFERENCES held_credentials (id) ON DELETE CASCADE,
    platform_user_id uuid NOT NULL REFERENCES platform_users (id) ON DELETE CASCADE,
    assertion_id     uuid NOT NULL REFERENCES assertions (id) ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'hidden', 'deleted')),
    metadata         jsonb,
    added_at         timestamptz NOT NULL,
    CONSTRAINT platform_assertions_user_assertion_key UNIQUE (platform_user_id, assertion_id)
);
CREATE INDEX platform_assertions_user_idx ON platform_assertions (platform_user_id, added_at, held_id);
CREATE INDEX platform_assertions_assertion_idx ON platform_assertions (assertion_id);

-- A learner's OB 3.0 Profile (getProfile / putProfile), kept as the text given.
CREATE TABLE learner_profiles (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    profile    text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- The outbox gains a second kind of message: the verification e-mail of a
-- learner's address. Exactly one of the two references is set, the one
-- `kind` names; each goes with what it is about.
ALTER TABLE mail_outbox
    ADD COLUMN kind text NOT NULL DEFAULT 'award' CHECK (kind IN ('award', 'verification')),
    ADD COLUMN learner_email_id uuid REFERENCES learner_emails (id) ON DELETE CASCADE,
    ALTER COLUMN assertion_id DROP NOT NULL,
    ADD CONSTRAINT mail_outbox_reference_check CHECK (
        (kind = 'award') = (assertion_id IS NOT NULL)
        AND (kind = 'verification') = (learner_email_id IS NOT NULL)
    );
CREATE INDEX mail_outbox_learner_email_idx ON mail_outbox (learner_email_id);
