//! Error policy of the PostgreSQL adapter, in one place, as the SQLite
//! adapter's.
//!
//! * No diesel, r2d2 or libpq type leaves this crate. Repository work fails
//!   with a [`Failure`], which `?` builds from either kind of error and
//!   which becomes a [`DomainError`] at the port; connecting and migrating
//!   fail with a [`StartupError`] classified for the operator.
//! * `NotFound` and `MissingReference` are decided by the repositories, which
//!   know the entity and id; they are never guessed from a diesel error.
//! * A unique violation is a `Duplicate` named by the shared constraint
//!   table, a foreign key that still fires a `ConcurrentChange`; a closed
//!   connection, a serialization failure or a read-only server is
//!   `Unavailable`; everything else is `Internal`.
//! * Messages never carry the database's detail line: it repeats bind
//!   values, which can be key hashes.

use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use openbadges_domain::operations::{StartupError, StartupFailure};
use openbadges_domain::DomainError;
use openbadges_store_support::constraints::duplicate_of_constraint;

use crate::url::Redactor;

/// A failure inside one unit of database work: either a diesel error still
/// to be classified, or a decision the repository already made (not found,
/// missing reference, validation). Transactions roll back on either.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Diesel or PostgreSQL failed.
    Query(DieselError),
    /// The repository refused the operation.
    Domain(DomainError),
}

impl From<DieselError> for Failure {
    fn from(err: DieselError) -> Self {
        Self::Query(err)
    }
}

impl From<DomainError> for Failure {
    fn from(err: DomainError) -> Self {
        Self::Domain(err)
    }
}

impl From<Failure> for DomainError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Query(err) => from_diesel(err),
            Failure::Domain(err) => err,
        }
    }
}

/// Maps a query error. `NotFound` and `MissingReference` are decided by the
/// repositories, which know the entity and id; a diesel `NotFound` reaching
/// here is a statement that should have been `optional()`, so `Internal`.
pub(crate) fn from_diesel(error: DieselError) -> DomainError {
    match error {
        DieselError::DatabaseError(kind, info) => match kind {
            // The database's own message is not passed on: its detail line
            // repeats the value, which can be a key hash.
            DatabaseErrorKind::UniqueViolation => duplicate_of_constraint(info.constraint_name()),
            // Explicit checks run first; this is a concurrent change racing them.
            DatabaseErrorKind::ForeignKeyViolation => DomainError::ConcurrentChange,
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::SerializationFailure
            | DatabaseErrorKind::ReadOnlyTransaction => {
                DomainError::Unavailable(info.message().to_owned())
            }
            _ => DomainError::Internal(format!("PostgreSQL error: {}", info.message())),
        },
        other => DomainError::Internal(format!("PostgreSQL adapter error: {other}")),
    }
}

/// Maps a failure to check a connection out of the pool.
pub(crate) fn from_pool(error: diesel::r2d2::PoolError) -> DomainError {
    DomainError::Unavailable(format!("no database connection available: {error}"))
}

/// A stored value that no longer parses: data written around the server.
pub(crate) fn corrupt(column: &str, problem: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(format!("stored {column} is invalid: {problem}"))
}

/// Classifies a libpq connection failure as one of the guide's
/// troubleshooting cases. libpq's messages name what it took for the host
/// and port, which holds a piece of the password when it misread the URL:
/// the detail goes through `redactor`.
pub(crate) fn classify_connection(error: &ConnectionError, redactor: &Redactor) -> StartupError {
    let message = match error {
        ConnectionError::BadConnection(message) => message.trim().to_owned(),
        ConnectionError::InvalidConnectionUrl(message) => {
            return StartupError::new(
                StartupFailure::Other,
                redactor.redact(&format!(
                    "the PostgreSQL connection URL is invalid: {message}"
                )),
            )
        }
        other => other.to_string(),
    };
    let lower = message.to_lowercase();
    let kind = if lower.contains("password authentication failed")
        || (lower.contains("role") && lower.contains("does not exist"))
        || lower.contains("no pg_hba.conf entry")
        || lower.contains("authentication failed")
        || lower.contains("password") && lower.contains("no password supplied")
    {
        StartupFailure::AuthenticationFailed
    } else if lower.contains("database") && lower.contains("does not exist") {
        StartupFailure::DatabaseMissing
    } else if lower.contains("permission denied") {
        StartupFailure::PermissionDenied
    } else if lower.contains("connection refused")
        || lower.contains("could not connect")
        || lower.contains("could not translate host name")
        || lower.contains("timeout expired")
        || lower.contains("no route to host")
        || lower.contains("network is unreachable")
    {
        StartupFailure::ConnectionRefused
    } else {
        StartupFailure::Other
    };
    StartupError::new(kind, redactor.redact(&first_line(&message)))
}

/// Classifies a failed migration.
pub(crate) fn classify_migration(message: &str) -> StartupError {
    let kind = if message.to_lowercase().contains("permission denied") {
        StartupFailure::PermissionDenied
    } else {
        StartupFailure::MigrationFailed
    };
    StartupError::new(kind, first_line(message))
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_owned()
}
