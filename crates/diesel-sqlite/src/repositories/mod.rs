//! The repository ports, one file per entity. Each call is one unit of work
//! on the blocking pool; each write is one `BEGIN IMMEDIATE` transaction.
//!
//! References are checked explicitly inside the write transaction before an
//! insert: SQLite's foreign key error names neither the table nor the id,
//! and the port promises `MissingReference { entity, id }`.

mod api_keys;
mod assertions;
mod assets;
mod backpack;
mod badge_classes;
mod deliveries;
mod endorsements;
mod issuers;
mod learners;
mod oauth;
mod outbox;
mod platforms;
mod signing_keys;
pub(crate) mod status_lists;
mod users;

use std::fmt::Display;

use diesel::dsl::{exists, select};
use diesel::prelude::*;
use openbadges_domain::{DomainError, IssuerId, UserId};

pub(crate) use api_keys::ApiKeys;
pub(crate) use assertions::Assertions;
pub(crate) use assets::Assets;
pub(crate) use backpack::Backpack;
pub(crate) use badge_classes::BadgeClasses;
pub(crate) use deliveries::Deliveries;
pub(crate) use endorsements::Endorsements;
pub(crate) use issuers::Issuers;
pub(crate) use learners::LearnerEmails;
pub(crate) use oauth::OAuth;
pub(crate) use outbox::Outbox;
pub(crate) use platforms::Platforms;
pub(crate) use signing_keys::SigningKeys;
pub(crate) use status_lists::StatusLists;
pub(crate) use users::Users;

use openbadges_store_support::pages::{limit_offset, total};

use crate::errors::Failure;
use crate::schema;

/// Decodes a page of rows into entities.
fn decode_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, Failure>
where
    T: TryFrom<R, Error = DomainError>,
{
    rows.into_iter()
        .map(|row| T::try_from(row).map_err(Failure::from))
        .collect()
}

fn not_found(entity: &'static str, id: impl Display) -> Failure {
    DomainError::NotFound {
        entity,
        id: id.to_string(),
    }
    .into()
}

fn missing_reference(entity: &'static str, id: impl Display) -> Failure {
    DomainError::MissingReference {
        entity,
        id: id.to_string(),
    }
    .into()
}

/// `MissingReference` unless the user exists.
fn require_user(conn: &mut SqliteConnection, id: UserId) -> Result<(), Failure> {
    let found: bool = select(exists(schema::users::table.find(id.to_string()))).get_result(conn)?;
    if found {
        Ok(())
    } else {
        Err(missing_reference("user", id))
    }
}

/// `MissingReference` unless the issuer exists.
fn require_issuer(conn: &mut SqliteConnection, id: IssuerId) -> Result<(), Failure> {
    if issuer_exists(conn, &id.to_string())? {
        Ok(())
    } else {
        Err(missing_reference("issuer", id))
    }
}

fn issuer_exists(conn: &mut SqliteConnection, id: &str) -> Result<bool, Failure> {
    Ok(select(exists(schema::issuers::table.find(id))).get_result(conn)?)
}
