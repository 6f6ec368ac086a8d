//! A client of the previous server (openbadges-modular-server), run
//! unchanged: its request bodies, every id put back into paths exactly as
//! we returned it (raw URL, percent-encoded URL, `urn:uuid:`, bare UUID),
//! partial updates naming only what changes, awards in OB 2.0 words,
//! verification, revocation and status changes with its fields, status
//! lists, public keys, version and signing.

use serde_json::{json, Value};

use crate::support::*;

on_both_backends!(
    old_client_flow,
    ids_in_paths_in_every_form,
    partial_updates_keep_what_they_leave_out,
    unknown_ids_and_references,
    status_lists_and_status_changes_carry_the_old_fields,
    public_keys_version_and_signing
);

/// `raw` percent-encoded as one path segment, as `encodeURIComponent` does.
fn encoded(raw: &str) -> String {
    let mut out = String::new();
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The four forms a client may put an id back in: the URL as returned,
/// the URL percent-encoded, `urn:uuid:` and the bare UUID.
fn forms(id_url: &str) -> [String; 4] {
    let uuid = id_url.rsplit('/').next().expect("a UUID last").to_owned();
    [
        id_url.to_owned(),
        encoded(id_url),
        format!("urn:uuid:{uuid}"),
        uuid,
    ]
}

/// The previous server's issuer body.
fn old_issuer_body(name: &str) -> Value {
    json!({
        "type": "Issuer",
        "name": name,
        "url": "https://old-client.example.org",
        "email": "badges@old-client.example.org",
        "description": "Made by a client of the previous server",
    })
}

/// The previous server's badge class body.
fn old_badge_class_body(issuer: &str) -> Value {
    json!({
        "type": "BadgeClass",
        "issuer": issuer,
        "name": "Old client badge",
        "description": "Awarded by a client of the previous server",
        "image": "https://old-client.example.org/badge.png",
        "criteria": {"narrative": "Use the old client"},
        "tags": ["compat", "drop-in"],
        "alignment": [{"targetName": "Compat", "targetUrl": "https://standards.example.org/compat"}],
    })
}

/// The previous server's assertion body.
fn old_assertion_body(badge: &str, email: &str) -> Value {
    json!({
        "badge": badge,
        "recipient": {"type": "email", "identity": email, "hashed": true},
        "issuedOn": "2024-06-01T10:00:00Z",
        "evidence": {"id": "https://old-client.example.org/work", "narrative": "Did the work"},
        "narrative": "Earned with the old client",
    })
}

/// The whole flow of an old client: create, read back by the ids it got,
/// update partially, award, verify, suspend and reinstate, revoke.
fn old_client_flow(api: &Api) {
    let issuer = api.create("/v3/issuers", &old_issuer_body("Old client"), JSON_LD);
    let issuer_id = id_of(&issuer);
    for form in forms(&issuer_id) {
        assert_eq!(
            api.document(&format!("/v3/issuers/{form}"))["id"],
            json!(issuer_id),
            "issuer read back by {form}"
        );
    }
    let badge = api.create(
        "/v3/badge-classes",
        &old_badge_class_body(&issuer_id),
        JSON_LD,
    );
    let badge_id = id_of(&badge);
    for form in forms(&badge_id) {
        assert_eq!(
            api.document(&format!("/v3/badge-classes/{form}"))["id"],
            json!(badge_id),
            "badge class read back by {form}"
        );
    }

    // Partial updates, as the old client sends them.
    let renamed = api.put(
        &format!("/v3/issuers/{issuer_id}"),
        &json!({"name": "Old client, renamed"}),
    );
    renamed.assert_status(200);
    assert_eq!(renamed.body["name"], "Old client, renamed");
    assert_eq!(renamed.body["email"], "badges@old-client.example.org");
    assert_eq!(renamed.body["url"], "https://old-client.example.org");
    let patched = api.send(
        "PATCH",
        &format!("/v3/badge-classes/{}", encoded(&badge_id)),
        &[],
        Some(&json!({"description": "Patched by the old client"}).to_string()),
    );
    patched.assert_status(200);
    assert_eq!(patched.body["description"], "Patched by the old client");
    assert_eq!(patched.body["name"], "Old client badge");
    assert_eq!(patched.body["tag"], json!(["compat", "drop-in"]));

    // Awards in OB 2.0 words, on the alias and under /v2.
    let award = api.create(
        "/v3/assertions",
        &old_assertion_body(&badge_id, "learner@old-client.example.org"),
        VC_JSON_LD,
    );
    let award_id = id_of(&award);
    let v2_award = api.create(
        "/v2/assertions",
        &old_assertion_body(&badge_id, "other@old-client.example.org"),
        JSON_LD,
    );
    assert_eq!(v2_award["badge"], json!(badge_id.replace("/v3/", "/v2/")));
    for form in forms(&award_id) {
        assert_eq!(
            api.document(&format!("/v3/credentials/{form}"))["id"],
            json!(award_id),
            "credential read back by {form}"
        );
    }
    let listed = api.document(&format!("/v3/issuers/{issuer_id}/achievements"));
    assert_eq!(ids_in(&listed), std::slice::from_ref(&badge_id));
    let awards = api.document(&format!("/v3/achievements/{badge_id}/credentials"));
    assert_eq!(awards.as_array().map(Vec::len), Some(2));

    let verified = api.document(&format!("/v3/credentials/{award_id}/verify"));
    assert_eq!(verified["isValid"], true, "{verified}");
    assert_eq!(verified["hasValidSignature"], true, "{verified}");
    assert_eq!(verified["isRevoked"], false, "{verified}");

    // Suspend and reinstate with the old status route, then revoke.
    let suspended = api.post(
        &format!("/v3/credentials/{award_id}/status"),
        &json!({"status": "1", "purpose": "suspension", "reason": "Checking"}),
    );
    suspended.assert_status(200);
    assert_eq!(suspended.body["success"], true);
    assert_eq!(suspended.body["statusEntry"]["currentStatus"], "1");
    assert_eq!(suspended.body["statusEntry"]["purpose"], "suspension");
    let reinstated = api.post(
        &format!("/v3/credentials/{}/status", encoded(&award_id)),
        &json!({"status": "0", "purpose": "suspension"}),
    );
    reinstated.assert_status(200);
    assert_eq!(reinstated.body["statusEntry"]["currentStatus"], "0");
    assert_eq!(reinstated.body["status"], "active");
    let revoked = api.post(
        &format!("/v3/credentials/urn:uuid:{}/revoke", uuid_of(&award)),
        &json!({"reason": "Issued by mistake"}),
    );
    revoked.assert_status(200);
    assert_eq!(revoked.body["success"], true);
    assert_eq!(revoked.body["revoked"], true);
    assert_eq!(revoked.body["statusEntry"]["currentStatus"], "1");
    assert_eq!(revoked.body["statusEntry"]["purpose"], "revocation");
    let verified = api.document(&format!("/v3/credentials/{award_id}/verify"));
    assert_eq!(verified["isRevoked"], true, "{verified}");
    assert_eq!(verified["isValid"], false, "{verified}");
}

/// Every `{id}` route takes every form, suffixes and query strings too;
/// the ids answered stay our URLs.
fn ids_in_paths_in_every_form(api: &Api) {
    let issuer_id = id_of(&api.issuer("/v3", "Forms"));
    let badge_id = id_of(&api.achievement("/v3", &issuer_id, "Forms badge"));
    let award_id = id_of(&api.award("/v3", &badge_id, "forms@example.org"));
    for form in forms(&issuer_id) {
        for prefix in PREFIXES {
            let doc = api.document(&format!("{prefix}/issuers/{form}"));
            assert_eq!(
                doc["id"],
                json!(issuer_id.replace("/v3/", &format!("/{}/", version_of(prefix)))),
                "{prefix}/issuers/{form}"
            );
        }
        let page = api.fetch(&format!("/v3/issuers/{form}/achievements?limit=1"));
        page.assert_status(200);
        assert_eq!(
            ids_in(&page.body),
            std::slice::from_ref(&badge_id),
            "{form}"
        );
        api.document(&format!("/issuers/{form}/did.json"));
        api.document(&format!("/issuers/{form}/keys"));
    }
    // The did:web an OB 3.0 credential names its issuer by, as returned.
    let did = api.document(&award_id)["issuer"]["id"]
        .as_str()
        .expect("the issuer's DID")
        .to_owned();
    assert!(did.starts_with("did:web:"), "{did}");
    for form in [did.clone(), encoded(&did)] {
        assert_eq!(
            api.document(&format!("/v3/issuers/{form}"))["id"],
            json!(issuer_id),
            "{form}"
        );
    }
    for form in forms(&badge_id) {
        api.document(&format!("/v2/achievements/{form}"));
        let page = api.fetch(&format!("/achievements/{form}/credentials?limit=5"));
        page.assert_status(200);
        assert_eq!(ids_in(&page.body), std::slice::from_ref(&award_id));
    }
    // The v2 URL of an award, put back as returned.
    let v2_award_id = award_id.replace("/v3/", "/v2/");
    for form in forms(&v2_award_id) {
        assert_eq!(
            api.document(&format!("/v2/assertions/{form}"))["id"],
            json!(v2_award_id)
        );
        let report = api.document(&format!("/credentials/{form}/verify"));
        assert_eq!(report["isValid"], true, "{report}");
    }
    // The status list URL the credential names.
    let list_url = api.document(&award_id)["credentialStatus"]["statusListCredential"]
        .as_str()
        .expect("a status list")
        .to_owned();
    for form in forms(&list_url) {
        api.document(&format!("/v3/status-lists/{form}"));
        api.document(&format!("/status-lists/{form}/stats"));
    }
}

/// `PUT` and `PATCH` change what the body names and keep the rest.
fn partial_updates_keep_what_they_leave_out(api: &Api) {
    let issuer = api.issuer("/v3", "Partial");
    let issuer_uuid = uuid_of(&issuer);
    // `email` is not needed to rename.
    let renamed = api.put(
        &format!("/v2/issuers/{issuer_uuid}"),
        &json!({"name": "Partial, renamed"}),
    );
    renamed.assert_status(200);
    let mut expected = api.document(&format!("/v2/issuers/{issuer_uuid}"));
    assert_eq!(renamed.body, expected);
    assert_eq!(expected["name"], "Partial, renamed");
    assert_eq!(expected["email"], "badges@issuer.example.org");
    assert_eq!(
        expected["description"],
        "Issues badges in the end-to-end tests"
    );
    let patched = api.send(
        "PATCH",
        &format!("/issuers/{issuer_uuid}"),
        &[],
        Some(r#"{"description": null}"#),
    );
    patched.assert_status(200);
    assert!(patched.body.get("description").is_none(), "null removes");
    expected.as_object_mut().map(|o| o.remove("description"));
    assert_eq!(
        api.document(&format!("/v2/issuers/{issuer_uuid}")),
        expected
    );

    let badge = api.create(
        "/v2/achievements",
        &old_badge_class_body(&issuer_uuid),
        JSON_LD,
    );
    let badge_uuid = uuid_of(&badge);
    let retagged = api.put(
        &format!("/v2/badge-classes/{badge_uuid}"),
        &json!({"tags": ["new"]}),
    );
    retagged.assert_status(200);
    assert_eq!(retagged.body["tags"], json!(["new"]));
    assert_eq!(retagged.body["name"], "Old client badge");
    assert_eq!(retagged.body["alignment"], badge["alignment"]);
    assert_eq!(retagged.body["criteria"], badge["criteria"]);

    let award = api.create(
        "/v2/credentials",
        &json!({"badge": badge_uuid, "recipient": {"identity": "partial@example.org", "hashed": false},
                "issuedOn": "2024-01-01T00:00:00Z", "expires": "2031-01-01T00:00:00Z",
                "image": "https://old-client.example.org/award.png",
                "evidence": [{"id": "https://old-client.example.org/evidence"}]}),
        JSON_LD,
    );
    let award_uuid = uuid_of(&award);
    let changed = api.put(
        &format!("/v2/assertions/{award_uuid}"),
        &json!({"narrative": "Added later"}),
    );
    changed.assert_status(200);
    let mut expected = award.clone();
    expected["narrative"] = json!("Added later");
    assert_eq!(changed.body, expected, "only the narrative changed");
    let patched = api.send(
        "PATCH",
        &format!("/v3/credentials/{award_uuid}"),
        &[],
        Some(
            &json!({"credentialSubject": {"narrative": "In OB 3.0 words"}, "validUntil": null})
                .to_string(),
        ),
    );
    patched.assert_status(200);
    assert_eq!(
        patched.body["credentialSubject"]["narrative"],
        "In OB 3.0 words"
    );
    assert!(patched.body.get("validUntil").is_none());
    assert_eq!(patched.body["validFrom"], "2024-01-01T00:00:00Z");
    assert_eq!(
        patched.body["credentialSubject"]["identifier"][0]["identityHash"],
        "partial@example.org"
    );
    // The award's image is the credential's own `image` (OB 3.0).
    assert_eq!(
        patched.body["image"]["id"],
        "https://old-client.example.org/award.png"
    );
    assert!(patched.body.get("proof").is_some(), "signed anew");
    let v2 = api.document(&format!("/v2/credentials/{award_uuid}"));
    assert_eq!(v2["evidence"], award["evidence"]);
    assert_eq!(v2["recipient"], award["recipient"]);

    // A recipient the body does not name stays exactly as stored, even one
    // whose OB 3.0 rendering does not tell its kind (a hashed URL).
    let by_url = api.create(
        "/v2/credentials",
        &json!({"badge": badge_uuid, "recipient": {"type": "url", "identity": "https://learner.example.org/me"}}),
        JSON_LD,
    );
    let changed = api.put(
        &format!("/credentials/{}", uuid_of(&by_url)),
        &json!({"narrative": "Recipient untouched"}),
    );
    changed.assert_status(200);
    let v2 = api.document(&format!("/v2/credentials/{}", uuid_of(&by_url)));
    assert_eq!(v2["recipient"], by_url["recipient"]);
    assert_eq!(v2["recipient"]["type"], "url");
    assert_eq!(v2["narrative"], "Recipient untouched");
}

/// Unknown ids are 404 whatever the body; unknown references in a body
/// are 400 naming the field; a foreign or mistyped URL in a path is 404.
fn unknown_ids_and_references(api: &Api) {
    let unknown = "0f8fad5b-d9cb-469f-a165-70867728950e";
    for collection in [
        "issuers",
        "achievements",
        "badge-classes",
        "credentials",
        "assertions",
    ] {
        for method in ["PUT", "PATCH"] {
            for body in [r#"{"name": 7, "badge": false}"#, "not JSON"] {
                let response = api.send(
                    method,
                    &format!("/v3/{collection}/{unknown}"),
                    &[],
                    Some(body),
                );
                assert_not_found(&response);
            }
        }
    }
    let issuer_id = id_of(&api.issuer("/v3", "References"));
    let badge_id = id_of(&api.achievement("/v3", &issuer_id, "References badge"));
    let unknown_badge = badge_id.replace(&uuid_of(&json!({"id": badge_id})), unknown);
    for path in ["/v3/assertions", "/v2/assertions", "/credentials"] {
        assert_validation(
            &api.post(path, &award_body(&unknown_badge, "nobody@example.org")),
            &["badge"],
        );
    }
    assert_validation(
        &api.post("/v3/badge-classes", &achievement_body(unknown, "Orphan")),
        &["issuer"],
    );
    assert_eq!(api.total("/credentials"), 0, "nothing stored");

    let issuer_uuid = uuid_of(&json!({"id": issuer_id}));
    for path in [
        format!("/v3/issuers/https://elsewhere.example.org/v3/issuers/{issuer_uuid}"),
        format!(
            "/v3/issuers/{}",
            encoded(&format!(
                "https://elsewhere.example.org/v3/issuers/{issuer_uuid}"
            ))
        ),
        format!("/v3/issuers/{badge_id}"),
        format!("/v3/issuers/{}", encoded(&badge_id)),
        format!("/v3/achievements/{issuer_id}"),
        "/v3/issuers/urn:uuid:not-a-uuid".to_owned(),
    ] {
        assert_not_found(&api.fetch(&path));
    }
}

/// The old status-list routes (`POST /status-lists`, `/v3/status-lists/...`)
/// and the old statistics beside ours.
fn status_lists_and_status_changes_carry_the_old_fields(api: &Api) {
    let issuer_id = id_of(&api.issuer("/v3", "Lists"));
    let made = api.post(
        "/status-lists",
        &json!({"issuer": issuer_id, "purpose": "suspension"}),
    );
    made.assert_status(201);
    let list_uuid = made.body["id"].as_str().expect("an id").to_owned();
    assert_eq!(made.body["purpose"], "suspension");
    assert_eq!(
        made.header("location"),
        made.body["statusListCredential"].as_str()
    );
    assert!(made.body["statusListCredential"]
        .as_str()
        .is_some_and(|u| u.ends_with(&format!("/status-lists/{list_uuid}/suspension"))));
    assert_eq!(made.body["totalEntries"], 131_072);
    assert_eq!(made.body["usedEntries"], 0);
    assert_eq!(made.body["availableEntries"], 131_072);
    assert_eq!(made.body["utilizationPercent"], 0.0);
    assert_validation(
        &api.post("/status-lists", &json!({"purpose": "x"})),
        &["issuer", "purpose"],
    );
    assert_validation(
        &api.post(
            "/status-lists",
            &json!({"issuer": "0f8fad5b-d9cb-469f-a165-70867728950e"}),
        ),
        &["issuer"],
    );

    let listed = api.document(&format!("/v3/status-lists?issuer={issuer_id}"));
    assert_eq!(listed[0]["id"], json!(list_uuid));
    // The made list is the one the issuer's first award uses.
    let badge = id_of(&api.achievement("", &issuer_id, "Listed"));
    let award = api.award("/v3", &badge, "listed@example.org");
    let status = &award["credentialStatus"];
    assert!(status["statusListCredential"]
        .as_str()
        .is_some_and(|u| u.ends_with(&list_uuid)));
    let list = api.document(&format!("/v3/status-lists/{list_uuid}"));
    assert_eq!(list["credentialSubject"]["statusPurpose"], "revocation");
    let suspension = api.document(&format!("/v3/status-lists/{list_uuid}/suspension"));
    assert_eq!(
        suspension["credentialSubject"]["statusPurpose"],
        "suspension"
    );
    let stats = api.document(&format!("/v3/status-lists/{list_uuid}/stats"));
    assert_eq!(stats["capacity"], 131_072);
    assert_eq!(stats["allocated"], 1);
    assert_eq!(stats["totalEntries"], 131_072);
    assert_eq!(stats["usedEntries"], 1);
    assert_eq!(stats["availableEntries"], 131_071);
    assert_eq!(stats["utilizationPercent"], 0.0);

    let changed = api.post(
        &format!("/v3/credentials/{}/status", id_of(&award)),
        &json!({"status": "1", "purpose": "revocation", "reason": "Old route"}),
    );
    changed.assert_status(200);
    assert_eq!(changed.body["success"], true);
    assert_eq!(
        changed.body["statusEntry"],
        json!({"currentStatus": "1", "purpose": "revocation",
               "statusListIndex": status["statusListIndex"],
               "statusListCredential": status["statusListCredential"]})
    );
    let stats = api.document(&format!("/status-lists/{list_uuid}/stats"));
    assert_eq!(stats["revoked"], 1);
}

/// `GET /public-keys`, `GET /public-keys/{id}`, `GET /version` and
/// `POST /credentials/{id}/sign`.
fn public_keys_version_and_signing(api: &Api) {
    let version = api.document("/version");
    assert_eq!(version["name"], "openbadges-server");
    assert!(version["version"].as_str().is_some_and(|v| !v.is_empty()));

    let issuer_id = id_of(&api.issuer("/v3", "Keys"));
    let badge_id = id_of(&api.achievement("/v3", &issuer_id, "Keys badge"));
    let unsigned = api.create(
        "/v3/credentials?sign=false",
        &award_body(&badge_id, "sign@example.org"),
        VC_JSON_LD,
    );
    assert!(unsigned.get("proof").is_none());
    let award_id = id_of(&unsigned);
    let signed = api.post(
        &format!("/v3/credentials/{}/sign", encoded(&award_id)),
        &json!({}),
    );
    signed.assert_status(200);
    assert_eq!(signed.body["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(api.document(&award_id), signed.body, "stored as signed");
    let report = api.document(&format!("/v3/credentials/{award_id}/verify"));
    assert_eq!(report["isValid"], true, "{report}");

    let keys = api.fetch("/public-keys");
    keys.assert_status(200);
    assert_eq!(keys.header("x-total-count"), Some("1"));
    let key = &keys.body[0];
    assert_eq!(key["issuer"], json!(issuer_id));
    assert_eq!(key["status"], "active");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["publicKeyJwk"]["kid"], key["kid"]);
    assert!(signed.body["proof"]["verificationMethod"] == key["kid"]);
    let key_uuid = key["id"].as_str().expect("an id").to_owned();
    assert_eq!(api.document(&format!("/v3/public-keys/{key_uuid}")), *key);
    assert_eq!(
        api.document(&format!("/public-keys/urn:uuid:{key_uuid}")),
        *key
    );
    assert_not_found(&api.fetch("/public-keys/0f8fad5b-d9cb-469f-a165-70867728950e"));

    // Signed anew with a key named, which must be the issuer's active key.
    let resigned = api.post(
        &format!("/v3/credentials/{award_id}/sign?keyId={key_uuid}"),
        &json!({}),
    );
    resigned.assert_status(200);
    assert_eq!(resigned.body["proof"]["verificationMethod"], key["kid"]);
    for bad in ["0f8fad5b-d9cb-469f-a165-70867728950e", "nope"] {
        assert_validation(
            &api.post(
                &format!("/v3/credentials/{award_id}/sign?keyId={bad}"),
                &json!({}),
            ),
            &["keyId"],
        );
    }
    let other_issuer = id_of(&api.issuer("/v3", "Other keys"));
    let other_badge = id_of(&api.achievement("/v3", &other_issuer, "Other badge"));
    api.award("/v3", &other_badge, "other@example.org");
    let other_key = api.document(&format!("/issuers/{other_issuer}/keys"))[0]["id"]
        .as_str()
        .expect("a key")
        .to_owned();
    assert_validation(
        &api.post(
            &format!("/v3/credentials/{award_id}/sign?keyId={other_key}"),
            &json!({}),
        ),
        &["keyId"],
    );
    assert_eq!(api.total("/public-keys"), 2);
    assert_not_found(&api.post(
        "/v3/credentials/0f8fad5b-d9cb-469f-a165-70867728950e/sign",
        &json!({}),
    ));
}
