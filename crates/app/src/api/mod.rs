//! The Open Badges resources over HTTP: issuers, achievements (badge
//! classes) and credentials (assertions), under `/v2`, `/v3` and the bare
//! path (= v3). The version only chooses how documents are rendered.
//!
//! Handlers are thin: read the request, call a use case of
//! `openbadges_domain::service`, render a document.

pub mod accounts;
pub mod achievements;
mod body;
pub mod credentials;
pub mod issuers;
mod listing;
pub mod openapi;
pub mod responses;
pub mod schema;
mod signed;
mod status_lists;
mod verification;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderName;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::documents::Version;
use openbadges_domain::DomainError;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub use listing::ListQuery;

/// When the deprecated alias paths (`/badge-classes`, `/assertions`) go away.
const ALIAS_SUNSET: &str = "Fri, 31 Dec 2027 23:59:59 GMT";

/// Media type of OB 2.0 documents and OB 3.0 profiles and achievements.
const JSON_LD: &str = "application/ld+json";
/// Media type of OB 3.0 credentials, as the OB 3.0 specification names it.
const VC_JSON_LD: &str = "application/vc+ld+json";

/// Registers every resource under `/v2`, `/v3` and the bare path.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::scope("/v2")
                .app_data(web::Data::new(Version::V2))
                .configure(resources),
        )
        .service(
            web::scope("/v3")
                .app_data(web::Data::new(Version::V3))
                .configure(resources),
        )
        .app_data(web::Data::new(Version::V3))
        .configure(accounts::routes)
        .configure(verification::routes)
        .configure(status_lists::routes)
        .configure(signed::routes)
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
        .service(web::scope("/issuers").configure(issuers::routes))
        .service(web::scope("/achievements").configure(achievements::routes))
        .service(
            web::scope("/badge-classes")
                .wrap(from_fn(badge_classes_alias))
                .configure(achievements::routes),
        )
        .service(web::scope("/credentials").configure(credentials::routes))
        .service(
            web::scope("/assertions")
                .wrap(from_fn(assertions_alias))
                .configure(credentials::routes),
        );
}

/// A path id that is not a UUID names nothing: 404, like an unknown UUID.
fn path_id<T: std::str::FromStr>(raw: &str, entity: &'static str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError(DomainError::NotFound {
            entity,
            id: raw.to_owned(),
        })
    })
}

/// `?cascade=true|false` of a delete (absent: refuse while awarded).
fn delete_mode(request: &HttpRequest) -> Result<openbadges_domain::ports::DeleteMode, ApiError> {
    use openbadges_domain::ports::DeleteMode;
    match listing::ListQuery::of(request).get(&["cascade"]) {
        None | Some("false") => Ok(DeleteMode::Restrict),
        Some("true") => Ok(DeleteMode::Cascade),
        Some(_) => Err(DomainError::invalid("cascade", "must be true or false").into()),
    }
}

/// How long clients and caches may reuse a public document.
#[derive(Clone, Copy)]
enum Freshness {
    /// Issuers and achievements change rarely.
    Minutes,
    /// Credentials can be revoked at any time: revalidate on every use
    /// (cheap, thanks to the ETag).
    Revalidate,
    /// Status lists are fetched by every verifier of every credential:
    /// caches may keep them a minute, the bound on how late a revocation
    /// reaches a verifier behind a cache.
    StatusList,
}

/// A public document with its media type, a strong ETag and caching
/// headers; `If-None-Match` with the current ETag answers 304.
fn document(
    request: &HttpRequest,
    body: String,
    media_type: &str,
    freshness: Freshness,
) -> HttpResponse {
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..32]
    );
    let cache_control = match freshness {
        Freshness::Minutes => "public, max-age=300",
        Freshness::Revalidate => "public, no-cache",
        Freshness::StatusList => "public, max-age=60",
    };
    let matches = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // If-None-Match compares weakly (RFC 9110 13.1.2): a proxy that
            // compresses the body turns our strong tag into W/"...".
            v.split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
        });
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, "Accept"));
    if matches {
        response.finish()
    } else {
        response.content_type(media_type).body(body)
    }
}

/// 201 Created with `Location` at the new document's URL.
fn created(doc: &Value, media_type: &str) -> HttpResponse {
    created_at(
        doc.get("id").and_then(Value::as_str),
        doc.to_string(),
        media_type,
    )
}

/// 201 Created with `Location` at `location`, for a body already written.
fn created_at(location: Option<&str>, body: String, media_type: &str) -> HttpResponse {
    let mut response = HttpResponse::Created();
    if let Some(Ok(location)) = location.map(HeaderValue::from_str) {
        response.insert_header((header::LOCATION, location));
    }
    response.content_type(media_type).body(body)
}

/// The media type of a document of this kind in this version.
fn media_type(version: Version, credential: bool) -> &'static str {
    match (version, credential) {
        (Version::V3, true) => VC_JSON_LD,
        _ => JSON_LD,
    }
}
