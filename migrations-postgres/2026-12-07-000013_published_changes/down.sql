DROP TRIGGER status_lists_published ON status_lists;
DROP TRIGGER endorsements_published ON endorsements;
DROP TRIGGER signing_keys_published ON signing_keys;
DROP TRIGGER assertions_published ON assertions;
DROP TRIGGER badge_classes_published ON badge_classes;
DROP TRIGGER issuers_published ON issuers;
DROP FUNCTION openbadges_notify_published();
