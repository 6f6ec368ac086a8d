//! The cache of rendered public documents, with two instances of the
//! server on one database (both backends): a change made through either
//! instance is served by the other within 100 ms, and by the instance
//! that made it at once; the cache is in use meanwhile (its hits show in
//! `/metrics`), so these tests fail if it kept a document past a change.

use std::time::{Duration, Instant};

use openbadges_e2e::{award_body, on_both_backends, uuid_of, Caller, Launch, Server, Storage};
use serde_json::{json, Value};

on_both_backends!(
    a_revocation_through_one_instance_reaches_the_other_within_the_bound,
    every_edit_through_one_instance_reaches_the_other_within_the_bound,
    a_revocation_is_served_at_once_by_the_instance_that_made_it,
    revocations_through_one_instance_reach_verification_on_the_other_within_the_bound,
    a_revocation_is_verified_at_once_by_the_instance_that_made_it,
    issuing_keeps_the_cache_and_a_key_it_makes_is_published_at_once,
    a_rotated_key_signs_on_every_instance_within_the_bound,
    with_the_cache_off_nothing_is_kept
);

/// The bound the cache promises.
const BOUND: Duration = Duration::from_millis(100);

fn launch(storage: &Storage) -> Launch {
    storage
        .launch()
        .env("AUTH_ENABLED", "false")
        .env("RATE_LIMIT_PER_MINUTE", "0")
}

/// The value of counter `name` in `/metrics`.
fn counter(server: &Server, name: &str) -> f64 {
    let metrics = server.fetch("/metrics");
    metrics.assert_status(200);
    metrics
        .text
        .lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no {name} in:\n{}", metrics.text))
}

fn hits(server: &Server) -> f64 {
    counter(server, "openbadges_document_cache_hits_total")
}

/// GETs `path` on `server` until an answer comes from the cache (its hits
/// went up): the feed may still be starting.
fn warm(server: &Server, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let before = hits(server);
        let answer = server.fetch(path);
        answer.assert_status(200);
        if hits(server) > before {
            return answer.body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} was never answered from the cache; output:\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits out the bound after `since` (the test measures the bound, so
/// waiting for it is the point, not a stand-in for synchronisation).
fn after_bound(since: Instant) {
    if let Some(left) = BOUND.checked_sub(since.elapsed()) {
        std::thread::sleep(left);
    }
}

/// What [`award`] made.
struct Award {
    /// The issuer's UUID.
    issuer: String,
    /// The achievement's UUID.
    badge: String,
    /// The award's UUID.
    id: String,
    /// The URL path of the award's status list.
    list: String,
    /// The UUID of the key that signed it.
    key: String,
}

/// A credential issued through `server` to `recipient`, as answered.
fn issue(server: &Server, badge: &str, recipient: &str) -> Value {
    let created = server.post("/credentials", &award_body(badge, recipient));
    created.assert_status(201);
    created.body
}

/// The verification method of `credential`'s proof.
fn method_of(credential: &Value) -> String {
    credential["proof"]["verificationMethod"]
        .as_str()
        .unwrap_or_else(|| panic!("no proof in {credential}"))
        .to_owned()
}

/// An issuer, an achievement and a signed award, made through `server`.
fn award(server: &Server) -> Award {
    let (issuer, badge) =
        server.issuer_with_badge(&Caller::Anonymous, "Cached issuer", "Cached badge");
    let created = issue(server, &badge, "cached@example.org");
    let list = created["credentialStatus"]["statusListCredential"]
        .as_str()
        .unwrap_or_else(|| panic!("no status list in {created}"))
        .to_owned();
    let method = method_of(&created);
    let key = method
        .rsplit_once("#key-")
        .unwrap_or_else(|| panic!("{method} is not a key of ours"))
        .1
        .to_owned();
    Award {
        issuer,
        badge,
        id: uuid_of(&created),
        list: format!("/{}", list.splitn(4, '/').nth(3).unwrap_or_default()),
        key,
    }
}

/// Asserts that `report` (of `GET /credentials/{id}/verify`) passes.
fn assert_valid(report: &Value) {
    assert_eq!(report["isValid"], json!(true), "{report:#}");
}

/// Asserts that `report` (of `GET /credentials/{id}/verify`) fails with
/// `code`.
fn assert_fails_with(report: &Value, code: &str) {
    assert_eq!(report["isValid"], json!(false), "{report:#}");
    assert_eq!(report["errorCode"], json!(code), "{report:#}");
}

/// Whether bit `index` of the status list at `path` is set, as `server`
/// serves it.
fn bit(server: &Server, path: &str, index: usize) -> bool {
    use base64::Engine;
    use std::io::Read;
    let list = server.fetch(path);
    list.assert_status(200);
    let encoded = list.body["credentialSubject"]["encodedList"]
        .as_str()
        .expect("encodedList")
        .trim_start_matches('u');
    let gzipped = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .expect("base64url");
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut bits)
        .expect("gzip");
    bits[index / 8] & (0x80 >> (index % 8)) != 0
}

fn a_revocation_through_one_instance_reaches_the_other_within_the_bound(storage: &Storage) {
    let a = launch(storage).start();
    let b = launch(storage).start();
    let Award { id, list, .. } = award(&a);
    let path = format!("/credentials/{id}");
    let credential = warm(&b, &path);
    let index: usize = credential["credentialStatus"]["statusListIndex"]
        .as_str()
        .expect("statusListIndex")
        .parse()
        .expect("an index");
    warm(&b, &list);
    assert!(!bit(&b, &list, index));

    a.post(&format!("{path}/revoke"), &json!({"reason": "cache test"}))
        .assert_status(200);
    let revoked = Instant::now();
    after_bound(revoked);
    b.fetch(&path).assert_status(410);
    assert!(
        bit(&b, &list, index),
        "the status list shows the revocation"
    );
}

/// Ten edits of an achievement through A, each read through B (warm
/// before the edit) once the bound has passed.
fn every_edit_through_one_instance_reaches_the_other_within_the_bound(storage: &Storage) {
    let a = launch(storage).start();
    let b = launch(storage).start();
    let Award { badge, .. } = award(&a);
    let path = format!("/achievements/{badge}");
    for round in 0..10 {
        warm(&b, &path);
        let name = format!("Cached badge, edition {round}");
        a.put(&path, &json!({"name": name})).assert_status(200);
        let edited = Instant::now();
        after_bound(edited);
        let seen = b.fetch(&path);
        seen.assert_status(200);
        assert_eq!(seen.body["name"], json!(name), "round {round}");
    }
}

fn a_revocation_is_served_at_once_by_the_instance_that_made_it(storage: &Storage) {
    let a = launch(storage).start();
    let Award { id, .. } = award(&a);
    let path = format!("/credentials/{id}");
    warm(&a, &path);
    a.post(&format!("{path}/revoke"), &json!({"reason": "at once"}))
        .assert_status(200);
    a.fetch(&path).assert_status(410);
}

/// Verification through B reads the award and its key from B's cache
/// (warm, so the hits show it): a credential revoked through A, and then
/// the key that signed another one, revoked through A, fail verification
/// on B once the bound has passed.
fn revocations_through_one_instance_reach_verification_on_the_other_within_the_bound(
    storage: &Storage,
) {
    let a = launch(storage).base_url_at_own_address().start();
    // Instances behind one load balancer share one BASE_URL: B verifies
    // A's credentials as its own.
    let b = launch(storage).env("BASE_URL", a.base_url()).start();
    let revoked = award(&a);
    let verify = format!("/credentials/{}/verify", revoked.id);
    assert_valid(&warm(&b, &verify));
    a.post(
        &format!("/credentials/{}/revoke", revoked.id),
        &json!({"reason": "cache test"}),
    )
    .assert_status(200);
    after_bound(Instant::now());
    assert_fails_with(&b.fetch(&verify).body, "REVOKED");

    let signed = award(&a);
    let verify = format!("/credentials/{}/verify", signed.id);
    assert_valid(&warm(&b, &verify));
    a.post(
        &format!("/issuers/{}/keys/{}/revoke", signed.issuer, signed.key),
        &json!({}),
    )
    .assert_status(200);
    after_bound(Instant::now());
    assert_fails_with(&b.fetch(&verify).body, "KEY_REVOKED");
}

fn a_revocation_is_verified_at_once_by_the_instance_that_made_it(storage: &Storage) {
    let a = launch(storage).start();
    let Award { id, .. } = award(&a);
    let verify = format!("/credentials/{id}/verify");
    assert_valid(&warm(&a, &verify));
    a.post(
        &format!("/credentials/{id}/revoke"),
        &json!({"reason": "at once"}),
    )
    .assert_status(200);
    assert_fails_with(&a.fetch(&verify).body, "REVOKED");
}

/// Issuing changes no document served before, so it forgets none: on a
/// day of issuance the credentials being viewed stay kept. Unless it made
/// the issuer's key, which the DID document (warm without it) then lists
/// at once. (The feed would report the new key within its tick too; the
/// signer's count of keys made, which forgets the cache before the answer
/// leaves, is checked in the signing crate's tests.)
fn issuing_keeps_the_cache_and_a_key_it_makes_is_published_at_once(storage: &Storage) {
    let a = launch(storage).start();
    let (issuer, badge) = a.issuer_with_badge(&Caller::Anonymous, "Cached issuer", "Cached badge");
    let did = format!("/issuers/{issuer}/did.json");
    warm(&a, &did);
    let first = issue(&a, &badge, "first@example.org");
    let method = method_of(&first);
    let published = a.fetch(&did);
    published.assert_status(200);
    assert!(
        published.body["verificationMethod"]
            .as_array()
            .is_some_and(|methods| methods.iter().any(|m| m["id"] == json!(method))),
        "the DID document lists {method} at once: {:#}",
        published.body
    );

    let path = format!("/credentials/{}", uuid_of(&first));
    warm(&a, &path);
    for n in 0..5 {
        issue(&a, &badge, &format!("next{n}@example.org"));
    }
    let before = hits(&a);
    a.fetch(&path).assert_status(200);
    assert_eq!(
        hits(&a),
        before + 1.0,
        "the credential is still kept after five more were issued"
    );
}

/// The key a credential issued through `server` is signed with.
fn signed_with(server: &Server, badge: &str, recipient: &str) -> String {
    method_of(&issue(server, badge, recipient))
}

/// Rotates `issuer`'s key through `server`: the new key's method.
fn rotate(server: &Server, issuer: &str) -> String {
    let rotated = server.post(&format!("/issuers/{issuer}/keys/rotate"), &json!({}));
    rotated.assert_status(201);
    rotated.body["verificationMethod"]
        .as_str()
        .unwrap_or_else(|| panic!("no verificationMethod in {}", rotated.body))
        .to_owned()
}

/// Signing reads the issuer's active key through the cache (its hits show
/// it): a key rotated through B signs A's next credential once the bound
/// has passed, and one rotated through A at once.
fn a_rotated_key_signs_on_every_instance_within_the_bound(storage: &Storage) {
    let a = launch(storage).base_url_at_own_address().start();
    let b = launch(storage).env("BASE_URL", a.base_url()).start();
    let Award { issuer, badge, .. } = award(&a);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    loop {
        let before = hits(&a);
        signed_with(&a, &badge, &format!("warm{n}@example.org"));
        n += 1;
        if hits(&a) > before {
            break;
        }
        assert!(Instant::now() < deadline, "the active key was never kept");
    }

    let through_b = rotate(&b, &issuer);
    after_bound(Instant::now());
    assert_eq!(signed_with(&a, &badge, "after-b@example.org"), through_b);
    signed_with(&a, &badge, "kept@example.org");
    let through_a = rotate(&a, &issuer);
    assert_eq!(signed_with(&a, &badge, "after-a@example.org"), through_a);
}

fn with_the_cache_off_nothing_is_kept(storage: &Storage) {
    let a = launch(storage).env("DOCUMENT_CACHE_MB", "0").start();
    let Award { id, .. } = award(&a);
    for _ in 0..3 {
        a.fetch(&format!("/credentials/{id}")).assert_status(200);
    }
    assert_eq!(hits(&a), 0.0);
    assert_eq!(
        counter(&a, "openbadges_document_cache_live"),
        0.0,
        "the cache says it is off"
    );
}
