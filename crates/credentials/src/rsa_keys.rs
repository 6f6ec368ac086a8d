//! RSA keys for RS256 (RSASSA-PKCS1-v1_5 with SHA-256): the algorithm Open
//! Badges 2.0 recommends for signed assertions and the minimum OB 3.0 names
//! for VC-JWT.
//!
//! Private keys travel as PKCS#8 DER (what a server seals and stores),
//! public keys as SPKI PEM (`-----BEGIN PUBLIC KEY-----`, what an OB 2.0
//! `CryptographicKey` publishes as `publicKeyPem`) or as the `n` and `e` of
//! a JSON Web Key.
//!
//! Only signing and signature verification are offered: nothing here
//! decrypts, so the RSA decryption timing side channel of the `rsa` crate
//! (RUSTSEC-2023-0071, "Marvin") has no oracle to work with. Signing is
//! blinded all the same.

use std::fmt;

use base64::Engine as _;
use rsa::pkcs1v15;
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::traits::PublicKeyParts;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::Error;

/// An RSA private key that signs RS256, with its public key.
///
/// `Debug` prints only the public key's size; the private key is wiped from
/// memory when the value is dropped.
#[derive(Clone)]
pub struct RsaKeyPair {
    signing: pkcs1v15::SigningKey<Sha256>,
    public: RsaPublicKey,
}

impl RsaKeyPair {
    /// The smallest modulus accepted, in bits (NIST SP 800-131A, RFC 7518
    /// section 3.3).
    pub const MIN_BITS: usize = 2048;

    /// A new key of `bits` bits (at least [`Self::MIN_BITS`]; at most 4096)
    /// from the operating system's random number generator, with public
    /// exponent 65537. Slow: a 2048-bit key takes from a tenth of a second
    /// to a few seconds (a search for two primes); run it off any latency
    /// sensitive thread.
    pub fn generate(bits: usize) -> Result<Self, Error> {
        if !(Self::MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(Error::InvalidKey(format!(
                "an RSA key must have {} to {MAX_BITS} bits, not {bits}",
                Self::MIN_BITS
            )));
        }
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
            .map_err(|e| Error::Randomness(format!("generating an RSA key: {e}")))?;
        Self::from_private(private)
    }

    /// Reads a PKCS#8 `PrivateKeyInfo` (DER) holding an RSA key of at least
    /// [`Self::MIN_BITS`] bits.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let private = rsa::RsaPrivateKey::from_pkcs8_der(der)
            .map_err(|e| Error::InvalidKey(format!("not a PKCS#8 RSA private key: {e}")))?;
        private
            .validate()
            .map_err(|e| Error::InvalidKey(format!("inconsistent RSA private key: {e}")))?;
        Self::from_private(private)
    }

    fn from_private(private: rsa::RsaPrivateKey) -> Result<Self, Error> {
        let public = RsaPublicKey::checked(private.to_public_key())?;
        Ok(Self {
            signing: pkcs1v15::SigningKey::new(private),
            public,
        })
    }

    /// The private key as PKCS#8 DER, for storing it (sealed). Wiped when
    /// the returned value is dropped.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let document = self
            .signing
            .as_ref()
            .to_pkcs8_der()
            .map_err(|e| Error::InvalidKey(format!("encoding an RSA private key: {e}")))?;
        Ok(Zeroizing::new(document.as_bytes().to_vec()))
    }

    /// The public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// The RS256 signature of `message`: RSASSA-PKCS1-v1_5 over its SHA-256
    /// (RFC 8017 section 8.2; deterministic, computed with blinding).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.signing
            .try_sign_with_rng(&mut rsa::rand_core::OsRng, message)
            .map(|signature| signature.to_vec())
            .map_err(|e| Error::InvalidKey(format!("RSA signing failed: {e}")))
    }
}

impl fmt::Debug for RsaKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKeyPair")
            .field("bits", &self.public.bits())
            .finish_non_exhaustive()
    }
}

/// The largest modulus accepted, in bits (the `rsa` crate's own bound for
/// public keys, which keeps verification cheap).
const MAX_BITS: usize = 4096;

/// An RSA public key that checks RS256 signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey(rsa::RsaPublicKey);

impl RsaPublicKey {
    fn checked(key: rsa::RsaPublicKey) -> Result<Self, Error> {
        let bits = key.n().bits();
        if bits < RsaKeyPair::MIN_BITS {
            return Err(Error::InvalidKey(format!(
                "an RSA key must have at least {} bits, this one has {bits}",
                RsaKeyPair::MIN_BITS
            )));
        }
        Ok(Self(key))
    }

    /// Reads an SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`) of at
    /// least [`RsaKeyPair::MIN_BITS`] bits.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let key = rsa::RsaPublicKey::from_public_key_pem(pem.trim())
            .map_err(|e| Error::InvalidKey(format!("not an SPKI PEM RSA public key: {e}")))?;
        Self::checked(key)
    }

    /// The SPKI PEM form (`-----BEGIN PUBLIC KEY-----`, LF line endings,
    /// ending with a newline): an OB 2.0 `publicKeyPem`.
    pub fn to_pem(&self) -> Result<String, Error> {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::InvalidKey(format!("encoding an RSA public key: {e}")))
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.n().bits()
    }

    /// The RFC 7518 JSON Web Key members of the key: `kty` (`RSA`), and the
    /// modulus `n` and exponent `e`, big-endian without leading zeros,
    /// base64url without padding.
    pub fn jwk(&self) -> serde_json::Value {
        let encode =
            |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        serde_json::json!({
            "kty": "RSA",
            "n": encode(self.0.n().to_bytes_be()),
            "e": encode(self.0.e().to_bytes_be()),
        })
    }

    /// Whether `signature` is the RS256 signature of `message` by this key.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = pkcs1v15::Signature::try_from(signature) else {
            return false;
        };
        pkcs1v15::VerifyingKey::<Sha256>::new(self.0.clone())
            .verify(message, &signature)
            .is_ok()
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One key for every test of the crate's RSA code: generating one takes
    /// a while.
    pub(crate) fn key() -> &'static RsaKeyPair {
        static KEY: std::sync::OnceLock<RsaKeyPair> = std::sync::OnceLock::new();
        KEY.get_or_init(|| RsaKeyPair::generate(2048).expect("an RSA key"))
    }

    #[test]
    fn signatures_verify_with_the_public_key_only() {
        let pair = key();
        assert_eq!(pair.public_key().bits(), 2048);
        let signature = pair.sign(b"an assertion").unwrap();
        assert_eq!(signature.len(), 256);
        assert_eq!(
            pair.sign(b"an assertion").unwrap(),
            signature,
            "PKCS#1 v1.5 is deterministic, blinding or not"
        );
        assert!(pair.public_key().verify(b"an assertion", &signature));
        assert!(!pair.public_key().verify(b"an assertion!", &signature));
        let mut changed = signature.clone();
        changed[100] ^= 1;
        assert!(!pair.public_key().verify(b"an assertion", &changed));
        assert!(!pair.public_key().verify(b"an assertion", &signature[1..]));
    }

    #[test]
    fn keys_round_trip_through_pkcs8_and_pem() {
        let pair = key();
        let again = RsaKeyPair::from_pkcs8_der(&pair.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(again.public_key(), pair.public_key());
        let pem = pair.public_key().to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"), "{pem}");
        let public = RsaPublicKey::from_pem(&pem).unwrap();
        assert_eq!(&public, pair.public_key());
        assert!(public.verify(b"m", &pair.sign(b"m").unwrap()));
        assert!(RsaPublicKey::from_pem(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        )
        .is_err());
        assert!(RsaKeyPair::from_pkcs8_der(b"not a key").is_err());
    }

    #[test]
    fn the_jwk_carries_modulus_and_exponent() {
        let jwk = key().public_key().jwk();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["e"], "AQAB", "65537");
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwk["n"].as_str().unwrap())
            .unwrap();
        assert_eq!(n.len(), 256);
        assert_ne!(n[0], 0, "no leading zero");
    }

    #[test]
    fn small_and_huge_keys_are_refused() {
        assert!(RsaKeyPair::generate(1024).is_err());
        assert!(RsaKeyPair::generate(8192).is_err());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let debug = format!("{:?}", key());
        assert_eq!(debug, "RsaKeyPair { bits: 2048, .. }");
    }
}
