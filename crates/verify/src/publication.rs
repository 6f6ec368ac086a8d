//! What verifiers fetch to find our keys, as pure functions of the stored
//! keys: an issuer's `did:web` DID document and the JWKS entries.

use openbadges_domain::documents::{Urls, Version};
use openbadges_domain::{DomainError, IssuerId, KeyAlgorithm, SigningKey};
use serde_json::{json, Value};

use crate::keys::PublicKey;

/// The DID document of `issuer` given its stored keys: every key that
/// still verifies (a revoked one is left out), Ed25519 keys as `Multikey`,
/// RSA keys (what an RS256 VC-JWT's `kid` names) as `JsonWebKey`, all in
/// `assertionMethod`.
pub fn did_document(
    urls: &Urls,
    issuer: IssuerId,
    keys: &[SigningKey],
) -> Result<Value, DomainError> {
    let did = urls.issuer_did(issuer);
    let keys: Vec<&SigningKey> = keys.iter().filter(|k| k.status.verifies()).collect();
    let mut methods = Vec::with_capacity(keys.len());
    for key in &keys {
        let id = urls.verification_method(key);
        methods.push(match key.algorithm {
            KeyAlgorithm::Ed25519 => json!({
                "id": id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.public_key,
            }),
            KeyAlgorithm::Rs256 => {
                let mut jwk = PublicKey::of(key)?.jwk();
                jwk["alg"] = json!(openbadges_credentials::jws::RS256);
                json!({
                    "id": id,
                    "type": "JsonWebKey",
                    "controller": did,
                    "publicKeyJwk": jwk,
                })
            }
        });
    }
    let ids: Vec<String> = keys.iter().map(|k| urls.verification_method(k)).collect();
    let mut context = vec![
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ];
    if keys.iter().any(|k| k.algorithm == KeyAlgorithm::Rs256) {
        context.push("https://w3id.org/security/jwk/v1");
    }
    Ok(json!({
        "@context": context,
        "id": did,
        "alsoKnownAs": [urls.issuer(Version::V3, issuer)],
        "verificationMethod": methods,
        "assertionMethod": ids,
    }))
}

/// `key` as an entry of a JWKS: its JSON Web Key with `kid` (its
/// verification method), `alg` and `use`; `None` when the stored public
/// key cannot be read.
pub fn jwk(urls: &Urls, key: &SigningKey) -> Option<Value> {
    let public = PublicKey::of(key).ok()?;
    let mut jwk = public.jwk();
    jwk["kid"] = json!(urls.verification_method(key));
    jwk["alg"] = json!(public.jws_alg());
    jwk["use"] = json!("sig");
    Some(jwk)
}
