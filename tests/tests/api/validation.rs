//! Input validation: every bad field named in one 400
//! `{"success":false,"error":"Validation error","details":{...}}`.

use serde_json::json;

use crate::support::*;

on_both_backends!(
    issuer_fields_are_validated,
    achievement_fields_are_validated,
    credential_fields_are_validated,
);

/// Issuers: required fields, types, URLs, e-mails, lengths; on create and
/// update, under every prefix; nothing stored or changed.
fn issuer_fields_are_validated(api: &Api) {
    for prefix in PREFIXES {
        let path = format!("{prefix}/issuers");
        assert_validation(&api.post(&path, &json!({})), &["name", "url", "email"]);
        assert_validation(
            &api.post(
                &path,
                &json!({"name": 7, "url": "ftp://files.example.org", "email": "nope"}),
            ),
            &["name", "url", "email"],
        );
        assert_validation(
            &api.post(
                &path,
                &json!({"name": "x".repeat(256), "url": "https://ok.example.org",
                        "email": "ok@example.org", "description": 5, "image": "not a url"}),
            ),
            &["name", "description", "image"],
        );
        assert_validation(
            &api.post(
                &path,
                &json!({"name": "   ", "url": "https://", "email": "a@b"}),
            ),
            &["name", "url", "email"],
        );
        assert_validation(
            &api.post(
                &path,
                &json!({"name": "Acme", "url": "https://acme.example.org", "email": "ok@example.org",
                        "image": {"type": "Image"}}),
            ),
            &["image.id"],
        );
        assert_validation(&api.post(&path, &json!([1])), &["body"]);
        assert_validation(&api.post(&path, &json!("issuer")), &["body"]);
    }
    assert_eq!(api.total("/issuers"), 0, "nothing stored");

    // 255 characters is the limit, and fits.
    let longest = "x".repeat(255);
    let issuer = api.create(
        "/issuers",
        &json!({"name": longest, "url": "https://acme.example.org", "email": "ok@example.org"}),
        JSON_LD,
    );
    assert_eq!(issuer["name"], json!(longest));
    let uuid = uuid_of(&issuer);

    assert_validation(
        &api.put(
            &format!("/issuers/{uuid}"),
            &json!({"name": "", "url": "mailto:x@example.org", "email": "ok@example.org"}),
        ),
        &["name", "url"],
    );
    // An update keeps what it leaves out, so removing the required fields
    // (`null`) is what fails.
    assert_validation(
        &api.put(
            &format!("/v2/issuers/{uuid}"),
            &json!({"name": null, "url": null, "email": null}),
        ),
        &["name", "url", "email"],
    );
    assert_eq!(
        api.document(&format!("/issuers/{uuid}")),
        issuer,
        "unchanged"
    );
}

/// Achievements: required fields, types, URLs, criteria, tags, alignment,
/// achievement type; the issuer cannot change on update.
fn achievement_fields_are_validated(api: &Api) {
    let issuer = uuid_of(&api.issuer("", "Validating issuer"));
    let other_issuer = uuid_of(&api.issuer("", "Other issuer"));
    for prefix in PREFIXES {
        for list in ["achievements", "badge-classes"] {
            let path = format!("{prefix}/{list}");
            assert_validation(
                &api.post(&path, &json!({})),
                &["issuer", "name", "description", "image", "criteria"],
            );
            assert_validation(
                &api.post(
                    &path,
                    &json!({"issuer": issuer, "name": "", "description": 3, "criteria": {},
                            "image": "nope", "tags": "x",
                            "alignment": [{"targetName": "T"}, {"targetUrl": "https://s.example.org", "targetName": 1}]}),
                ),
                &[
                    "name",
                    "description",
                    "criteria",
                    "image",
                    "tags",
                    "alignment[0].targetUrl",
                    "alignment[1].targetName",
                ],
            );
            let mut body = achievement_body("not-a-reference", "Bad issuer");
            body["criteria"] = json!("not a url");
            body["tags"] = json!(["ok", 1]);
            body["achievementType"] = json!("Trophy");
            body["version"] = json!("v".repeat(101));
            assert_validation(
                &api.post(&path, &body),
                &[
                    "issuer",
                    "criteria",
                    "tags[1]",
                    "achievementType",
                    "version",
                ],
            );
            let mut body = achievement_body(&issuer, "Bad image object");
            body["image"] = json!({"type": "Image"});
            body["criteria"] = json!(["https://c.example.org"]);
            assert_validation(&api.post(&path, &body), &["image.id", "criteria"]);
        }
    }
    assert_eq!(api.total("/achievements"), 0, "nothing stored");

    let badge = api.achievement("", &issuer, "Valid");
    let uuid = uuid_of(&badge);
    assert_validation(
        &api.put(
            &format!("/achievements/{uuid}"),
            &json!({"issuer": issuer, "name": "", "description": "D", "criteria": "https://c.example.org",
                    "image": "https://c.example.org/i.png"}),
        ),
        &["name"],
    );
    assert_validation(
        &api.put(
            &format!("/achievements/{uuid}"),
            &achievement_body(&other_issuer, "Moved"),
        ),
        &["issuer"],
    );
    assert_eq!(
        api.document(&format!("/achievements/{uuid}")),
        badge,
        "unchanged"
    );
}

/// Credentials in both styles: required fields, e-mails, dates, types,
/// evidence, subjects; validUntil before validFrom; nothing stored.
fn credential_fields_are_validated(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    for prefix in PREFIXES {
        for list in ["credentials", "assertions"] {
            let path = format!("{prefix}/{list}");
            assert_validation(&api.post(&path, &json!({})), &["badge", "recipient"]);
            assert_validation(
                &api.post(
                    &path,
                    &json!({"badge": badge, "recipient": {"identity": "nope"}, "issuedOn": "yesterday",
                            "expires": 5, "evidence": [{"name": "x"}], "narrative": ""}),
                ),
                &[
                    "recipient.identity",
                    "issuedOn",
                    "expires",
                    "evidence[0]",
                    "narrative",
                ],
            );
            assert_validation(
                &api.post(
                    &path,
                    &json!({"badge": badge, "recipient": {"type": "fax", "identity": "a@example.org"}}),
                ),
                &["recipient.type"],
            );
            assert_validation(
                &api.post(
                    &path,
                    &json!({"badge": badge, "recipient": {"identity": "a@example.org", "hashed": "yes"},
                            "evidence": [{"id": "not a url"}], "image": "nope"}),
                ),
                &["recipient.hashed", "evidence[0].id", "evidence[0]", "image"],
            );
            assert_validation(
                &api.post(
                    &path,
                    &json!({"badge": badge, "recipient": "a@example.org"}),
                ),
                &["recipient"],
            );
            assert_validation(
                &api.post(
                    &path,
                    &json!({"badge": badge, "recipient": {"identity": "a@example.org"},
                            "narrative": "n".repeat(20_001), "issuedOn": "2024-05-01"}),
                ),
                &["narrative", "issuedOn"],
            );
            // OB 3.0 style.
            assert_validation(
                &api.post(
                    &path,
                    &json!({"credentialSubject": {"achievement": {"id": badge}}, "validFrom": "2024-02-30T00:00:00Z"}),
                ),
                &["credentialSubject.identifier", "validFrom"],
            );
            assert_validation(
                &api.post(
                    &path,
                    &json!({"credentialSubject": {"achievement": {"type": ["Achievement"]},
                             "identifier": [{"type": "IdentityObject", "identityType": "shoeSize", "identityHash": "42"}]}}),
                ),
                &[
                    "credentialSubject.achievement.id",
                    "credentialSubject.identifier[0].identityType",
                ],
            );
            assert_validation(
                &api.post(
                    &path,
                    &json!({"credentialSubject": {"id": "not an iri", "achievement": badge},
                            "validUntil": "soon"}),
                ),
                &["credentialSubject.id", "validUntil"],
            );
        }
    }
    assert_eq!(api.total("/credentials"), 0, "nothing stored");

    // An expiry that is not later than the issue date, named as sent.
    assert_validation(
        &api.post(
            "/credentials",
            &json!({"badge": badge, "recipient": {"identity": "a@example.org"},
                    "issuedOn": "2024-05-01T12:00:00Z", "expires": "2024-05-01T12:00:00Z"}),
        ),
        &["expires"],
    );
    assert_eq!(api.total("/credentials"), 0, "nothing stored");

    // Update validates too, and the badge cannot change.
    let award = api.award("", &badge, "valid@example.org");
    let uuid = uuid_of(&award);
    assert_validation(
        &api.put(
            &format!("/credentials/{uuid}"),
            &json!({"badge": badge, "recipient": {"identity": "bad"}}),
        ),
        &["recipient.identity"],
    );
    let (_, other_badge) = api.issuer_with_achievement();
    assert_validation(
        &api.put(
            &format!("/credentials/{uuid}"),
            &award_body(&other_badge, "valid@example.org"),
        ),
        &["badge"],
    );
    assert_eq!(api.document(&format!("/credentials/{uuid}")), award);

    // The same rule in OB 3.0 words names validUntil, the field as sent.
    assert_validation(
        &api.post(
            "/v3/credentials",
            &json!({"credentialSubject": {"id": "did:example:1", "achievement": badge},
                    "validFrom": "2024-05-01T12:00:00Z", "validUntil": "2024-04-01T12:00:00Z"}),
        ),
        &["validUntil"],
    );
}
