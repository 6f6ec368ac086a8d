//! The repository contract of the domain, run against SQLite: each check
//! gets its own freshly migrated database file.

use std::sync::Arc;

use async_trait::async_trait;
use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore};
use openbadges_domain::operations::Backend;
use openbadges_domain::ports::{
    ApiKeyRepository, AssertionRepository, AssetRepository, BadgeClassRepository,
    EndorsementRepository, IssuerRepository, RepoResult, SigningKeyRepository,
    StatusListRepository, Store, UserRepository,
};
use tempfile::TempDir;

/// A store that owns its temporary directory, so the database file lives
/// exactly as long as the test's last handle on the store.
struct TestStore {
    // Declared first so it drops first: the pool closes its connections
    // before the directory is removed.
    store: SqliteStore,
    _dir: TempDir,
}

#[async_trait]
impl Store for TestStore {
    fn backend(&self) -> Backend {
        self.store.backend()
    }
    async fn ping(&self) -> RepoResult<()> {
        self.store.ping().await
    }
    fn issuers(&self) -> &dyn IssuerRepository {
        self.store.issuers()
    }
    fn badge_classes(&self) -> &dyn BadgeClassRepository {
        self.store.badge_classes()
    }
    fn assertions(&self) -> &dyn AssertionRepository {
        self.store.assertions()
    }
    fn users(&self) -> &dyn UserRepository {
        self.store.users()
    }
    fn api_keys(&self) -> &dyn ApiKeyRepository {
        self.store.api_keys()
    }

    fn signing_keys(&self) -> &dyn SigningKeyRepository {
        self.store.signing_keys()
    }

    fn status_lists(&self) -> &dyn StatusListRepository {
        self.store.status_lists()
    }

    fn endorsements(&self) -> &dyn EndorsementRepository {
        self.store.endorsements()
    }

    fn assets(&self) -> &dyn AssetRepository {
        self.store.assets()
    }

    fn outbox(&self) -> &dyn openbadges_domain::ports::OutboxRepository {
        self.store.outbox()
    }

    fn backpack(&self) -> &dyn openbadges_domain::BackpackRepository {
        self.store.backpack()
    }

    fn learner_emails(&self) -> &dyn openbadges_domain::learners::LearnerEmailRepository {
        self.store.learner_emails()
    }

    fn oauth(&self) -> &dyn openbadges_domain::ports::OAuthRepository {
        self.store.oauth()
    }

    fn deliveries(&self) -> &dyn openbadges_domain::ports::DeliveryRepository {
        self.store.deliveries()
    }

    fn platforms(&self) -> &dyn openbadges_domain::platforms::PlatformRepository {
        self.store.platforms()
    }

    async fn pending_migrations(&self) -> RepoResult<usize> {
        Store::pending_migrations(&self.store).await
    }

    fn pool_state(&self) -> openbadges_domain::operations::PoolState {
        self.store.pool_state()
    }

    fn open_change_feed(
        &self,
    ) -> openbadges_domain::ports::RepoResult<Option<Box<dyn openbadges_domain::ports::ChangeFeed>>>
    {
        self.store.open_change_feed()
    }

    fn bit_reserve(&self) -> Option<&openbadges_domain::status_bits::BitReserve> {
        self.store.bit_reserve()
    }
}

async fn fresh_store() -> Arc<dyn Store> {
    tokio::task::spawn_blocking(|| {
        let dir = TempDir::new().expect("temp dir");
        let store = SqliteStore::open(&SqliteOptions::new(dir.path().join("contract.sqlite")))
            .expect("open");
        store.migrate().expect("migrate");
        assert_eq!(store.backend(), Backend::Sqlite);
        Arc::new(TestStore { store, _dir: dir }) as Arc<dyn Store>
    })
    .await
    .expect("open task")
}

openbadges_domain::store_contract_tests!(fresh_store());

/// On a file of its own, as every store here is.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_feed_reports_what_is_published() {
    openbadges_domain::testkit::change_feed_reports_what_is_published(fresh_store().await).await;
}
