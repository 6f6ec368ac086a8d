//! Authentication: who is calling. A request may carry an API key
//! (`X-API-Key: <key>`, or `Authorization: Bearer <key>`) or a login token
//! (`Authorization: Bearer <jwt>` from `POST /auth/login`). Handlers that
//! write take [`Auth`] (401 without valid credentials); public reads take
//! nothing. What the principal may do is decided in the domain
//! (`openbadges_domain::access`).

pub mod config;
pub mod keys;
pub mod password;
pub mod throttle;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use openbadges_domain::access::{Credential, Principal};
use openbadges_domain::accounts::{self, KeyRejection};
use openbadges_domain::{ApiKeyHash, DomainError, Permission, Role, Timestamp, UserId};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;
use keys::ConfiguredKey;

/// Why a request is not authenticated.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// No credentials were presented.
    #[error("authentication required: send X-API-Key or Authorization: Bearer")]
    Missing,
    /// Credentials were presented but are not valid.
    #[error("{0}")]
    Invalid(&'static str),
    /// Looking the credentials up failed.
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Domain(error) => ApiError(error.clone()).status_code(),
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Domain(error) => ApiError(error.clone()).error_response(),
            other => HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .json(json!({ "error": "Unauthorized", "message": other.to_string() })),
        }
    }
}

/// What the request presented.
enum Presented<'a> {
    Key(&'a str),
    Token(&'a str),
}

fn presented(request: &HttpRequest) -> Option<Presented<'_>> {
    if let Some(key) = request
        .headers()
        .get("X-API-Key")
        .and_then(|v| v.to_str().ok())
    {
        return Some(Presented::Key(key.trim()));
    }
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?
        .trim();
    let value = bearer
        .strip_prefix("Bearer ")
        .or_else(|| bearer.strip_prefix("bearer "))?
        .trim();
    // A JWT is three dot-separated parts; our keys have no dot.
    if value.split('.').count() == 3 {
        Some(Presented::Token(value))
    } else {
        Some(Presented::Key(value))
    }
}

fn admin_without_user(credential: Credential) -> Principal {
    Principal {
        user_id: None,
        role: Role::Admin,
        permissions: Principal::role_permissions(Role::Admin),
        issuer_scope: None,
        credential,
    }
}

async fn configured_principal(
    state: &AppState,
    key: &ConfiguredKey,
) -> Result<Principal, AuthError> {
    let Ok(user_id) = key.user.parse::<UserId>() else {
        return Ok(admin_without_user(Credential::ConfiguredKey));
    };
    match state.store.users().get(user_id).await {
        Ok(user) => Ok(Principal {
            credential: Credential::ConfiguredKey,
            ..Principal::session(user.id, user.role)
        }),
        Err(DomainError::NotFound { .. }) => Err(AuthError::Invalid(
            "this configured API key names a user that does not exist",
        )),
        Err(other) => Err(other.into()),
    }
}

async fn key_principal(state: &AppState, key: &str) -> Result<Principal, AuthError> {
    let hash = ApiKeyHash::of_key(key);
    if let Some(configured) = state.auth.configured.iter().find(|c| c.hash == hash) {
        return configured_principal(state, configured).await;
    }
    let now = Timestamp::now();
    match accounts::authenticate_api_key(state.store.as_ref(), &hash, now).await? {
        Ok((principal, stored)) => {
            if accounts::use_worth_recording(&stored, now) {
                let store = state.store.clone();
                // Bookkeeping must not slow down or fail the request. It
                // writes `last_used_at` alone: a revocation landing
                // meanwhile stays.
                actix_web::rt::spawn(async move {
                    let recorded = store.api_keys().record_use(stored.id, now).await;
                    if let Err(error) = recorded {
                        log::warn!("could not record the use of API key {}: {error}", stored.id);
                    }
                });
            }
            Ok(principal)
        }
        Err(KeyRejection::Unknown) => Err(AuthError::Invalid("unknown API key")),
        Err(KeyRejection::Revoked) => Err(AuthError::Invalid("this API key has been revoked")),
        Err(KeyRejection::Expired) => Err(AuthError::Invalid("this API key has expired")),
    }
}

async fn token_principal(state: &AppState, token: &str) -> Result<Principal, AuthError> {
    let session = state
        .auth
        .tokens
        .verify(token)
        .ok_or(AuthError::Invalid("invalid or expired token"))?;
    // The user is read afresh: a demotion, a deletion, a new password or a
    // logout everywhere takes effect at once.
    match state.store.users().get(session.user).await {
        Ok(user) if user.session_generation != session.generation => Err(AuthError::Invalid(
            "this token has been ended by a password change or a logout",
        )),
        Ok(user) => Ok(Principal::session(user.id, user.role)),
        Err(DomainError::NotFound { .. }) => {
            Err(AuthError::Invalid("the token's user no longer exists"))
        }
        Err(other) => Err(other.into()),
    }
}

/// What authenticating a request found, kept in its extensions: the rate
/// limit authenticates before routing (only verified credentials get an
/// allowance of their own) and [`Auth`] reuses the outcome, so that no
/// request is looked up twice.
#[derive(Clone)]
struct Authenticated(Result<Option<Principal>, AuthError>);

/// The principal of the request, if it presented credentials: worked out
/// once per request, then remembered.
pub async fn authenticate(request: &HttpRequest) -> Result<Option<Principal>, AuthError> {
    if let Some(Authenticated(outcome)) = request.extensions().get::<Authenticated>() {
        return outcome.clone();
    }
    let outcome = authenticate_afresh(request).await;
    request
        .extensions_mut()
        .insert(Authenticated(outcome.clone()));
    outcome
}

fn state(request: &HttpRequest) -> Result<&AppState, AuthError> {
    request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.get_ref())
        .ok_or_else(|| DomainError::Internal("application state missing".to_owned()).into())
}

async fn authenticate_afresh(request: &HttpRequest) -> Result<Option<Principal>, AuthError> {
    let state = state(request)?;
    if !state.auth.enabled {
        return Ok(Some(admin_without_user(Credential::ConfiguredKey)));
    }
    match presented(request) {
        None => Ok(None),
        Some(Presented::Key(key)) => key_principal(state, key).await.map(Some),
        Some(Presented::Token(token)) => token_principal(state, token).await.map(Some),
    }
}

/// Whom the rate limit counts the request against beyond its address: the
/// API key it presented (hashed, never kept in the clear) or the user of its
/// login token, once verified. `None` without credentials, with credentials
/// that do not authenticate (a made-up key must not buy a fresh allowance),
/// or with authentication off (everyone is the same administrator then).
/// A request without credentials costs nothing here.
pub async fn verified_caller(request: &HttpRequest) -> Option<String> {
    let enabled = state(request).is_ok_and(|state| state.auth.enabled);
    let presented = presented(request).filter(|_| enabled)?;
    let principal = authenticate(request).await.ok()??;
    Some(match (presented, principal.user_id) {
        // Every token of a user shares one allowance: logging in again
        // does not buy a fresh one.
        (Presented::Token(_), Some(user)) => format!("user:{user}"),
        (Presented::Key(secret) | Presented::Token(secret), _) => {
            format!("key:{}", &ApiKeyHash::of_key(secret).as_str()[..16])
        }
    })
}

/// Extractor for routes that need an authenticated caller: 401 otherwise.
pub struct Auth(pub Principal);

impl FromRequest for Auth {
    type Error = AuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            authenticate(&request)
                .await?
                .map(Auth)
                .ok_or(AuthError::Missing)
        })
    }
}

/// Whether a principal may use a read-only route meant for staff.
pub fn require(principal: &Principal, permission: Permission) -> Result<(), ApiError> {
    if principal.permissions.contains(&permission) {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            format!("this credential lacks the {permission:?} permission").to_lowercase(),
        )
        .into())
    }
}
