-- A counter raised each time all of a user's login tokens are ended (a new
-- password, a logout everywhere). A token carries the value it was issued
-- with and is refused once they differ. A counter rather than a time: a
-- token issued in the same instant as the change must end, and one issued
-- right after must work, whatever the clocks' granularity.
-- Same logical schema as migrations-postgres.

ALTER TABLE users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0
    CHECK (session_generation >= 0);
