//! Badge hosts and the sending of awards to them, in memory. Every call
//! holds the store's lock for its whole length and applies the domain's
//! own transitions, as the SQL adapters do in their transactions.

use async_trait::async_trait;
use openbadges_domain::deliveries::{Delivery, DeliveryState, RemoteHost, SealedTokens};
use openbadges_domain::mail::lease_end;
use openbadges_domain::ports::{DeliveryRepository, RepoResult};
use openbadges_domain::{AssertionId, DeliveryId, DomainError, RemoteHostId, Timestamp};

use super::{missing_reference, taken, Tables};
use crate::Db;

impl Tables {
    /// Drops the deliveries of awards deleted since: the SQL schemas'
    /// cascade.
    fn drop_orphan_deliveries(&mut self) {
        let assertions = &self.assertions;
        self.deliveries
            .retain(|_, delivery| assertions.contains_key(&delivery.assertion_id));
    }

    fn transition(&mut self, id: DeliveryId, change: impl FnOnce(&mut Delivery) -> bool) -> bool {
        self.drop_orphan_deliveries();
        self.deliveries.get_mut(&id).is_some_and(change)
    }

    fn finish_delivery(&mut self, claimed: &Delivery, change: impl FnOnce(&mut Delivery)) -> bool {
        self.transition(claimed.id, |delivery| {
            let current = delivery.is_claim(claimed);
            if current {
                change(delivery);
            }
            current
        })
    }
}

#[async_trait]
impl DeliveryRepository for Db {
    async fn host(&self, base_url: &str) -> RepoResult<Option<RemoteHost>> {
        Ok(self
            .lock()?
            .remote_hosts
            .values()
            .find(|host| host.base_url == base_url)
            .cloned())
    }

    async fn get_host(&self, id: RemoteHostId) -> RepoResult<RemoteHost> {
        self.lock()?
            .remote_hosts
            .get(&id)
            .cloned()
            .ok_or_else(|| DomainError::NotFound {
                entity: "badge host",
                id: id.to_string(),
            })
    }

    async fn add_host(&self, host: &RemoteHost) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if tables.remote_hosts.contains_key(&host.id) {
            return Err(taken("badge host", "id"));
        }
        if tables
            .remote_hosts
            .values()
            .any(|known| known.base_url == host.base_url)
        {
            return Err(taken("badge host", "base URL"));
        }
        tables.remote_hosts.insert(host.id, host.clone());
        Ok(())
    }

    async fn start(&self, delivery: &Delivery) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if !tables.assertions.contains_key(&delivery.assertion_id) {
            return Err(missing_reference("assertion", delivery.assertion_id));
        }
        if !tables.remote_hosts.contains_key(&delivery.host_id) {
            return Err(missing_reference("badge host", delivery.host_id));
        }
        if tables.deliveries.contains_key(&delivery.id) {
            return Err(taken("delivery", "id"));
        }
        if delivery.state_hash.is_some()
            && tables
                .deliveries
                .values()
                .any(|known| known.state_hash == delivery.state_hash)
        {
            return Err(taken("delivery", "state"));
        }
        tables.deliveries.insert(delivery.id, delivery.clone());
        Ok(())
    }

    async fn find_authorizing(&self, state_hash: &str) -> RepoResult<Option<Delivery>> {
        let mut tables = self.lock()?;
        tables.drop_orphan_deliveries();
        Ok(tables
            .deliveries
            .values()
            .find(|d| {
                d.state == DeliveryState::Authorizing && d.state_hash.as_deref() == Some(state_hash)
            })
            .cloned())
    }

    async fn open_authorizations(
        &self,
        assertion_id: AssertionId,
        now: Timestamp,
    ) -> RepoResult<u64> {
        let mut tables = self.lock()?;
        tables.drop_orphan_deliveries();
        let open = tables
            .deliveries
            .values()
            .filter(|d| {
                d.assertion_id == assertion_id
                    && d.state == DeliveryState::Authorizing
                    && d.authorize_until > now
            })
            .count();
        Ok(u64::try_from(open).unwrap_or(u64::MAX))
    }

    async fn authorized(
        &self,
        id: DeliveryId,
        tokens: &SealedTokens,
        now: Timestamp,
    ) -> RepoResult<bool> {
        Ok(self
            .lock()?
            .transition(id, |delivery| delivery.authorize(tokens, now)))
    }

    async fn authorization_failed(
        &self,
        id: DeliveryId,
        error: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        Ok(self
            .lock()?
            .transition(id, |delivery| delivery.fail_authorization(error, now)))
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> RepoResult<Vec<Delivery>> {
        let until = lease_end(now, lease)?;
        let mut tables = self.lock()?;
        tables.drop_orphan_deliveries();
        let mut due: Vec<&mut Delivery> = tables
            .deliveries
            .values_mut()
            .filter(|d| d.is_due(now))
            .collect();
        due.sort_by_key(|d| (d.next_attempt_at, d.id));
        due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(due
            .into_iter()
            .map(|delivery| {
                delivery.claim(now, until);
                delivery.clone()
            })
            .collect())
    }

    async fn renew_tokens(
        &self,
        claimed: &Delivery,
        tokens: &SealedTokens,
        now: Timestamp,
    ) -> RepoResult<bool> {
        Ok(self.lock()?.finish_delivery(claimed, |delivery| {
            delivery.tokens = Some(tokens.clone());
            delivery.updated_at = now;
        }))
    }

    async fn mark_delivered(&self, claimed: &Delivery, at: Timestamp) -> RepoResult<bool> {
        Ok(self
            .lock()?
            .finish_delivery(claimed, |delivery| delivery.deliver(at)))
    }

    async fn mark_retry(
        &self,
        claimed: &Delivery,
        next_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        Ok(self
            .lock()?
            .finish_delivery(claimed, |delivery| delivery.retry(next_at, error, now)))
    }

    async fn mark_failed(
        &self,
        claimed: &Delivery,
        error: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        Ok(self
            .lock()?
            .finish_delivery(claimed, |delivery| delivery.fail(error, now)))
    }

    async fn list_for(&self, assertion_id: AssertionId) -> RepoResult<Vec<Delivery>> {
        let mut tables = self.lock()?;
        tables.drop_orphan_deliveries();
        let mut found: Vec<Delivery> = tables
            .deliveries
            .values()
            .filter(|d| d.assertion_id == assertion_id)
            .cloned()
            .collect();
        found.sort_by_key(|d| (d.created_at, d.id));
        Ok(found)
    }
}
