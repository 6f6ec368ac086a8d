//! The outermost middleware: a request id on every request and answer, one
//! access-log line per request, and the request metrics.
//!
//! The id is the client's `X-Request-Id` when it is sane (1 to 128 visible
//! ASCII characters), else a new UUID; it is echoed on every answer,
//! errors included, and written on the access-log line, so that a client's
//! report can be found in the logs.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};

use crate::logging::ACCESS_TARGET;
use crate::metrics::{Metrics, UNMATCHED_ROUTE};
use crate::protection::RateLimit;

/// The header carrying the request id, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-chosen request id kept.
const MAX_REQUEST_ID: usize = 128;

/// Paths polled by orchestrators and scrapers: their successful answers are
/// logged at debug level, so that the requests that matter stay visible.
const PROBES: [&str; 3] = ["/health", "/health/ready", "/metrics"];

/// The id of the request being served.
struct RequestId(HeaderValue);

impl RequestId {
    /// The client's id if it is sane, else a new UUID.
    fn of(request: &ServiceRequest) -> Self {
        let given = request
            .headers()
            .get(&REQUEST_ID)
            .filter(|value| is_sane(value.as_bytes()));
        Self(given.cloned().unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("unknown"))
        }))
    }

    /// The id as text (it is visible ASCII by construction).
    fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

/// 1 to 128 visible ASCII characters: safe to echo and to log as is.
fn is_sane(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len()) && id.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// Gives the request its id, serves it, then echoes the id, logs the
/// access line and counts the request.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = RequestId::of(&request);
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let in_flight = metrics.as_ref().map(|metrics| metrics.start());
    let method = request.method().clone();
    let path = request.path().to_owned();
    // Read before the request goes in: an error coming back (a request over
    // the time limit) no longer has it.
    let route = request.match_pattern();
    let client = request
        .app_data::<web::Data<RateLimit>>()
        .and_then(|limit| limit.client_address(&request))
        .map_or_else(|| "-".to_owned(), |address| address.to_string());

    let (status, outcome) = match next.call(request).await {
        Ok(mut response) => {
            response.headers_mut().insert(REQUEST_ID, id.0.clone());
            (response.status(), Ok(response))
        }
        // An error is turned into its answer later, out of reach here: it is
        // wrapped so that the answer still carries the id.
        Err(error) => {
            let status = error.as_response_error().status_code();
            let tagged = WithRequestId {
                error,
                id: id.0.clone(),
            };
            (status, Err(tagged.into()))
        }
    };
    let took = started.elapsed();
    drop(in_flight);
    if let Some(metrics) = &metrics {
        metrics.observe(&method, route.as_deref(), status, took);
    }
    access_log(&Access {
        id: &id,
        method: &method,
        path: &path,
        route: route.as_deref(),
        status,
        took_ms: took.as_secs_f64() * 1000.0,
        client: &client,
    });
    outcome
}

/// What the access log says of one request.
struct Access<'a> {
    id: &'a RequestId,
    method: &'a Method,
    /// Without the query string, which may carry a token.
    path: &'a str,
    route: Option<&'a str>,
    status: StatusCode,
    took_ms: f64,
    client: &'a str,
}

/// One line: the text has every field (for `LOG_FORMAT=text`), and the
/// fields are also key-values (keys of their own with `LOG_FORMAT=json`).
fn access_log(access: &Access<'_>) {
    let level = if PROBES.contains(&access.path) && access.status.is_success() {
        log::Level::Debug
    } else {
        log::Level::Info
    };
    let route = access.route.unwrap_or(UNMATCHED_ROUTE);
    log::log!(
        target: ACCESS_TARGET,
        level,
        request_id = access.id.as_str(),
        method = access.method.as_str(),
        path = access.path,
        route = route,
        status = access.status.as_u16(),
        duration_ms = (access.took_ms * 1000.0).round() / 1000.0,
        client = access.client;
        "{} {} {} {:.3} ms request_id={} route={} client={}",
        access.method,
        access.path,
        access.status.as_u16(),
        access.took_ms,
        access.id.as_str(),
        route,
        access.client,
    );
}

/// An error answered with the request's id.
#[derive(Debug)]
struct WithRequestId {
    error: actix_web::Error,
    id: HeaderValue,
}

impl std::fmt::Display for WithRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for WithRequestId {
    fn status_code(&self) -> StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.error.error_response();
        response.headers_mut().insert(REQUEST_ID, self.id.clone());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_short_visible_ascii() {
        assert!(is_sane(b"abc-123_XYZ.~"));
        assert!(is_sane(&[b'a'; 128]));
        assert!(!is_sane(&[b'a'; 129]));
        assert!(!is_sane(b""));
        assert!(!is_sane(b"has space"));
        assert!(!is_sane(b"tab\there"));
        assert!(!is_sane("caf\u{e9}".as_bytes()));
    }
}
