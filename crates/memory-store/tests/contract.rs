//! The repository contract of the domain, run against the in-memory store:
//! each check gets a store of its own.

use std::sync::Arc;

use openbadges_domain::ports::{Backend, Store};
use openbadges_memory_store::MemoryStore;

async fn fresh_store() -> Arc<dyn Store> {
    let store = MemoryStore::new();
    assert_eq!(store.backend(), Backend::Memory);
    Arc::new(store)
}

openbadges_domain::store_contract_tests!(fresh_store());
