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
            // A full claim may leave more due at once; else the next due
            // retry is at least this far off (retries wait seconds to
            // hours, and each instance's callback sends the first attempt
            // itself).
            if claimed < CLAIM as usize {
                tokio::time::sleep(POLL).await;
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
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::Mutex;

    use openbadges_domain::deliveries::{DeliveryState, RemoteHost};
    use openbadges_domain::testkit::{sample_assertion, sample_badge_class, sample_issuer};
    use openbadges_domain::{IssuedCredential, RemoteHostId};

    use super::*;
    use crate::outbound::OutboundSettings;

    /// A request the fake host received: its request line, headers and body.
    #[derive(Debug, Clone)]
    struct Seen {
        line: String,
        authorization: String,
        body: String,
    }

    /// A badge host on loopback answering each connection with the next
    /// scripted answer (and closing it: every answer says `Connection:
    /// close`, so the client never reuses a closed connection), recording
    /// what it was asked.
    struct FakeHost {
        base: String,
        seen: Arc<Mutex<Vec<Seen>>>,
        script: Arc<Mutex<Vec<&'static str>>>,
    }

    impl FakeHost {
        fn start() -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let base = format!("http://{}", listener.local_addr().expect("address"));
            let seen = Arc::new(Mutex::new(Vec::new()));
            let script: Arc<Mutex<Vec<&'static str>>> = Arc::new(Mutex::new(Vec::new()));
            let (log, answers) = (Arc::clone(&seen), Arc::clone(&script));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { return };
                    let request = read_request(&mut stream);
                    log.lock().expect("log").push(request);
                    let answer = {
                        let mut answers = answers.lock().expect("script");
                        if answers.is_empty() {
                            "HTTP/1.1 599 Unscripted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
                        } else {
                            answers.remove(0)
                        }
                    };
                    let _ = stream.write_all(answer.as_bytes());
                }
            });
            Self { base, seen, script }
        }

        fn answer(&self, answers: &[&'static str]) {
            self.script
                .lock()
                .expect("script")
                .extend_from_slice(answers);
        }

        fn seen(&self) -> Vec<Seen> {
            std::mem::take(&mut *self.seen.lock().expect("log"))
        }
    }

    fn read_request(stream: &mut std::net::TcpStream) -> Seen {
        let mut data = Vec::new();
        let mut buffer = [0u8; 4096];
        let (head, body_start) = loop {
            let n = stream.read(&mut buffer).unwrap_or(0);
            if n == 0 {
                break (String::from_utf8_lossy(&data).into_owned(), data.len());
            }
            data.extend_from_slice(&buffer[..n]);
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break (String::from_utf8_lossy(&data[..end]).into_owned(), end + 4);
            }
        };
        let header = |name: &str| {
            head.lines()
                .find_map(|line| {
                    let (key, value) = line.split_once(':')?;
                    key.eq_ignore_ascii_case(name)
                        .then(|| value.trim().to_owned())
                })
                .unwrap_or_default()
        };
        let length: usize = header("content-length").parse().unwrap_or(0);
        while data.len() < body_start + length {
            let n = stream.read(&mut buffer).unwrap_or(0);
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buffer[..n]);
        }
        let end = data.len().min(body_start + length);
        Seen {
            line: head.lines().next().unwrap_or_default().to_owned(),
            authorization: header("authorization"),
            body: String::from_utf8_lossy(&data[body_start.min(end)..end]).into_owned(),
        }
    }

    const CREATED: &str =
        "HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";
    const UNAUTHORIZED: &str =
        "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    const BUSY: &str =
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n";
    const BROKEN: &str = "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 70\r\n\r\n{\"imsx_codeMajor\":\"failure\",\"imsx_description\":\"the database is down\"}";
    const ROTATED: &str = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n{\"access_token\":\"A2\",\"refresh_token\":\"R2\",\"token_type\":\"Bearer\"}";

    fn at(text: &str) -> Timestamp {
        Timestamp::from_datetime(
            chrono::DateTime::parse_from_rfc3339(text)
                .expect("time")
                .with_timezone(&chrono::Utc),
        )
    }

    fn later(t: Timestamp, seconds: i64) -> Timestamp {
        Timestamp::from_datetime(t.as_datetime() + chrono::Duration::seconds(seconds))
    }

    /// A store with one signed award, one host at `fake`, and a delivery
    /// of the award authorized with tokens A1 / R1, due at `t0`.
    async fn authorized(fake: &FakeHost, t0: Timestamp) -> (Sender, Delivery) {
        let store: Arc<dyn Store> = Arc::new(openbadges_memory_store::MemoryStore::new());
        let issuer = sample_issuer(None);
        store.issuers().create(&issuer).await.expect("issuer");
        let badge = sample_badge_class(issuer.id);
        store.badge_classes().create(&badge).await.expect("badge");
        let mut award = sample_assertion(&badge, "ada@example.org");
        award.issued_credential = Some(IssuedCredential::new(
            &serde_json::json!({"id": "urn:uuid:1", "proof": {"type": "DataIntegrityProof"}}),
        ));
        store.assertions().create(&award).await.expect("award");
        let vault = Arc::new(KeyVault::new(&[5; 32]));
        let seal = |text: &str| secrets::seal(&vault, text).expect("seal");
        let host = RemoteHost {
            id: RemoteHostId::generate(),
            base_url: fake.base.clone(),
            authorization_url: format!("{}/oauth/authorize", fake.base),
            token_url: format!("{}/oauth/token", fake.base),
            scope: host::UPSERT_SCOPE.to_owned(),
            client_id: "client".to_owned(),
            sealed_client_secret: seal("secret"),
            registered_at: t0,
        };
        let repo = store.deliveries();
        repo.add_host(&host).await.expect("host");
        let delivery = Delivery::authorizing(
            award.id,
            host.id,
            "state".to_owned(),
            seal("verifier"),
            t0,
            later(t0, 600),
        );
        repo.start(&delivery).await.expect("start");
        let tokens = SealedTokens {
            access: seal("A1"),
            refresh: Some(seal("R1")),
        };
        assert!(repo
            .authorized(delivery.id, &tokens, t0)
            .await
            .expect("authorized"));
        let outbound = Outbound::new(OutboundSettings {
            allow_loopback_http: true,
        })
        .expect("client");
        let sender = Sender {
            store,
            outbound,
            vault,
        };
        (sender, delivery)
    }

    async fn current(sender: &Sender, delivery: &Delivery) -> Delivery {
        sender
            .store
            .deliveries()
            .list_for(delivery.assertion_id)
            .await
            .expect("list")
            .into_iter()
            .find(|d| d.id == delivery.id)
            .expect("the delivery")
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_refused_token_is_refreshed_once_and_failures_wait_as_the_spec_says() {
        let fake = FakeHost::start();
        let t0 = at("2026-12-07T10:00:00Z");
        let (sender, delivery) = authorized(&fake, t0).await;

        // 401, then the refresh rotates both tokens, then the host is busy.
        fake.answer(&[UNAUTHORIZED, ROTATED, BUSY]);
        assert_eq!(sender.round(t0).await.expect("round"), 1);
        let seen = fake.seen();
        assert_eq!(seen.len(), 3, "{seen:#?}");
        assert_eq!(seen[0].line, "POST /ims/ob/v3p0/credentials HTTP/1.1");
        assert_eq!(seen[0].authorization, "Bearer A1");
        assert!(
            seen[0].body.contains("DataIntegrityProof"),
            "the credential as issued"
        );
        assert_eq!(seen[1].line, "POST /oauth/token HTTP/1.1");
        assert!(
            seen[1].authorization.starts_with("Basic "),
            "client_secret_basic"
        );
        assert!(seen[1].body.contains("grant_type=refresh_token"));
        assert!(seen[1].body.contains("refresh_token=R1"));
        assert_eq!(seen[2].authorization, "Bearer A2");
        let waiting = current(&sender, &delivery).await;
        assert_eq!(waiting.state, DeliveryState::Pending);
        assert_eq!(waiting.attempts, 1);
        assert_eq!(waiting.next_attempt_at, Some(later(t0, 120)), "Retry-After");
        let tokens = waiting.tokens.clone().expect("tokens");
        assert_eq!(
            secrets::open(&sender.vault, &tokens.access)
                .expect("open")
                .as_str(),
            "A2"
        );
        let refresh = tokens.refresh.expect("refresh");
        assert_eq!(
            secrets::open(&sender.vault, &refresh)
                .expect("open")
                .as_str(),
            "R2"
        );

        // Not due before Retry-After.
        assert_eq!(sender.round(later(t0, 119)).await.expect("round"), 0);
        // No Retry-After: 30 minutes.
        fake.answer(&[BROKEN]);
        assert_eq!(sender.round(later(t0, 120)).await.expect("round"), 1);
        let waiting = current(&sender, &delivery).await;
        assert_eq!(waiting.attempts, 2);
        assert_eq!(waiting.next_attempt_at, Some(later(t0, 120 + 1800)));
        assert_eq!(
            waiting.last_error.as_deref(),
            Some("the host answered 500: the database is down")
        );
        assert_eq!(fake.seen()[0].authorization, "Bearer A2");

        fake.answer(&[CREATED]);
        assert_eq!(sender.round(later(t0, 1920)).await.expect("round"), 1);
        let done = current(&sender, &delivery).await;
        assert_eq!(done.state, DeliveryState::Delivered);
        assert_eq!(done.delivered_at, Some(later(t0, 1920)));
        assert_eq!(done.tokens, None, "the tokens go once delivered");
        assert_eq!(sender.round(later(t0, 99_999)).await.expect("round"), 0);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn three_failures_give_up_and_a_refused_refresh_asks_to_reconnect() {
        let fake = FakeHost::start();
        let t0 = at("2026-12-07T10:00:00Z");
        let (sender, delivery) = authorized(&fake, t0).await;
        fake.answer(&[BROKEN, BROKEN, BROKEN]);
        for minutes in [0, 30, 60] {
            assert_eq!(
                sender.round(later(t0, minutes * 60)).await.expect("round"),
                1
            );
        }
        let given_up = current(&sender, &delivery).await;
        assert_eq!(given_up.state, DeliveryState::Failed);
        assert_eq!(given_up.attempts, MAX_ATTEMPTS);
        assert_eq!(given_up.tokens, None);
        assert_eq!(sender.round(later(t0, 99_999)).await.expect("round"), 0);
        assert_eq!(fake.seen().len(), 3);

        let (sender, delivery) = authorized(&fake, t0).await;
        fake.answer(&[
            UNAUTHORIZED,
            "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{\"error\":\"invalid_grant\"}",
        ]);
        assert_eq!(sender.round(t0).await.expect("round"), 1);
        let refused = current(&sender, &delivery).await;
        assert_eq!(refused.state, DeliveryState::Failed);
        let why = refused.last_error.expect("why");
        assert!(
            why.contains("invalid_grant") && why.contains("reconnect"),
            "{why}"
        );
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
