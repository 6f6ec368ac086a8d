//! The domain's one error enum. Adapters map their own failures into it at the
//! port boundary; the HTTP layer maps it to status codes.

use std::fmt;

/// One invalid input field and why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's name as the client sent it (dotted for nested fields).
    pub field: String,
    /// A human-readable reason.
    pub message: String,
}

impl FieldError {
    /// A new field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// What can go wrong in a use case or behind a port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The entity does not exist.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Kind of entity, e.g. `issuer`.
        entity: &'static str,
        /// The id that was looked up.
        id: String,
    },
    /// The write breaks a rule of the use case (the last administrator,
    /// say). Written by the domain's use cases only: storage adapters
    /// return the structured variants below, so every store reports the
    /// same condition the same way.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Returned by a repository's `delete` in
    /// [`DeleteMode::Restrict`](crate::ports::DeleteMode) while other
    /// records depend on the entity: an issuer or a badge class that has
    /// awards. Nothing was deleted.
    #[error("{entity} {id} has {count} {dependants}")]
    HasDependants {
        /// Kind of entity that was to be deleted, e.g. `issuer`.
        entity: &'static str,
        /// Its id.
        id: String,
        /// What depends on it, plural, e.g. `awarded credentials`.
        dependants: &'static str,
        /// How many of them there are (at least one).
        count: u64,
    },
    /// Returned by a repository's `create` or `update` when a value that
    /// must be unique is taken: an id, a username, an e-mail address, an
    /// API key, or an issuer's active signing key of an algorithm (another
    /// instance made one first). The value itself is not repeated: it can
    /// be a secret's hash.
    #[error("{entity} with this {field} already exists")]
    Duplicate {
        /// Kind of entity, e.g. `user`.
        entity: &'static str,
        /// The unique field, as a reader names it, e.g. `username`.
        field: &'static str,
    },
    /// Returned by a conditional write
    /// ([`AssertionRepository::set_status`](crate::ports::AssertionRepository::set_status))
    /// when the stored state is no longer the one the caller read: another
    /// request changed it first. Read again and decide again.
    #[error("{entity} {id} is {actual} now, no longer {expected}")]
    Stale {
        /// Kind of entity, e.g. `assertion`.
        entity: &'static str,
        /// Its id.
        id: String,
        /// The state the caller read.
        expected: String,
        /// The state stored now.
        actual: String,
    },
    /// Returned by a write that a reference check let through but the
    /// database refused: a record it refers to, or one referring to it,
    /// was changed by a concurrent request. Retrying is safe.
    #[error("a related record changed concurrently")]
    ConcurrentChange,
    /// The write references an entity that does not exist.
    #[error("{entity} {id} does not exist")]
    MissingReference {
        /// Kind of entity referenced.
        entity: &'static str,
        /// The id that was referenced.
        id: String,
    },
    /// The caller is known but may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Input failed validation; every bad field is listed.
    #[error("validation failed: {}", display_fields(.0))]
    Validation(Vec<FieldError>),
    /// The storage backend cannot be reached or is overloaded; retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or an unexpected backend answer.
    #[error("internal error: {0}")]
    Internal(String),
}

fn display_fields(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl DomainError {
    /// A validation error for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}
