//! The r2d2 pool, the settings every pooled connection gets, and the one
//! way repositories reach the database: on tokio's blocking pool, never on
//! an async worker.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PoolError, PooledConnection};
use diesel::{Connection, SqliteConnection};
use openbadges_domain::operations::PoolState;
use openbadges_domain::ports::RepoResult;
use openbadges_domain::DomainError;
use openbadges_store_support::instrumentation::{PoolMeter, QueryLogger};

use crate::errors::{pool_unavailable, Failure};
use crate::SqliteOptions;

/// The pool type of this adapter.
pub(crate) type SqlitePool = Pool<ConnectionManager<SqliteConnection>>;

/// A connection checked out of the pool.
pub(crate) type PooledSqlite = PooledConnection<ConnectionManager<SqliteConnection>>;

/// Settings applied to every connection the pool opens. SQLite keeps these
/// per connection, so a connection without them would, for instance, fail
/// at once on a lock instead of waiting, or ignore foreign keys.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionSetup {
    pragmas: String,
    query_logging: bool,
}

/// `SQLITE_CACHE_SIZE` is the page cache of the whole server, as it was for
/// the previous server's single connection: each pooled connection gets
/// its share, so a full pool does not hold `pool_max` times the memory.
/// Same unit as given (pages when positive, KiB when negative), at least
/// one page or KiB.
fn per_connection_cache(total: i64, pool_max: u32) -> i64 {
    let share = total / i64::from(pool_max.max(1));
    match share {
        0 => total.signum(),
        share => share,
    }
}

impl ConnectionSetup {
    pub(crate) fn new(options: &SqliteOptions) -> Self {
        // busy_timeout comes first so that switching to WAL, which needs a
        // lock, waits for other connections instead of failing.
        let pragmas = format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; \
             PRAGMA cache_size = {}; PRAGMA foreign_keys = ON;",
            options.busy_timeout.as_millis(),
            options.sync_mode.as_str(),
            per_connection_cache(options.cache_size, options.pool_max),
        );
        Self {
            pragmas,
            query_logging: options.query_logging,
        }
    }

    /// Configures a freshly opened connection.
    pub(crate) fn apply(&self, conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
        if self.query_logging {
            conn.set_instrumentation(QueryLogger::default());
        }
        conn.batch_execute(&self.pragmas)
    }
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool. Connections are opened eagerly, so a file that cannot
/// be configured fails here rather than on the first request.
pub(crate) fn build(
    url: &str,
    options: &SqliteOptions,
    setup: ConnectionSetup,
) -> Result<Database, PoolError> {
    let checkouts = PoolMeter::default();
    let pool = Pool::builder()
        .max_size(options.pool_max.max(1))
        // A checkout may wait behind connections that are themselves waiting
        // up to busy_timeout for the write lock.
        .connection_timeout(options.busy_timeout + Duration::from_secs(5))
        // A local file does not drop connections the way a network server
        // does; skipping the `SELECT 1` per checkout halves the statements of
        // short requests. Broken connections are still caught by r2d2's
        // `has_broken` check on return.
        .test_on_check_out(false)
        .connection_customizer(Box::new(setup))
        .event_handler(Box::new(checkouts.clone()))
        .build(ConnectionManager::new(url))?;
    Ok(Database {
        pool,
        checkouts,
        writer: Arc::new(tokio::sync::Mutex::new(())),
    })
}

/// The pool, shared by every repository of one store.
#[derive(Clone)]
pub(crate) struct Database {
    pool: SqlitePool,
    checkouts: PoolMeter,
    /// Taken by each write transaction of this process before its
    /// `BEGIN IMMEDIATE` (see [`Database::write`]).
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl Database {
    /// The pool's sizes and checkout counts.
    pub(crate) fn state(&self) -> PoolState {
        let state = self.pool.state();
        self.checkouts.state(
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// A connection, or `Unavailable` once the pool's timeout passes.
    pub(crate) fn connection(&self) -> RepoResult<PooledSqlite> {
        self.pool.get().map_err(|err| pool_unavailable(&err))
    }

    /// A raw checkout for startup work, which classifies its own errors.
    pub(crate) fn checkout(&self) -> Result<PooledSqlite, PoolError> {
        self.pool.get()
    }

    /// Runs `work` with a connection on the blocking pool.
    pub(crate) async fn run<T, F>(&self, work: F) -> RepoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T, Failure> + Send + 'static,
    {
        let database = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = database.connection()?;
            work(&mut conn).map_err(DomainError::from)
        })
        .await
        .map_err(|err| DomainError::Internal(format!("SQLite task did not finish: {err}")))?
    }

    /// Runs read-only `work` in one deferred transaction, so that a count
    /// and a page read together see the same snapshot.
    pub(crate) async fn read<T, F>(&self, work: F) -> RepoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T, Failure> + Send + 'static,
    {
        self.run(move |conn| conn.transaction(work)).await
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction. Taking the write
    /// lock up front makes concurrent writers queue on busy_timeout; a
    /// deferred transaction that upgrades from read to write would instead
    /// fail at once with "database is locked" when another writer got there
    /// first.
    ///
    /// Writers of this process first queue here, in turn and without a
    /// thread: SQLite's busy handler waits by sleeping 1, 2, 5, 10 ... ms
    /// and retrying, so writers queued on it held blocking threads asleep
    /// past the lock's release (signed issuance at 8 connections spent
    /// most of its time so). Only another process's writer still meets
    /// busy_timeout.
    pub(crate) async fn write<T, F>(&self, work: F) -> RepoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T, Failure> + Send + 'static,
    {
        // Held until the transaction ends, even if the request is dropped.
        let turn = Arc::clone(&self.writer).lock_owned().await;
        self.run(move |conn| {
            let _turn = turn;
            conn.immediate_transaction(work)
        })
        .await
    }
}

#[cfg(test)]
mod cache_tests {
    use super::per_connection_cache;

    #[test]
    fn the_cache_budget_is_shared_by_the_pool() {
        assert_eq!(per_connection_cache(10_000, 8), 1_250);
        assert_eq!(per_connection_cache(-64_000, 8), -8_000);
        assert_eq!(
            per_connection_cache(5, 8),
            1,
            "never zero: that would be no cache"
        );
        assert_eq!(per_connection_cache(-5, 8), -1);
        assert_eq!(per_connection_cache(0, 8), 0);
        assert_eq!(per_connection_cache(10_000, 0), 10_000);
    }
}
