//! How documents are answered: their media types, a strong ETag with
//! caching headers, answers no cache may keep, 201 Created with
//! `Location`, a credential as a compact token, and 406 when a rendering
//! is not served here.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use openbadges_domain::documents::Version;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Media type of OB 2.0 documents and OB 3.0 profiles and achievements.
pub(crate) const JSON_LD: &str = "application/ld+json";
/// Media type of OB 3.0 credentials, as the OB 3.0 specification names it.
pub(crate) const VC_JSON_LD: &str = "application/vc+ld+json";
/// Media type of an OB 3.0 credential as a VC-JWT.
pub(crate) const VC_JWT: &str = "application/vc+jwt";
/// Media type of a compact JWS (RFC 7515 section 9.2.1): an OB 2.0 signed
/// assertion.
pub(crate) const JOSE: &str = "application/jose";

/// How long clients and caches may reuse a public document.
#[derive(Clone, Copy, Debug)]
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

impl Freshness {
    /// The `Cache-Control` of an answer this fresh, documents or not (a
    /// key document's 410, a credential's token), so that one resource's
    /// answers share one policy.
    pub(crate) fn cache_control(self) -> &'static str {
        match self {
            Freshness::Minutes => "public, max-age=300",
            Freshness::Revalidate => "public, no-cache",
            Freshness::StatusList => "public, max-age=60",
        }
    }
}

/// A public document rendered: its text, media type, strong ETag and how
/// long it stays fresh. Kept as is by the document cache.
#[derive(Debug)]
pub(crate) struct PublicDocument {
    body: web::Bytes,
    etag: String,
    media_type: &'static str,
    freshness: Freshness,
}

impl PublicDocument {
    pub(crate) fn new(body: String, media_type: &'static str, freshness: Freshness) -> Self {
        let etag = format!(
            "\"{}\"",
            &hex::encode(Sha256::digest(body.as_bytes()))[..32]
        );
        Self {
            body: web::Bytes::from(body),
            etag,
            media_type,
            freshness,
        }
    }

    /// The document's text.
    #[cfg(test)]
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    /// About what keeping it costs in memory.
    pub(crate) fn size(&self) -> usize {
        self.body.len() + self.etag.len() + std::mem::size_of::<Self>()
    }

    /// The answer to `request`: the document with its caching headers, or
    /// 304 when `If-None-Match` names the current ETag.
    pub(crate) fn respond(&self, request: &HttpRequest) -> HttpResponse {
        let matches = request
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                // If-None-Match compares weakly (RFC 9110 13.1.2): a proxy that
                // compresses the body turns our strong tag into W/"...".
                v.split(',')
                    .map(str::trim)
                    .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == self.etag)
            });
        let mut response = if matches {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        response
            .insert_header((header::ETAG, self.etag.clone()))
            .insert_header((header::CACHE_CONTROL, self.freshness.cache_control()))
            .insert_header((header::VARY, "Accept"));
        if matches {
            response.finish()
        } else {
            response
                .content_type(self.media_type)
                .body(self.body.clone())
        }
    }
}

/// A public document with its media type, a strong ETag and caching
/// headers; `If-None-Match` with the current ETag answers 304.
pub(crate) fn document(
    request: &HttpRequest,
    body: String,
    media_type: &'static str,
    freshness: Freshness,
) -> HttpResponse {
    PublicDocument::new(body, media_type, freshness).respond(request)
}

/// A credential as a compact token (a VC-JWT or an OB 2.0 signed
/// assertion) of media type `media_type`. It stands for the credential, so
/// it is revalidated on every use like the credential's JSON: a credential
/// can be revoked at any time.
pub(crate) fn token(media_type: &str, token: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, Freshness::Revalidate.cache_control()))
        .insert_header((header::VARY, "Accept"))
        .content_type(media_type)
        .body(token)
}

/// 406: no rendering of the kind asked for here; `message` says where one
/// is served. Not an error of the request's data, so not an `ApiError`.
pub(crate) fn not_acceptable(message: &str) -> HttpResponse {
    HttpResponse::NotAcceptable().json(json!({
        "error": "Not Acceptable",
        "message": message,
    }))
}

/// An answer no cache may keep: it carries a secret (a login token, a new
/// API key) or what is true at this moment only (a page of a list, a
/// verification report).
pub(crate) fn no_store(status: StatusCode) -> HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response
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

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;

    use super::*;
    use crate::error::tests::body;

    #[test]
    fn a_token_is_revalidated_like_its_credential() {
        let response = token(JOSE, "a.b.c".to_owned());
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(
            headers.get(header::CACHE_CONTROL).unwrap(),
            "public, no-cache"
        );
        assert_eq!(headers.get(header::VARY).unwrap(), "Accept");
        assert_eq!(headers.get(header::CONTENT_TYPE).unwrap(), JOSE);
    }

    #[test]
    fn not_acceptable_says_where_the_rendering_is() {
        let response = not_acceptable("served under /v2");
        assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
        assert_eq!(
            body(response),
            json!({"error": "Not Acceptable", "message": "served under /v2"})
        );
    }
}
