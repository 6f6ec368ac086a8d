//! What an operator deals with, beside the repository ports: which backend
//! runs, why it could not start, and how busy its connection pool is. The
//! ports in [`ports`](crate::ports) are what an embedder implements; these
//! types are what a store reports about itself.

/// Which storage backend is behind a [`Store`](crate::ports::Store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgresql,
    /// An embedded SQLite file.
    Sqlite,
    /// Kept in memory by the embedding process, nothing persisted (the
    /// `openbadges-memory-store` crate); never chosen by `DB_TYPE`.
    Memory,
}

impl Backend {
    /// The name used in configuration (`DB_TYPE`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Postgresql => "postgresql",
            Self::Sqlite => "sqlite",
            Self::Memory => "memory",
        }
    }
}

/// Why a backend could not be opened or migrated: the troubleshooting cases
/// of the database guide, so the operator is told what to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupFailure {
    /// Nothing listens at the configured host and port.
    ConnectionRefused,
    /// The server refused the user or password.
    AuthenticationFailed,
    /// The named database does not exist.
    DatabaseMissing,
    /// The role lacks a privilege the operation needs (typically CREATE for
    /// a pending migration).
    PermissionDenied,
    /// The SQLite file's directory does not exist.
    DirectoryMissing,
    /// The SQLite file or its directory is not writable.
    NotWritable,
    /// Another process holds the SQLite database locked.
    Locked,
    /// A migration failed for another reason (conflicting schema, ...).
    MigrationFailed,
    /// Anything else.
    Other,
}

/// A failure to open or migrate a backend, classified for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct StartupError {
    /// The troubleshooting case.
    pub kind: StartupFailure,
    /// What happened, free of secrets.
    pub detail: String,
}

impl StartupError {
    /// A new startup error.
    pub fn new(kind: StartupFailure, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

/// A store's connection pool at one moment, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections, in use or idle.
    pub connections: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
    /// Connections handed out since the start.
    pub checkouts: u64,
    /// The time those checkouts waited, in total (opening a new connection
    /// included).
    pub checkout_wait: std::time::Duration,
    /// Checkouts that gave up, no connection having come free in time.
    pub checkout_timeouts: u64,
}

/// How public reads are spread over read replicas, for `/health/ready` and
/// metrics: reported only by a store that has replicas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadRouting {
    /// Each replica, in the order configured.
    pub replicas: Vec<ReplicaState>,
    /// Reads of the read view that the primary served because no replica
    /// was fit to (all down or lagging), since the start.
    pub primary_reads: u64,
}

/// One read replica at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaState {
    /// Its position in the configured list, from 0: replicas are named by
    /// index, so that no part of their URLs has to be shown.
    pub index: usize,
    /// Whether it serves reads now.
    pub health: ReplicaHealth,
    /// How far behind the primary it may be, at most; `None` until it has
    /// been measured once.
    pub lag: Option<std::time::Duration>,
    /// Reads sent to it since the start.
    pub queries: u64,
    /// Of those, reads that failed there (it went away) and were answered
    /// by the primary instead.
    pub fallbacks: u64,
}

/// Whether a replica takes reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaHealth {
    /// It answers and is within the lag bound: it gets reads.
    Serving,
    /// It answers but is further behind than the bound: skipped until it
    /// catches up.
    Lagging,
    /// It does not answer (or is no standby): skipped until it does.
    Down,
}

impl ReplicaHealth {
    /// The name shown by `/health/ready` and in metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Serving => "serving",
            Self::Lagging => "lagging",
            Self::Down => "down",
        }
    }
}
