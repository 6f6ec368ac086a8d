//! Learners' backpacks in memory: held credentials, one per owner and
//! equality keys, and profiles.

use async_trait::async_trait;
use openbadges_domain::backpack::{
    BackpackRepository, HeldCredential, HeldCredentialId, HeldSource, Upserted,
};
use openbadges_domain::ports::RepoResult;
use openbadges_domain::{Page, PageRequest, Timestamp, UserId};

use super::{missing_reference, not_found, Tables};
use crate::Db;

impl Tables {
    /// Drops what the SQL schemas' cascades would have removed: the held
    /// credentials and profiles of deleted users, and credentials linked
    /// to deleted awards or platforms.
    pub(super) fn drop_orphan_held(&mut self) {
        self.drop_orphan_platform_users();
        let Self {
            users,
            assertions,
            held,
            profiles,
            platforms,
            platform_users,
            platform_entries,
            ..
        } = self;
        held.retain(|id, credential| {
            users.contains_key(&credential.owner)
                && match &credential.source {
                    HeldSource::Awarded(award) => assertions.contains_key(award),
                    // A platform's credential is linked to its award too.
                    HeldSource::Platform(platform) => {
                        platform_exists(platforms, platform)
                            && platform_entries
                                .get(id)
                                .is_none_or(|entry| assertions.contains_key(&entry.assertion))
                    }
                    HeldSource::Uploaded { .. } => true,
                }
        });
        platform_entries.retain(|id, entry| {
            held.contains_key(id)
                && platform_users.contains_key(&entry.user)
                && assertions.contains_key(&entry.assertion)
        });
        profiles.retain(|owner, _| users.contains_key(owner));
    }

    /// Stores `held` unless its owner holds an equal credential already;
    /// answers whether it was stored.
    pub(super) fn hold_unless_held(&mut self, held: openbadges_domain::HeldCredential) -> bool {
        let equal = self.held.values().any(|stored| {
            stored.owner == held.owner
                && stored.issuer_key == held.issuer_key
                && stored.credential_key == held.credential_key
        });
        if equal {
            return false;
        }
        self.held.insert(held.id, held);
        true
    }

    /// A held credential as read: one linked to an award carries the
    /// award's current issued credential.
    fn read_held(&self, credential: &HeldCredential) -> HeldCredential {
        let mut read = credential.clone();
        // A platform's credential is linked to the award its entry names.
        let award = match &credential.source {
            HeldSource::Awarded(award) => Some(*award),
            HeldSource::Platform(_) => self
                .platform_entries
                .get(&credential.id)
                .map(|entry| entry.assertion),
            HeldSource::Uploaded { .. } => None,
        };
        if let Some(issued) = award
            .and_then(|award| self.assertions.get(&award))
            .and_then(|award| award.issued_credential.as_ref())
        {
            read.text = issued.json().to_owned();
        }
        read
    }

    /// Checks the references of `held`: its owner, and the award or
    /// platform its source names.
    fn check_held_references(&self, held: &HeldCredential) -> RepoResult<()> {
        if !self.users.contains_key(&held.owner) {
            return Err(missing_reference("user", held.owner));
        }
        match &held.source {
            HeldSource::Awarded(award) if !self.assertions.contains_key(award) => {
                Err(missing_reference("assertion", award))
            }
            HeldSource::Platform(platform) if !platform_exists(&self.platforms, platform) => {
                Err(missing_reference("platform", platform))
            }
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl BackpackRepository for Db {
    async fn list(
        &self,
        owner: UserId,
        since: Option<Timestamp>,
        page: PageRequest,
    ) -> RepoResult<Page<HeldCredential>> {
        let mut tables = self.lock()?;
        tables.drop_orphan_held();
        let mut mine: Vec<&HeldCredential> = tables
            .held
            .values()
            .filter(|held| held.owner == owner)
            .filter(|held| since.is_none_or(|since| held.valid_from.is_some_and(|v| v > since)))
            .collect();
        mine.sort_unstable_by_key(|held| (held.received_at, *held.id.as_uuid().as_bytes()));
        let total = mine.len() as u64;
        let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let items = mine
            .into_iter()
            .skip(skip)
            .take(page.limit() as usize)
            .map(|held| tables.read_held(held))
            .collect();
        Ok(Page { items, total })
    }

    async fn upsert(&self, held: &HeldCredential) -> RepoResult<Upserted> {
        let mut tables = self.lock()?;
        tables.drop_orphan_held();
        tables.check_held_references(held)?;
        let equal = tables.held.values_mut().find(|stored| {
            stored.owner == held.owner
                && stored.issuer_key == held.issuer_key
                && stored.credential_key == held.credential_key
        });
        if let Some(stored) = equal {
            stored.valid_from = held.valid_from;
            stored.format = held.format;
            stored.text.clone_from(&held.text);
            stored.source = held.source.clone();
            stored.updated_at = held.updated_at;
            return Ok(Upserted::Replaced);
        }
        if tables.held.contains_key(&held.id) {
            return Err(super::taken("held credential", "id"));
        }
        tables.held.insert(held.id, held.clone());
        Ok(Upserted::Created)
    }

    async fn get(&self, owner: UserId, id: HeldCredentialId) -> RepoResult<HeldCredential> {
        let mut tables = self.lock()?;
        tables.drop_orphan_held();
        tables
            .held
            .get(&id)
            .filter(|held| held.owner == owner)
            .map(|held| tables.read_held(held))
            .ok_or_else(|| not_found("held credential", id))
    }

    async fn remove(&self, owner: UserId, id: HeldCredentialId) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables.drop_orphan_held();
        match tables.held.get(&id) {
            Some(held) if held.owner == owner => {
                tables.held.remove(&id);
                Ok(())
            }
            _ => Err(not_found("held credential", id)),
        }
    }

    async fn profile(&self, owner: UserId) -> RepoResult<Option<String>> {
        let mut tables = self.lock()?;
        tables.drop_orphan_held();
        Ok(tables.profiles.get(&owner).map(|(text, _)| text.clone()))
    }

    async fn put_profile(&self, owner: UserId, profile: &str, at: Timestamp) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if !tables.users.contains_key(&owner) {
            return Err(missing_reference("user", owner));
        }
        tables.profiles.insert(owner, (profile.to_owned(), at));
        Ok(())
    }
}

/// Whether the platform a held credential names (its id as text) exists;
/// text that is no platform id names none, as a foreign key would say.
fn platform_exists(
    platforms: &std::collections::HashMap<
        openbadges_domain::PlatformId,
        openbadges_domain::platforms::Platform,
    >,
    platform: &str,
) -> bool {
    platform
        .parse::<openbadges_domain::PlatformId>()
        .is_ok_and(|id| platforms.contains_key(&id))
}
