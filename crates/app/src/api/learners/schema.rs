//! OpenAPI types of the learner routes.

use utoipa::{IntoParams, ToSchema};

/// `POST /learner/register`: a new learner account.
#[derive(ToSchema)]
#[schema(example = json!({"username": "lena", "email": "lena@example.org",
    "password": "correct horse battery staple"}))]
pub struct RegisterRequest {
    /// Sign-in name: 3 to 64 letters, digits or `.` `_` `-` `@`; unique.
    #[schema(min_length = 3, max_length = 64)]
    pub username: String,
    /// The learner's address; unique among accounts. Claimed for the
    /// learner, and a verification link sent to it, when e-mail is on.
    #[schema(format = "email")]
    pub email: String,
    /// 10 to 1024 characters.
    #[schema(format = Password, min_length = 10, max_length = 1024)]
    pub password: String,
}

/// The account registered.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredUser {
    /// The user's id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Sign-in name.
    pub username: String,
    /// The address given.
    pub email: String,
    /// Always `learner`.
    #[schema(example = "learner")]
    pub role: String,
    /// When it was created.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `POST /learner/register`: the account and the address claimed.
#[derive(ToSchema)]
pub struct Registered {
    /// The account.
    pub user: RegisteredUser,
    /// The address claimed, unverified; `null` when the server sends no
    /// e-mail (add it with `POST /learner/emails` later).
    pub email: Option<LearnerEmail>,
}

/// A learner's address.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "9f0c7b1e-3c1d-4c55-9a57-2f4d1f0a8e21", "email": "lena@example.org",
    "verified": true, "verifiedAt": "2026-12-07T10:00:00Z", "createdAt": "2026-12-07T09:58:00Z"}))]
pub struct LearnerEmail {
    /// Its id.
    #[schema(format = "uuid")]
    pub id: String,
    /// The address, lower-cased.
    #[schema(format = "email")]
    pub email: String,
    /// Whether the learner followed its verification link.
    pub verified: bool,
    /// When.
    #[schema(format = DateTime)]
    pub verified_at: Option<String>,
    /// When it was added.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `POST /learner/emails`.
#[derive(ToSchema)]
#[schema(example = json!({"email": "lena@example.org"}))]
pub struct AddEmailRequest {
    /// The address to verify.
    #[schema(format = "email")]
    pub email: String,
}

/// `POST /learner/emails/verify`.
#[derive(ToSchema)]
#[schema(example = json!({"token": "kH3r1t0m6N2yq0b8c7fX4VwLQe9pZsD1aJ5uTgR2iYc"}))]
pub struct VerifyRequest {
    /// The token of the link in the verification e-mail.
    pub token: String,
}

/// An address verified.
#[derive(ToSchema)]
pub struct Verified {
    /// The address.
    pub email: LearnerEmail,
    /// How many awards made here to it were linked into the backpack now.
    pub linked: u64,
}

/// The token of `GET /learner/emails/verify`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// The token of the link in the verification e-mail.
    pub token: String,
}

/// `since` of `GET /learner/credentials`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Since {
    /// Only credentials valid from a later instant (their `validFrom`);
    /// RFC 3339.
    #[param(format = DateTime)]
    pub since: Option<String>,
}

/// An entry of the backpack.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeldCredential {
    /// The entry's id (for `DELETE /learner/credentials/{id}`).
    #[schema(format = "uuid")]
    pub id: String,
    /// `awarded` (here, to a verified address), `uploaded` (by the learner
    /// or an OAuth client) or `platform` (by a platform of `/backpack`).
    #[schema(example = "awarded")]
    pub source: String,
    /// `json` (JSON-LD with an embedded proof) or `jws` (a compact JWS).
    #[schema(example = "json")]
    pub format: String,
    /// The issuer's id, percent-decoded and trimmed (the spec's equality).
    pub issuer_id: String,
    /// The credential's id, percent-decoded and trimmed.
    pub credential_id: String,
    /// The credential's `validFrom`.
    #[schema(format = DateTime)]
    pub valid_from: Option<String>,
    /// When it came into the backpack.
    #[schema(format = DateTime)]
    pub received_at: String,
    /// When it was last replaced.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The award, for `awarded`.
    #[schema(format = "uuid")]
    pub assertion_id: Option<String>,
    /// The OAuth client, for `uploaded` by one.
    pub client_id: Option<String>,
    /// The platform, for `platform`.
    #[schema(format = "uuid")]
    pub platform_id: Option<String>,
    /// The credential as held: the JSON document, or the compact JWS as a
    /// string.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}
