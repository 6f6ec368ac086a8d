//! The mail outbox.
//!
//! A claim is a read of the due rows and an update of them in one `BEGIN
//! IMMEDIATE` transaction: SQLite has one writer at a time, so two senders
//! (threads, or processes sharing the file) claim one after the other and
//! the second sees the first's rows as `sending`.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::mail::{clip_error, lease_end, DeliveryState, Notification, OutboxMessage};
use openbadges_domain::ports::{OutboxRepository, RepoResult};
use openbadges_domain::{AssertionId, DomainError, Email, Timestamp};

use crate::errors::Failure;
use crate::pool::Database;
use openbadges_store_support::mail::{subject_columns, subject_of};

use crate::rows::{
    decode, decode_id, decode_optional_id, decode_optional_timestamp, decode_timestamp,
    encode_optional_timestamp, encode_timestamp,
};
use crate::schema::mail_outbox;

/// A row of `mail_outbox`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_outbox, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct OutboxRow {
    id: String,
    kind: String,
    assertion_id: Option<String>,
    learner_email_id: Option<String>,
    recipient: String,
    state: String,
    attempts: i32,
    next_attempt_at: String,
    claimed_until: Option<String>,
    last_attempt_at: Option<String>,
    last_error: Option<String>,
    sent_at: Option<String>,
    created_at: String,
}

impl OutboxRow {
    /// The row a new notification is stored as.
    pub(crate) fn queued(notification: &Notification) -> Self {
        Self::of(&OutboxMessage::queued(notification))
    }

    /// The row a new message is stored as.
    pub(crate) fn of(message: &OutboxMessage) -> Self {
        let (kind, award, email) = subject_columns(&message.subject);
        Self {
            id: message.id.to_string(),
            kind: kind.to_owned(),
            assertion_id: award.map(|id| id.to_string()),
            learner_email_id: email.map(|id| id.to_string()),
            recipient: message.to.as_str().to_owned(),
            state: message.state.as_str().to_owned(),
            attempts: 0,
            next_attempt_at: encode_timestamp(message.next_attempt_at),
            claimed_until: None,
            last_attempt_at: None,
            last_error: None,
            sent_at: None,
            created_at: encode_timestamp(message.created_at),
        }
    }
}

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = DomainError;

    fn try_from(row: OutboxRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: decode_id("mail_outbox.id", &row.id)?,
            subject: decode(
                "mail_outbox.kind",
                subject_of(
                    &row.kind,
                    decode_optional_id("mail_outbox.assertion_id", row.assertion_id.as_deref())?,
                    decode_optional_id(
                        "mail_outbox.learner_email_id",
                        row.learner_email_id.as_deref(),
                    )?,
                ),
            )?,
            to: decode("mail_outbox.recipient", Email::parse(row.recipient))?,
            state: decode("mail_outbox.state", DeliveryState::parse(&row.state))?,
            attempts: decode("mail_outbox.attempts", u32::try_from(row.attempts))?,
            next_attempt_at: decode_timestamp("mail_outbox.next_attempt_at", &row.next_attempt_at)?,
            claimed_until: decode_optional_timestamp(
                "mail_outbox.claimed_until",
                row.claimed_until.as_deref(),
            )?,
            last_attempt_at: decode_optional_timestamp(
                "mail_outbox.last_attempt_at",
                row.last_attempt_at.as_deref(),
            )?,
            last_error: row.last_error,
            sent_at: decode_optional_timestamp("mail_outbox.sent_at", row.sent_at.as_deref())?,
            created_at: decode_timestamp("mail_outbox.created_at", &row.created_at)?,
        })
    }
}

/// Queues the notifications; the caller holds the award's transaction.
pub(crate) fn insert_notifications(
    conn: &mut SqliteConnection,
    notifications: &[Notification],
) -> Result<(), Failure> {
    for notification in notifications {
        diesel::insert_into(mail_outbox::table)
            .values(OutboxRow::queued(notification))
            .execute(conn)?;
    }
    Ok(())
}

/// [`OutboxRepository`] on SQLite.
pub(crate) struct Outbox {
    db: Database,
}

impl Outbox {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }

    /// Sets the claimed row's outcome, only while it is still that claim.
    async fn finish(
        &self,
        claimed: &OutboxMessage,
        state: DeliveryState,
        next_at: Option<Timestamp>,
        error: Option<String>,
        sent_at: Option<Timestamp>,
    ) -> RepoResult<bool> {
        let id = claimed.id.to_string();
        let attempts = i32::try_from(claimed.attempts)
            .map_err(|_| DomainError::Internal("attempts out of range".to_owned()))?;
        let next_at = next_at.map(encode_timestamp);
        let sent_at = encode_optional_timestamp(sent_at);
        self.db
            .write(move |conn| {
                let claim = mail_outbox::table
                    .find(&id)
                    .filter(mail_outbox::state.eq(DeliveryState::Sending.as_str()))
                    .filter(mail_outbox::attempts.eq(attempts));
                let changed = match next_at {
                    Some(next_at) => diesel::update(claim)
                        .set((
                            mail_outbox::state.eq(state.as_str()),
                            mail_outbox::claimed_until.eq(None::<String>),
                            mail_outbox::next_attempt_at.eq(next_at),
                            mail_outbox::last_error.eq(&error),
                            mail_outbox::sent_at.eq(&sent_at),
                        ))
                        .execute(conn)?,
                    None => diesel::update(claim)
                        .set((
                            mail_outbox::state.eq(state.as_str()),
                            mail_outbox::claimed_until.eq(None::<String>),
                            mail_outbox::last_error.eq(&error),
                            mail_outbox::sent_at.eq(&sent_at),
                        ))
                        .execute(conn)?,
                };
                Ok(changed == 1)
            })
            .await
    }
}

#[async_trait]
impl OutboxRepository for Outbox {
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> RepoResult<Vec<OutboxMessage>> {
        let until = lease_end(now, lease)?;
        let now = encode_timestamp(now);
        let until = encode_timestamp(until);
        self.db
            .write(move |conn| {
                let pending = mail_outbox::table
                    .filter(mail_outbox::state.eq(DeliveryState::Pending.as_str()))
                    .filter(mail_outbox::next_attempt_at.le(&now))
                    .order(mail_outbox::next_attempt_at.asc())
                    .select(mail_outbox::id)
                    .limit(i64::from(limit))
                    .load::<String>(conn)?;
                // A lease that ran out: its sender stopped mid-send.
                let abandoned = mail_outbox::table
                    .filter(mail_outbox::state.eq(DeliveryState::Sending.as_str()))
                    .filter(mail_outbox::claimed_until.le(&now))
                    .select(mail_outbox::id)
                    .limit(i64::from(limit))
                    .load::<String>(conn)?;
                let mut ids = abandoned;
                ids.extend(pending);
                ids.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(&ids)))
                    .set((
                        mail_outbox::state.eq(DeliveryState::Sending.as_str()),
                        mail_outbox::claimed_until.eq(&until),
                        mail_outbox::last_attempt_at.eq(&now),
                        mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                    ))
                    .execute(conn)?;
                let rows: Vec<OutboxRow> = mail_outbox::table
                    .filter(mail_outbox::id.eq_any(&ids))
                    .order(mail_outbox::next_attempt_at.asc())
                    .select(OutboxRow::as_select())
                    .load(conn)?;
                rows.into_iter()
                    .map(|row| OutboxMessage::try_from(row).map_err(Failure::from))
                    .collect()
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
        let id = assertion_id.to_string();
        self.db
            .read(move |conn| {
                let row: Option<OutboxRow> = mail_outbox::table
                    .filter(mail_outbox::assertion_id.eq(&id))
                    .order(mail_outbox::created_at.desc())
                    .select(OutboxRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(OutboxMessage::try_from).transpose()?)
            })
            .await
    }
}
