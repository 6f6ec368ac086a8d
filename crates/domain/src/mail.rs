//! E-mail notifications of awards (and the verification e-mails of
//! learners' addresses), delivered through an outbox.
//!
//! An award that notifies its recipient is stored together with a
//! [`Notification`] in the same transaction: the outbox row exists exactly
//! when the award does. A sender (the server's mail worker) claims due rows
//! with a lease ([`crate::ports::OutboxRepository::claim_due`]), sends them
//! and records the outcome; several instances can share one outbox because a
//! claim is atomic and a row is claimed by one of them at a time.

use crate::ids::{AssertionId, LearnerEmailId, OutboxId};
use crate::values::{Email, InvalidValue, Recipient, RecipientIdentity, RecipientKind, Timestamp};

/// A message to send about a new award: who to tell. Stored with the award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The outbox row's id.
    pub id: OutboxId,
    /// The award it announces.
    pub assertion_id: AssertionId,
    /// Where it goes.
    pub to: Email,
    /// When it was queued (the award's creation time); it is due at once.
    pub created_at: Timestamp,
}

impl Notification {
    /// A message about `assertion_id` to `to`, due at `now`.
    pub fn new(assertion_id: AssertionId, to: Email, now: Timestamp) -> Self {
        Self {
            id: OutboxId::generate(),
            assertion_id,
            to,
            created_at: now,
        }
    }
}

/// Where a message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting to be sent: new, or to be retried at `next_attempt_at`.
    Pending,
    /// Claimed by a sender until `claimed_until`; after that, due again (the
    /// sender stopped while sending).
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up after the last attempt, or refused for good.
    Failed,
}

impl DeliveryState {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match value {
            "pending" => Ok(Self::Pending),
            "sending" => Ok(Self::Sending),
            "sent" => Ok(Self::Sent),
            "failed" => Ok(Self::Failed),
            _ => Err(InvalidValue(
                "must be pending, sending, sent or failed".to_owned(),
            )),
        }
    }
}

/// What an e-mail of the outbox is about: the two kinds of message one
/// sender delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailSubject {
    /// It announces an award to its recipient.
    Award(AssertionId),
    /// It carries the verification link of a learner's address
    /// ([`crate::learners`]).
    Verification(LearnerEmailId),
}

impl MailSubject {
    /// The stored kind: `award` or `verification`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Award(_) => "award",
            Self::Verification(_) => "verification",
        }
    }

    /// The award it announces, if it is about one.
    pub fn award(&self) -> Option<AssertionId> {
        match self {
            Self::Award(id) => Some(*id),
            Self::Verification(_) => None,
        }
    }
}

impl std::fmt::Display for MailSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Award(id) => write!(f, "credential {id}"),
            Self::Verification(id) => write!(f, "the verification of address {id}"),
        }
    }
}

/// A row of the outbox as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Its id.
    pub id: OutboxId,
    /// What it is about.
    pub subject: MailSubject,
    /// Where it goes.
    pub to: Email,
    /// Where it is in its delivery.
    pub state: DeliveryState,
    /// How many times it was claimed for sending. A claim raises it, so it
    /// also tells one claim from the next (see [`OutboxRepository`]).
    ///
    /// [`OutboxRepository`]: crate::ports::OutboxRepository
    pub attempts: u32,
    /// When it is due (for `pending`).
    pub next_attempt_at: Timestamp,
    /// Until when a sender holds it (for `sending`).
    pub claimed_until: Option<Timestamp>,
    /// When it was last claimed for sending.
    pub last_attempt_at: Option<Timestamp>,
    /// Why the last attempt failed: the SMTP server's answer or the
    /// connection error, never a credential.
    pub last_error: Option<String>,
    /// When the SMTP server accepted it.
    pub sent_at: Option<Timestamp>,
    /// When it was queued.
    pub created_at: Timestamp,
}

impl OutboxMessage {
    /// The row a new notification starts as: pending, due now.
    pub fn queued(notification: &Notification) -> Self {
        Self {
            id: notification.id,
            subject: MailSubject::Award(notification.assertion_id),
            to: notification.to.clone(),
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: notification.created_at,
            claimed_until: None,
            last_attempt_at: None,
            last_error: None,
            sent_at: None,
            created_at: notification.created_at,
        }
    }
}

impl OutboxMessage {
    /// The row a verification e-mail starts as: pending, due now.
    pub fn queued_verification(mail: &crate::learners::VerificationMail) -> Self {
        Self {
            id: mail.id,
            subject: MailSubject::Verification(mail.email),
            to: mail.to.clone(),
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: mail.created_at,
            claimed_until: None,
            last_attempt_at: None,
            last_error: None,
            sent_at: None,
            created_at: mail.created_at,
        }
    }
}

/// The longest error text kept: an SMTP answer is short; anything longer
/// is cut, so a row never grows without bound.
pub const MAX_ERROR_LEN: usize = 500;

/// `error` cut to [`MAX_ERROR_LEN`] bytes on a character boundary.
pub fn clip_error(error: &str) -> String {
    if error.len() <= MAX_ERROR_LEN {
        return error.to_owned();
    }
    let mut end = MAX_ERROR_LEN;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    error[..end].to_owned()
}

/// When a claim made at `now` with `lease` ends.
pub fn lease_end(
    now: Timestamp,
    lease: std::time::Duration,
) -> Result<Timestamp, crate::DomainError> {
    chrono::Duration::from_std(lease)
        .ok()
        .and_then(|lease| now.as_datetime().checked_add_signed(lease))
        .map(Timestamp::from_datetime)
        .ok_or_else(|| crate::DomainError::invalid("lease", "is too long"))
}

/// What the client asked about notifying the recipient of an award.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyRequest {
    /// `notify`: `Some(true)` to send, `Some(false)` not to, `None` for the
    /// achievement's default.
    pub notify: Option<bool>,
    /// `notifyEmail`: where to send instead of the recipient's identity.
    pub email: Option<Email>,
}

impl NotifyRequest {
    /// Where to send the e-mail about an award to `recipient`, or `None`
    /// for no e-mail. `default` is the achievement's setting, used when the
    /// request does not say. The address is `notifyEmail`, else the
    /// recipient's identity if it is an e-mail in the clear. A hashed
    /// identity cannot be mailed: an explicit `notify: true` without
    /// `notifyEmail` is then refused (naming `notifyEmail`); the default
    /// alone just sends nothing.
    pub fn address_for(
        &self,
        recipient: &Recipient,
        default: bool,
    ) -> Result<Option<Email>, crate::DomainError> {
        if !self.notify.unwrap_or(default) {
            return Ok(None);
        }
        if let Some(email) = &self.email {
            return Ok(Some(email.clone()));
        }
        let clear = match (recipient.kind(), recipient.identity()) {
            (RecipientKind::Email, RecipientIdentity::Plain(identity)) => {
                Email::parse(identity.as_str()).ok()
            }
            _ => None,
        };
        match clear {
            Some(email) => Ok(Some(email)),
            None if self.notify == Some(true) => Err(crate::DomainError::invalid(
                "notifyEmail",
                "is required with notify: the recipient is not an e-mail address in the clear \
                 (it is hashed, or of another type), so there is no address to send to",
            )),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(value: &str) -> Email {
        Email::parse(value).expect("fixture e-mail")
    }

    #[test]
    fn the_address_is_notify_email_or_the_clear_identity() {
        let clear = Recipient::plain(RecipientKind::Email, "ada@example.org").expect("fixture");
        let hashed =
            Recipient::hashed(RecipientKind::Email, "ada@example.org", "salt").expect("fixture");
        let ask = |notify, to: Option<&str>| NotifyRequest {
            notify,
            email: to.map(email),
        };
        assert_eq!(
            ask(Some(true), None)
                .address_for(&clear, false)
                .expect("ok"),
            Some(email("ada@example.org"))
        );
        assert_eq!(
            ask(Some(true), Some("b@example.org"))
                .address_for(&hashed, false)
                .expect("ok"),
            Some(email("b@example.org"))
        );
        // The achievement's default applies when the request is silent…
        assert_eq!(
            ask(None, None).address_for(&clear, true).expect("ok"),
            Some(email("ada@example.org"))
        );
        assert_eq!(
            ask(None, None).address_for(&clear, false).expect("ok"),
            None
        );
        // …and an explicit `false` overrides it.
        assert_eq!(
            ask(Some(false), None)
                .address_for(&clear, true)
                .expect("ok"),
            None
        );
        // A hashed identity: silently nothing by default, refused when asked.
        assert_eq!(
            ask(None, None).address_for(&hashed, true).expect("ok"),
            None
        );
        match ask(Some(true), None).address_for(&hashed, false) {
            Err(crate::DomainError::Validation(fields)) => {
                assert_eq!(fields[0].field, "notifyEmail")
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn errors_are_clipped_on_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR_LEN);
        let clipped = clip_error(&long);
        assert!(clipped.len() <= MAX_ERROR_LEN);
        assert!(long.starts_with(&clipped));
        assert_eq!(clip_error("short"), "short");
    }
}
