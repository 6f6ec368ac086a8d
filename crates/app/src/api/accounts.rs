//! Accounts: `POST /auth/login`, `GET /auth/profile`, user management under
//! `/users` and API keys under `/api-keys`. Not versioned: they are not
//! Open Badges documents.

use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::access::{Credential, Principal};
use openbadges_domain::accounts::{self, NewApiKey, NewUser, UserChanges};
use openbadges_domain::*;
use serde_json::{json, Value};

use super::body::JsonBody;
use super::listing::{page_response, ListQuery};
use super::path_id;
use crate::auth::{keys, password, Auth};
use crate::http::{ApiError, AppState};

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/auth/login", web::post().to(login))
        .route("/auth/profile", web::get().to(profile))
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

fn unauthorized(message: &str) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", "Bearer"))
        .json(json!({ "error": "Unauthorized", "message": message }))
}

/// Hashes or checks passwords off the async workers: argon2 is meant to be slow.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    web::block(work)
        .await
        .map_err(|e| ApiError(DomainError::Internal(format!("password task failed: {e}"))))
}

/// `POST /auth/login` `{usernameOrEmail | username | email, password}` →
/// `{token, expiresIn, user}`; 401 for any mismatch, in the same time.
async fn login(
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let login = text(&body, &["usernameOrEmail", "username", "email"]);
    let secret = text(&body, &["password"]);
    if login.is_none() {
        errors.push(FieldError::new("usernameOrEmail", "is required"));
    }
    if secret.is_none() {
        errors.push(FieldError::new("password", "is required"));
    }
    let (Some(login), Some(secret)) = (login, secret) else {
        return Err(DomainError::Validation(errors).into());
    };
    let users = state.store.users();
    let user = match users.find_by_username(login).await? {
        Some(user) => Some(user),
        None if login.contains('@') => users.find_by_email(login).await?,
        None => None,
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
        .issue(user.id, user.role, now)
        .map_err(DomainError::Internal)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "token": issued.token, "expiresIn": issued.expires_in, "user": user_json(&user) })))
}

/// `GET /auth/profile`: who the credentials belong to.
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
async fn create_user(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
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
async fn list_users(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::of(&request);
    let page_request = query.page()?;
    let page = accounts::list_users(state.store.as_ref(), &actor, page_request).await?;
    let docs = page.items.iter().map(user_json).collect();
    Ok(page_response(
        &request,
        state.urls.base(),
        &query,
        page_request,
        &page,
        docs,
    ))
}

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
async fn update_user(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
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
async fn change_password(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id: UserId = path_id(&id, "user")?;
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
async fn create_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
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
    let issuer_scope = text(&body, &["issuerId"]).and_then(|raw| {
        crate::requests::issuer_reference(raw, &state.urls)
            .map(IssuerId::from)
            .map_err(|e| errors.push(FieldError::new("issuerId", e.0)))
            .ok()
    });
    let expires_at = text(&body, &["expiresAt"]).and_then(|raw| {
        Timestamp::parse(raw)
            .map_err(|e| errors.push(FieldError::new("expiresAt", e.0)))
            .ok()
    });
    let user_id = match text(&body, &["userId"]) {
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
        None => Principal::role_permissions(state.store.users().get(user_id).await?.role),
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
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(shown))
}

/// `GET /api-keys[?userId=]`: your keys; an administrator may name a user.
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
    let docs = page.items.iter().map(key_json).collect();
    Ok(page_response(
        &request,
        state.urls.base(),
        &query,
        page_request,
        &page,
        docs,
    ))
}

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
async fn revoke_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ApiKeyId = path_id(&id, "api key")?;
    let key = accounts::revoke_api_key(state.store.as_ref(), &actor, id).await?;
    Ok(HttpResponse::Ok().json(key_json(&key)))
}

async fn delete_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ApiKeyId = path_id(&id, "api key")?;
    accounts::get_api_key(state.store.as_ref(), &actor, id).await?;
    state.store.api_keys().delete(id).await?;
    Ok(HttpResponse::NoContent().finish())
}
