//! The one JSON error shape every handler answers with ([`ApiError`]), and
//! the 429 of the rate limits ([`too_many_requests`]).

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use openbadges_domain::{DomainError, FieldError};
use serde_json::json;

/// A domain error on its way to the client, rendered in the JSON shapes the
/// clients of the previous server parse:
///
/// - `NotFound` → 404 `{"error":"Not Found","message":...}`
/// - `Validation` → 400 `{"success":false,"error":"Validation error","details":{"<field>":["msg"]}}`
/// - `Conflict` → 409, `MissingReference` → 422, `Unavailable` → 503, each
///   `{"error":<reason>,"message":...}`
/// - `Internal` → 500 `{"error":"Internal Server Error"}`: the detail is
///   logged, never sent, as it may describe the inside of the server.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub DomainError);

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            DomainError::NotFound { .. } => StatusCode::NOT_FOUND,
            DomainError::Validation(_) => StatusCode::BAD_REQUEST,
            DomainError::Conflict(_)
            | DomainError::HasDependants { .. }
            | DomainError::Duplicate { .. }
            | DomainError::Stale { .. }
            | DomainError::ConcurrentChange => StatusCode::CONFLICT,
            DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
            DomainError::MissingReference { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            DomainError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            DomainError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let reason = status.canonical_reason().unwrap_or("Error");
        let body = match &self.0 {
            DomainError::Validation(fields) => json!({
                "success": false,
                "error": "Validation error",
                "details": details(fields),
            }),
            DomainError::Internal(detail) => {
                log::error!("internal error: {detail}");
                json!({ "error": reason })
            }
            DomainError::Unavailable(detail) => {
                log::warn!("storage unavailable: {detail}");
                json!({ "error": reason, "message": "the database is unavailable; retry later" })
            }
            // The sentences clients read, one per condition, whichever
            // store reported it.
            DomainError::HasDependants {
                entity,
                id,
                dependants,
                count,
            } => json!({
                "error": reason,
                "message": format!(
                    "{entity} {id} still has {dependants} ({count}); revoke or delete them \
                     first, or delete with cascade"
                ),
            }),
            DomainError::Duplicate { entity, field } => json!({
                "error": reason,
                "message": format!("{entity} with this {field} already exists"),
            }),
            DomainError::Stale {
                entity,
                id,
                expected,
                actual,
            } => json!({
                "error": reason,
                "message": format!(
                    "{entity} {id} is {actual} now, no longer {expected}; read it again"
                ),
            }),
            DomainError::ConcurrentChange => json!({
                "error": reason,
                "message": "a related record was changed at the same time; retry",
            }),
            other => json!({ "error": reason, "message": other.to_string() }),
        };
        HttpResponse::build(status).json(body)
    }
}

/// Messages grouped by field, every bad field named.
fn details(fields: &[FieldError]) -> BTreeMap<&str, Vec<&str>> {
    let mut details: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for field in fields {
        details
            .entry(field.field.as_str())
            .or_default()
            .push(field.message.as_str());
    }
    details
}

/// A 429 in the usual JSON shape, with `Retry-After` in whole seconds (at
/// least one).
pub fn too_many_requests(wait: Duration, message: impl FnOnce(u64) -> String) -> HttpResponse {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    HttpResponse::TooManyRequests()
        .insert_header((header::RETRY_AFTER, seconds.to_string()))
        .json(json!({ "error": "Too Many Requests", "message": message(seconds) }))
}

#[cfg(test)]
pub(crate) mod tests {
    use actix_web::body::MessageBody;
    use serde_json::Value;

    use super::*;

    /// The JSON body of a complete response.
    pub(crate) fn body(response: HttpResponse) -> Value {
        let bytes = response
            .into_body()
            .try_into_bytes()
            .unwrap_or_else(|_| panic!("a JSON response has a complete body"));
        serde_json::from_slice(&bytes).expect("the body is JSON")
    }

    fn render(error: DomainError) -> (StatusCode, Value) {
        let response = ApiError(error).error_response();
        (response.status(), body(response))
    }

    #[test]
    fn not_found_is_404_with_message() {
        let (status, body) = render(DomainError::NotFound {
            entity: "issuer",
            id: "42".into(),
        });
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({"error": "Not Found", "message": "issuer 42 not found"})
        );
    }

    #[test]
    fn validation_is_400_with_every_field() {
        let (status, body) = render(DomainError::Validation(vec![
            FieldError::new("name", "must not be empty"),
            FieldError::new("url", "must be an http(s) URL"),
            FieldError::new("name", "too short"),
        ]));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({
                "success": false,
                "error": "Validation error",
                "details": {
                    "name": ["must not be empty", "too short"],
                    "url": ["must be an http(s) URL"],
                },
            })
        );
    }

    #[test]
    fn conflict_missing_reference_and_unavailable_have_their_codes() {
        let (status, body) = render(DomainError::Conflict("issuer has awards".into()));
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"], "Conflict");
        assert_eq!(body["message"], "conflict: issuer has awards");

        let (status, body) = render(DomainError::MissingReference {
            entity: "issuer",
            id: "7".into(),
        });
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["message"], "issuer 7 does not exist");

        let (status, body) = render(DomainError::Unavailable("pool timed out".into()));
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!body.to_string().contains("pool timed out"));
    }

    #[test]
    fn internal_is_500_without_details() {
        let (status, body) = render(DomainError::Internal("relation x missing".into()));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, json!({"error": "Internal Server Error"}));
    }
}
