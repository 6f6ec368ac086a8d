//! The HTTP server: the routes, the middleware around them, and a
//! graceful stop on SIGTERM or SIGINT.
//!
//! Handlers are thin and async; the adapters run blocking database work on
//! the blocking thread pool, so actix workers are never stalled by diesel.

use std::sync::Arc;

use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use openbadges_domain::DomainError;

use crate::error::ApiError;
use crate::health::{health, ready};
use crate::metrics::Metrics;
use crate::protection::{
    rate_limit as rate_limit_middleware, security_headers, time_limit as time_limit_middleware,
    Https, RateLimit, TimeLimit,
};
use crate::state::AppState;

/// Registers the routes. Resource routes go here as they are added.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(json_config(JSON_LIMIT))
        .route("/health", web::get().to(health))
        .route("/health/ready", web::get().to(ready))
        .route("/metrics", web::get().to(crate::metrics::metrics))
        .configure(crate::pages::routes)
        // Before the API: its /credentials scope would hide these.
        .configure(crate::consumer::routes)
        .configure(crate::oauth::routes)
        .configure(crate::service_api::routes)
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
    /// The SMTP settings cannot be used.
    #[error("e-mail: {0}")]
    Mail(String),
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
        Arc::clone(&state.documents),
        state.settings.database.replica_locations(),
        state.settings.http.metrics_enabled,
    ));
    // The e-mail sender, beside the HTTP server, when SMTP is configured;
    // handlers wake it after queuing an e-mail.
    let mail_wake = crate::mail::start(&state)
        .map_err(ServeError::Mail)?
        .map(web::Data::new);
    // The sender of awards to learners' hosts, beside the HTTP server.
    crate::consumer::start(&state);
    // Follows the database's change reports for the document cache; stops
    // when dropped, after the server.
    let _follower = crate::cache::follow(Arc::clone(&state.store), Arc::clone(&state.documents));
    // The document cache also on its own, for the middleware that empties
    // it after a write.
    let documents = web::Data::from(Arc::clone(&state.documents));
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
        let mut app = App::new()
            .app_data(state.clone())
            .app_data(documents.clone());
        if let Some(wake) = &mail_wake {
            app = app.app_data(wake.clone());
        }
        app.app_data(rate_limit.clone())
            .app_data(time_limit.clone())
            .app_data(https.clone())
            .app_data(metrics.clone())
            .configure(routes)
            // After `routes`, so that the configured limit wins.
            .app_data(json_config(security.max_body_bytes))
            .app_data(web::PayloadConfig::new(security.max_body_bytes))
            .default_service(web::to(unknown_route))
            // A write forgets the rendered documents before it answers.
            .wrap(from_fn(crate::cache::invalidate_on_write))
            // Innermost first: the rate limit refuses before any work but
            // checking the credentials it counts by, the time limit covers
            // that check and the handler (a stuck database stalls both),
            // CORS answers preflights, and every answer (even a 429)
            // carries the security headers. Ids in paths are made bare
            // before anything routes them.
            .wrap(from_fn(crate::api::ids::normalize))
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

/// Anything no route matches: the same 404 shape as a missing entity.
async fn unknown_route(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError(DomainError::NotFound {
        entity: "route",
        id: format!("{} {}", request.method(), request.path()),
    }))
}
