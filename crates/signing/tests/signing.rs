//! The signer over the in-memory store, with no HTTP: keys made once on
//! first use, proofs and VC-JWTs that the verification library accepts,
//! a key sealed under another key encryption key refused before anything
//! is signed, and an award signed anew with the key asked for.

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

/// `service::sign_assertion` (`POST /credentials/{id}/sign`): an award
/// stored without a proof gets one that verifies; a key named must be an
/// active Ed25519 key of the award's issuer (a 400 naming `keyId`
/// otherwise); a revoked award is not signed again.
#[tokio::test]
async fn an_award_is_signed_anew_with_the_key_asked_for() {
    use openbadges_domain::access::Principal;
    use openbadges_domain::service::{self, Proofs, StatusChange};
    use openbadges_domain::{Role, SigningKeyId, UserId};

    let fixture = Fixture::new().await;
    let admin = Principal::session(UserId::generate(), Role::Admin);
    let award = fixture
        .store
        .assertions()
        .list(
            &Default::default(),
            openbadges_domain::PageRequest::new(1, 0).expect("a page"),
        )
        .await
        .expect("awards")
        .items
        .remove(0);
    assert!(award.issued_credential.is_none(), "stored unsigned");
    let proofs = Proofs {
        signer: fixture.signing.as_ref(),
        urls: &fixture.urls,
    };
    let signed = service::sign_assertion(fixture.store.as_ref(), &admin, proofs, award.id, None)
        .await
        .expect("signed");
    let document = signed
        .issued_credential
        .as_ref()
        .expect("a proof now")
        .document()
        .expect("JSON");
    let verifier = Verifier::new(
        fixture.store.as_ref(),
        &fixture.urls,
        fixture.signing.integrity(),
    );
    let report = verifier.verify_json(&document).await.expect("verified");
    assert!(report.is_valid(), "{}", report.to_json());
    let stored = fixture
        .store
        .assertions()
        .get(award.id)
        .await
        .expect("award");
    assert_eq!(stored.issued_credential, signed.issued_credential, "stored");

    let active = fixture
        .signing
        .key_for(&fixture.issuer)
        .await
        .expect("the active key");
    let again = service::sign_assertion(
        fixture.store.as_ref(),
        &admin,
        proofs,
        award.id,
        Some(active.id),
    )
    .await
    .expect("signed with the key named");
    assert!(again.issued_credential.is_some());

    let rsa = fixture
        .signing
        .active_key_of(fixture.issuer.id, KeyAlgorithm::Rs256)
        .await
        .expect("an RSA key");
    for key in [rsa.id, SigningKeyId::generate()] {
        match service::sign_assertion(fixture.store.as_ref(), &admin, proofs, award.id, Some(key))
            .await
        {
            Err(DomainError::Validation(fields)) => assert_eq!(fields[0].field, "keyId"),
            other => panic!("key {key}: expected a 400 naming keyId, got {other:?}"),
        }
    }

    service::change_status(
        fixture.store.as_ref(),
        &admin,
        award.id,
        StatusChange::Revoke(None),
    )
    .await
    .expect("revoked");
    assert!(matches!(
        service::sign_assertion(fixture.store.as_ref(), &admin, proofs, award.id, None).await,
        Err(DomainError::Conflict(_))
    ));
}

/// A service's memory of active keys, as the server's document cache is
/// one: keeps what it is given and counts the keys made.
#[derive(Default)]
struct Remembered {
    keys: std::sync::Mutex<Vec<openbadges_domain::SigningKey>>,
    made: std::sync::atomic::AtomicUsize,
}

impl openbadges_signing::ActiveKeys for Remembered {
    fn get(
        &self,
        issuer: openbadges_domain::IssuerId,
        algorithm: KeyAlgorithm,
    ) -> Option<openbadges_domain::SigningKey> {
        let keys = self.keys.lock().expect("not poisoned");
        keys.iter()
            .find(|key| key.issuer_id == issuer && key.algorithm == algorithm)
            .cloned()
    }

    fn ticket(&self) -> Option<u64> {
        Some(0)
    }

    fn keep(&self, _ticket: u64, key: openbadges_domain::SigningKey) {
        self.keys.lock().expect("not poisoned").push(key);
    }

    fn key_made(&self) {
        self.made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_service_remembers_active_keys_and_hears_of_each_key_made() {
    let fixture = Fixture::new().await;
    let remembered = Arc::new(Remembered::default());
    fixture
        .signing
        .remember_active_keys(Arc::clone(&remembered) as _);
    let made = fixture
        .signing
        .key_for(&fixture.issuer)
        .await
        .expect("made");
    assert_eq!(remembered.made.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Read from the store once, then kept.
    for _ in 0..3 {
        let key = fixture
            .signing
            .key_for(&fixture.issuer)
            .await
            .expect("a key");
        assert_eq!(key.id, made.id);
    }
    let kept: Vec<_> = remembered
        .keys
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|key| key.id)
        .collect();
    assert_eq!(kept, vec![made.id], "kept once, then answered from memory");
    assert_eq!(
        remembered.made.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "using a key makes none"
    );
}
