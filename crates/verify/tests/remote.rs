//! Credentials of another server's issuers, named by did:web: verified
//! with the key from the issuer's DID document, which a resolver (the
//! server's guarded HTTP client, here a table) fetches. Without a resolver
//! the key is unknown, as before.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use openbadges_credentials::{DataIntegrity, Ed25519KeyPair};
use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore};
use openbadges_domain::documents::{ob3, Urls};
use openbadges_domain::testkit::{
    sample_assertion, sample_badge_class, sample_issuer, sample_signing_key,
};
use openbadges_domain::KeyAlgorithm;
use openbadges_verify::{publication, DidResolver, Verifier};
use serde_json::Value;

/// DID documents by DID.
struct Table(HashMap<String, Value>);

#[async_trait]
impl DidResolver for Table {
    async fn resolve(&self, did: &str) -> Result<Value, String> {
        self.0
            .get(did)
            .cloned()
            .ok_or_else(|| "404 Not Found".to_owned())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_servers_did_web_issuer_verifies_through_its_did_document() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    // This server: an empty store at its own base URL.
    let store =
        SqliteStore::open(&SqliteOptions::new(dir.path().join("here.sqlite"))).expect("open");
    store.migrate().expect("migrate");
    let here = Urls::new("https://host.example").expect("base URL");
    // The other server's issuer, key and award (never stored here).
    let there = Urls::new("https://issuer.example:8443").expect("base URL");
    let issuer = sample_issuer(None);
    let badge = sample_badge_class(issuer.id);
    let award = sample_assertion(&badge, "ada@example.org");
    let pair = Ed25519KeyPair::generate().expect("a key");
    let key = openbadges_domain::SigningKey {
        public_key: pair.public_key_multibase(),
        ..sample_signing_key(issuer.id, KeyAlgorithm::Ed25519)
    };
    let integrity = Arc::new(DataIntegrity::new().expect("contexts"));
    let credential = integrity
        .sign(
            &ob3::credential(&award, &badge, &issuer, &there),
            &pair,
            &there.verification_method(&key),
            "2024-05-01T12:00:00Z",
        )
        .expect("sign");
    let did = there.issuer_did(issuer.id);
    assert!(did.starts_with("did:web:issuer.example%3A8443:"), "{did}");
    let document =
        publication::did_document(&there, issuer.id, std::slice::from_ref(&key)).expect("doc");
    let resolver = Table(HashMap::from([(did.clone(), document)]));

    let report = Verifier::new(&store, &here, &integrity)
        .with_resolver(&resolver)
        .verify_json(&credential)
        .await
        .expect("verify");
    assert!(report.is_valid(), "{report:#?}");
    assert!(report.has_valid_signature, "{report:#?}");

    // Without a resolver: the key is unknown, as it always was.
    let report = Verifier::new(&store, &here, &integrity)
        .verify_json(&credential)
        .await
        .expect("verify");
    assert_eq!(report.error_code, Some("UNKNOWN_KEY"), "{report:#?}");

    // The DID document cannot be had: unknown key, saying why.
    let nobody = Table(HashMap::new());
    let report = Verifier::new(&store, &here, &integrity)
        .with_resolver(&nobody)
        .verify_json(&credential)
        .await
        .expect("verify");
    assert_eq!(report.error_code, Some("UNKNOWN_KEY"), "{report:#?}");
    assert!(
        format!("{report:?}").contains("404 Not Found"),
        "{report:#?}"
    );

    // A document listing another key: the signature does not verify.
    let impostor = Ed25519KeyPair::generate().expect("a key");
    let swapped = openbadges_domain::SigningKey {
        public_key: impostor.public_key_multibase(),
        ..key.clone()
    };
    let resolver = Table(HashMap::from([(
        did.clone(),
        publication::did_document(&there, issuer.id, &[swapped]).expect("doc"),
    )]));
    let report = Verifier::new(&store, &here, &integrity)
        .with_resolver(&resolver)
        .verify_json(&credential)
        .await
        .expect("verify");
    assert_eq!(report.error_code, Some("INVALID_SIGNATURE"), "{report:#?}");

    // Another did:web issuer's key cannot sign for this one: the issuer
    // binding fails even though the other document lists the key.
    let other = sample_issuer(None);
    let other_key = openbadges_domain::SigningKey {
        public_key: pair.public_key_multibase(),
        ..sample_signing_key(other.id, KeyAlgorithm::Ed25519)
    };
    let forged = integrity
        .sign(
            &ob3::credential(&award, &badge, &issuer, &there),
            &pair,
            &there.verification_method(&other_key),
            "2024-05-01T12:00:00Z",
        )
        .expect("sign");
    let resolver = Table(HashMap::from([(
        there.issuer_did(other.id),
        publication::did_document(&there, other.id, &[other_key]).expect("doc"),
    )]));
    let report = Verifier::new(&store, &here, &integrity)
        .with_resolver(&resolver)
        .verify_json(&forged)
        .await
        .expect("verify");
    assert_eq!(report.error_code, Some("ISSUER_MISMATCH"), "{report:#?}");
}
