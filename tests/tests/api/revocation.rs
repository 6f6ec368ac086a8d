//! Revocation: `POST /credentials/{id}/revoke {reason}`, then 410 in both
//! versions, and no second revocation.

use serde_json::json;

use crate::support::*;

on_both_backends!(revoked_credentials_answer_410, revocation_input_is_checked);

/// Revoke → 200 with the new status; GET → 410 with the reason in the
/// shape of each version; revoking again → 409; other awards unaffected.
fn revoked_credentials_answer_410(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let revoked = uuid_of(&api.award("", &badge, "revoked@example.org"));
    let kept = uuid_of(&api.award("/v2", &badge, "kept@example.org"));
    let reason = "Issued in error";

    let response = api.post(
        &format!("/credentials/{revoked}/revoke"),
        &json!({"reason": reason}),
    );
    response.assert_status(200);
    let body = &response.body;
    assert_eq!(body["status"], json!("revoked"), "{body}");
    assert_eq!(body["revoked"], json!(true), "{body}");
    assert_eq!(body["revocationReason"], json!(reason), "{body}");
    assert_eq!(
        body["id"],
        json!(api.at(&format!("/v3/credentials/{revoked}")))
    );
    assert!(body["statusChangedAt"].as_str().is_some(), "{body}");

    for target in [
        format!("/v2/credentials/{revoked}"),
        format!("/v2/assertions/{revoked}"),
    ] {
        let gone = api.fetch(&target);
        gone.assert_status(410);
        let body = &gone.body;
        assert_eq!(body["revoked"], json!(true), "{target}: {body}");
        assert_eq!(body["revocationReason"], json!(reason), "{target}: {body}");
        assert_eq!(body["code"], json!("ASSERTION_REVOKED"), "{target}: {body}");
        assert_eq!(body["error"], json!("Credential has been revoked"));
        let v2_id = api.at(&format!("/v2/credentials/{revoked}"));
        assert_eq!(
            body["details"],
            json!({"id": v2_id, "revocationReason": reason})
        );
        // The hosted assertion itself, marked revoked.
        assert_eq!(body["id"], json!(v2_id));
        assert_eq!(body["type"], json!("Assertion"));
    }
    for target in [
        format!("/v3/credentials/{revoked}"),
        format!("/credentials/{revoked}"),
        format!("/assertions/{revoked}"),
    ] {
        let gone = api.fetch(&target);
        gone.assert_status(410);
        let body = &gone.body;
        assert_eq!(
            body["code"],
            json!("CREDENTIAL_REVOKED"),
            "{target}: {body}"
        );
        assert_eq!(body["error"], json!("Credential has been revoked"));
        assert_eq!(
            body["details"],
            json!({"id": api.at(&format!("/v3/credentials/{revoked}")), "revocationReason": reason})
        );
    }

    for prefix in PREFIXES {
        let again = api.post(
            &format!("{prefix}/credentials/{revoked}/revoke"),
            &json!({"reason": "twice"}),
        );
        again.assert_status(409);
        assert_eq!(again.body["error"], json!("Conflict"), "{}", again.text);
        assert!(
            again.body["message"]
                .as_str()
                .is_some_and(|m| m.contains(&revoked)),
            "{}",
            again.text
        );
    }
    // The first reason stands.
    assert_eq!(
        api.fetch(&format!("/v2/credentials/{revoked}")).body["revocationReason"],
        json!(reason)
    );

    // The other award is untouched.
    api.fetch(&format!("/v2/credentials/{kept}"))
        .assert_status(200);
    api.fetch(&format!("/v3/credentials/{kept}"))
        .assert_status(200);

    // Without a body (or a reason) through /v2.
    let response = api.send("POST", &format!("/v2/credentials/{kept}/revoke"), &[], None);
    response.assert_status(200);
    assert_eq!(response.body["status"], json!("revoked"));
    assert_eq!(response.body["revocationReason"], json!(null));
    assert_eq!(
        response.body["id"],
        json!(api.at(&format!("/v2/credentials/{kept}")))
    );
    let gone = api.fetch(&format!("/v2/credentials/{kept}"));
    gone.assert_status(410);
    assert_eq!(gone.body["revoked"], json!(true));
}

/// Unknown ids are 404; a bad reason or body is 400 naming it.
fn revocation_input_is_checked(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let award = uuid_of(&api.award("", &badge, "input@example.org"));
    assert_not_found(&api.post(
        &format!("/credentials/{}/revoke", uuid::Uuid::new_v4()),
        &json!({"reason": "x"}),
    ));
    assert_not_found(&api.post("/credentials/not-a-uuid/revoke", &json!({"reason": "x"})));
    assert_validation(
        &api.post(
            &format!("/credentials/{award}/revoke"),
            &json!({"reason": 42}),
        ),
        &["reason"],
    );
    assert_validation(
        &api.post(
            &format!("/credentials/{award}/revoke"),
            &json!({"reason": "x".repeat(20_001)}),
        ),
        &["reason"],
    );
    assert_validation(
        &api.send(
            "POST",
            &format!("/credentials/{award}/revoke"),
            &[],
            Some("{\"reason\": "),
        ),
        &["body"],
    );
    // None of that revoked it.
    api.fetch(&format!("/credentials/{award}"))
        .assert_status(200);
}
