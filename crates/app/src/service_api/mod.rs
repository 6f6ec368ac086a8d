//! The Open Badges 3.0 Service API under `/ims/ob/v3p0`: the discovery
//! document ([`discovery`]) and the learner's backpack and profile, read and
//! written by clients the learner authorized with OAuth 2.0
//! (`crate::oauth`). Every error under the prefix, an unknown path or
//! method too, is an `Imsx_StatusInfo` ([`imsx`]).

pub mod credentials;
pub mod discovery;
pub mod imsx;
pub mod profile;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::state::AppState;
use discovery::API_PATH;
use imsx::ImsxError;

/// The largest page getCredentials answers.
pub const MAX_LIMIT: u32 = 100;
/// The page getCredentials answers without `limit`.
pub const DEFAULT_LIMIT: u32 = 50;

/// The query parameters of a Service API request; one given twice is a
/// 400 naming it.
pub struct Query(crate::oauth::Form);

impl Query {
    /// Parses a query string.
    pub fn parse(query: &str) -> Result<Self, ImsxError> {
        crate::oauth::Form::parse(query.as_bytes())
            .map(Self)
            .map_err(ImsxError::invalid_query)
    }

    /// The value of `name`, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }
}

/// Registers the Service API and the stock terms and privacy pages the
/// discovery document links by default.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/terms", web::get().to(terms))
        .route("/privacy", web::get().to(privacy))
        .service(
            web::scope(API_PATH)
                .service(
                    web::resource("/discovery")
                        .route(web::get().to(discovery::discovery))
                        .default_service(web::to(method_not_allowed)),
                )
                .service(
                    web::resource("/credentials")
                        .route(web::get().to(credentials::get_credentials))
                        .route(web::post().to(credentials::upsert_credential))
                        .default_service(web::to(method_not_allowed)),
                )
                .service(
                    web::resource("/profile")
                        .route(web::get().to(profile::get_profile))
                        .route(web::put().to(profile::put_profile))
                        .default_service(web::to(method_not_allowed)),
                )
                .default_service(web::to(not_found)),
        );
}

async fn not_found(request: HttpRequest) -> ImsxError {
    ImsxError::not_found(format!(
        "no operation of the Service API at {} {}",
        request.method(),
        request.path()
    ))
}

async fn method_not_allowed(request: HttpRequest) -> ImsxError {
    ImsxError::method_not_allowed(format!(
        "{} is not allowed on {}",
        request.method(),
        request.path()
    ))
}

impl actix_web::Responder for ImsxError {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

/// `GET /terms`: the stock terms of service of the Service API, linked
/// by the discovery document unless `SERVICE_TERMS_URL` names others.
async fn terms(state: web::Data<AppState>) -> Result<HttpResponse, crate::error::ApiError> {
    let name = state.settings.service.name.clone();
    crate::oauth::authorize::message_page(
        &state,
        StatusCode::OK,
        "Terms of service",
        vec![
            format!(
                "{name} keeps Open Badges for the people who earned them. An application can read \
                 or add to your badges and profile only after you allow it, only for what you \
                 allowed, and only until you revoke it."
            ),
            "You may store badges here that were awarded to you. Do not upload credentials that \
             are not yours. The operator of this server may remove content that breaks the law."
                .to_owned(),
            "The operator of this server has not published terms of their own; ask them for \
             their terms before you rely on this service."
                .to_owned(),
        ],
    )
}

/// `GET /privacy`: the stock privacy policy, linked by the discovery
/// document unless `SERVICE_PRIVACY_URL` names another.
async fn privacy(state: web::Data<AppState>) -> Result<HttpResponse, crate::error::ApiError> {
    let name = state.settings.service.name.clone();
    crate::oauth::authorize::message_page(
        &state,
        StatusCode::OK,
        "Privacy policy",
        vec![
            format!(
                "{name} stores your account, your e-mail addresses, the badges in your backpack \
                 and your profile, to show them to you and to the applications you allow."
            ),
            "For each application you allow, it stores which one, what you allowed, and when it \
             was last used. Passwords, tokens and application secrets are stored only as hashes."
                .to_owned(),
            "Nothing is shared with an application you have not allowed, and you can revoke an \
             application at any time, which ends its access at once."
                .to_owned(),
        ],
    )
}
