//! The tables, and the repository ports over them. Each port call takes the
//! lock once and checks everything before it changes anything, so a call
//! that fails leaves the tables as they were: the transactions of the SQL
//! adapters.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use openbadges_domain::ports::{
    ApiKeyRepository, AssertionFilter, AssertionRepository, AssetRepository, BadgeClassFilter,
    BadgeClassRepository, DeleteMode, EndorsementRepository, IssuerFilter, IssuerRepository,
    RepoResult, SigningKeyRepository, StatusListRepository, UserRepository, UserUpdate,
};
use openbadges_domain::{
    ApiKey, ApiKeyHash, ApiKeyId, Assertion, AssertionId, Asset, AssetId, AwardBatch, BadgeClass,
    BadgeClassId, CredentialStatus, Cursor, DomainError, EndorsedSubject, Endorsement,
    EndorsementId, EndorsementStatus, Endorser, Issuer, IssuerId, KeyAlgorithm, KeyStatus,
    OutboxId, Page, PageRequest, SigningKey, SigningKeyId, StatusCounts, StatusList, StatusListId,
    StatusPurpose, StatusSlot, Text, Timestamp, User, UserId,
};

use crate::Db;

mod backpack;
mod deliveries;
mod learners;
mod oauth;
mod outbox;
mod platforms;

/// The ids and status bits taken while a batch of awards is checked.
#[derive(Debug, Default)]
struct Claimed {
    /// Ids of the batch's awards so far (stored ones are looked up).
    ids: HashSet<AssertionId>,
    /// Status bits of stored awards and of the batch's so far.
    slots: HashSet<StatusSlot>,
}

/// Every record, by id.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    users: HashMap<UserId, User>,
    issuers: HashMap<IssuerId, Issuer>,
    badge_classes: HashMap<BadgeClassId, BadgeClass>,
    assertions: HashMap<AssertionId, Assertion>,
    api_keys: HashMap<ApiKeyId, ApiKey>,
    signing_keys: HashMap<SigningKeyId, SigningKey>,
    status_lists: HashMap<StatusListId, StatusList>,
    endorsements: HashMap<EndorsementId, Endorsement>,
    assets: HashMap<AssetId, Asset>,
    /// The mail outbox (see `outbox`). Rows of deleted awards are dropped
    /// Badge hosts this store's server registered with.
    remote_hosts:
        HashMap<openbadges_domain::RemoteHostId, openbadges_domain::deliveries::RemoteHost>,
    /// Sendings of awards to hosts. Those of deleted awards are dropped when
    /// next looked at, as the outbox's.
    deliveries: HashMap<openbadges_domain::DeliveryId, openbadges_domain::deliveries::Delivery>,
    /// when next looked at: the cascade the SQL schemas make.
    pub(crate) outbox: HashMap<OutboxId, openbadges_domain::mail::OutboxMessage>,
    /// Learners' held credentials (see `backpack`). Those of deleted users
    /// or awards are dropped when next looked at, as the SQL cascades do.
    held: HashMap<openbadges_domain::HeldCredentialId, openbadges_domain::HeldCredential>,
    /// Learners' OB 3.0 profiles: the text and when it was stored.
    profiles: HashMap<UserId, (String, Timestamp)>,
    /// Learners' addresses (see `learners`); those of deleted users are
    /// dropped when next looked at.
    learner_emails: HashMap<openbadges_domain::LearnerEmailId, learners::StoredEmail>,
    /// OAuth clients, codes, grants and tokens (see `oauth`).
    oauth: oauth::OAuthTables,
    /// Platforms of the previous server's backpack API (see `platforms`),
    /// their users and entries; what the SQL cascades remove is dropped
    /// when next looked at.
    platforms: HashMap<openbadges_domain::PlatformId, openbadges_domain::platforms::Platform>,
    platform_users:
        HashMap<openbadges_domain::PlatformUserId, openbadges_domain::platforms::PlatformUser>,
    platform_entries:
        HashMap<openbadges_domain::HeldCredentialId, openbadges_domain::platforms::PlatformEntry>,
}

/// A record's place in every list: creation time, then id (the UUID's
/// bytes, whose order is the UUID's order).
trait Listed {
    fn sort_key(&self) -> (Timestamp, [u8; 16]);
}

macro_rules! listed {
    ($($entity:ty),*) => {$(
        impl Listed for $entity {
            fn sort_key(&self) -> (Timestamp, [u8; 16]) {
                (self.created_at, *self.id.as_uuid().as_bytes())
            }
        }
    )*};
}

listed!(
    User,
    Issuer,
    BadgeClass,
    Assertion,
    ApiKey,
    SigningKey,
    StatusList,
    Endorsement
);

/// The records `keep` accepts, in list order.
fn ordered<'a, T: Listed + Clone + 'a>(
    records: impl Iterator<Item = &'a T>,
    keep: impl Fn(&T) -> bool,
) -> Vec<T> {
    let mut kept: Vec<T> = records.filter(|record| keep(record)).cloned().collect();
    kept.sort_unstable_by_key(Listed::sort_key);
    kept
}

/// One page of the records `keep` accepts.
fn page_of<'a, T: Listed + Clone + 'a>(
    records: impl Iterator<Item = &'a T>,
    keep: impl Fn(&T) -> bool,
    page: PageRequest,
) -> Page<T> {
    let all = ordered(records, keep);
    let total = all.len() as u64;
    let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let items = all
        .into_iter()
        .skip(skip)
        .take(page.limit() as usize)
        .collect();
    Page { items, total }
}

fn not_found(entity: &'static str, id: impl ToString) -> DomainError {
    DomainError::NotFound {
        entity,
        id: id.to_string(),
    }
}

fn missing_reference(entity: &'static str, id: impl ToString) -> DomainError {
    DomainError::MissingReference {
        entity,
        id: id.to_string(),
    }
}

/// A unique value taken, named as the SQL stores name the constraint.
fn taken(entity: &'static str, field: &'static str) -> DomainError {
    DomainError::Duplicate { entity, field }
}

/// A reference to a status list that does not exist: what the SQL stores'
/// foreign key reports.
fn broken_reference() -> DomainError {
    DomainError::ConcurrentChange
}

/// A restricted delete of an issuer or badge class that still has awards.
fn has_awards(entity: &'static str, id: impl ToString, count: usize) -> DomainError {
    DomainError::HasDependants {
        entity,
        id: id.to_string(),
        dependants: "awarded credentials",
        count: count as u64,
    }
}

impl Tables {
    fn require_user(&self, id: UserId) -> RepoResult<()> {
        if self.users.contains_key(&id) {
            Ok(())
        } else {
            Err(missing_reference("user", id))
        }
    }

    fn require_issuer(&self, id: IssuerId) -> RepoResult<()> {
        if self.issuers.contains_key(&id) {
            Ok(())
        } else {
            Err(missing_reference("issuer", id))
        }
    }

    /// The status bits held by stored awards.
    fn slots_in_use(&self) -> HashSet<StatusSlot> {
        self.assertions
            .values()
            .filter_map(|award| award.status_slot)
            .collect()
    }

    /// Checks `award` as the SQL schema would, in the order the SQLite
    /// adapter meets the checks, and claims its id and status bit in
    /// `claimed` (what the stored awards, and those of its batch stored
    /// before it, hold).
    fn claim_award(&self, award: &Assertion, claimed: &mut Claimed) -> RepoResult<()> {
        match self.badge_classes.get(&award.badge_class_id) {
            None => return Err(missing_reference("badge class", award.badge_class_id)),
            Some(badge) if badge.issuer_id != award.issuer_id => {
                return Err(DomainError::invalid(
                    "issuer",
                    format!("must be the issuer of badge class {}", award.badge_class_id),
                ))
            }
            Some(_) => {}
        }
        if self.assertions.contains_key(&award.id) || !claimed.ids.insert(award.id) {
            return Err(taken("assertion", "id"));
        }
        if let Some(slot) = award.status_slot {
            if !self.status_lists.contains_key(&slot.list_id) {
                return Err(broken_reference());
            }
            if !claimed.slots.insert(slot) {
                return Err(taken("assertion", "status list entry"));
            }
        }
        Ok(())
    }

    /// Whether `key` may be stored: its id free, and at most one active key
    /// per issuer and algorithm.
    fn check_new_signing_key(&self, key: &SigningKey) -> RepoResult<()> {
        self.require_issuer(key.issuer_id)?;
        if self.signing_keys.contains_key(&key.id) {
            return Err(taken("signing key", "id"));
        }
        if key.status == KeyStatus::Active
            && self.active_key(key.issuer_id, key.algorithm).is_some()
        {
            return Err(taken("active signing key", "issuer and algorithm"));
        }
        Ok(())
    }

    fn active_key(&self, issuer_id: IssuerId, algorithm: KeyAlgorithm) -> Option<&SigningKey> {
        self.signing_keys.values().find(|key| {
            key.issuer_id == issuer_id
                && key.algorithm == algorithm
                && key.status == KeyStatus::Active
        })
    }

    /// Whether the award matches every given filter.
    fn award_matches(&self, filter: &AssertionFilter, award: &Assertion) -> bool {
        filter
            .badge_class_id
            .is_none_or(|id| award.badge_class_id == id)
            && filter.issuer_id.is_none_or(|id| award.issuer_id == id)
            && filter
                .recipient_key
                .as_deref()
                .is_none_or(|key| award.recipient.lookup_key() == key)
            && filter.owner_id.is_none_or(|owner| {
                self.issuers
                    .get(&award.issuer_id)
                    .is_some_and(|issuer| issuer.owner_id == Some(owner))
            })
    }
}

#[async_trait]
impl IssuerRepository for Db {
    async fn create(&self, issuer: &Issuer) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if let Some(owner) = issuer.owner_id {
            tables.require_user(owner)?;
        }
        if tables.issuers.contains_key(&issuer.id) {
            return Err(taken("issuer", "id"));
        }
        tables.issuers.insert(issuer.id, issuer.clone());
        Ok(())
    }

    async fn get(&self, id: IssuerId) -> RepoResult<Issuer> {
        let tables = self.lock()?;
        tables
            .issuers
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("issuer", id))
    }

    async fn update(&self, issuer: &Issuer) -> RepoResult<()> {
        let mut tables = self.lock()?;
        let stored = tables
            .issuers
            .get_mut(&issuer.id)
            .ok_or_else(|| not_found("issuer", issuer.id))?;
        // The client-set fields only: never the owner or creation time.
        stored.name = issuer.name.clone();
        stored.url = issuer.url.clone();
        stored.email = issuer.email.clone();
        stored.description = issuer.description.clone();
        stored.image = issuer.image.clone();
        stored.details = issuer.details.clone();
        stored.updated_at = issuer.updated_at;
        Ok(())
    }

    async fn delete(&self, id: IssuerId, mode: DeleteMode) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if !tables.issuers.contains_key(&id) {
            return Err(not_found("issuer", id));
        }
        let awards = tables
            .assertions
            .values()
            .filter(|award| award.issuer_id == id)
            .count();
        if awards > 0 {
            match mode {
                DeleteMode::Restrict => return Err(has_awards("issuer", id, awards)),
                DeleteMode::Cascade => tables.assertions.retain(|_, award| award.issuer_id != id),
            }
        }
        // What the schema deletes with an issuer.
        tables
            .badge_classes
            .retain(|_, badge| badge.issuer_id != id);
        tables
            .api_keys
            .retain(|_, key| key.issuer_scope != Some(id));
        tables.signing_keys.retain(|_, key| key.issuer_id != id);
        tables.status_lists.retain(|_, list| list.issuer_id != id);
        tables.issuers.remove(&id);
        tables.drop_orphan_endorsements();
        Ok(())
    }

    async fn list(&self, filter: &IssuerFilter, page: PageRequest) -> RepoResult<Page<Issuer>> {
        let tables = self.lock()?;
        Ok(page_of(
            tables.issuers.values(),
            |issuer| {
                filter
                    .owner_id
                    .is_none_or(|owner| issuer.owner_id == Some(owner))
            },
            page,
        ))
    }
}

#[async_trait]
impl BadgeClassRepository for Db {
    async fn create(&self, badge_class: &BadgeClass) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables.require_issuer(badge_class.issuer_id)?;
        if tables.badge_classes.contains_key(&badge_class.id) {
            return Err(taken("badge class", "id"));
        }
        tables
            .badge_classes
            .insert(badge_class.id, badge_class.clone());
        Ok(())
    }

    async fn get(&self, id: BadgeClassId) -> RepoResult<BadgeClass> {
        let tables = self.lock()?;
        tables
            .badge_classes
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("badge class", id))
    }

    async fn get_with_issuer(&self, id: BadgeClassId) -> RepoResult<(BadgeClass, Issuer)> {
        let tables = self.lock()?;
        let badge = tables
            .badge_classes
            .get(&id)
            .ok_or_else(|| not_found("badge class", id))?;
        let issuer = tables
            .issuers
            .get(&badge.issuer_id)
            .ok_or_else(|| not_found("issuer", badge.issuer_id))?;
        Ok((badge.clone(), issuer.clone()))
    }

    async fn update(&self, badge_class: &BadgeClass) -> RepoResult<()> {
        let mut tables = self.lock()?;
        let stored = tables
            .badge_classes
            .get_mut(&badge_class.id)
            .ok_or_else(|| not_found("badge class", badge_class.id))?;
        // Everything but the id, issuer and creation time.
        *stored = BadgeClass {
            id: stored.id,
            issuer_id: stored.issuer_id,
            created_at: stored.created_at,
            ..badge_class.clone()
        };
        Ok(())
    }

    async fn delete(&self, id: BadgeClassId, mode: DeleteMode) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if !tables.badge_classes.contains_key(&id) {
            return Err(not_found("badge class", id));
        }
        let awards = tables
            .assertions
            .values()
            .filter(|award| award.badge_class_id == id)
            .count();
        if awards > 0 {
            match mode {
                DeleteMode::Restrict => return Err(has_awards("badge class", id, awards)),
                DeleteMode::Cascade => tables
                    .assertions
                    .retain(|_, award| award.badge_class_id != id),
            }
        }
        tables.badge_classes.remove(&id);
        tables.drop_orphan_endorsements();
        Ok(())
    }

    async fn list(
        &self,
        filter: &BadgeClassFilter,
        page: PageRequest,
    ) -> RepoResult<Page<BadgeClass>> {
        let tables = self.lock()?;
        Ok(page_of(
            tables.badge_classes.values(),
            |badge| filter.issuer_id.is_none_or(|id| badge.issuer_id == id),
            page,
        ))
    }
}

#[async_trait]
impl AssertionRepository for Db {
    async fn create(&self, assertion: &Assertion) -> RepoResult<()> {
        let mut tables = self.lock()?;
        let mut claimed = Claimed {
            slots: tables.slots_in_use(),
            ..Claimed::default()
        };
        tables.claim_award(assertion, &mut claimed)?;
        tables.assertions.insert(assertion.id, assertion.clone());
        tables.link_award(assertion, Timestamp::now())?;
        Ok(())
    }

    async fn create_notifying(
        &self,
        assertion: &Assertion,
        notification: &openbadges_domain::mail::Notification,
    ) -> RepoResult<()> {
        let mut tables = self.lock()?;
        let mut claimed = Claimed {
            slots: tables.slots_in_use(),
            ..Claimed::default()
        };
        tables.claim_award(assertion, &mut claimed)?;
        tables.queue(std::slice::from_ref(notification), &claimed.ids)?;
        tables.assertions.insert(assertion.id, assertion.clone());
        tables.link_award(assertion, Timestamp::now())?;
        Ok(())
    }

    async fn create_many(&self, mut batch: AwardBatch) -> RepoResult<AwardBatch> {
        let mut tables = self.lock()?;
        // Every award is checked against the stored ones and those before
        // it; only when all pass is any of them stored.
        let mut claimed = Claimed {
            slots: tables.slots_in_use(),
            ..Claimed::default()
        };
        let awards = batch.read(0..batch.len())?;
        for award in &awards {
            tables.claim_award(award, &mut claimed)?;
        }
        tables.queue(batch.notifications(), &claimed.ids)?;
        let now = Timestamp::now();
        for award in &awards {
            tables.link_award(award, now)?;
        }
        tables
            .assertions
            .extend(awards.into_iter().map(|award| (award.id, award)));
        Ok(batch)
    }

    async fn get(&self, id: AssertionId) -> RepoResult<Assertion> {
        let tables = self.lock()?;
        tables
            .assertions
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("assertion", id))
    }

    async fn update(&self, assertion: &Assertion) -> RepoResult<()> {
        let mut tables = self.lock()?;
        let stored = tables
            .assertions
            .get_mut(&assertion.id)
            .ok_or_else(|| not_found("assertion", assertion.id))?;
        // The client-set fields and the issued credential; never the
        // status, which only `set_status` writes.
        stored.recipient = assertion.recipient.clone();
        stored.issued_on = assertion.issued_on;
        stored.expires = assertion.expires;
        stored.evidence = assertion.evidence.clone();
        stored.narrative = assertion.narrative.clone();
        stored.image = assertion.image.clone();
        stored.details = assertion.details.clone();
        stored.issued_credential = assertion.issued_credential.clone();
        stored.updated_at = assertion.updated_at;
        Ok(())
    }

    async fn set_status(
        &self,
        id: AssertionId,
        from: &CredentialStatus,
        to: &CredentialStatus,
        at: Timestamp,
    ) -> RepoResult<()> {
        let mut tables = self.lock()?;
        let stored = tables
            .assertions
            .get_mut(&id)
            .ok_or_else(|| not_found("assertion", id))?;
        let (now, expected) = (stored.status.as_str(), from.as_str());
        if now != expected {
            return Err(DomainError::Stale {
                entity: "assertion",
                id: id.to_string(),
                expected: expected.to_owned(),
                actual: now.to_owned(),
            });
        }
        stored.status = to.clone();
        stored.updated_at = at;
        Ok(())
    }

    async fn delete(&self, id: AssertionId) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables
            .assertions
            .remove(&id)
            .ok_or_else(|| not_found("assertion", id))?;
        tables.drop_orphan_endorsements();
        Ok(())
    }

    async fn list(
        &self,
        filter: &AssertionFilter,
        page: PageRequest,
    ) -> RepoResult<Page<Assertion>> {
        let tables = self.lock()?;
        Ok(page_of(
            tables.assertions.values(),
            |award| tables.award_matches(filter, award),
            page,
        ))
    }

    async fn list_after(
        &self,
        filter: &AssertionFilter,
        after: Option<Cursor>,
        limit: u32,
    ) -> RepoResult<Vec<Assertion>> {
        let tables = self.lock()?;
        let after = after.map(|cursor| (cursor.created_at(), *cursor.id().as_bytes()));
        let mut awards = ordered(tables.assertions.values(), |award| {
            tables.award_matches(filter, award)
                && after.is_none_or(|after| award.sort_key() > after)
        });
        awards.truncate(limit as usize);
        Ok(awards)
    }
}

#[async_trait]
impl UserRepository for Db {
    async fn create(&self, user: &User) -> RepoResult<()> {
        let mut tables = self.lock()?;
        for other in tables.users.values() {
            if other.id == user.id {
                return Err(taken("user", "id"));
            }
            if other.username == user.username {
                return Err(taken("user", "username"));
            }
            if user.email.is_some() && other.email == user.email {
                return Err(taken("user", "email"));
            }
        }
        tables.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn get(&self, id: UserId) -> RepoResult<User> {
        let tables = self.lock()?;
        tables
            .users
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("user", id))
    }

    async fn find_by_username(&self, username: &str) -> RepoResult<Option<User>> {
        let tables = self.lock()?;
        Ok(tables
            .users
            .values()
            .find(|user| user.username.as_str() == username)
            .cloned())
    }

    async fn find_by_email(&self, email: &str) -> RepoResult<Option<User>> {
        let tables = self.lock()?;
        Ok(tables
            .users
            .values()
            .find(|user| user.email.as_ref().is_some_and(|own| own.as_str() == email))
            .cloned())
    }

    async fn update(&self, id: UserId, changes: &UserUpdate, at: Timestamp) -> RepoResult<User> {
        let mut tables = self.lock()?;
        if !tables.users.contains_key(&id) {
            return Err(not_found("user", id));
        }
        if let Some(Some(email)) = &changes.email {
            let clash = tables
                .users
                .values()
                .any(|other| other.id != id && other.email.as_ref() == Some(email));
            if clash {
                return Err(taken("user", "email"));
            }
        }
        let user = tables
            .users
            .get_mut(&id)
            .ok_or_else(|| not_found("user", id))?;
        // Only what `changes` gives; the session counter is raised from
        // its stored value.
        if let Some(email) = &changes.email {
            user.email = email.clone();
        }
        if let Some(role) = changes.role {
            user.role = role;
        }
        if let Some(hash) = &changes.password_hash {
            user.password_hash = hash.clone();
        }
        if changes.ends_sessions() {
            user.session_generation += 1;
        }
        user.updated_at = at;
        Ok(user.clone())
    }

    async fn delete(&self, id: UserId) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables
            .users
            .remove(&id)
            .ok_or_else(|| not_found("user", id))?;
        // What the schema does with a user's records.
        tables.api_keys.retain(|_, key| key.user_id != id);
        for issuer in tables.issuers.values_mut() {
            if issuer.owner_id == Some(id) {
                issuer.owner_id = None;
            }
        }
        for asset in tables.assets.values_mut() {
            if asset.uploaded_by() == Some(id) {
                asset.forget_uploader();
            }
        }
        Ok(())
    }

    async fn list(&self, page: PageRequest) -> RepoResult<Page<User>> {
        let tables = self.lock()?;
        Ok(page_of(tables.users.values(), |_| true, page))
    }
}

#[async_trait]
impl ApiKeyRepository for Db {
    async fn create(&self, key: &ApiKey) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables.require_user(key.user_id)?;
        if let Some(scope) = key.issuer_scope {
            tables.require_issuer(scope)?;
        }
        for other in tables.api_keys.values() {
            if other.id == key.id {
                return Err(taken("api key", "id"));
            }
            if other.key_hash == key.key_hash {
                return Err(taken("api key", "key"));
            }
        }
        tables.api_keys.insert(key.id, key.clone());
        Ok(())
    }

    async fn get(&self, id: ApiKeyId) -> RepoResult<ApiKey> {
        let tables = self.lock()?;
        tables
            .api_keys
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("api key", id))
    }

    async fn find_by_hash(&self, hash: &ApiKeyHash) -> RepoResult<Option<ApiKey>> {
        let tables = self.lock()?;
        Ok(tables
            .api_keys
            .values()
            .find(|key| key.key_hash == *hash)
            .cloned())
    }

    async fn record_use(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if let Some(key) = tables.api_keys.get_mut(&id) {
            // Only forwards: a late write never moves it back.
            if key.last_used_at.is_none_or(|last| last < at) {
                key.last_used_at = Some(at);
            }
        }
        Ok(())
    }

    async fn revoke(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<ApiKey> {
        let mut tables = self.lock()?;
        let key = tables
            .api_keys
            .get_mut(&id)
            .ok_or_else(|| not_found("api key", id))?;
        // The first revocation's time stays.
        key.revoked_at.get_or_insert(at);
        Ok(key.clone())
    }

    async fn delete(&self, id: ApiKeyId) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables
            .api_keys
            .remove(&id)
            .map(drop)
            .ok_or_else(|| not_found("api key", id))
    }

    async fn list_for_user(&self, user_id: UserId, page: PageRequest) -> RepoResult<Page<ApiKey>> {
        let tables = self.lock()?;
        Ok(page_of(
            tables.api_keys.values(),
            |key| key.user_id == user_id,
            page,
        ))
    }
}

#[async_trait]
impl SigningKeyRepository for Db {
    async fn create(&self, key: &SigningKey) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables.check_new_signing_key(key)?;
        tables.signing_keys.insert(key.id, key.clone());
        Ok(())
    }

    async fn get(&self, id: SigningKeyId) -> RepoResult<SigningKey> {
        let tables = self.lock()?;
        tables
            .signing_keys
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("signing key", id))
    }

    async fn active(
        &self,
        issuer_id: IssuerId,
        algorithm: KeyAlgorithm,
    ) -> RepoResult<Option<SigningKey>> {
        let tables = self.lock()?;
        Ok(tables.active_key(issuer_id, algorithm).cloned())
    }

    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<SigningKey>> {
        let tables = self.lock()?;
        Ok(ordered(tables.signing_keys.values(), |key| {
            key.issuer_id == issuer_id
        }))
    }

    async fn list_verifying(&self, page: PageRequest) -> RepoResult<Page<SigningKey>> {
        let tables = self.lock()?;
        Ok(page_of(
            tables.signing_keys.values(),
            |key| key.status.verifies(),
            page,
        ))
    }

    async fn rotate(&self, new: &SigningKey) -> RepoResult<()> {
        let mut tables = self.lock()?;
        let retiring = tables
            .active_key(new.issuer_id, new.algorithm)
            .map(|key| key.id);
        // Checked as if the active key were retired already, so a refused
        // key retires nothing.
        let mut check = new.clone();
        if retiring.is_some() {
            check.status = KeyStatus::Retired { at: new.created_at };
        }
        tables.check_new_signing_key(&check)?;
        if let Some(key) = retiring.and_then(|id| tables.signing_keys.get_mut(&id)) {
            key.status = KeyStatus::Retired { at: new.created_at };
        }
        tables.signing_keys.insert(new.id, new.clone());
        Ok(())
    }

    async fn revoke(&self, id: SigningKeyId, at: Timestamp) -> RepoResult<()> {
        let mut tables = self.lock()?;
        let key = tables
            .signing_keys
            .get_mut(&id)
            .ok_or_else(|| not_found("signing key", id))?;
        key.status = KeyStatus::Revoked { at };
        Ok(())
    }
}

#[async_trait]
impl StatusListRepository for Db {
    async fn allocate(
        &self,
        issuer_id: IssuerId,
        count: u32,
        capacity: u32,
        now: Timestamp,
    ) -> RepoResult<Vec<StatusSlot>> {
        let mut tables = self.lock()?;
        tables.require_issuer(issuer_id)?;
        if count > 0 && capacity == 0 {
            return Err(DomainError::Internal(
                "a status list needs a capacity of at least one bit".to_owned(),
            ));
        }
        let mut slots = Vec::with_capacity(count as usize);
        // The oldest list with room first, then new lists.
        let open = ordered(tables.status_lists.values(), |list| {
            list.issuer_id == issuer_id && list.allocated < list.capacity
        })
        .into_iter()
        .next();
        if let Some(list) = open.and_then(|open| tables.status_lists.get_mut(&open.id)) {
            let taken = count.min(list.capacity - list.allocated);
            slots.extend(
                (list.allocated..list.allocated + taken).map(|index| StatusSlot {
                    list_id: list.id,
                    index,
                }),
            );
            list.allocated += taken;
        }
        while slots.len() < count as usize {
            let remaining = count - slots.len() as u32;
            let list = StatusList {
                id: StatusListId::generate(),
                issuer_id,
                capacity,
                allocated: remaining.min(capacity),
                created_at: now,
            };
            slots.extend((0..list.allocated).map(|index| StatusSlot {
                list_id: list.id,
                index,
            }));
            tables.status_lists.insert(list.id, list);
        }
        Ok(slots)
    }

    async fn create(&self, list: &StatusList) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables.require_issuer(list.issuer_id)?;
        tables.status_lists.insert(list.id, list.clone());
        Ok(())
    }

    async fn get(&self, id: StatusListId) -> RepoResult<StatusList> {
        let tables = self.lock()?;
        tables
            .status_lists
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("status list", id))
    }

    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<StatusList>> {
        let tables = self.lock()?;
        Ok(ordered(tables.status_lists.values(), |list| {
            list.issuer_id == issuer_id
        }))
    }

    async fn flagged(&self, id: StatusListId, purpose: StatusPurpose) -> RepoResult<Vec<u32>> {
        let tables = self.lock()?;
        let mut indices: Vec<u32> = tables
            .assertions
            .values()
            .filter(|award| purpose.flags(&award.status))
            .filter_map(|award| award.status_slot)
            .filter(|slot| slot.list_id == id)
            .map(|slot| slot.index)
            .collect();
        // Endorsements take bits of the same lists; only ever revoked.
        if purpose == StatusPurpose::Revocation {
            indices.extend(tables.revoked_endorsement_bits(id));
        }
        indices.sort_unstable();
        Ok(indices)
    }

    async fn counts(&self, id: StatusListId) -> RepoResult<StatusCounts> {
        let tables = self.lock()?;
        let mut counts = StatusCounts::default();
        for award in tables.assertions.values() {
            if award.status_slot.is_some_and(|slot| slot.list_id == id) {
                match award.status {
                    CredentialStatus::Revoked { .. } => counts.revoked += 1,
                    CredentialStatus::Suspended { .. } => counts.suspended += 1,
                    CredentialStatus::Active => {}
                }
            }
        }
        counts.revoked += tables.revoked_endorsement_bits(id).count() as u64;
        Ok(counts)
    }

    async fn flagged_awards(
        &self,
        issuer_id: IssuerId,
        purpose: StatusPurpose,
    ) -> RepoResult<Vec<Assertion>> {
        let tables = self.lock()?;
        Ok(ordered(tables.assertions.values(), |award| {
            award.issuer_id == issuer_id && purpose.flags(&award.status)
        }))
    }
}

impl Tables {
    /// Whether `subject` exists.
    fn has_subject(&self, subject: EndorsedSubject) -> bool {
        match subject {
            EndorsedSubject::Achievement(id) => self.badge_classes.contains_key(&id),
            EndorsedSubject::Issuer(id) => self.issuers.contains_key(&id),
            EndorsedSubject::Credential(id) => self.assertions.contains_key(&id),
        }
    }

    /// Deletes the endorsements whose subject, endorser or status list is
    /// gone: what the SQL schema's `ON DELETE CASCADE` does.
    fn drop_orphan_endorsements(&mut self) {
        let kept: HashMap<EndorsementId, Endorsement> = std::mem::take(&mut self.endorsements)
            .into_iter()
            .filter(|(_, e)| {
                self.has_subject(e.subject)
                    && match &e.endorser {
                        Endorser::Ours(id) => self.issuers.contains_key(id),
                        Endorser::External { .. } => true,
                    }
                    && e.status_slot
                        .is_none_or(|slot| self.status_lists.contains_key(&slot.list_id))
            })
            .collect();
        self.endorsements = kept;
    }

    /// The bits of list `id` held by revoked endorsements.
    fn revoked_endorsement_bits(&self, id: StatusListId) -> impl Iterator<Item = u32> + '_ {
        self.endorsements
            .values()
            .filter(|e| e.status.is_revoked())
            .filter_map(|e| e.status_slot)
            .filter(move |slot| slot.list_id == id)
            .map(|slot| slot.index)
    }
}

#[async_trait]
impl EndorsementRepository for Db {
    async fn create(&self, endorsement: &Endorsement) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if !tables.has_subject(endorsement.subject) {
            let entity = match endorsement.subject {
                EndorsedSubject::Achievement(_) => "badge class",
                EndorsedSubject::Issuer(_) => "issuer",
                EndorsedSubject::Credential(_) => "assertion",
            };
            return Err(missing_reference(entity, endorsement.subject.uuid()));
        }
        if let Endorser::Ours(id) = endorsement.endorser {
            tables.require_issuer(id)?;
        }
        if tables.endorsements.contains_key(&endorsement.id) {
            return Err(taken("endorsement", "id"));
        }
        if let Some(slot) = endorsement.status_slot {
            if !tables.status_lists.contains_key(&slot.list_id) {
                return Err(broken_reference());
            }
            if tables
                .endorsements
                .values()
                .any(|e| e.status_slot == Some(slot))
            {
                return Err(taken("endorsement", "status list entry"));
            }
        }
        tables
            .endorsements
            .insert(endorsement.id, endorsement.clone());
        Ok(())
    }

    async fn get(&self, id: EndorsementId) -> RepoResult<Endorsement> {
        let tables = self.lock()?;
        tables
            .endorsements
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("endorsement", id))
    }

    async fn list_for(&self, subject: EndorsedSubject) -> RepoResult<Vec<Endorsement>> {
        let tables = self.lock()?;
        Ok(ordered(tables.endorsements.values(), |e| {
            e.subject == subject
        }))
    }

    async fn revoke(
        &self,
        id: EndorsementId,
        reason: Option<Text>,
        at: Timestamp,
    ) -> RepoResult<Endorsement> {
        let mut tables = self.lock()?;
        let stored = tables
            .endorsements
            .get_mut(&id)
            .ok_or_else(|| not_found("endorsement", id))?;
        // The first revocation stays.
        if !stored.status.is_revoked() {
            stored.status = EndorsementStatus::Revoked { reason, at };
        }
        Ok(stored.clone())
    }
}

#[async_trait]
impl AssetRepository for Db {
    async fn create(&self, asset: &Asset) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if tables.assets.contains_key(&asset.id()) {
            return Err(DomainError::Duplicate {
                entity: "asset",
                field: "id",
            });
        }
        if let Some(user) = asset.uploaded_by() {
            if !tables.users.contains_key(&user) {
                return Err(DomainError::MissingReference {
                    entity: "user",
                    id: user.to_string(),
                });
            }
        }
        tables.assets.insert(asset.id(), asset.clone());
        Ok(())
    }

    async fn get(&self, id: AssetId) -> RepoResult<Asset> {
        let tables = self.lock()?;
        tables
            .assets
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("asset", id))
    }

    async fn count(&self) -> RepoResult<u64> {
        Ok(self.lock()?.assets.len() as u64)
    }
}
