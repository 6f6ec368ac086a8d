//! The OpenAPI types of the status lists: the signed list credential and a
//! list's counts.

use serde_json::Value;
use utoipa::ToSchema;

/// A signed W3C `BitstringStatusListCredential`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "https://badges.example.org/status-lists/5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f",
    "type": ["VerifiableCredential", "BitstringStatusListCredential"],
    "issuer": "did:web:badges.example.org:issuers:1f0c7a52-8d1e-4a3b-9b0c-2d4e6f8a0b1c",
    "validFrom": "2025-02-01T10:30:00Z",
    "credentialSubject": {
        "id": "https://badges.example.org/status-lists/5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    },
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "verificationMethod": "did:web:badges.example.org:issuers:1f0c7a52-8d1e-4a3b-9b0c-2d4e6f8a0b1c#key-1",
        "created": "2025-02-01T10:30:00Z",
        "proofValue": "z58DAdFfa9SkqZMVPxAQp...jQCrfFPP2oumHKtz"
    }
}))]
pub struct StatusListCredential {
    /// The list's URL.
    pub id: String,
    /// `VerifiableCredential`, `BitstringStatusListCredential`.
    pub r#type: Vec<String>,
    /// The issuer's `did:web`.
    pub issuer: String,
    /// When this rendering was signed.
    #[schema(format = "date-time")]
    pub valid_from: String,
    /// `{id, type: BitstringStatusList, statusPurpose, encodedList}`: the bits, GZIP-compressed and
    /// multibase base64url-encoded; bit 0 is the most significant bit of the first byte.
    #[schema(value_type = Object)]
    pub credential_subject: Value,
    /// The Data Integrity proof (`eddsa-rdfc-2022`).
    #[schema(value_type = Object)]
    pub proof: Value,
}

/// A status list's size and counts.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "totalEntries": 131072,
    "usedEntries": 1200,
    "availableEntries": 129872,
    "utilizationPercent": 0.92,
    "id": "5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f",
    "issuer": "1f0c7a52-8d1e-4a3b-9b0c-2d4e6f8a0b1c",
    "capacity": 131072,
    "allocated": 1200,
    "revoked": 3,
    "suspended": 1,
    "revocationList": "https://badges.example.org/status-lists/5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f",
    "suspensionList": "https://badges.example.org/status-lists/5b0e8f0a-6a5e-4c1b-9a51-7f7c1c2d3e4f/suspension",
    "createdAt": "2025-02-01T10:30:00+00:00"
}))]
pub struct StatusListReport {
    /// The previous server's name of `capacity`.
    pub total_entries: u32,
    /// The previous server's name of `allocated`.
    pub used_entries: u32,
    /// Bits not yet handed out (`capacity - allocated`).
    pub available_entries: u32,
    /// `allocated` as a percentage of `capacity`, two decimals.
    pub utilization_percent: f64,
    /// The list's UUID.
    #[schema(format = "uuid")]
    pub id: String,
    /// Its issuer's UUID.
    #[schema(format = "uuid")]
    pub issuer: String,
    /// Bits in the list.
    pub capacity: u32,
    /// Bits handed out: to credentials, or reserved for the next ones by a
    /// running server (a block of at most a few dozen per issuer).
    pub allocated: u32,
    /// Credentials revoked.
    pub revoked: u64,
    /// Credentials suspended.
    pub suspended: u64,
    /// URL of the revocation list credential.
    pub revocation_list: String,
    /// URL of the suspension list credential.
    pub suspension_list: String,
    /// When the list was made.
    #[schema(format = "date-time")]
    pub created_at: String,
    /// Only in the answer of `POST /status-lists`: the `purpose` asked for.
    pub purpose: Option<String>,
    /// Only in the answer of `POST /status-lists`: the list credential's URL for `purpose`.
    pub status_list_credential: Option<String>,
}

/// The body of `POST /status-lists`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"issuer": "https://badges.example.org/v3/issuers/1f0c7a52-8d1e-4a3b-9b0c-2d4e6f8a0b1c",
    "purpose": "revocation"}))]
pub struct StatusListRequest {
    /// The issuer: its id URL, `urn:uuid:<UUID>` or UUID (`issuerId` also accepted).
    pub issuer: String,
    /// `revocation` (default) or `suspension`.
    pub purpose: Option<String>,
}
