-- Signing keys of issuers, shared by every server instance, and the OB 3.0
-- credential exactly as issued (signed once; a verifiable credential does
-- not change after issuance).

CREATE TABLE signing_keys (
    id          uuid PRIMARY KEY,
    issuer_id   uuid NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    algorithm   text NOT NULL CHECK (algorithm IN ('Ed25519', 'RS256')),
    -- Ed25519: multibase (z6Mk...); RS256: SPKI PEM.
    public_key  text NOT NULL,
    -- AES-256-GCM under the configured key encryption key: nonce || ciphertext.
    private_key bytea NOT NULL,
    status      text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'retired', 'revoked')),
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX signing_keys_issuer_idx ON signing_keys (issuer_id, created_at, id);
-- At most one active key per issuer and algorithm, even with several
-- instances generating keys at once.
CREATE UNIQUE INDEX signing_keys_one_active_idx
    ON signing_keys (issuer_id, algorithm) WHERE status = 'active';

ALTER TABLE assertions ADD COLUMN issued_credential jsonb;
