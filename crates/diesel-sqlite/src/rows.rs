//! Rows as SQLite stores them, and their conversion to and from entities.
//!
//! Encodings (fixed by the migration's header): ids are lowercase
//! hyphenated UUID text; timestamps are UTC text with exactly six fractional
//! digits, so text order is time order and `ORDER BY created_at` is correct;
//! lists of values are JSON arrays in text; signed credentials are packed
//! bytes (`openbadges_store_support::packing`).
//!
//! Reading back never trusts the text: every value goes through the
//! domain's parser, and one that does not parse is an `Internal` error
//! naming the column, never a panic.

use std::fmt::Display;
use std::str::FromStr;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sqlite::Sqlite;
use openbadges_domain::{
    encode_details, ApiKey, ApiKeyHash, Assertion, BadgeClass, CredentialStatus, Criteria,
    DomainError, Email, HttpUrl, InvalidValue, Iri, IssuedCredential, Issuer, KeyAlgorithm,
    KeyStatus, Label, Name, PasswordHash, Recipient, RecipientIdentity, RecipientKind, Role,
    SigningKey, StatusList, StatusSlot, Text, Timestamp, User, Username,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use openbadges_store_support::{codes, packing};

use crate::errors::stored_value;
use crate::schema::{
    api_keys, assertions, badge_classes, issuers, signing_keys, status_lists, users,
};

/// The stored timestamp format. `%.6f` always writes six digits.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Encodes a timestamp as stored text.
pub(crate) fn encode_timestamp(value: Timestamp) -> String {
    value.as_datetime().format(TIMESTAMP_FORMAT).to_string()
}

pub(crate) fn encode_optional_timestamp(value: Option<Timestamp>) -> Option<String> {
    value.map(encode_timestamp)
}

fn encode_json(column: &'static str, value: &impl Serialize) -> Result<String, DomainError> {
    serde_json::to_string(value)
        .map_err(|err| DomainError::Internal(format!("cannot encode {column}: {err}")))
}

pub(crate) fn decode<T, E: Display>(
    column: &'static str,
    parsed: Result<T, E>,
) -> Result<T, DomainError> {
    parsed.map_err(|err| stored_value(column, err))
}

/// A signed credential from its stored bytes ([`packing`]).
pub(crate) fn decode_credential(packed: &[u8]) -> Result<IssuedCredential, DomainError> {
    decode("assertions.issued_credential", packing::unpack(packed))
}

fn decode_optional<T>(
    column: &'static str,
    value: Option<String>,
    parse: impl FnOnce(String) -> Result<T, InvalidValue>,
) -> Result<Option<T>, DomainError> {
    value.map(|text| decode(column, parse(text))).transpose()
}

pub(crate) fn decode_id<T: FromStr>(column: &'static str, text: &str) -> Result<T, DomainError>
where
    T::Err: Display,
{
    decode(column, text.parse())
}

pub(crate) fn decode_optional_id<T: FromStr>(
    column: &'static str,
    text: Option<&str>,
) -> Result<Option<T>, DomainError>
where
    T::Err: Display,
{
    text.map(|text| decode_id(column, text)).transpose()
}

pub(crate) fn decode_timestamp(column: &'static str, text: &str) -> Result<Timestamp, DomainError> {
    let parsed = decode(
        column,
        NaiveDateTime::parse_from_str(text, TIMESTAMP_FORMAT),
    )?;
    Ok(Timestamp::from_datetime(parsed.and_utc()))
}

pub(crate) fn decode_optional_timestamp(
    column: &'static str,
    text: Option<&str>,
) -> Result<Option<Timestamp>, DomainError> {
    text.map(|text| decode_timestamp(column, text)).transpose()
}

/// JSON errors are reported by kind and position only: serde's messages
/// quote the offending value.
fn decode_json<T: DeserializeOwned>(column: &'static str, text: &str) -> Result<T, DomainError> {
    serde_json::from_str(text).map_err(|err| {
        stored_value(
            column,
            format_args!(
                "JSON {:?} error at line {}, column {}",
                err.classify(),
                err.line(),
                err.column()
            ),
        )
    })
}

/// A `details` column: NULL is no details.
fn decode_details<T: DeserializeOwned + Default>(
    column: &'static str,
    text: Option<&str>,
) -> Result<T, DomainError> {
    text.map_or_else(|| Ok(T::default()), |text| decode_json(column, text))
}

/// An `issuers` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = issuers, check_for_backend(Sqlite))]
pub(crate) struct IssuerRow {
    id: String,
    name: String,
    url: String,
    email: Option<String>,
    description: Option<String>,
    image: Option<String>,
    owner_id: Option<String>,
    created_at: String,
    updated_at: String,
    details: Option<String>,
}

/// The columns an issuer update may change.
#[derive(AsChangeset)]
#[diesel(table_name = issuers, treat_none_as_null = true)]
pub(crate) struct IssuerChanges<'a> {
    name: &'a str,
    url: &'a str,
    email: Option<&'a str>,
    description: Option<&'a str>,
    image: Option<&'a str>,
    updated_at: &'a str,
    details: Option<&'a str>,
}

impl IssuerRow {
    /// The client-set fields: not the id, creation time or owner (which
    /// only the owner's deletion changes).
    pub(crate) fn changes(&self) -> IssuerChanges<'_> {
        IssuerChanges {
            name: &self.name,
            url: &self.url,
            email: self.email.as_deref(),
            description: self.description.as_deref(),
            image: self.image.as_deref(),
            updated_at: &self.updated_at,
            details: self.details.as_deref(),
        }
    }
}

impl From<&Issuer> for IssuerRow {
    fn from(issuer: &Issuer) -> Self {
        Self {
            id: issuer.id.to_string(),
            name: issuer.name.as_str().to_owned(),
            url: issuer.url.as_str().to_owned(),
            email: issuer.email.as_ref().map(|e| e.as_str().to_owned()),
            description: issuer.description.as_ref().map(|d| d.as_str().to_owned()),
            image: issuer.image.as_ref().map(|i| i.as_str().to_owned()),
            owner_id: issuer.owner_id.map(|id| id.to_string()),
            created_at: encode_timestamp(issuer.created_at),
            updated_at: encode_timestamp(issuer.updated_at),
            details: encode_details(&issuer.details, issuer.details.is_empty()),
        }
    }
}

impl TryFrom<IssuerRow> for Issuer {
    type Error = DomainError;

    fn try_from(row: IssuerRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: decode_id("issuers.id", &row.id)?,
            name: decode("issuers.name", Name::parse(row.name))?,
            url: decode("issuers.url", HttpUrl::parse(row.url))?,
            email: decode_optional("issuers.email", row.email, Email::parse)?,
            description: decode_optional("issuers.description", row.description, Text::parse)?,
            image: decode_optional("issuers.image", row.image, Iri::parse)?,
            owner_id: decode_optional_id("issuers.owner_id", row.owner_id.as_deref())?,
            details: decode_details("issuers.details", row.details.as_deref())?,
            created_at: decode_timestamp("issuers.created_at", &row.created_at)?,
            updated_at: decode_timestamp("issuers.updated_at", &row.updated_at)?,
        })
    }
}

/// A `badge_classes` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = badge_classes, check_for_backend(Sqlite))]
pub(crate) struct BadgeClassRow {
    id: String,
    issuer_id: String,
    name: String,
    description: String,
    image: Option<String>,
    criteria_url: Option<String>,
    criteria_narrative: Option<String>,
    tags: String,
    alignments: String,
    version: Option<String>,
    achievement_type: Option<String>,
    created_at: String,
    updated_at: String,
    details: Option<String>,
    notify_recipients: bool,
}

/// The columns a badge class update may change: not its issuer, whose
/// awards point at the pair (badge class, issuer).
#[derive(AsChangeset)]
#[diesel(table_name = badge_classes, treat_none_as_null = true)]
pub(crate) struct BadgeClassChanges<'a> {
    name: &'a str,
    description: &'a str,
    image: Option<&'a str>,
    criteria_url: Option<&'a str>,
    criteria_narrative: Option<&'a str>,
    tags: &'a str,
    alignments: &'a str,
    version: Option<&'a str>,
    achievement_type: Option<&'a str>,
    updated_at: &'a str,
    details: Option<&'a str>,
    notify_recipients: bool,
}

impl BadgeClassRow {
    /// Everything but the id, issuer and creation time.
    pub(crate) fn changes(&self) -> BadgeClassChanges<'_> {
        BadgeClassChanges {
            name: &self.name,
            description: &self.description,
            image: self.image.as_deref(),
            criteria_url: self.criteria_url.as_deref(),
            criteria_narrative: self.criteria_narrative.as_deref(),
            tags: &self.tags,
            alignments: &self.alignments,
            version: self.version.as_deref(),
            achievement_type: self.achievement_type.as_deref(),
            updated_at: &self.updated_at,
            details: self.details.as_deref(),
            notify_recipients: self.notify_recipients,
        }
    }
}

impl TryFrom<&BadgeClass> for BadgeClassRow {
    type Error = DomainError;

    fn try_from(badge: &BadgeClass) -> Result<Self, Self::Error> {
        Ok(Self {
            id: badge.id.to_string(),
            issuer_id: badge.issuer_id.to_string(),
            name: badge.name.as_str().to_owned(),
            description: badge.description.as_str().to_owned(),
            image: badge.image.as_ref().map(|i| i.as_str().to_owned()),
            criteria_url: badge.criteria.url().map(|u| u.as_str().to_owned()),
            criteria_narrative: badge.criteria.narrative().map(|n| n.as_str().to_owned()),
            tags: encode_json("badge_classes.tags", &badge.tags)?,
            alignments: encode_json("badge_classes.alignments", &badge.alignments)?,
            version: badge.version.as_ref().map(|v| v.as_str().to_owned()),
            achievement_type: badge
                .achievement_type
                .as_ref()
                .map(|t| t.as_str().to_owned()),
            created_at: encode_timestamp(badge.created_at),
            updated_at: encode_timestamp(badge.updated_at),
            details: encode_details(&badge.details, badge.details.is_empty()),
            notify_recipients: badge.notify_recipients,
        })
    }
}

impl TryFrom<BadgeClassRow> for BadgeClass {
    type Error = DomainError;

    fn try_from(row: BadgeClassRow) -> Result<Self, Self::Error> {
        let criteria_url =
            decode_optional("badge_classes.criteria_url", row.criteria_url, Iri::parse)?;
        let criteria_narrative = decode_optional(
            "badge_classes.criteria_narrative",
            row.criteria_narrative,
            Text::parse,
        )?;
        Ok(Self {
            id: decode_id("badge_classes.id", &row.id)?,
            issuer_id: decode_id("badge_classes.issuer_id", &row.issuer_id)?,
            name: decode("badge_classes.name", Name::parse(row.name))?,
            description: decode("badge_classes.description", Text::parse(row.description))?,
            image: decode_optional("badge_classes.image", row.image, Iri::parse)?,
            criteria: decode(
                "badge_classes.criteria_url",
                Criteria::new(criteria_url, criteria_narrative),
            )?,
            tags: decode_json("badge_classes.tags", &row.tags)?,
            alignments: decode_json("badge_classes.alignments", &row.alignments)?,
            version: decode_optional("badge_classes.version", row.version, Label::parse)?,
            achievement_type: decode_optional(
                "badge_classes.achievement_type",
                row.achievement_type,
                Label::parse,
            )?,
            details: decode_details("badge_classes.details", row.details.as_deref())?,
            created_at: decode_timestamp("badge_classes.created_at", &row.created_at)?,
            updated_at: decode_timestamp("badge_classes.updated_at", &row.updated_at)?,
            notify_recipients: row.notify_recipients,
        })
    }
}

/// An `assertions` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = assertions, check_for_backend(Sqlite))]
pub(crate) struct AssertionRow {
    id: String,
    badge_class_id: String,
    issuer_id: String,
    recipient_type: String,
    recipient_identity: String,
    recipient_hashed: bool,
    recipient_salt: Option<String>,
    recipient_key: String,
    issued_on: String,
    expires: Option<String>,
    evidence: String,
    narrative: Option<String>,
    image: Option<String>,
    status: String,
    status_reason: Option<String>,
    status_changed_at: Option<String>,
    created_at: String,
    updated_at: String,
    issued_credential: Option<Vec<u8>>,
    status_list_id: Option<String>,
    status_index: Option<i32>,
    details: Option<String>,
}

/// The columns an award update may change: not what was awarded, by whom,
/// or when the record was created, nor its status, which has its own
/// compare-and-set write ([`status_columns`]).
#[derive(AsChangeset)]
#[diesel(table_name = assertions, treat_none_as_null = true)]
pub(crate) struct AssertionChanges<'a> {
    recipient_type: &'a str,
    recipient_identity: &'a str,
    recipient_hashed: bool,
    recipient_salt: Option<&'a str>,
    recipient_key: &'a str,
    issued_on: &'a str,
    expires: Option<&'a str>,
    evidence: &'a str,
    narrative: Option<&'a str>,
    image: Option<&'a str>,
    updated_at: &'a str,
    issued_credential: Option<&'a [u8]>,
    details: Option<&'a str>,
}

impl AssertionRow {
    /// The badge class awarded.
    pub(crate) fn badge_class_id(&self) -> &str {
        &self.badge_class_id
    }

    /// The issuer the award claims.
    pub(crate) fn issuer_id(&self) -> &str {
        &self.issuer_id
    }

    /// The mutable fields.
    pub(crate) fn changes(&self) -> AssertionChanges<'_> {
        AssertionChanges {
            recipient_type: &self.recipient_type,
            recipient_identity: &self.recipient_identity,
            recipient_hashed: self.recipient_hashed,
            recipient_salt: self.recipient_salt.as_deref(),
            recipient_key: &self.recipient_key,
            issued_on: &self.issued_on,
            expires: self.expires.as_deref(),
            evidence: &self.evidence,
            narrative: self.narrative.as_deref(),
            image: self.image.as_deref(),
            updated_at: &self.updated_at,
            issued_credential: self.issued_credential.as_deref(),
            details: self.details.as_deref(),
        }
    }
}

/// The status columns of an award: status, reason, when it changed.
pub(crate) fn status_columns(
    status: &CredentialStatus,
) -> (&'static str, Option<String>, Option<String>) {
    match status {
        CredentialStatus::Active => (status.as_str(), None, None),
        CredentialStatus::Revoked { reason, at } | CredentialStatus::Suspended { reason, at } => (
            status.as_str(),
            reason.as_ref().map(|r| r.as_str().to_owned()),
            Some(encode_timestamp(*at)),
        ),
    }
}

impl TryFrom<&Assertion> for AssertionRow {
    type Error = DomainError;

    fn try_from(award: &Assertion) -> Result<Self, Self::Error> {
        let (recipient_identity, recipient_hashed, recipient_salt) =
            match award.recipient.identity() {
                RecipientIdentity::Plain(identity) => (identity.clone(), false, None),
                RecipientIdentity::Hashed { hash, salt } => (hash.clone(), true, salt.clone()),
            };
        let (_, status_reason, status_changed_at) = status_columns(&award.status);
        Ok(Self {
            id: award.id.to_string(),
            badge_class_id: award.badge_class_id.to_string(),
            issuer_id: award.issuer_id.to_string(),
            recipient_type: award.recipient.kind().as_str().to_owned(),
            recipient_identity,
            recipient_hashed,
            recipient_salt,
            recipient_key: award.recipient.lookup_key().to_owned(),
            issued_on: encode_timestamp(award.issued_on),
            expires: encode_optional_timestamp(award.expires),
            evidence: encode_json("assertions.evidence", &award.evidence)?,
            narrative: award.narrative.as_ref().map(|n| n.as_str().to_owned()),
            image: award.image.as_ref().map(|i| i.as_str().to_owned()),
            status: award.status.as_str().to_owned(),
            status_reason,
            status_changed_at,
            created_at: encode_timestamp(award.created_at),
            updated_at: encode_timestamp(award.updated_at),
            issued_credential: award
                .issued_credential
                .as_ref()
                .map(|doc| packing::pack(doc.json().as_bytes())),
            status_list_id: award.status_slot.map(|slot| slot.list_id.to_string()),
            status_index: award
                .status_slot
                .map(|slot| encode_index("assertions.status_index", slot.index))
                .transpose()?,
            details: encode_details(&award.details, award.details.is_empty()),
        })
    }
}

impl TryFrom<AssertionRow> for Assertion {
    type Error = DomainError;

    fn try_from(row: AssertionRow) -> Result<Self, Self::Error> {
        let kind = decode(
            "assertions.recipient_type",
            RecipientKind::parse(&row.recipient_type),
        )?;
        let identity = if row.recipient_hashed {
            RecipientIdentity::Hashed {
                hash: row.recipient_identity,
                salt: row.recipient_salt,
            }
        } else {
            RecipientIdentity::Plain(row.recipient_identity)
        };
        let status = decode_status(
            &row.status,
            row.status_reason,
            row.status_changed_at.as_deref(),
        )?;
        Ok(Self {
            id: decode_id("assertions.id", &row.id)?,
            badge_class_id: decode_id("assertions.badge_class_id", &row.badge_class_id)?,
            issuer_id: decode_id("assertions.issuer_id", &row.issuer_id)?,
            recipient: Recipient::restore(kind, identity, row.recipient_key),
            issued_on: decode_timestamp("assertions.issued_on", &row.issued_on)?,
            expires: decode_optional_timestamp("assertions.expires", row.expires.as_deref())?,
            evidence: decode_json("assertions.evidence", &row.evidence)?,
            narrative: decode_optional("assertions.narrative", row.narrative, Text::parse)?,
            image: decode_optional("assertions.image", row.image, Iri::parse)?,
            details: decode_details("assertions.details", row.details.as_deref())?,
            status,
            status_slot: decode_slot(row.status_list_id.as_deref(), row.status_index)?,
            issued_credential: row
                .issued_credential
                .map(|packed| decode_credential(&packed))
                .transpose()?,
            created_at: decode_timestamp("assertions.created_at", &row.created_at)?,
            updated_at: decode_timestamp("assertions.updated_at", &row.updated_at)?,
        })
    }
}

fn decode_status(
    status: &str,
    reason: Option<String>,
    changed_at: Option<&str>,
) -> Result<CredentialStatus, DomainError> {
    let reason = decode_optional("assertions.status_reason", reason, Text::parse)?;
    let changed_at = decode_optional_timestamp("assertions.status_changed_at", changed_at)?;
    codes::credential_status(status, reason, changed_at).ok_or_else(|| {
        stored_value(
            "assertions.status, status_changed_at",
            "must be active, or revoked or suspended with a time of change",
        )
    })
}

/// A `users` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(Sqlite))]
pub(crate) struct UserRow {
    id: String,
    username: String,
    email: Option<String>,
    password_hash: String,
    role: String,
    created_at: String,
    updated_at: String,
    session_generation: i32,
}

/// The columns a user update writes: only those given (`None` is skipped).
#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct UserChanges {
    email: Option<Option<String>>,
    role: Option<String>,
    password_hash: Option<String>,
}

impl From<&openbadges_domain::ports::UserUpdate> for UserChanges {
    fn from(update: &openbadges_domain::ports::UserUpdate) -> Self {
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
            id: user.id.to_string(),
            username: user.username.as_str().to_owned(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            password_hash: user.password_hash.as_str().to_owned(),
            role: user.role.as_str().to_owned(),
            created_at: encode_timestamp(user.created_at),
            updated_at: encode_timestamp(user.updated_at),
            // Only ever raised by one from what is stored; a new user's is 0.
            session_generation: i32::try_from(user.session_generation).unwrap_or(i32::MAX),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = DomainError;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: decode_id("users.id", &row.id)?,
            username: decode("users.username", Username::parse(row.username))?,
            email: decode_optional("users.email", row.email, Email::parse)?,
            password_hash: decode(
                "users.password_hash",
                PasswordHash::parse(row.password_hash),
            )?,
            role: decode("users.role", Role::parse(&row.role))?,
            session_generation: decode(
                "users.session_generation",
                u32::try_from(row.session_generation),
            )?,
            created_at: decode_timestamp("users.created_at", &row.created_at)?,
            updated_at: decode_timestamp("users.updated_at", &row.updated_at)?,
        })
    }
}

/// An `api_keys` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys, check_for_backend(Sqlite))]
pub(crate) struct ApiKeyRow {
    id: String,
    user_id: String,
    name: String,
    key_hash: String,
    prefix: String,
    permissions: String,
    issuer_scope: Option<String>,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
    created_at: String,
}

impl TryFrom<&ApiKey> for ApiKeyRow {
    type Error = DomainError;

    fn try_from(key: &ApiKey) -> Result<Self, Self::Error> {
        Ok(Self {
            id: key.id.to_string(),
            user_id: key.user_id.to_string(),
            name: key.name.as_str().to_owned(),
            key_hash: key.key_hash.as_str().to_owned(),
            prefix: key.prefix.as_str().to_owned(),
            permissions: encode_json("api_keys.permissions", &key.permissions)?,
            issuer_scope: key.issuer_scope.map(|id| id.to_string()),
            expires_at: encode_optional_timestamp(key.expires_at),
            revoked_at: encode_optional_timestamp(key.revoked_at),
            last_used_at: encode_optional_timestamp(key.last_used_at),
            created_at: encode_timestamp(key.created_at),
        })
    }
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = DomainError;

    fn try_from(row: ApiKeyRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: decode_id("api_keys.id", &row.id)?,
            user_id: decode_id("api_keys.user_id", &row.user_id)?,
            name: decode("api_keys.name", Name::parse(row.name))?,
            key_hash: decode("api_keys.key_hash", ApiKeyHash::parse(row.key_hash))?,
            prefix: decode("api_keys.prefix", Label::parse(row.prefix))?,
            permissions: decode_json("api_keys.permissions", &row.permissions)?,
            issuer_scope: decode_optional_id("api_keys.issuer_scope", row.issuer_scope.as_deref())?,
            expires_at: decode_optional_timestamp(
                "api_keys.expires_at",
                row.expires_at.as_deref(),
            )?,
            revoked_at: decode_optional_timestamp(
                "api_keys.revoked_at",
                row.revoked_at.as_deref(),
            )?,
            last_used_at: decode_optional_timestamp(
                "api_keys.last_used_at",
                row.last_used_at.as_deref(),
            )?,
            created_at: decode_timestamp("api_keys.created_at", &row.created_at)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_always_carry_six_digits() {
        let whole = Timestamp::parse("2024-05-01T12:00:00Z").expect("fixture");
        assert_eq!(encode_timestamp(whole), "2024-05-01T12:00:00.000000Z");
        let fine = Timestamp::parse("2024-05-01T12:00:00.123456Z").expect("fixture");
        assert_eq!(encode_timestamp(fine), "2024-05-01T12:00:00.123456Z");
        assert_eq!(
            decode_timestamp("t", &encode_timestamp(fine)).expect("decode"),
            fine
        );
    }

    #[test]
    fn bad_stored_values_name_the_column() {
        match decode_timestamp("issuers.created_at", "yesterday") {
            Err(DomainError::Internal(message)) => {
                assert!(message.contains("issuers.created_at"), "{message}")
            }
            other => panic!("expected Internal, got {other:?}"),
        }
        match decode_json::<Vec<Label>>("badge_classes.tags", r#"["secret-looking", ""]"#) {
            Err(DomainError::Internal(message)) => {
                assert!(message.contains("badge_classes.tags"), "{message}");
                assert!(!message.contains("secret-looking"), "{message}");
            }
            other => panic!("expected Internal, got {other:?}"),
        }
        match decode_status("revoked", None, None) {
            Err(DomainError::Internal(message)) => {
                assert!(message.contains("status_changed_at"), "{message}")
            }
            other => panic!("expected Internal, got {other:?}"),
        }
    }
}

/// A `signing_keys` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, check_for_backend(Sqlite))]
pub(crate) struct SigningKeyRow {
    pub(crate) id: String,
    pub(crate) issuer_id: String,
    pub(crate) algorithm: String,
    public_key: String,
    private_key: Vec<u8>,
    status: String,
    pub(crate) created_at: String,
    retired_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<&SigningKey> for SigningKeyRow {
    fn from(key: &SigningKey) -> Self {
        let (retired_at, revoked_at) = match key.status {
            KeyStatus::Active => (None, None),
            KeyStatus::Retired { at } => (Some(encode_timestamp(at)), None),
            KeyStatus::Revoked { at } => (None, Some(encode_timestamp(at))),
        };
        Self {
            id: key.id.to_string(),
            issuer_id: key.issuer_id.to_string(),
            algorithm: key.algorithm.as_str().to_owned(),
            public_key: key.public_key.clone(),
            private_key: key.sealed_private_key.clone(),
            status: key.status.as_str().to_owned(),
            created_at: encode_timestamp(key.created_at),
            retired_at,
            revoked_at,
        }
    }
}

impl TryFrom<SigningKeyRow> for SigningKey {
    type Error = DomainError;

    fn try_from(row: SigningKeyRow) -> Result<Self, Self::Error> {
        let status = codes::key_status(
            &row.status,
            decode_optional_timestamp("signing_keys.retired_at", row.retired_at.as_deref())?,
            decode_optional_timestamp("signing_keys.revoked_at", row.revoked_at.as_deref())?,
        )
        .ok_or_else(|| stored_value("signing_keys.status", "is not a known state"))?;
        Ok(Self {
            id: decode_id("signing_keys.id", &row.id)?,
            issuer_id: decode_id("signing_keys.issuer_id", &row.issuer_id)?,
            algorithm: decode(
                "signing_keys.algorithm",
                KeyAlgorithm::parse(&row.algorithm),
            )?,
            public_key: row.public_key,
            sealed_private_key: row.private_key,
            status,
            created_at: decode_timestamp("signing_keys.created_at", &row.created_at)?,
        })
    }
}

/// A bit index or list size as stored (lists hold at most `i32::MAX` bits).
pub(crate) fn encode_index(column: &'static str, value: u32) -> Result<i32, DomainError> {
    i32::try_from(value).map_err(|_| stored_value(column, "is out of range"))
}

fn decode_index(column: &'static str, value: i32) -> Result<u32, DomainError> {
    u32::try_from(value).map_err(|_| stored_value(column, "is negative"))
}

fn decode_slot(list: Option<&str>, index: Option<i32>) -> Result<Option<StatusSlot>, DomainError> {
    match (list, index) {
        (Some(list), Some(index)) => Ok(Some(StatusSlot {
            list_id: decode_id("assertions.status_list_id", list)?,
            index: decode_index("assertions.status_index", index)?,
        })),
        (None, None) => Ok(None),
        _ => Err(stored_value(
            "assertions.status_index",
            "is set without its list, or the list without it",
        )),
    }
}

/// A `status_lists` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = status_lists, check_for_backend(Sqlite))]
pub(crate) struct StatusListRow {
    pub(crate) id: String,
    pub(crate) issuer_id: String,
    pub(crate) capacity: i32,
    pub(crate) allocated: i32,
    pub(crate) created_at: String,
}

impl TryFrom<&StatusList> for StatusListRow {
    type Error = DomainError;

    fn try_from(list: &StatusList) -> Result<Self, Self::Error> {
        Ok(Self {
            id: list.id.to_string(),
            issuer_id: list.issuer_id.to_string(),
            capacity: encode_index("status_lists.capacity", list.capacity)?,
            allocated: encode_index("status_lists.allocated", list.allocated)?,
            created_at: encode_timestamp(list.created_at),
        })
    }
}

impl TryFrom<StatusListRow> for StatusList {
    type Error = DomainError;

    fn try_from(row: StatusListRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: decode_id("status_lists.id", &row.id)?,
            issuer_id: decode_id("status_lists.issuer_id", &row.issuer_id)?,
            capacity: decode_index("status_lists.capacity", row.capacity)?,
            allocated: decode_index("status_lists.allocated", row.allocated)?,
            created_at: decode_timestamp("status_lists.created_at", &row.created_at)?,
        })
    }
}
