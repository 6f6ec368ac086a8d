//! Verification that cannot be fooled, end to end on both backends.
//!
//! - A status list is always served signed by its issuer's active key: after
//!   a rotation and a revocation through one instance, another instance on
//!   the same database serves the list signed by the new key at once.
//!
//! Signed lists are checked here with `openbadges-credentials` against the
//! keys the issuer's DID document publishes.

use openbadges_credentials::{DataIntegrity, VerifyingKey};
use openbadges_e2e::{
    award_body, on_both_backends, uuid_of, Caller, Launch, Server, Storage, JWT_SECRET,
};
use serde_json::{json, Value};

on_both_backends!(status_lists_are_signed_by_the_active_key_on_every_instance,);

const ADMIN_KEY: &str = "e2e-forgery-admin-key-0123456789a";
const KEK: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";

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

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

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
/// A rotates the issuer's key and revokes the old one; B's very next lists
/// are signed by the new key and verify.
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

    for server in [&b, &a, &b, &b, &b, &b] {
        let list = status_list(server, &credential);
        let method = assert_signed_by_a_published_key(server, &issuer, &list);
        assert_eq!(method, new_method, "signed by the active key: {list:#}");
    }
    // The credential itself was signed by the revoked key.
    let report = b.fetch(&format!("/credentials/{}/verify", uuid_of(&credential)));
    assert_eq!(report.body["errorCode"], "KEY_REVOKED", "{:#}", report.body);
}
