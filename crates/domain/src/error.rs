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
    /// The write conflicts with existing data (a unique value taken, an
    /// entity still referenced).
    #[error("conflict: {0}")]
    Conflict(String),
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
