//! The OpenAPI type of a public key.

use serde_json::Value;
use utoipa::ToSchema;

/// One issuer's key, as `GET /public-keys` lists it.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
    "kid": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
    "alg": "EdDSA",
    "algorithm": "Ed25519",
    "issuer": "https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
    "issuerId": "0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
    "status": "active",
    "createdAt": "2025-02-01T10:30:00+00:00",
    "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        "kid": "did:web:badges.example.org:issuers:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11#key-7c9e2b4a-5d1f-4e3a-8b6c-0a1d2e3f4a5b",
        "alg": "EdDSA", "use": "sig"}
}))]
pub struct PublicKey {
    /// The key's UUID.
    #[schema(format = "uuid")]
    pub id: String,
    /// Its verification method (`<issuer did>#key-<id>`): the `kid` of its JWK and of VC-JWTs.
    pub kid: String,
    /// The JWS algorithm: `EdDSA` or `RS256`.
    pub alg: String,
    /// `Ed25519` or `RS256`.
    pub algorithm: String,
    /// The issuer's id URL.
    pub issuer: String,
    /// The issuer's UUID.
    #[schema(format = "uuid")]
    pub issuer_id: String,
    /// `active`, `retired` or `revoked`.
    pub status: String,
    /// When it was made.
    #[schema(format = "date-time")]
    pub created_at: String,
    /// The JSON Web Key (RFC 8037 `OKP` or RFC 7518 `RSA`).
    #[schema(value_type = Object)]
    pub public_key_jwk: Value,
}
