-- Bitstring Status Lists. A list hands out its bits to an issuer's awards
-- in order; which bits are set is not stored here but read from the awards'
-- own status, so revoking an award and setting its bit are one write.

CREATE TABLE status_lists (
    id          uuid PRIMARY KEY,
    issuer_id   uuid NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    capacity    integer NOT NULL CHECK (capacity > 0),
    allocated   integer NOT NULL DEFAULT 0
        CHECK (allocated >= 0 AND allocated <= capacity),
    created_at  timestamptz NOT NULL
);
CREATE INDEX status_lists_issuer_idx ON status_lists (issuer_id, created_at, id);

ALTER TABLE assertions ADD COLUMN status_list_id uuid REFERENCES status_lists (id);
ALTER TABLE assertions ADD COLUMN status_index integer CHECK (status_index >= 0);
ALTER TABLE assertions ADD CONSTRAINT assertions_status_slot_check
    CHECK ((status_index IS NULL) = (status_list_id IS NULL));
-- A bit belongs to one award, whichever instance handed it out.
CREATE UNIQUE INDEX assertions_status_slot_idx
    ON assertions (status_list_id, status_index) WHERE status_list_id IS NOT NULL;
-- The set bits of a list: few rows, read on every status list request.
CREATE INDEX assertions_status_flagged_idx
    ON assertions (status_list_id, status) WHERE status <> 'active';
-- The flagged awards of an issuer: its OB 2.0 RevocationList.
CREATE INDEX assertions_issuer_flagged_idx
    ON assertions (issuer_id, status, created_at, id) WHERE status <> 'active';
