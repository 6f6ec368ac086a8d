//! The mail outbox in memory. A claim holds the store's lock for its whole
//! length, so two claims never see the same row as due.

use std::collections::HashSet;

use async_trait::async_trait;
use openbadges_domain::mail::{
    clip_error, lease_end, DeliveryState, MailSubject, Notification, OutboxMessage,
};
use openbadges_domain::ports::{OutboxRepository, RepoResult};
use openbadges_domain::{AssertionId, Timestamp};

use super::{missing_reference, taken, Tables};
use crate::Db;

impl Tables {
    /// Queues e-mails about awards stored or being stored (`pending`, the
    /// call's own awards), checking every one before adding any.
    pub(super) fn queue(
        &mut self,
        notifications: &[Notification],
        pending: &HashSet<AssertionId>,
    ) -> RepoResult<()> {
        let mut ids = HashSet::new();
        for notification in notifications {
            if self.outbox.contains_key(&notification.id) || !ids.insert(notification.id) {
                return Err(taken("mail", "id"));
            }
            let award = notification.assertion_id;
            if !pending.contains(&award) && !self.assertions.contains_key(&award) {
                return Err(missing_reference("assertion", award));
            }
        }
        for notification in notifications {
            self.outbox
                .insert(notification.id, OutboxMessage::queued(notification));
        }
        Ok(())
    }

    /// Drops the rows of awards deleted since: the SQL schemas' cascade.
    fn drop_orphans(&mut self) {
        let assertions = &self.assertions;
        let emails = &self.learner_emails;
        self.outbox.retain(|_, message| match message.subject {
            MailSubject::Award(award) => assertions.contains_key(&award),
            MailSubject::Verification(email) => emails.contains_key(&email),
        });
    }

    /// Sets the claimed row's outcome, only while it is still that claim.
    fn finish(&mut self, claimed: &OutboxMessage, change: impl FnOnce(&mut OutboxMessage)) -> bool {
        self.drop_orphans();
        match self.outbox.get_mut(&claimed.id) {
            Some(row)
                if row.state == DeliveryState::Sending && row.attempts == claimed.attempts =>
            {
                row.claimed_until = None;
                change(row);
                true
            }
            _ => false,
        }
    }
}

#[async_trait]
impl OutboxRepository for Db {
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> RepoResult<Vec<OutboxMessage>> {
        let until = lease_end(now, lease)?;
        let mut tables = self.lock()?;
        tables.drop_orphans();
        let mut due: Vec<&mut OutboxMessage> = tables
            .outbox
            .values_mut()
            .filter(|m| match m.state {
                DeliveryState::Pending => m.next_attempt_at <= now,
                DeliveryState::Sending => m.claimed_until.is_some_and(|until| until <= now),
                DeliveryState::Sent | DeliveryState::Failed => false,
            })
            .collect();
        due.sort_by_key(|m| (m.next_attempt_at, m.id));
        due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(due
            .into_iter()
            .map(|m| {
                m.state = DeliveryState::Sending;
                m.claimed_until = Some(until);
                m.last_attempt_at = Some(now);
                m.attempts += 1;
                m.clone()
            })
            .collect())
    }

    async fn mark_sent(&self, claimed: &OutboxMessage, at: Timestamp) -> RepoResult<bool> {
        Ok(self.lock()?.finish(claimed, |row| {
            row.state = DeliveryState::Sent;
            row.sent_at = Some(at);
            row.last_error = None;
        }))
    }

    async fn mark_retry(
        &self,
        claimed: &OutboxMessage,
        next_at: Timestamp,
        error: &str,
    ) -> RepoResult<bool> {
        Ok(self.lock()?.finish(claimed, |row| {
            row.state = DeliveryState::Pending;
            row.next_attempt_at = next_at;
            row.last_error = Some(clip_error(error));
        }))
    }

    async fn mark_failed(&self, claimed: &OutboxMessage, error: &str) -> RepoResult<bool> {
        Ok(self.lock()?.finish(claimed, |row| {
            row.state = DeliveryState::Failed;
            row.last_error = Some(clip_error(error));
        }))
    }

    async fn state_of(&self, assertion_id: AssertionId) -> RepoResult<Option<OutboxMessage>> {
        let mut tables = self.lock()?;
        tables.drop_orphans();
        Ok(tables
            .outbox
            .values()
            .filter(|m| m.subject == MailSubject::Award(assertion_id))
            .max_by_key(|m| m.created_at)
            .cloned())
    }
}
