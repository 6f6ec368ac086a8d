//! The read view of a store with a read replica ([`PgStore::public_reads`])
//! is a whole `Store`: the repository contract passes through it. Its
//! "replica" here is the primary's own database, which is no standby: the
//! checker reports it down, so every read of the view is answered by the
//! primary, as when a replica is gone. Reads served by a real standby, and
//! a standby going away under load, are tested end to end in
//! `tests/tests/replicas.rs`.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use openbadges_diesel_postgres::{PgOptions, PgStore};
use openbadges_domain::operations::ReplicaHealth;
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

/// A store whose one replica is the primary itself (no standby).
fn connect() -> PgStore {
    let mut options = PgOptions::new(database().url());
    options.pool_max = 8;
    options.replica_urls = vec![database().url().to_owned()];
    PgStore::connect(&options).expect("connect")
}

async fn store() -> Arc<dyn Store> {
    let store = tokio::task::spawn_blocking(connect)
        .await
        .expect("connect task");
    Arc::new(store.public_reads())
}

openbadges_domain::store_contract_tests!(store());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_is_no_standby_is_down_and_the_primary_reads_instead() {
    let store = tokio::task::spawn_blocking(connect)
        .await
        .expect("connect task");
    let view = store.public_reads();
    // The checker's first look decides; it is polled, not waited for.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let routing = view
            .read_routing()
            .expect("a store with a replica reports it");
        let replica = routing.replicas[0];
        if replica.health == ReplicaHealth::Down && replica.lag.is_none() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica is still {replica:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = view.read_routing().expect("routing").primary_reads;
    let missing = openbadges_domain::IssuerId::generate();
    assert!(view.issuers().get(missing).await.is_err());
    let after = view.read_routing().expect("routing");
    assert_eq!(after.primary_reads, before + 1);
    assert_eq!(after.replicas[0].queries, 0, "a down replica got a read");
    // Through the store itself, reads never count as routed at all.
    assert!(store.issuers().get(missing).await.is_err());
    assert_eq!(
        store.read_routing().expect("routing").primary_reads,
        before + 1
    );
}
