//! JSON request bodies, bounded: the size by `MAX_BODY_BYTES` (the
//! `JsonConfig` in `http`), the nesting by `MAX_JSON_DEPTH` here, so that a
//! deeply nested body is refused with a 400 before anything walks it.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use openbadges_domain::DomainError;
use serde_json::Value;

use crate::http::{ApiError, AppState};

/// The nesting used when the state is missing (unit tests of handlers).
const DEFAULT_MAX_DEPTH: usize = 32;

/// A JSON body whose nesting is within `MAX_JSON_DEPTH`.
pub struct JsonBody(pub Value);

/// How deeply `value` nests arrays and objects (a scalar is 0). serde_json
/// stops parsing at 128 levels, so this recursion is bounded.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl FromRequest for JsonBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let max_depth = request
            .app_data::<web::Data<AppState>>()
            .map_or(DEFAULT_MAX_DEPTH, |state| {
                state.settings.security.max_json_depth
            });
        let json = web::Json::<Value>::from_request(request, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if depth(&value) > max_depth {
                return Err(ApiError(DomainError::invalid(
                    "body",
                    format!("nests arrays and objects deeper than {max_depth} levels"),
                ))
                .into());
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

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let settings = request.app_data::<web::Data<AppState>>().map(|state| {
            (
                state.settings.security.max_body_bytes,
                state.settings.security.max_json_depth,
            )
        });
        let (limit, max_depth) = settings.unwrap_or((256 * 1024, DEFAULT_MAX_DEPTH));
        let mut payload = payload.take();
        Box::pin(async move {
            use futures_util::StreamExt as _;
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk?;
                if bytes.len() + chunk.len() > limit {
                    return Err(ApiError(DomainError::invalid(
                        "body",
                        format!("is larger than {limit} bytes"),
                    ))
                    .into());
                }
                bytes.extend_from_slice(&chunk);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Self(None));
            }
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError(DomainError::invalid(
                    "body",
                    format!("is not valid JSON: {e}"),
                ))
            })?;
            if depth(&value) > max_depth {
                return Err(ApiError(DomainError::invalid(
                    "body",
                    format!("nests arrays and objects deeper than {max_depth} levels"),
                ))
                .into());
            }
            Ok(Self(Some(value)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_counts_containers() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({"a": [1, {"b": []}]})), 4);
    }
}
