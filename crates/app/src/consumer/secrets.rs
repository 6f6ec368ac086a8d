//! The consumer's secrets: random values for `state` and PKCE, their
//! hashes, and sealing with the key vault (`KEY_ENCRYPTION_KEY`, as
//! issuers' private keys are sealed).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openbadges_credentials::KeyVault;
use openbadges_domain::DomainError;
use sha2::{Digest, Sha256};

/// 32 random bytes (two v4 UUIDs: 244 random bits), base64url: an OAuth
/// `state` or a PKCE code verifier (43 characters, as RFC 7636 allows).
pub fn random_token() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of `value`, hex: how a `state` is stored.
pub fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The PKCE `S256` challenge of `verifier` (RFC 7636 4.2).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Seals `secret` for storage.
pub fn seal(vault: &KeyVault, secret: &str) -> Result<Vec<u8>, DomainError> {
    vault
        .seal(secret.as_bytes())
        .map_err(|e| DomainError::Internal(format!("sealing a secret: {e}")))
}

/// Opens a sealed secret.
pub fn open(vault: &KeyVault, sealed: &[u8]) -> Result<zeroize::Zeroizing<String>, DomainError> {
    let bytes = vault
        .open(sealed)
        .map_err(|e| DomainError::Internal(format!("opening a sealed secret: {e}")))?;
    String::from_utf8(bytes.to_vec())
        .map(zeroize::Zeroizing::new)
        .map_err(|_| DomainError::Internal("a sealed secret is not text".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_fresh_and_secrets_round_trip_sealed() {
        let one = random_token();
        assert_eq!(one.len(), 43);
        assert_ne!(one, random_token());
        assert_eq!(hash("abc").len(), 64);
        let vault = KeyVault::new(&[3; 32]);
        let sealed = seal(&vault, "s3cret").expect("seal");
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
        assert_eq!(open(&vault, &sealed).expect("open").as_str(), "s3cret");
        assert!(open(&KeyVault::new(&[4; 32]), &sealed).is_err());
    }
}
