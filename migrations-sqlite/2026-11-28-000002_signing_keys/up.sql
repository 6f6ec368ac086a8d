-- Signing keys of issuers, shared by every server instance, and the OB 3.0
-- credential exactly as issued (signed once; a verifiable credential does
-- not change after issuance). Same logical schema as migrations-postgres.

CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY NOT NULL,
    issuer_id   TEXT NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    algorithm   TEXT NOT NULL CHECK (algorithm IN ('Ed25519', 'RS256')),
    -- Ed25519: multibase (z6Mk...); RS256: SPKI PEM.
    public_key  TEXT NOT NULL,
    -- AES-256-GCM under the configured key encryption key: nonce || ciphertext.
    private_key BLOB NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'retired', 'revoked')),
    created_at  TEXT NOT NULL,
    retired_at  TEXT,
    revoked_at  TEXT
);
CREATE INDEX signing_keys_issuer_idx ON signing_keys (issuer_id, created_at, id);
-- At most one active key per issuer and algorithm, even with several
-- instances generating keys at once.
CREATE UNIQUE INDEX signing_keys_one_active_idx
    ON signing_keys (issuer_id, algorithm) WHERE status = 'active';

ALTER TABLE assertions ADD COLUMN issued_credential TEXT;
