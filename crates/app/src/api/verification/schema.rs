//! The OpenAPI types of keys and verification: DID documents, signing keys,
//! the JWKS, verification reports and what `POST /verify` takes.

use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

/// A verification method of a DID document: an Ed25519 public key as a
/// `Multikey`, or an RSA key (RS256 VC-JWT) as a `JsonWebKey`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DidVerificationMethod {
    /// `<did>#key-<key UUID>`: what the `verificationMethod` of a proof
    /// (or the `kid` of a VC-JWT) names.
    #[schema(
        example = "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b"
    )]
    pub id: String,
    /// `Multikey` (Ed25519) or `JsonWebKey` (RSA).
    #[serde(rename = "type")]
    pub kind: String,
    /// The issuer's DID.
    pub controller: String,
    /// Ed25519 keys: the public key, multibase base58btc with the Ed25519
    /// multicodec prefix (`z6Mk...`).
    pub public_key_multibase: Option<String>,
    /// RSA keys: the public key as a JSON Web Key (`kty` `RSA`, `n`, `e`,
    /// `alg` `RS256`).
    #[schema(value_type = Option<Object>)]
    pub public_key_jwk: Option<Value>,
}

/// `GET /issuers/{id}/did.json`: the DID document of the issuer's `did:web`
/// (`did:web:<host>[%3A<port>][:<path>]:issuers:<id>`, from `BASE_URL`). It
/// lists every key that still verifies, active and retired, never a revoked
/// one.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(did_document_example()))]
pub struct DidDocument {
    /// The DID 1.0 and Multikey contexts (and `https://w3id.org/security/jwk/v1`
    /// when an RSA key is listed).
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    /// The issuer's DID.
    pub id: String,
    /// The issuer's OB 3.0 profile URL.
    pub also_known_as: Vec<String>,
    /// The keys that still verify.
    pub verification_method: Vec<DidVerificationMethod>,
    /// The ids of those keys: each may sign credentials (proof purpose
    /// `assertionMethod`).
    pub assertion_method: Vec<String>,
}

/// A DID document as the API shows one.
pub fn did_document_example() -> Value {
    let did = "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11";
    let method = format!("{did}#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b");
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": ["https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11"],
        "verificationMethod": [{
            "id": method,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": "z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
        }],
        "assertionMethod": [method]
    })
}

/// Algorithm of a signing key.
#[derive(ToSchema)]
pub enum KeyAlgorithmName {
    /// Ed25519, for `eddsa-rdfc-2022` Data Integrity proofs and EdDSA
    /// VC-JWTs.
    Ed25519,
    /// RSA (2048 bits) with SHA-256, for OB 2.0 signed assertions and RS256
    /// VC-JWTs.
    #[serde(rename = "RS256")]
    Rs256,
}

/// Status of a signing key.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatusName {
    /// Signs new credentials (one per issuer) and verifies.
    Active,
    /// Replaced by a rotation: signs nothing new, still verifies what it
    /// signed.
    Retired,
    /// Verifies nothing any more: credentials it signed fail verification.
    Revoked,
}

/// One of an issuer's signing keys (the public half only: the private key
/// never leaves the server).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(signing_key_example()))]
pub struct SigningKey {
    /// The key's UUID (the `{key}` of the revoke route).
    #[schema(format = "uuid")]
    pub id: String,
    /// `<issuer did>#key-<id>`: what proofs made with it name.
    pub verification_method: String,
    /// The algorithm.
    pub algorithm: KeyAlgorithmName,
    /// Ed25519 keys: the public key, multibase (`z6Mk...`).
    pub public_key_multibase: Option<String>,
    /// RS256 keys: the public key, SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: Option<String>,
    /// RS256 keys: the URL of the key's OB 2.0 `CryptographicKey` document
    /// (what signed OB 2.0 assertions name as `creator`).
    pub cryptographic_key: Option<String>,
    /// The status now.
    pub status: KeyStatusName,
    /// When it was made (RFC 3339).
    #[schema(format = "date-time")]
    pub created_at: String,
    /// When a rotation retired it.
    #[schema(format = "date-time")]
    pub retired_at: Option<String>,
    /// When it was revoked.
    #[schema(format = "date-time")]
    pub revoked_at: Option<String>,
}

/// A signing key as the API shows one.
pub fn signing_key_example() -> Value {
    json!({
        "id": "7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
        "verificationMethod": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
        "algorithm": "Ed25519",
        "publicKeyMultibase": "z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
        "status": "active",
        "createdAt": "2025-01-15T09:00:00+00:00",
        "retiredAt": null,
        "revokedAt": null
    })
}

/// One public key as a JSON Web Key: an Ed25519 key as RFC 8037 `OKP`
/// (`crv`, `x`), an RSA key as RFC 7518 `RSA` (`n`, `e`).
#[derive(ToSchema)]
#[schema(example = json!({
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
    "alg": "EdDSA",
    "use": "sig"
}))]
pub struct Jwk {
    /// `OKP` (Ed25519) or `RSA`.
    pub kty: String,
    /// `OKP`: always `Ed25519`.
    pub crv: Option<String>,
    /// `OKP`: the 32 bytes of the public key, base64url without padding.
    pub x: Option<String>,
    /// `RSA`: the modulus, big-endian, base64url without padding.
    pub n: Option<String>,
    /// `RSA`: the public exponent (`AQAB`: 65537).
    pub e: Option<String>,
    /// The key's verification method (`<issuer did>#key-<id>`).
    pub kid: String,
    /// `EdDSA` (`OKP`) or `RS256` (`RSA`).
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub usage: String,
}

/// `GET /.well-known/jwks.json`: every key of every issuer that still
/// verifies (active and retired; never a revoked one).
#[derive(ToSchema)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// A check of a verification report.
#[derive(ToSchema)]
pub enum VerificationCheckName {
    /// The document is shaped as an OB 3.0 credential: the VC 2.0 context
    /// first, the types `VerifiableCredential` and `OpenBadgeCredential` (or
    /// `AchievementCredential`), an `issuer` and a `credentialSubject`.
    #[serde(rename = "schema")]
    Schema,
    /// The proof's key is known and not revoked (a `did:key` carries its
    /// key and always passes).
    #[serde(rename = "keyStatus")]
    KeyStatus,
    /// The proof's key is controlled by the credential's issuer: one of that
    /// issuer's keys for one of ours (by did:web or profile URL), the
    /// issuer's own did:key for a did:key issuer.
    #[serde(rename = "issuerMatch")]
    IssuerMatch,
    /// The `eddsa-rdfc-2022` signature verifies (or there is no proof).
    #[serde(rename = "proof")]
    Proof,
    /// Now is within `validFrom` and `validUntil` (and, for a VC-JWT, its
    /// `nbf` and `exp`).
    #[serde(rename = "validityWindow")]
    ValidityWindow,
    /// One of our credentials, not revoked or suspended.
    #[serde(rename = "status")]
    Status,
}

/// One check and its outcome.
#[derive(ToSchema)]
pub struct VerificationCheck {
    /// What was checked.
    pub check: VerificationCheckName,
    /// Whether it passed.
    pub passed: bool,
    /// What was found, in words.
    pub message: String,
}

/// Why a credential does not verify: the first failed check's code.
#[derive(ToSchema)]
#[allow(clippy::enum_variant_names)]
pub enum VerificationErrorCode {
    /// Not shaped as an OB 3.0 credential (the `schema` check).
    #[serde(rename = "INVALID_CREDENTIAL")]
    InvalidCredential,
    /// It has no proof (issued with `?sign=false`, or posted without one).
    #[serde(rename = "NO_PROOF")]
    NoProof,
    /// The proof's key has been revoked.
    #[serde(rename = "KEY_REVOKED")]
    KeyRevoked,
    /// The proof's key is not controlled by the credential's issuer (another
    /// issuer's key, or a stranger's did:key).
    #[serde(rename = "ISSUER_MISMATCH")]
    IssuerMismatch,
    /// The verification method is neither one of our keys nor a `did:key`.
    #[serde(rename = "UNKNOWN_KEY")]
    UnknownKey,
    /// The signature does not verify: the credential or its proof was
    /// changed after signing.
    #[serde(rename = "INVALID_SIGNATURE")]
    InvalidSignature,
    /// `validUntil` has passed.
    #[serde(rename = "EXPIRED")]
    Expired,
    /// `validFrom` is in the future, missing or not a date-time.
    #[serde(rename = "NOT_VALID_NOW")]
    NotValidNow,
    /// The issuer revoked it.
    #[serde(rename = "REVOKED")]
    Revoked,
    /// The issuer suspended it.
    #[serde(rename = "SUSPENDED")]
    Suspended,
    /// Its `id` is one of ours, but no such credential exists here.
    #[serde(rename = "UNKNOWN_CREDENTIAL")]
    UnknownCredential,
}

/// The outcome of verifying a credential. `isValid` is true when every
/// check passed; otherwise `errorCode` is the code of the first failure.
/// The other flags say what was found, whatever failed first (a credential
/// whose `validUntil` was edited has both `errorCode: INVALID_SIGNATURE` and
/// `isExpired: true`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(verification_report_example()))]
pub struct VerificationReport {
    /// The credential's `id`, when it has one.
    pub id: Option<String>,
    /// Whether every check passed.
    pub is_valid: bool,
    /// Whether the proof's signature verified with a key that still verifies.
    pub has_valid_signature: bool,
    /// Whether `validUntil` has passed.
    pub is_expired: bool,
    /// Whether the issuer revoked it (our credentials only).
    pub is_revoked: bool,
    /// The first failure, or `null` when valid.
    pub error_code: Option<VerificationErrorCode>,
    /// Every check made, in order.
    pub checks: Vec<VerificationCheck>,
    /// When the checks were made (RFC 3339).
    #[schema(format = "date-time")]
    pub verified_at: String,
}

/// A report on a valid credential.
pub fn verification_report_example() -> Value {
    json!({
        "id": "https://badges.example.org/v3/credentials/9a7e3c1d-2b4f-4e6a-8c0d-1f2e3a4b5c6d",
        "isValid": true,
        "hasValidSignature": true,
        "isExpired": false,
        "isRevoked": false,
        "errorCode": null,
        "checks": [
            {"check": "schema", "passed": true, "message": "an OB 3.0 credential (VC 2.0 context, types, issuer, subject)"},
            {"check": "keyStatus", "passed": true, "message": "key 7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b is active"},
            {"check": "issuerMatch", "passed": true, "message": "the key is controlled by the credential's issuer, did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11"},
            {"check": "proof", "passed": true, "message": "eddsa-rdfc-2022 signature verified"},
            {"check": "validityWindow", "passed": true, "message": "within validFrom and validUntil"},
            {"check": "status", "passed": true, "message": "not revoked or suspended"}
        ],
        "verifiedAt": "2025-02-01T10:30:00+00:00"
    })
}

/// `POST /verify`: an OB 3.0 credential (a JSON-LD `OpenBadgeCredential`
/// with its `proof`) as is, or wrapped as `{"credential": {...}}` (a
/// `credential` member that is an object is taken as the credential). Ours,
/// signed with an issuer key of this server, or another issuer's signed
/// with a `did:key`.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!(verify_request_example()))]
pub struct VerifyRequest(pub Value);

/// A credential to verify, wrapped.
pub fn verify_request_example() -> Value {
    let issuer = "https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11";
    json!({"credential": {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "https://badges.example.org/v3/credentials/9a7e3c1d-2b4f-4e6a-8c0d-1f2e3a4b5c6d",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Rust Basics",
        "issuer": {
            "id": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
            "type": ["Profile"],
            "name": "Example University",
            "url": "https://example.edu"
        },
        "validFrom": "2025-01-15T09:00:00+00:00",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "achievement": {
                "id": "https://badges.example.org/v3/achievements/5f1c9a2e-7d3b-4c8e-a1f0-2b6d9e4c7a13",
                "type": ["Achievement"],
                "name": "Rust Basics",
                "description": "Wrote and tested a small Rust program.",
                "criteria": {"narrative": "Write a program with tests that pass."},
                "creator": {"id": issuer, "type": ["Profile"]}
            }
        },
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2025-01-15T09:00:01Z",
            "verificationMethod": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKods5D2UAUL5n2Brbx"
        }
    }})
}

/// Option of `POST /issuers/{id}/keys/rotate`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RotateOptions {
    /// Which key to rotate: `Ed25519` (the default: Data Integrity proofs,
    /// EdDSA VC-JWTs) or `RS256` (OB 2.0 signed assertions, RS256 VC-JWTs).
    #[param(default = "Ed25519")]
    pub algorithm: Option<String>,
}
