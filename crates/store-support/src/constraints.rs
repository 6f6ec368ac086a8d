//! The schema's unique constraints, read as [`DomainError::Duplicate`].
//!
//! PostgreSQL names the violated constraint; SQLite names its table and
//! columns (`UNIQUE constraint failed: users.username`). Both migrations
//! give every constraint the same name and columns, so one table answers
//! for both, and a taken username reads the same on either store.

use openbadges_domain::DomainError;

/// One unique constraint of the schema.
struct Unique {
    /// Its name in both migrations (PostgreSQL's `<table>_pkey` for ids).
    name: &'static str,
    /// The table it belongs to.
    table: &'static str,
    /// Its columns, in index order.
    columns: &'static [&'static str],
    /// What the domain calls a row of the table.
    entity: &'static str,
    /// What a reader calls the columns.
    field: &'static str,
}

const fn unique(
    name: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
    entity: &'static str,
    field: &'static str,
) -> Unique {
    Unique {
        name,
        table,
        columns,
        entity,
        field,
    }
}

const UNIQUE: &[Unique] = &[
    unique("users_pkey", "users", &["id"], "user", "id"),
    unique(
        "users_username_key",
        "users",
        &["username"],
        "user",
        "username",
    ),
    unique("users_email_key", "users", &["email"], "user", "email"),
    unique("issuers_pkey", "issuers", &["id"], "issuer", "id"),
    unique(
        "badge_classes_pkey",
        "badge_classes",
        &["id"],
        "badge class",
        "id",
    ),
    unique(
        "badge_classes_id_issuer_key",
        "badge_classes",
        &["id", "issuer_id"],
        "badge class",
        "id",
    ),
    unique("assertions_pkey", "assertions", &["id"], "assertion", "id"),
    unique(
        "assertions_status_slot_idx",
        "assertions",
        &["status_list_id", "status_index"],
        "assertion",
        "status list entry",
    ),
    unique("api_keys_pkey", "api_keys", &["id"], "api key", "id"),
    unique("assets_pkey", "assets", &["id"], "asset", "id"),
    unique(
        "api_keys_key_hash_key",
        "api_keys",
        &["key_hash"],
        "api key",
        "key",
    ),
    unique(
        "signing_keys_pkey",
        "signing_keys",
        &["id"],
        "signing key",
        "id",
    ),
    unique(
        "signing_keys_one_active_idx",
        "signing_keys",
        &["issuer_id", "algorithm"],
        "active signing key",
        "issuer and algorithm",
    ),
    unique(
        "status_lists_pkey",
        "status_lists",
        &["id"],
        "status list",
        "id",
    ),
    unique(
        "endorsements_pkey",
        "endorsements",
        &["id"],
        "endorsement",
        "id",
    ),
    unique(
        "endorsements_status_slot_idx",
        "endorsements",
        &["status_list_id", "status_index"],
        "endorsement",
        "status list entry",
    ),
    unique(
        "held_credentials_pkey",
        "held_credentials",
        &["id"],
        "held credential",
        "id",
    ),
    unique(
        "held_credentials_equality_key",
        "held_credentials",
        &["owner_id", "issuer_key", "credential_key"],
        "held credential",
        "issuer and credential id",
    ),
    unique(
        "learner_emails_pkey",
        "learner_emails",
        &["id"],
        "e-mail address",
        "id",
    ),
    unique(
        "learner_emails_user_email_key",
        "learner_emails",
        &["user_id", "email"],
        "e-mail address",
        "email",
    ),
    unique(
        "learner_emails_verified_key",
        "learner_emails",
        &["email"],
        "verified e-mail address",
        "email",
    ),
    unique(
        "learner_emails_token_key",
        "learner_emails",
        &["token_hash"],
        "e-mail address",
        "token",
    ),
    unique(
        "backpack_platforms_pkey",
        "backpack_platforms",
        &["id"],
        "platform",
        "id",
    ),
    unique(
        "backpack_platforms_client_id_key",
        "backpack_platforms",
        &["client_id"],
        "platform",
        "clientId",
    ),
    unique(
        "platform_users_pkey",
        "platform_users",
        &["id"],
        "platform user",
        "id",
    ),
    unique(
        "platform_users_external_key",
        "platform_users",
        &["platform_id", "external_user_id"],
        "platform user",
        "external user id",
    ),
    unique(
        "platform_assertions_pkey",
        "platform_assertions",
        &["held_id"],
        "platform assertion",
        "id",
    ),
    unique(
        "platform_assertions_user_assertion_key",
        "platform_assertions",
        &["platform_user_id", "assertion_id"],
        "platform assertion",
        "assertionId",
    ),
    unique(
        "remote_hosts_pkey",
        "remote_hosts",
        &["id"],
        "badge host",
        "id",
    ),
    unique(
        "remote_hosts_base_url_key",
        "remote_hosts",
        &["base_url"],
        "badge host",
        "base URL",
    ),
    unique("deliveries_pkey", "deliveries", &["id"], "delivery", "id"),
    unique(
        "deliveries_state_hash_key",
        "deliveries",
        &["state_hash"],
        "delivery",
        "state",
    ),
];

/// The violation of the constraint called `name`, as PostgreSQL reports it.
/// An unknown name (a constraint added outside the migrations) still reads
/// as a duplicate, of an unnamed record.
pub fn duplicate_of_constraint(name: Option<&str>) -> DomainError {
    let found = name.and_then(|name| UNIQUE.iter().find(|u| u.name == name));
    duplicate(found)
}

/// The violation of the unique index over `columns` of `table`, as SQLite
/// reports it.
pub fn duplicate_of_columns(table: &str, columns: &[&str]) -> DomainError {
    let found = UNIQUE
        .iter()
        .find(|u| u.table == table && u.columns == columns);
    duplicate(found)
}

fn duplicate(found: Option<&Unique>) -> DomainError {
    match found {
        Some(u) => DomainError::Duplicate {
            entity: u.entity,
            field: u.field,
        },
        None => DomainError::Duplicate {
            entity: "record",
            field: "value",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_reports_of_one_constraint_read_alike() {
        for u in UNIQUE {
            assert_eq!(
                duplicate_of_constraint(Some(u.name)),
                duplicate_of_columns(u.table, u.columns),
                "{}",
                u.name
            );
        }
    }

    #[test]
    fn a_taken_username_names_the_field_not_the_value() {
        assert_eq!(
            duplicate_of_columns("users", &["username"]),
            DomainError::Duplicate {
                entity: "user",
                field: "username"
            }
        );
        assert_eq!(
            duplicate_of_constraint(Some("users_email_key")),
            DomainError::Duplicate {
                entity: "user",
                field: "email"
            }
        );
    }

    #[test]
    fn unknown_constraints_are_still_duplicates() {
        assert_eq!(
            duplicate_of_constraint(Some("made_by_hand_idx")),
            DomainError::Duplicate {
                entity: "record",
                field: "value"
            }
        );
        assert_eq!(
            duplicate_of_constraint(None),
            duplicate_of_columns("x", &["y"])
        );
    }
}
