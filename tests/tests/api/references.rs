//! References to issuers and badges in every accepted form: the bare UUID,
//! `urn:uuid:<uuid>`, and the id URLs we return (v2, v3, bare, and the
//! `/badge-classes` alias), as strings or as objects with an `id`.

use serde_json::{json, Value};

use crate::support::*;

on_both_backends!(references_in_every_accepted_form);

fn references_in_every_accepted_form(api: &Api) {
    let base = api.base_url();
    let issuer = uuid_of(&api.issuer("", "Referenced issuer"));
    let issuer_forms = [
        json!(issuer),
        json!(format!("urn:uuid:{issuer}")),
        json!(format!("{base}/v2/issuers/{issuer}")),
        json!(format!("{base}/v3/issuers/{issuer}")),
        json!(format!("{base}/issuers/{issuer}")),
        json!({"id": format!("{base}/v3/issuers/{issuer}"), "type": ["Profile"]}),
        json!({"id": format!("urn:uuid:{issuer}")}),
    ];
    let mut badges = Vec::new();
    for (index, form) in issuer_forms.iter().enumerate() {
        let mut body = achievement_body("", &format!("Badge {index}"));
        body["issuer"] = form.clone();
        let doc = api.create("/v2/achievements", &body, JSON_LD);
        assert_eq!(
            doc["issuer"],
            json!(format!("{base}/v2/issuers/{issuer}")),
            "issuer given as {form}"
        );
        badges.push(uuid_of(&doc));
    }
    // `issuerId`, as some old clients send it.
    let mut body = achievement_body("", "Badge by issuerId");
    body.as_object_mut().map(|o| o.remove("issuer"));
    body["issuerId"] = json!(issuer);
    let doc = api.create("/v3/achievements", &body, JSON_LD);
    assert_eq!(
        doc["creator"]["id"],
        json!(format!("{base}/v3/issuers/{issuer}"))
    );
    assert_eq!(
        api.total(&format!("/issuers/{issuer}/achievements")),
        issuer_forms.len() as u64 + 1
    );

    let badge = &badges[0];
    let badge_forms = [
        json!(badge),
        json!(format!("urn:uuid:{badge}")),
        json!(format!("{base}/v2/achievements/{badge}")),
        json!(format!("{base}/v3/achievements/{badge}")),
        json!(format!("{base}/achievements/{badge}")),
        json!(format!("{base}/v2/badge-classes/{badge}")),
        json!(format!("{base}/v3/badge-classes/{badge}")),
        json!(format!("{base}/badge-classes/{badge}")),
    ];
    let expected_badge = json!(format!("{base}/v2/achievements/{badge}"));
    let mut bodies: Vec<Value> = Vec::new();
    for form in &badge_forms {
        // OB 2.0 `badge`, the old server's `badgeClass`, OB 3.0 top-level
        // `achievement`, and `credentialSubject.achievement` as a string
        // and as an object.
        bodies.push(json!({"badge": form, "recipient": {"identity": "ref@example.org"}}));
        bodies.push(json!({"badgeClass": form, "recipient": {"identity": "ref@example.org"}}));
        bodies.push(json!({"achievement": form, "credentialSubject": {"id": "did:example:ref"}}));
        bodies.push(json!({"credentialSubject": {"id": "did:example:ref", "achievement": form}}));
        bodies.push(json!({"credentialSubject": {"id": "did:example:ref",
                                                 "achievement": {"id": form, "type": ["Achievement"]}}}));
    }
    for body in &bodies {
        let doc = api.create("/v2/credentials", body, JSON_LD);
        assert_eq!(doc["badge"], expected_badge, "badge given as {body}");
    }
    assert_eq!(
        api.total(&format!("/achievements/{badge}/credentials")),
        bodies.len() as u64
    );
}
