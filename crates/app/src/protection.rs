//! Request protections that wrap every route: a rate limit per verified
//! API key or user, or else per client address, a time limit, and security
//! headers. Body size and JSON
//! nesting are bounded where bodies are read (`http::json_config`,
//! `api::body`).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::SecuritySettings;
use crate::error::{too_many_requests, ApiError};
use openbadges_domain::DomainError;

/// The paths the rate limit never refuses: orchestrators' probes.
pub const UNLIMITED: [&str; 2] = ["/health", "/health/ready"];

/// Requests allowed per minute per caller, shared by every worker.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    per_minute: u32,
    trusted_proxies: Arc<Vec<IpAddr>>,
}

impl RateLimit {
    /// A limiter for the configured rate; `0` switches it off.
    pub fn new(settings: &SecuritySettings) -> Self {
        let limiter = NonZeroU32::new(settings.rate_limit_per_minute)
            .map(|rate| Arc::new(RateLimiter::keyed(Quota::per_minute(rate))));
        Self {
            limiter,
            per_minute: settings.rate_limit_per_minute,
            trusted_proxies: Arc::new(settings.trusted_proxies.clone()),
        }
    }

    /// Forgets callers that have been quiet for a full period, so the map
    /// of callers stays as large as the set of active ones.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy,
    /// the last address in `X-Forwarded-For` that is not a trusted proxy.
    pub fn client_address(&self, request: &ServiceRequest) -> Option<IpAddr> {
        let peer = request.peer_addr()?.ip();
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = request
            .headers()
            .get_all("X-Forwarded-For")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|part| part.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusted_proxies.contains(ip))
                .unwrap_or(peer),
        )
    }

    /// The 429 to answer when the request's caller is over the rate.
    async fn refusal(&self, request: &ServiceRequest) -> Option<HttpResponse> {
        let limiter = self.limiter.as_ref()?;
        let path = routed_path(request);
        // Orchestrators poll health and readiness; they must never be locked out.
        if UNLIMITED.contains(&path) {
            return None;
        }
        let caller = self.caller(request, path).await;
        let not_until = limiter.check_key(&caller).err()?;
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Some(too_many_requests(wait, |seconds| {
            format!(
                "more than {} requests per minute; retry in {seconds} s",
                self.per_minute
            )
        }))
    }

    /// Who the request counts against: the API key or user of credentials
    /// that authenticate, or else the client address. Credentials that do
    /// not authenticate count against the address: otherwise a made-up key
    /// per request would buy a fresh allowance every time. A login counts
    /// against the address whatever it presents: its credentials are the
    /// body's, and the throttle of `auth::throttle` guards each account.
    async fn caller(&self, request: &ServiceRequest, path: &str) -> String {
        if path != LOGIN_ROUTE {
            if let Some(caller) = crate::auth::verified_caller(request.request()).await {
                return caller;
            }
        }
        format!(
            "ip:{}",
            self.client_address(request)
                .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
        )
    }
}

/// The route of `POST /auth/login`.
const LOGIN_ROUTE: &str = "/auth/login";

/// The path as the router matches it: with escapes of unreserved
/// characters decoded, so `/auth/%6Cogin` is `/auth/login`. The raw path
/// (`ServiceRequest::path`) would let such a spelling pass for another
/// route. The routes the limit singles out (login and the probes) have no
/// parameters, so this path equals one of them exactly when the router
/// chooses that route. Comparing it costs nothing, where asking the
/// resource map (`match_pattern`) for every request added a sixth to the
/// server's CPU time per public GET (measured on a debug build).
fn routed_path(request: &ServiceRequest) -> &str {
    request.match_info().as_str()
}

/// Answers 429 with `Retry-After` once a caller exceeds the rate.
pub async fn rate_limit(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(limit) = request.app_data::<web::Data<RateLimit>>().cloned() {
        if let Some(refusal) = limit.refusal(&request).await {
            return Ok(request.into_response(refusal).map_into_right_body());
        }
    }
    Ok(next.call(request).await?.map_into_left_body())
}

/// The longest a request may run.
#[derive(Clone, Copy)]
pub struct TimeLimit(pub Duration);

/// Answers 503 when the handler takes longer than `REQUEST_TIMEOUT_SECONDS`
/// (a stuck database must not pile up requests forever). The answer is made
/// from an error: the request itself is owned by the routing while it runs
/// (a clone of it would make routing panic).
pub async fn time_limit(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limit = request
        .app_data::<web::Data<TimeLimit>>()
        .map_or(Duration::from_secs(30), |l| l.0);
    let route = format!("{} {}", request.method(), request.path());
    match actix_web::rt::time::timeout(limit, next.call(request)).await {
        Ok(response) => response,
        Err(_) => {
            log::warn!("{route} took longer than {limit:?}");
            Err(ApiError(DomainError::Unavailable(format!(
                "the request took longer than {} s",
                limit.as_secs()
            )))
            .into())
        }
    }
}

/// Whether responses should carry `Strict-Transport-Security`.
#[derive(Clone, Copy)]
pub struct Https(pub bool);

/// Headers that tell browsers to treat answers as data: no sniffing, no
/// framing, no referrer, a content security policy that allows nothing
/// (the Swagger UI under `/docs` gets one that allows its own files).
pub async fn security_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = request.app_data::<web::Data<Https>>().is_some_and(|h| h.0);
    let docs = request.path().starts_with("/docs");
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    let csp = if docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    // A handler that serves something a browser renders sets the policy
    // its content needs (a badge page; a hosted SVG, stricter still) and
    // keeps it; every other answer gets none.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    Ok(response)
}

/// CORS for the configured origins; `None` when no origin is configured, so
/// that requests from servers (which may send `Origin`) are never refused.
pub fn cors(settings: &SecuritySettings) -> Option<actix_cors::Cors> {
    if settings.cors_origins.is_empty() {
        return None;
    }
    let mut cors = actix_cors::Cors::default()
        // PATCH: partial updates of issuers, achievements and credentials.
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([
            header::ETAG,
            header::LINK,
            header::LOCATION,
            HeaderName::from_static("x-total-count"),
            HeaderName::from_static("deprecation"),
            HeaderName::from_static("sunset"),
        ])
        .max_age(3600);
    for origin in &settings.cors_origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    Some(cors)
}
