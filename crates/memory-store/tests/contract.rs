//! The repository contract of the domain, run against the in-memory store:
//! each check gets a store of its own.

use std::sync::Arc;

use openbadges_domain::operations::Backend;
use openbadges_domain::ports::Store;
use openbadges_memory_store::MemoryStore;

async fn fresh_store() -> Arc<dyn Store> {
    let store = MemoryStore::new();
    assert_eq!(store.backend(), Backend::Memory);
    Arc::new(store)
}

openbadges_domain::store_contract_tests!(fresh_store());

/// What the SQL schemas refuse with a unique index and the contract does
/// not reach: two awards on one status bit, whether the other is stored
/// or in the same batch; the refused batch leaves nothing behind.
#[tokio::test]
async fn a_status_bit_belongs_to_one_award() {
    use openbadges_domain::testkit::{sample_assertion, sample_badge_class, sample_issuer};
    use openbadges_domain::{AwardBatch, DomainError, Timestamp};

    let store = MemoryStore::new();
    let issuer = sample_issuer(None);
    store.issuers().create(&issuer).await.expect("issuer");
    let badge = sample_badge_class(issuer.id);
    store.badge_classes().create(&badge).await.expect("badge");
    let slots = store
        .status_lists()
        .allocate(issuer.id, 2, 8, Timestamp::now())
        .await
        .expect("bits");
    let award = |email: &str, slot| {
        let mut award = sample_assertion(&badge, email);
        award.status_slot = Some(slot);
        award
    };
    let first = award("first@example.org", slots[0]);
    store.assertions().create(&first).await.expect("first");

    let taken = DomainError::Duplicate {
        entity: "assertion",
        field: "status list entry",
    };
    let second = award("second@example.org", slots[0]);
    assert_eq!(store.assertions().create(&second).await, Err(taken.clone()));

    let (third, fourth) = (
        award("third@example.org", slots[1]),
        award("fourth@example.org", slots[1]),
    );
    let refused = store
        .assertions()
        .create_many(AwardBatch::in_memory(vec![third.clone(), fourth]))
        .await;
    assert_eq!(refused.err(), Some(taken));
    assert!(
        matches!(
            store.assertions().get(third.id).await,
            Err(DomainError::NotFound { .. })
        ),
        "a refused batch stores none of its awards"
    );
}

/// A store in memory has no feed, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_feed_reports_what_is_published() {
    openbadges_domain::testkit::change_feed_reports_what_is_published(fresh_store().await).await;
}
