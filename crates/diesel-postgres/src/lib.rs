//! PostgreSQL adapter: implements every repository port of
//! `openbadges-domain` with diesel and an r2d2 pool, and embeds the
//! migrations of `migrations-postgres/`.
//!
//! Blocking diesel calls run on tokio's blocking pool, never on an async
//! worker. Migrations are serialised across instances with a session advisory
//! lock, and are not touched at all when nothing is pending, so a role with
//! only the minimal grants (SELECT, INSERT, UPDATE, DELETE, sequence USAGE)
//! can run the server.

mod changes;
mod compaction;
mod errors;
mod pool;
mod replicas;
mod repositories;
mod rows;
mod schema;
mod url;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use diesel::connection::Connection;
use diesel::migration::MigrationSource;
use diesel::pg::{Pg, PgConnection};
use diesel::r2d2::{CustomizeConnection, Pool};
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use openbadges_domain::operations::{Backend, PoolState, ReadRouting};
pub use openbadges_domain::operations::{StartupError, StartupFailure};
use openbadges_domain::ports::*;
use openbadges_domain::status_bits::BitReserve;
use openbadges_store_support::instrumentation::{PoolMeter, QueryLogger};
pub use url::url_problem;

use crate::compaction::{pack_credentials, COMPACT_CREDENTIALS};
use crate::errors::{classify_connection, classify_migration, from_diesel, from_pool};
use crate::pool::{Manager, PgPool, PooledPg};
use crate::replicas::ReplicaSet;
use crate::repositories::*;

/// The migrations of `migrations-postgres/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations-postgres");

/// Key of the session advisory lock held while migrating ("obmigr" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6f62_6d69_6772;

/// How to reach PostgreSQL.
#[derive(Clone)]
pub struct PgOptions {
    /// A libpq connection URL (`postgres://user:pass@host:port/db?sslmode=...`).
    pub url: String,
    /// Largest number of pooled connections (`PG_POOL_MAX`).
    pub pool_max: u32,
    /// Idle connections beyond the first are closed after this long (`PG_POOL_IDLE_TIMEOUT`).
    pub idle_timeout: Option<Duration>,
    /// How long to wait for a new connection, or for a free one from the pool.
    pub connect_timeout: Duration,
    /// Log every statement with its duration (`DB_QUERY_LOGGING`).
    pub query_logging: bool,
    /// libpq URLs of streaming standbys of the primary that serve the
    /// reads of [`PgStore::public_reads`] (`DATABASE_REPLICA_URLS`); each
    /// gets a pool with the settings above.
    pub replica_urls: Vec<String>,
    /// A replica further behind the primary than this is skipped
    /// (`REPLICA_MAX_LAG_MS`); see the `replicas` module for how lag is
    /// measured.
    pub replica_max_lag: Duration,
}

impl PgOptions {
    /// Options for `url` with the defaults: 10 connections, 30 s idle
    /// timeout, 5 s connect timeout, no query logging, no replicas (with
    /// a lag bound of [`DEFAULT_REPLICA_MAX_LAG`] once some are added).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_max: 10,
            idle_timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(5),
            query_logging: false,
            replica_urls: Vec::new(),
            replica_max_lag: DEFAULT_REPLICA_MAX_LAG,
        }
    }

    /// The URL with libpq's `connect_timeout` added unless the caller set one,
    /// so that an unreachable host fails within the configured time.
    fn effective_url(&self) -> String {
        self.with_connect_timeout(&self.url)
    }

    /// A pool builder with these options, for the primary and each replica.
    fn pool_builder(&self) -> diesel::r2d2::Builder<Manager> {
        Pool::builder()
            .max_size(self.pool_max)
            // No background refill: a connection being opened by r2d2 while the
            // process exits races OpenSSL's cleanup and can crash the exit.
            .min_idle(Some(0))
            .idle_timeout(self.idle_timeout)
            .connection_timeout(self.connect_timeout)
            .connection_customizer(Box::new(ConnectionSetup {
                query_logging: self.query_logging,
            }))
    }

    /// `url` with libpq's `connect_timeout` added unless it has one.
    fn with_connect_timeout(&self, url: &str) -> String {
        if url.contains("connect_timeout=") {
            return url.to_owned();
        }
        let separator = if url.contains('?') { '&' } else { '?' };
        let seconds = self.connect_timeout.as_secs().max(1);
        format!("{url}{separator}connect_timeout={seconds}")
    }
}

/// The default lag bound of a read replica: a revocation is seen through
/// the replicas within a second.
pub const DEFAULT_REPLICA_MAX_LAG: Duration = Duration::from_secs(1);

impl fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &"<redacted>")
            .field("pool_max", &self.pool_max)
            .field("idle_timeout", &self.idle_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("query_logging", &self.query_logging)
            .field(
                "replica_urls",
                &format!("<{} redacted>", self.replica_urls.len()),
            )
            .field("replica_max_lag", &self.replica_max_lag)
            .finish()
    }
}

/// Installs the query logger on each new pooled connection.
#[derive(Debug)]
struct ConnectionSetup {
    query_logging: bool,
}

impl CustomizeConnection<PooledPg, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut PooledPg) -> Result<(), diesel::r2d2::Error> {
        if self.query_logging {
            conn.set_instrumentation(QueryLogger::default());
        }
        Ok(())
    }
}

struct Repositories {
    issuers: PgIssuers,
    badge_classes: PgBadgeClasses,
    assertions: PgAssertions,
    users: PgUsers,
    api_keys: PgApiKeys,
    signing_keys: PgSigningKeys,
    status_lists: PgStatusLists,
    endorsements: PgEndorsements,
    assets: PgAssets,
    outbox: PgOutbox,
    deliveries: PgDeliveries,
    backpack: PgBackpack,
    learner_emails: PgLearnerEmails,
    oauth: PgOAuth,
    platforms: PgPlatforms,
}

/// A PostgreSQL-backed [`Store`]. Cloning shares the pool.
///
/// # Read replicas
///
/// The ports do not say which reads may be served a little stale: a
/// `get` is the same call whether it renders a public document or loads
/// a record a request is about to change. So the choice is made where it
/// is known, by the caller: [`PgStore::public_reads`] is a second view of
/// the same store whose plain reads of public records (issuers,
/// achievements, credentials, keys, status lists, endorsements, images)
/// go to a replica, and the server hands that view to its public GET
/// handlers only. Everything else stays on the primary, whichever view it
/// goes through: every write, and every read inside a unit of work that
/// writes (they share its transaction); reads of users, API keys and the
/// mail outbox, which decide authentication and must see a revocation or
/// an ended session at once; migrations and health checks.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The primary's URL, for the change feed's own connection; never
    /// shown (it can hold a password).
    url: Arc<str>,
    redactor: url::Redactor,
    repositories: Arc<Repositories>,
    checkouts: PoolMeter,
    replicas: Option<Arc<ReplicaSet>>,
    /// Shared with the read view, which issues nothing.
    bits: Arc<BitReserve>,
}

/// Every repository, sending its statements through `pools`.
fn repositories(pools: &Pools) -> Arc<Repositories> {
    Arc::new(Repositories {
        issuers: PgIssuers(pools.clone()),
        badge_classes: PgBadgeClasses(pools.clone()),
        assertions: PgAssertions(pools.clone()),
        users: PgUsers(pools.clone()),
        api_keys: PgApiKeys(pools.clone()),
        signing_keys: PgSigningKeys(pools.clone()),
        status_lists: PgStatusLists(pools.clone()),
        endorsements: PgEndorsements(pools.clone()),
        // Deliveries to badge hosts: the sender's state, on the primary.
        deliveries: PgDeliveries(pools.primary.clone()),
        assets: PgAssets(pools.clone()),
        outbox: PgOutbox(pools.clone()),
        // The learners' and the OAuth server's data: always the primary
        // (tokens and grants must not be read stale).
        backpack: PgBackpack(pools.primary.clone()),
        learner_emails: PgLearnerEmails(pools.primary.clone()),
        oauth: PgOAuth(pools.primary.clone()),
        platforms: PgPlatforms(pools.primary.clone()),
    })
}

#[derive(QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

impl PgStore {
    /// Refuses a URL libpq would misread ([`url_problem`]); connects once
    /// to classify any failure (refused, authentication, missing database
    /// ...), then builds the pool. libpq's messages lose every piece of the
    /// URL's password.
    pub fn connect(options: &PgOptions) -> Result<Self, StartupError> {
        if let Some(problem) = url_problem(&options.url) {
            return Err(StartupError::new(StartupFailure::Other, problem));
        }
        let url = options.effective_url();
        let redactor = url::Redactor::of(&url);
        PgConnection::establish(&url).map_err(|e| classify_connection(&e, &redactor))?;
        let checkouts = PoolMeter::default();
        let pool = options
            .pool_builder()
            .event_handler(Box::new(checkouts.clone()))
            .build(Manager::new(url.clone(), redactor.clone()))
            .map_err(|e| {
                StartupError::new(StartupFailure::Other, redactor.redact(&e.to_string()))
            })?;
        for (index, replica) in options.replica_urls.iter().enumerate() {
            if let Some(problem) = url_problem(replica) {
                return Err(StartupError::new(
                    StartupFailure::Other,
                    format!("read replica {index}: {problem}"),
                ));
            }
        }
        let replicas = ReplicaSet::start(options, &url)
            .map_err(|message| StartupError::new(StartupFailure::Other, message))?;
        let repositories = repositories(&Pools {
            primary: pool.clone(),
            replicas: None,
        });
        Ok(Self {
            pool,
            url: url.into(),
            redactor,
            repositories,
            checkouts,
            replicas,
            bits: Arc::new(BitReserve::new()),
        })
    }

    /// The view of this store for public reads: the same store, except
    /// that its plain reads of public records go to a healthy read replica
    /// (see [Read replicas](PgStore#read-replicas)). Without replicas it
    /// is the store itself. Make it once: each call builds the view anew.
    pub fn public_reads(&self) -> Self {
        let mut view = self.clone();
        if self.replicas.is_some() {
            view.repositories = repositories(&Pools {
                primary: self.pool.clone(),
                replicas: self.replicas.clone(),
            });
        }
        view
    }

    fn connection(&self) -> Result<diesel::r2d2::PooledConnection<Manager>, StartupError> {
        self.pool.get().map_err(|e| {
            StartupError::new(StartupFailure::ConnectionRefused, from_pool(e).to_string())
        })
    }

    /// Versions of embedded migrations not yet applied. Reads only: it
    /// needs no privilege beyond SELECT.
    pub fn pending_migrations(&self) -> Result<Vec<String>, StartupError> {
        pending(&mut *self.connection()?)
    }

    /// Applies pending migrations and returns their versions; a no-op when
    /// the schema is current. Concurrent callers (several instances starting
    /// at once) queue on an advisory lock and then find nothing to do.
    pub fn migrate(&self) -> Result<Vec<String>, StartupError> {
        let mut conn = self.connection()?;
        if pending(&mut conn)?.is_empty() {
            return Ok(Vec::new());
        }
        advisory_lock(&mut conn, "pg_advisory_lock")?;
        let applied = apply(&mut conn);
        let unlocked = advisory_lock(&mut conn, "pg_advisory_unlock");
        let applied = applied?;
        unlocked?;
        Ok(applied)
    }
}

fn advisory_lock(conn: &mut PgConnection, function: &str) -> Result<(), StartupError> {
    sql_query(format!("SELECT {function}({MIGRATION_LOCK_KEY})"))
        .execute(conn)
        .map(drop)
        .map_err(|e| classify_migration(&e.to_string()))
}

fn embedded_versions() -> Result<Vec<String>, StartupError> {
    let migrations = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map_err(|e| classify_migration(&e.to_string()))?;
    Ok(migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}

/// Compares the embedded migrations with diesel's bookkeeping table without
/// creating it, so that a minimal-grants role never attempts a CREATE.
fn pending(conn: &mut PgConnection) -> Result<Vec<String>, StartupError> {
    let map = |e: diesel::result::Error| classify_migration(&e.to_string());
    let table: Vec<Exists> =
        sql_query("SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS exists")
            .load(conn)
            .map_err(map)?;
    let applied: HashSet<String> = if table.first().is_some_and(|t| t.exists) {
        sql_query("SELECT version FROM __diesel_schema_migrations")
            .load::<AppliedVersion>(conn)
            .map_err(map)?
            .into_iter()
            .map(|v| v.version)
            .collect()
    } else {
        HashSet::new()
    };
    Ok(embedded_versions()?
        .into_iter()
        .filter(|version| !applied.contains(version))
        .collect())
}

fn apply(conn: &mut PgConnection) -> Result<Vec<String>, StartupError> {
    // Another instance may have migrated while this one waited for the lock.
    if pending(conn)?.is_empty() {
        return Ok(Vec::new());
    }
    // One transaction (each migration's own becomes a savepoint), so that
    // migration 12 and the packing it leaves to Rust commit together.
    conn.transaction(
        |conn| -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
            let versions: Vec<String> = conn
                .run_pending_migrations(MIGRATIONS)?
                .iter()
                .map(ToString::to_string)
                .collect();
            if versions.iter().any(|v| v == COMPACT_CREDENTIALS) {
                let packed = pack_credentials(conn)?;
                log::info!("packed {packed} signed credentials (migration 12)");
            }
            Ok(versions)
        },
    )
    .map_err(|e| classify_migration(&e.to_string()))
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgresql
    }

    async fn ping(&self) -> RepoResult<()> {
        blocking(&self.pool, |conn| {
            sql_query("SELECT 1").execute(conn).map(drop).map_err(|e| {
                match from_diesel(e) {
                    openbadges_domain::DomainError::Internal(m) => {
                        openbadges_domain::DomainError::Unavailable(m)
                    }
                    other => other,
                }
                .into()
            })
        })
        .await
    }

    fn issuers(&self) -> &dyn IssuerRepository {
        &self.repositories.issuers
    }

    fn badge_classes(&self) -> &dyn BadgeClassRepository {
        &self.repositories.badge_classes
    }

    fn assertions(&self) -> &dyn AssertionRepository {
        &self.repositories.assertions
    }

    fn users(&self) -> &dyn UserRepository {
        &self.repositories.users
    }

    fn api_keys(&self) -> &dyn ApiKeyRepository {
        &self.repositories.api_keys
    }

    fn signing_keys(&self) -> &dyn SigningKeyRepository {
        &self.repositories.signing_keys
    }

    fn status_lists(&self) -> &dyn StatusListRepository {
        &self.repositories.status_lists
    }

    fn endorsements(&self) -> &dyn EndorsementRepository {
        &self.repositories.endorsements
    }

    fn assets(&self) -> &dyn AssetRepository {
        &self.repositories.assets
    }

    fn outbox(&self) -> &dyn OutboxRepository {
        &self.repositories.outbox
    }

    fn backpack(&self) -> &dyn openbadges_domain::BackpackRepository {
        &self.repositories.backpack
    }

    fn learner_emails(&self) -> &dyn openbadges_domain::learners::LearnerEmailRepository {
        &self.repositories.learner_emails
    }

    fn oauth(&self) -> &dyn OAuthRepository {
        &self.repositories.oauth
    }

    fn deliveries(&self) -> &dyn openbadges_domain::ports::DeliveryRepository {
        &self.repositories.deliveries
    }

    fn platforms(&self) -> &dyn openbadges_domain::platforms::PlatformRepository {
        &self.repositories.platforms
    }

    async fn pending_migrations(&self) -> RepoResult<usize> {
        blocking(&self.pool, |conn| {
            pending(conn)
                .map(|versions| versions.len())
                .map_err(|e| openbadges_domain::DomainError::Unavailable(e.detail).into())
        })
        .await
    }

    fn read_routing(&self) -> Option<ReadRouting> {
        self.replicas.as_ref().map(|replicas| replicas.routing())
    }

    fn open_change_feed(&self) -> RepoResult<Option<Box<dyn ChangeFeed>>> {
        let feed = changes::PgChangeFeed::open(&self.url, &self.redactor)?;
        Ok(Some(Box::new(feed)))
    }

    fn bit_reserve(&self) -> Option<&BitReserve> {
        Some(&self.bits)
    }

    fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        self.checkouts.state(
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }
}
