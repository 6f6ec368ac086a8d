//! The Open Badges 3.0 Service API under `/ims/ob/v3p0`: the discovery
//! document ([`discovery`]) and the learner's backpack and profile, read and
//! written by clients the learner authorized with OAuth 2.0
//! (`crate::oauth`). Every error under the prefix, an unknown path or
//! method too, is an `Imsx_StatusInfo` ([`imsx`]).

pub mod credentials;
pub mod discovery;
pub mod imsx;
pub mod profile;
pub mod query;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::state::AppState;
use discovery::API_PATH;
use imsx::ImsxError;

/// Registers the Service API and the stock terms and privacy pages the
/// discovery document links by default.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/terms", web::get().to(terms))
        .route("/privacy", web::get().to(privacy))
        .service(
            web::scope(API_PATH)
                .wrap(from_fn(imsx_errors))
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

/// Errors raised outside the Service API's handlers, by the extractors
/// (a body larger than `MAX_BODY_BYTES`, one that cannot be read), become
/// `Imsx_StatusInfo` with their status too. (The rate limit and the time
/// limit answer before the request gets here: their 429 and 503 keep the
/// server's usual shape.)
async fn imsx_errors(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(request).await?;
    let foreign = response
        .response()
        .error()
        .filter(|error| error.as_error::<ImsxError>().is_none())
        .map(|error| error.to_string());
    let Some(description) = foreign else {
        return Ok(response.map_into_boxed_body());
    };
    let status = response.status();
    let (request, _) = response.into_parts();
    let answer = ImsxError::with_status(status, description).error_response();
    Ok(ServiceResponse::new(request, answer))
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
        self.error_response()
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
