//! Accounts: `POST /auth/login`, `GET /auth/profile`, user management under
//! `/users` and API keys under `/api-keys`. Not versioned: they are not
//! Open Badges documents.

pub mod schema;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::access::{Credential, Principal};
use openbadges_domain::accounts::{self, NewApiKey, NewUser, UserChanges};
use openbadges_domain::*;
use serde_json::{json, Value};

use super::body::JsonBody;
use super::documents::no_store;
use super::listing::{page_response, ListQuery};
use super::params::path_id;
use crate::auth::{keys, password, tokens, Auth};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/auth/login", web::post().to(login))
        .route("/auth/profile", web::get().to(profile))
        .route("/auth/logout-all", web::post().to(logout_all))
        .route("/users", web::post().to(create_user))
        .route("/users", web::get().to(list_users))
        .route("/users/{id}", web::get().to(get_user))
        .route("/users/{id}", web::put().to(update_user))
        .route("/users/{id}", web::delete().to(delete_user))
        .route(
            "/users/{id}/change-password",
            web::post().to(change_password),
        )
        .route("/api-keys", web::post().to(create_key))
        .route("/api-keys", web::get().to(list_keys))
        .route("/api-keys/{id}", web::get().to(get_key))
        .route("/api-keys/{id}", web::delete().to(delete_key))
        .route("/api-keys/{id}/revoke", web::post().to(revoke_key));
}

/// A user as the API shows it: never the password hash.
fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "username": user.username.as_str(),
        "email": user.email.as_ref().map(Email::as_str),
        "role": user.role.as_str(),
        "createdAt": user.created_at.to_rfc3339(),
        "updatedAt": user.updated_at.to_rfc3339(),
    })
}

/// An API key as the API shows it: never the key or its hash.
fn key_json(key: &ApiKey) -> Value {
    json!({
        "id": key.id,
        "userId": key.user_id,
        "name": key.name.as_str(),
        "prefix": key.prefix.as_str(),
        "permissions": key.permissions,
        "issuerId": key.issuer_scope,
        "expiresAt": key.expires_at.map(|t| t.to_rfc3339()),
        "revokedAt": key.revoked_at.map(|t| t.to_rfc3339()),
        "lastUsedAt": key.last_used_at.map(|t| t.to_rfc3339()),
        "createdAt": key.created_at.to_rfc3339(),
    })
}

fn text<'v>(body: &'v Value, keys: &[&str]) -> Option<&'v str> {
    keys.iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
}

/// Account bodies are JSON objects; anything else is a 400 naming `body`.
fn object(body: &Value) -> Result<(), ApiError> {
    if body.is_object() {
        Ok(())
    } else {
        Err(DomainError::invalid("body", "must be a JSON object").into())
    }
}

/// An optional string field: absent or null is `None`; another type is an
/// error naming the field rather than being silently ignored.
fn optional_text<'v>(body: &'v Value, key: &str, errors: &mut Vec<FieldError>) -> Option<&'v str> {
    match body.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            errors.push(FieldError::new(key, "must be a string"));
            None
        }
    }
}

fn unauthorized(message: &str) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", "Bearer"))
        .json(json!({ "error": "Unauthorized", "message": message }))
}

/// Hashes or checks passwords off the async workers, one per core at a
/// time: argon2 is meant to be slow and to take memory.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    password::off_workers(work)
        .await
        .map_err(|e| ApiError(DomainError::Internal(format!("password task failed: {e}"))))
}

/// `POST /auth/login` `{usernameOrEmail | username | email, password,
/// deviceToken?}` → `{token, expiresIn, deviceToken, user}`; 401 for any
/// mismatch, in the same time; 429 while the name's failures make it wait
/// (`auth::throttle`).
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "accounts",
    operation_id = "login",
    summary = "Log in: exchange a username (or e-mail) and password for a token",
    description = "Public. The token is an HS256 JWT valid for `JWT_TOKEN_EXPIRY_SECONDS` (default 3600); send it as \
        `Authorization: Bearer <token>`. A wrong password and an unknown user get the same 401, in the same time. \
        After `LOGIN_THROTTLE_FAILURES` (default 5) failed logins for one name, from any address, each further attempt \
        must wait (5 s, then 10, 20, ... up to `LOGIN_THROTTLE_MAX_DELAY_SECONDS`) and is answered 429 until then, \
        whether or not an account has that name. A login that sends the `deviceToken` an earlier login of this name \
        answered is counted apart, per device token, so the owner of an account under attack still gets in from a \
        device they used before.",
    request_body(content = schema::LoginRequest, description = "The credentials. Read as JSON whatever the `Content-Type`."),
    responses(
        (status = 200, description = "Logged in.", body = schema::LoginResponse,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "`usernameOrEmail` (or `username` / `email`) or `password` is missing, \
            `deviceToken` is not a string, or the body is not JSON.", body = super::schema::ValidationError),
        (status = 401, description = "No such user, or the password does not match (the same answer for both).",
            body = super::schema::Unauthorized,
            headers(("WWW-Authenticate" = String, description = "`Bearer`.")),
            example = json!({"error": "Unauthorized", "message": "invalid username or password"})),
        (status = 429, description = "Too many failed logins for this name (known or not): retry after `Retry-After` \
            seconds, or send this device's `deviceToken`. Also more than `RATE_LIMIT_PER_MINUTE` requests a minute \
            from this client address.", body = super::schema::RateLimited,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying.")),
            example = json!({"error": "Too Many Requests", "message": "too many failed logins for this account; retry in 5 s"})),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn login(
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    object(&body)?;
    let mut errors = Vec::new();
    let login = text(&body, &["usernameOrEmail", "username", "email"]);
    let secret = text(&body, &["password"]);
    if login.is_none() {
        errors.push(FieldError::new("usernameOrEmail", "is required"));
    }
    if secret.is_none() {
        errors.push(FieldError::new("password", "is required"));
    }
    let device_token = optional_text(&body, "deviceToken", &mut errors);
    let (Some(login), Some(secret), true) = (login, secret, errors.is_empty()) else {
        return Err(DomainError::Validation(errors).into());
    };
    // Counted as failed from here on, unless it succeeds.
    let attempt = match state.auth.logins.attempt(login, device_token) {
        Ok(attempt) => attempt,
        Err(throttled) => return Ok(throttled.response()),
    };
    let users = state.store.users();
    // No stored name holds a control character (usernames and e-mails are
    // validated), and PostgreSQL refuses NUL in text: such a name is unknown.
    let user = if login.chars().any(char::is_control) {
        None
    } else {
        match users.find_by_username(login).await? {
            Some(user) => Some(user),
            None if login.contains('@') => users.find_by_email(login).await?,
            None => None,
        }
    };
    let hash = user
        .as_ref()
        .map_or_else(password::decoy, |u| u.password_hash.clone());
    let secret = secret.to_owned();
    let matches = blocking(move || password::verify(&secret, &hash)).await?;
    let (Some(user), true) = (user, matches) else {
        log::info!("failed login for an unknown user or with a wrong password");
        return Ok(unauthorized("invalid username or password"));
    };
    let now = Timestamp::now().as_datetime().timestamp();
    let issued = state
        .auth
        .tokens
        .issue(
            tokens::Session {
                user: user.id,
                role: user.role,
                generation: user.session_generation,
            },
            now,
        )
        .map_err(DomainError::Internal)?;
    let device_token = state.auth.logins.succeeded(attempt);
    Ok(no_store(StatusCode::OK).json(json!({
        "token": issued.token,
        "expiresIn": issued.expires_in,
        "deviceToken": device_token,
        "user": user_json(&user),
    })))
}

/// `GET /auth/profile`: who the credentials belong to.
#[utoipa::path(
    get,
    path = "/auth/profile",
    tag = "accounts",
    operation_id = "getProfile",
    summary = "Who the credentials belong to",
    description = "Any valid credentials: the user, role and permissions they act with, the issuer an API key is \
        scoped to, and how the caller authenticated.",
    responses(
        (status = 200, description = "The caller.", body = schema::Profile),
        (status = 401, response = super::responses::Unauthorized),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn profile(Auth(actor): Auth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let via = match actor.credential {
        Credential::Session => "token",
        Credential::ApiKey => "api-key",
        Credential::ConfiguredKey => "configured-key",
    };
    let user = match actor.user_id {
        Some(id) => Some(user_json(&state.store.users().get(id).await?)),
        None => None,
    };
    Ok(HttpResponse::Ok().json(json!({
        "user": user,
        "role": actor.role.as_str(),
        "permissions": actor.permissions,
        "issuerId": actor.issuer_scope,
        "authenticatedWith": via,
    })))
}

/// `POST /auth/logout-all`: ends every login token of the caller's user.
#[utoipa::path(
    post,
    path = "/auth/logout-all",
    tag = "accounts",
    operation_id = "logoutAll",
    summary = "Log out everywhere: end every login token of the caller's user",
    description = "The user logged in, or with a key that has the `write` permission. Every login token of the \
        user issued so far stops working at once, on every instance, the one sent with this request too; a new \
        login works as before. API keys are not sessions and stay: revoke them one by one. An administrator ends \
        another user's tokens by setting their password.",
    responses(
        (status = 204, description = "Every earlier token of the user is refused from now on."),
        (status = 400, description = "A key configured without a user has no sessions to end.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "A key without the `write` permission.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn logout_all(
    Auth(actor): Auth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(id) = actor.user_id else {
        return Err(DomainError::invalid(
            "user",
            "a key configured without a user has no sessions",
        )
        .into());
    };
    accounts::end_sessions(state.store.as_ref(), &actor, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn parse_role(body: &Value, errors: &mut Vec<FieldError>) -> Option<Role> {
    match body.get("role") {
        None | Some(Value::Null) => None,
        Some(Value::String(raw)) => Role::parse(raw)
            .map_err(|e| errors.push(FieldError::new("role", e.0)))
            .ok(),
        Some(_) => {
            errors.push(FieldError::new("role", "must be a string"));
            None
        }
    }
}

fn parse_email(body: &Value, errors: &mut Vec<FieldError>) -> Option<Option<Email>> {
    match body.get("email") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(raw)) => Email::parse(raw.clone())
            .map(Some)
            .map_err(|e| errors.push(FieldError::new("email", e.0)))
            .ok(),
        Some(_) => {
            errors.push(FieldError::new("email", "must be a string"));
            None
        }
    }
}

fn new_password(body: &Value, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match body.get(field).and_then(Value::as_str) {
        None => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
        Some(raw) => password::check_policy(raw)
            .map(|()| raw.to_owned())
            .map_err(|e| errors.push(FieldError::new(field, e.0)))
            .ok(),
    }
}

/// `POST /users` (administrators): `{username, email?, password, role?}`.
#[utoipa::path(
    post,
    path = "/users",
    tag = "accounts",
    operation_id = "createUser",
    summary = "Create a user account",
    description = "Administrators only (an admin-role user's token, or an unscoped key with the `admin` \
        permission). The password is stored as an argon2id hash.",
    request_body(content = schema::NewUserRequest, description = "The account. Read as JSON whatever the `Content-Type`."),
    responses(
        (status = 201, description = "Created: the user.", body = schema::User),
        (status = 400, description = "A field does not validate (`username`, `email`, `password` shorter than 10 \
            characters, `role`), or the body is not JSON.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not an administrator.", body = super::schema::Forbidden),
        (status = 409, description = "The username or e-mail address is taken.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn create_user(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    object(&body)?;
    actor.may_administer()?;
    let mut errors = Vec::new();
    let username = match text(&body, &["username"]) {
        Some(raw) => Username::parse(raw)
            .map_err(|e| errors.push(FieldError::new("username", e.0)))
            .ok(),
        None => {
            errors.push(FieldError::new("username", "is required"));
            None
        }
    };
    let email = parse_email(&body, &mut errors).flatten();
    let secret = new_password(&body, "password", &mut errors);
    let role = parse_role(&body, &mut errors).unwrap_or(Role::Viewer);
    let (Some(username), Some(secret), true) = (username, secret, errors.is_empty()) else {
        return Err(DomainError::Validation(errors).into());
    };
    let password_hash = blocking(move || password::hash(&secret)).await??;
    let user = accounts::create_user(
        state.store.as_ref(),
        &actor,
        NewUser {
            username,
            email,
            password_hash,
            role,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(user_json(&user)))
}

/// `GET /users` (administrators).
#[utoipa::path(
    get,
    path = "/users",
    tag = "accounts",
    operation_id = "listUsers",
    summary = "List user accounts",
    description = "Administrators only.",
    params(super::schema::Paging),
    responses(
        (status = 200, description = "A page of users.", body = Vec<schema::User>,
            headers(
                ("X-Total-Count" = u64, description = "How many users there are in all."),
                ("Link" = String, description = "RFC 8288 links to the `first`, `prev`, `next` and `last` pages."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 400, description = "`limit` or `offset` is out of range.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not an administrator.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list_users(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::of(&request);
    let page_request = query.page()?;
    let page = accounts::list_users(state.store.as_ref(), &actor, page_request).await?;
    let docs: Vec<_> = page.items.iter().map(user_json).collect();
    Ok(page_response(
        &request,
        state.urls.base(),
        &query,
        page_request,
        &page,
        docs,
    ))
}

#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "accounts",
    operation_id = "getUser",
    summary = "Get a user account",
    description = "The user themself or an administrator.",
    params(("id" = String, Path, format = "uuid", description = "The user's UUID.")),
    responses(
        (status = 200, description = "The user.", body = schema::User),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "Another user's account, and the caller is not an administrator.",
            body = super::schema::Forbidden),
        (status = 404, description = "No such user (or the id is not a UUID).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn get_user(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: UserId = path_id(&id, "user")?;
    let user = accounts::get_user(state.store.as_ref(), &actor, id).await?;
    Ok(HttpResponse::Ok().json(user_json(&user)))
}

/// `PUT /users/{id}`: `email` (self or admin), `role` (admin).
#[utoipa::path(
    put,
    path = "/users/{id}",
    tag = "accounts",
    operation_id = "updateUser",
    summary = "Change a user's e-mail address or role",
    description = "The user themself, whatever their role (logged in, or with a key that has the `write` \
        permission), may change their e-mail address; only an administrator may change a role. Only the fields \
        given are written: fields not given are kept as stored, even when changed meanwhile. A role change \
        applies at once, to tokens and keys already issued too.",
    params(("id" = String, Path, format = "uuid", description = "The user's UUID.")),
    request_body(content = schema::UserUpdate, description = "The fields to change."),
    responses(
        (status = 200, description = "The updated user.", body = schema::User),
        (status = 400, description = "`email` or `role` does not validate, or the body is not JSON.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "Another user's account, or a role change, and the caller is not an administrator.",
            body = super::schema::Forbidden),
        (status = 404, description = "No such user (or the id is not a UUID).", body = super::schema::ErrorMessage),
        (status = 409, description = "The e-mail address is taken.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn update_user(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    object(&body)?;
    let id: UserId = path_id(&id, "user")?;
    let mut errors = Vec::new();
    let changes = UserChanges {
        email: parse_email(&body, &mut errors),
        role: parse_role(&body, &mut errors),
    };
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors).into());
    }
    let user = accounts::update_user(state.store.as_ref(), &actor, id, changes).await?;
    Ok(HttpResponse::Ok().json(user_json(&user)))
}

#[utoipa::path(
    delete,
    path = "/users/{id}",
    tag = "accounts",
    operation_id = "deleteUser",
    summary = "Delete a user account",
    description = "Administrators only, and not their own account. The user's API keys are deleted with it; the \
        issuers they owned stay, without an owner (only administrators manage them then).",
    params(("id" = String, Path, format = "uuid", description = "The user's UUID.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not an administrator.", body = super::schema::Forbidden),
        (status = 404, description = "No such user (or the id is not a UUID).", body = super::schema::ErrorMessage),
        (status = 409, description = "Administrators cannot delete their own account.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn delete_user(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: UserId = path_id(&id, "user")?;
    accounts::delete_user(state.store.as_ref(), &actor, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /users/{id}/change-password` `{currentPassword, newPassword}`: the
/// user gives the current password; an administrator resetting someone
/// else's does not.
#[utoipa::path(
    post,
    path = "/users/{id}/change-password",
    tag = "accounts",
    operation_id = "changePassword",
    summary = "Change a user's password",
    description = "The user themself (logged in, or with a key that has the `write` permission), giving \
        `currentPassword`; or an administrator setting another user's password (without it). Who may change the \
        password is checked first: a caller who may not gets 403 whatever `currentPassword` says, and no password \
        is compared. Every login token of the user issued before stops working at once (the caller's too: log in \
        again); API keys stay.",
    params(("id" = String, Path, format = "uuid", description = "The user's UUID.")),
    request_body(content = schema::ChangePassword, description = "The current and the new password."),
    responses(
        (status = 204, description = "Changed."),
        (status = 400, description = "`newPassword` is missing or not 10 to 1024 characters, `currentPassword` is \
            missing (self-service) or does not match, or the body is not JSON.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "Another user's account and the caller is not an administrator, or a key \
            without the `write` permission.", body = super::schema::Forbidden),
        (status = 404, description = "No such user (or the id is not a UUID).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn change_password(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    object(&body)?;
    let id: UserId = path_id(&id, "user")?;
    // Whether this caller may change the password at all comes first: a
    // credential that may not (a read-only key) must learn nothing about
    // the current password, so nothing is compared for it.
    actor.may_change_account(id)?;
    let user = accounts::get_user(state.store.as_ref(), &actor, id).await?;
    let mut errors = Vec::new();
    let fresh = new_password(&body, "newPassword", &mut errors);
    let self_service = actor.user_id == Some(id);
    let current = text(&body, &["currentPassword"]).map(str::to_owned);
    if self_service && current.is_none() {
        errors.push(FieldError::new("currentPassword", "is required"));
    }
    let Some(fresh) = fresh.filter(|_| errors.is_empty()) else {
        return Err(DomainError::Validation(errors).into());
    };
    if let (true, Some(current)) = (self_service, current) {
        let hash = user.password_hash.clone();
        if !blocking(move || password::verify(&current, &hash)).await? {
            return Err(DomainError::invalid("currentPassword", "does not match").into());
        }
    }
    let password_hash = blocking(move || password::hash(&fresh)).await??;
    accounts::set_password(state.store.as_ref(), &actor, id, password_hash).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn parse_permissions(body: &Value, errors: &mut Vec<FieldError>) -> Option<Vec<Permission>> {
    match body.get("permissions") {
        None | Some(Value::Null) => None,
        Some(value) => serde_json::from_value::<Vec<Permission>>(value.clone())
            .map_err(|_| {
                errors.push(FieldError::new(
                    "permissions",
                    "must be an array of read, write, admin",
                ))
            })
            .ok(),
    }
}

/// `POST /api-keys` `{name, permissions?, issuerId?, expiresAt?, userId?}`:
/// 201 with the key, shown this once; only its hash is stored.
#[utoipa::path(
    post,
    path = "/api-keys",
    tag = "accounts",
    operation_id = "createApiKey",
    summary = "Create an API key",
    description = "For the caller (any role, viewers included: logged in, or with a key that has the `write` \
        permission), or (administrators) for the user named by `userId`. The key is in the answer this once: only \
        its SHA-256 is stored. Its permissions cannot exceed what its user's role allows (a viewer's: `read`), and \
        an issuer scope must be an issuer its user manages. A key scoped to an issuer cannot create keys.",
    request_body(content = schema::NewApiKeyRequest, description = "The key's label, permissions, scope and expiry."),
    responses(
        (status = 201, description = "Created: the key's record and the key itself, shown only now.",
            body = schema::CreatedApiKey,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "A field does not validate: `name`, `permissions` (unknown, empty, or more than \
            the role allows), `issuerId` (malformed, or an issuer the user does not manage), `expiresAt` (not RFC 3339 \
            or not in the future), `userId`; or the body is not JSON.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "`userId` names another user and the caller is not an administrator, or the \
            caller's key is scoped to an issuer.", body = super::schema::Forbidden),
        (status = 404, description = "`userId` names no user (when `permissions` is absent).", body = super::schema::ErrorMessage),
        (status = 422, description = "`userId` names no user, or `issuerId` no issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn create_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    object(&body)?;
    let mut errors = Vec::new();
    let name = match text(&body, &["name"]) {
        Some(raw) => Name::parse(raw)
            .map_err(|e| errors.push(FieldError::new("name", e.0)))
            .ok(),
        None => {
            errors.push(FieldError::new("name", "is required"));
            None
        }
    };
    let permissions = parse_permissions(&body, &mut errors);
    let issuer_scope = optional_text(&body, "issuerId", &mut errors).and_then(|raw| {
        crate::requests::issuer_reference(raw, &state.urls)
            .map(IssuerId::from)
            .map_err(|e| errors.push(FieldError::new("issuerId", e.0)))
            .ok()
    });
    let expires_at = optional_text(&body, "expiresAt", &mut errors).and_then(|raw| {
        Timestamp::parse(raw)
            .map_err(|e| errors.push(FieldError::new("expiresAt", e.0)))
            .ok()
    });
    let user_id = match optional_text(&body, "userId", &mut errors) {
        Some(raw) => raw
            .parse::<UserId>()
            .map_err(|_| errors.push(FieldError::new("userId", "must be a user id")))
            .ok(),
        None => actor.user_id,
    };
    let (Some(name), true) = (name, errors.is_empty()) else {
        return Err(DomainError::Validation(errors).into());
    };
    let Some(user_id) = user_id else {
        return Err(DomainError::invalid(
            "userId",
            "is required for a key configured without a user",
        )
        .into());
    };
    let permissions = match permissions {
        Some(permissions) => permissions,
        None => match state.store.users().get(user_id).await {
            Ok(user) => Principal::role_permissions(user.role),
            Err(DomainError::NotFound { id, .. }) => {
                return Err(DomainError::MissingReference { entity: "user", id }.into())
            }
            Err(other) => return Err(other.into()),
        },
    };
    let secret = keys::generate();
    let key = accounts::create_api_key(
        state.store.as_ref(),
        &actor,
        NewApiKey {
            user_id,
            name,
            key_hash: ApiKeyHash::of_key(&secret),
            prefix: keys::display_prefix(&secret),
            permissions,
            issuer_scope,
            expires_at,
        },
    )
    .await?;
    let mut shown = key_json(&key);
    shown["key"] = json!(secret);
    Ok(no_store(StatusCode::CREATED).json(shown))
}

/// `GET /api-keys[?userId=]`: your keys; an administrator may name a user.
#[utoipa::path(
    get,
    path = "/api-keys",
    tag = "accounts",
    operation_id = "listApiKeys",
    summary = "List API keys",
    description = "The caller's keys, or (administrators) those of the user named by `userId`. Keys are never \
        shown, only their records.",
    params(super::schema::Paging, schema::KeyOwner),
    responses(
        (status = 200, description = "A page of key records.", body = Vec<schema::ApiKey>,
            headers(
                ("X-Total-Count" = u64, description = "How many keys the user has in all."),
                ("Link" = String, description = "RFC 8288 links to the `first`, `prev`, `next` and `last` pages."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 400, description = "`limit`, `offset` or `userId` does not validate, or `userId` is missing for a \
            configured key not tied to a user.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "`userId` names another user and the caller is not an administrator.",
            body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list_keys(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::of(&request);
    let page_request = query.page()?;
    let user_id = match query.get(&["userId"]) {
        Some(raw) => raw
            .parse::<UserId>()
            .map_err(|_| DomainError::invalid("userId", "must be a user id"))?,
        None => actor.user_id.ok_or_else(|| {
            DomainError::invalid("userId", "is required for a key configured without a user")
        })?,
    };
    actor.may_act_for(user_id)?;
    let page = state
        .store
        .api_keys()
        .list_for_user(user_id, page_request)
        .await?;
    let docs: Vec<_> = page.items.iter().map(key_json).collect();
    Ok(page_response(
        &request,
        state.urls.base(),
        &query,
        page_request,
        &page,
        docs,
    ))
}

#[utoipa::path(
    get,
    path = "/api-keys/{id}",
    tag = "accounts",
    operation_id = "getApiKey",
    summary = "Get an API key's record",
    description = "Its user or an administrator; someone else's key answers 404, so ids cannot be probed.",
    params(("id" = String, Path, format = "uuid", description = "The API key's UUID (not the key).")),
    responses(
        (status = 200, description = "The key's record (never the key).", body = schema::ApiKey),
        (status = 401, response = super::responses::Unauthorized),
        (status = 404, description = "No such key, or another user's.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn get_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ApiKeyId = path_id(&id, "api key")?;
    let key = accounts::get_api_key(state.store.as_ref(), &actor, id).await?;
    Ok(HttpResponse::Ok().json(key_json(&key)))
}

/// `POST /api-keys/{id}/revoke`: the key stops working at once.
#[utoipa::path(
    post,
    path = "/api-keys/{id}/revoke",
    tag = "accounts",
    operation_id = "revokeApiKey",
    summary = "Revoke an API key",
    description = "Its user (with a write-capable credential) or an administrator. The key stops working \
        at once; its record stays, with `revokedAt`. Revoking a revoked key changes nothing.",
    params(("id" = String, Path, format = "uuid", description = "The API key's UUID (not the key).")),
    responses(
        (status = 200, description = "Revoked: the key's record.", body = schema::ApiKey),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "A read-only credential may not change its account's keys.",
            body = super::schema::Forbidden),
        (status = 404, description = "No such key, or another user's.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn revoke_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ApiKeyId = path_id(&id, "api key")?;
    let key = accounts::revoke_api_key(state.store.as_ref(), &actor, id).await?;
    Ok(HttpResponse::Ok().json(key_json(&key)))
}

#[utoipa::path(
    delete,
    path = "/api-keys/{id}",
    tag = "accounts",
    operation_id = "deleteApiKey",
    summary = "Delete an API key",
    description = "Its user (with a write-capable credential) or an administrator. The key stops working \
        at once and its record is gone.",
    params(("id" = String, Path, format = "uuid", description = "The API key's UUID (not the key).")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "A read-only credential may not change its account's keys.",
            body = super::schema::Forbidden),
        (status = 404, description = "No such key, or another user's.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn delete_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ApiKeyId = path_id(&id, "api key")?;
    accounts::delete_api_key(state.store.as_ref(), &actor, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
