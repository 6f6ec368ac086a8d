//! The key lifecycle of issuers' signing keys, as a use case over the
//! [`SigningKeyRepository`] port: the active key of an algorithm, made on
//! first use; rotation; revocation. Making a key pair and sealing its
//! private half is cryptography, behind the [`KeyMaker`] port.
//!
//! Several instances of a server may share one store. Keys live only in
//! the store, so what one instance rotates or revokes is what every other
//! serves on its next read. When two instances make an issuer's first key
//! at once, the store keeps one (`create` answers `Duplicate` to the
//! other) and both sign with that one.

use async_trait::async_trait;

use crate::error::DomainError;
use crate::ids::{IssuerId, SigningKeyId};
use crate::ports::SigningKeyRepository;
use crate::{KeyAlgorithm, KeyStatus, SigningKey, Timestamp};

/// A new key pair: its public half as stored and published, its private
/// half sealed (encrypted) for storage.
pub struct KeyMaterial {
    /// Multibase (Ed25519) or SPKI PEM (RSA).
    pub public_key: String,
    /// The private key, sealed; only the [`KeyMaker`] that sealed it (or
    /// one with the same key encryption key) opens it.
    pub sealed_private_key: Vec<u8>,
}

/// Makes key pairs. Implemented on top of a cryptography library (the
/// server's is in `openbadges-server`, over `openbadges-credentials`).
#[async_trait]
pub trait KeyMaker: Send + Sync {
    /// A fresh key pair of `algorithm` for the key that will have id `id`
    /// (so that the maker may keep it opened under that id).
    async fn make(
        &self,
        id: SigningKeyId,
        algorithm: KeyAlgorithm,
    ) -> Result<KeyMaterial, DomainError>;
}

/// The keys of every issuer of a store: which one signs, rotation and
/// revocation.
pub struct KeyRing<'a> {
    keys: &'a dyn SigningKeyRepository,
    maker: &'a dyn KeyMaker,
}

impl<'a> KeyRing<'a> {
    /// The key ring over `keys`, making new keys with `maker`.
    pub fn new(keys: &'a dyn SigningKeyRepository, maker: &'a dyn KeyMaker) -> Self {
        Self { keys, maker }
    }

    /// The issuer's active key of `algorithm`, made on first use. When
    /// several instances race to make it, the store keeps one and the
    /// others take that one.
    pub async fn active(
        &self,
        issuer: IssuerId,
        algorithm: KeyAlgorithm,
    ) -> Result<SigningKey, DomainError> {
        if let Some(key) = self.keys.active(issuer, algorithm).await? {
            return Ok(key);
        }
        let key = self.make(issuer, algorithm).await?;
        match self.keys.create(&key).await {
            Ok(()) => Ok(key),
            Err(DomainError::Duplicate { .. }) => self
                .keys
                .active(issuer, algorithm)
                .await?
                .ok_or_else(|| DomainError::Internal("the active key vanished".to_owned())),
            Err(other) => Err(other),
        }
    }

    /// Makes a new active key of `algorithm` for `issuer` and retires the
    /// one it replaces, in one transaction: the retired key signs nothing
    /// new but still verifies what it signed.
    pub async fn rotate(
        &self,
        issuer: IssuerId,
        algorithm: KeyAlgorithm,
    ) -> Result<SigningKey, DomainError> {
        let key = self.make(issuer, algorithm).await?;
        self.keys.rotate(&key).await?;
        Ok(key)
    }

    /// Revokes `issuer`'s key `id` as of `at`: it verifies nothing from
    /// now on. `NotFound` when the issuer has no such key. Answers the key
    /// as stored afterwards.
    pub async fn revoke(
        &self,
        issuer: IssuerId,
        id: SigningKeyId,
        at: Timestamp,
    ) -> Result<SigningKey, DomainError> {
        let key = self.keys.get(id).await?;
        if key.issuer_id != issuer {
            return Err(DomainError::NotFound {
                entity: "signing key",
                id: id.to_string(),
            });
        }
        self.keys.revoke(id, at).await?;
        self.keys.get(id).await
    }

    async fn make(
        &self,
        issuer: IssuerId,
        algorithm: KeyAlgorithm,
    ) -> Result<SigningKey, DomainError> {
        let id = SigningKeyId::generate();
        let material = self.maker.make(id, algorithm).await?;
        Ok(SigningKey {
            id,
            issuer_id: issuer,
            algorithm,
            public_key: material.public_key,
            sealed_private_key: material.sealed_private_key,
            status: KeyStatus::Active,
            created_at: Timestamp::now(),
        })
    }
}
