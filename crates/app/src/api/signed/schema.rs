//! The OpenAPI types of OB 2.0 signed badges: an issuer's RSA key as a
//! `CryptographicKey` and its `RevocationList`.

use serde_json::Value;
use utoipa::ToSchema;

/// `GET /issuers/{id}/keys/{key}`: an issuer's RSA key as an OB 2.0
/// `CryptographicKey`, linked both ways with the issuer's OB 2.0 profile
/// (`owner` here, `publicKey` there).
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": "https://w3id.org/openbadges/v2",
    "type": "CryptographicKey",
    "id": "https://badges.example.org/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11/keys/3d1e5f7a-9b2c-4d6e-8f0a-1b3c5d7e9f2a",
    "owner": "https://badges.example.org/v2/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
    "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA...IDAQAB\n-----END PUBLIC KEY-----\n"
}))]
pub struct CryptographicKeyDocument(pub Value);

/// `GET /issuers/{id}/revocation-list`: the issuer's OB 2.0
/// `RevocationList`: every revoked award by its `/v2` assertion URL, with
/// its reason when one was given.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": "https://w3id.org/openbadges/v2",
    "type": "RevocationList",
    "id": "https://badges.example.org/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11/revocation-list",
    "issuer": "https://badges.example.org/v2/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
    "revokedAssertions": [{
        "id": "https://badges.example.org/v2/credentials/9a7e3c1d-2b4f-4e6a-8c0d-1f2e3a4b5c6d",
        "revocationReason": "Awarded in error"
    }]
}))]
pub struct RevocationListDocument(pub Value);
