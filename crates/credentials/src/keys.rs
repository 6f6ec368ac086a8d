//! Ed25519 keys in the encodings Data Integrity and `did:key` use.
//!
//! Public keys travel as Multikey `publicKeyMultibase`: `z` (base58btc) over
//! the multicodec prefix `0xed 0x01` and the 32 key bytes. Secret keys come in
//! two published shapes, both with the multicodec prefix `0x80 0x26`: the W3C
//! `privateKeyMultibase` carries the 32-byte seed, 1EdTech's
//! `secretKeyMultibase` carries 64 bytes (seed, then public key). Both are
//! read; the W3C form is written.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey};
use zeroize::Zeroizing;

use crate::Error;

const ED25519_PUB_CODEC: [u8; 2] = [0xed, 0x01];
const ED25519_PRIV_CODEC: [u8; 2] = [0x80, 0x26];
const DID_KEY_PREFIX: &str = "did:key:";

/// An Ed25519 signing key with its public key.
///
/// The secret half is wiped from memory when the value is dropped, and
/// `Debug` prints only the public key.
#[derive(Clone)]
pub struct Ed25519KeyPair {
    signing: SigningKey,
}

impl Ed25519KeyPair {
    /// A new key pair from the operating system's random number generator.
    pub fn generate() -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| Error::Randomness(e.to_string()))?;
        Ok(Self::from_seed(&seed))
    }

    /// The key pair derived from a 32-byte Ed25519 seed (RFC 8032 secret key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// Parses a multibase secret key: the W3C `privateKeyMultibase` form
    /// (`0x8026` + 32-byte seed) or the 1EdTech `secretKeyMultibase` form
    /// (`0x8026` + seed + public key, whose public half must match the seed).
    pub fn from_secret_multibase(encoded: &str) -> Result<Self, Error> {
        let bytes = Zeroizing::new(decode_base58btc(encoded)?);
        let Some(key) = bytes.strip_prefix(&ED25519_PRIV_CODEC) else {
            return Err(Error::InvalidKey(
                "secret key multibase does not start with the Ed25519 private key multicodec 0x8026"
                    .into(),
            ));
        };
        let mut seed = Zeroizing::new([0u8; 32]);
        match key.len() {
            32 => seed.copy_from_slice(key),
            64 => seed.copy_from_slice(&key[..32]),
            n => {
                return Err(Error::InvalidKey(format!(
                    "Ed25519 secret key must be 32 bytes (seed) or 64 bytes (seed and public key), found {n}"
                )))
            }
        }
        let pair = Self::from_seed(&seed);
        if key.len() == 64 && key[32..] != pair.signing.verifying_key().to_bytes() {
            return Err(Error::InvalidKey(
                "the public half of the 64-byte secret key does not belong to its seed".into(),
            ));
        }
        Ok(pair)
    }

    /// The 32-byte seed, for storing the key. Wiped when the returned value
    /// is dropped.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The secret key in the W3C `privateKeyMultibase` form
    /// (`z` + base58btc(`0x8026` + 32-byte seed)). Wiped when dropped.
    pub fn secret_key_multibase(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(34));
        bytes.extend_from_slice(&ED25519_PRIV_CODEC);
        bytes.extend_from_slice(self.seed().as_ref());
        // Encoded in place into a buffer large enough for any 34-byte input
        // (at most 47 characters), so no reallocation leaves an unwiped copy.
        let mut encoded = Zeroizing::new(String::with_capacity(96));
        encoded.push('z');
        match bs58::encode(bytes.as_slice()).onto(&mut *encoded) {
            Ok(_) => encoded,
            // A growable target is never too small; encode plainly rather
            // than fail if that ever changes.
            Err(_) => Zeroizing::new(format!("z{}", bs58::encode(bytes.as_slice()).into_string())),
        }
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.signing.verifying_key())
    }

    /// The public key in Multikey form: `z6Mk...`.
    pub fn public_key_multibase(&self) -> String {
        self.verifying_key().to_multibase()
    }

    /// Signs `message` (pure Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for Ed25519KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519KeyPair")
            .field("public_key_multibase", &self.public_key_multibase())
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

impl VerifyingKey {
    /// The key from its 32 raw bytes; fails if they are not a valid point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, Error> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| Error::InvalidKey("not a valid Ed25519 public key".into()))
    }

    /// Parses a Multikey `publicKeyMultibase` (`z` + base58btc(`0xed01` + 32 bytes)).
    pub fn from_multibase(encoded: &str) -> Result<Self, Error> {
        let bytes = decode_base58btc(encoded)?;
        let Some(key) = bytes.strip_prefix(&ED25519_PUB_CODEC) else {
            return Err(Error::InvalidKey(
                "public key multibase does not start with the Ed25519 public key multicodec 0xed01"
                    .into(),
            ));
        };
        let key: &[u8; 32] = key.try_into().map_err(|_| {
            Error::InvalidKey(format!(
                "Ed25519 public key must be 32 bytes, found {}",
                key.len()
            ))
        })?;
        Self::from_bytes(key)
    }

    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The Multikey form: `z6Mk...`.
    pub fn to_multibase(&self) -> String {
        let mut bytes = Vec::with_capacity(34);
        bytes.extend_from_slice(&ED25519_PUB_CODEC);
        bytes.extend_from_slice(self.0.as_bytes());
        format!("z{}", bs58::encode(bytes).into_string())
    }

    /// Checks an Ed25519 signature over `message`.
    ///
    /// Uses the strict check (no small-order keys, no malleable signatures)
    /// so that one credential has exactly one valid signature per key.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.0.verify_strict(message, &signature).is_ok()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VerifyingKey")
            .field(&self.to_multibase())
            .finish()
    }
}

/// The `did:key` DID of a public key: `did:key:z6Mk...`.
pub fn did_key_for(key: &VerifyingKey) -> String {
    format!("{DID_KEY_PREFIX}{}", key.to_multibase())
}

/// The verification method id of a `did:key`: `did:key:z6Mk...#z6Mk...`,
/// the value a proof's `verificationMethod` takes.
pub fn did_key_verification_method(key: &VerifyingKey) -> String {
    let multibase = key.to_multibase();
    format!("{DID_KEY_PREFIX}{multibase}#{multibase}")
}

/// Resolves a `did:key` DID (`did:key:z6Mk...`) or its verification method
/// (`did:key:z6Mk...#z6Mk...`) to the Ed25519 key it encodes.
///
/// `did:key` needs no network: the key is the identifier. The fragment, when
/// present, must repeat the method-specific identifier, as the `did:key`
/// method specifies for Ed25519.
pub fn resolve_did_key(did_or_method: &str) -> Result<VerifyingKey, Error> {
    let invalid = |reason: &str| Error::InvalidDidKey {
        did: did_or_method.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = did_or_method
        .strip_prefix(DID_KEY_PREFIX)
        .ok_or_else(|| invalid("does not start with `did:key:`"))?;
    let (id, fragment) = match rest.split_once('#') {
        Some((id, fragment)) => (id, Some(fragment)),
        None => (rest, None),
    };
    if let Some(fragment) = fragment {
        if fragment != id {
            return Err(invalid(
                "the fragment must repeat the key identifier (`did:key:z6Mk...#z6Mk...`)",
            ));
        }
    }
    if !id.starts_with("z6Mk") {
        return Err(invalid("only Ed25519 keys (`z6Mk...`) are supported"));
    }
    VerifyingKey::from_multibase(id).map_err(|e| invalid(&e.to_string()))
}

fn decode_base58btc(encoded: &str) -> Result<Vec<u8>, Error> {
    let body = encoded.strip_prefix('z').ok_or_else(|| {
        Error::InvalidKey("multibase value must be base58btc (start with `z`)".into())
    })?;
    bs58::decode(body)
        .into_vec()
        .map_err(|e| Error::InvalidKey(format!("invalid base58btc: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_multibase_round_trip() {
        let pair = Ed25519KeyPair::generate().unwrap();
        let encoded = pair.secret_key_multibase();
        let again = Ed25519KeyPair::from_secret_multibase(&encoded).unwrap();
        assert_eq!(pair.public_key_multibase(), again.public_key_multibase());
        assert!(pair.public_key_multibase().starts_with("z6Mk"));
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let pair = Ed25519KeyPair::from_seed(&[7u8; 32]);
        let debug = format!("{pair:?}");
        assert!(debug.contains(&pair.public_key_multibase()));
        assert!(!debug.contains(pair.secret_key_multibase().as_str()));
        assert!(!debug.contains("7, 7"));
    }

    #[test]
    fn did_key_round_trip() {
        let key = Ed25519KeyPair::from_seed(&[1u8; 32]).verifying_key();
        let did = did_key_for(&key);
        assert_eq!(resolve_did_key(&did).unwrap(), key);
        let vm = did_key_verification_method(&key);
        assert_eq!(resolve_did_key(&vm).unwrap(), key);
        assert!(resolve_did_key(&format!("{did}#other")).is_err());
        assert!(resolve_did_key("did:web:example.com").is_err());
    }
}
