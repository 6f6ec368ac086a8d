-- Every instance keeps a cache of the public documents it rendered
-- (credentials, achievements, issuers, DID documents, status lists). A
-- change to anything they are rendered from, made by any process sharing
-- the file, counts up `published_changes.generation`; each instance
-- watches `PRAGMA data_version` (which moves on any other connection's
-- commit) and, when it moved, reads the generation, and forgets its cache
-- when that moved too. Issuing an award inserts into `assertions` and
-- changes no document served before, so inserts there count nothing; a
-- new key or endorsement changes the documents that list them.
-- A later migration that rebuilds one of these tables must create its
-- triggers again.

CREATE TABLE published_changes (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO published_changes (id, generation) VALUES (1, 0);

CREATE TRIGGER issuers_published_update AFTER UPDATE ON issuers
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER issuers_published_delete AFTER DELETE ON issuers
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER badge_classes_published_update AFTER UPDATE ON badge_classes
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER badge_classes_published_delete AFTER DELETE ON badge_classes
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER assertions_published_update AFTER UPDATE ON assertions
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER assertions_published_delete AFTER DELETE ON assertions
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER signing_keys_published_insert AFTER INSERT ON signing_keys
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER signing_keys_published_update AFTER UPDATE ON signing_keys
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER signing_keys_published_delete AFTER DELETE ON signing_keys
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER endorsements_published_insert AFTER INSERT ON endorsements
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER endorsements_published_update AFTER UPDATE ON endorsements
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER endorsements_published_delete AFTER DELETE ON endorsements
BEGIN UPDATE published_changes SET generation = generation + 1; END;
CREATE TRIGGER status_lists_published_delete AFTER DELETE ON status_lists
BEGIN UPDATE published_changes SET generation = generation + 1; END;
