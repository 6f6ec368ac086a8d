-- The OB 3.0 properties that have no column of their own (results, credits,
-- identifiers, related achievements, addresses, person names, terms of
-- use ...), as one JSON document per row, written and read whole by the
-- server. jsonb like the other JSON columns (tags, alignments, evidence):
-- PostgreSQL checks it is JSON, and the server reads it into typed values,
-- so jsonb's own key order does not matter. NULL means none: existing rows
-- are not rewritten.

ALTER TABLE issuers ADD COLUMN details jsonb;
ALTER TABLE badge_classes ADD COLUMN details jsonb;
ALTER TABLE assertions ADD COLUMN details jsonb;
