//! PostgreSQL adapter: implements every repository port of
//! `openbadges-domain` with diesel and an r2d2 pool, and embeds the
//! migrations of `migrations-postgres/`.
//!
//! Blocking diesel calls run on tokio's blocking pool, never on an async
//! worker. Migrations are serialised across instances with a session advisory
//! lock, and are not touched at all when nothing is pending, so a role with
//! only the minimal grants (SELECT, INSERT, UPDATE, DELETE, sequence USAGE)
//! can run the server.

mod errors;
mod pool;
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
use openbadges_domain::operations::{Backend, PoolState};
pub use openbadges_domain::operations::{StartupError, StartupFailure};
use openbadges_domain::ports::*;
use openbadges_store_support::instrumentation::{PoolMeter, QueryLogger};
pub use url::url_problem;

use crate::errors::{classify_connection, classify_migration, from_diesel, from_pool};
use crate::pool::{Manager, PgPool, PooledPg};
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
}

impl PgOptions {
    /// Options for `url` with the defaults: 10 connections, 30 s idle
    /// timeout, 5 s connect timeout, no query logging.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_max: 10,
            idle_timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(5),
            query_logging: false,
        }
    }

    /// The URL with libpq's `connect_timeout` added unless the caller set one,
    /// so that an unreachable host fails within the configured time.
    fn effective_url(&self) -> String {
        if self.url.contains("connect_timeout=") {
            return self.url.clone();
        }
        let separator = if self.url.contains('?') { '&' } else { '?' };
        let seconds = self.connect_timeout.as_secs().max(1);
        format!("{}{separator}connect_timeout={seconds}", self.url)
    }
}

impl fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &"<redacted>")
            .field("pool_max", &self.pool_max)
            .field("idle_timeout", &self.idle_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("query_logging", &self.query_logging)
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
    backpack: PgBackpack,
    learner_emails: PgLearnerEmails,
    platforms: PgPlatforms,
}

/// A PostgreSQL-backed [`Store`]. Cloning shares the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    repositories: Arc<Repositories>,
    checkouts: PoolMeter,
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
        let pool = Pool::builder()
            .max_size(options.pool_max)
            // No background refill: a connection being opened by r2d2 while the
            // process exits races OpenSSL's cleanup and can crash the exit.
            .min_idle(Some(0))
            .idle_timeout(options.idle_timeout)
            .connection_timeout(options.connect_timeout)
            .connection_customizer(Box::new(ConnectionSetup {
                query_logging: options.query_logging,
            }))
            .event_handler(Box::new(checkouts.clone()))
            .build(Manager::new(url, redactor.clone()))
            .map_err(|e| {
                StartupError::new(StartupFailure::Other, redactor.redact(&e.to_string()))
            })?;
        let repositories = Arc::new(Repositories {
            issuers: PgIssuers(pool.clone()),
            badge_classes: PgBadgeClasses(pool.clone()),
            assertions: PgAssertions(pool.clone()),
            users: PgUsers(pool.clone()),
            api_keys: PgApiKeys(pool.clone()),
            signing_keys: PgSigningKeys(pool.clone()),
            status_lists: PgStatusLists(pool.clone()),
            endorsements: PgEndorsements(pool.clone()),
            assets: PgAssets(pool.clone()),
            outbox: PgOutbox(pool.clone()),
            backpack: PgBackpack(pool.clone()),
            learner_emails: PgLearnerEmails(pool.clone()),
            platforms: PgPlatforms(pool.clone()),
        });
        Ok(Self {
            pool,
            repositories,
            checkouts,
        })
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
    conn.run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
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

    fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        self.checkouts.state(
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }
}
