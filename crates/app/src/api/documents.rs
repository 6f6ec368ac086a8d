//! How documents are answered: their media types, a strong ETag with
//! caching headers, and 201 Created with `Location`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use openbadges_domain::documents::Version;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Media type of OB 2.0 documents and OB 3.0 profiles and achievements.
pub(crate) const JSON_LD: &str = "application/ld+json";
/// Media type of OB 3.0 credentials, as the OB 3.0 specification names it.
pub(crate) const VC_JSON_LD: &str = "application/vc+ld+json";

/// How long clients and caches may reuse a public document.
#[derive(Clone, Copy)]
pub(crate) enum Freshness {
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
pub(crate) fn document(
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
pub(crate) fn created(doc: &Value, media_type: &str) -> HttpResponse {
    created_at(
        doc.get("id").and_then(Value::as_str),
        doc.to_string(),
        media_type,
    )
}

/// 201 Created with `Location` at `location`, for a body already written.
pub(crate) fn created_at(location: Option<&str>, body: String, media_type: &str) -> HttpResponse {
    let mut response = HttpResponse::Created();
    if let Some(Ok(location)) = location.map(HeaderValue::from_str) {
        response.insert_header((header::LOCATION, location));
    }
    response.content_type(media_type).body(body)
}

/// The media type of a document of this kind in this version.
pub(crate) fn media_type(version: Version, credential: bool) -> &'static str {
    match (version, credential) {
        (Version::V3, true) => VC_JSON_LD,
        _ => JSON_LD,
    }
}
