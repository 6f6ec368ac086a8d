//! The sender: claims due e-mails from the outbox, sends them, records the
//! outcome. Runs beside the HTTP server of every instance; the outbox's
//! claims keep instances from sending the same e-mail.

use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use openbadges_domain::documents::{ob3, Urls};
use openbadges_domain::learners::VerificationKey;
use openbadges_domain::mail::{MailSubject, OutboxMessage};
use openbadges_domain::ports::Store;
use openbadges_domain::{AssertionId, DomainError, LearnerEmailId, Timestamp};
use tokio::sync::Notify;

use super::config::{MailSettings, SmtpTls};
use super::message;

/// How long a claim holds an e-mail: longer than any one send (connection,
/// TLS and the SMTP dialogue, each step bounded by [`SMTP_TIMEOUT`]). A
/// sender that stops mid-send leaves the e-mail to be claimed again after
/// this.
pub const LEASE: Duration = Duration::from_secs(300);

/// The SMTP client's limit for each step of a send.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The limit for a whole send, whatever the client's own timeouts cover:
/// an SMTP server that stops answering mid-dialogue must not hold the
/// sender (and every e-mail behind this one). Well within [`LEASE`].
const SEND_LIMIT: Duration = Duration::from_secs(120);
const _: () = assert!(SEND_LIMIT.as_secs() < LEASE.as_secs());

/// E-mails claimed at a time.
const CLAIM: u32 = 10;

/// The longest wait before a retry.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// The longest wait between two looks at the outbox when nothing wakes
/// the sender (an award on another instance, a retry coming due).
const MAX_POLL: Duration = Duration::from_secs(10);

/// The delay before the retry that follows attempt number `attempts`
/// (1 for the first): `base` doubled per attempt, at most an hour, then
/// drawn between half and all of that (`jitter`, in 0..=1), so that the
/// e-mails of a failed burst do not all come back at once.
pub fn backoff(base: Duration, attempts: u32, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    let full = base
        .checked_mul(1u32 << doublings)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// A random number in 0..=1 for the jitter.
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() & 0xFFFF) as f64 / f64::from(0xFFFFu32)
}

/// The SMTP client the settings describe.
pub fn transport(settings: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match settings.tls {
        SmtpTls::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
        }
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
            .map_err(|err| format!("SMTP TLS setup: {err}"))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)
            .map_err(|err| format!("SMTP TLS setup: {err}"))?,
    };
    let mut builder = builder.port(settings.port).timeout(Some(SMTP_TIMEOUT));
    if let Some(login) = &settings.credentials {
        builder = builder.credentials(Credentials::new(login.user.clone(), login.password.clone()));
    }
    Ok(builder.build())
}

/// The sender of one instance.
pub struct Worker {
    pub(super) store: Arc<dyn Store>,
    pub(super) urls: Urls,
    pub(super) settings: MailSettings,
    pub(super) transport: AsyncSmtpTransport<Tokio1Executor>,
    pub(super) wake: Arc<Notify>,
    /// What the achievement image baked into the attachment may be.
    pub(super) limits: openbadges_baking::Limits,
    /// Derives the tokens of verification e-mails.
    pub(super) verification: VerificationKey,
}

/// What became of one e-mail.
enum Outcome {
    Sent,
    /// Worth another try (the server or the network failed for now).
    Retry(String),
    /// No try will do better (refused for good, or nothing left to send).
    Failed(String),
}

impl Worker {
    /// Sends due e-mails until the process ends: whenever woken (an award
    /// was queued here), and at least every [`MAX_POLL`] (or the retry
    /// base, when smaller: tests and impatient operators).
    pub async fn run(self) {
        let poll = self.settings.retry_base.min(MAX_POLL);
        loop {
            let claimed = match self.round().await {
                Ok(claimed) => claimed,
                Err(err) => {
                    log::warn!(target: "openbadges::mail", "the mail outbox could not be read: {err}");
                    0
                }
            };
            if claimed < CLAIM as usize {
                // `notified` also returns at once for a wake-up that came
                // while this round was sending.
                let _ = tokio::time::timeout(poll, self.wake.notified()).await;
            }
        }
    }

    /// Claims and sends one round of due e-mails; answers how many.
    async fn round(&self) -> Result<usize, DomainError> {
        let outbox = self.store.outbox();
        let claimed = outbox.claim_due(Timestamp::now(), LEASE, CLAIM).await?;
        for message in &claimed {
            let outcome = self.deliver(message).await;
            let recorded = match &outcome {
                Outcome::Sent => outbox.mark_sent(message, Timestamp::now()).await,
                Outcome::Retry(error) if message.attempts < self.settings.max_attempts => {
                    let wait = backoff(self.settings.retry_base, message.attempts, jitter());
                    let next = chrono::Duration::from_std(wait)
                        .map(|wait| Timestamp::from_datetime(Timestamp::now().as_datetime() + wait))
                        .unwrap_or_else(|_| Timestamp::now());
                    outbox.mark_retry(message, next, error).await
                }
                Outcome::Retry(error) | Outcome::Failed(error) => {
                    outbox.mark_failed(message, error).await
                }
            };
            match (&outcome, recorded) {
                (Outcome::Sent, Ok(_)) => log::info!(
                    target: "openbadges::mail",
                    "e-mail {} about {} sent (attempt {})",
                    message.id, message.subject, message.attempts
                ),
                (Outcome::Retry(error) | Outcome::Failed(error), Ok(_)) => log::warn!(
                    target: "openbadges::mail",
                    "e-mail {} about {} not sent (attempt {}): {error}",
                    message.id, message.subject, message.attempts
                ),
                (_, Err(err)) => log::warn!(
                    target: "openbadges::mail",
                    "the outcome of e-mail {} could not be recorded: {err}",
                    message.id
                ),
            }
        }
        Ok(claimed.len())
    }

    /// Renders and sends one e-mail.
    async fn deliver(&self, queued: &OutboxMessage) -> Outcome {
        let email = match queued.subject {
            MailSubject::Award(award) => match self.award_message(award, queued).await {
                Ok(email) => email,
                Err(outcome) => return outcome,
            },
            MailSubject::Verification(address) => {
                match self.verification_message(address, queued).await {
                    Ok(email) => email,
                    Err(outcome) => return outcome,
                }
            }
        };
        self.send(email).await
    }

    /// The verification e-mail of a learner's address: its link carries
    /// the token, derived again from the stored nonce and the server's
    /// secret (only the token's hash is stored).
    async fn verification_message(
        &self,
        address: LearnerEmailId,
        queued: &OutboxMessage,
    ) -> Result<lettre::Message, Outcome> {
        let nonce = match self.store.learner_emails().pending_nonce(address).await {
            Ok(Some(nonce)) => nonce,
            Ok(None) => {
                return Err(Outcome::Failed(
                    "the address was verified or removed meanwhile".to_owned(),
                ))
            }
            Err(err) => {
                return Err(Outcome::Retry(format!(
                    "the address could not be read: {err}"
                )))
            }
        };
        let link = format!(
            "{}/learner/emails/verify?token={}",
            self.urls.base(),
            self.verification.token(&nonce)
        );
        message::verification(&self.settings.from, &queued.to, &link).map_err(Outcome::Failed)
    }

    /// The e-mail announcing an award.
    async fn award_message(
        &self,
        award: AssertionId,
        queued: &OutboxMessage,
    ) -> Result<lettre::Message, Outcome> {
        let loaded = async {
            let award = self.store.assertions().get(award).await?;
            let badge = self.store.badge_classes().get(award.badge_class_id).await?;
            let issuer = self.store.issuers().get(award.issuer_id).await?;
            Ok::<_, DomainError>((award, badge, issuer))
        }
        .await;
        let (award, badge, issuer) = match loaded {
            Ok(loaded) => loaded,
            Err(DomainError::NotFound { .. }) => {
                return Err(Outcome::Failed(
                    "the credential no longer exists".to_owned(),
                ))
            }
            Err(err) => {
                return Err(Outcome::Retry(format!(
                    "the credential could not be read: {err}"
                )))
            }
        };
        let credential = match &award.issued_credential {
            Some(issued) => issued.json().to_owned(),
            None => ob3::credential(&award, &badge, &issuer, &self.urls).to_string(),
        };
        let baked = crate::images::ob3_png(
            self.store.as_ref(),
            self.urls.base(),
            self.limits,
            &badge,
            credential,
        )
        .await;
        let png = match baked {
            Ok(png) => png,
            Err(err) => {
                return Err(Outcome::Retry(format!(
                    "the badge could not be baked: {err}"
                )))
            }
        };
        let content = message::render(
            &award,
            &badge,
            &issuer,
            &self.urls,
            message::attachment(png),
        );
        message::message(&self.settings.from, &queued.to, content).map_err(Outcome::Failed)
    }

    /// Sends one e-mail, bounded by [`SEND_LIMIT`].
    async fn send(&self, email: lettre::Message) -> Outcome {
        match tokio::time::timeout(SEND_LIMIT, self.transport.send(email)).await {
            Err(_) => Outcome::Retry(format!(
                "the SMTP server did not complete the exchange within {} s",
                SEND_LIMIT.as_secs()
            )),
            Ok(Ok(_)) => Outcome::Sent,
            Ok(Err(err)) => {
                let error = self.scrub(&err.to_string());
                if err.is_permanent() {
                    Outcome::Failed(error)
                } else {
                    Outcome::Retry(error)
                }
            }
        }
    }

    /// An error text without the SMTP password, should a server ever echo
    /// it back: what is stored and logged.
    fn scrub(&self, error: &str) -> String {
        match &self.settings.credentials {
            Some(login) if !login.password.is_empty() => error.replace(&login.password, "***"),
            _ => error.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_an_hour() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1, 1.0), Duration::from_secs(30));
        assert_eq!(backoff(base, 2, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(base, 5, 1.0), Duration::from_secs(480));
        assert_eq!(backoff(base, 8, 1.0), Duration::from_secs(3600));
        assert_eq!(backoff(base, 1000, 1.0), Duration::from_secs(3600));
        // Attempt 0 cannot happen (a claim counts); it waits as the first.
        assert_eq!(backoff(base, 0, 1.0), Duration::from_secs(30));
    }

    #[test]
    fn a_client_is_built_for_every_tls_mode() {
        for tls in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Tls] {
            let settings = MailSettings {
                host: "smtp.example.org".to_owned(),
                port: tls.default_port(),
                tls,
                credentials: Some(super::super::config::SmtpLogin {
                    user: "mailer".to_owned(),
                    password: "secret".to_owned(),
                }),
                from: "badges@example.org".parse().expect("from"),
                retry_base: Duration::from_secs(30),
                max_attempts: 10,
            };
            // No connection is made until a message is sent.
            assert!(transport(&settings).is_ok(), "{tls:?}");
        }
    }

    #[test]
    fn jitter_draws_between_half_and_all_of_the_delay() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 2, 0.0), Duration::from_secs(30));
        assert_eq!(backoff(base, 2, 0.5), Duration::from_secs(45));
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..=1.0).contains(&j), "{j}");
        }
    }
}
