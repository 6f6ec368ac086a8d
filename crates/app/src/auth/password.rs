//! Passwords: argon2id in PHC format with OWASP's minimum parameters
//! (19 MiB, 2 passes), which cost a few tens of milliseconds per check: run
//! on the blocking pool, one per core at a time ([`off_workers`]).

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use openbadges_domain::{DomainError, InvalidValue, PasswordHash};
use tokio::sync::Semaphore;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;
/// Longest password accepted: argon2 takes any length, but a megabyte
/// "password" is a denial-of-service attempt.
pub const MAX_LENGTH: usize = 1024;

fn argon2() -> Argon2<'static> {
    // OWASP: m=19456 KiB, t=2, p=1. Params::new only fails on out-of-range values.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// One permit per core, for the whole process.
static CORES: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
});

/// Runs a hash or a check on the blocking pool once a core is free. Each
/// holds 19 MiB for its whole run; more at once than cores would not end
/// sooner, they would take turns on the cores while each held its memory
/// (eight logins at once: 152 MiB instead of 38). Waiting logins hold
/// nothing but their request.
pub async fn off_workers<R: Send + 'static>(
    job: impl FnOnce() -> R + Send + 'static,
) -> Result<R, actix_web::error::BlockingError> {
    // The semaphore is never closed: acquiring cannot fail, and if it did,
    // hashing without a permit would still be correct.
    let _permit = CORES.acquire().await.ok();
    actix_web::web::block(job).await
}

/// Checks length bounds (characters, not bytes).
pub fn check_policy(password: &str) -> Result<(), InvalidValue> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(InvalidValue(format!(
            "must be at least {MIN_LENGTH} characters"
        )));
    }
    if length > MAX_LENGTH {
        return Err(InvalidValue(format!(
            "must be at most {MAX_LENGTH} characters"
        )));
    }
    Ok(())
}

/// Hashes a password with a fresh salt.
pub fn hash(password: &str) -> Result<PasswordHash, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    let phc = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))?;
    PasswordHash::parse(phc.to_string()).map_err(|e| DomainError::Internal(e.0))
}

/// Whether `password` matches `hash`. A malformed stored hash never matches.
pub fn verify(password: &str, hash: &PasswordHash) -> bool {
    argon2::password_hash::PasswordHash::new(hash.as_str()).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so that a login
/// for an unknown name takes as long as one with a wrong password.
pub fn decoy() -> PasswordHash {
    static DECOY: std::sync::OnceLock<Option<PasswordHash>> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| hash("decoy password, never matches").ok())
        .clone()
        .unwrap_or_else(|| {
            PasswordHash::parse("$argon2id$invalid").unwrap_or_else(|_| unreachable!())
        })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn hash_then_verify() {
        let hashed = hash("correct horse battery staple").unwrap();
        assert!(hashed
            .as_str()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery staple", &hashed));
        assert!(!verify("correct horse battery stapler", &hashed));
        assert_ne!(
            hash("correct horse battery staple").unwrap(),
            hashed,
            "fresh salt each time"
        );
    }

    #[test]
    fn policy_bounds() {
        assert!(check_policy("short").is_err());
        assert!(check_policy(&"x".repeat(MAX_LENGTH + 1)).is_err());
        assert!(check_policy("long enough password").is_ok());
    }

    #[actix_web::test]
    async fn runs_no_more_jobs_at_once_than_there_are_cores() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..cores * 4).map(|_| {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            off_workers(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        for outcome in futures_util::future::join_all(jobs).await {
            outcome.expect("job ran");
        }
        let most = most.load(Ordering::SeqCst);
        assert!(
            most >= 1 && most <= cores,
            "{most} jobs ran at once on {cores} cores"
        );
    }
}
