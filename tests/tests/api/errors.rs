//! Errors other than field validation: malformed JSON, unknown ids (404)
//! and references to unknown issuers or badges (400 naming the field, as
//! the previous server answered).

use serde_json::json;
use uuid::Uuid;

use crate::support::*;

on_both_backends!(
    malformed_json_is_a_400_naming_body,
    unknown_ids_are_404,
    unknown_references_are_400,
);

/// A body that is not JSON, on every route that takes one.
fn malformed_json_is_a_400_naming_body(api: &Api) {
    let (issuer, badge) = api.issuer_with_achievement();
    let award = uuid_of(&api.award("", &badge, "json@example.org"));
    for prefix in PREFIXES {
        for (method, path) in [
            ("POST", "/issuers".to_owned()),
            ("PUT", format!("/issuers/{issuer}")),
            ("POST", "/achievements".to_owned()),
            ("POST", "/badge-classes".to_owned()),
            ("PUT", format!("/achievements/{badge}")),
            ("POST", "/credentials".to_owned()),
            ("POST", "/assertions".to_owned()),
            ("PUT", format!("/credentials/{award}")),
            ("POST", "/credentials/batch".to_owned()),
            ("POST", format!("/credentials/{award}/revoke")),
        ] {
            for body in ["{\"name\": ", "not json", "{'name': 'x'}"] {
                assert_validation(
                    &api.send(method, &format!("{prefix}{path}"), &[], Some(body)),
                    &["body"],
                );
            }
        }
    }
    // Nothing was created or changed.
    assert_eq!(api.total("/issuers"), 1);
    assert_eq!(api.total("/achievements"), 1);
    assert_eq!(api.total("/credentials"), 1);
    api.fetch(&format!("/credentials/{award}"))
        .assert_status(200);
}

/// An unknown id (a valid UUID) or one that is not a UUID at all is 404
/// `{"error":"Not Found","message":...}` on every route that takes one.
fn unknown_ids_are_404(api: &Api) {
    let (issuer, badge) = api.issuer_with_achievement();
    let unknown = Uuid::new_v4().to_string();
    for prefix in PREFIXES {
        for id in [unknown.as_str(), "not-a-uuid", "12345"] {
            for path in [
                format!("/issuers/{id}"),
                format!("/issuers/{id}/achievements"),
                format!("/achievements/{id}"),
                format!("/achievements/{id}/credentials"),
                format!("/badge-classes/{id}"),
                format!("/credentials/{id}"),
                format!("/assertions/{id}"),
            ] {
                let response = api.fetch(&format!("{prefix}{path}"));
                assert_not_found(&response);
                if id == unknown {
                    assert!(
                        response.body["message"]
                            .as_str()
                            .is_some_and(|m| m.contains(id)),
                        "{}: the message names the id: {}",
                        response.request,
                        response.text
                    );
                }
            }
            // Updates with valid bodies, deletes, revocation.
            assert_not_found(&api.put(&format!("{prefix}/issuers/{id}"), &issuer_body("Nobody")));
            assert_not_found(&api.put(
                &format!("{prefix}/achievements/{id}"),
                &achievement_body(&issuer, "Nothing"),
            ));
            assert_not_found(&api.put(
                &format!("{prefix}/credentials/{id}"),
                &award_body(&badge, "nobody@example.org"),
            ));
            assert_not_found(&api.delete(&format!("{prefix}/issuers/{id}")));
            assert_not_found(&api.delete(&format!("{prefix}/achievements/{id}")));
            assert_not_found(&api.delete(&format!("{prefix}/badge-classes/{id}")));
            assert_not_found(&api.post(
                &format!("{prefix}/credentials/{id}/revoke"),
                &json!({"reason": "x"}),
            ));
        }
    }
    // Nothing was created by the updates.
    assert_eq!(api.total("/issuers"), 1);
    assert_eq!(api.total("/achievements"), 1);
    assert_eq!(api.total("/credentials"), 0);
    // Unknown routes answer the same shape.
    assert_not_found(&api.fetch("/v3/no-such-resource"));
}

/// A well-formed reference to an issuer or badge that does not exist is
/// a 400 naming the field as the body named it, and the id, in every
/// reference form; nothing is stored.
fn unknown_references_are_400(api: &Api) {
    let unknown = Uuid::new_v4().to_string();
    let base = api.base_url();
    let issuer = uuid_of(&api.issuer("", "Real issuer"));
    for reference in [
        unknown.clone(),
        format!("urn:uuid:{unknown}"),
        format!("{base}/v2/issuers/{unknown}"),
        format!("{base}/v3/issuers/{unknown}"),
    ] {
        for prefix in PREFIXES {
            let response = api.post(
                &format!("{prefix}/achievements"),
                &achievement_body(&reference, "Orphan"),
            );
            assert_unknown(&response, "issuer", &unknown);
        }
    }
    let response = api.post(
        "/v3/achievements",
        &json!({"issuer": {"id": format!("urn:uuid:{unknown}")}, "name": "Orphan",
                "description": "D", "criteria": {"narrative": "N"},
                "image": "https://orphan.example.org/badge.png"}),
    );
    assert_unknown(&response, "issuer", &unknown);
    assert_eq!(api.total("/achievements"), 0, "nothing stored");

    let badge = uuid_of(&api.achievement("", &issuer, "Real badge"));
    for reference in [
        unknown.clone(),
        format!("urn:uuid:{unknown}"),
        format!("{base}/v2/achievements/{unknown}"),
        format!("{base}/v3/achievements/{unknown}"),
        format!("{base}/v2/badge-classes/{unknown}"),
    ] {
        for prefix in PREFIXES {
            let response = api.post(
                &format!("{prefix}/credentials"),
                &award_body(&reference, "orphan@example.org"),
            );
            assert_unknown(&response, "badge", &unknown);
        }
        let response = api.post(
            "/v3/credentials",
            &json!({"credentialSubject": {"id": "did:example:1", "achievement": {"id": reference}}}),
        );
        assert_unknown(&response, "credentialSubject.achievement", &unknown);
    }
    assert_eq!(api.total("/credentials"), 0, "nothing stored");

    // An issuer's or a badge's URL on another server is not a reference
    // to an unknown one here but a bad value: 400.
    assert_validation(
        &api.post(
            "/achievements",
            &achievement_body(
                &format!("https://elsewhere.example.org/issuers/{issuer}"),
                "X",
            ),
        ),
        &["issuer"],
    );
    assert_validation(
        &api.post(
            "/credentials",
            &award_body(&format!("{base}/v3/issuers/{badge}"), "x@example.org"),
        ),
        &["badge"],
    );
}

#[track_caller]
fn assert_unknown(response: &openbadges_e2e::Response, field: &str, unknown: &str) {
    assert_validation(response, &[field]);
    assert!(
        response.body["details"][field][0]
            .as_str()
            .is_some_and(|m| m.contains(unknown)),
        "{}: the message names {unknown}: {}",
        response.request,
        response.text
    );
}
