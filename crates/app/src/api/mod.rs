//! The Open Badges resources over HTTP: issuers, achievements (badge
//! classes) and credentials (assertions), under `/v2`, `/v3` and the bare
//! path (= v3). The version only chooses how documents are rendered.
//!
//! The previous server's status lists and public keys are served under
//! every prefix too, and every `{id}` in a path may be given in any form
//! the API returns ids in ([`ids`]).
//!
//! Handlers are thin: read the request, call a use case of
//! `openbadges_domain::service`, render a document.

pub mod accounts;
pub mod achievements;
pub mod assets;
pub mod backpack;
mod body;
pub mod credentials;
pub(crate) mod documents;
pub mod endorsements;
pub mod ids;
pub mod issuers;
pub mod learners;
mod listing;
mod merge;
pub mod openapi;
mod params;
pub mod public_keys;
pub mod responses;
pub mod schema;
pub mod signed;
pub mod status_lists;
pub mod verification;
mod version;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderName;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::web;
use openbadges_domain::documents::Version;

/// When the deprecated alias paths (`/badge-classes`, `/assertions`) go away.
const ALIAS_SUNSET: &str = "Fri, 31 Dec 2027 23:59:59 GMT";

/// Registers every resource under `/v2`, `/v3` and the bare path.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::scope("/v2")
                .app_data(web::Data::new(Version::V2))
                .configure(status_lists::routes)
                .configure(public_keys::routes)
                .configure(resources),
        )
        .service(
            web::scope("/v3")
                .app_data(web::Data::new(Version::V3))
                .configure(status_lists::routes)
                .configure(public_keys::routes)
                .configure(resources),
        )
        .app_data(web::Data::new(Version::V3))
        .configure(accounts::routes)
        .configure(verification::routes)
        .configure(status_lists::routes)
        .configure(public_keys::routes)
        .configure(signed::routes)
        .configure(endorsements::public_routes)
        .configure(assets::routes)
        .configure(learners::routes)
        .configure(backpack::routes)
        .route("/version", web::get().to(version::version))
        .configure(resources);
}

/// Marks a response of an alias path as deprecated. `Link` is appended, not
/// set: list answers carry their page links in it already.
fn mark_deprecated<B>(response: &mut ServiceResponse<B>, successor_link: &'static str) {
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("deprecation"),
        HeaderValue::from_static("true"),
    );
    headers.insert(
        HeaderName::from_static("sunset"),
        HeaderValue::from_static(ALIAS_SUNSET),
    );
    headers.append(header::LINK, HeaderValue::from_static(successor_link));
}

async fn badge_classes_alias(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    mark_deprecated(&mut response, "</achievements>; rel=\"successor-version\"");
    Ok(response)
}

async fn assertions_alias(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    mark_deprecated(&mut response, "</credentials>; rel=\"successor-version\"");
    Ok(response)
}

fn resources(config: &mut web::ServiceConfig) {
    config
        // Before the scopes below, which would take these paths.
        .configure(endorsements::routes)
        .service(endorsements::badge_classes_alias().wrap(from_fn(badge_classes_alias)))
        .service(endorsements::assertions_alias().wrap(from_fn(assertions_alias)))
        .service(web::scope("/issuers").configure(issuers::routes))
        .service(web::scope("/achievements").configure(achievements::routes))
        .service(
            web::scope("/badge-classes")
                .wrap(from_fn(badge_classes_alias))
                .configure(achievements::routes),
        )
        .service(
            web::scope("/credentials")
                .configure(credentials::routes)
                .configure(assets::baked::routes),
        )
        .service(
            web::scope("/assertions")
                .wrap(from_fn(assertions_alias))
                .configure(credentials::routes)
                .configure(assets::baked::routes),
        );
}
