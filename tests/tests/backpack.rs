//! The previous server's backpack API (`/backpack`), end to end on both
//! backends: administrators manage platforms; a platform, with JWTs it
//! signs with its own RSA key (made here), adds this server's awards to
//! its users' backpacks, lists, re-marks and removes them; tokens signed
//! by another key, expired, without `exp`, or of an inactive platform are
//! refused; one platform user never sees another's entries.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use openbadges_e2e::{
    award_body, id_of, on_both_backends, uuid_of, Caller, Server, Storage, ADMIN_PASSWORD,
    ADMIN_USERNAME,
};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use serde_json::{json, Value};

on_both_backends!(
    platforms_are_managed_by_administrators_only,
    a_platform_manages_its_users_backpack,
    tokens_not_signed_for_an_active_platform_are_refused,
    platform_users_see_only_their_own_entries,
);

/// A platform's key pair: the public key in PEM (what is registered) and
/// the private key (what it signs with).
struct PlatformKey {
    public_pem: String,
    signing: EncodingKey,
}

impl PlatformKey {
    fn new() -> Self {
        let private =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("PEM");
        let der = private.to_pkcs1_der().expect("PKCS#1 DER");
        Self {
            public_pem,
            signing: EncodingKey::from_rsa_der(der.as_bytes()),
        }
    }

    /// A token of `client_id` for its user `sub`, with `claims` added.
    fn token(&self, client_id: &str, sub: &str, claims: Value) -> String {
        let mut body = json!({"iss": client_id, "sub": sub, "iat": now(), "exp": now() + 600});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), claims.as_object()) {
            body.extend(extra.clone());
        }
        body.as_object_mut()
            .expect("an object")
            .retain(|_, value| !value.is_null());
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &body, &self.signing).expect("signed")
    }

    fn caller(&self, client_id: &str, sub: &str) -> Caller {
        Caller::Token(self.token(client_id, sub, json!({})))
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        .try_into()
        .expect("fits")
}

fn platform_body(name: &str, client_id: &str, key: &PlatformKey) -> Value {
    json!({
        "name": name,
        "clientId": client_id,
        "publicKey": key.public_pem,
        "description": "A learning platform",
        "webhookUrl": "https://lms.example.edu/hook",
    })
}

/// Registers a platform as `admin`: its id.
#[track_caller]
fn register(server: &Server, admin: &Caller, client_id: &str, key: &PlatformKey) -> String {
    let created = server.post_as(
        admin,
        "/backpack/platforms",
        &platform_body(client_id, client_id, key),
    );
    created.assert_status(201);
    assert_eq!(created.body["success"], true, "{}", created.text);
    created.body["platform"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// An award made by `admin`: its id URL.
#[track_caller]
fn award(server: &Server, admin: &Caller, badge: &str, email: &str) -> String {
    let award = server.post_as(admin, "/credentials", &award_body(badge, email));
    award.assert_status(201);
    id_of(&award.body)
}

fn assertions(server: &Server, caller: &Caller) -> Vec<Value> {
    let listed = server.get_as(caller, "/backpack/assertions");
    listed.assert_status(200);
    assert_eq!(listed.body["success"], true, "{}", listed.text);
    listed.body["assertions"]
        .as_array()
        .expect("an array")
        .clone()
}

#[track_caller]
fn assert_refused(response: &openbadges_e2e::Response, status: u16, error: &str) {
    assert_eq!(response.status, status, "{}", response.text);
    assert_eq!(
        response.body,
        json!({"success": false, "error": error}),
        "{}",
        response.request
    );
}

/// Administrators create, read, change and delete platforms, each field
/// checked and named; a learner's or an issuer's token gets 403 for every
/// one of these, and nothing changes.
fn platforms_are_managed_by_administrators_only(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let key = PlatformKey::new();

    // Each bad field is named.
    let empty = server.post_as(&admin, "/backpack/platforms", &json!({}));
    empty.assert_status(400);
    for field in ["name", "clientId", "publicKey"] {
        assert!(
            empty.body["details"][field].is_array(),
            "{field}: {}",
            empty.text
        );
    }
    for (field, value) in [
        ("publicKey", json!("not a key")),
        // An Ed25519 key: the platform's tokens are RS256.
        (
            "publicKey",
            json!("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"),
        ),
        ("webhookUrl", json!("http://lms.example.edu/hook")),
        ("webhookUrl", json!("not a url")),
        ("status", json!("paused")),
        ("name", json!(7)),
    ] {
        let mut body = platform_body("LMS", "lms", &key);
        body[field] = value;
        let refused = server.post_as(&admin, "/backpack/platforms", &body);
        refused.assert_status(400);
        assert!(
            refused.body["details"][field].is_array(),
            "{field}: {}",
            refused.text
        );
    }

    let id = register(&server, &admin, "lms", &key);
    let taken = server.post_as(
        &admin,
        "/backpack/platforms",
        &platform_body("Another", "lms", &PlatformKey::new()),
    );
    taken.assert_status(409);
    assert!(taken.text.contains("clientId"), "{}", taken.text);

    let one = server.get_as(&admin, &format!("/backpack/platforms/{id}"));
    one.assert_status(200);
    let platform = &one.body["platform"];
    assert_eq!(platform["clientId"], "lms");
    assert_eq!(platform["status"], "active");
    assert_eq!(platform["webhookUrl"], "https://lms.example.edu/hook");
    assert_eq!(platform["publicKey"], key.public_pem);

    let changed = server.put_as(
        &admin,
        &format!("/backpack/platforms/{id}"),
        &json!({"name": "Campus LMS", "status": "suspended", "webhookUrl": null}),
    );
    changed.assert_status(200);
    assert_eq!(changed.body["platform"]["name"], "Campus LMS");
    assert_eq!(changed.body["platform"]["status"], "suspended");
    assert_eq!(changed.body["platform"]["webhookUrl"], Value::Null);
    assert_eq!(changed.body["platform"]["clientId"], "lms", "kept");
    let bad = server.put_as(
        &admin,
        &format!("/backpack/platforms/{id}"),
        &json!({"webhookUrl": "ftp://x"}),
    );
    bad.assert_status(400);
    assert!(bad.body["details"]["webhookUrl"].is_array(), "{}", bad.text);

    let listed = server.get_as(&admin, "/backpack/platforms");
    listed.assert_status(200);
    assert_eq!(listed.body["success"], true);
    assert_eq!(listed.body["platforms"].as_array().map(Vec::len), Some(1));

    // Nobody else manages platforms.
    server.create_user(&admin, "lena", "lena-password-1", "learner");
    server.create_user(&admin, "ivan", "ivan-password-1", "issuer");
    for caller in [
        server.login("lena", "lena-password-1"),
        server.login("ivan", "ivan-password-1"),
    ] {
        let path = format!("/backpack/platforms/{id}");
        for response in [
            server.get_as(&caller, "/backpack/platforms"),
            server.post_as(
                &caller,
                "/backpack/platforms",
                &platform_body("Mine", "mine", &key),
            ),
            server.get_as(&caller, &path),
            server.put_as(&caller, &path, &json!({"status": "active"})),
            server.delete_as(&caller, &path),
        ] {
            assert_eq!(
                response.status, 403,
                "{}: {}",
                response.request, response.text
            );
        }
    }
    server
        .get_as(&Caller::Anonymous, "/backpack/platforms")
        .assert_status(401);
    let unchanged = server.get_as(&admin, &format!("/backpack/platforms/{id}"));
    assert_eq!(unchanged.body["platform"]["status"], "suspended");

    let deleted = server.delete_as(&admin, &format!("/backpack/platforms/{id}"));
    deleted.assert_status(200);
    assert_eq!(deleted.body, json!({"success": true}));
    for response in [
        server.get_as(&admin, &format!("/backpack/platforms/{id}")),
        server.delete_as(&admin, &format!("/backpack/platforms/{id}")),
        server.get_as(&admin, "/backpack/platforms/not-a-uuid"),
    ] {
        assert_refused(&response, 404, "Platform not found");
    }
}

/// A platform adds an award for its user (a learner account made on first
/// use), by any form of its id; lists it rendered as OB 3.0 or OB 2.0;
/// changes its status; removes it. The award is in the learner's backpack
/// meanwhile.
fn a_platform_manages_its_users_backpack(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let key = PlatformKey::new();
    let platform = register(&server, &admin, "lms", &key);
    let (_, badge) = server.issuer_with_badge(&admin, "Issuer", "A badge");
    let url = award(&server, &admin, &badge, "pat@example.org");
    let uuid = url.rsplit('/').next().expect("a UUID").to_owned();
    let pat = Caller::Token(key.token(
        "lms",
        "user-1",
        json!({"displayName": "Pat", "email": "pat@example.org"}),
    ));

    assert!(assertions(&server, &pat).is_empty());
    let added = server.post_as(
        &pat,
        "/backpack/assertions",
        &json!({"assertionId": url, "metadata": {"tags": ["course"]}}),
    );
    added.assert_status(201);
    assert_eq!(added.body["success"], true);
    let entry = &added.body["userAssertion"];
    assert_eq!(entry["assertionId"], url, "{}", added.text);
    assert_eq!(entry["status"], "active");
    assert_eq!(entry["metadata"], json!({"tags": ["course"]}));

    // The same award again, as urn:uuid: its metadata replaced, one entry.
    let again = server.post_as(
        &pat,
        "/backpack/assertions",
        &json!({"assertionId": format!("urn:uuid:{uuid}"), "metadata": {"notes": "again"}}),
    );
    again.assert_status(200);
    assert_eq!(again.body["userAssertion"]["id"], entry["id"]);
    assert_eq!(
        again.body["userAssertion"]["metadata"],
        json!({"notes": "again"})
    );

    let listed = assertions(&server, &pat);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["assertionId"], url);
    let credential = &listed[0]["assertion"];
    assert_eq!(credential["id"], url);
    assert!(
        credential["proof"].is_array() || credential["proof"].is_object(),
        "{credential}"
    );
    let v2 = server.get_as(&pat, "/backpack/assertions?version=v2");
    v2.assert_status(200);
    assert_eq!(
        v2.body["assertions"][0]["assertion"]["type"], "Assertion",
        "{}",
        v2.text
    );
    let bad = server.get_as(&pat, "/backpack/assertions?version=v4");
    bad.assert_status(400);
    assert!(bad.body["details"]["version"].is_array(), "{}", bad.text);

    // Bad input is named; an award that does not exist is the old 404.
    for (body, field) in [
        (json!({}), "assertionId"),
        (
            json!({"assertionId": "https://elsewhere.example/credentials/1"}),
            "assertionId",
        ),
        (json!({"assertionId": uuid, "metadata": ["a"]}), "metadata"),
    ] {
        let refused = server.post_as(&pat, "/backpack/assertions", &body);
        refused.assert_status(400);
        assert!(
            refused.body["details"][field].is_array(),
            "{body}: {}",
            refused.text
        );
    }
    assert_refused(
        &server.post_as(
            &pat,
            "/backpack/assertions",
            &json!({"assertionId": uuid::Uuid::new_v4().to_string()}),
        ),
        404,
        "Assertion not found",
    );

    // The platform user is a learner account holding the award.
    let users = server.get_as(&admin, "/users?limit=100");
    users.assert_status(200);
    let learners: Vec<&Value> = users
        .body
        .as_array()
        .expect("users")
        .iter()
        .filter(|user| user["role"] == "learner")
        .collect();
    assert_eq!(learners.len(), 1, "{}", users.text);
    assert_eq!(
        learners[0]["email"],
        Value::Null,
        "the platform's address is not verified"
    );
    // No password logs in to it, until an administrator sets one; then the
    // learner sees the platform's entry in their backpack, and cannot
    // remove it there (the platform does).
    let username = learners[0]["username"].as_str().expect("a username");
    let learner_id = learners[0]["id"].as_str().expect("an id");
    assert_eq!(server.try_login(username, "").status, 401);
    assert_eq!(server.try_login(username, "platform-account").status, 401);
    server
        .post_as(
            &admin,
            &format!("/users/{learner_id}/change-password"),
            &json!({"newPassword": "pat-password-1"}),
        )
        .assert_status(204);
    let learner = server.login(username, "pat-password-1");
    let held = server.get_as(&learner, "/learner/credentials");
    held.assert_status(200);
    let held = held.body.as_array().expect("an array").clone();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["source"], "platform");
    assert_eq!(held[0]["platformId"], platform);
    assert_eq!(held[0]["credential"]["id"], url);
    assert_eq!(
        held[0]["id"], entry["id"],
        "the entry is the held credential"
    );
    let held_id = entry["id"].as_str().expect("an id");
    server
        .delete_as(&learner, &format!("/learner/credentials/{held_id}"))
        .assert_status(409);

    let hidden = server.send_as(
        &pat,
        "PATCH",
        &format!("/backpack/assertions/{uuid}/status"),
        Some(&json!({"status": "hidden"})),
    );
    hidden.assert_status(200);
    assert_eq!(hidden.body["userAssertion"]["status"], "hidden");
    assert_eq!(assertions(&server, &pat)[0]["status"], "hidden");
    let wrong = server.send_as(
        &pat,
        "PATCH",
        &format!("/backpack/assertions/{uuid}/status"),
        Some(&json!({"status": "archived"})),
    );
    wrong.assert_status(400);
    assert!(wrong.body["details"]["status"].is_array(), "{}", wrong.text);

    // Removed by its URL (slashes and all).
    let removed = server.delete_as(&pat, &format!("/backpack/assertions/{url}"));
    removed.assert_status(200);
    assert_eq!(removed.body, json!({"success": true}));
    assert!(assertions(&server, &pat).is_empty());
    assert_refused(
        &server.delete_as(&pat, &format!("/backpack/assertions/{uuid}")),
        404,
        "Assertion not found",
    );
    assert_refused(
        &server.send_as(
            &pat,
            "PATCH",
            &format!("/backpack/assertions/{uuid}/status"),
            Some(&json!({"status": "active"})),
        ),
        404,
        "Assertion not found",
    );

    // Added again, then the platform goes: its entries go with it.
    server
        .post_as(&pat, "/backpack/assertions", &json!({"assertionId": uuid}))
        .assert_status(201);
    server
        .delete_as(&admin, &format!("/backpack/platforms/{platform}"))
        .assert_status(200);
    let gone = server.get_as(&pat, "/backpack/assertions");
    assert_refused(&gone, 401, "Unknown platform");
}

/// Only a token signed with the registered key of an active platform, with
/// an `exp` in the future, is accepted; the old 401 shapes say why not.
fn tokens_not_signed_for_an_active_platform_are_refused(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let key = PlatformKey::new();
    let stranger = PlatformKey::new();
    let platform = register(&server, &admin, "lms", &key);
    let path = "/backpack/assertions";
    server
        .get_as(&key.caller("lms", "u"), path)
        .assert_status(200);

    assert_refused(
        &server.get_as(&Caller::Anonymous, path),
        401,
        "Authentication required",
    );
    for token in [
        stranger.token("lms", "u", json!({})),
        key.token("lms", "u", json!({"exp": now() - 3600})),
        key.token("lms", "u", json!({"exp": null})),
        key.token("lms", "", json!({})),
        "not.a.jwt".to_owned(),
    ] {
        let refused = server.get_as(&Caller::Token(token.clone()), path);
        assert_refused(&refused, 401, "Authentication failed");
        assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    }
    assert_refused(
        &server.get_as(&stranger.caller("other", "u"), path),
        401,
        "Unknown platform",
    );

    let target = format!("/backpack/platforms/{platform}");
    for status in ["inactive", "suspended"] {
        server
            .put_as(&admin, &target, &json!({"status": status}))
            .assert_status(200);
        assert_refused(
            &server.get_as(&key.caller("lms", "u"), path),
            401,
            "Platform is not active",
        );
    }
    // A new key: tokens of the old one are refused at once.
    server
        .put_as(
            &admin,
            &target,
            &json!({"status": "active", "publicKey": stranger.public_pem}),
        )
        .assert_status(200);
    assert_refused(
        &server.get_as(&key.caller("lms", "u"), path),
        401,
        "Authentication failed",
    );
    server
        .get_as(&stranger.caller("lms", "u"), path)
        .assert_status(200);
}

/// Two users of a platform, and a user of the same `sub` on another
/// platform, are three learners: none sees, removes or re-marks another's
/// entries.
fn platform_users_see_only_their_own_entries(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let lms_key = PlatformKey::new();
    let wiki_key = PlatformKey::new();
    register(&server, &admin, "lms", &lms_key);
    register(&server, &admin, "wiki", &wiki_key);
    let (_, badge) = server.issuer_with_badge(&admin, "Issuer", "A badge");
    let first = award(&server, &admin, &badge, "one@example.org");
    let second = award(&server, &admin, &badge, "two@example.org");
    let one = lms_key.caller("lms", "user-1");
    let two = lms_key.caller("lms", "user-2");
    let elsewhere = wiki_key.caller("wiki", "user-1");

    server
        .post_as(&one, "/backpack/assertions", &json!({"assertionId": first}))
        .assert_status(201);
    server
        .post_as(
            &two,
            "/backpack/assertions",
            &json!({"assertionId": second}),
        )
        .assert_status(201);
    let mine = assertions(&server, &one);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["assertionId"], first);
    let theirs = assertions(&server, &two);
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["assertionId"], second);
    assert_ne!(mine[0]["userId"], theirs[0]["userId"]);
    assert!(assertions(&server, &elsewhere).is_empty());

    let first_uuid = uuid_of(&json!({"id": first}));
    assert_refused(
        &server.delete_as(&two, &format!("/backpack/assertions/{first_uuid}")),
        404,
        "Assertion not found",
    );
    assert_refused(
        &server.delete_as(&elsewhere, &format!("/backpack/assertions/{first_uuid}")),
        404,
        "Assertion not found",
    );
    assert_refused(
        &server.send_as(
            &two,
            "PATCH",
            &format!("/backpack/assertions/{first_uuid}/status"),
            Some(&json!({"status": "deleted"})),
        ),
        404,
        "Assertion not found",
    );
    let still = assertions(&server, &one);
    assert_eq!(still.len(), 1);
    assert_eq!(still[0]["status"], "active");
}
