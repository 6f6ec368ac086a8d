//! The forgery cases of the server's end-to-end tests (tests/tests/forgery.rs),
//! run against the library directly over a SQLite store, with no HTTP: a
//! stranger's did:key signing for our issuer, a VC-JWT whose kid is a
//! stranger's, a VC-JWT outside its nbf and exp, and a revoked key. The
//! reports carry the same checks and error codes `POST /verify` answers.

use std::sync::Arc;

use openbadges_credentials::{did_key_verification_method, DataIntegrity, Ed25519KeyPair};
use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore};
use openbadges_domain::documents::{jwt_claims, ob3, Urls};
use openbadges_domain::ports::Store;
use openbadges_domain::testkit::{
    sample_assertion, sample_badge_class, sample_issuer, sample_signing_key,
};
use openbadges_domain::{Assertion, IssuedCredential, KeyAlgorithm, SigningKey, Timestamp};
use openbadges_verify::{ProofMemo, Report, Verifier};
use serde_json::{json, Value};
use tempfile::TempDir;

/// A migrated SQLite store with one issuer of ours, its badge, one award
/// (stored, active) and the issuer's Ed25519 key.
struct Fixture {
    store: SqliteStore,
    urls: Urls,
    integrity: Arc<DataIntegrity>,
    /// The award as an unsigned OB 3.0 credential (issuer = its did:web).
    credential: Value,
    /// The award as stored.
    award: Assertion,
    key: SigningKey,
    pair: Ed25519KeyPair,
    _dir: TempDir,
}

impl Fixture {
    async fn new() -> Self {
        let dir = TempDir::new().expect("temp dir");
        let store =
            SqliteStore::open(&SqliteOptions::new(dir.path().join("verify.sqlite"))).expect("open");
        store.migrate().expect("migrate");
        let urls = Urls::new("http://localhost:3000/ob").expect("a base URL");
        let issuer = sample_issuer(None);
        store.issuers().create(&issuer).await.expect("issuer");
        let badge = sample_badge_class(issuer.id);
        store.badge_classes().create(&badge).await.expect("badge");
        let award = sample_assertion(&badge, "ada@example.org");
        store.assertions().create(&award).await.expect("award");
        let pair = Ed25519KeyPair::generate().expect("a key");
        let key = SigningKey {
            public_key: pair.public_key_multibase(),
            ..sample_signing_key(issuer.id, KeyAlgorithm::Ed25519)
        };
        store.signing_keys().create(&key).await.expect("key");
        let credential = ob3::credential(&award, &badge, &issuer, &urls);
        Self {
            store,
            urls,
            integrity: Arc::new(DataIntegrity::new().expect("the bundled contexts load")),
            credential,
            award,
            key,
            pair,
            _dir: dir,
        }
    }

    fn verifier(&self) -> Verifier<'_> {
        Verifier::new(&self.store, &self.urls, &self.integrity)
    }

    /// The credential signed by `pair`, its proof naming `method`.
    fn signed(&self, pair: &Ed25519KeyPair, method: &str) -> Value {
        self.integrity
            .sign(&self.credential, pair, method, "2024-05-01T12:00:00Z")
            .expect("sign")
    }

    /// Revokes our issuer's key.
    async fn revoke_key(&self) {
        self.store
            .signing_keys()
            .revoke(self.key.id, Timestamp::now())
            .await
            .expect("revoke");
    }

    /// The credential signed by our issuer's key.
    fn ours(&self) -> Value {
        self.signed(&self.pair, &self.urls.verification_method(&self.key))
    }
}

/// PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410), as JWT libraries
/// take private keys.
fn pkcs8(key: &Ed25519KeyPair) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(key.seed().as_slice());
    der
}

/// A VC-JWT (EdDSA) of `claims` signed by `key`, `kid` naming `kid`.
fn jwt(claims: &Value, key: &Ed25519KeyPair, kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some("JWT".to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&pkcs8(key)),
    )
    .expect("sign a JWT")
}

/// The names of the checks that failed.
fn failed(report: &Report) -> Vec<&'static str> {
    report
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name)
        .collect()
}

/// The message of check `name`.
fn message<'r>(report: &'r Report, name: &str) -> &'r str {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.message.as_str())
        .unwrap_or_else(|| panic!("no {name} check in {report:#?}"))
}

#[track_caller]
fn assert_valid(report: &Report) {
    assert!(report.is_valid(), "{report:#?}");
    assert!(report.has_valid_signature, "{report:#?}");
    assert!(failed(report).is_empty(), "{report:#?}");
}

fn now_seconds() -> i64 {
    Timestamp::now().as_datetime().timestamp()
}

#[tokio::test(flavor = "multi_thread")]
async fn our_credential_verifies_as_json_as_a_vc_jwt_and_by_id() {
    let fixture = Fixture::new().await;
    let verifier = fixture.verifier();
    let report = verifier.verify_json(&fixture.ours()).await.expect("verify");
    assert_valid(&report);
    assert_eq!(report.id.as_deref(), fixture.credential["id"].as_str());
    let json = report.to_json();
    for field in [
        "id",
        "isValid",
        "hasValidSignature",
        "isExpired",
        "isRevoked",
        "errorCode",
        "checks",
        "verifiedAt",
    ] {
        assert!(json.get(field).is_some(), "{field} in {json:#}");
    }
    let method = fixture.urls.verification_method(&fixture.key);
    let token = jwt(&jwt_claims(&fixture.credential), &fixture.pair, &method);
    assert_valid(&verifier.verify_token(&token).await.expect("verify"));
}

/// A stranger's did:key signing our issuer's credential: the signature is
/// sound, the issuer binding is not.
#[tokio::test(flavor = "multi_thread")]
async fn a_strangers_did_key_cannot_sign_for_our_issuer() {
    let fixture = Fixture::new().await;
    let stranger = Ed25519KeyPair::generate().expect("a key");
    let method = did_key_verification_method(&stranger.verifying_key());
    let forged = fixture.signed(&stranger, &method);
    let report = fixture
        .verifier()
        .verify_json(&forged)
        .await
        .expect("verify");
    assert_eq!(report.error_code, Some("ISSUER_MISMATCH"), "{report:#?}");
    assert_eq!(failed(&report), ["issuerMatch"]);
    assert!(report.has_valid_signature);
    let why = message(&report, "issuerMatch");
    assert!(
        why.contains("Credential issuer must match the verification method controller")
            && why.contains(method.split('#').next().expect("a did"))
            && why.contains(&fixture.urls.issuer_did(fixture.key.issuer_id)),
        "{why}"
    );
}

/// A VC-JWT carrying our credential, `iss` our issuer, `kid` a stranger's.
#[tokio::test(flavor = "multi_thread")]
async fn a_vc_jwt_signed_by_a_stranger_fails_issuer_match() {
    let fixture = Fixture::new().await;
    let stranger = Ed25519KeyPair::generate().expect("a key");
    let kid = did_key_verification_method(&stranger.verifying_key());
    let token = jwt(&jwt_claims(&fixture.credential), &stranger, &kid);
    let report = fixture
        .verifier()
        .verify_token(&token)
        .await
        .expect("verify");
    assert_eq!(report.error_code, Some("ISSUER_MISMATCH"), "{report:#?}");
    assert_eq!(failed(&report), ["issuerMatch"]);
    assert!(message(&report, "jwtClaims").contains("match the credential"));
}

/// A VC-JWT's own nbf and exp bound it, whatever the credential says.
#[tokio::test(flavor = "multi_thread")]
async fn a_vc_jwt_is_refused_outside_its_nbf_and_exp() {
    let fixture = Fixture::new().await;
    let kid = fixture.urls.verification_method(&fixture.key);
    let verifier = fixture.verifier();
    let without = |field: &str| {
        let mut credential = fixture.credential.clone();
        credential.as_object_mut().expect("an object").remove(field);
        jwt_claims(&credential)
    };

    // Not valid before `nbf`, with no validFrom in the credential.
    let mut claims = without("validFrom");
    claims["nbf"] = json!(now_seconds() + 3600);
    let report = verifier
        .verify_token(&jwt(&claims, &fixture.pair, &kid))
        .await
        .expect("verify");
    assert_eq!(report.error_code, Some("NOT_VALID_NOW"), "{report:#?}");
    assert_eq!(failed(&report), ["validityWindow"]);
    assert!(message(&report, "validityWindow").contains("nbf"));

    // Expired by `exp`, though the credential has no validUntil.
    let mut claims = without("validUntil");
    claims["exp"] = json!(now_seconds() - 3600);
    let report = verifier
        .verify_token(&jwt(&claims, &fixture.pair, &kid))
        .await
        .expect("verify");
    assert_eq!(report.error_code, Some("EXPIRED"), "{report:#?}");
    assert!(report.is_expired);
    assert_eq!(failed(&report), ["validityWindow"]);
    assert!(message(&report, "validityWindow").contains("exp"));

    // Within both, it verifies.
    let mut claims = without("validUntil");
    claims["exp"] = json!(now_seconds() + 3600);
    assert_valid(
        &verifier
            .verify_token(&jwt(&claims, &fixture.pair, &kid))
            .await
            .expect("verify"),
    );
}

/// A revoked key verifies nothing: not the JSON credential it signed, not
/// its VC-JWT.
#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_key_verifies_nothing() {
    let fixture = Fixture::new().await;
    let signed = fixture.ours();
    let kid = fixture.urls.verification_method(&fixture.key);
    let token = jwt(&jwt_claims(&fixture.credential), &fixture.pair, &kid);
    fixture.revoke_key().await;
    let verifier = fixture.verifier();
    for report in [
        verifier.verify_json(&signed).await.expect("verify"),
        verifier.verify_token(&token).await.expect("verify"),
    ] {
        assert_eq!(report.error_code, Some("KEY_REVOKED"), "{report:#?}");
        assert!(!report.has_valid_signature);
        assert_eq!(
            message(&report, "proof"),
            "the signing key verifies nothing any more"
        );
    }
}

/// Stores `document` as the fixture's award's signed credential.
async fn store_text(fixture: &Fixture, document: &Value) {
    let mut award = fixture.award.clone();
    award.issued_credential = Some(IssuedCredential::new(document));
    fixture
        .store
        .assertions()
        .update(&award)
        .await
        .expect("store");
}

/// A stored credential whose proof was found valid is remembered by its
/// exact text and key: verified again, it is valid without its signature
/// being checked, but a changed text is checked afresh (and fails), and a
/// revoked key fails it whatever the memo holds.
#[tokio::test(flavor = "multi_thread")]
async fn a_remembered_proof_covers_only_the_same_text_with_a_key_that_verifies() {
    let fixture = Fixture::new().await;
    let memo = ProofMemo::new(16);
    let verifier = fixture.verifier().with_memo(&memo);
    let signed = fixture.ours();
    store_text(&fixture, &signed).await;
    let id = fixture.award.id;
    assert_valid(&verifier.verify_stored(id).await.expect("verify"));
    assert_eq!(memo.len(), 1, "a valid proof is remembered");
    assert_valid(&verifier.verify_stored(id).await.expect("verify"));
    assert_eq!(memo.len(), 1, "and found again, not added twice");

    // The same proof over another text: not the remembered one.
    let mut forged = signed.clone();
    forged["name"] = json!("A badge its issuer never awarded");
    store_text(&fixture, &forged).await;
    let report = verifier.verify_stored(id).await.expect("verify");
    assert_eq!(report.error_code, Some("INVALID_SIGNATURE"), "{report:#?}");
    assert!(!report.has_valid_signature);
    assert_eq!(memo.len(), 1, "an invalid proof is not remembered");

    // The remembered text again, its key revoked since.
    store_text(&fixture, &signed).await;
    assert_valid(&verifier.verify_stored(id).await.expect("verify"));
    fixture.revoke_key().await;
    let report = verifier.verify_stored(id).await.expect("verify");
    assert_eq!(report.error_code, Some("KEY_REVOKED"), "{report:#?}");
    assert!(!report.has_valid_signature);
}
