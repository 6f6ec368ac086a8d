-- An award's signed credential is stored packed: its UTF-8 JSON text
-- deflated against a fixed dictionary of what every credential the server
-- signs has in common (crates/store-support/src/packing.rs), about a
-- quarter of its size, and given back byte for byte. A 2 KB credential
-- took a 4 KB page of its own; packed, four awards share a page.
-- Same logical schema as migrations-postgres.
--
-- SQL cannot deflate: this keeps each credential's text as bytes, and the
-- migration runner packs them before it commits (the same transaction).
-- The pages freed go to SQLite's free list, reused by new rows; `VACUUM`
-- returns them to the file system.

ALTER TABLE assertions ADD COLUMN issued_credential_packed BLOB;
UPDATE assertions SET issued_credential_packed = CAST(issued_credential AS BLOB)
    WHERE issued_credential IS NOT NULL;
ALTER TABLE assertions DROP COLUMN issued_credential;
ALTER TABLE assertions RENAME COLUMN issued_credential_packed TO issued_credential;
