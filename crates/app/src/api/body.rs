//! JSON request bodies, bounded: the size by `MAX_BODY_BYTES` (the
//! `JsonConfig` in `server`), the nesting by `MAX_JSON_DEPTH` here, so that a
//! deeply nested body is refused with a 400 before anything walks it.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde_json::Value;

use crate::error::ApiError;
use crate::requests::{self, json_depth};
use crate::state::AppState;

/// The nesting used when the state is missing (unit tests of handlers).
const DEFAULT_MAX_DEPTH: usize = 32;

/// The size used when the state is missing.
const DEFAULT_MAX_BYTES: usize = 256 * 1024;

/// `MAX_BODY_BYTES` and `MAX_JSON_DEPTH` as configured.
fn limits(request: &HttpRequest) -> (usize, usize) {
    request.app_data::<web::Data<AppState>>().map_or(
        (DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH),
        |state| {
            (
                state.settings.security.max_body_bytes,
                state.settings.security.max_json_depth,
            )
        },
    )
}

fn too_deep(max_depth: usize) -> actix_web::Error {
    ApiError(requests::too_deep(max_depth)).into()
}

/// A JSON body whose nesting is within `MAX_JSON_DEPTH`.
pub struct JsonBody(pub Value);

impl FromRequest for JsonBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (_, max_depth) = limits(request);
        let json = web::Json::<Value>::from_request(request, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if json_depth(&value) > max_depth {
                return Err(too_deep(max_depth));
            }
            Ok(Self(value))
        })
    }
}

/// An optional JSON body (empty or blank means `None`), bounded like
/// [`JsonBody`]: used where the previous server allowed posting nothing.
pub struct OptionalJsonBody(pub Option<Value>);

impl FromRequest for OptionalJsonBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = JsonText::from_request(request, payload);
        Box::pin(async move {
            let JsonText { text, max_depth } = body.await?;
            if text.iter().all(u8::is_ascii_whitespace) {
                return Ok(Self(None));
            }
            let value: Value =
                serde_json::from_slice(&text).map_err(|e| ApiError(requests::not_json(e)))?;
            if json_depth(&value) > max_depth {
                return Err(too_deep(max_depth));
            }
            Ok(Self(Some(value)))
        })
    }
}

/// A JSON body's text within `MAX_BODY_BYTES`, not yet parsed, with the
/// nesting allowed: for a body read an item at a time (a batch).
pub struct JsonText {
    /// The body as sent.
    pub text: web::Bytes,
    /// `MAX_JSON_DEPTH`.
    pub max_depth: usize,
}

impl JsonText {
    /// The body parsed, bounded like [`JsonBody`]: for a handler that looks
    /// something up before it reads the body (an update answers 404 for an
    /// unknown id whatever the body).
    pub fn value(&self) -> Result<Value, ApiError> {
        let value: Value =
            serde_json::from_slice(&self.text).map_err(|e| ApiError(requests::not_json(e)))?;
        if json_depth(&value) > self.max_depth {
            return Err(ApiError(requests::too_deep(self.max_depth)));
        }
        Ok(value)
    }
}

impl FromRequest for JsonText {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (limit, max_depth) = limits(request);
        let payload = payload.take();
        Box::pin(async move {
            let text = read_limited(payload, limit).await?.freeze();
            Ok(Self { text, max_depth })
        })
    }
}

/// The whole body, or a 400 naming `body` once it passes `limit` bytes.
async fn read_limited(
    mut payload: Payload,
    limit: usize,
) -> Result<web::BytesMut, actix_web::Error> {
    use futures_util::StreamExt as _;
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError(requests::too_large(limit)).into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_counts_containers() {
        assert_eq!(json_depth(&json!(1)), 0);
        assert_eq!(json_depth(&json!({"a": [1, {"b": []}]})), 4);
    }
}
