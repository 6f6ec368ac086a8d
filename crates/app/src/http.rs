//! HTTP with actix-web: the shared [`AppState`], the routes, and the one JSON
//! error shape every handler answers with ([`ApiError`]).
//!
//! Handlers are thin and async; the adapters run blocking database work on
//! the blocking thread pool, so actix workers are never stalled by diesel.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer, ResponseError};
use openbadges_domain::operations::Backend;
use openbadges_domain::ports::{RepoResult, Store};
use openbadges_domain::{DomainError, FieldError};
use serde_json::json;

use openbadges_domain::documents::Urls;

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::protection::{
    rate_limit as rate_limit_middleware, security_headers, time_limit as time_limit_middleware,
    Https, RateLimit, TimeLimit,
};

/// What every handler can reach, shared through `web::Data`.
pub struct AppState {
    /// The storage backend chosen at start.
    pub store: Arc<dyn Store>,
    /// The configuration the server runs with.
    pub settings: Arc<Settings>,
    /// Public URLs of documents, under `BASE_URL`.
    pub urls: Urls,
    /// How callers authenticate.
    pub auth: crate::auth::AuthConfig,
    /// Tags the list cursors handed out and checks those presented.
    pub cursors: openbadges_domain::CursorKey,
    /// Signs issued credentials.
    pub signing: Arc<crate::signing::Signing>,
}

/// Registers the routes. Resource routes go here as they are added.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(json_config(JSON_LIMIT))
        .route("/health", web::get().to(health))
        .route("/health/ready", web::get().to(ready))
        .route("/metrics", web::get().to(crate::metrics::metrics))
        .configure(crate::api::configure)
        .configure(crate::api::openapi::configure);
}

/// The largest JSON body accepted: a batch of 10,000 awards fits.
const JSON_LIMIT: usize = 16 * 1024 * 1024;

/// JSON bodies are read whatever the Content-Type (old clients omit it);
/// a body that is not JSON is a 400 in the usual shape.
fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(false)
        .error_handler(|error, _| {
            let error = match &error {
                actix_web::error::JsonPayloadError::Overflow { limit }
                | actix_web::error::JsonPayloadError::OverflowKnownLength { limit, .. } => {
                    crate::requests::too_large(*limit)
                }
                other => crate::requests::not_json(other),
            };
            ApiError(error).into()
        })
}

/// Why the HTTP server stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {address}: {source}. Choose another HOST/PORT or stop the process using it")]
    Bind {
        /// `host:port` as configured.
        address: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the HTTP server stopped: {0}")]
    Run(#[source] std::io::Error),
}

/// Blocking threads per HTTP worker (actix's default is 512 / workers).
/// There is one worker per core, so this lets two database calls or
/// signatures run per core: enough to keep a core busy while another call
/// waits on the database, few enough that PostgreSQL's backends and our
/// threads do not crowd the cores. From 4 to 2: the same throughput, p99 of
/// public GET on PostgreSQL from 13-14 to 8-9 ms, 8 MiB less at peak.
const BLOCKING_THREADS_PER_WORKER: usize = 2;

/// Binds `HOST:PORT`, logs the listening address, and serves until SIGTERM
/// or SIGINT; then stops accepting connections, lets the requests in flight
/// finish within `SHUTDOWN_TIMEOUT`, and returns.
pub async fn serve(state: AppState) -> Result<(), ServeError> {
    let host = state.settings.http.host.clone();
    let port = state.settings.http.port;
    let base_url = state.settings.http.base_url.clone();
    let shutdown_timeout = state.settings.http.shutdown_timeout;
    let security = state.settings.security.clone();
    let rate_limit = web::Data::new(RateLimit::new(&security));
    let time_limit = web::Data::new(TimeLimit(security.request_timeout));
    let https = web::Data::new(Https(base_url.starts_with("https://")));
    let metrics = web::Data::new(Metrics::new(
        Arc::clone(&state.store),
        state.settings.http.metrics_enabled,
    ));
    let state = web::Data::new(state);
    let idle = rate_limit.clone();
    let logins = state.auth.logins.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            idle.forget_idle();
            logins.forget_idle();
        }
    });
    let server = HttpServer::new(move || {
        let cors = crate::protection::cors(&security);
        App::new()
            .app_data(state.clone())
            .app_data(rate_limit.clone())
            .app_data(time_limit.clone())
            .app_data(https.clone())
            .app_data(metrics.clone())
            .configure(routes)
            // After `routes`, so that the configured limit wins.
            .app_data(json_config(security.max_body_bytes))
            .app_data(web::PayloadConfig::new(security.max_body_bytes))
            .default_service(web::to(unknown_route))
            // Innermost first: the rate limit refuses before any work but
            // checking the credentials it counts by, the time limit covers
            // that check and the handler (a stuck database stalls both),
            // CORS answers preflights, and every answer (even a 429)
            // carries the security headers.
            .wrap(from_fn(rate_limit_middleware))
            .wrap(from_fn(time_limit_middleware))
            .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
            .wrap(from_fn(security_headers))
            // Outermost: it sees every answer, a 429 or a timeout too.
            .wrap(from_fn(crate::observability::observe))
    })
    .client_request_timeout(std::time::Duration::from_secs(10))
    .shutdown_timeout(shutdown_timeout.as_secs())
    // Database work and signing run on each worker's blocking threads. More
    // threads than pooled connections only queue on the pool, while every
    // thread costs a stack and an allocator heap and spreads wake-ups.
    .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
    // Signals are ours: actix would stop at once on SIGINT.
    .disable_signals()
    .bind((host.as_str(), port))
    .map_err(|source| ServeError::Bind {
        address: format!("{host}:{port}"),
        source,
    })?;
    for address in server.addrs() {
        log::info!("listening on http://{address} (base URL {base_url})");
    }
    // Listening before the server runs: a signal from now on is ours.
    let signals = StopSignals::listen();
    let server = server.run();
    actix_web::rt::spawn(stop_on_signal(signals, server.handle(), shutdown_timeout));
    server.await.map_err(ServeError::Run)?;
    log::info!("HTTP server stopped");
    Ok(())
}

/// Waits for SIGTERM or SIGINT, then stops the server gracefully: the
/// listener closes at once, requests in flight get `timeout` to finish.
/// A second signal exits at once.
async fn stop_on_signal(
    signals: std::io::Result<StopSignals>,
    server: actix_web::dev::ServerHandle,
    timeout: std::time::Duration,
) {
    let mut signals = match signals {
        Ok(signals) => signals,
        Err(error) => {
            log::error!(
                "cannot listen for SIGTERM/SIGINT, so no shutdown will be graceful: {error}"
            );
            return;
        }
    };
    let name = signals.next().await;
    log::info!(
        "{name} received: shutting down; no new connections, requests in flight get up to {} s \
         (SHUTDOWN_TIMEOUT) to finish",
        timeout.as_secs()
    );
    // The command is sent by the call; `serve` sees the server finish.
    drop(server.stop(true));
    let name = signals.next().await;
    log::warn!("{name} received again: exiting at once, cutting off the requests in flight");
    std::process::exit(i32::from(crate::EXIT_SERVER));
}

/// SIGTERM (what orchestrators send) and SIGINT (Ctrl-C).
struct StopSignals {
    terminate: actix_web::rt::signal::unix::Signal,
    interrupt: actix_web::rt::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> std::io::Result<Self> {
        use actix_web::rt::signal::unix::{signal, SignalKind};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// The name of the next signal.
    async fn next(&mut self) -> &'static str {
        let terminate = std::pin::pin!(self.terminate.recv());
        let interrupt = std::pin::pin!(self.interrupt.recv());
        match futures_util::future::select(terminate, interrupt).await {
            futures_util::future::Either::Left(_) => "SIGTERM",
            futures_util::future::Either::Right(_) => "SIGINT",
        }
    }
}

/// `GET /health`: asks the database, so that a server whose database is gone
/// is reported down rather than healthy.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    operation_id = "health",
    summary = "Health of the server and its database",
    responses(
        (status = 200, description = "Up: the database answers.", body = crate::api::schema::Health,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 503, description = "Down: the database does not answer.", body = crate::api::schema::Health,
            headers(("Cache-Control" = String, description = "`no-store`.")),
            example = json!({"status": "error", "backend": "postgresql", "database": "down"})),
    )
)]
async fn health(state: web::Data<AppState>) -> HttpResponse {
    health_response(state.store.backend(), state.store.ping().await)
}

fn health_response(backend: Backend, ping: RepoResult<()>) -> HttpResponse {
    let (mut response, status, database) = match ping {
        Ok(()) => (HttpResponse::Ok(), "ok", "up"),
        Err(error) => {
            log::warn!("health check: the database does not answer: {error}");
            (HttpResponse::ServiceUnavailable(), "error", "down")
        }
    };
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "status": status,
            "backend": backend.as_str(),
            "database": database,
        }))
}

/// `GET /health/ready`: whether this instance should get traffic: the
/// database answers and its schema is current. Liveness is `/health`.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    operation_id = "ready",
    summary = "Readiness: the database answers and no migration is pending",
    description = "For load balancers and orchestrators (a Kubernetes readiness probe). 503 names what is \
        wrong: the database does not answer, or migrations are pending (run `openbadges-server migrate`). \
        Never rate limited.",
    responses(
        (status = 200, description = "Ready.", body = crate::api::schema::Readiness,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 503, description = "Not ready: the database does not answer, or migrations are pending.",
            body = crate::api::schema::Readiness,
            headers(("Cache-Control" = String, description = "`no-store`.")),
            example = json!({"status": "not ready", "backend": "postgresql", "database": "up",
                "pendingMigrations": 2, "reason": "2 database migrations are pending: run `openbadges-server migrate`"})),
    )
)]
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.as_ref();
    let readiness = match store.ping().await {
        Err(error) => Readiness::DatabaseDown(error),
        Ok(()) => match store.pending_migrations().await {
            Ok(0) => Readiness::Ready,
            Ok(pending) => Readiness::MigrationsPending(pending),
            Err(error) => Readiness::MigrationsUnknown(error),
        },
    };
    readiness_response(store.backend(), readiness)
}

/// What the readiness check found.
#[derive(Debug)]
enum Readiness {
    Ready,
    DatabaseDown(DomainError),
    MigrationsPending(usize),
    MigrationsUnknown(DomainError),
}

fn readiness_response(backend: Backend, readiness: Readiness) -> HttpResponse {
    let (database, pending, reason) = match readiness {
        Readiness::Ready => ("up", Some(0), None),
        Readiness::DatabaseDown(error) => {
            log::warn!("not ready: the database does not answer: {error}");
            (
                "down",
                None,
                Some("the database does not answer".to_owned()),
            )
        }
        Readiness::MigrationsPending(count) => {
            let reason = format!(
                "{count} database migration{} pending: run `openbadges-server migrate`",
                if count == 1 { " is" } else { "s are" }
            );
            log::warn!("not ready: {reason}");
            ("up", Some(count), Some(reason))
        }
        Readiness::MigrationsUnknown(error) => {
            log::warn!("not ready: cannot read which migrations are applied: {error}");
            (
                "up",
                None,
                Some("cannot read which database migrations are applied".to_owned()),
            )
        }
    };
    let mut response = match reason {
        None => HttpResponse::Ok(),
        Some(_) => HttpResponse::ServiceUnavailable(),
    };
    let mut body = json!({
        "status": if reason.is_none() { "ready" } else { "not ready" },
        "backend": backend.as_str(),
        "database": database,
        "pendingMigrations": pending,
    });
    if let Some(reason) = reason {
        body["reason"] = reason.into();
    }
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// Anything no route matches: the same 404 shape as a missing entity.
async fn unknown_route(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError(DomainError::NotFound {
        entity: "route",
        id: format!("{} {}", request.method(), request.path()),
    }))
}

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

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use serde_json::Value;

    use super::*;

    fn body(response: HttpResponse) -> Value {
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

    #[test]
    fn readiness_names_what_is_wrong() {
        let response = readiness_response(Backend::Sqlite, Readiness::Ready);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            body(response),
            json!({"status": "ready", "backend": "sqlite", "database": "up", "pendingMigrations": 0})
        );

        let response = readiness_response(Backend::Postgresql, Readiness::MigrationsPending(2));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let answer = body(response);
        assert_eq!(answer["status"], "not ready");
        assert_eq!(answer["pendingMigrations"], 2);
        assert_eq!(
            answer["reason"],
            "2 database migrations are pending: run `openbadges-server migrate`"
        );

        let response = readiness_response(
            Backend::Postgresql,
            Readiness::DatabaseDown(DomainError::Unavailable("password=hunter2".into())),
        );
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let answer = body(response);
        assert_eq!(answer["database"], "down");
        assert_eq!(answer["pendingMigrations"], Value::Null);
        assert_eq!(answer["reason"], "the database does not answer");
        assert!(!answer.to_string().contains("hunter2"));
    }

    #[test]
    fn health_reports_up_and_down() {
        let response = health_response(Backend::Sqlite, Ok(()));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            body(response),
            json!({"status": "ok", "backend": "sqlite", "database": "up"})
        );

        let response = health_response(
            Backend::Postgresql,
            Err(DomainError::Unavailable("connection reset".into())),
        );
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body(response),
            json!({"status": "error", "backend": "postgresql", "database": "down"})
        );
    }
}
