//! Row types and their conversions to and from domain entities. Reading is
//! fallible: a value written around the server that no longer validates is
//! reported, never unwrapped.

use chrono::{DateTime, Utc};
use std::io::Write;

use diesel::deserialize::{FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::serialize::{IsNull, Output, ToSql};
use openbadges_domain::*;
use serde_json::Value;
use uuid::Uuid;

use openbadges_store_support::{codes, packing};

use crate::errors::corrupt;
use crate::schema::*;

pub(crate) type Stamp = DateTime<Utc>;

/// A `jsonb` value as its JSON text. PostgreSQL's binary `jsonb` is a
/// version byte (1) followed by the text, so a document is read and
/// written without building a tree of it.
#[derive(Debug, AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Jsonb)]
pub(crate) struct JsonbText(String);

impl JsonbText {
    /// JSON text to store (it must be JSON: PostgreSQL checks).
    pub(crate) fn new(text: String) -> Self {
        Self(text)
    }

    /// The JSON text as PostgreSQL gave it.
    pub(crate) fn into_text(self) -> String {
        self.0
    }
}

/// The only `jsonb` binary format version PostgreSQL has.
const JSONB_VERSION: u8 = 1;

impl FromSql<diesel::sql_types::Jsonb, Pg> for JsonbText {
    fn from_sql(value: PgValue<'_>) -> diesel::deserialize::Result<Self> {
        match value.as_bytes().split_first() {
            Some((&JSONB_VERSION, text)) => Ok(Self(std::str::from_utf8(text)?.to_owned())),
            _ => Err("unsupported jsonb binary format version".into()),
        }
    }
}

impl ToSql<diesel::sql_types::Jsonb, Pg> for JsonbText {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        out.write_all(&[JSONB_VERSION])?;
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

pub(crate) fn stamp(value: Timestamp) -> Stamp {
    value.as_datetime()
}

pub(crate) fn restamp(value: Stamp) -> Timestamp {
    Timestamp::from_datetime(value)
}

pub(crate) fn parse<T, E: std::fmt::Display>(
    column: &str,
    value: String,
    parse: impl FnOnce(String) -> Result<T, E>,
) -> Result<T, DomainError> {
    parse(value).map_err(|e| corrupt(column, e))
}

/// A signed credential from its stored bytes ([`packing`]).
pub(crate) fn decode_credential(packed: &[u8]) -> Result<IssuedCredential, DomainError> {
    packing::unpack(packed).map_err(|e| corrupt("assertions.issued_credential", e))
}

pub(crate) fn parse_opt<T, E: std::fmt::Display>(
    column: &str,
    value: Option<String>,
    parse: impl FnOnce(String) -> Result<T, E>,
) -> Result<Option<T>, DomainError> {
    value
        .map(|v| parse(v).map_err(|e| corrupt(column, e)))
        .transpose()
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    // Serialising plain domain values (strings, lists, structs of strings)
    // into a `Value` cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A `details` column: NULL is no details.
fn details<T: serde::de::DeserializeOwned + Default>(
    column: &str,
    value: Option<JsonbText>,
) -> Result<T, DomainError> {
    value.map_or_else(
        || Ok(T::default()),
        |text| serde_json::from_str(&text.0).map_err(|e| corrupt(column, e)),
    )
}

fn from_json<T: serde::de::DeserializeOwned>(column: &str, value: Value) -> Result<T, DomainError> {
    serde_json::from_value(value).map_err(|e| corrupt(column, e))
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub created_at: Stamp,
    pub updated_at: Stamp,
    pub session_generation: i32,
}

/// The columns a user update writes: only those given (`None` is skipped).
#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct UserChangeset {
    email: Option<Option<String>>,
    role: Option<String>,
    password_hash: Option<String>,
}

impl From<&ports::UserUpdate> for UserChangeset {
    fn from(update: &ports::UserUpdate) -> Self {
        Self {
            email: update
                .email
                .as_ref()
                .map(|email| email.as_ref().map(|e| e.as_str().to_owned())),
            role: update.role.map(|r| r.as_str().to_owned()),
            password_hash: update.password_hash.as_ref().map(|h| h.as_str().to_owned()),
        }
    }
}

impl From<&User> for UserRow {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.as_uuid(),
            username: user.username.as_str().to_owned(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            password_hash: user.password_hash.as_str().to_owned(),
            role: user.role.as_str().to_owned(),
            created_at: stamp(user.created_at),
            updated_at: stamp(user.updated_at),
            // Only ever raised by one from what is stored; a new user's is 0.
            session_generation: i32::try_from(user.session_generation).unwrap_or(i32::MAX),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = DomainError;
    fn try_from(row: UserRow) -> Result<Self, DomainError> {
        Ok(Self {
            id: row.id.into(),
            username: parse("users.username", row.username, Username::parse)?,
            email: parse_opt("users.email", row.email, Email::parse)?,
            password_hash: parse(
                "users.password_hash",
                row.password_hash,
                PasswordHash::parse,
            )?,
            role: parse("users.role", row.role, |r| Role::parse(&r))?,
            session_generation: u32::try_from(row.session_generation)
                .map_err(|_| corrupt("users.session_generation", row.session_generation))?,
            created_at: restamp(row.created_at),
            updated_at: restamp(row.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = issuers, check_for_backend(diesel::pg::Pg))]
pub(crate) struct IssuerRow {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    pub email: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
    pub owner_id: Option<Uuid>,
    pub created_at: Stamp,
    pub updated_at: Stamp,
    pub details: Option<JsonbText>,
}

impl From<&Issuer> for IssuerRow {
    fn from(issuer: &Issuer) -> Self {
        Self {
            id: issuer.id.as_uuid(),
            name: issuer.name.as_str().to_owned(),
            url: issuer.url.as_str().to_owned(),
            email: issuer.email.as_ref().map(|e| e.as_str().to_owned()),
            description: issuer.description.as_ref().map(|d| d.as_str().to_owned()),
            image: issuer.image.as_ref().map(|i| i.as_str().to_owned()),
            owner_id: issuer.owner_id.map(|o| o.as_uuid()),
            created_at: stamp(issuer.created_at),
            updated_at: stamp(issuer.updated_at),
            details: encode_details(&issuer.details, issuer.details.is_empty()).map(JsonbText),
        }
    }
}

impl TryFrom<IssuerRow> for Issuer {
    type Error = DomainError;
    fn try_from(row: IssuerRow) -> Result<Self, DomainError> {
        Ok(Self {
            id: row.id.into(),
            name: parse("issuers.name", row.name, Name::parse)?,
            url: parse("issuers.url", row.url, HttpUrl::parse)?,
            email: parse_opt("issuers.email", row.email, Email::parse)?,
            description: parse_opt("issuers.description", row.description, Text::parse)?,
            image: parse_opt("issuers.image", row.image, Iri::parse)?,
            owner_id: row.owner_id.map(UserId::from),
            details: details("issuers.details", row.details)?,
            created_at: restamp(row.created_at),
            updated_at: restamp(row.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = badge_classes, check_for_backend(diesel::pg::Pg))]
pub(crate) struct BadgeClassRow {
    pub id: Uuid,
    pub issuer_id: Uuid,
    pub name: String,
    pub description: String,
    pub image: Option<String>,
    pub criteria_url: Option<String>,
    pub criteria_narrative: Option<String>,
    pub tags: Value,
    pub alignments: Value,
    pub version: Option<String>,
    pub achievement_type: Option<String>,
    pub created_at: Stamp,
    pub updated_at: Stamp,
    pub details: Option<JsonbText>,
    pub notify_recipients: bool,
}

impl From<&BadgeClass> for BadgeClassRow {
    fn from(badge: &BadgeClass) -> Self {
        Self {
            id: badge.id.as_uuid(),
            issuer_id: badge.issuer_id.as_uuid(),
            name: badge.name.as_str().to_owned(),
            description: badge.description.as_str().to_owned(),
            image: badge.image.as_ref().map(|i| i.as_str().to_owned()),
            criteria_url: badge.criteria.url().map(|u| u.as_str().to_owned()),
            criteria_narrative: badge.criteria.narrative().map(|n| n.as_str().to_owned()),
            tags: to_json(&badge.tags),
            alignments: to_json(&badge.alignments),
            version: badge.version.as_ref().map(|v| v.as_str().to_owned()),
            achievement_type: badge
                .achievement_type
                .as_ref()
                .map(|t| t.as_str().to_owned()),
            created_at: stamp(badge.created_at),
            updated_at: stamp(badge.updated_at),
            details: encode_details(&badge.details, badge.details.is_empty()).map(JsonbText),
            notify_recipients: badge.notify_recipients,
        }
    }
}

impl TryFrom<BadgeClassRow> for BadgeClass {
    type Error = DomainError;
    fn try_from(row: BadgeClassRow) -> Result<Self, DomainError> {
        let criteria = Criteria::new(
            parse_opt("badge_classes.criteria_url", row.criteria_url, Iri::parse)?,
            parse_opt(
                "badge_classes.criteria_narrative",
                row.criteria_narrative,
                Text::parse,
            )?,
        )
        .map_err(|e| corrupt("badge_classes.criteria", e))?;
        Ok(Self {
            id: row.id.into(),
            issuer_id: row.issuer_id.into(),
            name: parse("badge_classes.name", row.name, Name::parse)?,
            description: parse("badge_classes.description", row.description, Text::parse)?,
            image: parse_opt("badge_classes.image", row.image, Iri::parse)?,
            criteria,
            tags: from_json("badge_classes.tags", row.tags)?,
            alignments: from_json("badge_classes.alignments", row.alignments)?,
            version: parse_opt("badge_classes.version", row.version, Label::parse)?,
            achievement_type: parse_opt(
                "badge_classes.achievement_type",
                row.achievement_type,
                Label::parse,
            )?,
            details: details("badge_classes.details", row.details)?,
            created_at: restamp(row.created_at),
            updated_at: restamp(row.updated_at),
            notify_recipients: row.notify_recipients,
        })
    }
}

/// An `assertions` row. `None` is inserted as NULL, the default of every
/// nullable column, rather than as `DEFAULT`: the INSERT's text then does
/// not depend on which fields are set, so diesel keeps it prepared instead
/// of having the server parse and plan it anew for every issuance
/// (`treat_none_as_null` is the changeset attribute; inserts ignore it).
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = assertions, check_for_backend(diesel::pg::Pg), treat_none_as_default_value = false)]
pub(crate) struct AssertionRow {
    pub id: Uuid,
    pub badge_class_id: Uuid,
    pub issuer_id: Uuid,
    pub recipient_type: String,
    pub recipient_identity: String,
    pub recipient_hashed: bool,
    pub recipient_salt: Option<String>,
    pub recipient_key: String,
    pub issued_on: Stamp,
    pub expires: Option<Stamp>,
    pub evidence: Value,
    pub narrative: Option<String>,
    pub image: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_changed_at: Option<Stamp>,
    pub created_at: Stamp,
    pub updated_at: Stamp,
    pub issued_credential: Option<Vec<u8>>,
    pub status_list_id: Option<Uuid>,
    pub status_index: Option<i32>,
    pub details: Option<JsonbText>,
}

/// The status columns of an award: name, reason, time of change.
pub(crate) type StatusColumns = (String, Option<String>, Option<Stamp>);

pub(crate) fn status_columns(status: &CredentialStatus) -> StatusColumns {
    match status {
        CredentialStatus::Active => ("active".to_owned(), None, None),
        CredentialStatus::Revoked { reason, at } | CredentialStatus::Suspended { reason, at } => (
            status.as_str().to_owned(),
            reason.as_ref().map(|r| r.as_str().to_owned()),
            Some(stamp(*at)),
        ),
    }
}

/// The recipient columns of an award: type, identity, hashed, salt, key.
pub(crate) type RecipientColumns = (String, String, bool, Option<String>, String);

pub(crate) fn recipient_columns(recipient: &Recipient) -> RecipientColumns {
    let (identity, hashed, salt) = match recipient.identity() {
        RecipientIdentity::Plain(identity) => (identity.clone(), false, None),
        RecipientIdentity::Hashed { hash, salt } => (hash.clone(), true, salt.clone()),
    };
    (
        recipient.kind().as_str().to_owned(),
        identity,
        hashed,
        salt,
        recipient.lookup_key().to_owned(),
    )
}

impl From<&Assertion> for AssertionRow {
    fn from(award: &Assertion) -> Self {
        let (recipient_type, recipient_identity, recipient_hashed, recipient_salt, recipient_key) =
            recipient_columns(&award.recipient);
        let (status, status_reason, status_changed_at) = status_columns(&award.status);
        Self {
            id: award.id.as_uuid(),
            badge_class_id: award.badge_class_id.as_uuid(),
            issuer_id: award.issuer_id.as_uuid(),
            recipient_type,
            recipient_identity,
            recipient_hashed,
            recipient_salt,
            recipient_key,
            issued_on: stamp(award.issued_on),
            expires: award.expires.map(stamp),
            evidence: to_json(&award.evidence),
            narrative: award.narrative.as_ref().map(|n| n.as_str().to_owned()),
            image: award.image.as_ref().map(|i| i.as_str().to_owned()),
            status,
            status_reason,
            status_changed_at,
            created_at: stamp(award.created_at),
            updated_at: stamp(award.updated_at),
            issued_credential: award
                .issued_credential
                .as_ref()
                .map(|doc| packing::pack(doc.json().as_bytes())),
            status_list_id: award.status_slot.map(|slot| slot.list_id.as_uuid()),
            // Lists hold at most `i32::MAX` bits (their capacity is an
            // integer column); -1 would be refused by the CHECK constraint.
            status_index: award
                .status_slot
                .map(|slot| i32::try_from(slot.index).unwrap_or(-1)),
            details: encode_details(&award.details, award.details.is_empty()).map(JsonbText),
        }
    }
}

impl TryFrom<AssertionRow> for Assertion {
    type Error = DomainError;
    fn try_from(row: AssertionRow) -> Result<Self, DomainError> {
        let kind = parse("assertions.recipient_type", row.recipient_type, |k| {
            RecipientKind::parse(&k)
        })?;
        let identity = if row.recipient_hashed {
            RecipientIdentity::Hashed {
                hash: row.recipient_identity,
                salt: row.recipient_salt,
            }
        } else {
            RecipientIdentity::Plain(row.recipient_identity)
        };
        let reason = parse_opt("assertions.status_reason", row.status_reason, Text::parse)?;
        let status =
            codes::credential_status(&row.status, reason, row.status_changed_at.map(restamp))
                .ok_or_else(|| corrupt("assertions.status", &row.status))?;
        Ok(Self {
            id: row.id.into(),
            badge_class_id: row.badge_class_id.into(),
            issuer_id: row.issuer_id.into(),
            recipient: Recipient::restore(kind, identity, row.recipient_key),
            issued_on: restamp(row.issued_on),
            expires: row.expires.map(restamp),
            evidence: from_json("assertions.evidence", row.evidence)?,
            narrative: parse_opt("assertions.narrative", row.narrative, Text::parse)?,
            image: parse_opt("assertions.image", row.image, Iri::parse)?,
            details: details("assertions.details", row.details)?,
            status,
            status_slot: match (row.status_list_id, row.status_index) {
                (Some(list), Some(index)) => Some(StatusSlot {
                    list_id: list.into(),
                    index: u32::try_from(index)
                        .map_err(|_| corrupt("assertions.status_index", index))?,
                }),
                (None, None) => None,
                _ => return Err(corrupt("assertions.status_index", "half a slot")),
            },
            issued_credential: row
                .issued_credential
                .map(|packed| decode_credential(&packed))
                .transpose()?,
            created_at: restamp(row.created_at),
            updated_at: restamp(row.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ApiKeyRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub key_hash: String,
    pub prefix: String,
    pub permissions: Value,
    pub issuer_scope: Option<Uuid>,
    pub expires_at: Option<Stamp>,
    pub revoked_at: Option<Stamp>,
    pub last_used_at: Option<Stamp>,
    pub created_at: Stamp,
}

impl From<&ApiKey> for ApiKeyRow {
    fn from(key: &ApiKey) -> Self {
        Self {
            id: key.id.as_uuid(),
            user_id: key.user_id.as_uuid(),
            name: key.name.as_str().to_owned(),
            key_hash: key.key_hash.as_str().to_owned(),
            prefix: key.prefix.as_str().to_owned(),
            permissions: to_json(&key.permissions),
            issuer_scope: key.issuer_scope.map(|i| i.as_uuid()),
            expires_at: key.expires_at.map(stamp),
            revoked_at: key.revoked_at.map(stamp),
            last_used_at: key.last_used_at.map(stamp),
            created_at: stamp(key.created_at),
        }
    }
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = DomainError;
    fn try_from(row: ApiKeyRow) -> Result<Self, DomainError> {
        Ok(Self {
            id: row.id.into(),
            user_id: row.user_id.into(),
            name: parse("api_keys.name", row.name, Name::parse)?,
            key_hash: parse("api_keys.key_hash", row.key_hash, ApiKeyHash::parse)?,
            prefix: parse("api_keys.prefix", row.prefix, Label::parse)?,
            permissions: from_json("api_keys.permissions", row.permissions)?,
            issuer_scope: row.issuer_scope.map(IssuerId::from),
            expires_at: row.expires_at.map(restamp),
            revoked_at: row.revoked_at.map(restamp),
            last_used_at: row.last_used_at.map(restamp),
            created_at: restamp(row.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, check_for_backend(diesel::pg::Pg))]
pub(crate) struct SigningKeyRow {
    pub id: Uuid,
    pub issuer_id: Uuid,
    pub algorithm: String,
    pub public_key: String,
    pub private_key: Vec<u8>,
    pub status: String,
    pub created_at: Stamp,
    pub retired_at: Option<Stamp>,
    pub revoked_at: Option<Stamp>,
}

impl From<&SigningKey> for SigningKeyRow {
    fn from(key: &SigningKey) -> Self {
        let (retired_at, revoked_at) = match key.status {
            KeyStatus::Active => (None, None),
            KeyStatus::Retired { at } => (Some(stamp(at)), None),
            KeyStatus::Revoked { at } => (None, Some(stamp(at))),
        };
        Self {
            id: key.id.as_uuid(),
            issuer_id: key.issuer_id.as_uuid(),
            algorithm: key.algorithm.as_str().to_owned(),
            public_key: key.public_key.clone(),
            private_key: key.sealed_private_key.clone(),
            status: key.status.as_str().to_owned(),
            created_at: stamp(key.created_at),
            retired_at,
            revoked_at,
        }
    }
}

impl TryFrom<SigningKeyRow> for SigningKey {
    type Error = DomainError;
    fn try_from(row: SigningKeyRow) -> Result<Self, DomainError> {
        let status = codes::key_status(
            &row.status,
            row.retired_at.map(restamp),
            row.revoked_at.map(restamp),
        )
        .ok_or_else(|| corrupt("signing_keys.status", &row.status))?;
        Ok(Self {
            id: row.id.into(),
            issuer_id: row.issuer_id.into(),
            algorithm: parse("signing_keys.algorithm", row.algorithm, |a| {
                KeyAlgorithm::parse(&a)
            })?,
            public_key: row.public_key,
            sealed_private_key: row.private_key,
            status,
            created_at: restamp(row.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = status_lists, check_for_backend(diesel::pg::Pg))]
pub(crate) struct StatusListRow {
    pub id: Uuid,
    pub issuer_id: Uuid,
    pub capacity: i32,
    pub allocated: i32,
    pub created_at: Stamp,
}

impl TryFrom<StatusListRow> for StatusList {
    type Error = DomainError;
    fn try_from(row: StatusListRow) -> Result<Self, DomainError> {
        Ok(Self {
            id: row.id.into(),
            issuer_id: row.issuer_id.into(),
            capacity: u32::try_from(row.capacity)
                .map_err(|_| corrupt("status_lists.capacity", row.capacity))?,
            allocated: u32::try_from(row.allocated)
                .map_err(|_| corrupt("status_lists.allocated", row.allocated))?,
            created_at: restamp(row.created_at),
        })
    }
}

#[cfg(test)]
mod prepared {
    use super::*;
    use diesel::query_builder::QueryFragment;

    /// Diesel prepares a statement once per connection only when its text
    /// cannot vary; an unset optional field written as `DEFAULT` makes it
    /// vary, and the INSERT of every issuance was parsed anew.
    #[test]
    fn the_award_insert_is_kept_prepared() {
        let issuer = openbadges_domain::testkit::sample_issuer(None);
        let badge = openbadges_domain::testkit::sample_badge_class(issuer.id);
        let award = openbadges_domain::testkit::sample_assertion(&badge, "a@example.org");
        assert!(award.image.is_none(), "the sample leaves a field unset");
        let row = AssertionRow::from(&award);
        let insert = diesel::insert_into(assertions::table).values(&row);
        assert!(insert
            .is_safe_to_cache_prepared(&diesel::pg::Pg)
            .expect("walks"));
    }
}
