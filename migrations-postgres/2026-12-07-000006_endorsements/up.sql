-- Endorsements: OB 3.0 EndorsementCredentials of an achievement, an issuer
-- profile or an awarded credential. The subject is one of three nullable
-- foreign keys (exactly one set, the one subject_kind names), so that an
-- endorsement goes with what it endorses whichever way that is deleted,
-- and with its endorser when the endorser is one of our issuers.
-- Same logical schema as migrations-sqlite; the credential is text, not
-- jsonb, so that it is served byte for byte as it was signed.

CREATE TABLE endorsements (
    id                      uuid PRIMARY KEY,
    subject_kind            text NOT NULL
        CHECK (subject_kind IN ('achievement', 'issuer', 'credential')),
    subject_achievement_id  uuid REFERENCES badge_classes (id) ON DELETE CASCADE,
    subject_issuer_id       uuid REFERENCES issuers (id) ON DELETE CASCADE,
    subject_credential_id   uuid REFERENCES assertions (id) ON DELETE CASCADE,
    -- One of ours (signed here), or the issuer id of one signed elsewhere.
    endorser_issuer_id      uuid REFERENCES issuers (id) ON DELETE CASCADE,
    endorser_iri            text,
    endorsement_comment     text,
    credential              text NOT NULL,
    status                  text NOT NULL CHECK (status IN ('active', 'revoked')),
    status_reason           text,
    revoked_at              timestamptz,
    status_list_id          uuid REFERENCES status_lists (id) ON DELETE CASCADE,
    status_index            integer CHECK (status_index >= 0),
    created_at              timestamptz NOT NULL,
    CHECK ((subject_kind = 'achievement') = (subject_achievement_id IS NOT NULL)),
    CHECK ((subject_kind = 'issuer') = (subject_issuer_id IS NOT NULL)),
    CHECK ((subject_kind = 'credential') = (subject_credential_id IS NOT NULL)),
    CHECK ((endorser_issuer_id IS NULL) <> (endorser_iri IS NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
    CHECK ((status_index IS NULL) = (status_list_id IS NULL))
);
-- Each subject's endorsements in list order.
CREATE INDEX endorsements_achievement_idx ON endorsements (subject_achievement_id, created_at, id)
    WHERE subject_achievement_id IS NOT NULL;
CREATE INDEX endorsements_issuer_idx ON endorsements (subject_issuer_id, created_at, id)
    WHERE subject_issuer_id IS NOT NULL;
CREATE INDEX endorsements_credential_idx ON endorsements (subject_credential_id, created_at, id)
    WHERE subject_credential_id IS NOT NULL;
-- The cascade from a deleted endorser.
CREATE INDEX endorsements_endorser_idx ON endorsements (endorser_issuer_id)
    WHERE endorser_issuer_id IS NOT NULL;
-- A bit belongs to one endorsement (and, by allocation, to no award).
CREATE UNIQUE INDEX endorsements_status_slot_idx
    ON endorsements (status_list_id, status_index) WHERE status_list_id IS NOT NULL;
-- The set bits of a list.
CREATE INDEX endorsements_status_flagged_idx
    ON endorsements (status_list_id, status) WHERE status <> 'active';
