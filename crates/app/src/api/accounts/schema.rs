//! OpenAPI types of accounts: users, logins and API keys.

use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

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
    /// Holds credentials: their own backpack, e-mail addresses and profile
    /// under `/learner`, nothing of the rest of this API.
    Learner,
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

/// Filter of `GET /api-keys`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct KeyOwner {
    /// Whose keys: the caller's when absent (required for a configured key
    /// not tied to a user); another user's for administrators only.
    #[param(format = "uuid")]
    pub user_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::tests::urls;

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
        crate::requests::issuer_reference(text(&key, "issuerId"), &urls())
            .expect("issuer reference");
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
