//! `PUT` changes the client-set fields it names and keeps the others (the
//! previous server's partial update); the new values are rendered in both
//! versions. A credential issued before the change stays exactly as it
//! was issued (it is signed: changing it would break its proof).

use serde_json::json;

use crate::support::*;

on_both_backends!(
    put_updates_issuers,
    put_updates_achievements,
    put_updates_credentials
);

fn put_updates_issuers(api: &Api) {
    let issuer = uuid_of(&api.issuer("", "Old name"));
    let badge = uuid_of(&api.achievement("", &issuer, "Badge"));
    let award = uuid_of(&api.award("", &badge, "put@example.org"));
    let issued = api.document(&format!("/v3/credentials/{award}"));
    for (prefix, name) in [
        ("/v2", "Renamed in v2"),
        ("/v3", "Renamed in v3"),
        ("", "Renamed bare"),
    ] {
        let response = api.put(
            &format!("{prefix}/issuers/{issuer}"),
            &json!({"name": name, "url": "https://new.example.org", "email": "new@example.org"}),
        );
        response.assert_status(200);
        assert_eq!(response.media_type(), Some(JSON_LD));
        let expected_id = api.at(&format!("/{}/issuers/{issuer}", version_of(prefix)));
        assert_eq!(response.body["id"], json!(expected_id));
        assert_eq!(response.body["name"], json!(name));
        assert_eq!(
            api.document(&expected_id),
            response.body,
            "GET = PUT answer"
        );

        let v2 = api.document(&format!("/v2/issuers/{issuer}"));
        assert_eq!(
            v2,
            json!({"@context": OB2_CONTEXT, "type": "Issuer", "id": api.at(&format!("/v2/issuers/{issuer}")),
                   "name": name, "url": "https://new.example.org", "email": "new@example.org",
                   "description": "Issues badges in the end-to-end tests",
                   "image": "https://issuer.example.org/logo.png"}),
            "kept: description and image, which the body leaves out"
        );
        let v3 = api.document(&format!("/v3/issuers/{issuer}"));
        assert_eq!(v3["name"], json!(name));
        assert_eq!(v3["url"], json!("https://new.example.org"));
        assert_eq!(
            v3["image"],
            json!({"id": "https://issuer.example.org/logo.png", "type": "Image"})
        );
        assert_eq!(
            api.document(&format!("/v3/credentials/{award}")),
            issued,
            "the credential stays as issued"
        );
    }
}

fn put_updates_achievements(api: &Api) {
    let issuer = uuid_of(&api.issuer("", "Issuer"));
    let badge = uuid_of(&api.achievement("/v2", &issuer, "Old badge"));
    let award = uuid_of(&api.award("", &badge, "put@example.org"));
    let issued = api.document(&format!("/v3/credentials/{award}"));
    for prefix in PREFIXES {
        let name = format!("New badge via {}", version_of(prefix));
        let response = api.put(
            &format!("{prefix}/achievements/{badge}"),
            &json!({"issuer": format!("urn:uuid:{issuer}"), "name": name, "description": "New description",
                    "criteria": "https://new.example.org/criteria", "tags": ["new"],
                    "image": "https://new.example.org/badge.png",
                    "alignment": [{"targetName": "New", "targetUrl": "https://standards.example.org/new"}],
                    "achievementType": "Course", "version": "2"}),
        );
        response.assert_status(200);
        assert_eq!(response.media_type(), Some(JSON_LD));
        let expected_id = api.at(&format!("/{}/achievements/{badge}", version_of(prefix)));
        assert_eq!(response.body["id"], json!(expected_id));
        assert_eq!(api.document(&expected_id), response.body);

        let v2 = api.document(&format!("/v2/achievements/{badge}"));
        assert_eq!(v2["name"], json!(name));
        assert_eq!(v2["description"], json!("New description"));
        assert_eq!(
            v2["criteria"],
            json!({"id": "https://new.example.org/criteria"})
        );
        assert_eq!(v2["tags"], json!(["new"]));
        assert_eq!(v2["version"], json!("2"));
        assert_eq!(
            v2["image"],
            json!("https://new.example.org/badge.png"),
            "replaced: the new image"
        );
        let v3 = api.document(&format!("/v3/achievements/{badge}"));
        assert_eq!(v3["name"], json!(name));
        assert_eq!(v3["achievementType"], json!("Course"));
        assert_eq!(v3["tag"], json!(["new"]));
        assert_eq!(
            api.document(&format!("/v3/credentials/{award}")),
            issued,
            "the credential stays as issued"
        );
    }
}

fn put_updates_credentials(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let created = api.create(
        "/v2/credentials",
        &json!({"badge": badge, "recipient": {"identity": "old@example.org"},
                "issuedOn": "2024-01-01T00:00:00Z", "narrative": "Old narrative"}),
        JSON_LD,
    );
    let award = uuid_of(&created);
    for prefix in PREFIXES {
        let narrative = format!("Updated via {}", version_of(prefix));
        let response = api.put(
            &format!("{prefix}/credentials/{award}"),
            &json!({"badge": format!("urn:uuid:{badge}"),
                    "recipient": {"type": "email", "identity": "new@example.org", "hashed": false},
                    "expires": "2030-01-01T00:00:00Z", "narrative": narrative,
                    "evidence": [{"id": "https://work.example.org/new"}]}),
        );
        response.assert_status(200);
        assert_eq!(response.media_type(), Some(credential_media_type(prefix)));
        let expected_id = api.at(&format!("/{}/credentials/{award}", version_of(prefix)));
        assert_eq!(response.body["id"], json!(expected_id));
        assert_eq!(api.document(&expected_id), response.body);

        let v2 = api.document(&format!("/v2/credentials/{award}"));
        assert_eq!(
            v2["recipient"],
            json!({"type": "email", "identity": "new@example.org", "hashed": false})
        );
        assert_eq!(v2["narrative"], json!(narrative));
        assert_eq!(v2["expires"], json!("2030-01-01T00:00:00Z"));
        assert_eq!(
            v2["issuedOn"],
            json!("2024-01-01T00:00:00Z"),
            "kept when not given"
        );
        assert_eq!(
            v2["evidence"],
            json!([{"id": "https://work.example.org/new", "type": "Evidence"}])
        );
        let v3 = api.document(&format!("/v3/credentials/{award}"));
        assert_eq!(v3["validUntil"], json!("2030-01-01T00:00:00Z"));
        assert_eq!(v3["credentialSubject"]["narrative"], json!(narrative));
        assert_eq!(
            v3["credentialSubject"]["identifier"][0]["identityHash"],
            json!("new@example.org")
        );
    }
    // The old recipient no longer finds it; the new one does.
    assert_eq!(api.total("/credentials?recipient=old@example.org"), 0);
    assert_eq!(api.total("/credentials?recipient=new@example.org"), 1);
    // A new issue date.
    let response = api.put(
        &format!("/credentials/{award}"),
        &json!({"badge": badge, "recipient": {"identity": "new@example.org"}, "validFrom": "2025-01-01T00:00:00Z"}),
    );
    response.assert_status(200);
    assert_eq!(response.body["validFrom"], json!("2025-01-01T00:00:00Z"));
    assert_eq!(
        response.body["validUntil"],
        json!("2030-01-01T00:00:00Z"),
        "kept when not given"
    );
    // `null` removes an optional field, under either name.
    let response = api.put(&format!("/credentials/{award}"), &json!({"expires": null}));
    response.assert_status(200);
    assert!(response.body.get("validUntil").is_none(), "removed");
    assert_eq!(response.body["validFrom"], json!("2025-01-01T00:00:00Z"));
}
