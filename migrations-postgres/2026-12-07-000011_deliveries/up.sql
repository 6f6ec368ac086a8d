-- Sending awards to learners' badge hosts (docs/service-api.md, "Sending
-- badges to a host"). `remote_hosts`: the hosts this server registered
-- with as an OAuth 2.0 client (one registration per base URL; the client
-- secret sealed with KEY_ENCRYPTION_KEY). `deliveries`: the sending of one
-- award to one host. A delivery holds its own connection: the PKCE
-- verifier while the learner authorizes, then the access and refresh
-- tokens (dropped once it is delivered or failed), all sealed; the OAuth
-- `state` only as its SHA-256. A sender
-- claims due rows with a lease, as the mail outbox does. A delivery goes
-- with its award (ON DELETE CASCADE).
-- Same logical schema as migrations-sqlite.

CREATE TABLE remote_hosts (
    id                   uuid PRIMARY KEY,
    base_url             text NOT NULL UNIQUE,
    authorization_url    text NOT NULL,
    token_url            text NOT NULL,
    scope                text NOT NULL,
    client_id            text NOT NULL,
    client_secret        bytea NOT NULL,
    registered_at        timestamptz NOT NULL
);

CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    assertion_id     uuid NOT NULL REFERENCES assertions (id) ON DELETE CASCADE,
    host_id          uuid NOT NULL REFERENCES remote_hosts (id),
    state            text NOT NULL
        CHECK (state IN ('authorizing', 'pending', 'sending', 'delivered', 'failed')),
    state_hash       text UNIQUE,
    code_verifier    bytea,
    authorize_until  timestamptz NOT NULL,
    access_token     bytea,
    refresh_token    bytea,
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz,
    claimed_until    timestamptz,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT deliveries_authorizing_check
        CHECK ((state = 'authorizing') = (state_hash IS NOT NULL AND code_verifier IS NOT NULL)),
    CONSTRAINT deliveries_tokens_check
        CHECK (state NOT IN ('pending', 'sending') OR access_token IS NOT NULL),
    CONSTRAINT deliveries_claim_check
        CHECK ((state = 'sending') = (claimed_until IS NOT NULL)),
    CONSTRAINT deliveries_due_check
        CHECK (state <> 'pending' OR next_attempt_at IS NOT NULL),
    CONSTRAINT deliveries_delivered_check
        CHECK ((state = 'delivered') = (delivered_at IS NOT NULL))
);
-- What a sender polls: due rows by state and time.
CREATE INDEX deliveries_due_idx ON deliveries (state, next_attempt_at);
-- An award's deliveries, and the cascade from assertions.
CREATE INDEX deliveries_assertion_idx ON deliveries (assertion_id, created_at);
-- The foreign key to remote_hosts.
CREATE INDEX deliveries_host_idx ON deliveries (host_id);
