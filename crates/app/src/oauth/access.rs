//! [`ServiceAccess`]: who a Service API request acts for, from its OAuth
//! access token (`Authorization: Bearer <token>`). A missing, unknown,
//! expired or revoked token (or one of a revoked authorization) is 401
//! `Imsx_StatusInfo`; a token without the operation's scope is 403
//! ([`ServiceAccess::require`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use openbadges_domain::oauth::{Scope, ScopeSet, SecretHash, TokenKind};
use openbadges_domain::{DomainError, GrantId, OAuthClientId, Timestamp, UserId};

use crate::service_api::imsx::ImsxError;
use crate::state::AppState;

/// How often the last use of an authorization is written: a client polling
/// every second must not write every second.
const USE_RECORD_INTERVAL_SECONDS: i64 = 60;

/// The learner, client and scopes of a valid access token.
#[derive(Debug, Clone)]
pub struct ServiceAccess {
    /// The learner the token acts for.
    pub user: UserId,
    /// The client it was issued to.
    pub client: OAuthClientId,
    /// What it allows.
    pub scopes: ScopeSet,
    /// The authorization it belongs to.
    pub grant: GrantId,
}

impl ServiceAccess {
    /// 403 `forbidden` unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ImsxError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ImsxError::forbidden(format!(
                "the access token lacks the scope {scope}"
            )))
        }
    }
}

fn bearer(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

async fn authenticate(request: HttpRequest) -> Result<ServiceAccess, ImsxError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| DomainError::Internal("application state missing".to_owned()))?;
    let token = bearer(&request).ok_or_else(|| {
        ImsxError::unauthorized(
            "an OAuth 2.0 access token is required: Authorization: Bearer <token>",
        )
    })?;
    let invalid = || ImsxError::unauthorized("the access token is unknown, expired or revoked");
    let oauth = state.store.oauth();
    let (token, grant) = oauth
        .find_token(&SecretHash::of(token))
        .await?
        .filter(|(token, _)| token.kind == TokenKind::Access)
        .ok_or_else(invalid)?;
    let now = Timestamp::now();
    if !token.is_live(&grant, now) {
        return Err(invalid());
    }
    let stale = grant.last_used_at.is_none_or(|last| {
        (now.as_datetime() - last.as_datetime()).num_seconds() >= USE_RECORD_INTERVAL_SECONDS
    });
    if stale {
        let store = state.store.clone();
        let id = grant.id;
        // Bookkeeping must neither slow down nor fail the request.
        actix_web::rt::spawn(async move {
            if let Err(error) = store.oauth().record_grant_use(id, now).await {
                log::warn!("could not record the use of authorization {id}: {error}");
            }
        });
    }
    Ok(ServiceAccess {
        user: grant.user_id,
        client: grant.client_id,
        scopes: token.scopes,
        grant: grant.id,
    })
}

impl FromRequest for ServiceAccess {
    type Error = ImsxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(authenticate(request.clone()))
    }
}
