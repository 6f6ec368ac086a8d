//! Error policy of the SQLite adapter, in one place.
//!
//! * No diesel, r2d2 or SQLite type leaves this crate. Repository calls fail
//!   with a [`DomainError`]; opening and migrating fail with a
//!   [`StartupError`] classified for the operator.
//! * `NotFound` and `MissingReference` are decided by the repositories, which
//!   know the entity and id; they are never guessed from a SQLite error.
//! * A unique violation is a `Duplicate` named by the shared constraint
//!   table, a foreign key that still fires a `ConcurrentChange`. A database that is busy, locked,
//!   read-only, full or unreachable is `Unavailable`: the request may succeed
//!   later and the operator has something to fix. Everything else is
//!   `Internal`: a bug or a database changed behind the server's back.
//! * Messages name tables and columns, never values: bind values can carry
//!   e-mail addresses, password hashes or key hashes.
//!
//! Diesel reports most SQLite failures as `DatabaseErrorKind::Unknown` with
//! the text of `sqlite3_errmsg`, and `unsafe` is forbidden here, so the
//! conditions below are recognised by SQLite's fixed English error strings
//! (`sqlite3ErrStr`), which have not changed in the 3.x series.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use openbadges_domain::operations::{StartupError, StartupFailure};
use openbadges_domain::DomainError;
use openbadges_store_support::constraints::duplicate_of_columns;

/// A failure inside one unit of database work: either a diesel error still
/// to be classified, or a decision the repository already made (not found,
/// missing reference, validation). Transactions roll back on either.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Diesel or SQLite failed.
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
            Failure::Query(err) => from_diesel(&err),
            Failure::Domain(err) => err,
        }
    }
}

/// What a SQLite error message says about the database's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Condition {
    /// `SQLITE_BUSY` / `SQLITE_LOCKED`: another connection holds a lock.
    Locked,
    /// `SQLITE_READONLY` / `SQLITE_PERM`: the file cannot be written.
    ReadOnly,
    /// `SQLITE_CANTOPEN`: the file (or its `-wal`/`-shm`) cannot be opened.
    CannotOpen,
    /// `SQLITE_NOTADB`: the file is not a SQLite database.
    NotADatabase,
    /// `SQLITE_IOERR` / `SQLITE_FULL`: the storage underneath is failing.
    Storage,
    /// Anything else.
    Other,
}

/// Recognises the condition behind a SQLite error message.
pub(crate) fn condition(message: &str) -> Condition {
    let message = message.to_ascii_lowercase();
    if message.contains("database is locked")
        || message.contains("table is locked")
        || message.contains("schema is locked")
    {
        Condition::Locked
    } else if message.contains("readonly database") || message.contains("access permission denied")
    {
        Condition::ReadOnly
    } else if message.contains("unable to open database file") {
        Condition::CannotOpen
    } else if message.contains("file is not a database") {
        Condition::NotADatabase
    } else if message.contains("disk i/o error") || message.contains("database or disk is full") {
        Condition::Storage
    } else {
        Condition::Other
    }
}

/// Maps a diesel error from a repository call.
pub(crate) fn from_diesel(err: &DieselError) -> DomainError {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            unique_conflict(info.message())
        }
        // Inserts check their references explicitly, so a foreign key that
        // still fires means a delete or update would orphan other records.
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            DomainError::ConcurrentChange
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => DomainError::Unavailable(format!("SQLite connection failed: {}", info.message())),
        DieselError::DatabaseError(_, info) => match condition(info.message()) {
            Condition::Locked
            | Condition::ReadOnly
            | Condition::CannotOpen
            | Condition::Storage => {
                DomainError::Unavailable(format!("SQLite database: {}", info.message()))
            }
            Condition::NotADatabase | Condition::Other => {
                DomainError::Internal(format!("SQLite error: {}", info.message()))
            }
        },
        other => DomainError::Internal(format!("SQLite adapter error: {other}")),
    }
}

/// A pooled connection could not be had in time: every connection is busy
/// or new ones cannot be opened.
pub(crate) fn pool_unavailable(err: &impl fmt::Display) -> DomainError {
    DomainError::Unavailable(format!("no SQLite connection available: {err}"))
}

/// A value read back from `column` does not decode: the row was written
/// by something other than this adapter, or the encoding changed.
pub(crate) fn stored_value(column: &'static str, reason: impl fmt::Display) -> DomainError {
    DomainError::Internal(format!("stored value of {column} is invalid: {reason}"))
}

/// SQLite names the columns of a violated unique constraint as
/// `UNIQUE constraint failed: users.username`; the shared constraint table
/// turns that into the same `Duplicate` PostgreSQL reports.
fn unique_conflict(message: &str) -> DomainError {
    let columns = message
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or_default();
    let mut table = "";
    let mut names = Vec::new();
    for qualified in columns.split(", ") {
        let (owner, column) = qualified.split_once('.').unwrap_or(("", qualified));
        table = owner;
        names.push(column);
    }
    duplicate_of_columns(table, &names)
}

/// Where a startup failure happened: the same SQLite condition means
/// something else while opening than while migrating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Opening the file and configuring connections.
    Open,
    /// Applying migrations.
    Migrate,
}

/// What the operator needs to read a startup failure: the file and the
/// configured busy timeout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StartupContext<'a> {
    /// `SQLITE_FILE`.
    pub file: &'a Path,
    /// `SQLITE_BUSY_TIMEOUT`.
    pub busy_timeout: Duration,
}

impl StartupContext<'_> {
    /// Classifies a SQLite error message met while opening or migrating.
    pub(crate) fn classify(&self, stage: Stage, message: &str) -> StartupError {
        let file = self.file.display();
        match condition(message) {
            Condition::Locked => self.locked(),
            Condition::ReadOnly => self.not_writable(),
            Condition::NotADatabase => StartupError::new(
                StartupFailure::Other,
                format!(
                    "{file} is not a SQLite database ({message}); check that SQLITE_FILE names \
                     the server's database file"
                ),
            ),
            _ if stage == Stage::Migrate => StartupError::new(
                StartupFailure::MigrationFailed,
                format!(
                    "a migration failed on the SQLite database {file} ({message}); check for \
                     tables or indexes created outside the server's migrations"
                ),
            ),
            _ => StartupError::new(
                StartupFailure::Other,
                format!(
                    "could not open the SQLite database {file} ({message}); check SQLITE_FILE \
                     and the permissions of the file and its directory"
                ),
            ),
        }
    }

    /// Another process holds the database locked.
    pub(crate) fn locked(&self) -> StartupError {
        StartupError::new(
            StartupFailure::Locked,
            format!(
                "another connection held the SQLite database {} locked for longer than the busy \
                 timeout ({} ms)",
                self.file.display(),
                self.busy_timeout.as_millis()
            ),
        )
    }

    /// The file or its directory refuses writes.
    pub(crate) fn not_writable(&self) -> StartupError {
        StartupError::new(
            StartupFailure::NotWritable,
            format!(
                "this process cannot write the SQLite database {} or its directory (SQLite also \
                 creates -wal and -shm files there)",
                self.file.display()
            ),
        )
    }

    /// Classifies a file-system error met while checking the location.
    pub(crate) fn classify_io(&self, path: &Path, err: &std::io::Error) -> StartupError {
        use std::io::ErrorKind;
        match err.kind() {
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => self.not_writable(),
            ErrorKind::NotFound => self.directory_missing(),
            _ => StartupError::new(
                StartupFailure::Other,
                format!(
                    "could not prepare the SQLite database {}: {} failed with {err}; check \
                     SQLITE_FILE and the file system it points to",
                    self.file.display(),
                    path.display()
                ),
            ),
        }
    }

    /// The file's directory does not exist.
    pub(crate) fn directory_missing(&self) -> StartupError {
        let directory = directory_of(self.file);
        StartupError::new(
            StartupFailure::DirectoryMissing,
            format!(
                "directory {} (for the SQLite database {}) does not exist",
                directory.display(),
                self.file.display()
            ),
        )
    }
}

/// The directory holding `file`; a bare file name lives in the working
/// directory.
pub(crate) fn directory_of(file: &Path) -> &Path {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_sqlite_conditions() {
        assert_eq!(condition("database is locked"), Condition::Locked);
        assert_eq!(condition("database table is locked"), Condition::Locked);
        assert_eq!(
            condition("attempt to write a readonly database"),
            Condition::ReadOnly
        );
        assert_eq!(
            condition("unable to open database file"),
            Condition::CannotOpen
        );
        assert_eq!(condition("file is not a database"), Condition::NotADatabase);
        assert_eq!(condition("disk I/O error"), Condition::Storage);
        assert_eq!(condition("no such table: issuers"), Condition::Other);
    }

    #[test]
    fn unique_violation_names_entity_and_field_only() {
        assert_eq!(
            unique_conflict("UNIQUE constraint failed: users.username"),
            DomainError::Duplicate {
                entity: "user",
                field: "username"
            }
        );
        assert_eq!(
            unique_conflict(
                "UNIQUE constraint failed: signing_keys.issuer_id, signing_keys.algorithm"
            ),
            DomainError::Duplicate {
                entity: "active signing key",
                field: "issuer and algorithm"
            }
        );
    }

    #[test]
    fn busy_and_read_only_are_unavailable_not_internal() {
        for message in ["database is locked", "attempt to write a readonly database"] {
            let err = DieselError::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new(message.to_owned()),
            );
            assert!(
                matches!(from_diesel(&err), DomainError::Unavailable(_)),
                "{message}"
            );
        }
        let err = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("no such table: issuers".to_owned()),
        );
        assert!(matches!(from_diesel(&err), DomainError::Internal(_)));
    }

    #[test]
    fn permission_errors_are_not_writable() {
        let context = StartupContext {
            file: Path::new("/srv/badges/db.sqlite"),
            busy_timeout: Duration::from_millis(5000),
        };
        for kind in [
            std::io::ErrorKind::PermissionDenied,
            std::io::ErrorKind::ReadOnlyFilesystem,
        ] {
            let err = context.classify_io(Path::new("/srv/badges"), &std::io::Error::from(kind));
            assert_eq!(err.kind, StartupFailure::NotWritable, "{kind:?}");
            assert!(
                err.detail.contains("/srv/badges/db.sqlite"),
                "{}",
                err.detail
            );
        }
        let err = context.classify(Stage::Migrate, "attempt to write a readonly database");
        assert_eq!(err.kind, StartupFailure::NotWritable);
    }

    #[test]
    fn bare_file_name_lives_in_working_directory() {
        assert_eq!(directory_of(Path::new("db.sqlite")), Path::new("."));
        assert_eq!(
            directory_of(Path::new("/data/db.sqlite")),
            Path::new("/data")
        );
    }
}
