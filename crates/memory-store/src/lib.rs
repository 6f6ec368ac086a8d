//! Every repository port of the Open Badges domain, kept in memory.
//!
//! [`MemoryStore`] is a [`Store`] for embedding the domain without a
//! database (trying it out, examples, fast tests of code built on the
//! ports). It keeps the promises the SQL adapters keep and passes the same
//! repository contract (`openbadges_domain::testkit`): unique values,
//! references between records, delete modes, lists ordered by
//! `(created_at, id)`, status list allocation, batches stored all or none,
//! and compare-and-set status changes. Every call holds one lock over all
//! the tables for its whole length, so each call is one transaction.
//!
//! Nothing is persisted: the data lives as long as the store. Each store is
//! its own database; there is no global state.
//!
//! ```
//! use openbadges_domain::ports::{IssuerFilter, Store};
//! use openbadges_domain::PageRequest;
//! use openbadges_memory_store::MemoryStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let store = MemoryStore::new();
//! let issuers = store.issuers().list(&IssuerFilter::default(), PageRequest::default()).await?;
//! assert_eq!(issuers.total, 0);
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! `docs/embedding.md` of the repository walks through issuing and
//! revoking a credential with it.

mod tables;

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use openbadges_domain::operations::{Backend, PoolState};
use openbadges_domain::ports::{
    ApiKeyRepository, AssertionRepository, AssetRepository, BadgeClassRepository,
    EndorsementRepository, IssuerRepository, RepoResult, SigningKeyRepository,
    StatusListRepository, Store, UserRepository,
};
use openbadges_domain::DomainError;

use tables::Tables;

/// A [`Store`] in memory: every repository over one set of tables behind
/// one lock.
#[derive(Debug, Default)]
pub struct MemoryStore {
    db: Db,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The tables and their lock; implements every repository port (in
/// `tables`).
#[derive(Debug, Default)]
struct Db(Mutex<Tables>);

impl Db {
    /// The tables, for the length of one call. No call awaits while it
    /// holds them, so a plain mutex serves.
    fn lock(&self) -> RepoResult<MutexGuard<'_, Tables>> {
        // A panic while the lock was held may have left a write half done.
        self.0.lock().map_err(|_| {
            DomainError::Internal("the in-memory store was poisoned by a panic".to_owned())
        })
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> Backend {
        Backend::Memory
    }

    async fn ping(&self) -> RepoResult<()> {
        self.db.lock().map(drop)
    }

    fn issuers(&self) -> &dyn IssuerRepository {
        &self.db
    }

    fn badge_classes(&self) -> &dyn BadgeClassRepository {
        &self.db
    }

    fn assertions(&self) -> &dyn AssertionRepository {
        &self.db
    }

    fn users(&self) -> &dyn UserRepository {
        &self.db
    }

    fn api_keys(&self) -> &dyn ApiKeyRepository {
        &self.db
    }

    fn signing_keys(&self) -> &dyn SigningKeyRepository {
        &self.db
    }

    fn status_lists(&self) -> &dyn StatusListRepository {
        &self.db
    }

    fn endorsements(&self) -> &dyn EndorsementRepository {
        &self.db
    }

    fn assets(&self) -> &dyn AssetRepository {
        &self.db
    }

    fn outbox(&self) -> &dyn openbadges_domain::ports::OutboxRepository {
        &self.db
    }

    fn backpack(&self) -> &dyn openbadges_domain::BackpackRepository {
        &self.db
    }

    fn platforms(&self) -> &dyn openbadges_domain::platforms::PlatformRepository {
        &self.db
    }

    fn learner_emails(&self) -> &dyn openbadges_domain::learners::LearnerEmailRepository {
        &self.db
    }

    fn oauth(&self) -> &dyn openbadges_domain::ports::OAuthRepository {
        &self.db
    }

    fn deliveries(&self) -> &dyn openbadges_domain::ports::DeliveryRepository {
        &self.db
    }

    /// Nothing to migrate: the tables are Rust maps.
    async fn pending_migrations(&self) -> RepoResult<usize> {
        Ok(0)
    }

    /// No connections: an empty pool.
    fn pool_state(&self) -> PoolState {
        PoolState::default()
    }
}
