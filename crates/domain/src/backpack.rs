//! The backpack: credentials a learner holds, and their OB 3.0 profile.
//!
//! A learner's backpack holds credentials awarded here to one of their
//! verified e-mail addresses ([`HeldSource::Awarded`], linked when the
//! address is verified and when an award to it is made), credentials they
//! or an OAuth client uploaded ([`HeldSource::Uploaded`]), and awards a
//! platform of the previous server's backpack API added for its user
//! ([`HeldSource::Platform`]). It is what the OB 3.0 Service API's
//! `getCredentials` answers and `upsertCredential` writes.
//!
//! Two held credentials are the same when their issuer ids and credential
//! ids are equal after percent-decoding and trimming (the spec's "credential
//! equality and comparison"): [`equality_key`] makes those keys, and the
//! store keeps one row per owner and key pair, replacing it on upsert.
//!
//! Paging is by limit and offset ([`PageRequest`]), as `getCredentials`
//! asks (`limit`, `offset`, `X-Total-Count`).

use async_trait::async_trait;
use serde_json::Value;

use crate::ids::{AssertionId, UserId};
use crate::page::{Page, PageRequest};
use crate::ports::RepoResult;
use crate::values::Timestamp;
use crate::DomainError;

/// Identifies a credential in a learner's backpack.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct HeldCredentialId(uuid::Uuid);

impl HeldCredentialId {
    /// A fresh random (v4) id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl From<uuid::Uuid> for HeldCredentialId {
    fn from(uuid: uuid::Uuid) -> Self {
        Self(uuid)
    }
}

impl std::fmt::Display for HeldCredentialId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for HeldCredentialId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

/// How a held credential is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeldFormat {
    /// JSON-LD with an embedded proof.
    Json,
    /// A compact JWS (VC-JWT).
    Jws,
}

impl HeldFormat {
    /// The stored name: `json` or `jws`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Jws => "jws",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, crate::InvalidValue> {
        match value {
            "json" => Ok(Self::Json),
            "jws" => Ok(Self::Jws),
            _ => Err(crate::InvalidValue("must be json or jws".to_owned())),
        }
    }
}

/// How a credential came into the backpack.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HeldSource {
    /// Awarded here to one of the owner's verified e-mail addresses. It is
    /// read with the award's current issued credential and goes when the
    /// award is deleted.
    Awarded(AssertionId),
    /// Uploaded by the learner, or by an OAuth client (its client id).
    Uploaded {
        /// The OAuth client that uploaded it; `None` when the learner did.
        client: Option<String>,
    },
    /// Added by a platform of the previous server's backpack API: the
    /// platform's id (a UUID, as text).
    Platform(String),
}

impl HeldSource {
    /// The stored kind: `awarded`, `uploaded` or `platform`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Awarded(_) => "awarded",
            Self::Uploaded { .. } => "uploaded",
            Self::Platform(_) => "platform",
        }
    }
}

/// A credential in a learner's backpack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCredential {
    /// Its id in the backpack; kept when an upsert replaces it.
    pub id: HeldCredentialId,
    /// The learner who holds it.
    pub owner: UserId,
    /// The issuer's id, through [`equality_key`].
    pub issuer_key: String,
    /// The credential's id, through [`equality_key`].
    pub credential_key: String,
    /// The credential's `validFrom`: what `since` filters on ("issued
    /// after").
    pub valid_from: Option<Timestamp>,
    /// JSON or compact JWS.
    pub format: HeldFormat,
    /// Exactly the JSON text or compact JWS received or issued.
    pub text: String,
    /// How it came here.
    pub source: HeldSource,
    /// When it first came into the backpack.
    pub received_at: Timestamp,
    /// When it was last replaced.
    pub updated_at: Timestamp,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// No equal credential was held: a new one (HTTP 201).
    Created,
    /// An equal credential was held and is replaced, keeping its id (HTTP 200).
    Replaced,
}

/// An issuer or credential id as the spec's equality compares it:
/// percent-encoded characters unescaped, then leading and trailing
/// whitespace removed. Bytes that do not decode to UTF-8 are kept as
/// replacement characters, so two ids differing only there compare equal;
/// such ids are not IRIs in the first place.
pub fn equality_key(id: &str) -> String {
    percent_encoding::percent_decode_str(id)
        .decode_utf8_lossy()
        .trim()
        .to_owned()
}

/// The equality keys of an OB 3.0 credential (JSON): its `issuer` id (a
/// string or an object's `id`) and its own `id`, through [`equality_key`].
/// A credential without either is refused, naming the missing field: the
/// backpack cannot tell it from another.
pub fn equality_keys(credential: &Value) -> Result<(String, String), DomainError> {
    let issuer = match credential.get("issuer") {
        Some(Value::String(id)) => Some(id.as_str()),
        Some(Value::Object(issuer)) => issuer.get("id").and_then(Value::as_str),
        _ => None,
    };
    let issuer = issuer
        .map(equality_key)
        .filter(|key| !key.is_empty())
        .ok_or_else(|| DomainError::invalid("issuer", "must have an id"))?;
    let id = credential
        .get("id")
        .and_then(Value::as_str)
        .map(equality_key)
        .filter(|key| !key.is_empty())
        .ok_or_else(|| DomainError::invalid("id", "is required to tell credentials apart"))?;
    Ok((issuer, id))
}

/// The credentials learners hold, and their profiles.
#[async_trait]
pub trait BackpackRepository: Send + Sync {
    /// One page of the owner's credentials, oldest received first (stable:
    /// `received_at`, then id), with the total. `since`: only those whose
    /// `valid_from` is later (credentials without one are left out). A
    /// credential linked to an award is read with the award's current
    /// issued credential.
    async fn list(
        &self,
        owner: UserId,
        since: Option<Timestamp>,
        page: PageRequest,
    ) -> RepoResult<Page<HeldCredential>>;
    /// Stores `held`, or replaces the owner's equal credential (same
    /// `issuer_key` and `credential_key`): its format, text, source,
    /// `valid_from` and `updated_at` are written, its id and `received_at`
    /// stay. `MissingReference` if the owner (or the award, or the
    /// platform, its source names) does not exist.
    async fn upsert(&self, held: &HeldCredential) -> RepoResult<Upserted>;
    /// The owner's credential, or `NotFound` (also when another learner
    /// holds it).
    async fn get(&self, owner: UserId, id: HeldCredentialId) -> RepoResult<HeldCredential>;
    /// Removes the owner's credential; `NotFound` if they hold none with
    /// this id.
    async fn remove(&self, owner: UserId, id: HeldCredentialId) -> RepoResult<()>;
    /// The JSON text of the owner's OB 3.0 Profile, if they stored one.
    async fn profile(&self, owner: UserId) -> RepoResult<Option<String>>;
    /// Stores the owner's profile (replacing any), as of `at`.
    /// `MissingReference` if the owner does not exist.
    async fn put_profile(&self, owner: UserId, profile: &str, at: Timestamp) -> RepoResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_unescapes_then_trims() {
        assert_eq!(
            equality_key("  https://example.edu/issuers/565049 "),
            "https://example.edu/issuers/565049"
        );
        assert_eq!(
            equality_key("http://example.edu/credentials/3732%20"),
            "http://example.edu/credentials/3732"
        );
        assert_eq!(equality_key("urn:uuid:a%2Fb"), "urn:uuid:a/b");
    }

    #[test]
    fn keys_come_from_the_issuer_and_the_credential() {
        let credential = json!({
            "id": "http://example.edu/credentials/3732",
            "issuer": {"id": "https://example.edu/issuers/565049%20"}
        });
        assert_eq!(
            equality_keys(&credential).expect("keys"),
            (
                "https://example.edu/issuers/565049".to_owned(),
                "http://example.edu/credentials/3732".to_owned()
            )
        );
        let plain = json!({"id": "urn:uuid:1", "issuer": "did:example:1"});
        assert!(equality_keys(&plain).is_ok());
        for (bad, field) in [
            (json!({"issuer": "did:example:1"}), "id"),
            (json!({"id": "urn:uuid:1"}), "issuer"),
            (json!({"id": " ", "issuer": "did:example:1"}), "id"),
            (
                json!({"id": "urn:uuid:1", "issuer": {"name": "x"}}),
                "issuer",
            ),
        ] {
            match equality_keys(&bad) {
                Err(DomainError::Validation(fields)) => assert_eq!(fields[0].field, field),
                other => panic!("{bad}: expected a validation error, got {other:?}"),
            }
        }
    }
}
