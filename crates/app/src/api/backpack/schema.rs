//! OpenAPI types of the previous server's backpack routes.

use utoipa::ToSchema;

/// `POST /backpack/platforms` and `PUT /backpack/platforms/{id}`: a
/// platform. Every field is required to create one; an update changes the
/// fields given (`null` clears `description` and `webhookUrl`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "name": "Campus LMS",
    "clientId": "campus-lms",
    "publicKey": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA...\n-----END PUBLIC KEY-----\n",
    "description": "Our learning platform",
    "webhookUrl": "https://lms.example.edu/badges/hook"
}))]
pub struct PlatformRequest {
    /// Its name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The `iss` of its JWTs, 1 to 255 characters; unique.
    #[schema(min_length = 1, max_length = 255)]
    pub client_id: String,
    /// The RSA public key (PEM, `BEGIN PUBLIC KEY`, at least 2048 bits)
    /// its JWTs are signed for: they are RS256, as the previous server
    /// accepted.
    pub public_key: String,
    /// What it is.
    #[schema(nullable, max_length = 2000)]
    pub description: Option<String>,
    /// Where it wants to be told of changes: an `https` URL.
    #[schema(nullable, format = "uri")]
    pub webhook_url: Option<String>,
    /// `active` (default), `inactive` or `suspended`: only an active
    /// platform's tokens are accepted.
    #[schema(example = "active")]
    pub status: Option<String>,
}

/// A platform.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    /// Its id.
    #[schema(format = "uuid")]
    pub id: String,
    /// Its name.
    pub name: String,
    /// The `iss` of its JWTs.
    pub client_id: String,
    /// The PEM public key its JWTs are verified with.
    pub public_key: String,
    /// `active`, `inactive` or `suspended`.
    pub status: String,
    /// What it is.
    #[schema(nullable)]
    pub description: Option<String>,
    /// Its webhook.
    #[schema(nullable)]
    pub webhook_url: Option<String>,
    /// When it was registered.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it last changed.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `{"success": true, "platform": ...}`.
#[derive(ToSchema)]
pub struct PlatformAnswer {
    /// Always `true`.
    pub success: bool,
    /// The platform.
    pub platform: Platform,
}

/// `{"success": true, "platforms": [...]}`.
#[derive(ToSchema)]
pub struct PlatformsAnswer {
    /// Always `true`.
    pub success: bool,
    /// Every platform, oldest first.
    pub platforms: Vec<Platform>,
}

/// `{"success": true}`.
#[derive(ToSchema)]
#[schema(example = json!({"success": true}))]
pub struct Done {
    /// Always `true`.
    pub success: bool,
}

/// 401 and 404 of the backpack routes, in the previous server's shape.
#[derive(ToSchema)]
#[schema(example = json!({"success": false, "error": "Authentication failed"}))]
pub struct BackpackFailure {
    /// Always `false`.
    pub success: bool,
    /// `Authentication required`, `Unknown platform`, `Platform is not
    /// active`, `Authentication failed`, `Platform not found` or
    /// `Assertion not found`.
    pub error: String,
}

/// `POST /backpack/assertions`: an award to add to the platform user's
/// backpack.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "assertionId": "https://badges.example.org/v3/credentials/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
    "metadata": {"tags": ["course"], "visibility": "public"}
}))]
pub struct AddRequest {
    /// One of this server's awards: its URL (any version), `urn:uuid:`
    /// or the bare UUID.
    pub assertion_id: String,
    /// The platform's own data about it: a JSON object, kept as given.
    #[schema(nullable, value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// `PATCH /backpack/assertions/{assertionId}/status`.
#[derive(ToSchema)]
#[schema(example = json!({"status": "hidden"}))]
pub struct StatusRequest {
    /// `active`, `hidden` or `deleted` (kept, marked deleted).
    pub status: String,
}

/// An award in a platform user's backpack.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserAssertion {
    /// The entry's id (its id in the learner's backpack).
    #[schema(format = "uuid")]
    pub id: String,
    /// The platform user's id.
    #[schema(format = "uuid")]
    pub user_id: String,
    /// The award's OB 3.0 id URL.
    #[schema(format = "uri")]
    pub assertion_id: String,
    /// When it was added.
    #[schema(format = DateTime)]
    pub added_at: String,
    /// `active`, `hidden` or `deleted`.
    pub status: String,
    /// The platform's metadata.
    #[schema(nullable, value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// In lists: the award as an OB 2.0 assertion (`?version=v2`) or its
    /// OB 3.0 credential (`v3`, with its proof when signed).
    #[schema(value_type = Option<Object>)]
    pub assertion: Option<serde_json::Value>,
}

/// `{"success": true, "userAssertion": ...}`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserAssertionAnswer {
    /// Always `true`.
    pub success: bool,
    /// The entry.
    pub user_assertion: UserAssertion,
}

/// `{"success": true, "assertions": [...]}`.
#[derive(ToSchema)]
pub struct UserAssertionsAnswer {
    /// Always `true`.
    pub success: bool,
    /// The user's entries, oldest added first, each with `assertion`.
    pub assertions: Vec<UserAssertion>,
}

/// `?version=v2|v3` of the list.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// `v3` (default) or `v2`.
    #[param(example = "v3")]
    pub version: Option<String>,
}
