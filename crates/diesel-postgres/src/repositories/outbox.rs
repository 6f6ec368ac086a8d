//! The mail outbox.
//!
//! A claim selects the due rows `FOR UPDATE SKIP LOCKED` and marks them
//! `sending` in the same transaction: a second sender claiming at the same
//! time skips the rows the first holds, and once the first commits, the
//! rows are no longer due. No row is handed out twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use openbadges_domain::mail::{clip_error, lease_end, DeliveryState, Notification, OutboxMessage};
use openbadges_domain::ports::{OutboxRepository, RepoResult};
use openbadges_domain::{AssertionId, DomainError, Email, Timestamp};
use uuid::Uuid;

use openbadges_store_support::mail::{subject_columns, subject_of};

use crate::errors::Failure;
use crate::pool::PgPool;
use crate::rows::{parse, restamp, stamp};
use crate::schema::mail_outbox;

use super::{blocking, in_transaction};

/// A row of `mail_outbox`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_outbox, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OutboxRow {
    id: Uuid,
    kind: String,
    assertion_id: Option<Uuid>,
    learner_email_id: Option<Uuid>,
    recipient: String,
    state: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    claimed_until: Option<DateTime<Utc>>,
    last_attempt_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl OutboxRow {
    fn queued(notification: &Notification) -> Self {
        Self::of(&OutboxMessage::queued(notification))
    }

    /// The row a new message is stored as.
    pub(crate) fn of(message: &OutboxMessage) -> Self {
        let (kind, assertion_id, learner_email_id) = subject_columns(&message.subject);
        Self {
            id: message.id.as_uuid(),
            kind: kind.to_owned(),
            assertion_id,
            learner_email_id,
            recipient: message.to.as_str().to_owned(),
            state: message.state.as_str().to_owned(),
            attempts: 0,
            next_attempt_at: stamp(message.next_attempt_at),
            claimed_until: None,
            last_attempt_at: None,
            last_error: None,
            sent_at: None,
            created_at: stamp(message.created_at),
        }
    }
}

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = DomainError;

    fn try_from(row: OutboxRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.id.into(),
            subject: subject_of(&row.kind, row.assertion_id, row.learner_email_id)
                .map_err(|problem| crate::errors::corrupt("mail_outbox.kind", problem))?,
            to: parse("mail_outbox.recipient", row.recipient, Email::parse)?,
            state: parse("mail_outbox.state", row.state, |s| DeliveryState::parse(&s))?,
            attempts: parse("mail_outbox.attempts", row.attempts.to_string(), |s| {
                s.parse::<u32>()
            })?,
            next_attempt_at: restamp(row.next_attempt_at),
            claimed_until: row.claimed_until.map(restamp),
            last_attempt_at: row.last_attempt_at.map(restamp),
            last_error: row.last_error,
            sent_at: row.sent_at.map(restamp),
            created_at: restamp(row.created_at),
        })
    }
}

/// Queues the notifications; the caller holds the award's transaction.
pub(crate) fn insert_notifications(
    conn: &mut PgConnection,
    notifications: &[Notification],
) -> Result<(), Failure> {
    for chunk in notifications.chunks(super::INSERT_CHUNK) {
        let rows: Vec<OutboxRow> = chunk.iter().map(OutboxRow::queued).collect();
        diesel::insert_into(mail_outbox::table)
            .values(&rows)
            .execute(conn)?;
    }
    Ok(())
}

/// [`OutboxRepository`] on PostgreSQL.
pub(crate) struct PgOutbox(pub(crate) PgPool);

impl PgOutbox {
    /// Sets the claimed row's outcome, only while it is still that claim.
    async fn finish(
        &self,
        claimed: &OutboxMessage,
        state: DeliveryState,
        next_at: Option<Timestamp>,
        error: Option<String>,
        sent_at: Option<Timestamp>,
    ) -> RepoResult<bool> {
        let id = claimed.id.as_uuid();
        let attempts = i32::try_from(claimed.attempts)
            .map_err(|_| DomainError::Internal("attempts out of range".to_owned()))?;
        let next_at = next_at.map(stamp);
        let sent_at = sent_at.map(stamp);
        blocking(&self.0, move |conn| {
            let claim = mail_outbox::table
                .find(id)
                .filter(mail_outbox::state.eq(DeliveryState::Sending.as_str()))
                .filter(mail_outbox::attempts.eq(attempts));
            let changed = match next_at {
                Some(next_at) => diesel::update(claim)
                    .set((
                        mail_outbox::state.eq(state.as_str()),
                        mail_outbox::claimed_until.eq(None::<DateTime<Utc>>),
                        mail_outbox::next_attempt_at.eq(next_at),
                        mail_outbox::last_error.eq(&error),
                        mail_outbox::sent_at.eq(sent_at),
                    ))
                    .execute(conn)?,
                None => diesel::update(claim)
                    .set((
                        mail_outbox::state.eq(state.as_str()),
                        mail_outbox::claimed_until.eq(None::<DateTime<Utc>>),
                        mail_outbox::last_error.eq(&error),
                        mail_outbox::sent_at.eq(sent_at),
                    ))
                    .execute(conn)?,
            };
            Ok(changed == 1)
        })
        .await
    }
}

#[async_trait]
impl OutboxRepository for PgOutbox {
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> RepoResult<Vec<OutboxMessage>> {
        let until = stamp(lease_end(now, lease)?);
        let now = stamp(now);
        let limit = i64::from(limit);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                // Due: pending and due by now, or claimed by a sender whose
                // lease ran out (it stopped mid-send).
                let due = mail_outbox::state
                    .eq(DeliveryState::Pending.as_str())
                    .and(mail_outbox::next_attempt_at.le(now))
                    .or(mail_outbox::state
                        .eq(DeliveryState::Sending.as_str())
                        .and(mail_outbox::claimed_until.le(now)));
                let ids: Vec<Uuid> = mail_outbox::table
                    .filter(due)
                    .order(mail_outbox::next_attempt_at.asc())
                    .select(mail_outbox::id)
                    .limit(limit)
                    .for_update()
                    .skip_locked()
                    .load(conn)?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let rows: Vec<OutboxRow> =
                    diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(&ids)))
                        .set((
                            mail_outbox::state.eq(DeliveryState::Sending.as_str()),
                            mail_outbox::claimed_until.eq(until),
                            mail_outbox::last_attempt_at.eq(now),
                            mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                        ))
                        .returning(OutboxRow::as_returning())
                        .get_results(conn)?;
                let mut messages = rows
                    .into_iter()
                    .map(OutboxMessage::try_from)
                    .collect::<Result<Vec<_>, _>>()?;
                messages.sort_by_key(|m| (m.next_attempt_at, m.id));
                Ok(messages)
            })
        })
        .await
    }

    async fn mark_sent(&self, claimed: &OutboxMessage, at: Timestamp) -> RepoResult<bool> {
        self.finish(claimed, DeliveryState::Sent, None, None, Some(at))
            .await
    }

    async fn mark_retry(
        &self,
        claimed: &OutboxMessage,
        next_at: Timestamp,
        error: &str,
    ) -> RepoResult<bool> {
        self.finish(
            claimed,
            DeliveryState::Pending,
            Some(next_at),
            Some(clip_error(error)),
            None,
        )
        .await
    }

    async fn mark_failed(&self, claimed: &OutboxMessage, error: &str) -> RepoResult<bool> {
        self.finish(
            claimed,
            DeliveryState::Failed,
            None,
            Some(clip_error(error)),
            None,
        )
        .await
    }

    async fn state_of(&self, assertion_id: AssertionId) -> RepoResult<Option<OutboxMessage>> {
        let id = assertion_id.as_uuid();
        blocking(&self.0, move |conn| {
            let row: Option<OutboxRow> = mail_outbox::table
                .filter(mail_outbox::assertion_id.eq(id))
                .order(mail_outbox::created_at.desc())
                .select(OutboxRow::as_select())
                .first(conn)
                .optional()?;
            Ok(row.map(OutboxMessage::try_from).transpose()?)
        })
        .await
    }
}
