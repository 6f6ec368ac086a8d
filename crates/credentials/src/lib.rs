//! Proofs and keys for the Open Badges server.
//!
//! - [`DataIntegrity`]: Data Integrity proofs with the `eddsa-rdfc-2022`
//!   cryptosuite that Open Badges 3.0 requires: sign, verify, and the RDF
//!   canonicalization underneath, against JSON-LD contexts compiled into the
//!   crate ([`contexts`]); nothing is fetched from the network.
//! - [`Ed25519KeyPair`] and [`VerifyingKey`]: Ed25519 keys in their Multikey
//!   and `did:key` encodings.
//! - [`RsaKeyPair`] and [`RsaPublicKey`]: RSA keys (PKCS#8, SPKI PEM, JWK)
//!   for RS256, and [`jws`]: compact JWS signed and checked with them (OB
//!   2.0 signed assertions, RS256 VC-JWT).
//!
//! Everything here is synchronous and CPU-bound; the types are `Send + Sync`
//! so a server can share one [`DataIntegrity`] across its blocking threads.
//!
//! ```
//! use openbadges_credentials::{DataIntegrity, Ed25519KeyPair, did_key_verification_method};
//!
//! let signer = DataIntegrity::new()?;
//! let key = Ed25519KeyPair::generate()?;
//! let method = did_key_verification_method(&key.verifying_key());
//! let credential = serde_json::json!({
//!     "@context": [
//!         "https://www.w3.org/ns/credentials/v2",
//!         "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
//!     ],
//!     "id": "urn:uuid:6a0c9a3e-3c43-4a3e-8a5e-0d6b1f0f5b11",
//!     "type": ["VerifiableCredential", "OpenBadgeCredential"],
//!     "issuer": {"id": "https://example.edu/issuers/1", "type": ["Profile"], "name": "Example"},
//!     "validFrom": "2024-01-01T00:00:00Z",
//!     "credentialSubject": {
//!         "type": ["AchievementSubject"],
//!         "achievement": {
//!             "id": "https://example.edu/achievements/1",
//!             "type": ["Achievement"],
//!             "name": "Example",
//!             "description": "An example.",
//!             "criteria": {"narrative": "Do the example."}
//!         }
//!     }
//! });
//! let signed = signer.sign(&credential, &key, &method, "2024-01-01T00:00:00Z")?;
//! let check = signer.verify(&signed, |_| None)?; // did:key resolves itself
//! assert_eq!(check.verification_method, method);
//! # Ok::<(), openbadges_credentials::Error>(())
//! ```

pub mod bitstring;
mod canon;
pub mod contexts;
mod data_integrity;
mod error;
pub mod jws;
mod keys;
mod rsa_keys;
mod vault;

pub use canon::Limits;
pub use data_integrity::{
    DataIntegrity, DataIntegrityBuilder, ProofCheck, ASSERTION_METHOD, CRYPTOSUITE, PROOF_TYPE,
};
pub use error::Error;
pub use keys::{
    did_key_for, did_key_verification_method, resolve_did_key, Ed25519KeyPair, VerifyingKey,
};
pub use rsa_keys::{RsaKeyPair, RsaPublicKey};
pub use vault::KeyVault;
