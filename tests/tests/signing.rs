//! Signed credentials end to end on both backends: every OB 3.0 credential
//! issued carries an `eddsa-rdfc-2022` Data Integrity proof made with its
//! issuer's key, published through `did:web` and the JWKS; the verification
//! routes find what was changed, revoked or signed by the wrong key; keys
//! rotate, are revoked, and survive a restart only with their
//! `KEY_ENCRYPTION_KEY`.
//!
//! The servers run with authentication on (rotating and revoking keys needs
//! a manager of the issuer): writes are sent with a configured administrator
//! key, reads anonymously, as a verifier would.

use std::collections::BTreeSet;

use openbadges_e2e::{
    award_body, on_both_backends, uuid_of, Caller, Launch, Response, Server, Storage, JWT_SECRET,
};
use serde_json::{json, Value};

// The OB 3.0 JSON Schema helper of the API suite, shared rather than copied.
#[allow(dead_code)]
#[path = "api/schemas.rs"]
mod schemas;

use schemas::{assert_valid, Schema};

on_both_backends!(
    issued_credentials_carry_a_proof_that_verifies,
    changed_credentials_fail_verification,
    revoked_credentials_fail_verification,
    unsigned_issuance_has_no_proof,
    did_document_and_jwks_publish_the_keys,
    rotation_keeps_old_credentials_and_revocation_ends_them,
    v2_and_batch_issuance_sign,
    a_proof_of_another_issuer_fails_issuer_match,
    keys_survive_a_restart_only_with_their_encryption_key,
    credentials_are_served_and_verified_as_vc_jwt,
);

/// The configured administrator key (`AUTH_API_KEY_SIGNING`).
const ADMIN_KEY: &str = "e2e-signing-admin-key-0123456789";
/// The `KEY_ENCRYPTION_KEY` the keys are sealed with.
const KEK: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
/// Another valid `KEY_ENCRYPTION_KEY`, which cannot open them.
const OTHER_KEK: &str = "0f0e0d0c0b0a09080706050403020100f0e1d2c3b4a5968778695a4b3c2d1e0f";
/// The log line of a key sealed under another `KEY_ENCRYPTION_KEY`
/// (`KeyVault::open` in `crates/credentials/src/vault.rs`).
const CANNOT_OPEN: &str =
    "a private key cannot be opened: KEY_ENCRYPTION_KEY differs from the one it was sealed with";

/// The names of the checks of a report on a signed credential of ours, in
/// order.
const ALL_CHECKS: [&str; 6] = [
    "schema",
    "keyStatus",
    "issuerMatch",
    "proof",
    "validityWindow",
    "status",
];

fn admin() -> Caller {
    Caller::Key(ADMIN_KEY.to_owned())
}

/// A launch on `storage` with authentication on, the configured
/// administrator key, `KEY_ENCRYPTION_KEY=kek` and no rate limit; `BASE_URL`
/// is set by the caller.
fn launch_with(storage: &Storage, kek: &str) -> Launch {
    storage
        .launch()
        .env(
            "AUTH_API_KEY_SIGNING",
            format!("{ADMIN_KEY}:admin:signing tests"),
        )
        .env("JWT_SECRET", JWT_SECRET)
        .env("KEY_ENCRYPTION_KEY", kek)
        .env("RATE_LIMIT_PER_MINUTE", "0")
}

/// A server on `storage` with `BASE_URL` at its own address.
/// An issuer and one of its achievements, made by the administrator: their
/// UUIDs.
#[track_caller]
fn issuer_with_badge(server: &Server, name: &str) -> (String, String) {
    server.issuer_with_badge(&admin(), name, &format!("Badge of {name}"))
}

fn start(storage: &Storage) -> Server {
    launch_with(storage, KEK).base_url_at_own_address().start()
}

/// An OB 3.0 style credential body awarding `badge` to `email`.
fn ob3_body(badge: &str, email: &str) -> Value {
    json!({
        "credentialSubject": {
            "identifier": [{
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "identityHash": email,
                "hashed": true
            }],
            "achievement": {"id": format!("urn:uuid:{badge}")}
        },
        "validFrom": "2024-05-01T12:00:00Z",
        "validUntil": "2099-05-01T12:00:00Z",
        "narrative": "Signed in the end-to-end tests"
    })
}

/// `POST target body` as the administrator, expecting 201; the body.
#[track_caller]
fn issue_at(server: &Server, target: &str, body: &Value) -> Value {
    let response = server.post_as(&admin(), target, body);
    response.assert_status(201);
    response.body
}

/// Issues `badge` to `email` (OB 2.0 style body) on the bare path: the
/// signed credential.
#[track_caller]
fn issue(server: &Server, badge: &str, email: &str) -> Value {
    issue_at(server, "/credentials", &award_body(badge, email))
}

/// The proof of `credential`; panics when it has none.
#[track_caller]
fn proof_of(credential: &Value) -> &Value {
    credential
        .get("proof")
        .unwrap_or_else(|| panic!("no proof in {credential:#}"))
}

/// The verification method of `credential`'s proof.
#[track_caller]
fn method_of(credential: &Value) -> String {
    proof_of(credential)["verificationMethod"]
        .as_str()
        .unwrap_or_else(|| panic!("no verificationMethod in {credential:#}"))
        .to_owned()
}

/// Asserts the shape of a proof made by one of `did`'s keys; returns its
/// verification method.
#[track_caller]
fn assert_proof(credential: &Value, did: &str) -> String {
    let proof = proof_of(credential);
    assert_eq!(proof["type"], "DataIntegrityProof", "{proof}");
    assert_eq!(proof["cryptosuite"], "eddsa-rdfc-2022", "{proof}");
    assert_eq!(proof["proofPurpose"], "assertionMethod", "{proof}");
    let method = method_of(credential);
    let key = method
        .strip_prefix(&format!("{did}#key-"))
        .unwrap_or_else(|| panic!("{method} is not a key of {did}"));
    uuid::Uuid::parse_str(key).unwrap_or_else(|e| panic!("{method}: the key id: {e}"));
    let created = proof["created"].as_str().expect("created is a string");
    assert!(
        created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T',
        "created is an RFC 3339 UTC date-time: {created}"
    );
    let value = proof["proofValue"]
        .as_str()
        .expect("proofValue is a string");
    let signature = base58_decode(value.strip_prefix('z').expect("multibase base58btc: z..."));
    assert_eq!(signature.len(), 64, "an Ed25519 signature: {value}");
    method
}

/// The credential of `id` (a UUID) as served under `/v3`, expecting 200.
#[track_caller]
fn v3_credential(server: &Server, id: &str) -> Response {
    let response = server.fetch(&format!("/v3/credentials/{id}"));
    response.assert_status(200);
    response
}

/// `GET /credentials/{id}/verify`, expecting 200; the report.
#[track_caller]
fn verify_stored(server: &Server, id: &str) -> Value {
    verify_stored_at(server, "/credentials", id)
}

/// `GET <collection>/{id}/verify` (`/v2/credentials`, `/assertions`, ...),
/// expecting 200; the report.
#[track_caller]
fn verify_stored_at(server: &Server, collection: &str, id: &str) -> Value {
    let response = server.fetch(&format!("{collection}/{id}/verify"));
    response.assert_status(200);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_report_shape(&response.body);
    response.body
}

/// `POST /verify body` (anonymously), expecting 200; the report.
#[track_caller]
fn verify_posted(server: &Server, body: &Value) -> Value {
    let response = server.post("/verify", body);
    response.assert_status(200);
    assert_report_shape(&response.body);
    response.body
}

/// Asserts the fields of a verification report and that `isValid` agrees
/// with the checks and the error code.
#[track_caller]
fn assert_report_shape(report: &Value) {
    let fields: BTreeSet<&str> = report
        .as_object()
        .unwrap_or_else(|| panic!("a report is an object: {report}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from([
            "id",
            "isValid",
            "hasValidSignature",
            "isExpired",
            "isRevoked",
            "errorCode",
            "checks",
            "verifiedAt"
        ]),
        "{report:#}"
    );
    let checks = report["checks"].as_array().expect("checks is an array");
    for check in checks {
        assert!(
            check["check"].is_string()
                && check["passed"].is_boolean()
                && check["message"].is_string(),
            "{check}"
        );
    }
    let all_passed = checks.iter().all(|c| c["passed"] == true);
    assert_eq!(report["isValid"], json!(all_passed), "{report:#}");
    assert_eq!(report["errorCode"].is_null(), all_passed, "{report:#}");
    assert!(report["verifiedAt"].is_string(), "{report:#}");
}

/// Asserts a report on a valid, signed credential of ours with every check
/// passed.
#[track_caller]
fn assert_all_passed(report: &Value) {
    assert_eq!(report["isValid"], true, "{report:#}");
    assert_eq!(report["hasValidSignature"], true, "{report:#}");
    assert_eq!(report["isExpired"], false, "{report:#}");
    assert_eq!(report["isRevoked"], false, "{report:#}");
    assert_eq!(report["errorCode"], Value::Null, "{report:#}");
    assert_eq!(check_names(report), ALL_CHECKS, "{report:#}");
}

/// The names of a report's checks, in order.
fn check_names(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["check"].as_str().map(str::to_owned))
        .collect()
}

/// The check `name` of a report.
#[track_caller]
fn check<'r>(report: &'r Value, name: &str) -> &'r Value {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["check"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {report:#}"))
}

/// Asserts a report that fails with `code` and an invalid signature.
#[track_caller]
fn assert_bad_signature(report: &Value) {
    assert_eq!(report["isValid"], false, "{report:#}");
    assert_eq!(report["hasValidSignature"], false, "{report:#}");
    assert_eq!(report["errorCode"], "INVALID_SIGNATURE", "{report:#}");
    assert_eq!(check(report, "proof")["passed"], false, "{report:#}");
}

/// The issuer's keys (`GET /issuers/{id}/keys`, anonymously).
#[track_caller]
fn keys_of(server: &Server, issuer: &str) -> Vec<Value> {
    let response = server.fetch(&format!("/issuers/{issuer}/keys"));
    response.assert_status(200);
    response
        .body
        .as_array()
        .unwrap_or_else(|| panic!("a list of keys: {}", response.text))
        .clone()
}

/// The issuer's DID document, expecting 200 `application/did+json`.
#[track_caller]
fn did_document(server: &Server, issuer: &str) -> Value {
    let response = server.fetch(&format!("/issuers/{issuer}/did.json"));
    response.assert_status(200);
    assert_eq!(response.media_type(), Some("application/did+json"));
    response.body
}

/// The ids of the verification methods of a DID document.
fn did_methods(document: &Value) -> Vec<String> {
    document["verificationMethod"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str().map(str::to_owned))
        .collect()
}

/// The JWKS, expecting 200.
#[track_caller]
fn jwks(server: &Server) -> Vec<Value> {
    let response = server.fetch("/.well-known/jwks.json");
    response.assert_status(200);
    response.body["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("a key set: {}", response.text))
        .clone()
}

/// The `kid`s of a JWKS.
fn kids(keys: &[Value]) -> Vec<String> {
    keys.iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_owned))
        .collect()
}

/// Base58 (bitcoin alphabet) decoding.
#[track_caller]
fn base58_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut number: Vec<u8> = Vec::new(); // big-endian
    for c in text.bytes() {
        let mut carry = ALPHABET
            .iter()
            .position(|&a| a == c)
            .unwrap_or_else(|| panic!("{text:?} is not base58"));
        for byte in number.iter_mut().rev() {
            carry += usize::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            number.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = text.bytes().take_while(|&c| c == b'1').count();
    let mut bytes = vec![0; zeros];
    bytes.extend(number);
    bytes
}

/// Base64url without padding (RFC 4648 section 5).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let block = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            text.push(char::from(
                ALPHABET[((block >> (18 - 6 * i)) & 63) as usize],
            ));
        }
    }
    text
}

/// The 32 bytes of an Ed25519 public key in Multikey form (`z6Mk...`:
/// base58btc of the `ed01` multicodec prefix and the key).
#[track_caller]
fn multikey_bytes(multibase: &str) -> Vec<u8> {
    let decoded = base58_decode(multibase.strip_prefix('z').expect("base58btc multibase"));
    assert_eq!(&decoded[..2], [0xed, 0x01], "the Ed25519 multicodec prefix");
    assert_eq!(decoded.len(), 34, "{multibase}");
    decoded[2..].to_vec()
}

/// A change made to a signed credential.
type Change = Box<dyn Fn(&mut Value)>;

/// `credential` with `change` applied.
fn changed(credential: &Value, change: impl FnOnce(&mut Value)) -> Value {
    let mut copy = credential.clone();
    change(&mut copy);
    copy
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// Both body styles give a signed credential, served as issued, that
/// validates against the OB 3.0 schema and verifies both ways.
fn issued_credentials_carry_a_proof_that_verifies(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "Signing issuer");
    let did = server.did_of(&issuer);

    let ob2 = issue(&server, &badge, "ob2@example.org");
    let ob3 = issue_at(
        &server,
        "/credentials",
        &ob3_body(&badge, "ob3@example.org"),
    );
    let mut methods = BTreeSet::new();
    for issued in [&ob2, &ob3] {
        let id = uuid_of(issued);
        methods.insert(assert_proof(issued, &did));

        // Served as issued, the same document every time: signed once.
        let first = v3_credential(&server, &id);
        let second = v3_credential(&server, &id);
        assert_eq!(first.text, second.text, "signed once, served as issued");
        assert_eq!(&first.body, issued, "the issued document is the one served");
        assert_eq!(server.fetch(&format!("/credentials/{id}")).body, *issued);
        assert_valid(Schema::AchievementCredential, issued);

        for collection in [
            "/credentials",
            "/v2/credentials",
            "/v3/credentials",
            "/assertions",
            "/v2/assertions",
        ] {
            let report = verify_stored_at(&server, collection, &id);
            assert_all_passed(&report);
            assert_eq!(report["id"], issued["id"], "{report:#}");
        }
        let report = verify_posted(&server, issued);
        assert_all_passed(&report);
        assert_eq!(report["id"], issued["id"]);
        assert_all_passed(&verify_posted(&server, &json!({ "credential": issued })));
    }
    assert_eq!(ob3["validUntil"], "2099-05-01T12:00:00Z");
    // One key signed both: the issuer's active key, made on first use.
    assert_eq!(methods.len(), 1, "{methods:?}");
    let keys = keys_of(&server, &issuer);
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0]["status"], "active");
    assert_eq!(keys[0]["algorithm"], "Ed25519");
    assert_eq!(
        methods.first().map(String::as_str),
        keys[0]["verificationMethod"].as_str()
    );
}

/// Any change after signing breaks the signature; an edited `validUntil`
/// in the past is both a bad signature and expired.
fn changed_credentials_fail_verification(storage: &Storage) {
    let server = start(storage);
    let (_, badge) = issuer_with_badge(&server, "Tampered issuer");
    let issued = issue_at(&server, "/credentials", &ob3_body(&badge, "t@example.org"));
    assert_all_passed(&verify_posted(&server, &issued));

    let changes: Vec<(&str, Change)> = vec![
        ("name", Box::new(|c| c["name"] = json!("Another badge"))),
        (
            "the achievement",
            Box::new(|c| {
                c["credentialSubject"]["achievement"]["description"] = json!("Something else")
            }),
        ),
        (
            "the recipient",
            Box::new(|c| {
                c["credentialSubject"]["identifier"][0]["identityHash"] =
                    json!(format!("sha256${}", "0".repeat(64)))
            }),
        ),
        (
            "the issuer",
            Box::new(|c| c["issuer"]["name"] = json!("Someone else")),
        ),
        (
            "validFrom",
            Box::new(|c| c["validFrom"] = json!("2020-01-01T00:00:00Z")),
        ),
        (
            "an added field",
            Box::new(|c| c["description"] = json!("added after signing")),
        ),
        (
            "a removed field",
            Box::new(|c| {
                c.as_object_mut().map(|o| o.remove("validUntil"));
            }),
        ),
        (
            "the proof's date",
            Box::new(|c| c["proof"]["created"] = json!("2020-01-01T00:00:00Z")),
        ),
    ];
    for (what, change) in &changes {
        let report = verify_posted(&server, &changed(&issued, change));
        assert_bad_signature(&report);
        assert_eq!(report["isExpired"], false, "{what}: {report:#}");
        // The key is still fine and still the issuer's.
        assert_eq!(check(&report, "keyStatus")["passed"], true, "{what}");
        assert_eq!(check(&report, "issuerMatch")["passed"], true, "{what}");
    }

    // Expired: the server refuses to issue an expired credential, so the
    // expiry is edited in, which also breaks the signature.
    let expired = changed(&issued, |c| c["validUntil"] = json!("2024-06-01T00:00:00Z"));
    let report = verify_posted(&server, &expired);
    assert_bad_signature(&report);
    assert_eq!(report["isExpired"], true, "{report:#}");
    assert_eq!(check(&report, "validityWindow")["passed"], false);

    // The stored credential is untouched by all this.
    assert_all_passed(&verify_stored(&server, &uuid_of(&issued)));
}

/// A revoked credential keeps a valid signature but fails verification.
fn revoked_credentials_fail_verification(storage: &Storage) {
    let server = start(storage);
    let (_, badge) = issuer_with_badge(&server, "Revoking issuer");
    let issued = issue(&server, &badge, "revoked@example.org");
    let id = uuid_of(&issued);
    server
        .post_as(
            &admin(),
            &format!("/credentials/{id}/revoke"),
            &json!({"reason": "issued by mistake"}),
        )
        .assert_status(200);

    for report in [
        verify_stored(&server, &id),
        verify_stored_at(&server, "/v2/credentials", &id),
        verify_posted(&server, &issued),
    ] {
        assert_eq!(report["isValid"], false, "{report:#}");
        assert_eq!(report["isRevoked"], true, "{report:#}");
        assert_eq!(report["errorCode"], "REVOKED", "{report:#}");
        assert_eq!(report["hasValidSignature"], true, "{report:#}");
        let status = check(&report, "status");
        assert_eq!(status["passed"], false);
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.contains("issued by mistake")),
            "{status}"
        );
    }

    // An id that merely starts like ours (another port, another host) is
    // not one of our credentials: no status is looked up for it.
    let lookalike = changed(&issued, |c| {
        c["id"] = json!(format!("{}0/v3/credentials/{id}", server.base_url()))
    });
    let report = verify_posted(&server, &lookalike);
    assert_bad_signature(&report);
    assert_eq!(report["isRevoked"], false, "{report:#}");
    assert!(
        !check_names(&report).contains(&"status".to_owned()),
        "{report:#}"
    );
}

/// `?sign=false` issues (and replaces) without a proof, which verification
/// reports as `NO_PROOF`; replacing without it signs anew.
fn unsigned_issuance_has_no_proof(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "Unsigned issuer");
    let did = server.did_of(&issuer);

    let unsigned = issue_at(
        &server,
        "/credentials?sign=false",
        &award_body(&badge, "u@example.org"),
    );
    assert!(unsigned.get("proof").is_none(), "{unsigned:#}");
    let id = uuid_of(&unsigned);
    assert!(v3_credential(&server, &id).body.get("proof").is_none());
    for report in [
        verify_stored(&server, &id),
        verify_posted(&server, &unsigned),
    ] {
        assert_eq!(report["isValid"], false, "{report:#}");
        assert_eq!(report["errorCode"], "NO_PROOF", "{report:#}");
        assert_eq!(report["hasValidSignature"], false, "{report:#}");
    }
    // Nothing was signed: the issuer has no key yet.
    assert!(keys_of(&server, &issuer).is_empty());

    let batch = server.post_as(
        &admin(),
        "/credentials/batch?sign=false",
        &json!({"credentials": [award_body(&badge, "b1@example.org"), award_body(&badge, "b2@example.org")]}),
    );
    batch.assert_status(201);
    for credential in batch.body.as_array().expect("a list") {
        assert!(credential.get("proof").is_none(), "{credential:#}");
    }

    // Replacing signs the changed credential anew, unless told not to.
    let target = format!("/credentials/{id}");
    let replaced = server.put_as(&admin(), &target, &award_body(&badge, "u2@example.org"));
    replaced.assert_status(200);
    assert_proof(&replaced.body, &did);
    assert_eq!(v3_credential(&server, &id).body, replaced.body);
    assert_all_passed(&verify_stored(&server, &id));
    let resigned = server.put_as(&admin(), &target, &award_body(&badge, "u3@example.org"));
    resigned.assert_status(200);
    assert_ne!(
        proof_of(&resigned.body)["proofValue"],
        proof_of(&replaced.body)["proofValue"]
    );
    assert_all_passed(&verify_posted(&server, &resigned.body));
    let unsigned_again = server.put_as(
        &admin(),
        &format!("{target}?sign=false"),
        &award_body(&badge, "u4@example.org"),
    );
    unsigned_again.assert_status(200);
    assert!(unsigned_again.body.get("proof").is_none());
    assert_eq!(verify_stored(&server, &id)["errorCode"], "NO_PROOF");
}

/// The DID document lists the issuer's key as a Multikey for
/// `assertionMethod`; the JWKS lists it as an OKP key with the same bytes.
fn did_document_and_jwks_publish_the_keys(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "Published issuer");
    let did = server.did_of(&issuer);

    // Before anything is signed there is no key to publish.
    let empty = did_document(&server, &issuer);
    assert_eq!(empty["id"], did);
    assert_eq!(empty["verificationMethod"], json!([]));
    assert_eq!(empty["assertionMethod"], json!([]));

    let issued = issue(&server, &badge, "did@example.org");
    let method = assert_proof(&issued, &did);
    let keys = keys_of(&server, &issuer);
    let multibase = keys[0]["publicKeyMultibase"]
        .as_str()
        .expect("publicKeyMultibase")
        .to_owned();
    assert!(multibase.starts_with("z6Mk"), "{multibase}");

    let document = did_document(&server, &issuer);
    assert_eq!(
        document["@context"],
        json!([
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1"
        ])
    );
    assert_eq!(document["id"], did);
    assert_eq!(
        document["alsoKnownAs"],
        json!([server.url(&format!("/v3/issuers/{issuer}"))])
    );
    assert_eq!(
        document["verificationMethod"],
        json!([{
            "id": method,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multibase,
        }])
    );
    assert_eq!(document["assertionMethod"], json!([method]));
    // did:web resolves on the bare path only.
    for prefix in ["/v2", "/v3"] {
        assert_eq!(
            server
                .fetch(&format!("{prefix}/issuers/{issuer}/did.json"))
                .status,
            404
        );
    }
    assert_eq!(
        server
            .fetch(&format!("/issuers/{}/did.json", uuid::Uuid::new_v4()))
            .status,
        404
    );

    let response = server.fetch("/.well-known/jwks.json");
    response.assert_status(200);
    let jwks = jwks(&server);
    let jwk = jwks
        .iter()
        .find(|k| k["kid"] == method.as_str())
        .unwrap_or_else(|| panic!("{method} is not in the JWKS: {jwks:?}"));
    assert_eq!(
        *jwk,
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": base64url(&multikey_bytes(&multibase)),
            "kid": method,
            "alg": "EdDSA",
            "use": "sig",
        })
    );
    assert_eq!(
        jwk["x"].as_str().map(str::len),
        Some(43),
        "32 bytes in base64url"
    );
}

/// Rotation: new credentials carry the new key, old ones still verify
/// with the retired key, both are published. Revoking the old key makes
/// its credentials fail and unpublishes it.
fn rotation_keeps_old_credentials_and_revocation_ends_them(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "Rotating issuer");
    let (other_issuer, _) = issuer_with_badge(&server, "Bystander issuer");
    let did = server.did_of(&issuer);
    let old = issue(&server, &badge, "old@example.org");
    let old_method = assert_proof(&old, &did);
    let old_key = keys_of(&server, &issuer)[0]["id"]
        .as_str()
        .expect("a key id")
        .to_owned();
    let rotate = format!("/issuers/{issuer}/keys/rotate");

    // Only someone who manages the issuer may rotate.
    server.post(&rotate, &json!({})).assert_status(401);
    let owner = server.create_user(&admin(), "bystander", "a-long-enough-password-1", "issuer");
    assert!(!owner.is_empty());
    let outsider = server.login("bystander", "a-long-enough-password-1");
    server
        .post_as(&outsider, &rotate, &json!({}))
        .assert_status(403);
    assert_eq!(
        keys_of(&server, &issuer).len(),
        1,
        "a refused rotation changes nothing"
    );

    let rotated = server.post_as(&admin(), &rotate, &json!({}));
    rotated.assert_status(201);
    let new_method = rotated.body["verificationMethod"]
        .as_str()
        .expect("verificationMethod")
        .to_owned();
    assert_ne!(new_method, old_method);
    assert_eq!(rotated.body["status"], "active");

    let keys = keys_of(&server, &issuer);
    assert_eq!(keys.len(), 2, "{keys:?}");
    let status_of = |keys: &[Value], method: &str| -> Value {
        keys.iter()
            .find(|k| k["verificationMethod"] == method)
            .unwrap_or_else(|| panic!("no key {method} in {keys:?}"))
            .clone()
    };
    let retired = status_of(&keys, &old_method);
    assert_eq!(retired["status"], "retired");
    assert!(retired["retiredAt"].is_string() && retired["revokedAt"].is_null());
    assert_eq!(status_of(&keys, &new_method)["status"], "active");

    let new = issue(&server, &badge, "new@example.org");
    assert_eq!(assert_proof(&new, &did), new_method);
    let report = verify_stored(&server, &uuid_of(&old));
    assert_all_passed(&report);
    assert!(
        check(&report, "keyStatus")["message"]
            .as_str()
            .is_some_and(|m| m.contains("retired")),
        "{report:#}"
    );
    assert_all_passed(&verify_stored(&server, &uuid_of(&new)));
    assert_all_passed(&verify_posted(&server, &old));
    let published = did_methods(&did_document(&server, &issuer));
    assert_eq!(
        published.iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([&old_method, &new_method])
    );
    let published_keys = kids(&jwks(&server));
    assert!(published_keys.contains(&old_method) && published_keys.contains(&new_method));

    // Revoking: only a manager, only a key of this issuer.
    let revoke = format!("/issuers/{issuer}/keys/{old_key}/revoke");
    server.post(&revoke, &json!({})).assert_status(401);
    server
        .post_as(&outsider, &revoke, &json!({}))
        .assert_status(403);
    server
        .post_as(
            &admin(),
            &format!("/issuers/{other_issuer}/keys/{old_key}/revoke"),
            &json!({}),
        )
        .assert_status(404);
    let revoked = server.post_as(&admin(), &revoke, &json!({}));
    revoked.assert_status(200);
    assert_eq!(revoked.body["status"], "revoked");
    assert!(revoked.body["revokedAt"].is_string());

    for report in [
        verify_stored(&server, &uuid_of(&old)),
        verify_posted(&server, &old),
    ] {
        assert_eq!(report["isValid"], false, "{report:#}");
        assert_eq!(report["errorCode"], "KEY_REVOKED", "{report:#}");
        assert_eq!(report["hasValidSignature"], false, "{report:#}");
        assert_eq!(check(&report, "keyStatus")["passed"], false, "{report:#}");
    }
    assert_all_passed(&verify_stored(&server, &uuid_of(&new)));
    assert_eq!(
        did_methods(&did_document(&server, &issuer)),
        std::slice::from_ref(&new_method)
    );
    assert_eq!(
        did_document(&server, &issuer)["assertionMethod"],
        json!([new_method])
    );
    let published_keys = kids(&jwks(&server));
    assert!(!published_keys.contains(&old_method), "{published_keys:?}");
    assert!(published_keys.contains(&new_method), "{published_keys:?}");

    // Revoking the active key too: the next credential gets a fresh key.
    let new_key = status_of(&keys_of(&server, &issuer), &new_method)["id"]
        .as_str()
        .expect("a key id")
        .to_owned();
    server
        .post_as(
            &admin(),
            &format!("/issuers/{issuer}/keys/{new_key}/revoke"),
            &json!({}),
        )
        .assert_status(200);
    let fresh = issue(&server, &badge, "fresh@example.org");
    let fresh_method = assert_proof(&fresh, &did);
    assert!(fresh_method != old_method && fresh_method != new_method);
    assert_all_passed(&verify_stored(&server, &uuid_of(&fresh)));
    assert_eq!(did_methods(&did_document(&server, &issuer)), [fresh_method]);
}

/// A credential issued through `/v2` is signed in its v3 form, and a batch
/// signs every credential.
fn v2_and_batch_issuance_sign(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "Batch issuer");
    let did = server.did_of(&issuer);

    let assertion = issue_at(
        &server,
        "/v2/credentials",
        &award_body(&badge, "v2@example.org"),
    );
    assert_eq!(assertion["type"], "Assertion", "{assertion:#}");
    assert!(
        assertion.get("proof").is_none(),
        "OB 2.0 assertions carry no proof"
    );
    let id = uuid_of(&assertion);
    let v3 = v3_credential(&server, &id).body;
    assert_proof(&v3, &did);
    assert_valid(Schema::AchievementCredential, &v3);
    assert_all_passed(&verify_stored_at(&server, "/v2/credentials", &id));
    assert_all_passed(&verify_posted(&server, &v3));

    let bodies: Vec<Value> = (0..5)
        .map(|i| {
            if i % 2 == 0 {
                award_body(&badge, &format!("batch{i}@example.org"))
            } else {
                ob3_body(&badge, &format!("batch{i}@example.org"))
            }
        })
        .collect();
    let batch = server.post_as(&admin(), "/credentials/batch", &json!(bodies));
    batch.assert_status(201);
    let issued = batch.body.as_array().expect("a list").clone();
    assert_eq!(issued.len(), 5);
    let mut values = BTreeSet::new();
    for credential in &issued {
        assert_proof(credential, &did);
        values.insert(proof_of(credential)["proofValue"].to_string());
        let id = uuid_of(credential);
        assert_eq!(&v3_credential(&server, &id).body, credential);
        assert_all_passed(&verify_stored(&server, &id));
    }
    assert_eq!(values.len(), 5, "each credential has its own signature");

    // A v3 list serves the signed credentials as issued.
    let list = server.get_as(
        &admin(),
        &format!("/v3/credentials?issuer={issuer}&limit=50"),
    );
    list.assert_status(200);
    for credential in list.body.as_array().expect("a list") {
        assert_proof(credential, &did);
    }
}

/// A proof made by another issuer's key does not vouch for this issuer's
/// credential.
fn a_proof_of_another_issuer_fails_issuer_match(storage: &Storage) {
    let server = start(storage);
    let (_, badge_a) = issuer_with_badge(&server, "Issuer A");
    let (_, badge_b) = issuer_with_badge(&server, "Issuer B");
    let a = issue(&server, &badge_a, "a@example.org");
    let b = issue(&server, &badge_b, "b@example.org");

    let forged = changed(&a, |c| c["proof"] = b["proof"].clone());
    let report = verify_posted(&server, &forged);
    assert_eq!(report["isValid"], false, "{report:#}");
    assert_eq!(report["errorCode"], "ISSUER_MISMATCH", "{report:#}");
    assert_eq!(check(&report, "issuerMatch")["passed"], false, "{report:#}");
    assert_eq!(check(&report, "keyStatus")["passed"], true, "{report:#}");

    // Naming B's key with A's signature: the same mismatch, and the
    // signature does not verify with B's key either.
    let renamed = changed(&a, |c| {
        c["proof"]["verificationMethod"] = b["proof"]["verificationMethod"].clone()
    });
    let report = verify_posted(&server, &renamed);
    assert_eq!(report["errorCode"], "ISSUER_MISMATCH", "{report:#}");
    assert_eq!(report["hasValidSignature"], false, "{report:#}");
    assert_eq!(check(&report, "proof")["passed"], false, "{report:#}");

    // An issuer named like A on another host is not A.
    let elsewhere = changed(&a, |c| {
        let issuer = c["issuer"]["id"].as_str().expect("an issuer id").to_owned();
        let uuid = issuer.rsplit(['/', ':']).next().expect("a UUID").to_owned();
        c["issuer"]["id"] = json!(format!("did:web:elsewhere.example:issuers:{uuid}"));
    });
    let report = verify_posted(&server, &elsewhere);
    assert_eq!(report["errorCode"], "ISSUER_MISMATCH", "{report:#}");

    // A key that is nobody's.
    let unknown = changed(&a, |c| {
        let method = method_of(&a);
        let (did, _) = method.split_once('#').expect("a fragment");
        c["proof"]["verificationMethod"] = json!(format!("{did}#key-{}", uuid::Uuid::new_v4()));
    });
    let report = verify_posted(&server, &unknown);
    assert_eq!(report["errorCode"], "UNKNOWN_KEY", "{report:#}");
}

/// Keys live in the database: after a restart with the same
/// `KEY_ENCRYPTION_KEY` the same key signs and old credentials verify; with
/// another one, signing fails with a 500 that reveals nothing and a log
/// line that says why, while verification still works and a rotation makes
/// a key the new one seals.
fn keys_survive_a_restart_only_with_their_encryption_key(storage: &Storage) {
    // A BASE_URL that does not change with the port, with a path.
    let base = "https://badges.example.org/ob";
    let launch = |kek: &str| launch_with(storage, kek).env("BASE_URL", base).start();

    let server = launch(KEK);
    let (issuer, badge) = issuer_with_badge(&server, "Restarted issuer");
    let did = format!("did:web:badges.example.org:ob:issuers:{issuer}");
    let before = issue(&server, &badge, "before@example.org");
    let method = assert_proof(&before, &did);
    let keys_before = keys_of(&server, &issuer);
    drop(server);

    let server = launch(KEK);
    assert_eq!(keys_of(&server, &issuer), keys_before, "the same key");
    assert_all_passed(&verify_stored(&server, &uuid_of(&before)));
    assert_all_passed(&verify_posted(&server, &before));
    let after = issue(&server, &badge, "after@example.org");
    assert_eq!(
        assert_proof(&after, &did),
        method,
        "signed with the same key"
    );
    assert_all_passed(&verify_stored(&server, &uuid_of(&after)));
    assert_eq!(did_document(&server, &issuer)["id"], did);
    drop(server);

    let server = launch(OTHER_KEK);
    let refused = server.post_as(
        &admin(),
        "/credentials",
        &award_body(&badge, "x@example.org"),
    );
    refused.assert_status(500);
    assert_eq!(refused.body, json!({"error": "Internal Server Error"}));
    for secret in [KEK, OTHER_KEK, "KEY_ENCRYPTION_KEY", "private"] {
        assert!(
            !refused.text.contains(secret),
            "the 500 reveals {secret}: {}",
            refused.text
        );
    }
    let log = server.output();
    assert!(log.contains(CANNOT_OPEN), "the log says why:\n{log}");
    for secret in [KEK, OTHER_KEK] {
        assert!(
            !log.contains(secret),
            "the log reveals a KEY_ENCRYPTION_KEY:\n{log}"
        );
    }
    // Nothing was stored, and what was issued still verifies: public keys
    // are not sealed.
    assert_all_passed(&verify_stored(&server, &uuid_of(&before)));
    assert_eq!(keys_of(&server, &issuer), keys_before);
    // Unsigned issuance needs no private key.
    issue_at(
        &server,
        "/credentials?sign=false",
        &award_body(&badge, "unsigned@example.org"),
    );

    // Rotating does not open the old key: it is how an issuer signs again
    // under the new KEY_ENCRYPTION_KEY, and what it signed still verifies.
    let rotated = server.post_as(
        &admin(),
        &format!("/issuers/{issuer}/keys/rotate"),
        &json!({}),
    );
    rotated.assert_status(201);
    let resumed = issue(&server, &badge, "resumed@example.org");
    assert_eq!(
        assert_proof(&resumed, &did),
        rotated.body["verificationMethod"]
            .as_str()
            .expect("a method")
    );
    assert_all_passed(&verify_stored(&server, &uuid_of(&resumed)));
    assert_all_passed(&verify_stored(&server, &uuid_of(&before)));
}

/// The JSON of one base64url segment of a compact JWS.
fn jws_segment(token: &str, index: usize) -> Value {
    use base64::Engine as _;
    let segment = token
        .split('.')
        .nth(index)
        .expect("a compact JWS has 3 parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// VC-JWT: `Accept: application/vc+jwt` (or `?format=jwt`) answers the
/// signed credential as a compact JWS (EdDSA, `kid` = the verification
/// method) with the claims OB 3.0 maps; `POST /verify` checks it, and a
/// changed token fails; an OB 2.0 rendering has no VC-JWT (406), and an
/// unknown `format` is a 400.
fn credentials_are_served_and_verified_as_vc_jwt(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "JWT issuer");
    let did = server.did_of(&issuer);
    let mut body = ob3_body(&badge, "jwt@example.org");
    body["credentialSubject"] = json!({
        "id": "did:example:jwt-subject",
        "achievement": {"id": format!("urn:uuid:{badge}")}
    });
    let issued = issue_at(&server, "/credentials", &body);
    let id = uuid_of(&issued);
    let method = assert_proof(&issued, &did);

    let by_accept = server.fetch_with(
        &format!("/credentials/{id}"),
        &[("Accept", "application/vc+jwt")],
    );
    by_accept.assert_status(200);
    assert_eq!(by_accept.header("content-type"), Some("application/vc+jwt"));
    let token = by_accept.text.clone();
    let by_query = server.fetch(&format!("/v3/credentials/{id}?format=jwt"));
    assert_eq!(
        by_query.text, token,
        "EdDSA is deterministic: the same token"
    );

    let header = jws_segment(&token, 0);
    assert_eq!(header["alg"], json!("EdDSA"));
    assert_eq!(header["kid"], json!(method));
    let payload = jws_segment(&token, 1);
    assert_eq!(payload["iss"], json!(did));
    assert_eq!(payload["iss"], issued["issuer"]["id"]);
    assert_eq!(payload["jti"], issued["id"]);
    assert_eq!(payload["sub"], json!("did:example:jwt-subject"));
    assert_eq!(
        payload["nbf"],
        json!(1_714_564_800),
        "validFrom 2024-05-01T12:00:00Z"
    );
    assert_eq!(
        payload["exp"],
        json!(4_081_320_000_i64),
        "validUntil 2099-05-01T12:00:00Z"
    );
    assert_eq!(
        payload["proof"], issued["proof"],
        "the embedded proof is kept"
    );

    let report = verify_posted(&server, &json!(token));
    assert_eq!(report["isValid"], json!(true), "{report:#}");
    assert_eq!(report["hasValidSignature"], json!(true));
    let report = verify_posted(&server, &json!({"credential": token}));
    assert_eq!(report["isValid"], json!(true), "{report:#}");

    // Another payload under the same signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut changed = payload.clone();
    changed["sub"] = json!("did:example:someone-else");
    parts[1] = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(changed.to_string())
    };
    let report = verify_posted(&server, &json!(parts.join(".")));
    assert_eq!(report["isValid"], json!(false));
    assert_eq!(
        report["errorCode"],
        json!("INVALID_SIGNATURE"),
        "{report:#}"
    );

    let v2 = server.fetch_with(
        &format!("/v2/credentials/{id}"),
        &[("Accept", "application/vc+jwt")],
    );
    v2.assert_status(406);
    server
        .fetch(&format!("/credentials/{id}?format=xml"))
        .assert_status(400);
}
