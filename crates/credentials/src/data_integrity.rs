//! Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite.
//!
//! As the W3C Data Integrity EdDSA Cryptosuites v1.0 specify (and Open Badges
//! 3.0 requires): the proof configuration is the proof without `proofValue`,
//! under the document's `@context`; both it and the document without its proof
//! are canonicalized (RDFC-1.0) and hashed with SHA-256, and Ed25519 signs
//! `sha256(canonical proof configuration) || sha256(canonical document)`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::canon::{Canonicalizer, ContextStore, Limits, Route};
use crate::contexts::BUNDLED;
use crate::direct::Direct;
use crate::keys::{resolve_did_key, Ed25519KeyPair, VerifyingKey};
use crate::Error;

/// The proof `type` this crate produces and verifies.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The cryptosuite this crate produces and verifies.
pub const CRYPTOSUITE: &str = "eddsa-rdfc-2022";
/// The proof purpose of credentials an issuer signs.
pub const ASSERTION_METHOD: &str = "assertionMethod";

/// Signs, verifies and canonicalizes JSON-LD documents.
///
/// Build it once and share it (it is `Send + Sync`): it holds the contexts and
/// caches each distinct top-level `@context` after processing it. All methods
/// are synchronous and CPU-bound; from async code, call them on a blocking
/// thread pool.
pub struct DataIntegrity {
    canonicalizer: Canonicalizer,
    /// SHA-256 of canonical proof configurations, by their JSON text.
    ///
    /// A proof configuration differs between signatures only by `created`;
    /// a server under load signs many credentials within the same second
    /// with the same key, so most proof configurations repeat. Canonical
    /// output is a pure function of the input text, so reuse is exact.
    proof_hashes: Mutex<HashMap<String, [u8; 32]>>,
}

impl std::fmt::Debug for DataIntegrity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataIntegrity")
            .field("limits", self.canonicalizer.limits())
            .finish_non_exhaustive()
    }
}

/// Cached proof configuration hashes kept at most; the cache is emptied when
/// full (entries go stale within a second anyway).
const MAX_CACHED_PROOF_HASHES: usize = 1024;

/// Configures a [`DataIntegrity`]: additional contexts and limits.
#[derive(Debug)]
pub struct DataIntegrityBuilder {
    contexts: Vec<(String, String)>,
    limits: Limits,
    direct: bool,
}

impl Default for DataIntegrityBuilder {
    fn default() -> Self {
        Self {
            contexts: Vec::new(),
            limits: Limits::default(),
            direct: true,
        }
    }
}

impl DataIntegrityBuilder {
    /// Serves `document` (a JSON-LD context document, as text) for the
    /// context IRI `iri`, in addition to (or instead of) the bundled ones.
    ///
    /// For contexts the server itself depends on (an extension's context, or
    /// test fixtures); the document becomes as trusted as the bundled ones.
    pub fn context(mut self, iri: impl Into<String>, document: impl Into<String>) -> Self {
        self.contexts.push((iri.into(), document.into()));
        self
    }

    /// Replaces the default [`Limits`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether documents the direct route supports are canonicalized by it
    /// (the default) rather than by JSON-LD expansion. Both give the same
    /// bytes; turning it off is for measuring and comparing them.
    pub fn direct_canonicalization(mut self, on: bool) -> Self {
        self.direct = on;
        self
    }

    /// Parses the contexts and builds the signer.
    pub fn build(self) -> Result<DataIntegrity, Error> {
        let mut store = ContextStore::bundled()?;
        for (iri, document) in &self.contexts {
            store.insert(iri, document)?;
        }
        let direct = self.direct.then(|| {
            Direct::new(
                BUNDLED
                    .iter()
                    .map(|context| (context.iri, context.document))
                    .chain(self.contexts.iter().map(|(i, d)| (i.as_str(), d.as_str()))),
                self.limits,
            )
        });
        Ok(DataIntegrity {
            canonicalizer: Canonicalizer::new(store, self.limits, direct),
            proof_hashes: Mutex::new(HashMap::new()),
        })
    }
}

/// What a successful [`DataIntegrity::verify`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProofCheck {
    /// The proof's `verificationMethod`.
    pub verification_method: String,
    /// The key that verified the signature.
    pub key: VerifyingKey,
    /// The proof's `created` timestamp, if it has one.
    pub created: Option<String>,
}

impl DataIntegrity {
    /// A signer with the bundled contexts and default [`Limits`].
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A builder for additional contexts or other limits.
    pub fn builder() -> DataIntegrityBuilder {
        DataIntegrityBuilder::default()
    }

    /// The canonical N-Quads (RDFC-1.0) of a JSON-LD document.
    ///
    /// Fails if the document uses a context that is not available, a term
    /// its context does not define, or exceeds the [`Limits`].
    pub fn canonicalize(&self, document: &Value) -> Result<String, Error> {
        self.canonicalizer
            .canonicalize(document, Route::Auto)?
            .ok_or_else(|| Error::InvalidDocument("the document could not be canonicalized".into()))
    }

    /// The canonical N-Quads of `document` by the direct route, which maps
    /// the terms of the bundled contexts straight to RDF without JSON-LD
    /// expansion; `Ok(None)` when the document uses something that route
    /// does not cover (then [`DataIntegrity::canonicalize`] takes the
    /// general route). For tests and measurements: whenever this gives
    /// `Some`, it is the same text as [`DataIntegrity::canonicalize_general`].
    pub fn canonicalize_direct(&self, document: &Value) -> Result<Option<String>, Error> {
        self.canonicalizer.canonicalize(document, Route::Direct)
    }

    /// The canonical N-Quads of `document` by JSON-LD expansion and
    /// RDFC-1.0, whatever the document (the route foreign documents take).
    pub fn canonicalize_general(&self, document: &Value) -> Result<String, Error> {
        self.canonicalizer
            .canonicalize(document, Route::General)?
            .ok_or_else(|| Error::InvalidDocument("the document could not be canonicalized".into()))
    }

    /// Signs `unsigned` with an `eddsa-rdfc-2022` `DataIntegrityProof`.
    ///
    /// `verification_method` is the IRI verifiers resolve to the public key
    /// (for example `did:key:z6Mk...#z6Mk...` or an issuer URL with a
    /// fragment); `created` is the proof's timestamp as an XML Schema
    /// `dateTime` (RFC 3339, e.g. `2024-05-01T12:00:00Z`). Returns the
    /// document with its `proof`.
    pub fn sign(
        &self,
        unsigned: &Value,
        key: &Ed25519KeyPair,
        verification_method: &str,
        created: &str,
    ) -> Result<Value, Error> {
        let document = as_object(unsigned)?;
        if document.contains_key("proof") {
            return Err(Error::InvalidDocument(
                "the document already has a proof; proof sets and chains are not supported".into(),
            ));
        }
        if !is_date_time(created) {
            return Err(Error::InvalidProof(format!(
                "`created` must be an RFC 3339 date-time such as 2024-05-01T12:00:00Z, got `{created}`"
            )));
        }
        let mut proof = Map::new();
        proof.insert("type".into(), PROOF_TYPE.into());
        proof.insert("cryptosuite".into(), CRYPTOSUITE.into());
        proof.insert("created".into(), created.into());
        proof.insert("verificationMethod".into(), verification_method.into());
        proof.insert("proofPurpose".into(), ASSERTION_METHOD.into());

        let hash_data = self.hash_data(document, &proof)?;
        let signature = key.sign(&hash_data);
        proof.insert(
            "proofValue".into(),
            format!("z{}", bs58::encode(signature).into_string()).into(),
        );

        let mut signed = document.clone();
        signed.insert("proof".into(), Value::Object(proof));
        Ok(Value::Object(signed))
    }

    /// Verifies the `eddsa-rdfc-2022` proof of `signed`.
    ///
    /// `resolve` maps the proof's `verificationMethod` to a public key (the
    /// caller knows its issuers' keys); when it returns `None` and the method
    /// is a `did:key`, the key is read from the identifier itself. Fails with
    /// [`Error::SignatureMismatch`] when the document or proof was altered.
    pub fn verify(
        &self,
        signed: &Value,
        resolve: impl Fn(&str) -> Option<VerifyingKey>,
    ) -> Result<ProofCheck, Error> {
        let document = as_object(signed)?;
        let proof = match document.get("proof") {
            Some(Value::Object(proof)) => proof,
            Some(Value::Array(proofs)) if proofs.len() == 1 => match &proofs[0] {
                Value::Object(proof) => proof,
                _ => return Err(Error::InvalidProof("`proof` must be an object".into())),
            },
            Some(Value::Array(_)) => {
                return Err(Error::InvalidProof(
                    "proof sets (several proofs) are not supported".into(),
                ))
            }
            Some(_) => return Err(Error::InvalidProof("`proof` must be an object".into())),
            None => return Err(Error::InvalidProof("the document has no proof".into())),
        };

        expect_string(proof, "type", PROOF_TYPE)?;
        expect_string(proof, "cryptosuite", CRYPTOSUITE)?;
        expect_string(proof, "proofPurpose", ASSERTION_METHOD)?;
        let verification_method = string_field(proof, "verificationMethod")?;
        let created = match proof.get("created") {
            None => None,
            Some(Value::String(created)) if is_date_time(created) => Some(created.clone()),
            Some(other) => {
                return Err(Error::InvalidProof(format!(
                    "`created` must be an RFC 3339 date-time, got {other}"
                )))
            }
        };
        let signature = decode_proof_value(string_field(proof, "proofValue")?)?;

        // A proof may carry its own @context only if the document's starts
        // with it; the proof configuration is hashed under the document's.
        if let Some(proof_context) = proof.get("@context") {
            let document_context = document.get("@context").unwrap_or(&Value::Null);
            if !context_starts_with(document_context, proof_context) {
                return Err(Error::InvalidProof(
                    "the proof's @context is not a prefix of the document's @context".into(),
                ));
            }
        }

        let key = match resolve(verification_method) {
            Some(key) => key,
            None if verification_method.starts_with("did:key:") => {
                resolve_did_key(verification_method)?
            }
            None => {
                return Err(Error::UnresolvedVerificationMethod(
                    verification_method.to_owned(),
                ))
            }
        };

        let mut proof_config = proof.clone();
        proof_config.remove("proofValue");
        proof_config.remove("@context");
        let unsecured: Map<String, Value> = document
            .iter()
            .filter(|(k, _)| *k != "proof")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let hash_data = self.hash_data(&unsecured, &proof_config)?;

        if !key.verify(&hash_data, &signature) {
            return Err(Error::SignatureMismatch {
                verification_method: verification_method.to_owned(),
            });
        }
        Ok(ProofCheck {
            verification_method: verification_method.to_owned(),
            key,
            created,
        })
    }

    /// `sha256(canon(proof configuration)) || sha256(canon(document))`, the
    /// bytes Ed25519 signs. `document` has no `proof`; `proof_config` has no
    /// `proofValue` and takes the document's `@context`.
    fn hash_data(
        &self,
        document: &Map<String, Value>,
        proof_config: &Map<String, Value>,
    ) -> Result<[u8; 64], Error> {
        let context = document
            .get("@context")
            .ok_or_else(|| Error::InvalidDocument("the document has no @context".into()))?;
        let canonical_document = self
            .canonicalizer
            .canonicalize_parts(context, document.iter().filter(|(k, _)| *k != "@context"))?;
        let mut hash_data = [0u8; 64];
        hash_data[..32].copy_from_slice(&self.proof_hash(context, proof_config)?);
        hash_data[32..].copy_from_slice(&Sha256::digest(canonical_document.as_bytes()));
        Ok(hash_data)
    }

    /// SHA-256 of the canonical proof configuration, from the cache when the
    /// same configuration under the same context was hashed recently.
    fn proof_hash(
        &self,
        context: &Value,
        proof_config: &Map<String, Value>,
    ) -> Result<[u8; 32], Error> {
        // Both parts are serialized JSON, in which a raw NUL cannot occur,
        // so the separator keeps the key unambiguous.
        let key = format!("{context}\0{}", Value::Object(proof_config.clone()));
        let cached = self
            .proof_hashes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .copied();
        if let Some(hash) = cached {
            return Ok(hash);
        }
        let canonical = self
            .canonicalizer
            .canonicalize_parts(context, proof_config.iter())?;
        let hash: [u8; 32] = Sha256::digest(canonical.as_bytes()).into();
        let mut cache = self
            .proof_hashes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED_PROOF_HASHES {
            cache.clear();
        }
        cache.insert(key, hash);
        Ok(hash)
    }
}

fn as_object(value: &Value) -> Result<&Map<String, Value>, Error> {
    value
        .as_object()
        .ok_or_else(|| Error::InvalidDocument("a credential must be a JSON object".into()))
}

fn string_field<'a>(proof: &'a Map<String, Value>, name: &str) -> Result<&'a str, Error> {
    match proof.get(name) {
        Some(Value::String(value)) => Ok(value),
        Some(other) => Err(Error::InvalidProof(format!(
            "`{name}` must be a string, got {other}"
        ))),
        None => Err(Error::InvalidProof(format!("the proof has no `{name}`"))),
    }
}

fn expect_string(proof: &Map<String, Value>, name: &str, expected: &str) -> Result<(), Error> {
    let value = string_field(proof, name)?;
    if value == expected {
        Ok(())
    } else {
        Err(Error::InvalidProof(format!(
            "`{name}` is `{value}`; only `{expected}` is supported"
        )))
    }
}

fn decode_proof_value(proof_value: &str) -> Result<[u8; 64], Error> {
    let body = proof_value.strip_prefix('z').ok_or_else(|| {
        Error::InvalidProof("`proofValue` must be multibase base58btc (start with `z`)".into())
    })?;
    let bytes = bs58::decode(body)
        .into_vec()
        .map_err(|e| Error::InvalidProof(format!("`proofValue` is not base58btc: {e}")))?;
    bytes.try_into().map_err(|bytes: Vec<u8>| {
        Error::InvalidProof(format!(
            "`proofValue` must encode a 64-byte Ed25519 signature, found {} bytes",
            bytes.len()
        ))
    })
}

/// Whether `context` begins with the values of `prefix` (each may be a
/// single value or an array).
fn context_starts_with(context: &Value, prefix: &Value) -> bool {
    let as_slice = |value: &Value| match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let context = as_slice(context);
    let prefix = as_slice(prefix);
    context.len() >= prefix.len() && context[..prefix.len()] == prefix[..]
}

/// Whether `value` has the shape of an XML Schema `dateTime` with a time
/// zone, which is what RFC 3339 timestamps are: `YYYY-MM-DDTHH:MM:SS`,
/// optional fraction, then `Z` or `±HH:MM`.
fn is_date_time(value: &str) -> bool {
    let bytes = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && bytes.get(10) == Some(&b'T')
        && digits(11..13)
        && bytes.get(13) == Some(&b':')
        && digits(14..16)
        && bytes.get(16) == Some(&b':')
        && digits(17..19))
    {
        return false;
    }
    let mut rest = &value[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return false;
        }
        rest = &fraction[end..];
    }
    match rest.as_bytes() {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times() {
        assert!(is_date_time("2010-01-01T19:23:24Z"));
        assert!(is_date_time("2030-01-01T00:00:00.123+02:00"));
        assert!(!is_date_time("2010-01-01"));
        assert!(!is_date_time("2010-01-01T19:23:24"));
        assert!(!is_date_time("2010-01-01T19:23:24.Z"));
        assert!(!is_date_time("yesterday"));
    }

    #[test]
    fn shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<DataIntegrity>();
    }
}
