//! The sender: claims due deliveries, upserts each credential at its host,
//! refreshes the tokens once when the host refuses them, and records the
//! outcome; a failure is retried as the OB 3.0 API's "Retry Behavior"
//! says: after `Retry-After` when the host gives it, else 30 minutes, for
//! two more attempts. Runs beside the HTTP server of every instance; the
//! claims keep instances from sending the same delivery. Time is a
//! parameter of [`Sender::round`], so tests step it without sleeping.

use std::sync::Arc;
use std::time::Duration;

use openbadges_credentials::KeyVault;
use openbadges_domain::deliveries::{Delivery, SealedTokens, MAX_ATTEMPTS};
use openbadges_domain::ports::Store;
use openbadges_domain::{DomainError, Timestamp};
use tokio::sync::Notify;

use super::host::{self, HostError};
use super::secrets;
use crate::outbound::{Outbound, Reply};

/// How long a claim holds a delivery: longer than a send (a refresh and two
/// upserts, each within the guard's 60 s).
pub const LEASE: Duration = Duration::from_secs(300);

/// Deliveries claimed at a time.
const CLAIM: u32 = 10;

/// The wait between two looks when nothing wakes the sender.
const POLL: Duration = Duration::from_secs(10);

/// The retry delay when the host gives no `Retry-After`.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(30 * 60);

/// The longest `Retry-After` honoured.
const MAX_RETRY: Duration = Duration::from_secs(24 * 3600);

/// What became of one attempt.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// Worth another try after the wait.
    Retry(Duration, String),
    /// No try will do better.
    Failed(String),
}

/// The delay a `Retry-After` asks for, at `now`: seconds, or an HTTP date;
/// within a day, at least a second.
pub fn retry_after(value: Option<&str>, now: Timestamp) -> Duration {
    let Some(value) = value.map(str::trim) else {
        return DEFAULT_RETRY;
    };
    let asked = match value.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => chrono::DateTime::parse_from_rfc2822(value).ok().map(|at| {
            (at.with_timezone(&chrono::Utc) - now.as_datetime())
                .to_std()
                .unwrap_or(Duration::ZERO)
        }),
    };
    asked.map_or(DEFAULT_RETRY, |wait| {
        wait.clamp(Duration::from_secs(1), MAX_RETRY)
    })
}

/// The sender of one instance.
pub struct Sender {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The guarded client.
    pub outbound: Outbound,
    /// Opens the tokens and client secrets.
    pub vault: Arc<KeyVault>,
    /// Wakes the sender when a delivery becomes due here.
    pub wake: Arc<Notify>,
}

impl Sender {
    /// Sends due deliveries until the process ends.
    pub async fn run(self) {
        loop {
            let claimed = match self.round(Timestamp::now()).await {
                Ok(claimed) => claimed,
                Err(err) => {
                    log::warn!(target: "openbadges::deliveries", "the deliveries could not be read: {err}");
                    0
                }
            };
            if claimed < CLAIM as usize {
                let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
            }
        }
    }

    /// Claims and sends the deliveries due at `now`; answers how many.
    pub async fn round(&self, now: Timestamp) -> Result<usize, DomainError> {
        let repo = self.store.deliveries();
        let claimed = repo.claim_due(now, LEASE, CLAIM).await?;
        for delivery in &claimed {
            let outcome = match self.attempt(delivery, now).await {
                Ok(outcome) => outcome,
                Err(err) => Outcome::Retry(DEFAULT_RETRY, format!("this server failed: {err}")),
            };
            let recorded = match &outcome {
                Outcome::Delivered => repo.mark_delivered(delivery, now).await,
                Outcome::Retry(wait, error) if delivery.attempts < MAX_ATTEMPTS => {
                    let next = chrono::Duration::from_std(*wait)
                        .ok()
                        .and_then(|wait| now.as_datetime().checked_add_signed(wait))
                        .map_or(now, Timestamp::from_datetime);
                    repo.mark_retry(delivery, next, error, now).await
                }
                Outcome::Retry(_, error) | Outcome::Failed(error) => {
                    repo.mark_failed(delivery, error, now).await
                }
            };
            match (&outcome, recorded) {
                (Outcome::Delivered, Ok(_)) => log::info!(
                    target: "openbadges::deliveries",
                    "credential {} delivered to its host (delivery {}, attempt {})",
                    delivery.assertion_id, delivery.id, delivery.attempts
                ),
                (Outcome::Retry(_, error) | Outcome::Failed(error), Ok(_)) => log::warn!(
                    target: "openbadges::deliveries",
                    "credential {} not delivered (delivery {}, attempt {}): {error}",
                    delivery.assertion_id, delivery.id, delivery.attempts
                ),
                (_, Err(err)) => log::warn!(
                    target: "openbadges::deliveries",
                    "the outcome of delivery {} could not be recorded: {err}",
                    delivery.id
                ),
            }
        }
        Ok(claimed.len())
    }

    /// One attempt: upsert, and on 401 one refresh and one more upsert.
    async fn attempt(&self, delivery: &Delivery, now: Timestamp) -> Result<Outcome, DomainError> {
        let award = match self.store.assertions().get(delivery.assertion_id).await {
            Ok(award) => award,
            Err(DomainError::NotFound { .. }) => {
                return Ok(Outcome::Failed(
                    "the credential no longer exists".to_owned(),
                ))
            }
            Err(err) => return Err(err),
        };
        if !matches!(award.status, openbadges_domain::CredentialStatus::Active) {
            return Ok(Outcome::Failed(format!(
                "the credential is {}: it is not sent",
                award.status.as_str()
            )));
        }
        let Some(issued) = &award.issued_credential else {
            return Ok(Outcome::Failed("the credential has no proof".to_owned()));
        };
        let Some(tokens) = &delivery.tokens else {
            return Ok(Outcome::Failed("the delivery holds no tokens".to_owned()));
        };
        let host = self.store.deliveries().get_host(delivery.host_id).await?;
        let access = secrets::open(&self.vault, &tokens.access)?;
        let first = host::upsert(&self.outbound, &host.base_url, &access, issued.json()).await;
        let reply = match first {
            Ok(reply) if reply.status == 401 => {
                let Some(sealed) = &tokens.refresh else {
                    return Ok(Outcome::Failed(reconnect(
                        "the host refused the access token",
                    )));
                };
                let refresh_token = secrets::open(&self.vault, sealed)?;
                let secret = secrets::open(&self.vault, &host.sealed_client_secret)?;
                let renewed =
                    match host::refresh(&self.outbound, &host, &secret, &refresh_token).await {
                        Ok(renewed) => renewed,
                        Err(err) => {
                            return Ok(Outcome::Failed(reconnect(&format!(
                                "the tokens could not be refreshed: {err}"
                            ))))
                        }
                    };
                // Rotation: the new refresh token replaces the old one, which
                // the host may no longer take.
                let sealed = SealedTokens {
                    access: secrets::seal(&self.vault, &renewed.access)?,
                    refresh: match &renewed.refresh {
                        Some(token) => Some(secrets::seal(&self.vault, token)?),
                        None => tokens.refresh.clone(),
                    },
                };
                self.store
                    .deliveries()
                    .renew_tokens(delivery, &sealed, now)
                    .await?;
                host::upsert(
                    &self.outbound,
                    &host.base_url,
                    &renewed.access,
                    issued.json(),
                )
                .await
            }
            other => other,
        };
        Ok(outcome_of(reply, now))
    }
}

/// A message that tells the learner to authorize again.
fn reconnect(why: &str) -> String {
    format!("{why}; send the badge again from its page to reconnect")
}

/// The outcome of an upsert's answer.
fn outcome_of(reply: Result<Reply, HostError>, now: Timestamp) -> Outcome {
    match reply {
        Ok(reply) if matches!(reply.status, 200 | 201) => Outcome::Delivered,
        Ok(reply) if reply.status == 401 => {
            Outcome::Failed(reconnect("the host refused the refreshed access token"))
        }
        Ok(reply) => Outcome::Retry(
            retry_after(reply.retry_after.as_deref(), now),
            format!(
                "the host answered {}{}",
                reply.status,
                imsx_description(&reply)
            ),
        ),
        Err(err) => Outcome::Retry(DEFAULT_RETRY, err.to_string()),
    }
}

/// `: <imsx_description>` of an Imsx_StatusInfo answer, if it has one.
fn imsx_description(reply: &Reply) -> String {
    serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|body| {
            body.get("imsx_description")
                .and_then(serde_json::Value::as_str)
                .map(|text| format!(": {}", openbadges_domain::mail::clip_error(text)))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::from_datetime(
            chrono::DateTime::parse_from_rfc3339(text)
                .expect("time")
                .with_timezone(&chrono::Utc),
        )
    }

    #[test]
    fn retry_after_is_seconds_or_a_date_else_thirty_minutes() {
        let now = at("2026-12-07T10:00:00Z");
        assert_eq!(retry_after(None, now), Duration::from_secs(1800));
        assert_eq!(retry_after(Some("120"), now), Duration::from_secs(120));
        assert_eq!(
            retry_after(Some("Mon, 07 Dec 2026 10:05:00 GMT"), now),
            Duration::from_secs(300)
        );
        assert_eq!(retry_after(Some("0"), now), Duration::from_secs(1));
        assert_eq!(retry_after(Some("999999999"), now), MAX_RETRY);
        assert_eq!(retry_after(Some("soon"), now), Duration::from_secs(1800));
    }
}
