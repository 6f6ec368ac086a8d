//! Learners' e-mail identities, and linking the awards made here to them.
//!
//! A learner claims an address; it stays unverified until they follow the
//! link of the verification e-mail, which carries a single-use token. Only
//! the token's SHA-256 is stored, with its expiry and a random nonce: the
//! mail worker derives the token again from the nonce and the server's
//! secret ([`VerificationKey`]), so no usable token rests in the database
//! or the outbox. A verified address belongs to one learner.
//!
//! Verification links the awards made here to the address into the
//! learner's backpack ([`crate::backpack::HeldSource::Awarded`]), in the
//! same transaction; an award made later to a verified address is linked
//! in the award's own transaction. Which awards match is decided here
//! ([`Linkable`], [`recipient_keys`]); the stores only look them up.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::backpack::{equality_keys, HeldCredential, HeldCredentialId, HeldFormat, HeldSource};
use crate::entities::Assertion;
use crate::ids::{AssertionId, LearnerEmailId, OutboxId, UserId};
use crate::ports::RepoResult;
use crate::values::{
    Email, IssuedCredential, Recipient, RecipientIdentity, RecipientKind, Timestamp,
};
use crate::DomainError;

/// How long a verification link works.
pub const VERIFICATION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// An address a learner claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerEmail {
    /// Its id.
    pub id: LearnerEmailId,
    /// The learner.
    pub user_id: UserId,
    /// The address, lower-cased.
    pub email: Email,
    /// When the learner proved it is theirs; `None` until then.
    pub verified_at: Option<Timestamp>,
    /// When it was claimed.
    pub created_at: Timestamp,
}

impl LearnerEmail {
    /// A new, unverified claim of `email` (lower-cased: addresses are
    /// compared, and awards matched, without regard to case) by `user_id`.
    pub fn claim(user_id: UserId, email: &Email, now: Timestamp) -> Result<Self, DomainError> {
        let email = Email::parse(email.as_str().to_lowercase())
            .map_err(|err| DomainError::invalid("email", err.0))?;
        Ok(Self {
            id: LearnerEmailId::generate(),
            user_id,
            email,
            verified_at: None,
            created_at: now,
        })
    }

    /// The unsalted recipient lookup key of the address: what assertions
    /// keep in `recipient_key` for awards to it in the clear or hashed here.
    pub fn lookup_key(&self) -> String {
        Recipient::lookup_key_for(RecipientKind::Email, self.email.as_str())
    }
}

/// The stored half of a verification token: its hash, the nonce it is
/// derived from, and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingVerification {
    /// SHA-256 (hex) of the token.
    pub token_hash: String,
    /// The random nonce the token is derived from.
    pub nonce: String,
    /// When the token stops working.
    pub expires_at: Timestamp,
}

/// The key verification tokens are derived with: from the server's
/// secret, so every instance sharing it derives the same tokens. Its
/// `Debug` shows no key material.
#[derive(Clone)]
pub struct VerificationKey(hmac::Hmac<Sha256>);

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationKey(<redacted>)")
    }
}

impl VerificationKey {
    /// Domain separation: a verification token is never valid as anything
    /// else made with the secret (login tokens, cursors).
    const LABEL: &'static [u8] = b"openbadges-server e-mail verification key v1";

    /// The key of the server whose secret is `secret`.
    pub fn derive(secret: &[u8]) -> Self {
        use hmac::Mac as _;
        let keyed = |key: &[u8]| {
            hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length")
        };
        let mut kdf = keyed(secret);
        kdf.update(Self::LABEL);
        Self(keyed(&kdf.finalize().into_bytes()))
    }

    /// A new pending verification, valid from `now` for
    /// [`VERIFICATION_LIFETIME`]: a fresh random nonce (122 bits) and the
    /// hash of its token.
    pub fn pending(&self, now: Timestamp) -> Result<PendingVerification, DomainError> {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let expires_at = crate::mail::lease_end(now, VERIFICATION_LIFETIME)?;
        Ok(PendingVerification {
            token_hash: token_hash(&self.token(&nonce)),
            nonce,
            expires_at,
        })
    }

    /// The token of `nonce`: base64url of HMAC-SHA256(key, nonce), 256
    /// bits. Without the key, the nonce gives nothing.
    pub fn token(&self, nonce: &str) -> String {
        use base64::Engine as _;
        use hmac::Mac as _;
        let mut mac = self.0.clone();
        mac.update(nonce.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// The stored form of a token: SHA-256, hex. A token has 256 bits of
/// entropy, so a fast hash is enough.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The verification e-mail queued for a claim, in the claim's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationMail {
    /// The outbox row's id.
    pub id: OutboxId,
    /// The address to verify (where it goes).
    pub email: LearnerEmailId,
    /// Where it goes.
    pub to: Email,
    /// When it was queued; it is due at once.
    pub created_at: Timestamp,
}

/// How an award can be matched to verified addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkable {
    /// By the unsalted lookup key: awards in the clear, hashed here, or
    /// hashed by the client without salt.
    Key(String),
    /// A `sha256$` hash the client made with a salt: only hashing each
    /// verified address with the salt tells whose it is.
    Salted {
        /// `sha256$<hex>`.
        hash: String,
        /// The salt.
        salt: String,
    },
}

/// Whether (and how) `award` can be linked to a learner: an award to an
/// e-mail address with an issued credential. Awards not yet signed have
/// nothing to hold; `md5$` hashes are not matched.
pub fn linkable(award: &Assertion) -> Option<Linkable> {
    if award.recipient.kind() != RecipientKind::Email || award.issued_credential.is_none() {
        return None;
    }
    match award.recipient.identity() {
        RecipientIdentity::Hashed {
            hash,
            salt: Some(salt),
        } if hash == award.recipient.lookup_key() => {
            hash.starts_with("sha256$").then(|| Linkable::Salted {
                hash: hash.clone(),
                salt: salt.clone(),
            })
        }
        _ => Some(Linkable::Key(award.recipient.lookup_key().to_owned())),
    }
}

/// Whether `email` is the address a salted `hash` was made of.
pub fn salted_match(email: &Email, hash: &str, salt: &str) -> bool {
    salted_key(email, salt) == hash
}

fn salted_key(email: &Email, salt: &str) -> String {
    let digest = Sha256::digest(format!("{}{salt}", email.as_str().to_lowercase()).as_bytes());
    format!("sha256${}", hex::encode(digest))
}

/// Every `recipient_key` an award to `email` can have: the unsalted
/// lookup key, and the client-salted hashes with each of `salts` (the
/// salts of client-hashed e-mail awards stored).
pub fn recipient_keys(email: &Email, salts: &[String]) -> Vec<String> {
    let mut keys = vec![Recipient::lookup_key_for(
        RecipientKind::Email,
        email.as_str(),
    )];
    keys.extend(salts.iter().map(|salt| salted_key(email, salt)));
    keys.sort();
    keys.dedup();
    keys
}

/// The backpack entry linking `award` (its issued credential `issued`,
/// awarded at `issued_on`) to `owner`, as of `now`.
pub fn held_award(
    owner: UserId,
    award: AssertionId,
    issued: &IssuedCredential,
    issued_on: Timestamp,
    now: Timestamp,
) -> Result<HeldCredential, DomainError> {
    let (issuer_key, credential_key) = equality_keys(&issued.document()?)?;
    Ok(HeldCredential {
        id: HeldCredentialId::generate(),
        owner,
        issuer_key,
        credential_key,
        valid_from: Some(issued_on),
        format: HeldFormat::Json,
        text: issued.json().to_owned(),
        source: HeldSource::Awarded(award),
        received_at: now,
        updated_at: now,
    })
}

/// What [`LearnerEmailRepository::claim`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// A new claim, with its verification e-mail queued.
    New(LearnerEmail),
    /// The learner had claimed it already, unverified: a new token
    /// replaces the old one, and a new e-mail is queued.
    Renewed(LearnerEmail),
}

/// Learners' e-mail addresses.
#[async_trait]
pub trait LearnerEmailRepository: Send + Sync {
    /// Stores the claim with its pending verification and queues `mail`
    /// (its `email` is the claim's id, or the existing claim's when
    /// renewed: the store sets it), in one transaction. `Duplicate`
    /// (`verified e-mail address`) if the address is verified already, by
    /// this learner or another; `MissingReference` if the user is gone.
    async fn claim(
        &self,
        email: &LearnerEmail,
        pending: &PendingVerification,
        mail: &VerificationMail,
    ) -> RepoResult<Claimed>;
    /// The learner's addresses, oldest first.
    async fn list(&self, user: UserId) -> RepoResult<Vec<LearnerEmail>>;
    /// The address, or `NotFound` (also when it is another learner's).
    async fn get(&self, user: UserId, id: LearnerEmailId) -> RepoResult<LearnerEmail>;
    /// Removes the learner's address; `NotFound` if they have none with
    /// this id. Credentials already linked stay in the backpack.
    async fn remove(&self, user: UserId, id: LearnerEmailId) -> RepoResult<()>;
    /// Verifies the address whose pending token hashes to `token_hash`,
    /// and links the awards made to it into its learner's backpack, in one
    /// transaction; answers the address and how many awards were linked.
    /// `NotFound` (`verification token`) for a token unknown or used
    /// already, `Validation` (`token`) for one expired at `now`,
    /// `Duplicate` (`verified e-mail address`) if another learner verified
    /// the address first.
    async fn verify(&self, token_hash: &str, now: Timestamp) -> RepoResult<(LearnerEmail, u64)>;
    /// The nonce of the address's pending verification (for the mail
    /// worker to derive the token), or `None` when there is none (verified
    /// meanwhile, or removed).
    async fn pending_nonce(&self, id: LearnerEmailId) -> RepoResult<Option<String>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_derived_and_only_their_hash_is_kept() {
        let key = VerificationKey::derive(b"a server secret of at least 32 bytes");
        let now = Timestamp::now();
        let pending = key.pending(now).expect("pending");
        let token = key.token(&pending.nonce);
        assert_eq!(token_hash(&token), pending.token_hash);
        assert_ne!(token, pending.token_hash);
        assert_eq!(token.len(), 43, "256 bits, base64url");
        // Another nonce or secret: another token.
        let again = key.pending(now).expect("again");
        assert_ne!(again.nonce, pending.nonce);
        assert_ne!(key.token(&again.nonce), token);
        let other = VerificationKey::derive(b"another server secret, 32 bytes+");
        assert_ne!(other.token(&pending.nonce), token);
        assert_eq!(
            pending.expires_at.as_datetime() - now.as_datetime(),
            chrono::Duration::hours(24)
        );
        assert_eq!(format!("{key:?}"), "VerificationKey(<redacted>)");
    }

    #[test]
    fn awards_match_by_lookup_key_or_salted_hash() {
        let email = Email::parse("Ada@Example.org").expect("email");
        let keys = recipient_keys(&email, &["pepper".to_owned()]);
        let clear = Recipient::plain(RecipientKind::Email, "ada@example.org").expect("r");
        let hashed_here =
            Recipient::hashed(RecipientKind::Email, "ADA@example.org", "s").expect("r");
        let digest = Sha256::digest(b"ada@example.orgpepper");
        let salted = format!("sha256${}", hex::encode(digest));
        let by_client =
            Recipient::prehashed(RecipientKind::Email, &salted, Some("pepper")).expect("r");
        for recipient in [&clear, &hashed_here, &by_client] {
            assert!(
                keys.contains(&recipient.lookup_key().to_owned()),
                "{recipient:?}"
            );
        }
        assert!(salted_match(&email, &salted, "pepper"));
        assert!(!salted_match(&email, &salted, "salt"));
        let someone_else = Email::parse("bob@example.org").expect("email");
        assert!(!recipient_keys(&someone_else, &["pepper".to_owned()])
            .contains(&by_client.lookup_key().to_owned()));
    }
}
