//! The crate's one error type.
//!
//! Policy: every failure a caller can act on gets its own variant with a
//! message that names the offending thing (the context IRI, the undefined term,
//! the limit that was hit), because these errors end up in API responses and
//! verification reports read by people. Failures inside the JSON-LD library
//! that have no better classification are carried as text in
//! [`Error::JsonLd`]; no third-party error type crosses this crate's API.

/// Everything that can go wrong while handling keys, canonicalizing a
/// document, signing or verifying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The document is not something this crate can process (not a JSON
    /// object, no `@context`, a proof of the wrong shape, ...).
    #[error("invalid document: {0}")]
    InvalidDocument(String),

    /// The document refers to a JSON-LD context that is not bundled. Contexts
    /// are never fetched over the network.
    #[error("JSON-LD context `{0}` is not bundled with this server (contexts are never fetched from the network)")]
    UnknownContext(String),

    /// A property of the document is not defined by its `@context`. JSON-LD
    /// would silently drop it, so a signature would not cover it.
    #[error(
        "term `{0}` is not defined by the document's @context, so a signature could not cover it"
    )]
    UndefinedTerm(String),

    /// An `@id` or `@type` value is a relative reference that does not
    /// resolve to an absolute IRI; JSON-LD would silently drop the statements
    /// that use it, so a signature could not cover them.
    #[error("`{0}` is not an absolute IRI and is not defined by the document's @context, so a signature could not cover it")]
    RelativeReference(String),

    /// JSON-LD context processing or expansion failed for another reason.
    #[error("JSON-LD processing failed: {0}")]
    JsonLd(String),

    /// The input exceeds one of the configured [`Limits`](crate::Limits).
    #[error("document too large: {0}")]
    LimitExceeded(String),

    /// RDF canonicalization gave up, typically because the graph's blank
    /// nodes are arranged so that canonicalizing them would take too long.
    #[error("RDF canonicalization failed: {0}")]
    Canonicalization(String),

    /// A key could not be decoded, is not of the expected kind or size, or
    /// could not be used.
    #[error("invalid key: {0}")]
    InvalidKey(String),

    /// The operating system's random number generator failed.
    #[error("could not generate a key: {0}")]
    Randomness(String),

    /// A `did:key` identifier or verification method is malformed.
    #[error("invalid did:key `{did}`: {reason}")]
    InvalidDidKey {
        /// The identifier as given.
        did: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The proof is not a `DataIntegrityProof` this crate can verify, or a
    /// required proof property is missing or malformed.
    #[error("invalid proof: {0}")]
    InvalidProof(String),

    /// The proof's `verificationMethod` could not be resolved to a key.
    #[error("verification method `{0}` could not be resolved to an Ed25519 public key")]
    UnresolvedVerificationMethod(String),

    /// The signature does not match: the document or its proof was changed
    /// after signing, or a different key signed it.
    #[error("signature verification failed: the credential or its proof was modified after signing, or it was signed by a different key than `{verification_method}`")]
    SignatureMismatch {
        /// The verification method whose key was used to check the signature.
        verification_method: String,
    },

    /// A compact JWS is malformed, or its header names an algorithm or an
    /// extension that cannot be checked with the key given.
    #[error("invalid JWS: {0}")]
    InvalidJws(String),

    /// A private key could not be sealed, or a sealed one opened (sealed
    /// under another key encryption key, altered or truncated).
    #[error("{0}")]
    Sealing(&'static str),

    /// The JWS signature does not match: its header or payload was changed
    /// after signing, or a different key signed it.
    #[error("JWS signature verification failed: the header or payload was modified after signing, or another key signed it")]
    JwsSignatureMismatch,
}
