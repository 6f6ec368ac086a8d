//! `Imsx_StatusInfo`: the error body of every answer under `/ims/ob/v3p0`
//! (the 1EdTech `imsx_statusinfo` schema): `imsx_codeMajor` `failure`,
//! `imsx_severity` `error`, a description, and the `imsx_codeMinor` value
//! of the schema's vocabulary that fits the status.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use openbadges_domain::DomainError;
use serde_json::{json, Value};

/// An error of the Service API, rendered as `Imsx_StatusInfo`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{description}")]
pub struct ImsxError {
    status: StatusCode,
    code_minor: &'static str,
    description: String,
}

impl ImsxError {
    fn new(status: StatusCode, code_minor: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code_minor,
            description: description.into(),
        }
    }

    /// 401 `unauthorizedrequest`: no access token, or one that is unknown,
    /// expired or revoked.
    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorizedrequest", description)
    }

    /// 403 `forbidden`: the token lacks the operation's scope.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", description)
    }

    /// 400 `invalid_data`: the body is not acceptable.
    pub fn invalid_data(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_data", description)
    }

    /// 400 `invalid_query_parameter`, naming it.
    pub fn invalid_query(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_query_parameter",
            description,
        )
    }

    /// 404 `not_found`.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", description)
    }

    /// 405 `not_allowed`.
    pub fn method_not_allowed(description: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "not_allowed", description)
    }

    /// 415 `invalid_data`: a media type the operation does not take.
    pub fn unsupported_media_type(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_data",
            description,
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `Imsx_StatusInfo` body.
    pub fn body(&self) -> Value {
        json!({
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": self.description,
            "imsx_codeMinor": {
                "imsx_codeMinorField": [{
                    "imsx_codeMinorFieldName": "TargetEndSystem",
                    "imsx_codeMinorFieldValue": self.code_minor,
                }]
            }
        })
    }
}

impl From<DomainError> for ImsxError {
    fn from(error: DomainError) -> Self {
        let api = crate::error::ApiError(error.clone());
        let status = api.status_code();
        let code_minor = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::UNAUTHORIZED => "unauthorizedrequest",
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => "server_busy",
            status if status.is_client_error() => "invalid_data",
            _ => "internal_server_error",
        };
        let description = if status.is_server_error() {
            log::error!("Service API request failed: {error}");
            "the server could not complete the request".to_owned()
        } else {
            error.to_string()
        };
        Self::new(status, code_minor, description)
    }
}

impl From<crate::error::ApiError> for ImsxError {
    fn from(error: crate::error::ApiError) -> Self {
        error.0.into()
    }
}

impl ResponseError for ImsxError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 section 3.
            response.insert_header((
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"ob\", error=\"invalid_token\"",
            ));
        }
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(self.body())
    }
}
