//! Where a verifier reads the stored awards and keys it checks: the store
//! itself, or a cache in front of it that a service keeps current (the
//! server's, which forgets everything when the database reports a change).

use std::sync::Arc;

use async_trait::async_trait;
use openbadges_domain::ports::Store;
use openbadges_domain::{
    Assertion, AssertionId, DomainError, IssuerId, KeyStatus, SigningKey, SigningKeyId,
};

use crate::keys::PublicKey;

/// One of the store's keys as verification needs it: whose it is, its
/// status and its public half. Never the sealed private half, so keeping
/// one in memory for long keeps nothing secret.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The key's id.
    pub id: SigningKeyId,
    /// The issuer it signs for.
    pub issuer_id: IssuerId,
    /// Whether it still verifies.
    pub status: KeyStatus,
    /// Its public half, parsed.
    pub public: PublicKey,
}

impl StoredKey {
    /// What verification needs of `key`; an error when its stored public
    /// half does not parse.
    pub fn of(key: &SigningKey) -> Result<Self, DomainError> {
        Ok(Self {
            id: key.id,
            issuer_id: key.issuer_id,
            status: key.status,
            public: PublicKey::of(key)?,
        })
    }
}

/// The stored awards and keys a [`Verifier`](crate::Verifier) reads. An
/// implementation that answers from memory must forget an award or key as
/// soon as it changes (a revocation, a suspension, a key revoked): what it
/// answers is what verification reports.
#[async_trait]
pub trait Records: Send + Sync {
    /// Award `id`; `NotFound` when there is none.
    async fn award(&self, id: AssertionId) -> Result<Arc<Assertion>, DomainError>;
    /// Stored key `id`; `NotFound` when there is none.
    async fn key(&self, id: SigningKeyId) -> Result<Arc<StoredKey>, DomainError>;
}

/// Every lookup reads the store.
pub struct StoreRecords<'a>(pub &'a dyn Store);

#[async_trait]
impl Records for StoreRecords<'_> {
    async fn award(&self, id: AssertionId) -> Result<Arc<Assertion>, DomainError> {
        self.0.assertions().get(id).await.map(Arc::new)
    }

    async fn key(&self, id: SigningKeyId) -> Result<Arc<StoredKey>, DomainError> {
        let key = self.0.signing_keys().get(id).await?;
        StoredKey::of(&key).map(Arc::new)
    }
}
