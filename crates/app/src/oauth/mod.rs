//! The OAuth 2.0 authorization server of the Open Badges 3.0 Service API
//! (`docs/service-api.md`):
//!
//! - `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata
//!   ([`metadata`]);
//! - `POST /oauth/register`: RFC 7591 dynamic registration, no initial
//!   access token ([`registration`]);
//! - `GET` and `POST /oauth/authorize`: the login and consent page of the
//!   authorization code grant, PKCE `S256` required ([`authorize`]);
//! - `POST /oauth/token` and `POST /oauth/revoke`: codes and refresh tokens
//!   exchanged for tokens, tokens revoked (RFC 6749, RFC 7009), clients
//!   authenticated with `client_secret_basic` ([`token`]);
//! - `GET /learner/authorizations`, `DELETE /learner/authorizations/{id}`:
//!   what a learner authorized, and taking it back ([`grants`]).
//!
//! [`access::ServiceAccess`] authenticates the Service API's requests by
//! their access token. The rules that need storage (single use of codes,
//! refresh rotation) live in `openbadges_domain::oauth` and its port.

pub mod access;
pub mod authorize;
pub mod common;
pub mod grants;
pub mod metadata;
pub mod pending;
pub mod registration;
pub mod token;

use actix_web::web;

pub use common::{AUTHORIZE_PATH, METADATA_PATH, REGISTER_PATH, REVOKE_PATH, TOKEN_PATH};

/// Registers the authorization server's routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route(METADATA_PATH, web::get().to(metadata::metadata))
        .route(REGISTER_PATH, web::post().to(registration::register))
        .route(AUTHORIZE_PATH, web::get().to(authorize::page))
        .route(AUTHORIZE_PATH, web::post().to(authorize::decide))
        .route(TOKEN_PATH, web::post().to(token::token))
        .route(REVOKE_PATH, web::post().to(token::revoke))
        .route("/learner/authorizations", web::get().to(grants::list))
        .route(
            "/learner/authorizations/{id}",
            web::delete().to(grants::revoke),
        );
}
