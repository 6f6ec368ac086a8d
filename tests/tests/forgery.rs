//! Verification that cannot be fooled, end to end on both backends.
//!
//! - A proof counts only if its key is controlled by the credential's
//!   issuer: a credential (or VC-JWT) naming one of our issuers but signed
//!   with a stranger's fresh did:key fails `issuerMatch` with
//!   `ISSUER_MISMATCH`, as the Digital Bazaar verifier rejects it
//!   ("Credential issuer must match the verification method controller");
//!   a credential whose issuer is that did:key still verifies.
//! - A VC-JWT is not accepted before its `nbf` nor after its `exp`, whatever
//!   the credential inside says.
//! - A status list is always served signed by its issuer's active key: after
//!   a rotation and a revocation through one instance, another instance on
//!   the same database serves the list signed by the new key at once.
//!
//! Forgeries are made with `openbadges-credentials` (Data Integrity) and
//! `jsonwebtoken` (VC-JWT), as anyone could.

use std::time::{SystemTime, UNIX_EPOCH};

use openbadges_credentials::{
    did_key_for, did_key_verification_method, DataIntegrity, Ed25519KeyPair, VerifyingKey,
};
use openbadges_e2e::{
    award_body, on_both_backends, uuid_of, Caller, Launch, Server, Storage, JWT_SECRET,
};
use serde_json::{json, Value};

on_both_backends!(
    a_strangers_did_key_cannot_sign_for_our_issuer,
    a_vc_jwt_signed_by_a_stranger_fails_issuer_match,
    a_did_key_issuer_signing_for_itself_verifies,
    a_vc_jwt_is_refused_outside_its_nbf_and_exp,
    status_lists_are_signed_by_the_active_key_on_every_instance,
    a_token_is_verified_as_the_raw_body,
    a_failed_signing_spends_no_status_bit,
);

const ADMIN_KEY: &str = "e2e-forgery-admin-key-0123456789a";
const KEK: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
/// `validFrom` of the re-signed credentials, and its NumericDate.
const VALID_FROM: &str = "2024-05-01T12:00:00Z";
const VALID_FROM_SECONDS: i64 = 1_714_564_800;

fn admin() -> Caller {
    Caller::Key(ADMIN_KEY.to_owned())
}

/// A launch on `storage` with the administrator key; `BASE_URL` is set by
/// the caller.
fn launch(storage: &Storage) -> Launch {
    storage
        .launch()
        .env(
            "AUTH_API_KEY_FORGERY",
            format!("{ADMIN_KEY}:admin:forgery tests"),
        )
        .env("JWT_SECRET", JWT_SECRET)
        .env("KEY_ENCRYPTION_KEY", KEK)
        .env("RATE_LIMIT_PER_MINUTE", "0")
}

fn start(storage: &Storage) -> Server {
    launch(storage).base_url_at_own_address().start()
}

/// A credential of a fresh issuer of ours (issuer = its did:web), signed by
/// the server; and the issuer's UUID.
#[track_caller]
fn issued(server: &Server) -> (Value, String) {
    let (issuer, badge) = server.issuer_with_badge(&admin(), "Genuine issuer", "Genuine badge");
    let response = server.post_as(
        &admin(),
        "/credentials",
        &award_body(&badge, "ada@example.org"),
    );
    response.assert_status(201);
    (response.body, issuer)
}

/// `credential` without its proof, valid from [`VALID_FROM`] with no end.
fn unsigned(credential: &Value) -> Value {
    let mut unsigned = credential.clone();
    let object = unsigned.as_object_mut().expect("a credential is an object");
    object.remove("proof");
    object.remove("validUntil");
    object.insert("validFrom".to_owned(), json!(VALID_FROM));
    unsigned
}

/// `credential` issued by `did` (a did:key) instead, as a credential of its
/// own (a `urn:uuid:` id, no status on our lists).
fn issued_by(credential: &Value, did: &str) -> Value {
    let mut moved = credential.clone();
    moved["issuer"]["id"] = json!(did);
    moved["id"] = json!(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    moved
        .as_object_mut()
        .expect("a credential is an object")
        .remove("credentialStatus");
    moved
}

/// Signs `unsigned` with `key`'s did:key (`eddsa-rdfc-2022`).
fn sign(unsigned: &Value, key: &Ed25519KeyPair) -> Value {
    DataIntegrity::new()
        .expect("the bundled contexts load")
        .sign(
            unsigned,
            key,
            &did_key_verification_method(&key.verifying_key()),
            "2024-05-01T12:00:00Z",
        )
        .expect("sign")
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

/// A VC-JWT (EdDSA) of `claims`, `kid` naming `key`'s did:key.
fn jwt(claims: &Value, key: &Ed25519KeyPair) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(did_key_verification_method(&key.verifying_key()));
    header.typ = Some("JWT".to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&pkcs8(key)),
    )
    .expect("sign a JWT")
}

/// The claims OB 3.0 maps from a credential valid from [`VALID_FROM`]
/// with no end: the credential plus `iss`, `jti`, `nbf`.
fn claims_of(credential: &Value) -> Value {
    let mut claims = credential.clone();
    claims["iss"] = credential["issuer"]["id"].clone();
    claims["jti"] = credential["id"].clone();
    claims["nbf"] = json!(VALID_FROM_SECONDS);
    claims
}

fn now_seconds() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(now.as_secs()).expect("seconds fit")
}

/// `POST /verify body` (anonymously), expecting 200; the report.
#[track_caller]
fn verify(server: &Server, body: &Value) -> Value {
    let response = server.post("/verify", body);
    response.assert_status(200);
    response.body
}

/// The check `name` of a report.
#[track_caller]
fn check<'r>(report: &'r Value, name: &str) -> &'r Value {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["check"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {report:#}"))
}

/// The names of the checks that failed.
fn failed(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["passed"] == false)
        .filter_map(|c| c["check"].as_str().map(str::to_owned))
        .collect()
}

/// Asserts a report that fails the issuer binding only, naming both the
/// key's controller and the credential's issuer.
#[track_caller]
fn assert_issuer_mismatch(report: &Value, controller: &str, issuer: &str) {
    assert_eq!(report["isValid"], false, "{report:#}");
    assert_eq!(report["errorCode"], "ISSUER_MISMATCH", "{report:#}");
    assert_eq!(failed(report), ["issuerMatch"], "{report:#}");
    let message = check(report, "issuerMatch")["message"]
        .as_str()
        .expect("a message");
    assert!(
        message.contains("Credential issuer must match the verification method controller")
            && message.contains(controller)
            && message.contains(issuer),
        "the message names {controller} and {issuer}: {message}"
    );
}

/// Asserts a report with every check passed.
#[track_caller]
fn assert_valid(report: &Value) {
    assert_eq!(report["isValid"], true, "{report:#}");
    assert_eq!(report["hasValidSignature"], true, "{report:#}");
    assert_eq!(report["errorCode"], Value::Null, "{report:#}");
    assert!(failed(report).is_empty(), "{report:#}");
    assert_eq!(check(report, "issuerMatch")["passed"], true, "{report:#}");
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// One of our credentials, its proof stripped and re-signed with a fresh
/// did:key of someone else: the signature is sound, but the key does not
/// belong to the issuer, whether the issuer is named by its did:web (as we
/// issue) or by its profile URL.
fn a_strangers_did_key_cannot_sign_for_our_issuer(storage: &Storage) {
    let server = start(storage);
    let (credential, issuer) = issued(&server);
    let did = server.did_of(&issuer);
    assert_eq!(credential["issuer"]["id"], json!(did), "{credential:#}");
    let stranger = Ed25519KeyPair::generate().expect("a key");
    let stranger_did = did_key_for(&stranger.verifying_key());

    let forged = sign(&unsigned(&credential), &stranger);
    let report = verify(&server, &forged);
    assert_issuer_mismatch(&report, &stranger_did, &did);
    assert_eq!(report["hasValidSignature"], true, "{report:#}");
    let report = verify(&server, &json!({"credential": forged}));
    assert_eq!(report["errorCode"], "ISSUER_MISMATCH", "{report:#}");

    let profile = format!("{}/v3/issuers/{issuer}", server.base_url());
    let mut by_url = unsigned(&credential);
    by_url["issuer"]["id"] = json!(profile);
    let report = verify(&server, &sign(&by_url, &stranger));
    assert_issuer_mismatch(&report, &stranger_did, &did);

    // Our credential as issued still verifies.
    assert_valid(&verify(&server, &credential));
}

/// A VC-JWT carrying one of our credentials, `iss` our issuer, but signed
/// by a stranger's did:key named in `kid`.
fn a_vc_jwt_signed_by_a_stranger_fails_issuer_match(storage: &Storage) {
    let server = start(storage);
    let (credential, issuer) = issued(&server);
    let did = server.did_of(&issuer);
    let stranger = Ed25519KeyPair::generate().expect("a key");

    let token = jwt(&claims_of(&unsigned(&credential)), &stranger);
    let report = verify(&server, &json!(token));
    assert_issuer_mismatch(&report, &did_key_for(&stranger.verifying_key()), &did);
    assert_eq!(check(&report, "jwtClaims")["passed"], true, "{report:#}");
}

/// Someone else's credential, issued by their did:key and signed with it,
/// verifies as a Data Integrity credential and as a VC-JWT.
fn a_did_key_issuer_signing_for_itself_verifies(storage: &Storage) {
    let server = start(storage);
    let (credential, _) = issued(&server);
    let key = Ed25519KeyPair::generate().expect("a key");
    let did = did_key_for(&key.verifying_key());
    let theirs = issued_by(&unsigned(&credential), &did);

    let report = verify(&server, &sign(&theirs, &key));
    assert_valid(&report);
    assert!(
        check(&report, "issuerMatch")["message"]
            .as_str()
            .is_some_and(|m| m.contains(&did)),
        "{report:#}"
    );
    assert_valid(&verify(&server, &json!(jwt(&claims_of(&theirs), &key))));

    // Another did:key signing it is a stranger too.
    let other = Ed25519KeyPair::generate().expect("a key");
    let report = verify(&server, &sign(&theirs, &other));
    assert_issuer_mismatch(&report, &did_key_for(&other.verifying_key()), &did);
}

/// A VC-JWT's own `nbf` and `exp` bound it, whatever the credential it
/// carries says (`validityWindow`).
fn a_vc_jwt_is_refused_outside_its_nbf_and_exp(storage: &Storage) {
    let server = start(storage);
    let (credential, _) = issued(&server);
    let key = Ed25519KeyPair::generate().expect("a key");
    let theirs = issued_by(&unsigned(&credential), &did_key_for(&key.verifying_key()));
    let now = now_seconds();
    let window_message = |report: &Value| {
        check(report, "validityWindow")["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // Expired by `exp`, though the credential has no validUntil.
    let mut claims = claims_of(&theirs);
    claims["exp"] = json!(now - 3600);
    let report = verify(&server, &json!(jwt(&claims, &key)));
    assert_eq!(report["isValid"], false, "{report:#}");
    assert_eq!(report["errorCode"], "EXPIRED", "{report:#}");
    assert_eq!(report["isExpired"], true, "{report:#}");
    assert_eq!(failed(&report), ["validityWindow"], "{report:#}");
    assert!(window_message(&report).contains("exp"), "{report:#}");

    // Not valid before `nbf`, with no validFrom in the credential.
    let mut early = theirs.clone();
    early
        .as_object_mut()
        .expect("an object")
        .remove("validFrom");
    let mut claims = claims_of(&early);
    claims["nbf"] = json!(now + 3600);
    let report = verify(&server, &json!(jwt(&claims, &key)));
    assert_eq!(report["isValid"], false, "{report:#}");
    assert_eq!(report["errorCode"], "NOT_VALID_NOW", "{report:#}");
    assert_eq!(failed(&report), ["validityWindow"], "{report:#}");
    assert!(window_message(&report).contains("nbf"), "{report:#}");

    // Nor with an earlier validFrom (the claims disagree with it, too).
    let mut claims = claims_of(&theirs);
    claims["nbf"] = json!(now + 3600);
    let report = verify(&server, &json!(jwt(&claims, &key)));
    assert_eq!(report["isValid"], false, "{report:#}");
    assert_eq!(
        check(&report, "validityWindow")["passed"],
        false,
        "{report:#}"
    );
    assert!(window_message(&report).contains("nbf"), "{report:#}");

    // `nbf` and `exp` that are not NumericDates.
    let mut claims = claims_of(&theirs);
    claims["exp"] = json!("tomorrow");
    let report = verify(&server, &json!(jwt(&claims, &key)));
    assert_eq!(report["isValid"], false, "{report:#}");
    assert_eq!(
        check(&report, "validityWindow")["passed"],
        false,
        "{report:#}"
    );

    // Within both, it verifies.
    let mut claims = claims_of(&theirs);
    claims["exp"] = json!(now + 3600);
    assert_valid(&verify(&server, &json!(jwt(&claims, &key))));
}

/// The status list credential of `credential`, fetched from `server`.
#[track_caller]
fn status_list(server: &Server, credential: &Value) -> Value {
    let url = credential["credentialStatus"]["statusListCredential"]
        .as_str()
        .unwrap_or_else(|| panic!("no status list in {credential:#}"));
    let list = url.rsplit('/').next().expect("a list id");
    let response = server.fetch(&format!("/status-lists/{list}"));
    response.assert_status(200);
    response.body
}

/// Verifies a signed status list with the issuer's DID document as
/// `server` publishes it now (keys that still verify only), with the proof
/// library itself; the verification method that signed it.
#[track_caller]
fn assert_signed_by_a_published_key(server: &Server, issuer: &str, list: &Value) -> String {
    let response = server.fetch(&format!("/issuers/{issuer}/did.json"));
    response.assert_status(200);
    let document = response.body;
    let method = list["proof"]["verificationMethod"]
        .as_str()
        .unwrap_or_else(|| panic!("no proof in {list:#}"))
        .to_owned();
    let published = document["verificationMethod"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == json!(method))
        .unwrap_or_else(|| panic!("{method} is not in the DID document: {document:#}"));
    let key = VerifyingKey::from_multibase(
        published["publicKeyMultibase"]
            .as_str()
            .expect("publicKeyMultibase"),
    )
    .expect("a Multikey");
    DataIntegrity::new()
        .expect("the bundled contexts load")
        .verify(list, |_| Some(key))
        .unwrap_or_else(|e| panic!("the list does not verify: {e}\n{list:#}"));
    method
}

/// Two instances on one database: B serves (and keeps) the signed list;
/// A rotates the issuer's key and revokes the old one; B's lists from
/// 100 ms on (the bound of B's document cache, docs/operations.md) are
/// signed by the new key and verify.
fn status_lists_are_signed_by_the_active_key_on_every_instance(storage: &Storage) {
    let a = start(storage);
    // Instances behind one load balancer share one BASE_URL.
    let b = launch(storage).env("BASE_URL", a.base_url()).start();
    let (credential, issuer) = issued(&a);
    let old_key = b.fetch(&format!("/issuers/{issuer}/keys")).body[0]["id"]
        .as_str()
        .expect("the issuer's key")
        .to_owned();
    // Several times, so that whichever of B's workers answers has it kept.
    let mut old_method = String::new();
    for _ in 0..6 {
        old_method = assert_signed_by_a_published_key(&b, &issuer, &status_list(&b, &credential));
    }
    assert!(old_method.ends_with(&old_key), "{old_method}");

    let rotated = a.post_as(
        &admin(),
        &format!("/issuers/{issuer}/keys/rotate"),
        &json!({}),
    );
    rotated.assert_status(201);
    let new_method = rotated.body["verificationMethod"]
        .as_str()
        .expect("verificationMethod")
        .to_owned();
    a.post_as(
        &admin(),
        &format!("/issuers/{issuer}/keys/{old_key}/revoke"),
        &json!({}),
    )
    .assert_status(200);
    // The bound under test, not a stand-in for synchronisation.
    std::thread::sleep(std::time::Duration::from_millis(100));

    for server in [&b, &a, &b, &b, &b, &b] {
        let list = status_list(server, &credential);
        let method = assert_signed_by_a_published_key(server, &issuer, &list);
        assert_eq!(method, new_method, "signed by the active key: {list:#}");
    }
    // The credential itself was signed by the revoked key.
    let report = b.fetch(&format!("/credentials/{}/verify", uuid_of(&credential)));
    assert_eq!(report.body["errorCode"], "KEY_REVOKED", "{:#}", report.body);
}

/// `POST /verify` with `token` as the raw body of `content_type`, expecting
/// 200; the report.
#[track_caller]
fn verify_raw(server: &Server, content_type: &str, token: &str) -> Value {
    let response = server.send(
        "POST",
        "/verify",
        &[("Content-Type", content_type)],
        Some(&format!("{token}\n")),
    );
    response.assert_status(200);
    response.body
}

/// `report` without the time it was made.
fn timeless(report: &Value) -> Value {
    let mut report = report.clone();
    report
        .as_object_mut()
        .expect("a report is an object")
        .remove("verifiedAt");
    report
}

/// As the OB 3.0 API posts them, a VC-JWT or a JWS is the raw body with
/// `Content-Type: application/vc+jwt`, `application/jose` or `text/plain`:
/// the report is the one its JSON string gets, forged or not. A body of one
/// of these types that is neither a token nor JSON is a 400 naming `body`.
fn a_token_is_verified_as_the_raw_body(storage: &Storage) {
    let server = start(storage);
    let (credential, _) = issued(&server);
    let key = Ed25519KeyPair::generate().expect("a key");
    let theirs = issued_by(&unsigned(&credential), &did_key_for(&key.verifying_key()));
    let genuine = jwt(&claims_of(&theirs), &key);
    // Our issuer's credential, signed by a stranger.
    let forged = jwt(&claims_of(&unsigned(&credential)), &key);
    let response = server.fetch(&format!(
        "/v2/credentials/{}?format=jws",
        uuid_of(&credential)
    ));
    response.assert_status(200);
    let ob2 = response.text;

    for content_type in [
        "application/vc+jwt",
        "application/jose",
        "text/plain; charset=utf-8",
    ] {
        for token in [&genuine, &forged, &ob2] {
            let raw = verify_raw(&server, content_type, token);
            assert_eq!(
                timeless(&raw),
                timeless(&verify(&server, &json!(token))),
                "{content_type}"
            );
        }
        assert_valid(&verify_raw(&server, content_type, &genuine));
        assert_eq!(
            verify_raw(&server, content_type, &forged)["errorCode"],
            "ISSUER_MISMATCH"
        );
        assert_valid(&verify_raw(&server, content_type, &ob2));

        let response = server.send(
            "POST",
            "/verify",
            &[("Content-Type", content_type)],
            Some("not a token"),
        );
        response.assert_status(400);
        assert!(response.text.contains("body"), "{}", response.text);
    }
    // A JSON credential sent as text/plain is still read as JSON.
    let signed = sign(&theirs, &key);
    let response = server.send(
        "POST",
        "/verify",
        &[("Content-Type", "text/plain")],
        Some(&signed.to_string()),
    );
    response.assert_status(200);
    assert_valid(&response.body);
}

/// The revocation bit a credential names.
#[track_caller]
fn status_index(credential: &Value) -> u64 {
    credential["credentialStatus"]["statusListIndex"]
        .as_str()
        .and_then(|index| index.parse().ok())
        .unwrap_or_else(|| panic!("a statusListIndex in {credential:#}"))
}

/// An instance whose `KEY_ENCRYPTION_KEY` differs from the one the
/// issuer's key was sealed with cannot sign: the issuance fails (500)
/// before a status bit is taken, so the next award gets the very next bit,
/// singly and in a batch.
fn a_failed_signing_spends_no_status_bit(storage: &Storage) {
    let server = start(storage);
    let (first, _) = issued(&server);
    // By UUID: the other instance has another base URL.
    let badge = uuid_of(&first["credentialSubject"]["achievement"]);
    let other = launch(storage)
        .env(
            "KEY_ENCRYPTION_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        )
        .base_url_at_own_address()
        .start();
    let body = award_body(&badge, "bob@example.org");
    other
        .post_as(&admin(), "/credentials", &body)
        .assert_status(500);
    other
        .post_as(
            &admin(),
            "/credentials/batch",
            &json!({"credentials": [body.clone()]}),
        )
        .assert_status(500);

    let unsigned = other.post_as(&admin(), "/credentials?sign=false", &body);
    unsigned.assert_status(201);
    assert_eq!(status_index(&unsigned.body), status_index(&first) + 1);
}
