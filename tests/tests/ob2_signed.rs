//! RSA keys, RS256 and Open Badges 2.0 signed verification end to end on
//! both backends: each issuer gets an RSA key when one is first needed,
//! published in the JWKS, its key list, its DID document and as an OB 2.0
//! `CryptographicKey` its OB 2.0 profile names; an OB 2.0 assertion is
//! served as a compact JWS (RS256) whose `creator` is that key, and a
//! credential as an RS256 VC-JWT. Both are checked here independently of
//! the server (with the `jsonwebtoken` crate and the published keys) and by
//! `POST /verify`, which finds tampering, revoked awards (also listed in the
//! issuer's `RevocationList`) and revoked keys.
//!
//! Writes are sent with a configured administrator key, reads anonymously,
//! as a verifier would.

use std::collections::BTreeSet;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openbadges_e2e::{award_body, on_both_backends, uuid_of, Caller, Server, Storage, JWT_SECRET};
use serde_json::{json, Value};

on_both_backends!(
    rsa_keys_are_made_when_first_needed_and_published,
    ob2_signed_assertions_verify_and_tampering_fails,
    the_revocation_list_lists_revoked_awards,
    rs256_vc_jwts_verify_with_the_jwks_and_the_server,
    rotated_rsa_keys_keep_verifying_and_revoked_ones_verify_nothing,
);

/// The configured administrator key (`AUTH_API_KEY_OB2`).
const ADMIN_KEY: &str = "e2e-ob2-signed-admin-key-0123456789";
/// The `KEY_ENCRYPTION_KEY` the keys are sealed with.
const KEK: &str = "1f2e3d4c5b6a79887766554433221100ffeeddccbbaa99887766554433221100";
/// The OB 2.0 JSON-LD context.
const OB2_CONTEXT: &str = "https://w3id.org/openbadges/v2";
/// The checks of a report on a valid signed assertion of ours, in order.
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

/// A server on `storage` with authentication on, the administrator key, no
/// rate limit, and `BASE_URL` at its own address.
fn start(storage: &Storage) -> Server {
    storage
        .launch()
        .env("AUTH_API_KEY_OB2", format!("{ADMIN_KEY}:admin:ob2 tests"))
        .env("JWT_SECRET", JWT_SECRET)
        .env("KEY_ENCRYPTION_KEY", KEK)
        .env("RATE_LIMIT_PER_MINUTE", "0")
        .base_url_at_own_address()
        .start()
}

/// An issuer and one of its achievements: their UUIDs.
#[track_caller]
fn issuer_with_badge(server: &Server, name: &str) -> (String, String) {
    server.issuer_with_badge(&admin(), name, &format!("Badge of {name}"))
}

/// Awards `badge` to `email`: the award's UUID.
#[track_caller]
fn award(server: &Server, badge: &str, email: &str) -> String {
    let mut body = award_body(badge, email);
    body["expires"] = json!("2099-05-01T12:00:00Z");
    let response = server.post_as(&admin(), "/credentials", &body);
    response.assert_status(201);
    uuid_of(&response.body)
}

/// The OB 2.0 signed assertion of award `id` (`?format=jws`).
#[track_caller]
fn jws_of(server: &Server, id: &str) -> String {
    let response = server.fetch(&format!("/v2/credentials/{id}?format=jws"));
    response.assert_status(200);
    assert_eq!(response.media_type(), Some("application/jose"));
    response.text
}

/// The issuer's keys.
#[track_caller]
fn keys_of(server: &Server, issuer: &str) -> Vec<Value> {
    let response = server.fetch(&format!("/issuers/{issuer}/keys"));
    response.assert_status(200);
    response.body.as_array().expect("a list of keys").clone()
}

/// The issuer's RSA keys.
#[track_caller]
fn rsa_keys_of(server: &Server, issuer: &str) -> Vec<Value> {
    keys_of(server, issuer)
        .into_iter()
        .filter(|k| k["algorithm"] == "RS256")
        .collect()
}

/// The JWKS.
#[track_caller]
fn jwks(server: &Server) -> Vec<Value> {
    let response = server.fetch("/.well-known/jwks.json");
    response.assert_status(200);
    response.body["keys"].as_array().expect("a key set").clone()
}

/// The JWK of `kid` in the JWKS, if it is there.
fn jwk(server: &Server, kid: &str) -> Option<Value> {
    jwks(server).into_iter().find(|k| k["kid"] == kid)
}

/// The JSON of one base64url part of a compact JWS.
#[track_caller]
fn part(token: &str, index: usize) -> Value {
    let segment = token
        .split('.')
        .nth(index)
        .expect("a compact JWS has 3 parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// `token` with its payload replaced by `payload` (the signature kept).
fn with_payload(token: &str, payload: &Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
    parts.join(".")
}

/// RS256 validation with no claim required (OB 2.0 payloads have none, and
/// the validity window is the credential's).
fn rs256() -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation
}

/// Decodes `token` with the `jsonwebtoken` crate and `key`: the payload,
/// or the library's error.
fn decode(token: &str, key: &DecodingKey) -> Result<Value, jsonwebtoken::errors::Error> {
    jsonwebtoken::decode::<Value>(token, key, &rs256()).map(|data| data.claims)
}

/// The decoding key of an RSA JWK.
#[track_caller]
fn jwk_key(jwk: &Value) -> DecodingKey {
    assert_eq!(jwk["kty"], "RSA", "{jwk}");
    DecodingKey::from_rsa_components(jwk["n"].as_str().expect("n"), jwk["e"].as_str().expect("e"))
        .expect("a usable RSA JWK")
}

/// One DER element at the start of `der`: its tag, its contents, and what
/// follows it.
#[track_caller]
fn der_element(der: &[u8]) -> (u8, &[u8], &[u8]) {
    let (tag, first) = (der[0], der[1]);
    let (length, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let count = usize::from(first & 0x7f);
        let length = der[2..2 + count]
            .iter()
            .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        (length, 2 + count)
    };
    (tag, &der[header..header + length], &der[header + length..])
}

/// The decoding key of an SPKI PEM RSA public key, read here rather than by
/// the server's code: the PKCS#1 `RSAPublicKey` inside the
/// `SubjectPublicKeyInfo`'s bit string, after checking the algorithm is
/// rsaEncryption (1.2.840.113549.1.1.1).
#[track_caller]
fn pem_key(pem: &str) -> DecodingKey {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64 PEM body");
    let (tag, info, rest) = der_element(&der);
    assert!(
        tag == 0x30 && rest.is_empty(),
        "SubjectPublicKeyInfo is a SEQUENCE"
    );
    let (tag, algorithm, rest) = der_element(info);
    assert_eq!(tag, 0x30, "AlgorithmIdentifier");
    let (tag, oid, _) = der_element(algorithm);
    assert_eq!(tag, 0x06);
    assert_eq!(
        oid,
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
        "rsaEncryption"
    );
    let (tag, bits, _) = der_element(rest);
    assert!(tag == 0x03 && bits[0] == 0, "a BIT STRING of whole bytes");
    DecodingKey::from_rsa_der(&bits[1..])
}

/// `POST /verify body`, anonymously: the report.
#[track_caller]
fn verify(server: &Server, body: &Value) -> Value {
    let response = server.post("/verify", body);
    response.assert_status(200);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let report = response.body;
    let checks = report["checks"].as_array().expect("checks");
    let all_passed = checks.iter().all(|c| c["passed"] == true);
    assert_eq!(report["isValid"], json!(all_passed), "{report:#}");
    assert_eq!(report["errorCode"].is_null(), all_passed, "{report:#}");
    report
}

fn check_names(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["check"].as_str().map(str::to_owned))
        .collect()
}

#[track_caller]
fn assert_valid(report: &Value) {
    assert_eq!(report["isValid"], true, "{report:#}");
    assert_eq!(report["hasValidSignature"], true, "{report:#}");
    assert_eq!(report["isRevoked"], false, "{report:#}");
    assert_eq!(check_names(report), ALL_CHECKS, "{report:#}");
}

#[track_caller]
fn assert_fails_with(report: &Value, code: &str) {
    assert_eq!(report["isValid"], false, "{report:#}");
    assert_eq!(report["errorCode"], code, "{report:#}");
}

/// The OB 2.0 issuer profile.
#[track_caller]
fn v2_profile(server: &Server, issuer: &str) -> Value {
    let response = server.fetch(&format!("/v2/issuers/{issuer}"));
    response.assert_status(200);
    response.body
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// No RSA key until one is needed; then one, active, sealed like the
/// Ed25519 key and published: key list (PEM, CryptographicKey URL), JWKS
/// (`kty: RSA`), DID document (`JsonWebKey`), OB 2.0 profile (`publicKey`,
/// `revocationList`).
fn rsa_keys_are_made_when_first_needed_and_published(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "RSA issuer");
    let did = server.did_of(&issuer);
    let id = award(&server, &badge, "rsa@example.org");

    // Issuing signs with Ed25519 only: no RSA key yet.
    let keys = keys_of(&server, &issuer);
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0]["algorithm"], "Ed25519");
    let profile = v2_profile(&server, &issuer);
    assert!(profile.get("publicKey").is_none(), "{profile}");
    assert!(profile.get("revocationList").is_none(), "{profile}");
    assert!(jwks(&server).iter().all(|k| k["kty"] == "OKP"));

    // The first signed assertion makes it, once.
    let token = jws_of(&server, &id);
    assert_eq!(jws_of(&server, &id), token, "one key, deterministic RS256");
    let rsa = rsa_keys_of(&server, &issuer);
    assert_eq!(rsa.len(), 1, "{rsa:?}");
    let key = &rsa[0];
    let key_id = key["id"].as_str().expect("a key id");
    let method = format!("{did}#key-{key_id}");
    assert_eq!(key["status"], "active");
    assert_eq!(key["verificationMethod"], method);
    let key_url = server.url(&format!("/issuers/{issuer}/keys/{key_id}"));
    assert_eq!(key["cryptographicKey"], key_url);
    let pem = key["publicKeyPem"].as_str().expect("publicKeyPem");
    assert!(
        pem.starts_with("-----BEGIN PUBLIC KEY-----\n")
            && pem.ends_with("-----END PUBLIC KEY-----\n"),
        "{pem}"
    );
    assert!(key.get("publicKeyMultibase").is_none(), "{key}");
    assert_eq!(keys_of(&server, &issuer).len(), 2);

    // JWKS: kty RSA, 2048-bit modulus, exponent 65537, the verification
    // method as kid; the same key as the PEM.
    let published = jwk(&server, &method).unwrap_or_else(|| panic!("{method} not in the JWKS"));
    assert_eq!(published["kty"], "RSA");
    assert_eq!(published["alg"], "RS256");
    assert_eq!(published["use"], "sig");
    assert_eq!(published["e"], "AQAB");
    let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(published["n"].as_str().expect("n"))
        .expect("base64url");
    assert_eq!(modulus.len(), 256, "a 2048-bit key");
    assert!(decode(&token, &jwk_key(&published)).is_ok());
    let from_pem = pem_key(pem);
    assert!(decode(&token, &from_pem).is_ok());

    // DID document: the RSA key as a JsonWebKey the VC-JWT kid resolves to.
    let document = server.fetch(&format!("/issuers/{issuer}/did.json")).body;
    assert!(document["@context"]
        .as_array()
        .is_some_and(|c| c.contains(&json!("https://w3id.org/security/jwk/v1"))));
    let method_doc = document["verificationMethod"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == method))
        .unwrap_or_else(|| panic!("{method} not in {document:#}"));
    assert_eq!(method_doc["type"], "JsonWebKey");
    assert_eq!(method_doc["controller"], did);
    assert_eq!(method_doc["publicKeyJwk"]["n"], published["n"]);
    assert!(document["assertionMethod"]
        .as_array()
        .is_some_and(|m| m.contains(&json!(method))));

    // The OB 2.0 profile names the key and the revocation list.
    let profile = v2_profile(&server, &issuer);
    assert_eq!(profile["publicKey"], key_url);
    assert_eq!(
        profile["revocationList"],
        server.url(&format!("/issuers/{issuer}/revocation-list"))
    );
    // The OB 3.0 profile is unchanged.
    let v3 = server.fetch(&format!("/v3/issuers/{issuer}")).body;
    assert!(v3.get("publicKey").is_none() && v3.get("revocationList").is_none());
}

/// The OB 2.0 signed assertion: a compact JWS (RS256) of the assertion with
/// `SignedBadge` verification, whose creator is a CryptographicKey linked
/// both ways with the issuer profile; it verifies with the published key in
/// `jsonwebtoken` and by `POST /verify`, and any change fails both.
fn ob2_signed_assertions_verify_and_tampering_fails(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "Signing OB2 issuer");
    let id = award(&server, &badge, "ob2@example.org");

    let by_accept = server.fetch_with(
        &format!("/v2/credentials/{id}"),
        &[("Accept", "application/jose")],
    );
    by_accept.assert_status(200);
    assert_eq!(by_accept.media_type(), Some("application/jose"));
    let token = by_accept.text.clone();
    assert_eq!(jws_of(&server, &id), token);
    assert_eq!(token.split('.').count(), 3);

    let header = part(&token, 0);
    assert_eq!(header["alg"], "RS256");
    let payload = part(&token, 1);
    let creator = payload["verification"]["creator"]
        .as_str()
        .expect("verification.creator")
        .to_owned();
    assert_eq!(header["kid"], creator.as_str());
    assert_eq!(payload["verification"]["type"], "SignedBadge");
    assert_eq!(payload["@context"], OB2_CONTEXT);
    assert_eq!(payload["type"], "Assertion");
    assert_eq!(payload["id"], server.url(&format!("/v2/credentials/{id}")));
    assert_eq!(
        payload["badge"],
        server.url(&format!("/v2/achievements/{badge}"))
    );
    assert_eq!(payload["recipient"]["type"], "email");
    // The hosted assertion is the same document but for its verification.
    let hosted = server.fetch(&format!("/v2/credentials/{id}")).body;
    assert_eq!(hosted["verification"], json!({"type": "hosted"}));
    let mut unsigned = payload.clone();
    unsigned["verification"] = json!({"type": "hosted"});
    assert_eq!(unsigned, hosted);

    // The creator is a CryptographicKey owned by the issuer, whose profile
    // names it back.
    let key_doc = server.fetch(&creator);
    key_doc.assert_status(200);
    assert_eq!(key_doc.media_type(), Some("application/ld+json"));
    let key_doc = key_doc.body;
    let fields: BTreeSet<&str> = key_doc
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["@context", "type", "id", "owner", "publicKeyPem"])
    );
    assert_eq!(key_doc["@context"], OB2_CONTEXT);
    assert_eq!(key_doc["type"], "CryptographicKey");
    assert_eq!(key_doc["id"], creator.as_str());
    let owner = key_doc["owner"].as_str().expect("owner");
    assert_eq!(owner, server.url(&format!("/v2/issuers/{issuer}")));
    assert_eq!(server.fetch(owner).body["publicKey"], creator.as_str());
    let badge_doc = server.fetch(payload["badge"].as_str().expect("badge")).body;
    assert_eq!(badge_doc["issuer"], owner);

    // Independent check: jsonwebtoken with the published PEM.
    let pem = key_doc["publicKeyPem"].as_str().expect("publicKeyPem");
    let key = pem_key(pem);
    assert_eq!(decode(&token, &key).expect("the JWS verifies"), payload);

    // The server's check.
    let report = verify(&server, &json!(token));
    assert_valid(&report);
    assert_eq!(report["id"], payload["id"]);
    assert_eq!(report["isExpired"], false);
    assert_valid(&verify(&server, &json!({"credential": token})));

    // Tampering: another recipient, date or creator under the same
    // signature, or a flipped signature bit, fails both checks.
    let mut changes: Vec<(&str, Value)> = Vec::new();
    let mut other = payload.clone();
    other["recipient"]["identity"] =
        json!("sha256$0000000000000000000000000000000000000000000000000000000000000000");
    changes.push(("recipient", other));
    let mut other = payload.clone();
    other["issuedOn"] = json!("2020-01-01T00:00:00+00:00");
    changes.push(("issuedOn", other));
    let mut other = payload.clone();
    other["expires"] = json!("2199-01-01T00:00:00+00:00");
    changes.push(("expires", other));
    for (what, changed) in changes {
        let forged = with_payload(&token, &changed);
        assert!(
            decode(&forged, &key).is_err(),
            "{what}: jsonwebtoken accepts it"
        );
        let report = verify(&server, &json!(forged));
        assert_fails_with(&report, "INVALID_SIGNATURE");
        assert_eq!(report["hasValidSignature"], false, "{what}: {report:#}");
    }
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&parts[2])
        .expect("base64url");
    signature[10] ^= 1;
    parts[2] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
    assert_fails_with(
        &verify(&server, &json!(parts.join("."))),
        "INVALID_SIGNATURE",
    );
    // A creator that is not one of our keys.
    let mut elsewhere = payload.clone();
    elsewhere["verification"]["creator"] = json!("https://elsewhere.example.org/key.json");
    let mut forged: Vec<String> = with_payload(&token, &elsewhere)
        .split('.')
        .map(str::to_owned)
        .collect();
    forged[0] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#);
    assert_fails_with(&verify(&server, &json!(forged.join("."))), "UNKNOWN_KEY");
    // alg none is not taken.
    let none = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        token.split('.').nth(1).expect("a payload")
    );
    assert_fails_with(&verify(&server, &json!(none)), "INVALID_SIGNATURE");

    // Signed assertions are OB 2.0: not under /v3 or the bare path.
    server
        .fetch(&format!("/v3/credentials/{id}?format=jws"))
        .assert_status(406);
    server
        .fetch_with(
            &format!("/credentials/{id}"),
            &[("Accept", "application/jose")],
        )
        .assert_status(406);
    // Keys and revocation lists are bare-only, and an Ed25519 key is no
    // CryptographicKey.
    let ed25519 = keys_of(&server, &issuer)
        .into_iter()
        .find(|k| k["algorithm"] == "Ed25519")
        .expect("the Ed25519 key");
    let ed25519_id = ed25519["id"].as_str().expect("an id");
    server
        .fetch(&format!("/issuers/{issuer}/keys/{ed25519_id}"))
        .assert_status(404);
    server
        .fetch(&format!("/v2/issuers/{issuer}/keys/{ed25519_id}"))
        .assert_status(404);
    server
        .fetch(&format!("/issuers/{issuer}/keys/{}", uuid::Uuid::new_v4()))
        .assert_status(404);
}

/// The issuer's RevocationList: empty, then each revoked award by its
/// assertion URL with its reason; a revoked award's JWS fails with
/// `REVOKED` though its signature is good.
fn the_revocation_list_lists_revoked_awards(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "Revoking issuer");
    let (other_issuer, other_badge) = issuer_with_badge(&server, "Bystander issuer");
    let kept = award(&server, &badge, "kept@example.org");
    let revoked = award(&server, &badge, "revoked@example.org");
    let silent = award(&server, &badge, "silent@example.org");
    let elsewhere = award(&server, &other_badge, "elsewhere@example.org");
    let token = jws_of(&server, &revoked);

    let list_url = server.url(&format!("/issuers/{issuer}/revocation-list"));
    let list = server.fetch(&list_url);
    list.assert_status(200);
    assert_eq!(list.media_type(), Some("application/ld+json"));
    assert_eq!(
        list.body,
        json!({
            "@context": OB2_CONTEXT,
            "type": "RevocationList",
            "id": list_url,
            "issuer": server.url(&format!("/v2/issuers/{issuer}")),
            "revokedAssertions": [],
        })
    );
    assert_eq!(v2_profile(&server, &issuer)["revocationList"], list_url);

    server
        .post_as(
            &admin(),
            &format!("/credentials/{revoked}/revoke"),
            &json!({"reason": "Awarded in error"}),
        )
        .assert_status(200);
    server
        .post_as(
            &admin(),
            &format!("/credentials/{silent}/revoke"),
            &json!({}),
        )
        .assert_status(200);
    server
        .post_as(
            &admin(),
            &format!("/credentials/{elsewhere}/revoke"),
            &json!({}),
        )
        .assert_status(200);

    let list = server.fetch(&list_url).body;
    let entries = list["revokedAssertions"]
        .as_array()
        .expect("revokedAssertions");
    assert_eq!(entries.len(), 2, "{list:#}");
    assert!(entries.contains(&json!({
        "id": server.url(&format!("/v2/credentials/{revoked}")),
        "revocationReason": "Awarded in error",
    })));
    assert!(entries.contains(&json!({"id": server.url(&format!("/v2/credentials/{silent}"))})));
    let kept_url = server.url(&format!("/v2/credentials/{kept}"));
    assert!(!entries.iter().any(|e| e["id"] == kept_url.as_str()));
    let other_list = server
        .fetch(&format!("/issuers/{other_issuer}/revocation-list"))
        .body;
    assert_eq!(
        other_list["revokedAssertions"],
        json!([{"id": server.url(&format!("/v2/credentials/{elsewhere}"))}])
    );

    // The token still carries a good signature, but the award is revoked.
    let report = verify(&server, &json!(token));
    assert_fails_with(&report, "REVOKED");
    assert_eq!(report["isRevoked"], true, "{report:#}");
    assert_eq!(report["hasValidSignature"], true, "{report:#}");
    // A revoked award is gone, in every form.
    server
        .fetch(&format!("/v2/credentials/{revoked}?format=jws"))
        .assert_status(410);

    server
        .fetch(&format!(
            "/issuers/{}/revocation-list",
            uuid::Uuid::new_v4()
        ))
        .assert_status(404);
    server
        .fetch(&format!("/v2/issuers/{issuer}/revocation-list"))
        .assert_status(404);
}

/// RS256 VC-JWT: `?alg=RS256` signs with the RSA key, `kid` its
/// verification method; it verifies with the JWKS key in `jsonwebtoken` and
/// by `POST /verify`; a change fails both.
fn rs256_vc_jwts_verify_with_the_jwks_and_the_server(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "RS256 issuer");
    let did = server.did_of(&issuer);
    let id = award(&server, &badge, "vcjwt@example.org");
    let issued = server.fetch(&format!("/credentials/{id}")).body;

    let response = server.fetch(&format!("/credentials/{id}?format=jwt&alg=RS256"));
    response.assert_status(200);
    assert_eq!(response.media_type(), Some("application/vc+jwt"));
    let token = response.text.clone();
    let by_accept = server.fetch_with(
        &format!("/v3/credentials/{id}?alg=RS256"),
        &[("Accept", "application/vc+jwt")],
    );
    assert_eq!(by_accept.text, token, "RS256 is deterministic");

    let header = part(&token, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    let kid = header["kid"].as_str().expect("kid").to_owned();
    let rsa = rsa_keys_of(&server, &issuer);
    assert_eq!(rsa.len(), 1);
    assert_eq!(
        kid,
        format!("{did}#key-{}", rsa[0]["id"].as_str().expect("id"))
    );
    let payload = part(&token, 1);
    assert_eq!(payload["iss"], did);
    assert_eq!(payload["jti"], issued["id"]);
    assert_eq!(payload["proof"], issued["proof"]);
    assert_eq!(
        payload["exp"],
        json!(4_081_320_000_i64),
        "expires 2099-05-01T12:00:00Z"
    );

    // Independent check with the JWKS key the kid names.
    let published = jwk(&server, &kid).unwrap_or_else(|| panic!("{kid} is not in the JWKS"));
    let key = jwk_key(&published);
    assert_eq!(decode(&token, &key).expect("the VC-JWT verifies"), payload);

    let report = verify(&server, &json!(token));
    assert_eq!(report["isValid"], true, "{report:#}");
    assert_eq!(report["hasValidSignature"], true, "{report:#}");
    assert!(report["checks"].as_array().expect("checks").iter().any(
        |c| c["check"] == "proof" && c["message"].as_str().is_some_and(|m| m.contains("RS256"))
    ));
    assert_eq!(
        verify(&server, &json!({"credential": token}))["isValid"],
        true
    );

    let mut changed = payload.clone();
    changed["sub"] = json!("did:example:someone-else");
    let forged = with_payload(&token, &changed);
    assert!(decode(&forged, &key).is_err());
    assert_fails_with(&verify(&server, &json!(forged)), "INVALID_SIGNATURE");
    // The RSA key's kid with an EdDSA header is not taken either.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[0] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}).to_string());
    assert_fails_with(
        &verify(&server, &json!(parts.join("."))),
        "INVALID_SIGNATURE",
    );

    // EdDSA stays the default; other algorithms are refused.
    let eddsa = server.fetch(&format!("/credentials/{id}?format=jwt"));
    assert_eq!(part(&eddsa.text, 0)["alg"], "EdDSA");
    assert_eq!(
        server
            .fetch(&format!("/credentials/{id}?format=jwt&alg=EdDSA"))
            .text,
        eddsa.text
    );
    server
        .fetch(&format!("/credentials/{id}?format=jwt&alg=HS256"))
        .assert_status(400);
}

/// Rotating the RSA key (`?algorithm=RS256`) keeps what the old one signed
/// verifying, and both are published; revoking a key makes everything it
/// signed fail with `KEY_REVOKED` and unpublishes it everywhere.
fn rotated_rsa_keys_keep_verifying_and_revoked_ones_verify_nothing(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "Rotating RSA issuer");
    let id = award(&server, &badge, "rotate@example.org");
    let old_jws = jws_of(&server, &id);
    let old_jwt = server
        .fetch(&format!("/credentials/{id}?format=jwt&alg=RS256"))
        .text;
    let old_creator = part(&old_jws, 1)["verification"]["creator"]
        .as_str()
        .expect("creator")
        .to_owned();
    let old_kid = part(&old_jwt, 0)["kid"].as_str().expect("kid").to_owned();
    let old_key = rsa_keys_of(&server, &issuer)[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let ed25519_before: Vec<Value> = keys_of(&server, &issuer)
        .into_iter()
        .filter(|k| k["algorithm"] == "Ed25519")
        .collect();

    let rotate = format!("/issuers/{issuer}/keys/rotate?algorithm=RS256");
    server.post(&rotate, &json!({})).assert_status(401);
    server
        .post_as(
            &admin(),
            &format!("/issuers/{issuer}/keys/rotate?algorithm=ES256"),
            &json!({}),
        )
        .assert_status(400);
    let rotated = server.post_as(&admin(), &rotate, &json!({}));
    rotated.assert_status(201);
    assert_eq!(rotated.body["algorithm"], "RS256");
    assert_eq!(rotated.body["status"], "active");
    let new_creator = rotated.body["cryptographicKey"]
        .as_str()
        .expect("cryptographicKey")
        .to_owned();
    assert_ne!(new_creator, old_creator);
    // The Ed25519 key is untouched.
    let ed25519_after: Vec<Value> = keys_of(&server, &issuer)
        .into_iter()
        .filter(|k| k["algorithm"] == "Ed25519")
        .collect();
    assert_eq!(ed25519_after, ed25519_before);
    let rsa = rsa_keys_of(&server, &issuer);
    assert_eq!(rsa.len(), 2, "{rsa:?}");
    let old = rsa
        .iter()
        .find(|k| k["id"] == old_key.as_str())
        .expect("the old key");
    assert_eq!(old["status"], "retired");

    let new_jws = jws_of(&server, &id);
    assert_eq!(
        part(&new_jws, 1)["verification"]["creator"],
        new_creator.as_str()
    );
    assert_valid(&verify(&server, &json!(new_jws)));
    assert_valid(&verify(&server, &json!(old_jws)));
    assert_eq!(verify(&server, &json!(old_jwt))["isValid"], true);
    let profile = v2_profile(&server, &issuer);
    let listed: BTreeSet<&str> = profile["publicKey"]
        .as_array()
        .expect("two keys: a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from([old_creator.as_str(), new_creator.as_str()])
    );

    // Revoking the old key: what it signed fails, it is unpublished.
    let revoke = format!("/issuers/{issuer}/keys/{old_key}/revoke");
    server.post(&revoke, &json!({})).assert_status(401);
    server
        .post_as(&admin(), &revoke, &json!({}))
        .assert_status(200);
    for token in [&old_jws, &old_jwt] {
        let report = verify(&server, &json!(token));
        assert_fails_with(&report, "KEY_REVOKED");
        assert_eq!(report["hasValidSignature"], false, "{report:#}");
    }
    assert_valid(&verify(&server, &json!(new_jws)));
    server.fetch(&old_creator).assert_status(410);
    assert!(
        jwk(&server, &old_kid).is_none(),
        "a revoked key leaves the JWKS"
    );
    assert_eq!(
        v2_profile(&server, &issuer)["publicKey"],
        new_creator.as_str()
    );
    let document = server.fetch(&format!("/issuers/{issuer}/did.json")).body;
    assert!(!document.to_string().contains(&old_key), "{document:#}");

    // Revoking the active one too: the next signed assertion gets a new key.
    let new_key = new_creator.rsplit('/').next().expect("a key id").to_owned();
    server
        .post_as(
            &admin(),
            &format!("/issuers/{issuer}/keys/{new_key}/revoke"),
            &json!({}),
        )
        .assert_status(200);
    assert_fails_with(&verify(&server, &json!(new_jws)), "KEY_REVOKED");
    let profile = v2_profile(&server, &issuer);
    assert!(profile.get("publicKey").is_none(), "{profile}");
    let fresh = jws_of(&server, &id);
    let fresh_creator = part(&fresh, 1)["verification"]["creator"].clone();
    assert!(fresh_creator != old_creator.as_str() && fresh_creator != new_creator.as_str());
    assert_valid(&verify(&server, &json!(fresh)));
    assert_eq!(v2_profile(&server, &issuer)["publicKey"], fresh_creator);
}
