//! The login throttle: failed logins slow down further guesses at the same
//! account, with a growing wait (OWASP Authentication Cheat Sheet, "Login
//! Throttling"), without letting whoever guesses lock the account's owner
//! out (OWASP "Slow Down Online Guessing Attacks with Device Cookies").
//!
//! - Failures are counted per account, from every address alike, so
//!   guesses spread over many addresses are slowed down too. Once
//!   `LOGIN_THROTTLE_FAILURES` are counted, each further attempt must wait,
//!   after the latest one, 5 s, then 10, 20, ... up to
//!   `LOGIN_THROTTLE_MAX_DELAY_SECONDS`. A throttled attempt is answered 429
//!   before any lookup or password check, so it costs next to nothing.
//! - The account is the name as sent, trimmed and lower-cased: an unknown
//!   name is counted and refused exactly like a known one, so a 429 tells
//!   nothing about which accounts exist.
//! - A successful login hands out a device token (OWASP's device cookie).
//!   A login that presents a valid one issued for the same name is counted
//!   apart, per device token: the owner, on a device they logged in from
//!   before, still gets in while someone hammers their account, and a
//!   device that guesses wrong is slowed down on its own.
//! - An attempt counts as failed from the moment it begins, under one lock:
//!   concurrent guesses cannot all pass before the first one has failed. A
//!   success takes its own count back (a device's count is cleared).
//! - Counts are forgotten once `LOGIN_THROTTLE_MAX_DELAY_SECONDS` have
//!   passed after the wait they impose ([`LoginThrottle::forget_idle`], run
//!   every minute), and are kept under 16-byte digests of the names: memory
//!   follows the names guessed at lately, not their length.
//!
//! The state is per process: behind a load balancer each instance counts
//! on its own, which multiplies the allowance by the number of instances.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::LoginThrottleSettings;

/// The wait after the free failures are spent; each further failure
/// doubles it. Long enough to matter to a script, short enough not to
/// annoy someone who mistyped five times.
const FIRST_WAIT: Duration = Duration::from_secs(5);

/// How long a device token vouches for its device.
const DEVICE_TOKEN_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

/// The `iss` of device tokens: they are signed with a key of their own
/// too, so a device token can never pass for a login token.
const DEVICE_ISSUER: &str = "openbadges-server/device";

/// A digest of a login name or of a device token's id.
type Digest16 = [u8; 16];

/// Whose failures an attempt counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Subject {
    /// Every client of this login name without a device token for it.
    Account(Digest16),
    /// One device token.
    Device(Digest16),
}

/// Failures counted against one subject.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    latest: Instant,
}

/// Counts failed logins and says how long the next attempt must wait.
/// Cloning shares the counts.
#[derive(Clone)]
pub struct LoginThrottle {
    failures: Arc<Mutex<HashMap<Subject, Failures>>>,
    settings: LoginThrottleSettings,
    devices: DeviceKeys,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A login attempt under way, counted as failed until
/// [`LoginThrottle::succeeded`] says otherwise.
#[derive(Debug)]
#[must_use = "an attempt that succeeded must be reported"]
pub struct Attempt {
    subject: Subject,
    name: Digest16,
}

/// A login refused for now: 429 with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// How long until the next attempt is allowed.
    pub wait: Duration,
}

impl Throttled {
    /// The answer: the same for a known and an unknown name.
    pub fn response(self) -> HttpResponse {
        crate::error::too_many_requests(self.wait, |seconds| {
            format!("too many failed logins for this account; retry in {seconds} s")
        })
    }
}

impl LoginThrottle {
    /// A throttle with no failures counted; device tokens are signed with a
    /// key derived from `secret` (the login token secret).
    pub fn new(secret: &[u8], settings: LoginThrottleSettings) -> Self {
        Self {
            failures: Arc::default(),
            settings,
            devices: DeviceKeys::new(secret),
        }
    }

    /// Begins an attempt at logging in as `login`, presenting
    /// `device_token` if the client has one: counted as failed until it
    /// succeeds, or refused when it must wait. A device token that is not
    /// valid for this name is ignored: the attempt counts against the
    /// account.
    pub fn attempt(&self, login: &str, device_token: Option<&str>) -> Result<Attempt, Throttled> {
        self.attempt_at(login, device_token, Instant::now())
    }

    fn attempt_at(
        &self,
        login: &str,
        device_token: Option<&str>,
        now: Instant,
    ) -> Result<Attempt, Throttled> {
        let name = name_digest(login);
        let subject = device_token
            .and_then(|token| self.devices.verify(token, &name))
            .map_or(Subject::Account(name), Subject::Device);
        let attempt = Attempt { subject, name };
        if self.settings.failures == 0 {
            return Ok(attempt);
        }
        let mut failures = self.lock();
        let counted = failures.entry(subject).or_insert(Failures {
            count: 0,
            latest: now,
        });
        let wait = self.until_allowed(counted, now);
        if !wait.is_zero() {
            return Err(Throttled { wait });
        }
        counted.count = counted.count.saturating_add(1);
        counted.latest = now;
        Ok(attempt)
    }

    /// Takes back the count of an attempt that succeeded (a device's
    /// failures are cleared: its holder has proved the password) and
    /// returns a fresh device token for its name.
    pub fn succeeded(&self, attempt: Attempt) -> String {
        if self.settings.failures > 0 {
            let mut failures = self.lock();
            match attempt.subject {
                Subject::Device(_) => {
                    failures.remove(&attempt.subject);
                }
                // Only its own count: the failures of others, who may be
                // guessing, stand.
                Subject::Account(_) => {
                    if let Some(counted) = failures.get_mut(&attempt.subject) {
                        counted.count = counted.count.saturating_sub(1);
                        if counted.count == 0 {
                            failures.remove(&attempt.subject);
                        }
                    }
                }
            }
        }
        self.devices.issue(&attempt.name)
    }

    /// Forgets the failures whose wait ended `LOGIN_THROTTLE_MAX_DELAY_SECONDS`
    /// ago, so the map holds only the names guessed at lately.
    pub fn forget_idle(&self) {
        self.forget_idle_at(Instant::now());
    }

    fn forget_idle_at(&self, now: Instant) {
        let mut failures = self.lock();
        failures.retain(|_, counted| {
            now.saturating_duration_since(counted.latest)
                < self.wait_after(counted.count) + self.settings.max_delay
        });
        failures.shrink_to_fit();
    }

    /// How long after the latest attempt the next one must wait, once
    /// `count` failures are counted.
    fn wait_after(&self, count: u32) -> Duration {
        let Some(doublings) = count.checked_sub(self.settings.failures) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        FIRST_WAIT
            .saturating_mul(factor)
            .min(self.settings.max_delay)
    }

    fn until_allowed(&self, counted: &Failures, now: Instant) -> Duration {
        (counted.latest + self.wait_after(counted.count)).saturating_duration_since(now)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Subject, Failures>> {
        // Nothing panics while holding it; the counts stay usable if
        // something ever did.
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The digest a login name is counted under: trimmed and lower-cased, so
/// that `Ada` and `ada ` are one name.
fn name_digest(login: &str) -> Digest16 {
    digest16(&["login-name", &login.trim().to_lowercase()])
}

fn digest16(parts: &[&str]) -> Digest16 {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed: no two lists of parts hash alike.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let mut digest = [0; 16];
    digest.copy_from_slice(&hasher.finalize()[..16]);
    digest
}

/// The claims of a device token: the name it was issued for (as a digest,
/// so the token does not show it), its own id, and when it expires.
#[derive(Debug, Serialize, Deserialize)]
struct DeviceClaims {
    iss: String,
    sub: String,
    jti: String,
    exp: u64,
}

/// Signs and checks device tokens (HS256, with a key derived from the login
/// token secret).
#[derive(Clone)]
struct DeviceKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl DeviceKeys {
    fn new(secret: &[u8]) -> Self {
        let key = Sha256::new()
            .chain_update(b"openbadges-server device tokens\0")
            .chain_update(secret)
            .finalize();
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }

    fn issue(&self, name: &Digest16) -> String {
        let claims = DeviceClaims {
            iss: DEVICE_ISSUER.to_owned(),
            sub: hex::encode(name),
            jti: uuid::Uuid::new_v4().to_string(),
            exp: jsonwebtoken::get_current_timestamp() + DEVICE_TOKEN_LIFETIME.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// The digest of the token's id when it is ours, unexpired, and issued
    /// for `name`.
    fn verify(&self, token: &str, name: &Digest16) -> Option<Digest16> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[DEVICE_ISSUER]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<DeviceClaims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        (claims.sub == hex::encode(name)).then(|| digest16(&["device", &claims.jti]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(failures: u32) -> LoginThrottle {
        LoginThrottle::new(
            &[7; 32],
            LoginThrottleSettings {
                failures,
                max_delay: Duration::from_secs(900),
            },
        )
    }

    fn wait_of(result: Result<Attempt, Throttled>) -> Duration {
        result
            .err()
            .map_or(Duration::ZERO, |throttled| throttled.wait)
    }

    #[test]
    fn the_wait_doubles_after_the_free_failures_up_to_the_maximum() {
        let throttle = throttle(3);
        let waits: Vec<u64> = (0..16).map(|n| throttle.wait_after(n).as_secs()).collect();
        assert_eq!(
            waits,
            [0, 0, 0, 5, 10, 20, 40, 80, 160, 320, 640, 900, 900, 900, 900, 900]
        );
        assert_eq!(throttle.wait_after(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn failures_of_one_name_throttle_it_and_no_other() {
        let throttle = throttle(3);
        let start = Instant::now();
        for _ in 0..3 {
            let _ = throttle.attempt_at("Ada", None, start).expect("free");
        }
        // The same name however it is spelled.
        assert_eq!(
            wait_of(throttle.attempt_at(" ada ", None, start)),
            FIRST_WAIT
        );
        let _ = throttle
            .attempt_at("grace", None, start)
            .expect("another name");
        // Once the wait is over, one more attempt; then twice the wait.
        let later = start + FIRST_WAIT;
        let _ = throttle.attempt_at("ada", None, later).expect("waited");
        assert_eq!(
            wait_of(throttle.attempt_at("ada", None, later)),
            FIRST_WAIT * 2
        );
    }

    #[test]
    fn concurrent_attempts_cannot_pass_before_the_first_fails() {
        let throttle = throttle(5);
        let passed = std::thread::scope(|scope| {
            let attempts: Vec<_> = (0..64)
                .map(|_| scope.spawn(|| throttle.attempt("ada", None).is_ok()))
                .collect();
            attempts
                .into_iter()
                .map(|attempt| attempt.join().expect("no panic"))
                .filter(|passed| *passed)
                .count()
        });
        // Every attempt begins within the first wait of one second.
        assert_eq!(passed, 5);
    }

    #[test]
    fn a_success_takes_back_only_its_own_count() {
        let throttle = throttle(3);
        let now = Instant::now();
        let _ = throttle.attempt_at("ada", None, now).expect("free");
        let _ = throttle.attempt_at("ada", None, now).expect("free");
        let mine = throttle.attempt_at("ada", None, now).expect("free");
        let _ = throttle.succeeded(mine);
        let _ = throttle
            .attempt_at("ada", None, now)
            .expect("two failures stand");
        assert!(throttle.attempt_at("ada", None, now).is_err());
    }

    #[test]
    fn a_device_token_of_the_name_is_counted_apart() {
        let throttle = throttle(2);
        let now = Instant::now();
        let first = throttle.attempt_at("ada", None, now).expect("free");
        let device = throttle.succeeded(first);
        for _ in 0..2 {
            let _ = throttle.attempt_at("ada", None, now).expect("free");
        }
        assert!(throttle.attempt_at("ada", None, now).is_err(), "throttled");
        // The device is let in, and throttled on its own.
        let mine = throttle
            .attempt_at("ADA", Some(&device), now)
            .expect("a known device");
        let _ = throttle.succeeded(mine);
        for _ in 0..2 {
            let _ = throttle
                .attempt_at("ada", Some(&device), now)
                .expect("free");
        }
        assert!(throttle.attempt_at("ada", Some(&device), now).is_err());
        // Not for another name, nor when forged or from another secret.
        let _ = throttle.attempt_at("grace", None, now).expect("free");
        let _ = throttle.attempt_at("grace", None, now).expect("free");
        assert!(throttle.attempt_at("grace", Some(&device), now).is_err());
        let forged = format!("{device}x");
        let other = LoginThrottle::new(&[8; 32], throttle.settings).succeeded(Attempt {
            subject: Subject::Account(name_digest("ada")),
            name: name_digest("ada"),
        });
        for token in [forged.as_str(), other.as_str(), "junk", ""] {
            assert!(
                throttle.attempt_at("ada", Some(token), now).is_err(),
                "{token}"
            );
        }
    }

    #[test]
    fn device_tokens_are_not_login_tokens() {
        let throttle = throttle(2);
        let attempt = throttle.attempt("ada", None).expect("free");
        let device = throttle.succeeded(attempt);
        let tokens = super::super::tokens::TokenKeys::new(&[7; 32], 3600);
        assert_eq!(tokens.verify(&device), None);
    }

    #[test]
    fn idle_failures_are_forgotten_once_their_wait_is_long_over() {
        let throttle = throttle(2);
        let start = Instant::now();
        for name in ["ada", "grace", "alan"] {
            for _ in 0..3 {
                let _ = throttle.attempt_at(name, None, start);
            }
        }
        let waited = start + FIRST_WAIT;
        let _ = throttle.attempt_at("ada", None, waited).expect("waited");
        // `grace` and `alan` are forgotten 900 s after their first wait
        // ended; `ada`, which waited and failed once more, 900 s after its
        // second wait ends.
        let max = Duration::from_secs(900);
        throttle.forget_idle_at(start + FIRST_WAIT + max);
        assert_eq!(throttle.lock().len(), 1);
        throttle.forget_idle_at(waited + FIRST_WAIT * 2 + max - Duration::from_millis(1));
        assert_eq!(throttle.lock().len(), 1);
        throttle.forget_idle_at(waited + FIRST_WAIT * 2 + max);
        assert!(throttle.lock().is_empty());
        let _ = throttle
            .attempt_at("grace", None, start + FIRST_WAIT + max)
            .expect("forgotten");
    }

    #[test]
    fn no_count_is_kept_when_switched_off() {
        let throttle = throttle(0);
        for _ in 0..100 {
            let _ = throttle.attempt("ada", None).expect("never throttled");
        }
        assert!(throttle.lock().is_empty());
    }
}
