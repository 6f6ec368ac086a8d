//! What `POST /verify` reads: a compact VC-JWT or JWS as the raw body, or
//! JSON.

use actix_web::HttpRequest;
use openbadges_domain::DomainError;
use serde_json::Value;

use crate::api::body::{JsonBody, JsonText};
use crate::api::documents::{JOSE, VC_JWT};
use crate::error::ApiError;

/// Media types whose body is a compact token, as the OB 3.0 API posts a
/// VC-JWT: `application/vc+jwt`, `application/jose` (RFC 7515) and
/// `text/plain`.
const TOKEN_TYPES: [&str; 3] = [VC_JWT, JOSE, "text/plain"];

/// What `POST /verify` was given: a compact VC-JWT or JWS as the raw body
/// (with one of [`TOKEN_TYPES`]), or JSON (any other `Content-Type`, or
/// none, as before).
pub(super) enum VerifyBody {
    /// A compact token, surrounding whitespace removed.
    Token(String),
    /// A credential, `{"credential": ...}`, or a token as a JSON string.
    Json(Value),
    /// A baked badge image (PNG or SVG), as the raw body or the `file` of
    /// a multipart body, within `ASSETS_MAX_FILE_SIZE`.
    Image(Vec<u8>),
}

/// Media types whose raw body is a baked badge image.
const IMAGE_TYPES: [&str; 2] = ["image/png", "image/svg+xml"];

impl actix_web::FromRequest for VerifyBody {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_web::HttpMessage as _;
        let content_type = request.content_type().to_ascii_lowercase();
        let limit = crate::api::assets::max_file_size(request);
        if IMAGE_TYPES.contains(&content_type.as_str()) {
            let payload = payload.take();
            return Box::pin(async move {
                let bytes = crate::api::assets::read_raw(payload, limit).await?;
                Ok(Self::Image(bytes))
            });
        }
        if content_type == "multipart/form-data" {
            let payload = payload.take();
            let request = request.clone();
            return Box::pin(async move {
                let bytes = crate::api::assets::read_upload(&request, payload, limit).await?;
                Ok(Self::Image(bytes))
            });
        }
        let raw = TOKEN_TYPES
            .iter()
            .any(|t| request.content_type().eq_ignore_ascii_case(t));
        if !raw {
            let json = JsonBody::from_request(request, payload);
            return Box::pin(async move { Ok(Self::Json(json.await?.0)) });
        }
        let text = JsonText::from_request(request, payload);
        Box::pin(async move {
            let JsonText { text, max_depth } = text.await?;
            let token = std::str::from_utf8(&text).map(str::trim).unwrap_or("");
            if is_compact(token) {
                return Ok(Self::Token(token.to_owned()));
            }
            // A JSON body sent as text/plain was read as JSON before raw
            // tokens were accepted, and still is.
            let value: Value = serde_json::from_slice(&text).map_err(|_| {
                ApiError(DomainError::invalid(
                    "body",
                    "is neither a compact JWS (header.payload.signature in base64url) nor JSON",
                ))
            })?;
            if crate::requests::json_depth(&value) > max_depth {
                return Err(ApiError(crate::requests::too_deep(max_depth)).into());
            }
            Ok(Self::Json(value))
        })
    }
}

/// Whether `text` has the form of a compact JWS: three base64url parts
/// joined by dots (nothing is decoded or verified here).
fn is_compact(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}
