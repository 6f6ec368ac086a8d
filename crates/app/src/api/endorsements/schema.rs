//! OpenAPI types of endorsements: the bodies an endorsement is made with
//! and the documents it is served as.

use serde_json::{json, Value};
use utoipa::ToSchema;

/// `POST /.../{id}/endorsements`: `{"issuer", "endorsementComment"}` for
/// an endorsement issued here, or a complete signed
/// `EndorsementCredential` (bare, as `{"credential": ...}`, or a VC-JWT as
/// a JSON string or `{"endorsementJwt": ...}`) to verify and attach.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(endorsement_request_example()))]
pub struct EndorsementRequest {
    /// The endorsing issuer, one of this server's: its URL, `urn:uuid:<id>`
    /// or its UUID (or an object with that `id`). Alias `endorser`.
    pub issuer: String,
    /// What the endorser says (alias `comment`).
    pub endorsement_comment: Option<String>,
}

/// A valid body issuing an endorsement (also checked by the tests).
pub fn endorsement_request_example() -> Value {
    json!({
        "issuer": "https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
        "endorsementComment": "This course meets our standards for data literacy."
    })
}

/// An OB 3.0 `EndorsementCredential`, as signed: valid against
/// `ob_v3p0_endorsementcredential_schema.json`. One issued here has its
/// public URL as `id`, names the endorser by its `did:web`, the endorsed
/// document's v3 URL as `credentialSubject.id`, its bit in the endorser's
/// status list as `credentialStatus`, and an `eddsa-rdfc-2022` proof.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"],
    "id": "https://badges.example.org/endorsements/5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "type": ["VerifiableCredential", "EndorsementCredential"],
    "name": "Endorsement of Data Literacy by Example Guild",
    "issuer": {
        "id": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
        "type": ["Profile"],
        "name": "Example Guild",
        "url": "https://guild.example.org"
    },
    "validFrom": "2026-12-07T10:00:00Z",
    "credentialSubject": {
        "id": "https://badges.example.org/v3/achievements/7c6b5a49-3d2e-4f1a-9b8c-7d6e5f4a3b2c",
        "type": ["EndorsementSubject"],
        "endorsementComment": "This course meets our standards for data literacy."
    },
    "credentialSchema": [{
        "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json",
        "type": "1EdTechJsonSchemaValidator2019"
    }],
    "credentialStatus": {
        "id": "https://badges.example.org/status-lists/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b#3",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "3",
        "statusListCredential": "https://badges.example.org/status-lists/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
    },
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-12-07T10:00:00Z",
        "verificationMethod": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
        "proofPurpose": "assertionMethod",
        "proofValue": "z5C5b..."
    }
}))]
pub struct EndorsementCredential(pub Value);

/// 422 of an endorsement signed elsewhere that does not verify: nothing
/// was stored; `report` is what `POST /verify` would answer.
#[derive(ToSchema)]
#[schema(example = json!({
    "error": "Unprocessable Entity",
    "message": "the endorsement credential does not verify (INVALID_SIGNATURE)",
    "report": {
        "id": "urn:uuid:2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
        "isValid": false,
        "hasValidSignature": false,
        "isExpired": false,
        "isRevoked": false,
        "errorCode": "INVALID_SIGNATURE",
        "checks": [{"check": "proof", "passed": false, "message": "the signature does not verify"}],
        "verifiedAt": "2026-12-07T10:00:00Z"
    }
}))]
pub struct NotVerified {
    /// `Unprocessable Entity`.
    pub error: String,
    /// Why, with the report's error code.
    pub message: String,
    /// The verification report.
    #[schema(value_type = Object)]
    pub report: Value,
}

/// `details` of a revoked endorsement.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokedEndorsementDetails {
    /// The endorsement's URL.
    pub id: String,
    /// The reason given when it was revoked.
    pub revocation_reason: Option<String>,
}

/// 410: the endorsement has been revoked.
#[derive(ToSchema)]
#[schema(example = json!({
    "error": "Endorsement has been revoked",
    "code": "ENDORSEMENT_REVOKED",
    "details": {
        "id": "https://badges.example.org/endorsements/5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "revocationReason": "Endorsed by mistake"
    }
}))]
pub struct RevokedEndorsement {
    /// Always `Endorsement has been revoked`.
    pub error: String,
    /// Always `ENDORSEMENT_REVOKED`.
    pub code: String,
    /// The endorsement and the reason.
    pub details: RevokedEndorsementDetails,
}

/// 200 of `POST /endorsements/{id}/revoke`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "https://badges.example.org/endorsements/5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "status": "revoked",
    "revokedAt": "2026-12-07T11:00:00+00:00",
    "revocationReason": "Endorsed by mistake"
}))]
pub struct EndorsementStatus {
    /// The endorsement's URL.
    pub id: String,
    /// Always `revoked`.
    pub status: String,
    /// When it was revoked (the first revocation's time).
    pub revoked_at: String,
    /// The reason given, if any.
    pub revocation_reason: Option<String>,
}
