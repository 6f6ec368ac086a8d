-- E-mails announcing awards, sent by the server's mail worker (docs/email.md).
-- A row is written in the award's own transaction and goes with the award
-- (ON DELETE CASCADE). A sender claims due rows with a lease (FOR UPDATE
-- SKIP LOCKED): `sending` until `claimed_until`, after which the row is due
-- again (its sender stopped). `attempts` counts claims and tells one claim
-- from the next. `last_error` is the SMTP server's answer or the connection
-- error, never a credential. The achievement's `notify_recipients` is the
-- default of its awards' `notify`.

ALTER TABLE badge_classes ADD COLUMN notify_recipients boolean NOT NULL DEFAULT false;

CREATE TABLE mail_outbox (
    id              uuid PRIMARY KEY,
    assertion_id    uuid NOT NULL REFERENCES assertions (id) ON DELETE CASCADE,
    recipient       text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    claimed_until   timestamptz,
    last_attempt_at timestamptz,
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL,
    CONSTRAINT mail_outbox_claim_check
        CHECK ((state = 'sending') = (claimed_until IS NOT NULL)),
    CONSTRAINT mail_outbox_sent_check
        CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
-- What a sender polls: due rows by state and time.
CREATE INDEX mail_outbox_due_idx ON mail_outbox (state, next_attempt_at);
-- An award's delivery state, and the cascade from assertions.
CREATE INDEX mail_outbox_assertion_idx ON mail_outbox (assertion_id);
