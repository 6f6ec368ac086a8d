//! Sending awards to learners' badge hosts: this server as an Open Badges
//! 3.0 Service Consumer (write).
//!
//! A learner names their host on the award's page. The server registers
//! with the host once ([`RemoteHost`], OAuth 2.0 dynamic client
//! registration), then sends the learner through the host's authorization
//! (a [`Delivery`] in [`DeliveryState::Authorizing`], holding the hash of
//! the `state` and the sealed PKCE verifier). The callback stores the
//! sealed tokens and makes the delivery [`DeliveryState::Pending`]; a
//! sender claims due deliveries with a lease, as the mail outbox does, and
//! upserts the credential at the host, retrying as the OB 3.0 API's retry
//! behaviour says.
//!
//! Secrets (the client secret, the PKCE verifier, the access and refresh
//! tokens) are stored sealed by the caller (AES-256-GCM under
//! `KEY_ENCRYPTION_KEY`, as private keys are): the domain only carries the
//! sealed bytes. The `state` is stored as its SHA-256.

use crate::ids::{AssertionId, DeliveryId, RemoteHostId};
use crate::values::{InvalidValue, Timestamp};

/// A badge host this server registered with as an OAuth 2.0 client.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteHost {
    /// Its id.
    pub id: RemoteHostId,
    /// The host's base URL, as learners name it (no trailing slash): the
    /// service's endpoints are under `{base_url}/ims/ob/v3p0`.
    pub base_url: String,
    /// Its OAuth 2.0 authorization endpoint (from its discovery document).
    pub authorization_url: String,
    /// Its token endpoint.
    pub token_url: String,
    /// The scopes this server asks for (space-separated).
    pub scope: String,
    /// The client id the host gave this server.
    pub client_id: String,
    /// The client secret the host gave this server, sealed.
    pub sealed_client_secret: Vec<u8>,
    /// When this server registered.
    pub registered_at: Timestamp,
}

impl std::fmt::Debug for RemoteHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteHost")
            .field("id", &self.id)
            .field("base_url", &self.base_url)
            .field("authorization_url", &self.authorization_url)
            .field("token_url", &self.token_url)
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .field("registered_at", &self.registered_at)
            .finish_non_exhaustive()
    }
}

/// Where the sending of an award to a host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// The learner was sent to the host to authorize; waiting for the
    /// callback until `authorize_until`.
    Authorizing,
    /// Authorized; to be sent (again) at `next_attempt_at`.
    Pending,
    /// Claimed by a sender until `claimed_until`; due again after that.
    Sending,
    /// The host accepted the credential.
    Delivered,
    /// Given up: authorization refused or expired, the host refused the
    /// tokens, or the last attempt failed.
    Failed,
}

impl DeliveryState {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Authorizing => "authorizing",
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match value {
            "authorizing" => Ok(Self::Authorizing),
            "pending" => Ok(Self::Pending),
            "sending" => Ok(Self::Sending),
            "delivered" => Ok(Self::Delivered),
            "failed" => Ok(Self::Failed),
            _ => Err(InvalidValue(
                "must be authorizing, pending, sending, delivered or failed".to_owned(),
            )),
        }
    }
}

/// Access and refresh tokens from a host's token endpoint, sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedTokens {
    /// The access token, sealed.
    pub access: Vec<u8>,
    /// The refresh token, sealed, when the host gave one.
    pub refresh: Option<Vec<u8>>,
}

impl std::fmt::Debug for SealedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedTokens(<sealed>)")
    }
}

/// The sending of one award to one host, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id.
    pub id: DeliveryId,
    /// The award sent.
    pub assertion_id: AssertionId,
    /// Where to.
    pub host_id: RemoteHostId,
    /// Where it is.
    pub state: DeliveryState,
    /// SHA-256 (hex) of the OAuth `state` the learner carries to the host
    /// and back; only while authorizing, and unique.
    pub state_hash: Option<String>,
    /// The PKCE code verifier, sealed; only while authorizing.
    pub sealed_verifier: Option<Vec<u8>>,
    /// Until when the callback is taken.
    pub authorize_until: Timestamp,
    /// The tokens, once authorized.
    pub tokens: Option<SealedTokens>,
    /// How many times it was claimed for sending (also tells one claim from
    /// the next, as in the mail outbox).
    pub attempts: u32,
    /// When it is due (pending).
    pub next_attempt_at: Option<Timestamp>,
    /// Until when a sender holds it (sending).
    pub claimed_until: Option<Timestamp>,
    /// Why the last attempt failed: the host's status or the network error,
    /// never a token.
    pub last_error: Option<String>,
    /// When the host accepted it.
    pub delivered_at: Option<Timestamp>,
    /// When the learner asked for it.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.id)
            .field("assertion_id", &self.assertion_id)
            .field("host_id", &self.host_id)
            .field("state", &self.state)
            .field("attempts", &self.attempts)
            .field("next_attempt_at", &self.next_attempt_at)
            .field("claimed_until", &self.claimed_until)
            .field("last_error", &self.last_error)
            .field("delivered_at", &self.delivered_at)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// A delivery waiting for the learner's authorization until
    /// `authorize_until`.
    pub fn authorizing(
        assertion_id: AssertionId,
        host_id: RemoteHostId,
        state_hash: String,
        sealed_verifier: Vec<u8>,
        now: Timestamp,
        authorize_until: Timestamp,
    ) -> Self {
        Self {
            id: DeliveryId::generate(),
            assertion_id,
            host_id,
            state: DeliveryState::Authorizing,
            state_hash: Some(state_hash),
            sealed_verifier: Some(sealed_verifier),
            authorize_until,
            tokens: None,
            attempts: 0,
            next_attempt_at: None,
            claimed_until: None,
            last_error: None,
            delivered_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Attempts at sending before a delivery fails: the first and, as the OB
/// 3.0 API's retry behaviour recommends, two more.
pub const MAX_ATTEMPTS: u32 = 3;

/// The changes of state, shared by every adapter: an adapter reads the
/// row in its transaction, applies one of these, and writes it back when it
/// answers `true`.
impl Delivery {
    /// The learner authorized: the tokens are kept, the state and verifier
    /// forgotten, and the delivery is due at `now`. Only while authorizing.
    pub fn authorize(&mut self, tokens: &SealedTokens, now: Timestamp) -> bool {
        if self.state != DeliveryState::Authorizing {
            return false;
        }
        self.state = DeliveryState::Pending;
        self.state_hash = None;
        self.sealed_verifier = None;
        self.tokens = Some(tokens.clone());
        self.next_attempt_at = Some(now);
        self.updated_at = now;
        true
    }

    /// Authorization did not happen. Only while authorizing.
    pub fn fail_authorization(&mut self, error: &str, now: Timestamp) -> bool {
        if self.state != DeliveryState::Authorizing {
            return false;
        }
        self.end(DeliveryState::Failed, Some(error), now);
        true
    }

    /// Whether a sender may claim it at `now`: pending and due, or sending
    /// with a lease that ran out.
    pub fn is_due(&self, now: Timestamp) -> bool {
        match self.state {
            DeliveryState::Pending => self.next_attempt_at.is_some_and(|at| at <= now),
            DeliveryState::Sending => self.claimed_until.is_some_and(|until| until <= now),
            _ => false,
        }
    }

    /// Claims it for a sender until `until`.
    pub fn claim(&mut self, now: Timestamp, until: Timestamp) {
        self.state = DeliveryState::Sending;
        self.claimed_until = Some(until);
        self.attempts = self.attempts.saturating_add(1);
        self.updated_at = now;
    }

    /// Whether it is still the claim `claimed` (same attempt, still sending).
    pub fn is_claim(&self, claimed: &Delivery) -> bool {
        self.state == DeliveryState::Sending && self.attempts == claimed.attempts
    }

    /// The attempt failed; due again at `next_at`.
    pub fn retry(&mut self, next_at: Timestamp, error: &str, now: Timestamp) {
        self.state = DeliveryState::Pending;
        self.claimed_until = None;
        self.next_attempt_at = Some(next_at);
        self.last_error = Some(crate::mail::clip_error(error));
        self.updated_at = now;
    }

    /// The host accepted it at `at`.
    pub fn deliver(&mut self, at: Timestamp) {
        self.end(DeliveryState::Delivered, None, at);
        self.delivered_at = Some(at);
    }

    /// No other attempt will be made.
    pub fn fail(&mut self, error: &str, now: Timestamp) {
        self.end(DeliveryState::Failed, Some(error), now);
    }

    /// A final state: the secrets are no longer needed and go.
    fn end(&mut self, state: DeliveryState, error: Option<&str>, now: Timestamp) {
        self.state = state;
        self.state_hash = None;
        self.sealed_verifier = None;
        self.tokens = None;
        self.claimed_until = None;
        self.next_attempt_at = None;
        if let Some(error) = error {
            self.last_error = Some(crate::mail::clip_error(error));
        }
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_datetime(
            chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("time"),
        )
    }

    #[test]
    fn a_delivery_goes_from_authorizing_to_delivered_and_drops_its_secrets() {
        let mut delivery = Delivery::authorizing(
            AssertionId::generate(),
            RemoteHostId::generate(),
            "hash".to_owned(),
            vec![1, 2, 3],
            at(0),
            at(600),
        );
        assert!(!delivery.is_due(at(10)));
        let tokens = SealedTokens {
            access: vec![4],
            refresh: Some(vec![5]),
        };
        assert!(delivery.authorize(&tokens, at(10)));
        assert!(!delivery.authorize(&tokens, at(11)), "a state is used once");
        assert_eq!(delivery.state_hash, None);
        assert_eq!(delivery.sealed_verifier, None);
        assert!(delivery.is_due(at(10)));
        delivery.claim(at(10), at(310));
        let claimed = delivery.clone();
        assert!(!delivery.is_due(at(309)));
        assert!(
            delivery.is_due(at(310)),
            "a lease that ran out is due again"
        );
        assert!(delivery.is_claim(&claimed));
        delivery.retry(at(1810), "503", at(20));
        assert!(!delivery.is_claim(&claimed));
        assert!(delivery.is_due(at(1810)));
        delivery.claim(at(1810), at(2110));
        assert_eq!(delivery.attempts, 2);
        delivery.deliver(at(1811));
        assert_eq!(delivery.state, DeliveryState::Delivered);
        assert_eq!(delivery.tokens, None);
        assert_eq!(delivery.last_error.as_deref(), Some("503"));
        assert!(!delivery.fail_authorization("late", at(1812)));
    }
}
