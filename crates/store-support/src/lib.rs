//! What the PostgreSQL and SQLite adapters share that is not SQL, written
//! once so the two stores answer alike: how the schema's unique
//! constraints and refusals read as [`DomainError`](openbadges_domain::DomainError)s,
//! how states and signed credentials are stored, page bounds, the query
//! logger and the pool meter.
//!
//! It knows the schema's names (both adapters' migrations use the same
//! ones) and diesel's core traits (instrumentation, r2d2 events), but no
//! database backend.

pub mod ahead;
pub mod backpack;
pub mod codes;
pub mod constraints;
pub mod endorsements;
pub mod instrumentation;
pub mod mail;
pub mod packing;
pub mod pages;
pub mod refusals;
