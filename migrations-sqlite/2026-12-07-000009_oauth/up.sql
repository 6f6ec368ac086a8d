-- OAuth 2.0 for the Open Badges 3.0 Service API: registered clients,
-- authorization codes, grants (one authorization of a client by a user)
-- and their access and refresh tokens. Secrets are never stored: each
-- *_hash is the SHA-256 (hex) of a 256-bit random value shown once.
-- A grant goes with its client and its user; codes and tokens with their
-- grant. Same logical schema as migrations-postgres.

CREATE TABLE oauth_clients (
    id                  TEXT PRIMARY KEY NOT NULL,
    secret_hash         TEXT NOT NULL,
    client_name         TEXT NOT NULL,
    client_uri          TEXT NOT NULL,
    logo_uri            TEXT NOT NULL,
    tos_uri             TEXT NOT NULL,
    policy_uri          TEXT NOT NULL,
    software_id         TEXT NOT NULL,
    software_version    TEXT NOT NULL,
    -- JSON arrays of strings.
    redirect_uris       TEXT NOT NULL,
    contacts            TEXT NOT NULL,
    -- Space-separated, as OAuth writes scopes.
    scopes              TEXT NOT NULL,
    refresh_grant       BOOLEAN NOT NULL,
    created_at          TEXT NOT NULL
);

CREATE TABLE oauth_grants (
    id              TEXT PRIMARY KEY NOT NULL,
    client_id       TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
);
-- A user's grants in list order; the cascade from a deleted user.
CREATE INDEX oauth_grants_user_idx ON oauth_grants (user_id, created_at, id);
-- The cascade from a deleted client.
CREATE INDEX oauth_grants_client_idx ON oauth_grants (client_id);

-- grant_id names the grant the code's redemption makes: it has no foreign
-- key, as the grant exists only once the code is redeemed.
CREATE TABLE oauth_codes (
    code_hash       TEXT PRIMARY KEY NOT NULL,
    client_id       TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri    TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    grant_id        TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    redeemed_at     TEXT
);
CREATE INDEX oauth_codes_client_idx ON oauth_codes (client_id);
CREATE INDEX oauth_codes_user_idx ON oauth_codes (user_id);

CREATE TABLE oauth_tokens (
    token_hash      TEXT PRIMARY KEY NOT NULL,
    grant_id        TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    scopes          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    revoked_at      TEXT,
    CHECK (kind = 'refresh' OR used_at IS NULL)
);
-- The cascade from a deleted grant.
CREATE INDEX oauth_tokens_grant_idx ON oauth_tokens (grant_id);
