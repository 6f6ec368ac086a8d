//! A learner's authorizations: the clients they allowed, with the scopes,
//! when and when last used, and taking one back (every token of it stops
//! working at once). Authenticated as the learner (`Authorization: Bearer`
//! with the login token of `POST /auth/login`).

use actix_web::{web, HttpResponse};
use openbadges_domain::{DomainError, GrantId, Timestamp, UserId};
use serde_json::json;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

fn user_of(Auth(actor): &Auth) -> Result<UserId, ApiError> {
    actor.user_id.ok_or_else(|| {
        ApiError(DomainError::Forbidden(
            "authorizations belong to a user account; this credential has none".to_owned(),
        ))
    })
}

/// `GET /learner/authorizations`.
#[utoipa::path(
    get,
    path = "/learner/authorizations",
    tag = "oauth",
    operation_id = "listAuthorizations",
    summary = "The applications the caller authorized (OAuth grants that are not revoked)",
    description = "The caller's own: id, client (clientId, name, uri), scope, createdAt, lastUsedAt (recorded \
        at most once a minute), oldest first.",
    responses(
        (status = 200, description = "`{\"authorizations\": [...]}`.", body = Object),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The credentials belong to no user account.", body = crate::api::schema::Forbidden),
        (status = 503, response = crate::api::responses::Unavailable),
    )
)]
pub async fn list(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let user = user_of(&auth)?;
    let grants = state.store.oauth().grants_of(user).await?;
    let listed: Vec<_> = grants
        .iter()
        .map(|summary| {
            json!({
                "id": summary.grant.id,
                "client": {
                    "clientId": summary.grant.client_id,
                    "name": summary.client_name,
                    "uri": summary.client_uri,
                },
                "scope": summary.grant.scopes.to_string(),
                "createdAt": summary.grant.created_at.to_rfc3339(),
                "lastUsedAt": summary.grant.last_used_at.map(|t| t.to_rfc3339()),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "authorizations": listed })))
}

/// `DELETE /learner/authorizations/{id}`.
#[utoipa::path(
    delete,
    path = "/learner/authorizations/{id}",
    tag = "oauth",
    operation_id = "revokeAuthorization",
    summary = "Revoke an authorization: every access and refresh token of it stops working",
    params(("id" = String, Path, description = "The authorization's id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The credentials belong to no user account.", body = crate::api::schema::Forbidden),
        (status = 404, description = "The caller has no such authorization.", body = crate::api::schema::ErrorMessage),
        (status = 503, response = crate::api::responses::Unavailable),
    )
)]
pub async fn revoke(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = user_of(&auth)?;
    let id: GrantId = id.parse().map_err(|_| {
        ApiError(DomainError::NotFound {
            entity: "authorization",
            id: id.to_string(),
        })
    })?;
    state
        .store
        .oauth()
        .revoke_grant(user, id, Timestamp::now())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
