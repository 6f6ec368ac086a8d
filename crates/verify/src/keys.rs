//! Public keys of our issuers, the parties proofs are bound to, and the
//! signature check of a VC-JWT.

use openbadges_credentials::jws::CompactJws;
use openbadges_credentials::{RsaPublicKey, VerifyingKey};
use openbadges_domain::documents::{Reference, Urls};
use openbadges_domain::{DomainError, IssuerId, KeyAlgorithm, SigningKey};
use serde_json::{json, Value};

/// A public key of one of our issuers.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// An Ed25519 key (Data Integrity proofs, EdDSA JWS).
    Ed25519(VerifyingKey),
    /// An RSA key (RS256 JWS).
    Rsa(RsaPublicKey),
}

impl PublicKey {
    /// The public half of a stored key: multibase for Ed25519, SPKI PEM for
    /// RSA.
    pub fn of(key: &SigningKey) -> Result<Self, DomainError> {
        let parsed = match key.algorithm {
            KeyAlgorithm::Ed25519 => {
                VerifyingKey::from_multibase(&key.public_key).map(Self::Ed25519)
            }
            KeyAlgorithm::Rs256 => RsaPublicKey::from_pem(&key.public_key).map(Self::Rsa),
        };
        parsed.map_err(|e| DomainError::Internal(format!("stored public key of {}: {e}", key.id)))
    }

    /// The key as a JSON Web Key (`kty`, and `crv`/`x` or `n`/`e`), without
    /// `kid`, `alg` or `use`.
    pub fn jwk(&self) -> Value {
        match self {
            Self::Ed25519(key) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    key.to_bytes(),
                ),
            }),
            Self::Rsa(key) => key.jwk(),
        }
    }

    /// The JWS `alg` the key signs with: `EdDSA` or `RS256`.
    pub fn jws_alg(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => "EdDSA",
            Self::Rsa(_) => openbadges_credentials::jws::RS256,
        }
    }
}

/// The payload of a VC-JWT signed by `public`, if its signature verifies
/// and its `alg` is the key's (EdDSA or RS256; no other, `none` included).
/// The validity window is left to the caller, which checks it on the
/// credential itself and on the JWT's `nbf` and `exp`, for both algorithms
/// alike (the RS256 path does not go through `jsonwebtoken`).
pub fn verified_jwt_payload(token: &str, public: &PublicKey) -> Option<Value> {
    match public {
        PublicKey::Ed25519(key) => {
            let x = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                key.to_bytes(),
            );
            let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
            validation.validate_exp = false;
            validation.required_spec_claims.clear();
            let key = jsonwebtoken::DecodingKey::from_ed_components(&x).ok()?;
            jsonwebtoken::decode::<Value>(token, &key, &validation)
                .ok()
                .map(|d| d.claims)
        }
        PublicKey::Rsa(key) => {
            let jws = CompactJws::parse(token).ok()?;
            jws.verify_rs256(key).ok()?;
            jws.payload_json().ok()
        }
    }
}

/// A party a proof is bound to: a credential's issuer, or the controller of
/// the key that made the proof. The issuer binding is that both are the
/// same party ([`controller_matches`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    /// One of our issuers: named by its did:web or a URL of its profile, or
    /// the owner of one of our stored keys.
    Ours(IssuerId),
    /// Anyone else, by identifier: a did:key issuer, or the DID of a
    /// verification method that is not one of our keys.
    Other(String),
}

impl Party {
    /// The issuer a credential's `issuer` names (a string or an object's
    /// `id`): one of ours by did:web or profile URL (under `BASE_URL`
    /// followed by `/`), anyone else as written.
    pub fn issuer_of(urls: &Urls, document: &Value) -> Option<Self> {
        let issuer = document.get("issuer")?;
        let raw = issuer.as_str().or_else(|| issuer.get("id")?.as_str())?;
        let ours = if raw.starts_with("did:") {
            urls.issuer_of_did(raw)
        } else if raw.starts_with(&format!("{}/", urls.base())) {
            urls.reference(raw, Reference::Issuer)
                .ok()
                .map(IssuerId::from)
        } else {
            None
        };
        Some(ours.map_or_else(|| Self::Other(raw.to_owned()), Self::Ours))
    }

    /// The controller of verification method `method`: the issuer owning
    /// it when it is one of our stored keys (`owner`), else the DID it is
    /// a fragment of (for a did:key, the did:key itself).
    pub fn controller_of(method: &str, owner: Option<IssuerId>) -> Self {
        owner.map_or_else(
            || {
                Self::Other(
                    method
                        .split_once('#')
                        .map_or(method, |(did, _)| did)
                        .to_owned(),
                )
            },
            Self::Ours,
        )
    }

    /// How a report names the party: our issuers by their did:web (the
    /// controller of their keys).
    pub(crate) fn name(&self, urls: &Urls) -> String {
        match self {
            Self::Ours(id) => urls.issuer_did(*id),
            Self::Other(id) => id.clone(),
        }
    }
}

/// The issuer binding of every proof: it counts only if its key is
/// controlled by the credential's issuer. A did:web issuer of ours: one of
/// that issuer's stored keys (whose method's DID is the issuer's); a
/// did:key issuer: exactly that did:key; our profile URLs: that issuer's
/// keys; a credential naming no issuer: no key. Otherwise anyone could sign
/// with a fresh did:key of their own and claim one of our issuers.
pub fn controller_matches(issuer: Option<&Party>, controller: &Party) -> bool {
    issuer == Some(controller)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openbadges_credentials::{Ed25519KeyPair, RsaKeyPair};
    use openbadges_domain::documents;
    use serde_json::Map;

    /// The issuer binding on its own: who may sign for which issuer.
    #[test]
    fn only_the_issuers_own_keys_sign_for_it() {
        let urls = documents::Urls::new("http://localhost:3000/ob").unwrap();
        let ours = IssuerId::generate();
        let did = urls.issuer_did(ours);
        let stranger = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        let issuer = |id: &str| Party::issuer_of(&urls, &json!({"issuer": {"id": id}}));
        let ours_by_key = Party::controller_of(&format!("{did}#key-1"), Some(ours));
        let strangers = Party::controller_of(&format!("{stranger}#z6Mk"), None);

        for named in [
            did.clone(),
            urls.issuer(documents::Version::V3, ours),
            urls.issuer(documents::Version::V2, ours),
        ] {
            assert_eq!(issuer(&named), Some(Party::Ours(ours)), "{named}");
            assert!(controller_matches(issuer(&named).as_ref(), &ours_by_key));
            assert!(!controller_matches(issuer(&named).as_ref(), &strangers));
        }
        // Another of our issuers' keys, and our keys for someone else.
        let other = Party::controller_of("x#key-2", Some(IssuerId::generate()));
        assert!(!controller_matches(issuer(&did).as_ref(), &other));
        assert!(!controller_matches(issuer(stranger).as_ref(), &ours_by_key));
        // A did:key issuer signs for itself only.
        assert!(controller_matches(issuer(stranger).as_ref(), &strangers));
        // Our issuer's id on another host, or in a form that is no URL of
        // ours, is someone else.
        for elsewhere in [
            did.replace("localhost", "evil"),
            format!("urn:uuid:{ours}"),
            format!("http://localhost:3000/obx/v3/issuers/{ours}"),
        ] {
            assert_eq!(
                issuer(&elsewhere),
                Some(Party::Other(elsewhere.clone())),
                "{elsewhere}"
            );
        }
        // No issuer: nothing matches.
        assert_eq!(Party::issuer_of(&urls, &json!({})), None);
        assert!(!controller_matches(None, &strangers));
    }

    #[test]
    fn rs256_jwts_verify_only_with_their_key_and_algorithm() {
        let pair = RsaKeyPair::generate(2048).unwrap();
        let mut header = Map::new();
        header.insert("typ".to_owned(), json!("JWT"));
        let claims = openbadges_domain::documents::jwt_claims(
            &json!({"id": "urn:uuid:1", "issuer": "did:web:x"}),
        );
        let token =
            openbadges_credentials::jws::sign_rs256(header, claims.to_string().as_bytes(), &pair)
                .unwrap();
        let public = PublicKey::Rsa(pair.public_key().clone());
        assert_eq!(verified_jwt_payload(&token, &public), Some(claims));
        let other = PublicKey::Rsa(RsaKeyPair::generate(2048).unwrap().public_key().clone());
        assert_eq!(verified_jwt_payload(&token, &other), None);
        let ed25519 = PublicKey::Ed25519(Ed25519KeyPair::from_seed(&[3; 32]).verifying_key());
        assert_eq!(verified_jwt_payload(&token, &ed25519), None);
        assert_eq!(public.jwk()["kty"], "RSA");
        assert_eq!(public.jws_alg(), "RS256");
    }
}
