//! Platforms of the previous server's backpack API (`/backpack`).
//!
//! A platform is another application (a learning platform, a portfolio
//! site) registered by an administrator with the public key it signs its
//! users' JWTs with. Each of its users (the JWT's `sub`) is mapped to a
//! learner account here ([`PlatformUser`]), made on first use; the awards
//! the platform adds for them are entries in that learner's backpack
//! ([`HeldSource::Platform`](crate::HeldSource::Platform)) with the
//! platform's own view of them: a status and free metadata
//! ([`PlatformEntry`]).

use async_trait::async_trait;

use crate::backpack::{HeldCredential, HeldCredentialId};
use crate::ids::{AssertionId, PlatformId, PlatformUserId, UserId};
use crate::ports::RepoResult;
use crate::values::{InvalidValue, Timestamp};
use crate::User;

/// Whether a platform's JWTs are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlatformStatus {
    /// Its users' tokens are accepted.
    Active,
    /// Switched off for now; tokens are refused.
    Inactive,
    /// Switched off for cause; tokens are refused.
    Suspended,
}

impl PlatformStatus {
    /// The stored and wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Suspended => "suspended",
        }
    }

    /// Parses a stored or client-given name.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match value {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            "suspended" => Ok(Self::Suspended),
            _ => Err(InvalidValue(
                "must be one of active, inactive, suspended".to_owned(),
            )),
        }
    }
}

/// A platform registered for the backpack API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// Stable id.
    pub id: PlatformId,
    /// Its name, for people.
    pub name: String,
    /// What it is, if given.
    pub description: Option<String>,
    /// The `iss` of its JWTs; unique.
    pub client_id: String,
    /// The PEM (SPKI) public key its JWTs are verified with. Public: no
    /// secret of the platform is kept here.
    pub public_key: String,
    /// Where it wants to be told of changes (an https URL), if anywhere.
    pub webhook_url: Option<String>,
    /// Whether its tokens are accepted.
    pub status: PlatformStatus,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A platform's user, mapped to the learner account holding their badges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformUser {
    /// Stable id.
    pub id: PlatformUserId,
    /// The platform.
    pub platform: PlatformId,
    /// The platform's id for them (the JWT's `sub`).
    pub external_id: String,
    /// Their learner account here.
    pub user: UserId,
    /// The name the platform last gave for them.
    pub display_name: Option<String>,
    /// The e-mail address the platform last gave for them. Not verified,
    /// so it links no awards (only a learner's verified addresses do).
    pub email: Option<String>,
    /// When the platform first presented them.
    pub created_at: Timestamp,
    /// When their name or address last changed.
    pub updated_at: Timestamp,
}

/// A platform's status of an entry (the previous server's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryStatus {
    /// Shown.
    Active,
    /// Kept but not shown.
    Hidden,
    /// Marked deleted by the platform, but kept.
    Deleted,
}

impl EntryStatus {
    /// The stored and wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Hidden => "hidden",
            Self::Deleted => "deleted",
        }
    }

    /// Parses a stored or client-given name.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match value {
            "active" => Ok(Self::Active),
            "hidden" => Ok(Self::Hidden),
            "deleted" => Ok(Self::Deleted),
            _ => Err(InvalidValue(
                "must be one of active, hidden, deleted".to_owned(),
            )),
        }
    }
}

/// An award a platform added to its user's backpack: the platform's view
/// of a held credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformEntry {
    /// The held credential (the entry's id).
    pub held: HeldCredentialId,
    /// The platform user it was added for.
    pub user: PlatformUserId,
    /// The award, one of this server's.
    pub assertion: AssertionId,
    /// The platform's status of it.
    pub status: EntryStatus,
    /// The platform's metadata: JSON text of an object, if given.
    pub metadata: Option<String>,
    /// When it was added.
    pub added_at: Timestamp,
}

/// What [`PlatformRepository::add_entry`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// A new entry.
    New(PlatformEntry),
    /// The user had the award already: the entry, its metadata replaced
    /// by the one given.
    Again(PlatformEntry),
}

/// Platforms, their users and their entries.
#[async_trait]
pub trait PlatformRepository: Send + Sync {
    /// Registers a platform; `Duplicate` (field `clientId`) if another has
    /// its client id.
    async fn create(&self, platform: &Platform) -> RepoResult<()>;
    /// The platform, or `NotFound`.
    async fn get(&self, id: PlatformId) -> RepoResult<Platform>;
    /// The platform whose JWTs name `client_id` as their issuer.
    async fn find_by_client_id(&self, client_id: &str) -> RepoResult<Option<Platform>>;
    /// Every platform, oldest first (there are few).
    async fn list(&self) -> RepoResult<Vec<Platform>>;
    /// Writes every field but the id and `created_at`; `NotFound`, or
    /// `Duplicate` (field `clientId`).
    async fn update(&self, platform: &Platform) -> RepoResult<()>;
    /// Deletes the platform with its users' mappings and entries (the
    /// learner accounts stay); `NotFound` if there is none.
    async fn delete(&self, id: PlatformId) -> RepoResult<()>;
    /// The platform's user `visitor.external_id`: the stored one, its
    /// name and address updated to those of `visitor` that are given and
    /// differ; or, the first time, `account` (a learner) and `visitor`
    /// mapped to it, created together in one transaction. `visitor.user`
    /// is ignored then: the mapping names `account`.
    /// `MissingReference` if the platform does not exist.
    async fn enter(&self, visitor: &PlatformUser, account: &User) -> RepoResult<PlatformUser>;
    /// Adds the award `entry.assertion` for `user`: `held` (a credential
    /// of `user.user`'s, its source the platform) is stored unless the
    /// learner holds an equal credential already, which the entry then
    /// names; `entry.held` is ignored. If the user has the award already,
    /// its metadata is replaced and nothing else changes. One transaction.
    /// `MissingReference` if the award or the platform user does not exist.
    async fn add_entry(
        &self,
        user: &PlatformUser,
        held: &HeldCredential,
        entry: &PlatformEntry,
    ) -> RepoResult<Added>;
    /// The user's entries, oldest added first.
    async fn entries(&self, user: PlatformUserId) -> RepoResult<Vec<PlatformEntry>>;
    /// Removes the user's entry of the award, and the held credential it
    /// added (not one the learner held before); `NotFound` if they have none.
    async fn remove_entry(&self, user: PlatformUserId, assertion: AssertionId) -> RepoResult<()>;
    /// Sets the status of the user's entry of the award; `NotFound` if
    /// they have none.
    async fn set_entry_status(
        &self,
        user: PlatformUserId,
        assertion: AssertionId,
        status: EntryStatus,
    ) -> RepoResult<PlatformEntry>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_refuse_others() {
        for status in [
            PlatformStatus::Active,
            PlatformStatus::Inactive,
            PlatformStatus::Suspended,
        ] {
            assert_eq!(PlatformStatus::parse(status.as_str()), Ok(status));
        }
        for status in [
            EntryStatus::Active,
            EntryStatus::Hidden,
            EntryStatus::Deleted,
        ] {
            assert_eq!(EntryStatus::parse(status.as_str()), Ok(status));
        }
        assert!(PlatformStatus::parse("ACTIVE").is_err());
        assert!(EntryStatus::parse("archived").is_err());
    }
}
