//! Platforms of the previous server's backpack API in memory, their users
//! (mapped to learner accounts) and their entries.

use async_trait::async_trait;
use openbadges_domain::platforms::{
    Added, EntryStatus, Platform, PlatformEntry, PlatformRepository, PlatformUser,
};
use openbadges_domain::ports::RepoResult;
use openbadges_domain::{
    AssertionId, HeldCredential, HeldSource, PlatformId, PlatformUserId, User,
};

use super::{missing_reference, not_found, taken, Tables};
use crate::Db;

impl Tables {
    /// Drops the platform users of deleted platforms or accounts, as the
    /// SQL cascades do.
    pub(super) fn drop_orphan_platform_users(&mut self) {
        let Self {
            users,
            platforms,
            platform_users,
            ..
        } = self;
        platform_users.retain(|_, user| {
            platforms.contains_key(&user.platform) && users.contains_key(&user.user)
        });
    }

    fn client_id_taken(&self, platform: &Platform) -> bool {
        self.platforms
            .values()
            .any(|other| other.id != platform.id && other.client_id == platform.client_id)
    }

    fn entry_of(&self, user: PlatformUserId, assertion: AssertionId) -> Option<&PlatformEntry> {
        self.platform_entries
            .values()
            .find(|entry| entry.user == user && entry.assertion == assertion)
    }
}

#[async_trait]
impl PlatformRepository for Db {
    async fn create(&self, platform: &Platform) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if tables.platforms.contains_key(&platform.id) {
            return Err(taken("platform", "id"));
        }
        if tables.client_id_taken(platform) {
            return Err(taken("platform", "clientId"));
        }
        tables.platforms.insert(platform.id, platform.clone());
        Ok(())
    }

    async fn get(&self, id: PlatformId) -> RepoResult<Platform> {
        let tables = self.lock()?;
        tables
            .platforms
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("platform", id))
    }

    async fn find_by_client_id(&self, client_id: &str) -> RepoResult<Option<Platform>> {
        let tables = self.lock()?;
        Ok(tables
            .platforms
            .values()
            .find(|platform| platform.client_id == client_id)
            .cloned())
    }

    async fn list(&self) -> RepoResult<Vec<Platform>> {
        let tables = self.lock()?;
        let mut all: Vec<Platform> = tables.platforms.values().cloned().collect();
        all.sort_unstable_by_key(|platform| {
            (platform.created_at, *platform.id.as_uuid().as_bytes())
        });
        Ok(all)
    }

    async fn update(&self, platform: &Platform) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if tables.client_id_taken(platform) {
            return Err(taken("platform", "clientId"));
        }
        let stored = tables
            .platforms
            .get_mut(&platform.id)
            .ok_or_else(|| not_found("platform", platform.id))?;
        *stored = Platform {
            created_at: stored.created_at,
            ..platform.clone()
        };
        Ok(())
    }

    async fn delete(&self, id: PlatformId) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if tables.platforms.remove(&id).is_none() {
            return Err(not_found("platform", id));
        }
        tables.drop_orphan_held();
        Ok(())
    }

    async fn enter(&self, visitor: &PlatformUser, account: &User) -> RepoResult<PlatformUser> {
        let mut tables = self.lock()?;
        tables.drop_orphan_platform_users();
        if !tables.platforms.contains_key(&visitor.platform) {
            return Err(missing_reference("platform", visitor.platform));
        }
        let stored = tables.platform_users.values_mut().find(|user| {
            user.platform == visitor.platform && user.external_id == visitor.external_id
        });
        if let Some(user) = stored {
            let name = visitor.display_name.clone().or(user.display_name.clone());
            let email = visitor.email.clone().or(user.email.clone());
            if name != user.display_name || email != user.email {
                user.display_name = name;
                user.email = email;
                user.updated_at = visitor.updated_at;
            }
            return Ok(user.clone());
        }
        for other in tables.users.values() {
            if other.id == account.id {
                return Err(taken("user", "id"));
            }
            if other.username == account.username {
                return Err(taken("user", "username"));
            }
            if account.email.is_some() && other.email == account.email {
                return Err(taken("user", "email"));
            }
        }
        if tables.platform_users.contains_key(&visitor.id) {
            return Err(taken("platform user", "id"));
        }
        let user = PlatformUser {
            user: account.id,
            ..visitor.clone()
        };
        tables.users.insert(account.id, account.clone());
        tables.platform_users.insert(user.id, user.clone());
        Ok(user)
    }

    async fn add_entry(
        &self,
        user: &PlatformUser,
        held: &HeldCredential,
        entry: &PlatformEntry,
    ) -> RepoResult<Added> {
        let mut tables = self.lock()?;
        tables.drop_orphan_held();
        if !tables.assertions.contains_key(&entry.assertion) {
            return Err(missing_reference("assertion", entry.assertion));
        }
        if !tables.platform_users.contains_key(&user.id) {
            return Err(missing_reference("platform user", user.id));
        }
        if let Some(stored) = tables.entry_of(user.id, entry.assertion) {
            let held_id = stored.held;
            let stored = tables
                .platform_entries
                .get_mut(&held_id)
                .ok_or_else(|| not_found("backpack entry", entry.assertion))?;
            stored.metadata.clone_from(&entry.metadata);
            return Ok(Added::Again(stored.clone()));
        }
        let held_id = match tables.held.values().find(|stored| {
            stored.owner == held.owner
                && stored.issuer_key == held.issuer_key
                && stored.credential_key == held.credential_key
        }) {
            Some(stored) => stored.id,
            None => {
                if tables.held.contains_key(&held.id) {
                    return Err(taken("held credential", "id"));
                }
                if !tables.users.contains_key(&held.owner) {
                    return Err(missing_reference("user", held.owner));
                }
                tables.held.insert(held.id, held.clone());
                held.id
            }
        };
        let entry = PlatformEntry {
            held: held_id,
            user: user.id,
            ..entry.clone()
        };
        tables.platform_entries.insert(held_id, entry.clone());
        Ok(Added::New(entry))
    }

    async fn entries(&self, user: PlatformUserId) -> RepoResult<Vec<PlatformEntry>> {
        let mut tables = self.lock()?;
        tables.drop_orphan_held();
        let mut mine: Vec<PlatformEntry> = tables
            .platform_entries
            .values()
            .filter(|entry| entry.user == user)
            .cloned()
            .collect();
        mine.sort_unstable_by_key(|entry| (entry.added_at, *entry.held.as_uuid().as_bytes()));
        Ok(mine)
    }

    async fn remove_entry(&self, user: PlatformUserId, assertion: AssertionId) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables.drop_orphan_held();
        let held_id = tables
            .entry_of(user, assertion)
            .map(|entry| entry.held)
            .ok_or_else(|| not_found("backpack entry", assertion))?;
        tables.platform_entries.remove(&held_id);
        // The credential goes if the platform added it; one the learner
        // held before stays.
        if tables
            .held
            .get(&held_id)
            .is_some_and(|held| matches!(held.source, HeldSource::Platform(_)))
        {
            tables.held.remove(&held_id);
        }
        Ok(())
    }

    async fn set_entry_status(
        &self,
        user: PlatformUserId,
        assertion: AssertionId,
        status: EntryStatus,
    ) -> RepoResult<PlatformEntry> {
        let mut tables = self.lock()?;
        tables.drop_orphan_held();
        let held_id = tables
            .entry_of(user, assertion)
            .map(|entry| entry.held)
            .ok_or_else(|| not_found("backpack entry", assertion))?;
        let entry = tables
            .platform_entries
            .get_mut(&held_id)
            .ok_or_else(|| not_found("backpack entry", assertion))?;
        entry.status = status;
        Ok(entry.clone())
    }
}
