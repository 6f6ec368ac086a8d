//! JSON-LD contexts bundled with the crate.
//!
//! What a Data Integrity signature covers depends on the contexts a document
//! names, so they are part of the trusted code base: the files under
//! `contexts/` are the published documents taken from the npm packages that
//! distribute them by `scripts/fetch-contexts.sh`, pinned by
//! `contexts/SHA256SUMS` (checked by a test), and compiled into the binary.
//! Nothing is ever fetched from the network; an IRI that is not listed here is
//! an [`Error::UnknownContext`](crate::Error::UnknownContext).

/// A context document compiled into the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundledContext {
    /// The IRI documents use in their `@context` to refer to this context.
    pub iri: &'static str,
    /// The file name under `contexts/` (and in `contexts/SHA256SUMS`).
    pub file: &'static str,
    /// The file's content.
    pub document: &'static str,
}

/// `https://www.w3.org/2018/credentials/v1`: Verifiable Credentials 1.1.
pub const CREDENTIALS_V1: &str = "https://www.w3.org/2018/credentials/v1";
/// `https://www.w3.org/ns/credentials/v2`: Verifiable Credentials 2.0.
pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// Open Badges 3.0 context as first published (3.0.0).
pub const OB_V3P0: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context.json";
/// Open Badges 3.0.1 context.
pub const OB_V3P0_3_0_1: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json";
/// Open Badges 3.0.2 context.
pub const OB_V3P0_3_0_2: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json";
/// Open Badges 3.0.3 context, the current one.
pub const OB_V3P0_3_0_3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// Open Badges 3.0 extensions context (1EdTech validators, revocation, refresh).
pub const OB_V3P0_EXTENSIONS: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";
/// Data Integrity 1.0 context.
pub const DATA_INTEGRITY_V1: &str = "https://w3id.org/security/data-integrity/v1";
/// Data Integrity 2.0 context.
pub const DATA_INTEGRITY_V2: &str = "https://w3id.org/security/data-integrity/v2";
/// Multikey context, for verification methods in DID and controller documents.
pub const MULTIKEY_V1: &str = "https://w3id.org/security/multikey/v1";
/// DID Core 1.0 context.
pub const DID_V1: &str = "https://www.w3.org/ns/did/v1";
/// Bitstring Status List context.
pub const BITSTRING_STATUS_LIST_V1: &str = "https://www.w3.org/ns/credentials/status/v1";
/// Status List 2021 context (the predecessor of Bitstring Status List).
pub const STATUS_LIST_2021_V1: &str = "https://w3id.org/vc/status-list/2021/v1";

macro_rules! bundled {
    ($($iri:expr => $file:literal),* $(,)?) => {
        &[$(BundledContext {
            iri: $iri,
            file: $file,
            document: include_str!(concat!("../contexts/", $file)),
        }),*]
    };
}

/// Every bundled context, one entry per IRI.
pub const BUNDLED: &[BundledContext] = bundled![
    CREDENTIALS_V1 => "credentials-v1.jsonld",
    CREDENTIALS_V2 => "credentials-v2.jsonld",
    OB_V3P0 => "ob-v3p0-context-3.0.0.json",
    OB_V3P0_3_0_1 => "ob-v3p0-context-3.0.1.json",
    OB_V3P0_3_0_2 => "ob-v3p0-context-3.0.2.json",
    OB_V3P0_3_0_3 => "ob-v3p0-context-3.0.3.json",
    OB_V3P0_EXTENSIONS => "ob-v3p0-extensions.json",
    DATA_INTEGRITY_V1 => "data-integrity-v1.jsonld",
    DATA_INTEGRITY_V2 => "data-integrity-v2.jsonld",
    MULTIKEY_V1 => "multikey-v1.jsonld",
    DID_V1 => "did-v1.jsonld",
    BITSTRING_STATUS_LIST_V1 => "vc-bitstring-status-list-v1.jsonld",
    STATUS_LIST_2021_V1 => "vc-status-list-2021-v1.jsonld",
];

/// `contexts/SHA256SUMS` as written by `scripts/fetch-contexts.sh`.
pub const SHA256SUMS: &str = include_str!("../contexts/SHA256SUMS");

/// The bundled context document for `iri`, if there is one.
pub fn bundled(iri: &str) -> Option<&'static BundledContext> {
    BUNDLED.iter().find(|context| context.iri == iri)
}
