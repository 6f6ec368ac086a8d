//! Prometheus metrics, served at `GET /metrics` in the Prometheus text
//! format (0.0.4).
//!
//! Requests are counted by route pattern (`/credentials/{id}`, never the
//! path a client sent), method and status, so the number of series is
//! bounded by the routes the server has. The pool's figures are read from
//! the store at each scrape. Nothing here carries a secret: no path, query,
//! header or identifier of a client.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use openbadges_domain::ports::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::cache::DocumentCache;
use crate::error::ApiError;

/// The route label of a request that no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Upper bounds (seconds) of the latency buckets: from a cached document
/// to a large signed batch.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    backend: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The server's metrics, shared by every worker through `web::Data`.
pub struct Metrics {
    registry: Registry,
    exposed: bool,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    in_flight: Gauge,
    credentials_issued: Counter,
}

impl Metrics {
    /// Registers every metric; the pool's and the read replicas' are read
    /// from `store` when scraped (`replicas`: each replica's URL, password
    /// redacted, by index). With `exposed` false (`METRICS_ENABLED=false`)
    /// they are still kept but `GET /metrics` answers 404.
    pub fn new(
        store: Arc<dyn Store>,
        documents: Arc<DocumentCache>,
        replicas: Vec<String>,
        exposed: bool,
    ) -> Self {
        let mut registry = Registry::with_prefix("openbadges");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        let latency: LatencyFamily =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (until its headers), by method and route pattern",
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being answered",
            in_flight.clone(),
        );
        let credentials_issued = Counter::default();
        registry.register(
            "credentials_issued",
            "Credentials issued, one by one or in batches",
            credentials_issued.clone(),
        );
        registry.register(
            "build",
            "Version of the server and its storage backend",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                backend: store.backend().as_str(),
            }),
        );
        registry.register_collector(Box::new(PoolCollector(Arc::clone(&store))));
        registry.register_collector(Box::new(CacheCollector(documents)));
        registry.register_collector(Box::new(ReplicaCollector { store, replicas }));
        Self {
            registry,
            exposed,
            requests,
            latency,
            in_flight,
            credentials_issued,
        }
    }

    /// Counts an answered request and its latency. `route` is the pattern
    /// the request matched, `None` when no route did.
    pub fn observe(
        &self,
        method: &Method,
        route: Option<&str>,
        status: StatusCode,
        took: Duration,
    ) {
        let method = method_label(method);
        let route = route.unwrap_or(UNMATCHED_ROUTE).to_owned();
        self.latency
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status: status.as_u16(),
            })
            .inc();
    }

    /// A request has started; the returned guard counts it as in flight
    /// until dropped (a request cut off by a shutdown is dropped too).
    pub fn start(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail, and every metric encodes.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

/// A request in flight; see [`Metrics::start`].
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Counts `count` credentials issued by the request (its handler calls
/// this once the credentials are stored).
pub fn count_issued(request: &HttpRequest, count: usize) {
    if let Some(metrics) = request.app_data::<web::Data<Metrics>>() {
        metrics
            .credentials_issued
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }
}

/// The method as a label: the standard ones by name, any other as
/// `other`, so that made-up methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Reads the store's pool at each scrape.
struct PoolCollector(Arc<dyn Store>);

impl std::fmt::Debug for PoolCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PoolCollector")
            .field(&self.0.backend())
            .finish()
    }
}

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let pool = self.0.pool_state();
        let gauges = [
            (
                "db_pool_connections",
                "Open database connections, in use or idle",
                pool.connections,
            ),
            (
                "db_pool_idle_connections",
                "Open database connections not in use",
                pool.idle,
            ),
            (
                "db_pool_max_connections",
                "The most database connections the pool opens",
                pool.max,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(i64::from(value));
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let counters = [
            (
                "db_pool_checkouts",
                "Database connections handed out by the pool",
                pool.checkouts,
            ),
            (
                "db_pool_checkout_timeouts",
                "Requests for a database connection that gave up waiting",
                pool.checkout_timeouts,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        let wait = ConstCounter::new(pool.checkout_wait.as_secs_f64());
        wait.encode(encoder.encode_descriptor(
            "db_pool_checkout_wait_seconds",
            "Time spent waiting for a database connection (opening one included), in total",
            None,
            wait.metric_type(),
        )?)
    }
}

/// Reads the document cache at each scrape.
struct CacheCollector(Arc<DocumentCache>);

impl std::fmt::Debug for CacheCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheCollector").finish_non_exhaustive()
    }
}

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        let counters = [
            (
                "document_cache_hits",
                "Public GETs answered from the cache of rendered documents",
                stats.hits,
            ),
            (
                "document_cache_misses",
                "Public GETs that rendered their document while the cache was on",
                stats.misses,
            ),
            (
                "document_cache_invalidations",
                "Times the cache of rendered documents was forgotten (a change, here or elsewhere)",
                stats.invalidations,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        let gauges = [
            (
                "document_cache_entries",
                "Rendered documents kept",
                i64::try_from(stats.entries).unwrap_or(i64::MAX),
            ),
            (
                "document_cache_bytes",
                "Bytes of rendered documents kept",
                i64::try_from(stats.bytes).unwrap_or(i64::MAX),
            ),
            (
                "document_cache_live",
                "1 while the database's change reports are followed and the cache answers, else 0",
                i64::from(stats.live),
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplicaLabels {
    replica: String,
    url: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplicaHealthLabels {
    replica: String,
    url: String,
    state: &'static str,
}

/// Reads one counter of a replica's state.
type ReplicaCount = fn(&openbadges_domain::operations::ReplicaState) -> u64;

/// Reads how the store spreads reads over its replicas at each scrape;
/// writes nothing when it has none.
struct ReplicaCollector {
    store: Arc<dyn Store>,
    /// Each replica's URL with its password redacted, by index.
    replicas: Vec<String>,
}

impl std::fmt::Debug for ReplicaCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaCollector")
            .field("replicas", &self.replicas.len())
            .finish()
    }
}

impl Collector for ReplicaCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        use openbadges_domain::operations::ReplicaHealth;
        let Some(routing) = self.store.read_routing() else {
            return Ok(());
        };
        let labels = |index: usize| ReplicaLabels {
            replica: index.to_string(),
            url: self.replicas.get(index).cloned().unwrap_or_default(),
        };
        {
            let mut family = encoder.encode_descriptor(
                "db_replica_state",
                "1 for the state each read replica is in (serving, lagging or down), 0 for the others",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for replica in &routing.replicas {
                for state in [
                    ReplicaHealth::Serving,
                    ReplicaHealth::Lagging,
                    ReplicaHealth::Down,
                ] {
                    let base = labels(replica.index);
                    let labels = ReplicaHealthLabels {
                        replica: base.replica,
                        url: base.url,
                        state: state.as_str(),
                    };
                    ConstGauge::new(i64::from(replica.health == state))
                        .encode(family.encode_family(&labels)?)?;
                }
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "db_replica_lag_seconds",
                "How far behind the primary each read replica may be, at most (see docs/operations.md)",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for replica in &routing.replicas {
                if let Some(lag) = replica.lag {
                    ConstGauge::new(lag.as_secs_f64())
                        .encode(family.encode_family(&labels(replica.index))?)?;
                }
            }
        }
        let counters: [(&str, &str, ReplicaCount); 2] = [
            (
                "db_replica_queries",
                "Public reads sent to each read replica",
                |replica| replica.queries,
            ),
            (
                "db_replica_fallbacks",
                "Public reads that failed on a read replica and were answered by the primary",
                |replica| replica.fallbacks,
            ),
        ];
        for (name, help, value) in counters {
            let mut family = encoder.encode_descriptor(
                name,
                help,
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?;
            for replica in &routing.replicas {
                ConstCounter::new(value(replica))
                    .encode(family.encode_family(&labels(replica.index))?)?;
            }
        }
        let primary = ConstCounter::new(routing.primary_reads);
        primary.encode(encoder.encode_descriptor(
            "db_replica_primary_reads",
            "Public reads the primary answered because no read replica was serving",
            None,
            primary.metric_type(),
        )?)
    }
}

/// `GET /metrics`: the metrics in the Prometheus text format, or 404 when
/// `METRICS_ENABLED=false`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    description = "Requests by method, route pattern and status; latency by route; requests in flight; \
        credentials issued; the database pool (connections, idle, checkouts, time waited for a connection); \
        with read replicas, each replica's state, lag and reads. \
        No credentials are asked, and nothing in it identifies a client or a document. See docs/operations.md.",
    responses(
        (status = 200, description = "The metrics, in the Prometheus text format 0.0.4.",
            content_type = "text/plain; version=0.0.4; charset=utf-8", body = String,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 404, description = "Metrics are switched off (`METRICS_ENABLED=false`).",
            body = crate::api::schema::ErrorMessage),
        (status = 503, description = "The request took longer than `REQUEST_TIMEOUT_SECONDS`.",
            body = crate::api::schema::ErrorMessage),
    )
)]
pub async fn metrics(request: HttpRequest, metrics: web::Data<Metrics>) -> HttpResponse {
    if !metrics.exposed {
        return ApiError(openbadges_domain::DomainError::NotFound {
            entity: "route",
            id: format!("{} {}", request.method(), request.path()),
        })
        .error_response();
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type(prometheus_client::encoding::prometheus_text::CONTENT_TYPE)
        .body(metrics.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let odd = Method::from_bytes(b"BREW").expect("a method");
        assert_eq!(method_label(&odd), "other");
    }
}
