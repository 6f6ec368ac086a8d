//! The one place where diesel and r2d2 errors become domain errors or startup
//! failures: nothing of diesel crosses a port.

use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use openbadges_domain::operations::{StartupError, StartupFailure};
use openbadges_domain::DomainError;
use openbadges_store_support::constraints::duplicate_of_constraint;

use crate::url::Redactor;

/// Maps a query error. `entity` names what the statement was about.
pub(crate) fn from_diesel(entity: &'static str, error: DieselError) -> DomainError {
    match error {
        DieselError::NotFound => DomainError::NotFound {
            entity,
            id: String::new(),
        },
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
            _ => DomainError::Internal(format!("{entity}: {}", info.message())),
        },
        other => DomainError::Internal(format!("{entity}: {other}")),
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
