//! SQLite adapter for the Open Badges domain ports: diesel with a bundled
//! SQLite, an r2d2 pool, and the migrations of `migrations-sqlite/`
//! embedded in the binary.
//!
//! ```no_run
//! use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore};
//!
//! # fn main() -> Result<(), openbadges_diesel_sqlite::StartupError> {
//! let store = SqliteStore::open(&SqliteOptions::new("/data/openbadges.sqlite"))?;
//! store.migrate()?;
//! # Ok(())
//! # }
//! ```
//!
//! Every connection runs in WAL mode with `busy_timeout` set, so readers
//! never block the single writer and concurrent writers queue instead of
//! failing. All database work runs on tokio's blocking pool.

mod changes;
mod compaction;
mod errors;
mod pool;
mod repositories;
mod rows;
mod schema;

use std::fmt;
use std::fs::{self, OpenOptions};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use openbadges_domain::ports::{
    ApiKeyRepository, AssertionRepository, AssetRepository, BadgeClassRepository, ChangeFeed,
    EndorsementRepository, IssuerRepository, RepoResult, SigningKeyRepository,
    StatusListRepository, Store, UserRepository,
};
use openbadges_domain::DomainError;

use openbadges_domain::operations::Backend;
pub use openbadges_domain::operations::{StartupError, StartupFailure};
use openbadges_domain::status_bits::BitReserve;

use crate::compaction::{pack_credentials, COMPACT_CREDENTIALS};
use crate::errors::{directory_of, Stage, StartupContext};
use crate::pool::{ConnectionSetup, Database};
use crate::repositories::{
    ApiKeys, Assertions, Assets, Backpack, BadgeClasses, Deliveries, Endorsements, Issuers,
    LearnerEmails, OAuth, Outbox, Platforms, SigningKeys, StatusLists, Users,
};

/// A row of `PRAGMA foreign_key_check`: a row whose reference is broken.
#[derive(diesel::QueryableByName)]
struct ForeignKeyViolation {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table: String,
}

/// The schema migrations, compiled in so the binary needs no files beside
/// it. They are forward-only: none has a `down.sql`.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations-sqlite");

/// SQLite `synchronous` setting (`SQLITE_SYNC_MODE`): how often SQLite
/// waits for data to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Never syncs; fastest, but an OS crash or power loss can corrupt the
    /// database.
    Off,
    /// Syncs at WAL checkpoints; in WAL mode a power loss may roll back the
    /// last commits but never corrupts. The usual choice with WAL.
    #[default]
    Normal,
    /// Syncs on every commit: durable across power loss.
    Full,
    /// Like `Full`, and also syncs the directory after deleting journals.
    Extra,
}

impl SyncMode {
    /// The name SQLite's `PRAGMA synchronous` takes: `OFF`, `NORMAL`, `FULL`
    /// or `EXTRA`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Off => "OFF",
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
            Self::Extra => "EXTRA",
        }
    }
}

impl FromStr for SyncMode {
    type Err = String;

    /// Parses `OFF`, `NORMAL`, `FULL` or `EXTRA`, in any case.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_uppercase().as_str() {
            "OFF" => Ok(Self::Off),
            "NORMAL" => Ok(Self::Normal),
            "FULL" => Ok(Self::Full),
            "EXTRA" => Ok(Self::Extra),
            _ => Err(format!(
                "unknown SQLite sync mode {value:?}: expected one of OFF, NORMAL, FULL, EXTRA"
            )),
        }
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to open the SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// The database file (`SQLITE_FILE`); created if missing, but its
    /// directory must exist.
    pub file: PathBuf,
    /// How long a connection waits for a lock before giving up
    /// (`SQLITE_BUSY_TIMEOUT`, in milliseconds).
    pub busy_timeout: Duration,
    /// `PRAGMA synchronous` (`SQLITE_SYNC_MODE`).
    pub sync_mode: SyncMode,
    /// The page cache of the whole pool (`SQLITE_CACHE_SIZE`): pages when
    /// positive, KiB when negative; each connection's `PRAGMA cache_size` is
    /// its share (`cache_size / pool_max`).
    pub cache_size: i64,
    /// Most connections the pool keeps open (at least one is used).
    pub pool_max: u32,
    /// Log every SQL statement and its duration at debug level under the
    /// `openbadges::sql` target (`DB_QUERY_LOGGING`); bind values are never
    /// logged.
    pub query_logging: bool,
}

impl SqliteOptions {
    /// Options for `file` with the defaults of the database guide (5000 ms
    /// busy timeout, `NORMAL` sync), 8 connections, no query logging, and a
    /// 4000-page cache for the whole pool: SQLite's own default of 2 MiB a
    /// connection, so that the server stays small. The guide's example of
    /// 10000 pages is a setting away.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            busy_timeout: Duration::from_millis(5000),
            sync_mode: SyncMode::Normal,
            cache_size: 4_000,
            pool_max: 8,
            query_logging: false,
        }
    }
}

/// The SQLite implementation of [`Store`]. Cloning is cheap and shares the
/// pool.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    file: PathBuf,
    busy_timeout: Duration,
    db: Database,
    issuers: Issuers,
    badge_classes: BadgeClasses,
    deliveries: Deliveries,
    assertions: Assertions,
    users: Users,
    api_keys: ApiKeys,
    signing_keys: SigningKeys,
    status_lists: StatusLists,
    endorsements: Endorsements,
    assets: Assets,
    outbox: Outbox,
    backpack: Backpack,
    learner_emails: LearnerEmails,
    oauth: OAuth,
    platforms: Platforms,
    bits: BitReserve,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("file", &self.inner.file)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database (creating the file if needed) and builds the
    /// connection pool, every connection configured with the options'
    /// PRAGMAs. Blocks; call it before serving, or on a blocking thread.
    ///
    /// Failures are classified for the operator: the directory is missing,
    /// the file or directory is not writable, the database is locked, or
    /// something else.
    pub fn open(options: &SqliteOptions) -> Result<Self, StartupError> {
        let context = StartupContext {
            file: &options.file,
            busy_timeout: options.busy_timeout,
        };
        check_location(&context)?;
        let url = database_url(&context)?;
        let setup = ConnectionSetup::new(options);

        // One connection configured by hand first: its error still carries
        // SQLite's message, whereas the pool keeps retrying a failing
        // connection until its timeout and then reports only the last error
        // as text.
        let mut first = SqliteConnection::establish(&url)
            .map_err(|err| context.classify(Stage::Open, &err.to_string()))?;
        setup
            .apply(&mut first)
            .map_err(|err| context.classify(Stage::Open, &err.to_string()))?;
        drop(first);

        let db = pool::build(&url, options, setup)
            .map_err(|err| context.classify(Stage::Open, &err.to_string()))?;
        log::debug!("opened SQLite database {}", options.file.display());
        Ok(Self {
            inner: Arc::new(Inner {
                file: options.file.clone(),
                busy_timeout: options.busy_timeout,
                deliveries: Deliveries::new(db.clone()),
                issuers: Issuers::new(db.clone()),
                badge_classes: BadgeClasses::new(db.clone()),
                assertions: Assertions::new(db.clone()),
                users: Users::new(db.clone()),
                api_keys: ApiKeys::new(db.clone()),
                signing_keys: SigningKeys::new(db.clone()),
                status_lists: StatusLists::new(db.clone()),
                endorsements: Endorsements::new(db.clone()),
                assets: Assets::new(db.clone()),
                outbox: Outbox::new(db.clone()),
                backpack: Backpack::new(db.clone()),
                learner_emails: LearnerEmails::new(db.clone()),
                oauth: OAuth::new(db.clone()),
                platforms: Platforms::new(db.clone()),
                bits: BitReserve::new(),
                db,
            }),
        })
    }

    /// Versions of the embedded migrations not yet applied, oldest first.
    /// Blocks.
    pub fn pending_migrations(&self) -> Result<Vec<String>, StartupError> {
        let context = self.startup_context();
        let mut conn = self
            .inner
            .db
            .checkout()
            .map_err(|err| context.classify(Stage::Open, &err.to_string()))?;
        let pending = conn
            .pending_migrations(MIGRATIONS)
            .map_err(|err| context.classify(Stage::Migrate, &err.to_string()))?;
        Ok(pending
            .iter()
            .map(|migration| migration.name().version().to_string())
            .collect())
    }

    /// Applies the pending migrations, all in one transaction, and returns
    /// the versions applied (none when the schema is current). Blocks.
    ///
    /// The transaction is `BEGIN IMMEDIATE`, so two servers starting on the
    /// same file at once take turns: the second waits up to busy_timeout,
    /// then finds nothing left to apply.
    pub fn migrate(&self) -> Result<Vec<String>, StartupError> {
        let context = self.startup_context();
        let mut conn = self
            .inner
            .db
            .checkout()
            .map_err(|err| context.classify(Stage::Open, &err.to_string()))?;
        // SQLite cannot alter a constraint: a migration that changes one
        // rebuilds the table (new table, copy, drop, rename), and with
        // foreign keys enforced, dropping a referenced table would cascade
        // into its dependants. SQLite's documented procedure: enforcement
        // off outside the transaction (the pragma is ignored inside one),
        // `foreign_key_check` before committing, enforcement on again.
        conn.batch_execute("PRAGMA foreign_keys = OFF")
            .map_err(|err| context.classify(Stage::Migrate, &err.to_string()))?;
        let applied = conn.immediate_transaction(
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
                let broken = diesel::sql_query("PRAGMA foreign_key_check")
                    .load::<ForeignKeyViolation>(conn)?;
                if let Some(first) = broken.first() {
                    return Err(format!(
                        "the migrations would leave {} rows with a broken foreign key \
                         (the first in table {})",
                        broken.len(),
                        first.table
                    )
                    .into());
                }
                Ok(versions)
            },
        );
        // Back on whatever happened: the connection returns to the pool.
        let restored = conn.batch_execute("PRAGMA foreign_keys = ON");
        let applied = applied.map_err(|err| context.classify(Stage::Migrate, &err.to_string()))?;
        restored.map_err(|err| context.classify(Stage::Migrate, &err.to_string()))?;
        if !applied.is_empty() {
            log::info!(
                "applied SQLite migrations {} to {}",
                applied.join(", "),
                self.inner.file.display()
            );
        }
        Ok(applied)
    }

    fn startup_context(&self) -> StartupContext<'_> {
        StartupContext {
            file: &self.inner.file,
            busy_timeout: self.inner.busy_timeout,
        }
    }

    #[cfg(test)]
    fn database(&self) -> &Database {
        &self.inner.db
    }
}

/// Checks what SQLite would otherwise report vaguely ("unable to open
/// database file"): that the directory exists and that the process can
/// write there. Writing is the only reliable test; mode bits say nothing
/// about ACLs, read-only mounts or a process running as root.
fn check_location(context: &StartupContext<'_>) -> Result<(), StartupError> {
    let file = context.file;
    let directory = directory_of(file);
    match fs::metadata(directory) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(context.directory_missing()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(context.directory_missing())
        }
        Err(err) => return Err(context.classify_io(directory, &err)),
    }

    // SQLite needs to create the -wal and -shm files beside the database,
    // so the directory itself must take new files.
    let probe = directory.join(format!(
        ".openbadges-write-probe-{}",
        uuid::Uuid::new_v4().simple()
    ));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|err| context.classify_io(directory, &err))?;
    if let Err(err) = fs::remove_file(&probe) {
        log::warn!("could not remove write probe {}: {err}", probe.display());
    }

    match fs::metadata(file) {
        Ok(meta) if meta.is_dir() => Err(StartupError::new(
            StartupFailure::Other,
            format!(
                "{} is a directory; SQLITE_FILE must name the database file inside it",
                file.display()
            ),
        )),
        Ok(_) => OpenOptions::new()
            .read(true)
            .write(true)
            .open(file)
            .map(drop)
            .map_err(|err| context.classify_io(file, &err)),
        // SQLite creates it.
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(context.classify_io(file, &err)),
    }
}

/// The name to hand SQLite. Diesel opens with `SQLITE_OPEN_URI` and
/// rewrites `sqlite://`, and SQLite treats `:memory:` specially, so a
/// relative path is anchored at `./` to always mean a file.
fn database_url(context: &StartupContext<'_>) -> Result<String, StartupError> {
    let file = context.file;
    let text = file.to_str().ok_or_else(|| {
        StartupError::new(
            StartupFailure::Other,
            format!(
                "the SQLite path {} is not valid UTF-8; choose a SQLITE_FILE path in UTF-8",
                file.display()
            ),
        )
    })?;
    if file.is_relative() && !text.starts_with("./") && !text.starts_with("../") {
        Ok(format!("./{text}"))
    } else {
        Ok(text.to_owned())
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> RepoResult<()> {
        self.inner
            .db
            .run(|conn| {
                diesel::sql_query("SELECT 1").execute(conn)?;
                Ok(())
            })
            .await
            // Whatever kept the database from answering, a health check
            // reports it as unavailable.
            .map_err(|err| match err {
                DomainError::Unavailable(_) => err,
                other => DomainError::Unavailable(other.to_string()),
            })
    }

    fn issuers(&self) -> &dyn IssuerRepository {
        &self.inner.issuers
    }

    fn badge_classes(&self) -> &dyn BadgeClassRepository {
        &self.inner.badge_classes
    }

    fn assertions(&self) -> &dyn AssertionRepository {
        &self.inner.assertions
    }

    fn users(&self) -> &dyn UserRepository {
        &self.inner.users
    }

    fn api_keys(&self) -> &dyn ApiKeyRepository {
        &self.inner.api_keys
    }

    fn signing_keys(&self) -> &dyn SigningKeyRepository {
        &self.inner.signing_keys
    }

    fn status_lists(&self) -> &dyn StatusListRepository {
        &self.inner.status_lists
    }

    fn endorsements(&self) -> &dyn EndorsementRepository {
        &self.inner.endorsements
    }

    fn assets(&self) -> &dyn AssetRepository {
        &self.inner.assets
    }

    fn outbox(&self) -> &dyn openbadges_domain::ports::OutboxRepository {
        &self.inner.outbox
    }

    fn backpack(&self) -> &dyn openbadges_domain::BackpackRepository {
        &self.inner.backpack
    }

    fn learner_emails(&self) -> &dyn openbadges_domain::learners::LearnerEmailRepository {
        &self.inner.learner_emails
    }

    fn oauth(&self) -> &dyn openbadges_domain::ports::OAuthRepository {
        &self.inner.oauth
    }

    fn deliveries(&self) -> &dyn openbadges_domain::ports::DeliveryRepository {
        &self.inner.deliveries
    }

    fn platforms(&self) -> &dyn openbadges_domain::platforms::PlatformRepository {
        &self.inner.platforms
    }

    async fn pending_migrations(&self) -> RepoResult<usize> {
        let store = self.clone();
        // The inherent method: blocking, and it lists the versions.
        tokio::task::spawn_blocking(move || SqliteStore::pending_migrations(&store))
            .await
            .map_err(|err| DomainError::Internal(format!("SQLite task did not finish: {err}")))?
            .map(|versions| versions.len())
            .map_err(|err| DomainError::Unavailable(err.detail))
    }

    fn open_change_feed(&self) -> RepoResult<Option<Box<dyn ChangeFeed>>> {
        let context = self.startup_context();
        let url = database_url(&context).map_err(|e| DomainError::Unavailable(e.detail))?;
        let feed = changes::SqliteChangeFeed::open(&url, self.inner.busy_timeout)?;
        Ok(Some(Box::new(feed)))
    }

    fn pool_state(&self) -> openbadges_domain::operations::PoolState {
        self.inner.db.state()
    }

    fn bit_reserve(&self) -> Option<&BitReserve> {
        Some(&self.inner.bits)
    }
}

#[cfg(test)]
mod tests;
