//! The Open Badges domain: issuers (profiles), badge classes (achievements),
//! assertions (credentials), users and API keys, with validated value types and
//! the repository ports that storage adapters implement.
//!
//! The crate does no I/O and keeps no global state, so it can be embedded in
//! any Rust service. Adapters (PostgreSQL, SQLite, or your own) implement the
//! traits in [`ports`]; the `testkit` feature exposes the contract every
//! implementation must pass.

pub mod access;
pub mod accounts;
pub mod batch;
pub mod documents;
pub mod entities;
pub mod error;
pub mod ids;
pub mod keys;
pub mod page;
pub mod ports;
pub mod service;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod values;

pub use batch::{AwardBatch, Spill};
pub use entities::*;
pub use error::{DomainError, FieldError};
pub use ids::*;
pub use page::{Cursor, CursorKey, CursorPage, CursorRequest, Page, PageRequest};
pub use values::*;
