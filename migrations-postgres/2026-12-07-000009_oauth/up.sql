-- OAuth 2.0 for the Open Badges 3.0 Service API: registered clients,
-- authorization codes, grants (one authorization of a client by a user)
-- and their access and refresh tokens. Secrets are never stored: each
-- *_hash is the SHA-256 (hex) of a 256-bit random value shown once.
-- A grant goes with its client and its user; codes and tokens with their
-- grant. Same logical schema as migrations-sqlite.

CREATE TABLE oauth_clients (
    id                  uuid PRIMARY KEY,
    secret_hash         text NOT NULL,
    client_name         text NOT NULL,
    client_uri          text NOT NULL,
    logo_uri            text NOT NULL,
    tos_uri             text NOT NULL,
    policy_uri          text NOT NULL,
    software_id         text NOT NULL,
    software_version    text NOT NULL,
    -- JSON arrays of strings.
    redirect_uris       jsonb NOT NULL,
    contacts            jsonb NOT NULL,
    -- Space-separated, as OAuth writes scopes.
    scopes              text NOT NULL,
    refresh_grant       boolean NOT NULL,
    created_at          timestamptz NOT NULL
);

CREATE TABLE oauth_grants (
    id              uuid PRIMARY KEY,
    client_id       uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes          text NOT NULL,
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz,
    revoked_at      timestamptz
);
-- A user's grants in list order; the cascade from a deleted user.
CREATE INDEX oauth_grants_user_idx ON oauth_grants (user_id, created_at, id);
-- The cascade from a deleted client.
CREATE INDEX oauth_grants_client_idx ON oauth_grants (client_id);

-- grant_id names the grant the code's redemption makes: it has no foreign
-- key, as the grant exists only once the code is redeemed.
CREATE TABLE oauth_codes (
    code_hash       text PRIMARY KEY,
    client_id       uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri    text NOT NULL,
    scopes          text NOT NULL,
    code_challenge  text NOT NULL,
    grant_id        uuid NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    redeemed_at     timestamptz
);
CREATE INDEX oauth_codes_client_idx ON oauth_codes (client_id);
CREATE INDEX oauth_codes_user_idx ON oauth_codes (user_id);

CREATE TABLE oauth_tokens (
    token_hash      text PRIMARY KEY,
    grant_id        uuid NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('access', 'refresh')),
    scopes          text NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    revoked_at      timestamptz,
    CHECK (kind = 'refresh' OR used_at IS NULL)
);
-- The cascade from a deleted grant.
CREATE INDEX oauth_tokens_grant_idx ON oauth_tokens (grant_id);
