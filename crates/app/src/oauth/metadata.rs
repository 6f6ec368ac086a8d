//! `GET /.well-known/oauth-authorization-server`: the RFC 8414 metadata of
//! the authorization server, so that a standard OAuth library configures
//! itself from the issuer URL alone.

use actix_web::{web, HttpResponse};
use openbadges_domain::oauth::ScopeSet;
use serde_json::{json, Value};

use super::{AUTHORIZE_PATH, REGISTER_PATH, REVOKE_PATH, TOKEN_PATH};
use crate::state::AppState;

/// The metadata document of the server at `base` (`BASE_URL`).
pub fn document(base: &str, service: &crate::config::ServiceSettings) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{base}{TOKEN_PATH}"),
        "registration_endpoint": format!("{base}{REGISTER_PATH}"),
        "revocation_endpoint": format!("{base}{REVOKE_PATH}"),
        "scopes_supported": ScopeSet::all().iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "service_documentation": format!("{base}/ims/ob/v3p0/discovery"),
        "op_policy_uri": service.privacy_url,
        "op_tos_uri": service.terms_url,
    })
}

/// `GET /.well-known/oauth-authorization-server`.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "oauth",
    operation_id = "oauthMetadata",
    summary = "OAuth 2.0 authorization server metadata (RFC 8414)",
    description = "Public. Names the registration, authorization, token and revocation endpoints, the scopes, \
        `S256` as the only PKCE method and `client_secret_basic` as the only client authentication.",
    responses((status = 200, description = "The metadata.", body = Object))
)]
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(document(
            &state.settings.http.base_url,
            &state.settings.service,
        ))
}
