-- The OB 3.0 properties that have no column of their own (results, credits,
-- identifiers, related achievements, addresses, person names, terms of
-- use ...), as one JSON document per row, written and read whole by the
-- server. NULL means none: existing rows are not rewritten.
-- Same logical schema as migrations-postgres.

ALTER TABLE issuers ADD COLUMN details TEXT CHECK (details IS NULL OR json_valid(details));
ALTER TABLE badge_classes ADD COLUMN details TEXT CHECK (details IS NULL OR json_valid(details));
ALTER TABLE assertions ADD COLUMN details TEXT CHECK (details IS NULL OR json_valid(details));
