//! Private keys sealed for storage: AES-256-GCM under a key encryption key,
//! a fresh random nonce per key.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::Error;

const NONCE_LEN: usize = 12;

/// Seals and opens private keys. `Debug` shows nothing of the key.
pub struct KeyVault {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyVault(<redacted>)")
    }
}

impl KeyVault {
    /// A vault for a 256-bit key encryption key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// `nonce || ciphertext` of `secret` under a fresh random nonce.
    pub fn seal(&self, secret: &[u8]) -> Result<Vec<u8>, Error> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, secret)
            .map_err(|_| Error::Sealing("sealing a private key failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The secret inside `sealed`; fails if it was sealed under another key
    /// or altered.
    pub fn open(&self, sealed: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        if sealed.len() <= NONCE_LEN {
            return Err(Error::Sealing("a sealed private key is truncated"));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map(zeroize::Zeroizing::new)
            .map_err(|_| {
                // The server's name for the key encryption key: what the
                // operator reading the log must check.
                Error::Sealing(
                    "a private key cannot be opened: KEY_ENCRYPTION_KEY differs from the one it \
                     was sealed with",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_key() {
        let vault = KeyVault::new(&[7; 32]);
        let sealed = vault.seal(b"thirty-two bytes of secret seed!").unwrap();
        assert_ne!(&sealed[NONCE_LEN..], b"thirty-two bytes of secret seed!");
        assert_eq!(
            vault.open(&sealed).unwrap().as_slice(),
            b"thirty-two bytes of secret seed!"
        );
        assert!(KeyVault::new(&[8; 32]).open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert!(vault.open(&tampered).is_err());
    }
}
