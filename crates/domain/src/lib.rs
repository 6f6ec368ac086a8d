#![doc = include_str!("../README.md")]

pub mod access;
pub mod accounts;
pub mod assets;
pub mod backpack;
mod batch;
pub mod deliveries;
mod details;
pub mod documents;
pub mod endorsements;
mod entities;
mod error;
mod ids;
pub mod keys;
pub mod learners;
pub mod mail;
pub mod oauth;
pub mod operations;
mod page;
pub mod platforms;
pub mod ports;
pub mod service;
pub mod status_bits;
#[cfg(feature = "testkit")]
pub mod testkit;
mod values;

pub use assets::{Asset, ImageType};
pub use backpack::{
    BackpackRepository, HeldCredential, HeldCredentialId, HeldFormat, HeldSource, Upserted,
};
pub use batch::{AwardBatch, Spill};
pub use details::*;
pub use endorsements::{EndorsedSubject, Endorsement, EndorsementStatus, Endorser};
pub use entities::*;
pub use error::{DomainError, FieldError};
pub use ids::*;
pub use page::{Cursor, CursorKey, CursorPage, CursorRequest, Page, PageRequest};
pub use values::*;
