//! OpenAPI types of credentials (assertions): awards one by one or in a
//! batch, revocation and status changes, and the documents served.

use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::api::schema::{EntityRef, ImageRef};

/// OB 2.0 recipient `type`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Ob2RecipientType {
    /// An e-mail address (the default).
    Email,
    /// Same as `email`.
    EmailAddress,
    /// An http(s) URL.
    Url,
    /// A telephone number.
    Telephone,
    /// Same as `telephone`.
    Phone,
    /// A DID or other IRI.
    Did,
    /// Same as `did`.
    Id,
}

/// The OB 2.0 `recipient` IdentityObject.
#[derive(ToSchema)]
pub struct Ob2Recipient {
    /// What `identity` is; `email` when absent.
    #[serde(rename = "type")]
    pub kind: Option<Ob2RecipientType>,
    /// The identity in the clear, or already hashed as `sha256$<hex>` (or
    /// `md5$<hex>`), which is kept as given.
    #[schema(example = "ada@example.org")]
    pub identity: String,
    /// Whether to store the identity hashed; default `true`: hashed with
    /// SHA-256 and a fresh salt per award unless `salt` is given.
    pub hashed: Option<bool>,
    /// The salt to hash with (or the salt of a pre-hashed identity).
    pub salt: Option<String>,
}

/// OB 3.0 `identityType` of an `IdentityObject`.
#[derive(ToSchema)]
pub enum Ob3IdentityType {
    /// An e-mail address (the default).
    #[serde(rename = "emailAddress")]
    EmailAddress,
    /// A telephone number.
    #[serde(rename = "ext:telephone")]
    Telephone,
    /// Same as `ext:telephone`.
    #[serde(rename = "phone")]
    Phone,
    /// An http(s) URL.
    #[serde(rename = "url")]
    Url,
    /// A DID or other IRI.
    #[serde(rename = "identifier")]
    Identifier,
}

/// An OB 3.0 `IdentityObject` naming the recipient.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ob3IdentityObject {
    /// `IdentityObject` (ignored).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// What the identity is; `emailAddress` when absent.
    pub identity_type: Option<Ob3IdentityType>,
    /// The identity in the clear, or already hashed as `sha256$<hex>`.
    #[schema(example = "ada@example.org")]
    pub identity_hash: String,
    /// Accepted instead of `identityHash`.
    pub identity: Option<String>,
    /// Whether to store the identity hashed; default `true` (SHA-256 with a
    /// fresh salt per award unless `salt` is given).
    pub hashed: Option<bool>,
    /// The salt to hash with.
    pub salt: Option<String>,
}

/// The OB 3.0 `credentialSubject`: the recipient, as `id` (a URL or DID,
/// kept in the clear) or as `identifier` (the first IdentityObject is used),
/// and the achievement awarded.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ob3Subject {
    /// The recipient's URL or DID; when present, `identifier` is not read.
    #[schema(example = "did:example:ebfeb1f712ebc6f1c276e12ec21")]
    pub id: Option<String>,
    /// The recipient as IdentityObjects (required unless `id` is given).
    pub identifier: Option<Vec<Ob3IdentityObject>>,
    /// The achievement awarded (may be given at the top level instead).
    pub achievement: EntityRef,
    /// Why this recipient earned it (takes precedence over a top-level
    /// `narrative`).
    pub narrative: Option<String>,
    /// `Result` objects (`type: ["Result"]`, `value`, `status`, `achievedLevel`, `resultDescription`, `alignment`).
    #[schema(value_type = Option<Vec<Object>>)]
    pub result: Option<Value>,
    /// Credits earned (a number).
    #[schema(value_type = Option<f64>)]
    pub credits_earned: Option<Value>,
    /// When the activity started (RFC 3339).
    #[schema(format = "date-time")]
    pub activity_start_date: Option<String>,
    /// When the activity ended (RFC 3339).
    #[schema(format = "date-time")]
    pub activity_end_date: Option<String>,
    /// License number.
    pub license_number: Option<String>,
    /// The recipient's role.
    pub role: Option<String>,
    /// The organization that assessed the recipient: a Profile with `id`, `type: ["Profile"]`.
    #[schema(value_type = Option<Object>)]
    pub source: Option<Value>,
    /// The academic term.
    pub term: Option<String>,
    /// An `Image` object (`id`, `type: "Image"`, `caption`).
    #[schema(value_type = Option<Object>)]
    pub image: Option<Value>,
}

/// A piece of evidence: an `id` (URL), a `narrative`, or both.
#[derive(ToSchema)]
pub struct EvidenceRequest {
    /// Where the evidence can be seen.
    #[schema(format = "uri")]
    pub id: Option<String>,
    /// The evidence in words.
    pub narrative: Option<String>,
    /// Title of the evidence.
    pub name: Option<String>,
    /// Longer description.
    pub description: Option<String>,
    /// Kind of evidence, e.g. `Performance`.
    pub genre: Option<String>,
    /// Intended audience.
    pub audience: Option<String>,
}

/// Evidence: an array, or a single object.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum EvidenceList {
    /// Several pieces of evidence.
    Many(Vec<EvidenceRequest>),
    /// One piece of evidence.
    One(EvidenceRequest),
}

/// A credential in the OB 2.0 style (an Assertion).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(credential_example_ob2()))]
pub struct Ob2AssertionRequest {
    /// The badge class awarded (must exist, else 400 naming `badge`).
    pub badge: EntityRef,
    /// Accepted instead of `badge`.
    pub badge_class: Option<EntityRef>,
    /// Who receives it.
    pub recipient: Ob2Recipient,
    /// When it was awarded (RFC 3339); now when absent. `validFrom` is
    /// accepted instead.
    #[schema(format = "date-time")]
    pub issued_on: Option<String>,
    /// When it stops being valid (RFC 3339). `validUntil` is accepted instead.
    #[schema(format = "date-time")]
    pub expires: Option<String>,
    /// Evidence of the achievement.
    pub evidence: Option<EvidenceList>,
    /// Why this recipient earned it.
    pub narrative: Option<String>,
    /// A per-award image: a URL, a `data:` URI, or an `Image` object.
    pub image: Option<ImageRef>,
    /// On issue: e-mail the recipient about the award (a server extension,
    /// not part of the credential). Absent: the achievement's
    /// `notifyRecipients`. Sent only when the server has SMTP configured
    /// (docs/email.md); see `GET /credentials/{id}/delivery`.
    pub notify: Option<bool>,
    /// On issue: where to send that e-mail instead of the recipient's
    /// e-mail identity; required with `notify: true` when the identity is
    /// hashed or not an e-mail address.
    #[schema(format = "email")]
    pub notify_email: Option<String>,
}

/// A credential in the OB 3.0 style (an OpenBadgeCredential without
/// `issuer` and `proof`: the server fills them in).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(credential_example_ob3()))]
pub struct Ob3CredentialRequest {
    /// The recipient and the achievement.
    pub credential_subject: Ob3Subject,
    /// The achievement, when not given in `credentialSubject`.
    pub achievement: Option<EntityRef>,
    /// When it becomes valid (RFC 3339); now when absent.
    #[schema(format = "date-time")]
    pub valid_from: Option<String>,
    /// When it stops being valid (RFC 3339).
    #[schema(format = "date-time")]
    pub valid_until: Option<String>,
    /// Evidence of the achievement.
    pub evidence: Option<EvidenceList>,
    /// Why this recipient earned it, when not given in `credentialSubject`.
    pub narrative: Option<String>,
    /// The credential's image: a URL, a `data:` URI, or an `Image` object.
    pub image: Option<ImageRef>,
    /// The credential's own name (the achievement's when absent).
    pub name: Option<String>,
    /// The credential's description.
    pub description: Option<String>,
    /// When it was awarded (RFC 3339).
    #[schema(format = "date-time")]
    pub awarded_date: Option<String>,
    /// `TermsOfUse` objects (`type`, `id`).
    #[serde(rename = "termsOfUse")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub terms_of_use: Option<Value>,
    /// `CredentialSchema` objects (`id`, `type`); the 1EdTech JSON Schema when absent.
    #[serde(rename = "credentialSchema")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub credential_schema: Option<Value>,
    /// On issue: e-mail the recipient about the award (a server extension,
    /// not part of the credential). Absent: the achievement's
    /// `notifyRecipients`. Sent only when the server has SMTP configured
    /// (docs/email.md); see `GET /credentials/{id}/delivery`.
    pub notify: Option<bool>,
    /// On issue: where to send that e-mail instead of the recipient's
    /// e-mail identity; required with `notify: true` when the identity is
    /// hashed or not an e-mail address.
    #[schema(format = "email")]
    pub notify_email: Option<String>,
}

/// A credential (OB 2.0 assertion), to issue or replace
/// (`POST /credentials`, `PUT /credentials/{id}`), in either style. With a
/// `credentialSubject` the OB 3.0 style is read, otherwise `recipient`. On
/// replace, the achievement cannot change.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum CredentialRequest {
    /// OB 2.0 style: `badge`, `recipient`, `issuedOn`, `expires`.
    Ob2(Box<Ob2AssertionRequest>),
    /// OB 3.0 style: `credentialSubject`, `validFrom`, `validUntil`.
    Ob3(Box<Ob3CredentialRequest>),
}

/// A valid credential body, OB 2.0 style (also checked by the tests).
pub fn credential_example_ob2() -> Value {
    json!({
        "badge": "5f1c9a2e-7d3b-4c8e-a1f0-2b6d9e4c7a13",
        "recipient": {"type": "email", "identity": "ada@example.org", "hashed": true},
        "issuedOn": "2025-01-15T09:00:00Z",
        "expires": "2028-01-15T09:00:00Z",
        "evidence": [{"id": "https://example.edu/projects/42", "narrative": "Built a CLI tool."}],
        "narrative": "Completed every exercise."
    })
}

/// A valid credential body, OB 3.0 style (also checked by the tests).
pub fn credential_example_ob3() -> Value {
    json!({
        "credentialSubject": {
            "identifier": [{
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "identityHash": "ada@example.org",
                "hashed": true
            }],
            "achievement": {"id": "urn:uuid:5f1c9a2e-7d3b-4c8e-a1f0-2b6d9e4c7a13"}
        },
        "validFrom": "2025-01-15T09:00:00Z",
        "validUntil": "2028-01-15T09:00:00Z"
    })
}

/// Many credentials as `{"credentials": [...]}`.
#[derive(ToSchema)]
pub struct CredentialBatch {
    /// 1 to 10,000 credential bodies, each in either style.
    #[schema(min_items = 1, max_items = 10000)]
    pub credentials: Vec<CredentialRequest>,
}

/// Many credentials as `{"assertions": [...]}` (the previous server's name).
#[derive(ToSchema)]
pub struct AssertionBatch {
    /// 1 to 10,000 credential bodies, each in either style.
    #[schema(min_items = 1, max_items = 10000)]
    pub assertions: Vec<CredentialRequest>,
}

/// `POST /credentials/batch`: 1 to 10,000 credentials, all stored or none.
/// A bare array, `{"credentials": [...]}` or `{"assertions": [...]}`. Errors
/// name the item: `credentials[3].recipient.identity`.
#[derive(ToSchema)]
#[serde(untagged)]
#[schema(example = json!(batch_example()))]
pub enum BatchRequest {
    /// A bare array of 1 to 10,000 credential bodies.
    List(Vec<CredentialRequest>),
    /// `{"credentials": [...]}`.
    Credentials(CredentialBatch),
    /// `{"assertions": [...]}`.
    Assertions(AssertionBatch),
}

/// A valid batch body (also checked by the tests).
pub fn batch_example() -> Value {
    json!({"credentials": [credential_example_ob2(), credential_example_ob3()]})
}

/// `POST /credentials/{id}/revoke`: the body is optional; so is the reason.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(revoke_example()))]
pub struct RevokeRequest {
    /// Why it is revoked; shown to verifiers.
    pub reason: Option<String>,
    /// Accepted instead of `reason`.
    pub revocation_reason: Option<String>,
}

/// `POST /credentials/{id}/status`, as the previous server took it.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(status_change_example()))]
pub struct StatusChangeRequest {
    /// `"1"` sets the bit (revoke or suspend), `"0"` clears it (reinstate
    /// a suspended credential). The numbers 1 and 0 are accepted too.
    pub status: String,
    /// `revocation` (default) or `suspension`.
    pub purpose: Option<String>,
    /// Why; shown to verifiers.
    pub reason: Option<String>,
}

/// A valid status change body (also checked by the tests).
pub fn status_change_example() -> Value {
    json!({"status": "1", "purpose": "suspension", "reason": "Under review"})
}

/// A valid revocation body (also checked by the tests).
pub fn revoke_example() -> Value {
    json!({"reason": "Issued to the wrong person"})
}

/// `details` of a revoked credential.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokedDetails {
    /// The credential's URL.
    pub id: String,
    /// The reason given when it was revoked.
    pub revocation_reason: Option<String>,
}

/// Code of a revoked credential: `ASSERTION_REVOKED` under `/v2`,
/// `CREDENTIAL_REVOKED` otherwise.
#[derive(ToSchema)]
#[allow(clippy::enum_variant_names)]
pub enum RevokedCode {
    /// On the bare and `/v3` paths.
    #[serde(rename = "CREDENTIAL_REVOKED")]
    CredentialRevoked,
    /// On the `/v2` paths.
    #[serde(rename = "ASSERTION_REVOKED")]
    AssertionRevoked,
}

/// 410: the credential has been revoked. Under `/v2` the body is the OB 2.0
/// Assertion itself with these fields added, as hosted verifiers expect.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "error": "Credential has been revoked",
    "code": "CREDENTIAL_REVOKED",
    "details": {
        "id": "https://badges.example.org/v3/credentials/9a7e3c1d-2b4f-4e6a-8c0d-1f2e3a4b5c6d",
        "revocationReason": "Issued to the wrong person"
    },
    "revoked": true,
    "revocationReason": "Issued to the wrong person"
}))]
pub struct RevokedError {
    /// Always `Credential has been revoked`.
    pub error: String,
    /// `CREDENTIAL_REVOKED`, or `ASSERTION_REVOKED` under `/v2`.
    pub code: RevokedCode,
    /// The credential and the reason.
    pub details: RevokedDetails,
    /// Always `true`.
    pub revoked: bool,
    /// The reason given when it was revoked.
    pub revocation_reason: Option<String>,
}

/// Status of a credential.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusName {
    /// Valid (subject to its validity window).
    Active,
    /// Withdrawn for good.
    Revoked,
    /// Withdrawn for now.
    Suspended,
}

/// 200 of `POST /credentials/{id}/revoke`: the credential's new status.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "https://badges.example.org/v3/credentials/9a7e3c1d-2b4f-4e6a-8c0d-1f2e3a4b5c6d",
    "status": "revoked",
    "revoked": true,
    "revocationReason": "Issued to the wrong person",
    "statusChangedAt": "2025-02-01T10:30:00+00:00",
    "success": true,
    "statusEntry": {
        "currentStatus": "1",
        "purpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": "https://badges.example.org/status-lists/5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f"
    }
}))]
pub struct RevocationStatus {
    /// The credential's URL (in the version of the path used).
    pub id: String,
    /// The status now.
    pub status: StatusName,
    /// Whether it is revoked.
    pub revoked: bool,
    /// The reason given.
    pub revocation_reason: Option<String>,
    /// When the status last changed (RFC 3339).
    #[schema(format = "date-time")]
    pub status_changed_at: Option<String>,
    /// Always `true`: the previous server's field.
    pub success: bool,
    /// The previous server's view of the change: the credential's bit in the
    /// list of the purpose changed (revocation for `/revoke`, suspension for
    /// `/suspend` and `/reinstate`, the body's `purpose` for `/status`).
    /// Absent for a credential that has no bit (made before status lists).
    pub status_entry: Option<StatusEntry>,
}

/// A credential's bit in a status list, as the previous server reported it.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusEntry {
    /// `"1"` when the bit is set (revoked, or suspended), else `"0"`.
    pub current_status: String,
    /// `revocation` or `suspension`.
    pub purpose: String,
    /// The bit's index, as a decimal string.
    pub status_list_index: String,
    /// The URL of the list credential of `purpose`.
    pub status_list_credential: String,
}

/// A credential: an OB 3.0 `OpenBadgeCredential` (`application/vc+ld+json`)
/// on the bare and `/v3` paths, as issued, with its `eddsa-rdfc-2022`
/// `proof` unless it was issued with `?sign=false`; an OB 2.0 hosted
/// `Assertion` (`application/ld+json`, no proof) under `/v2`.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "https://badges.example.org/v3/credentials/9a7e3c1d-2b4f-4e6a-8c0d-1f2e3a4b5c6d",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "Rust Basics",
    "issuer": {
        "id": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
        "type": ["Profile"],
        "name": "Example University",
        "url": "https://example.edu"
    },
    "validFrom": "2025-01-15T09:00:00+00:00",
    "credentialSubject": {
        "type": ["AchievementSubject"],
        "identifier": [{
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": true,
            "identityHash": "sha256$3c0f8a2b1d9e4f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a",
            "salt": "6f1d2c3b4a5e6f708192a3b4c5d6e7f8"
        }],
        "achievement": {
            "id": "https://badges.example.org/v3/achievements/5f1c9a2e-7d3b-4c8e-a1f0-2b6d9e4c7a13",
            "type": ["Achievement"],
            "name": "Rust Basics",
            "description": "Wrote and tested a small Rust program.",
            "criteria": {"narrative": "Write a program with tests that pass."},
            "creator": {"id": "https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11", "type": ["Profile"]}
        }
    },
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-01-15T09:00:01Z",
        "verificationMethod": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
        "proofPurpose": "assertionMethod",
        "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKods5D2UAUL5n2Brbx"
    }
}))]
pub struct CredentialDocument(pub Value);

/// Option of issuance (`POST /credentials`, `POST /credentials/batch`,
/// `PUT /credentials/{id}`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignOption {
    /// `false` stores the credential without a proof (it then verifies as
    /// `NO_PROOF`); any other value, or none, signs it with the issuer's
    /// active key.
    #[param(default = true)]
    pub sign: Option<bool>,
}

/// The key `POST /credentials/{id}/sign` signs with.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SignKey {
    /// The UUID of an active Ed25519 key of the credential's issuer (see
    /// `GET /issuers/{id}/keys` or `GET /public-keys`); absent: the
    /// issuer's active key.
    #[param(format = "uuid")]
    pub key_id: Option<String>,
}

/// Filters of `GET /credentials`; all given filters apply.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CredentialFilter {
    /// Only awards by this issuer (id URL, `urn:uuid:<uuid>` or bare UUID).
    /// Also accepted as `issuerId`.
    pub issuer: Option<String>,
    /// Only awards of this achievement (id URL, `urn:uuid:<uuid>` or bare
    /// UUID). Also accepted as `badge` or `badgeClass`.
    pub achievement: Option<String>,
    /// Only awards to this recipient: an e-mail address or URL in the clear
    /// (matched however the award stores it, hashed or not), or a
    /// `sha256$<hex>` hash as stored.
    pub recipient: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::credentials::requests::{
        assertion_draft, batch_drafts, revocation_reason, status_change,
    };
    use crate::requests::tests::urls;

    #[test]
    fn every_example_is_accepted_by_the_readers() {
        assertion_draft(&credential_example_ob2(), &urls(), None).expect("OB 2.0 credential");
        assertion_draft(&credential_example_ob3(), &urls(), None).expect("OB 3.0 credential");
        assert_eq!(
            batch_drafts(batch_example().to_string().as_bytes(), &urls(), 32)
                .expect("batch example")
                .len(),
            2
        );
        revocation_reason(Some(&revoke_example())).expect("revoke example");
        status_change(&status_change_example()).expect("status change example");
    }
}
