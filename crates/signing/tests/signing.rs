//! The signer over the in-memory store, with no HTTP: keys made once on
//! first use, proofs and VC-JWTs that the verification library accepts,
//! and a key sealed under another key encryption key refused before
//! anything is signed.

use std::sync::Arc;

use openbadges_credentials::KeyVault;
use openbadges_domain::documents::{ob3, Urls};
use openbadges_domain::ports::{CredentialSigner, Store};
use openbadges_domain::testkit::{sample_assertion, sample_badge_class, sample_issuer};
use openbadges_domain::{DomainError, Issuer, KeyAlgorithm};
use openbadges_memory_store::MemoryStore;
use openbadges_signing::{JwtAlgorithm, Signing};
use openbadges_verify::Verifier;
use serde_json::Value;

const KEY_ENCRYPTION_KEY: [u8; 32] = [7; 32];

/// A store with one issuer, its badge class and one award, the award's
/// unsigned OB 3.0 credential, and a signer over the store.
struct Fixture {
    store: Arc<dyn Store>,
    urls: Urls,
    issuer: Issuer,
    credential: Value,
    signing: Arc<Signing>,
}

impl Fixture {
    async fn new() -> Self {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let urls = Urls::new("https://badges.example.org").expect("a base URL");
        let issuer = sample_issuer(None);
        store.issuers().create(&issuer).await.expect("issuer");
        let badge = sample_badge_class(issuer.id);
        store.badge_classes().create(&badge).await.expect("badge");
        let award = sample_assertion(&badge, "ada@example.org");
        store.assertions().create(&award).await.expect("award");
        let credential = ob3::credential(&award, &badge, &issuer, &urls);
        let signing = Arc::new(signer(&store, &urls, KEY_ENCRYPTION_KEY));
        Self {
            store,
            urls,
            issuer,
            credential,
            signing,
        }
    }
}

fn signer(store: &Arc<dyn Store>, urls: &Urls, key_encryption_key: [u8; 32]) -> Signing {
    Signing::new(
        Arc::clone(store),
        KeyVault::new(&key_encryption_key),
        urls.clone(),
    )
    .expect("the bundled contexts load")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_uses_make_one_key() {
    let fixture = Fixture::new().await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (signing, issuer) = (Arc::clone(&fixture.signing), fixture.issuer.clone());
            tokio::spawn(async move { signing.key_for(&issuer).await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("the task ends").expect("a key").id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every first use got the same key");
    let stored = fixture
        .store
        .signing_keys()
        .list_for_issuer(fixture.issuer.id)
        .await
        .expect("keys");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, ids[0]);
    assert_eq!(stored[0].algorithm, KeyAlgorithm::Ed25519);
}

#[tokio::test]
async fn proofs_and_jwts_verify_with_the_library() {
    let fixture = Fixture::new().await;
    let key = fixture
        .signing
        .key_for(&fixture.issuer)
        .await
        .expect("a key");
    let signed = fixture
        .signing
        .sign(&key, fixture.credential.clone())
        .await
        .expect("signed")
        .document()
        .expect("JSON");
    let verifier = Verifier::new(
        fixture.store.as_ref(),
        &fixture.urls,
        fixture.signing.integrity(),
    );
    let report = verifier.verify_json(&signed).await.expect("verified");
    assert!(report.is_valid(), "{}", report.to_json());

    for algorithm in [JwtAlgorithm::EdDsa, JwtAlgorithm::Rs256] {
        let jwt = fixture
            .signing
            .jwt(fixture.issuer.id, &signed, algorithm)
            .await
            .expect("a JWT");
        let report = verifier.verify_token(&jwt).await.expect("verified");
        assert!(report.is_valid(), "{algorithm:?}: {}", report.to_json());
    }

    let mut tampered = signed.clone();
    tampered["credentialSubject"]["achievement"]["name"] = "Something else".into();
    let report = verifier.verify_json(&tampered).await.expect("verified");
    assert_eq!(report.error_code, Some("INVALID_SIGNATURE"));
}

#[tokio::test]
async fn a_key_sealed_under_another_key_encryption_key_is_refused_before_signing() {
    let fixture = Fixture::new().await;
    fixture
        .signing
        .key_for(&fixture.issuer)
        .await
        .expect("a key");
    let other = signer(&fixture.store, &fixture.urls, [8; 32]);
    let refused = other.key_for(&fixture.issuer).await;
    assert!(
        matches!(refused, Err(DomainError::Internal(_))),
        "{refused:?}"
    );
}
