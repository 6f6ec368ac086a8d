-- An award's signed credential is stored packed: its UTF-8 JSON text
-- deflated against a fixed dictionary of what every credential the server
-- signs has in common (crates/store-support/src/packing.rs), about a
-- quarter of its size, and given back byte for byte (jsonb kept neither
-- the key order nor the spacing of the text as signed). Same logical
-- schema as migrations-sqlite.
--
-- SQL cannot deflate: this keeps each credential's text as bytes (the
-- text PostgreSQL gave for the jsonb, as served until now), and the
-- migration runner packs them before it commits (the same transaction).
-- The space of the rows rewritten is reused by new rows after autovacuum;
-- `VACUUM FULL assertions` returns it to the file system.

ALTER TABLE assertions ALTER COLUMN issued_credential TYPE bytea
    USING convert_to(issued_credential::text, 'UTF8');
