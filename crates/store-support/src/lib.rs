//! What the PostgreSQL and SQLite adapters share that is not SQL, written
//! once so the two stores answer alike.
//!
//! The crate depends on the domain only: it knows the schema's names (both
//! adapters' migrations use the same ones) but no database library.

pub mod constraints;
pub mod refusals;
