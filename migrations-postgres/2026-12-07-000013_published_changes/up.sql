-- Every instance keeps a cache of the public documents it rendered
-- (credentials, achievements, issuers, DID documents, status lists). A
-- change to anything they are rendered from, made by any instance or
-- tool, notifies channel `openbadges_published` when it commits; each
-- instance listens and forgets its cache. Issuing an award inserts into
-- `assertions` and changes no document served before, so inserts there
-- notify nothing; a new key or endorsement changes the documents that
-- list them. One notification per statement: the cache is forgotten
-- whole, so which rows changed does not matter.

CREATE FUNCTION openbadges_notify_published() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('openbadges_published', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER issuers_published AFTER UPDATE OR DELETE ON issuers
    FOR EACH STATEMENT EXECUTE FUNCTION openbadges_notify_published();
CREATE TRIGGER badge_classes_published AFTER UPDATE OR DELETE ON badge_classes
    FOR EACH STATEMENT EXECUTE FUNCTION openbadges_notify_published();
CREATE TRIGGER assertions_published AFTER UPDATE OR DELETE ON assertions
    FOR EACH STATEMENT EXECUTE FUNCTION openbadges_notify_published();
CREATE TRIGGER signing_keys_published AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION openbadges_notify_published();
CREATE TRIGGER endorsements_published AFTER INSERT OR UPDATE OR DELETE ON endorsements
    FOR EACH STATEMENT EXECUTE FUNCTION openbadges_notify_published();
CREATE TRIGGER status_lists_published AFTER DELETE ON status_lists
    FOR EACH STATEMENT EXECUTE FUNCTION openbadges_notify_published();
