//! Keys of issuers that are not this store's, named by `did:web`: the
//! verifier asks a [`DidResolver`] (a port: fetching is the caller's
//! business, this crate does no I/O) for the DID document, and takes the
//! key from it.

use async_trait::async_trait;
use openbadges_credentials::VerifyingKey;
use serde_json::Value;

use crate::keys::PublicKey;

/// Resolves a `did:web` that is not one of this store's issuers to its
/// DID document. Implemented by the server with its guarded HTTP client
/// and a cache; without one, such keys are unknown.
#[async_trait]
pub trait DidResolver: Send + Sync {
    /// The DID document of `did`, or why it could not be had (shown in the
    /// report).
    async fn resolve(&self, did: &str) -> Result<Value, String>;
}

/// The public key of verification method `method` in the DID document of
/// `did`: listed under `verificationMethod` with that id (absolute, or
/// `#fragment` relative to the DID), controlled by `did`, and allowed to
/// sign credentials (in `assertionMethod`). Ed25519 keys only, as
/// `publicKeyMultibase` or an OKP `publicKeyJwk`.
pub fn key_in_document(did: &str, method: &str, document: &Value) -> Result<PublicKey, String> {
    if document.get("id").and_then(Value::as_str) != Some(did) {
        return Err(format!(
            "the DID document fetched for {did} is not about it"
        ));
    }
    let fragment = method.strip_prefix(did).unwrap_or(method);
    let names = |id: &str| id == method || id == fragment;
    let entry = document
        .get("verificationMethod")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|entry| entry.get("id").and_then(Value::as_str).is_some_and(names))
        .ok_or_else(|| format!("the DID document of {did} lists no key {method}"))?;
    let controller = entry.get("controller").and_then(Value::as_str);
    if controller.is_some_and(|controller| controller != did) {
        return Err(format!("key {method} is not controlled by {did}"));
    }
    let asserts = document
        .get("assertionMethod")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|listed| {
            listed.as_str().is_some_and(names)
                || listed.get("id").and_then(Value::as_str).is_some_and(names)
        });
    if !asserts {
        return Err(format!(
            "key {method} is not an assertionMethod of {did}: it may not sign credentials"
        ));
    }
    if let Some(multibase) = entry.get("publicKeyMultibase").and_then(Value::as_str) {
        return VerifyingKey::from_multibase(multibase)
            .map(PublicKey::Ed25519)
            .map_err(|e| format!("key {method}: {e}"));
    }
    let jwk = entry.get("publicKeyJwk");
    let okp = jwk.and_then(|jwk| jwk.get("kty")).and_then(Value::as_str) == Some("OKP")
        && jwk.and_then(|jwk| jwk.get("crv")).and_then(Value::as_str) == Some("Ed25519");
    match jwk.and_then(|jwk| jwk.get("x")).and_then(Value::as_str) {
        Some(x) if okp => {
            let bytes: [u8; 32] =
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, x)
                    .ok()
                    .and_then(|bytes| bytes.try_into().ok())
                    .ok_or_else(|| format!("key {method}: x is not a 32-byte Ed25519 key"))?;
            VerifyingKey::from_bytes(&bytes)
                .map(PublicKey::Ed25519)
                .map_err(|e| format!("key {method}: {e}"))
        }
        _ => Err(format!(
            "key {method} is not an Ed25519 key (publicKeyMultibase, or an OKP publicKeyJwk)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openbadges_credentials::Ed25519KeyPair;
    use serde_json::json;

    const DID: &str = "did:web:badges.example.org:issuers:1";

    fn document(public: &str) -> Value {
        let method = format!("{DID}#key-1");
        json!({
            "id": DID,
            "verificationMethod": [{
                "id": method, "type": "Multikey", "controller": DID,
                "publicKeyMultibase": public,
            }],
            "assertionMethod": [method],
        })
    }

    #[test]
    fn the_key_is_taken_only_when_listed_controlled_and_asserting() {
        let pair = Ed25519KeyPair::from_seed(&[7; 32]);
        let public = pair.verifying_key().to_multibase();
        let method = format!("{DID}#key-1");
        let found = key_in_document(DID, &method, &document(&public)).expect("the key");
        assert!(matches!(found, PublicKey::Ed25519(key) if key == pair.verifying_key()));

        let mut relative = document(&public);
        relative["verificationMethod"][0]["id"] = json!("#key-1");
        relative["assertionMethod"] = json!(["#key-1"]);
        assert!(key_in_document(DID, &method, &relative).is_ok());

        let other = key_in_document("did:web:evil.example", &method, &document(&public));
        assert!(other
            .expect_err("not its document")
            .contains("not about it"));
        let missing = key_in_document(DID, &format!("{DID}#key-2"), &document(&public));
        assert!(missing.expect_err("no such key").contains("lists no key"));

        let mut foreign = document(&public);
        foreign["verificationMethod"][0]["controller"] = json!("did:web:evil.example");
        assert!(key_in_document(DID, &method, &foreign)
            .expect_err("foreign")
            .contains("not controlled"));
        let mut authentication_only = document(&public);
        authentication_only["assertionMethod"] = json!([]);
        assert!(key_in_document(DID, &method, &authentication_only)
            .expect_err("not asserting")
            .contains("assertionMethod"));

        let mut jwk = document(&public);
        jwk["verificationMethod"][0] = json!({
            "id": method, "type": "JsonWebKey", "controller": DID,
            "publicKeyJwk": PublicKey::Ed25519(pair.verifying_key()).jwk(),
        });
        assert!(key_in_document(DID, &method, &jwk).is_ok());
        jwk["verificationMethod"][0]["publicKeyJwk"] = json!({"kty": "RSA", "n": "x", "e": "AQAB"});
        assert!(key_in_document(DID, &method, &jwk)
            .expect_err("rsa")
            .contains("not an Ed25519 key"));
    }
}
