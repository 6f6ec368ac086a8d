//! Documentation-only types: the JSON the API accepts and answers, described
//! for the OpenAPI document (`/openapi.json`). Nothing here is used to read
//! or write a body. Request bodies are read field by field in
//! [`crate::requests`], so that every bad field is named in one 400; these
//! types mirror what that module accepts (both the OB 2.0 and the OB 3.0
//! style) and are checked against it by tests: every example below is
//! accepted by the real readers.
//!
//! Where a field has a legacy alias (`issuerId` for `issuer`, `badge` or
//! `badgeClass` for `achievement`, ...), the canonical name carries the
//! `required` mark and the alias is listed beside it, accepted instead.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

// ---------------------------------------------------------------- shared --

/// An image: its URL (or `data:` URI), or an OB 3.0 `Image` object.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum ImageRef {
    /// The image URL or a `data:` URI (OB 2.0 style).
    #[schema(format = "uri", example = "https://example.org/badge.png")]
    Url(String),
    /// An OB 3.0 `Image` object; only its `id` is kept.
    Object(ImageObject),
}

/// An OB 3.0 `Image`.
#[derive(ToSchema)]
pub struct ImageObject {
    /// The image URL or a `data:` URI.
    #[schema(format = "uri", example = "https://example.org/badge.png")]
    pub id: String,
    /// `Image` (ignored).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A reference to an issuer or an achievement of this server: the `id` URL
/// the server returns (under `/v2`, `/v3` or bare), `urn:uuid:<uuid>`, or the
/// bare UUID; or an object with such an `id` (OB 3.0 style).
#[derive(ToSchema)]
#[serde(untagged)]
pub enum EntityRef {
    /// The id URL, `urn:uuid:<uuid>`, or the bare UUID.
    #[schema(example = "urn:uuid:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11")]
    Id(String),
    /// An object whose `id` is one of the above; other fields are ignored.
    Object(EntityObject),
}

/// An object standing for an entity by its `id`.
#[derive(ToSchema)]
pub struct EntityObject {
    /// The id URL, `urn:uuid:<uuid>`, or the bare UUID.
    pub id: String,
}

// ---------------------------------------------------------------- issuer --

/// An issuer, to create or replace (`POST /issuers`, `PUT /issuers/{id}`).
/// The same body in either version; `@context`, `type` and `id` may be sent
/// and are ignored.
#[derive(ToSchema)]
#[schema(example = json!(issuer_example()))]
pub struct IssuerRequest {
    /// Display name.
    pub name: String,
    /// The issuer's home page: an http(s) URL.
    #[schema(format = "uri")]
    pub url: String,
    /// Contact e-mail address (required: OB 2.0 issuer profiles must carry one).
    #[schema(format = "email")]
    pub email: String,
    /// What the issuer is.
    pub description: Option<String>,
    /// Logo: a URL, a `data:` URI, or an OB 3.0 `Image` object.
    pub image: Option<ImageRef>,
}

/// A valid issuer body (also checked by the tests).
pub fn issuer_example() -> Value {
    json!({
        "name": "Example University",
        "url": "https://example.edu",
        "email": "badges@example.edu",
        "description": "Awards badges for its courses.",
        "image": "https://example.edu/logo.png"
    })
}

// ----------------------------------------------------------- achievement --

/// How a badge is earned: a criteria page URL, or an object with a
/// `narrative`, an `id` (URL), or both.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum CriteriaRef {
    /// The criteria page (OB 2.0 style).
    #[schema(format = "uri", example = "https://example.edu/badges/rust/criteria")]
    Url(String),
    /// A narrative and/or a page; at least one is required.
    Object(CriteriaObject),
}

/// Criteria as an object: at least one of `id` and `narrative`.
#[derive(ToSchema)]
pub struct CriteriaObject {
    /// The criteria page.
    #[schema(format = "uri")]
    pub id: Option<String>,
    /// The criteria in words (Markdown allowed).
    pub narrative: Option<String>,
}

/// An alignment to a node of an external framework.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlignmentRequest {
    /// Name of the aligned node.
    pub target_name: String,
    /// URL of the aligned node.
    #[schema(format = "uri")]
    pub target_url: String,
    /// Short description of the node.
    pub target_description: Option<String>,
    /// Framework the node belongs to.
    pub target_framework: Option<String>,
    /// Code of the node in its framework.
    pub target_code: Option<String>,
}

/// Alignments: an array, or a single object.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum Alignments {
    /// Several alignments.
    Many(Vec<AlignmentRequest>),
    /// One alignment.
    One(AlignmentRequest),
}

/// An achievement (OB 2.0 badge class), to create or replace
/// (`POST /achievements`, `PUT /achievements/{id}`). OB 2.0 style
/// (`criteria` URL, `tags`, image URL) and OB 3.0 style (`criteria
/// {narrative}`, `tag`, `Image` object, `achievementType`) are both
/// accepted. On replace, the issuer cannot change.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(achievement_example()))]
pub struct AchievementRequest {
    /// The issuer that defines and awards it (must exist, else 422).
    pub issuer: EntityRef,
    /// Accepted instead of `issuer`.
    pub issuer_id: Option<EntityRef>,
    /// Display name.
    pub name: String,
    /// What the badge means.
    pub description: String,
    /// Badge image: a URL, a `data:` URI, or an OB 3.0 `Image` object
    /// (required: OB 2.0 badge classes must carry one).
    pub image: ImageRef,
    /// How it is earned.
    pub criteria: CriteriaRef,
    /// Free tags (OB 2.0 name).
    pub tags: Option<Vec<String>>,
    /// Free tags (OB 3.0 name), accepted instead of `tags`.
    pub tag: Option<Vec<String>>,
    /// Alignments to frameworks.
    pub alignment: Option<Alignments>,
    /// Accepted instead of `alignment`.
    pub alignments: Option<Alignments>,
    /// Version label of the definition.
    pub version: Option<String>,
    /// OB 3.0 achievement type: `Achievement`, `Badge`, `Certificate`,
    /// `Course`, `MicroCredential`, ... (the OB 3.0 vocabulary), or
    /// `ext:<term>`.
    #[schema(example = "Badge")]
    pub achievement_type: Option<String>,
}

/// A valid achievement body, OB 2.0 style (also checked by the tests).
pub fn achievement_example() -> Value {
    json!({
        "issuer": "urn:uuid:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
        "name": "Rust Basics",
        "description": "Wrote and tested a small Rust program.",
        "image": "https://example.edu/badges/rust.png",
        "criteria": "https://example.edu/badges/rust/criteria",
        "tags": ["rust", "programming"],
        "alignment": [{"targetName": "Programming", "targetUrl": "https://example.org/frameworks/programming"}],
        "version": "1"
    })
}

/// A valid achievement body, OB 3.0 style (also checked by the tests).
pub fn achievement_example_ob3() -> Value {
    json!({
        "issuer": {"id": "urn:uuid:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11"},
        "name": "Rust Basics",
        "description": "Wrote and tested a small Rust program.",
        "image": {"id": "https://example.edu/badges/rust.png", "type": "Image"},
        "criteria": {"narrative": "Write a program with tests that pass."},
        "tag": ["rust"],
        "achievementType": "Badge"
    })
}

// ------------------------------------------------------------ credential --

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
    /// The badge class awarded (must exist, else 422).
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
    /// A per-award image: a URL, a `data:` URI, or an `Image` object.
    pub image: Option<ImageRef>,
}

/// A credential (OB 2.0 assertion), to issue or replace
/// (`POST /credentials`, `PUT /credentials/{id}`), in either style. With a
/// `credentialSubject` the OB 3.0 style is read, otherwise `recipient`. On
/// replace, the achievement cannot change.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum CredentialRequest {
    /// OB 2.0 style: `badge`, `recipient`, `issuedOn`, `expires`.
    Ob2(Ob2AssertionRequest),
    /// OB 3.0 style: `credentialSubject`, `validFrom`, `validUntil`.
    Ob3(Ob3CredentialRequest),
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

// -------------------------------------------------------------- accounts --

/// A user's role: what they may do across the server.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages everything: every issuer, achievement and credential, every
    /// user and every API key.
    Admin,
    /// Creates issuers, which they then own, and manages the issuers they
    /// own with their achievements and credentials.
    Issuer,
    /// Reads: may list credentials, writes nothing.
    Viewer,
}

/// What a credential may do. A login token has every permission of its
/// user's role; an API key has those it was given, at most its role's.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Read the protected lists (credentials).
    Read,
    /// Create and change issuers, achievements and credentials.
    Write,
    /// Manage users and everyone's API keys (administrators only).
    Admin,
}

/// A user account as the API shows it: never the password or its hash.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(user_example()))]
pub struct User {
    /// The user's UUID.
    #[schema(format = "uuid")]
    pub id: String,
    /// Sign-in name: 3 to 64 letters, digits or `.` `_` `-` `@`.
    pub username: String,
    /// Contact address.
    #[schema(format = "email")]
    pub email: Option<String>,
    /// The role.
    pub role: Role,
    /// When the account was created (RFC 3339).
    #[schema(format = "date-time")]
    pub created_at: String,
    /// When it last changed (RFC 3339).
    #[schema(format = "date-time")]
    pub updated_at: String,
}

/// A user as the API shows one.
pub fn user_example() -> Value {
    json!({
        "id": "3f6c2a1e-8b7d-4e5f-9a0b-1c2d3e4f5a6b",
        "username": "ada",
        "email": "ada@example.org",
        "role": "issuer",
        "createdAt": "2025-01-15T09:00:00+00:00",
        "updatedAt": "2025-01-15T09:00:00+00:00"
    })
}

/// `POST /auth/login`. The name is looked up as a username first and, when
/// no user has it and it contains `@`, as an e-mail address.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(login_example()))]
pub struct LoginRequest {
    /// The username or the e-mail address of the account.
    pub username_or_email: String,
    /// Accepted instead of `usernameOrEmail`.
    pub username: Option<String>,
    /// Accepted instead of `usernameOrEmail`.
    #[schema(format = "email")]
    pub email: Option<String>,
    /// The password.
    #[schema(format = Password)]
    pub password: String,
    /// The `deviceToken` an earlier login of this name answered on this
    /// device. While failed logins make this name wait, a login with a valid
    /// one is counted apart, so the account's owner still gets in.
    #[schema(format = Password)]
    pub device_token: Option<String>,
}

/// A valid login body (also checked by the tests).
pub fn login_example() -> Value {
    json!({"usernameOrEmail": "ada", "password": "correct horse battery staple"})
}

/// 200 of `POST /auth/login`: a login token for `Authorization: Bearer`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzZjZjMmExZS04YjdkLTRlNWYtOWEwYi0xYzJkM2U0ZjVhNmIifQ.c2lnbmF0dXJl",
    "expiresIn": 3600,
    "deviceToken": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJvcGVuYmFkZ2VzLXNlcnZlci9kZXZpY2UifQ.c2lnbmF0dXJl",
    "user": user_example()
}))]
pub struct LoginResponse {
    /// An HS256 JSON Web Token; send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// Seconds until the token expires (`JWT_TOKEN_EXPIRY_SECONDS`).
    pub expires_in: i64,
    /// Proof that this device has logged in as this name (valid 90 days):
    /// keep it and send it with the next logins. It is no credential for
    /// any other route.
    pub device_token: String,
    /// The user who logged in.
    pub user: User,
}

/// How the caller of `GET /auth/profile` authenticated.
#[derive(ToSchema)]
pub enum AuthenticatedWith {
    /// A login token from `POST /auth/login`.
    #[serde(rename = "token")]
    Token,
    /// An API key made with `POST /api-keys` or `api-key create`.
    #[serde(rename = "api-key")]
    ApiKey,
    /// A key configured in the environment (`AUTH_API_KEY_<NAME>`); also
    /// every request when `AUTH_ENABLED=false`.
    #[serde(rename = "configured-key")]
    ConfiguredKey,
}

/// 200 of `GET /auth/profile`: who the credentials belong to and what they
/// may do.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "user": user_example(),
    "role": "issuer",
    "permissions": ["read", "write"],
    "issuerId": null,
    "authenticatedWith": "token"
}))]
pub struct Profile {
    /// The user acted for; `null` for a configured key not tied to one of
    /// our users (which acts as an administrator).
    pub user: Option<User>,
    /// The role the credentials act with.
    pub role: Role,
    /// What the credentials may do.
    pub permissions: Vec<Permission>,
    /// The one issuer an API key is scoped to (its UUID), else `null`.
    #[schema(format = "uuid")]
    pub issuer_id: Option<String>,
    /// How the caller authenticated.
    pub authenticated_with: AuthenticatedWith,
}

/// `POST /users` (administrators): a new account.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(new_user_example()))]
pub struct NewUserRequest {
    /// Sign-in name: 3 to 64 letters, digits or `.` `_` `-` `@`; unique.
    #[schema(min_length = 3, max_length = 64)]
    pub username: String,
    /// Contact address; unique when given.
    #[schema(format = "email")]
    pub email: Option<String>,
    /// 10 to 1024 characters.
    #[schema(format = Password, min_length = 10, max_length = 1024)]
    pub password: String,
    /// The role; `viewer` when absent.
    #[schema(default = "viewer")]
    pub role: Option<Role>,
}

/// A valid new-user body (also checked by the tests).
pub fn new_user_example() -> Value {
    json!({
        "username": "ada",
        "email": "ada@example.org",
        "password": "correct horse battery staple",
        "role": "issuer"
    })
}

/// `PUT /users/{id}`: only the fields given change.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(user_update_example()))]
pub struct UserUpdate {
    /// New contact address (the user or an administrator); `null` removes it.
    #[schema(format = "email")]
    pub email: Option<String>,
    /// New role (administrators only); absent or `null` keeps it.
    pub role: Option<Role>,
}

/// A valid user update (also checked by the tests).
pub fn user_update_example() -> Value {
    json!({"email": "ada.lovelace@example.org"})
}

/// `POST /users/{id}/change-password`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(change_password_example()))]
pub struct ChangePassword {
    /// The password now. Required when users change their own password
    /// (administrators too); not read when an administrator sets someone
    /// else's.
    #[schema(format = Password)]
    pub current_password: Option<String>,
    /// The new password: 10 to 1024 characters.
    #[schema(format = Password, min_length = 10, max_length = 1024)]
    pub new_password: String,
}

/// A valid password change (also checked by the tests).
pub fn change_password_example() -> Value {
    json!({
        "currentPassword": "correct horse battery staple",
        "newPassword": "a longer and newer passphrase"
    })
}

/// `POST /api-keys`: a new API key.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(new_api_key_example()))]
pub struct NewApiKeyRequest {
    /// A label to recognise the key by: 1 to 255 characters.
    pub name: String,
    /// What the key may do: at most what its user's role allows; when
    /// absent, all of that (admin: `read`, `write`, `admin`; issuer: `read`,
    /// `write`; viewer: `read`).
    pub permissions: Option<Vec<Permission>>,
    /// Limit the key to one issuer, which its user must manage: the issuer's
    /// id URL, `urn:uuid:<uuid>` or bare UUID. A scoped key cannot create
    /// issuers or keys, nor manage users.
    pub issuer_id: Option<String>,
    /// When the key stops working (RFC 3339, in the future); never when absent.
    #[schema(format = "date-time")]
    pub expires_at: Option<String>,
    /// The user the key acts for (administrators only, for someone else);
    /// the caller when absent.
    #[schema(format = "uuid")]
    pub user_id: Option<String>,
}

/// A valid new-key body (also checked by the tests).
pub fn new_api_key_example() -> Value {
    json!({
        "name": "CI deploy",
        "permissions": ["read", "write"],
        "issuerId": "urn:uuid:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
        "expiresAt": "2030-01-01T00:00:00Z"
    })
}

/// An API key as the API shows it: never the key itself or its hash.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(api_key_example()))]
pub struct ApiKey {
    /// The key's UUID (not the key).
    #[schema(format = "uuid")]
    pub id: String,
    /// The user the key acts for.
    #[schema(format = "uuid")]
    pub user_id: String,
    /// Its label.
    pub name: String,
    /// The first 12 characters of the key, to recognise it by.
    pub prefix: String,
    /// What it may do.
    pub permissions: Vec<Permission>,
    /// The one issuer it is scoped to (its UUID), else `null`.
    #[schema(format = "uuid")]
    pub issuer_id: Option<String>,
    /// When it stops working (RFC 3339).
    #[schema(format = "date-time")]
    pub expires_at: Option<String>,
    /// When it was revoked (RFC 3339); a revoked key no longer works.
    #[schema(format = "date-time")]
    pub revoked_at: Option<String>,
    /// When it was last used, to within 5 minutes (RFC 3339).
    #[schema(format = "date-time")]
    pub last_used_at: Option<String>,
    /// When it was made (RFC 3339).
    #[schema(format = "date-time")]
    pub created_at: String,
}

/// An API key as the API shows one.
pub fn api_key_example() -> Value {
    json!({
        "id": "7c1e4b2a-9d8f-4a3b-8e6d-5f4c3b2a1d0e",
        "userId": "3f6c2a1e-8b7d-4e5f-9a0b-1c2d3e4f5a6b",
        "name": "CI deploy",
        "prefix": "obk_4f9a2c1e",
        "permissions": ["read", "write"],
        "issuerId": "0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
        "expiresAt": "2030-01-01T00:00:00+00:00",
        "revokedAt": null,
        "lastUsedAt": null,
        "createdAt": "2025-01-15T09:00:00+00:00"
    })
}

/// 201 of `POST /api-keys`: the key's record and the key itself, shown this
/// once. Only its SHA-256 is stored: it cannot be shown again.
#[derive(ToSchema)]
#[schema(example = json!(created_api_key_example()))]
pub struct CreatedApiKey {
    /// The key's record.
    #[serde(flatten)]
    pub record: ApiKey,
    /// The key: `obk_` and 64 hex digits. Send it as `X-API-Key: <key>` or
    /// `Authorization: Bearer <key>`.
    pub key: String,
}

/// A created key as the API shows it.
pub fn created_api_key_example() -> Value {
    let mut created = api_key_example();
    created["key"] = json!("obk_4f9a2c1e0d3b4a5c6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5");
    created
}

// ------------------------------------------------------------- responses --

/// 400: the request does not validate. Every bad field is named, with
/// dotted paths and indexes (`credentials[1].recipient.identity`); `body`
/// names the body itself (not JSON, not an object, too large).
#[derive(ToSchema)]
#[schema(example = json!({
    "success": false,
    "error": "Validation error",
    "details": {"name": ["is required"], "url": ["must be an http(s) URL"]}
}))]
pub struct ValidationError {
    /// Always `false`.
    pub success: bool,
    /// Always `Validation error`.
    pub error: String,
    /// Messages by field.
    pub details: BTreeMap<String, Vec<String>>,
}

/// 404, 409, 422 and 503: the reason phrase and what went wrong.
#[derive(ToSchema)]
#[schema(example = json!({"error": "Not Found", "message": "issuer 0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11 not found"}))]
pub struct ErrorMessage {
    /// The HTTP reason phrase: `Not Found`, `Conflict`, `Unprocessable
    /// Entity`, `Service Unavailable`.
    pub error: String,
    /// What went wrong.
    pub message: String,
}

/// 401: the request carries no valid credentials: no `X-API-Key` or
/// `Authorization: Bearer` header, an unknown, revoked or expired key, or an
/// invalid or expired login token. Sent with `WWW-Authenticate: Bearer`.
#[derive(ToSchema)]
#[schema(example = json!({
    "error": "Unauthorized",
    "message": "authentication required: send X-API-Key or Authorization: Bearer"
}))]
pub struct Unauthorized {
    /// Always `Unauthorized`.
    pub error: String,
    /// What is wrong with the credentials.
    pub message: String,
}

/// 403: the credentials are valid but may not do this (role, ownership,
/// key permissions or key scope).
#[derive(ToSchema)]
#[schema(example = json!({"error": "Forbidden", "message": "forbidden: this credential may not write"}))]
pub struct Forbidden {
    /// Always `Forbidden`.
    pub error: String,
    /// Which rule refused the request.
    pub message: String,
}

/// 429: more requests than `RATE_LIMIT_PER_MINUTE` from one API key (or
/// user's login tokens) or, without valid credentials, from one client
/// address; or, for a login, too many failed logins for its account.
#[derive(ToSchema)]
#[schema(example = json!({
    "error": "Too Many Requests",
    "message": "more than 600 requests per minute; retry in 1 s"
}))]
pub struct RateLimited {
    /// Always `Too Many Requests`.
    pub error: String,
    /// The limit and when to retry.
    pub message: String,
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
    "statusChangedAt": "2025-02-01T10:30:00+00:00"
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
}

/// A signed W3C `BitstringStatusListCredential`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "https://badges.example.org/status-lists/5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f",
    "type": ["VerifiableCredential", "BitstringStatusListCredential"],
    "issuer": "did:web:badges.example.org:issuers:1f0c7a52-8d1e-4a3b-9b0c-2d4e6f8a0b1c",
    "validFrom": "2025-02-01T10:30:00Z",
    "credentialSubject": {
        "id": "https://badges.example.org/status-lists/5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    },
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "verificationMethod": "did:web:badges.example.org:issuers:1f0c7a52-8d1e-4a3b-9b0c-2d4e6f8a0b1c#key-1",
        "created": "2025-02-01T10:30:00Z",
        "proofValue": "z58DAdFfa9SkqZMVPxAQp...jQCrfFPP2oumHKtz"
    }
}))]
pub struct StatusListCredential {
    /// The list's URL.
    pub id: String,
    /// `VerifiableCredential`, `BitstringStatusListCredential`.
    pub r#type: Vec<String>,
    /// The issuer's `did:web`.
    pub issuer: String,
    /// When this rendering was signed.
    #[schema(format = "date-time")]
    pub valid_from: String,
    /// `{id, type: BitstringStatusList, statusPurpose, encodedList}`: the bits, GZIP-compressed and
    /// multibase base64url-encoded; bit 0 is the most significant bit of the first byte.
    #[schema(value_type = Object)]
    pub credential_subject: Value,
    /// The Data Integrity proof (`eddsa-rdfc-2022`).
    #[schema(value_type = Object)]
    pub proof: Value,
}

/// A status list's size and counts.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f",
    "issuer": "1f0c7a52-8d1e-4a3b-9b0c-2d4e6f8a0b1c",
    "capacity": 131072,
    "allocated": 1200,
    "revoked": 3,
    "suspended": 1,
    "revocationList": "https://badges.example.org/status-lists/5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f",
    "suspensionList": "https://badges.example.org/status-lists/5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f/suspension",
    "createdAt": "2025-02-01T10:30:00+00:00"
}))]
pub struct StatusListReport {
    /// The list's UUID.
    #[schema(format = "uuid")]
    pub id: String,
    /// Its issuer's UUID.
    #[schema(format = "uuid")]
    pub issuer: String,
    /// Bits in the list.
    pub capacity: u32,
    /// Bits handed out to credentials.
    pub allocated: u32,
    /// Credentials revoked.
    pub revoked: u64,
    /// Credentials suspended.
    pub suspended: u64,
    /// URL of the revocation list credential.
    pub revocation_list: String,
    /// URL of the suspension list credential.
    pub suspension_list: String,
    /// When the list was made.
    #[schema(format = "date-time")]
    pub created_at: String,
}

/// `GET /health`.
#[derive(ToSchema)]
#[schema(example = json!({"status": "ok", "backend": "sqlite", "database": "up"}))]
pub struct Health {
    /// `ok`, or `error` when the database does not answer (with 503).
    pub status: String,
    /// `sqlite` or `postgresql`.
    pub backend: String,
    /// `up` or `down`.
    pub database: String,
}

/// `GET /health/ready`.
#[derive(ToSchema)]
#[schema(example = json!({"status": "ready", "backend": "postgresql", "database": "up", "pendingMigrations": 0}))]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready` (200), or `not ready` (503).
    pub status: String,
    /// `sqlite` or `postgresql`.
    pub backend: String,
    /// `up` or `down`.
    pub database: String,
    /// Migrations the database lacks; `null` when it could not be asked.
    pub pending_migrations: Option<usize>,
    /// Why the server is not ready (only with 503).
    pub reason: Option<String>,
}

/// An issuer profile: an OB 3.0 `Profile` (`application/ld+json`) on the
/// bare and `/v3` paths; an OB 2.0 `Issuer` under `/v2`, which names the
/// issuer's RS256 keys that still verify (`publicKey`, `CryptographicKey`
/// URLs) and its `revocationList` once it has one. Its `id` is the URL it
/// is served at.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
    "type": ["Profile"],
    "name": "Example University",
    "url": "https://example.edu",
    "email": "badges@example.edu",
    "description": "Awards badges for its courses.",
    "image": {"id": "https://example.edu/logo.png", "type": "Image"}
}))]
pub struct IssuerDocument(pub Value);

/// An achievement: an OB 3.0 `Achievement` (`application/ld+json`) on the
/// bare and `/v3` paths, with its issuer as `creator`; an OB 2.0
/// `BadgeClass` under `/v2`, with `issuer`.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "https://badges.example.org/v3/achievements/5f1c9a2e-7d3b-4c8e-a1f0-2b6d9e4c7a13",
    "type": ["Achievement"],
    "name": "Rust Basics",
    "description": "Wrote and tested a small Rust program.",
    "criteria": {"narrative": "Write a program with tests that pass."},
    "image": {"id": "https://example.edu/badges/rust.png", "type": "Image"},
    "achievementType": "Badge",
    "tag": ["rust"],
    "creator": {"id": "https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11", "type": ["Profile"]}
}))]
pub struct AchievementDocument(pub Value);

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

// ------------------------------------------------ signing and verification --

/// A verification method of a DID document: an Ed25519 public key as a
/// `Multikey`, or an RSA key (RS256 VC-JWT) as a `JsonWebKey`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DidVerificationMethod {
    /// `<did>#key-<key UUID>`: what the `verificationMethod` of a proof
    /// (or the `kid` of a VC-JWT) names.
    #[schema(
        example = "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b"
    )]
    pub id: String,
    /// `Multikey` (Ed25519) or `JsonWebKey` (RSA).
    #[serde(rename = "type")]
    pub kind: String,
    /// The issuer's DID.
    pub controller: String,
    /// Ed25519 keys: the public key, multibase base58btc with the Ed25519
    /// multicodec prefix (`z6Mk...`).
    pub public_key_multibase: Option<String>,
    /// RSA keys: the public key as a JSON Web Key (`kty` `RSA`, `n`, `e`,
    /// `alg` `RS256`).
    #[schema(value_type = Option<Object>)]
    pub public_key_jwk: Option<Value>,
}

/// `GET /issuers/{id}/did.json`: the DID document of the issuer's `did:web`
/// (`did:web:<host>[%3A<port>][:<path>]:issuers:<id>`, from `BASE_URL`). It
/// lists every key that still verifies, active and retired, never a revoked
/// one.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(did_document_example()))]
pub struct DidDocument {
    /// The DID 1.0 and Multikey contexts (and `https://w3id.org/security/jwk/v1`
    /// when an RSA key is listed).
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    /// The issuer's DID.
    pub id: String,
    /// The issuer's OB 3.0 profile URL.
    pub also_known_as: Vec<String>,
    /// The keys that still verify.
    pub verification_method: Vec<DidVerificationMethod>,
    /// The ids of those keys: each may sign credentials (proof purpose
    /// `assertionMethod`).
    pub assertion_method: Vec<String>,
}

/// A DID document as the API shows one.
pub fn did_document_example() -> Value {
    let did = "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11";
    let method = format!("{did}#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b");
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": ["https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11"],
        "verificationMethod": [{
            "id": method,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": "z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
        }],
        "assertionMethod": [method]
    })
}

/// Algorithm of a signing key.
#[derive(ToSchema)]
pub enum KeyAlgorithmName {
    /// Ed25519, for `eddsa-rdfc-2022` Data Integrity proofs and EdDSA
    /// VC-JWTs.
    Ed25519,
    /// RSA (2048 bits) with SHA-256, for OB 2.0 signed assertions and RS256
    /// VC-JWTs.
    #[serde(rename = "RS256")]
    Rs256,
}

/// Status of a signing key.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatusName {
    /// Signs new credentials (one per issuer) and verifies.
    Active,
    /// Replaced by a rotation: signs nothing new, still verifies what it
    /// signed.
    Retired,
    /// Verifies nothing any more: credentials it signed fail verification.
    Revoked,
}

/// One of an issuer's signing keys (the public half only: the private key
/// never leaves the server).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(signing_key_example()))]
pub struct SigningKey {
    /// The key's UUID (the `{key}` of the revoke route).
    #[schema(format = "uuid")]
    pub id: String,
    /// `<issuer did>#key-<id>`: what proofs made with it name.
    pub verification_method: String,
    /// The algorithm.
    pub algorithm: KeyAlgorithmName,
    /// Ed25519 keys: the public key, multibase (`z6Mk...`).
    pub public_key_multibase: Option<String>,
    /// RS256 keys: the public key, SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: Option<String>,
    /// RS256 keys: the URL of the key's OB 2.0 `CryptographicKey` document
    /// (what signed OB 2.0 assertions name as `creator`).
    pub cryptographic_key: Option<String>,
    /// The status now.
    pub status: KeyStatusName,
    /// When it was made (RFC 3339).
    #[schema(format = "date-time")]
    pub created_at: String,
    /// When a rotation retired it.
    #[schema(format = "date-time")]
    pub retired_at: Option<String>,
    /// When it was revoked.
    #[schema(format = "date-time")]
    pub revoked_at: Option<String>,
}

/// A signing key as the API shows one.
pub fn signing_key_example() -> Value {
    json!({
        "id": "7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
        "verificationMethod": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
        "algorithm": "Ed25519",
        "publicKeyMultibase": "z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
        "status": "active",
        "createdAt": "2025-01-15T09:00:00+00:00",
        "retiredAt": null,
        "revokedAt": null
    })
}

/// One public key as a JSON Web Key: an Ed25519 key as RFC 8037 `OKP`
/// (`crv`, `x`), an RSA key as RFC 7518 `RSA` (`n`, `e`).
#[derive(ToSchema)]
#[schema(example = json!({
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
    "alg": "EdDSA",
    "use": "sig"
}))]
pub struct Jwk {
    /// `OKP` (Ed25519) or `RSA`.
    pub kty: String,
    /// `OKP`: always `Ed25519`.
    pub crv: Option<String>,
    /// `OKP`: the 32 bytes of the public key, base64url without padding.
    pub x: Option<String>,
    /// `RSA`: the modulus, big-endian, base64url without padding.
    pub n: Option<String>,
    /// `RSA`: the public exponent (`AQAB`: 65537).
    pub e: Option<String>,
    /// The key's verification method (`<issuer did>#key-<id>`).
    pub kid: String,
    /// `EdDSA` (`OKP`) or `RS256` (`RSA`).
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub usage: String,
}

/// `GET /.well-known/jwks.json`: every key of every issuer that still
/// verifies (active and retired; never a revoked one).
#[derive(ToSchema)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// A check of a verification report.
#[derive(ToSchema)]
pub enum VerificationCheckName {
    /// The document is shaped as an OB 3.0 credential: the VC 2.0 context
    /// first, the types `VerifiableCredential` and `OpenBadgeCredential` (or
    /// `AchievementCredential`), an `issuer` and a `credentialSubject`.
    #[serde(rename = "schema")]
    Schema,
    /// The proof's key is known and not revoked (a `did:key` carries its
    /// key and always passes).
    #[serde(rename = "keyStatus")]
    KeyStatus,
    /// The proof's key is controlled by the credential's issuer: one of that
    /// issuer's keys for one of ours (by did:web or profile URL), the
    /// issuer's own did:key for a did:key issuer.
    #[serde(rename = "issuerMatch")]
    IssuerMatch,
    /// The `eddsa-rdfc-2022` signature verifies (or there is no proof).
    #[serde(rename = "proof")]
    Proof,
    /// Now is within `validFrom` and `validUntil` (and, for a VC-JWT, its
    /// `nbf` and `exp`).
    #[serde(rename = "validityWindow")]
    ValidityWindow,
    /// One of our credentials, not revoked or suspended.
    #[serde(rename = "status")]
    Status,
}

/// One check and its outcome.
#[derive(ToSchema)]
pub struct VerificationCheck {
    /// What was checked.
    pub check: VerificationCheckName,
    /// Whether it passed.
    pub passed: bool,
    /// What was found, in words.
    pub message: String,
}

/// Why a credential does not verify: the first failed check's code.
#[derive(ToSchema)]
#[allow(clippy::enum_variant_names)]
pub enum VerificationErrorCode {
    /// Not shaped as an OB 3.0 credential (the `schema` check).
    #[serde(rename = "INVALID_CREDENTIAL")]
    InvalidCredential,
    /// It has no proof (issued with `?sign=false`, or posted without one).
    #[serde(rename = "NO_PROOF")]
    NoProof,
    /// The proof's key has been revoked.
    #[serde(rename = "KEY_REVOKED")]
    KeyRevoked,
    /// The proof's key is not controlled by the credential's issuer (another
    /// issuer's key, or a stranger's did:key).
    #[serde(rename = "ISSUER_MISMATCH")]
    IssuerMismatch,
    /// The verification method is neither one of our keys nor a `did:key`.
    #[serde(rename = "UNKNOWN_KEY")]
    UnknownKey,
    /// The signature does not verify: the credential or its proof was
    /// changed after signing.
    #[serde(rename = "INVALID_SIGNATURE")]
    InvalidSignature,
    /// `validUntil` has passed.
    #[serde(rename = "EXPIRED")]
    Expired,
    /// `validFrom` is in the future, missing or not a date-time.
    #[serde(rename = "NOT_VALID_NOW")]
    NotValidNow,
    /// The issuer revoked it.
    #[serde(rename = "REVOKED")]
    Revoked,
    /// The issuer suspended it.
    #[serde(rename = "SUSPENDED")]
    Suspended,
    /// Its `id` is one of ours, but no such credential exists here.
    #[serde(rename = "UNKNOWN_CREDENTIAL")]
    UnknownCredential,
}

/// The outcome of verifying a credential. `isValid` is true when every
/// check passed; otherwise `errorCode` is the code of the first failure.
/// The other flags say what was found, whatever failed first (a credential
/// whose `validUntil` was edited has both `errorCode: INVALID_SIGNATURE` and
/// `isExpired: true`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(verification_report_example()))]
pub struct VerificationReport {
    /// The credential's `id`, when it has one.
    pub id: Option<String>,
    /// Whether every check passed.
    pub is_valid: bool,
    /// Whether the proof's signature verified with a key that still verifies.
    pub has_valid_signature: bool,
    /// Whether `validUntil` has passed.
    pub is_expired: bool,
    /// Whether the issuer revoked it (our credentials only).
    pub is_revoked: bool,
    /// The first failure, or `null` when valid.
    pub error_code: Option<VerificationErrorCode>,
    /// Every check made, in order.
    pub checks: Vec<VerificationCheck>,
    /// When the checks were made (RFC 3339).
    #[schema(format = "date-time")]
    pub verified_at: String,
}

/// A report on a valid credential.
pub fn verification_report_example() -> Value {
    json!({
        "id": "https://badges.example.org/v3/credentials/9a7e3c1d-2b4f-4e6a-8c0d-1f2e3a4b5c6d",
        "isValid": true,
        "hasValidSignature": true,
        "isExpired": false,
        "isRevoked": false,
        "errorCode": null,
        "checks": [
            {"check": "schema", "passed": true, "message": "an OB 3.0 credential (VC 2.0 context, types, issuer, subject)"},
            {"check": "keyStatus", "passed": true, "message": "key 7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b is active"},
            {"check": "issuerMatch", "passed": true, "message": "the key is controlled by the credential's issuer, did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11"},
            {"check": "proof", "passed": true, "message": "eddsa-rdfc-2022 signature verified"},
            {"check": "validityWindow", "passed": true, "message": "within validFrom and validUntil"},
            {"check": "status", "passed": true, "message": "not revoked or suspended"}
        ],
        "verifiedAt": "2025-02-01T10:30:00+00:00"
    })
}

/// `POST /verify`: an OB 3.0 credential (a JSON-LD `OpenBadgeCredential`
/// with its `proof`) as is, or wrapped as `{"credential": {...}}` (a
/// `credential` member that is an object is taken as the credential). Ours,
/// signed with an issuer key of this server, or another issuer's signed
/// with a `did:key`.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!(verify_request_example()))]
pub struct VerifyRequest(pub Value);

/// A credential to verify, wrapped.
pub fn verify_request_example() -> Value {
    let issuer = "https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11";
    json!({"credential": {
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
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "achievement": {
                "id": "https://badges.example.org/v3/achievements/5f1c9a2e-7d3b-4c8e-a1f0-2b6d9e4c7a13",
                "type": ["Achievement"],
                "name": "Rust Basics",
                "description": "Wrote and tested a small Rust program.",
                "criteria": {"narrative": "Write a program with tests that pass."},
                "creator": {"id": issuer, "type": ["Profile"]}
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
    }})
}

// -------------------------------------------------- OB 2.0 signed badges --

/// `GET /issuers/{id}/keys/{key}`: an issuer's RSA key as an OB 2.0
/// `CryptographicKey`, linked both ways with the issuer's OB 2.0 profile
/// (`owner` here, `publicKey` there).
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": "https://w3id.org/openbadges/v2",
    "type": "CryptographicKey",
    "id": "https://badges.example.org/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11/keys/3d1e5f7a-9b2c-4d6e-8f0a-1b3c5d7e9f2a",
    "owner": "https://badges.example.org/v2/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
    "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA...IDAQAB\n-----END PUBLIC KEY-----\n"
}))]
pub struct CryptographicKeyDocument(pub Value);

/// `GET /issuers/{id}/revocation-list`: the issuer's OB 2.0
/// `RevocationList`: every revoked award by its `/v2` assertion URL, with
/// its reason when one was given.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": "https://w3id.org/openbadges/v2",
    "type": "RevocationList",
    "id": "https://badges.example.org/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11/revocation-list",
    "issuer": "https://badges.example.org/v2/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
    "revokedAssertions": [{
        "id": "https://badges.example.org/v2/credentials/9a7e3c1d-2b4f-4e6a-8c0d-1f2e3a4b5c6d",
        "revocationReason": "Awarded in error"
    }]
}))]
pub struct RevocationListDocument(pub Value);

// ------------------------------------------------------------ parameters --

/// Option of `POST /issuers/{id}/keys/rotate`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RotateOptions {
    /// Which key to rotate: `Ed25519` (the default: Data Integrity proofs,
    /// EdDSA VC-JWTs) or `RS256` (OB 2.0 signed assertions, RS256 VC-JWTs).
    #[param(default = "Ed25519")]
    pub algorithm: Option<String>,
}

/// Paging of every list. The answer carries `X-Total-Count` and `Link`
/// (first, prev, next, last).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page size, 1 to 500; 50 when absent.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<u32>,
    /// Items to skip; 0 when absent.
    #[param(minimum = 0, default = 0)]
    pub offset: Option<u64>,
}

/// Cursor paging of the credential lists: walks a list of any size at the
/// same cost per page. Present (empty for the first page), it replaces
/// `offset`: the answer has no `X-Total-Count`, and its `Link` header has
/// `first` and, while more credentials follow, `next`, whose URL carries the
/// next page's cursor.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorPaging {
    /// Where the page starts: empty for the first page, then the opaque
    /// value from the `next` link of the page before, signed by the server
    /// (a made-up or altered one is a 400). Not with `offset`.
    pub cursor: Option<String>,
}

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

/// Filter of `GET /achievements`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AchievementFilter {
    /// Only this issuer's achievements: its id URL, `urn:uuid:<uuid>` or
    /// the bare UUID. Also accepted as `issuerId`.
    pub issuer: Option<String>,
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

/// Filter of `GET /api-keys`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct KeyOwner {
    /// Whose keys: the caller's when absent (required for a configured key
    /// not tied to a user); another user's for administrators only.
    #[param(format = "uuid")]
    pub user_id: Option<String>,
}

/// Option of the deletes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteOptions {
    /// `true` deletes what depends on it too (achievements and their
    /// awards); `false` (the default) refuses with 409 while its badges have
    /// been awarded.
    #[param(default = false)]
    pub cascade: Option<bool>,
}

#[cfg(test)]
mod tests {
    use openbadges_domain::documents::Urls;

    use super::*;
    use crate::requests;

    fn urls() -> Urls {
        Urls::new("https://badges.example.org").expect("a valid base URL")
    }

    #[test]
    fn every_request_example_is_accepted_by_the_readers() {
        crate::api::issuers::requests::issuer_draft(&issuer_example()).expect("issuer example");
        crate::api::achievements::requests::badge_class_draft(&achievement_example(), &urls())
            .expect("OB 2.0 achievement");
        crate::api::achievements::requests::badge_class_draft(&achievement_example_ob3(), &urls())
            .expect("OB 3.0 achievement");
        crate::api::credentials::requests::assertion_draft(&credential_example_ob2(), &urls())
            .expect("OB 2.0 credential");
        crate::api::credentials::requests::assertion_draft(&credential_example_ob3(), &urls())
            .expect("OB 3.0 credential");
        assert_eq!(
            crate::api::credentials::requests::batch_drafts(
                batch_example().to_string().as_bytes(),
                &urls(),
                32
            )
            .expect("batch example")
            .len(),
            2
        );
        crate::api::credentials::requests::revocation_reason(Some(&revoke_example()))
            .expect("revoke example");
        crate::api::credentials::requests::status_change(&status_change_example())
            .expect("status change example");
    }

    fn text<'v>(body: &'v Value, field: &str) -> &'v str {
        body[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is a string"))
    }

    /// The account handlers read bodies field by field with these parsers.
    #[test]
    fn every_account_example_is_accepted_by_the_parsers() {
        use crate::auth::password::check_policy;
        use openbadges_domain::{Email, Name, Permission, Role, Timestamp, Username};

        let login = login_example();
        assert!(!text(&login, "usernameOrEmail").is_empty());
        assert!(!text(&login, "password").is_empty());

        let user = new_user_example();
        Username::parse(text(&user, "username")).expect("username");
        Email::parse(text(&user, "email")).expect("email");
        check_policy(text(&user, "password")).expect("password");
        Role::parse(text(&user, "role")).expect("role");

        Email::parse(text(&user_update_example(), "email")).expect("email");

        let change = change_password_example();
        assert!(!text(&change, "currentPassword").is_empty());
        check_policy(text(&change, "newPassword")).expect("new password");

        let key = new_api_key_example();
        Name::parse(text(&key, "name")).expect("name");
        serde_json::from_value::<Vec<Permission>>(key["permissions"].clone()).expect("permissions");
        requests::issuer_reference(text(&key, "issuerId"), &urls()).expect("issuer reference");
        let expires = Timestamp::parse(text(&key, "expiresAt")).expect("expiresAt");
        assert!(expires > Timestamp::now(), "expiresAt is in the future");

        for shown in [user_example(), api_key_example(), created_api_key_example()] {
            for field in ["id", "createdAt"] {
                assert!(shown[field].is_string(), "{field}");
            }
        }
        assert!(text(&created_api_key_example(), "key").starts_with(crate::auth::keys::KEY_PREFIX));
        assert_eq!(
            text(&api_key_example(), "prefix"),
            &text(&created_api_key_example(), "key")[..12],
            "the prefix is the key's first 12 characters"
        );
    }
}
