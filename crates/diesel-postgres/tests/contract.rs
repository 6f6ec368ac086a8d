//! The domain's repository contract against a real PostgreSQL database: one
//! fresh database for this test binary, migrated once.

use std::sync::{Arc, OnceLock};

use openbadges_diesel_postgres::{PgOptions, PgStore};
use openbadges_domain::ports::Store;
use openbadges_testdb::TestDatabase;

fn database() -> &'static TestDatabase {
    static DATABASE: OnceLock<TestDatabase> = OnceLock::new();
    DATABASE.get_or_init(|| {
        let db = TestDatabase::create();
        let store = PgStore::connect(&PgOptions::new(db.url())).expect("connect");
        store.migrate().expect("migrate");
        db
    })
}

async fn store() -> Arc<dyn Store> {
    let url = database().url().to_owned();
    let store = tokio::task::spawn_blocking(move || {
        let mut options = PgOptions::new(url);
        options.pool_max = 8;
        PgStore::connect(&options).expect("connect")
    })
    .await
    .expect("connect task");
    Arc::new(store)
}

openbadges_domain::store_contract_tests!(store());

/// On a database of its own: the other tests' writes would be reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_feed_reports_what_is_published() {
    let (db, store) = tokio::task::spawn_blocking(|| {
        let db = TestDatabase::create();
        let store = PgStore::connect(&PgOptions::new(db.url())).expect("connect");
        store.migrate().expect("migrate");
        (db, store)
    })
    .await
    .expect("connect task");
    openbadges_domain::testkit::change_feed_reports_what_is_published(Arc::new(store)).await;
    drop(db);
}
