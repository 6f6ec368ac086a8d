//! `POST /credentials/batch`: many awards in one request, all or nothing.

use serde_json::{json, Value};

use crate::support::*;

on_both_backends!(
    batch_stores_every_award,
    batch_with_a_bad_item_stores_nothing,
    a_large_batch_arrives_whole_and_in_order
);

/// N valid items → 201 with N documents in the prefix's version, every one
/// retrievable; both body forms (`{"credentials": [...]}` and a bare array).
fn batch_stores_every_award(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let (_, other_badge) = api.issuer_with_achievement();
    assert_eq!(api.total("/credentials"), 0);

    let items = vec![
        award_body(&badge, "one@example.org"),
        award_body(&other_badge, "two@example.org"),
        json!({"credentialSubject": {"id": "did:example:three", "achievement": {"id": badge}},
               "validFrom": "2024-05-02T00:00:00Z"}),
        json!({"badge": format!("urn:uuid:{badge}"), "recipient": {"identity": "four@example.org", "hashed": false},
               "evidence": {"narrative": "Did it"}}),
        award_body(
            &api.at(&format!("/v2/badge-classes/{other_badge}")),
            "five@example.org",
        ),
    ];
    let response = api.post("/credentials/batch", &json!({"credentials": items}));
    response.assert_status(201);
    let docs = response.body.as_array().expect("an array of credentials");
    assert_eq!(docs.len(), 5, "{}", response.text);
    let ids = ids_in(&response.body);
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "distinct ids: {ids:?}");
    for doc in docs {
        assert_eq!(
            doc["type"],
            json!(["VerifiableCredential", "OpenBadgeCredential"])
        );
        assert!(id_of(doc).starts_with(&api.at("/v3/credentials/")));
        assert_eq!(api.document(&id_of(doc)), *doc, "stored as returned");
    }
    // In request order.
    assert_eq!(
        docs[2]["credentialSubject"]["id"],
        json!("did:example:three")
    );
    assert_eq!(docs[2]["validFrom"], json!("2024-05-02T00:00:00Z"));
    assert_eq!(
        docs[3]["credentialSubject"]["identifier"][0]["identityHash"],
        json!("four@example.org")
    );
    assert_eq!(api.total("/credentials"), 5);
    assert_eq!(api.total(&format!("/credentials?achievement={badge}")), 3);

    // A bare array through /v2: OB 2.0 assertions.
    let response = api.post(
        "/v2/credentials/batch",
        &json!([
            award_body(&badge, "six@example.org"),
            award_body(&badge, "seven@example.org")
        ]),
    );
    response.assert_status(201);
    let docs = response.body.as_array().expect("an array of assertions");
    assert_eq!(docs.len(), 2);
    for doc in docs {
        assert_eq!(doc["type"], json!("Assertion"));
        assert_eq!(doc["@context"], json!(OB2_CONTEXT));
        assert_eq!(api.document(&id_of(doc)), *doc);
    }
    // `assertions` as the key, as old clients send it.
    let response = api.post(
        "/assertions/batch",
        &json!({"assertions": [award_body(&badge, "eight@example.org")]}),
    );
    response.assert_status(201);
    assert_eq!(response.body.as_array().map(Vec::len), Some(1));
    assert_eq!(api.total("/credentials"), 8);
}

/// A batch whose answer is written in several chunks (64 KiB each) still
/// arrives as one JSON array, every award in request order and as stored.
fn a_large_batch_arrives_whole_and_in_order(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let items: Vec<Value> = (0..300)
        .map(|i| {
            json!({"badge": badge,
                   "recipient": {"identity": format!("bulk{i}@example.org"), "hashed": false}})
        })
        .collect();
    // Signed, the credentials wait in the batch's spill until stored and
    // answered; unsigned, they are built as they are answered.
    for path in [
        "/credentials/batch",
        "/credentials/batch?sign=false",
        "/v2/credentials/batch",
    ] {
        let response = api.post(path, &json!(items));
        response.assert_status(201);
        assert!(
            response.text.len() > 64 * 1024,
            "{path}: spans more than one chunk, {} bytes",
            response.text.len()
        );
        let docs = response.body.as_array().expect("an array of credentials");
        assert_eq!(docs.len(), items.len(), "{path}");
        for (i, doc) in docs.iter().enumerate() {
            let identity = if path.starts_with("/v2") {
                &doc["recipient"]["identity"]
            } else {
                &doc["credentialSubject"]["identifier"][0]["identityHash"]
            };
            assert_eq!(*identity, json!(format!("bulk{i}@example.org")), "{path}");
        }
        for doc in [&docs[0], &docs[docs.len() - 1]] {
            assert_eq!(
                api.document(&id_of(doc)),
                *doc,
                "{path}: stored as returned"
            );
        }
    }
    assert_eq!(api.total("/credentials"), 900);
}

fn valid_items(badge: &str, count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| award_body(badge, &format!("item{i}@example.org")))
        .collect()
}

/// One bad item (bad e-mail at index 3, unknown badge, expiry before
/// issue, several bad items) → an error naming `credentials[i]...` for
/// each, and nothing stored.
fn batch_with_a_bad_item_stores_nothing(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    api.award("", &badge, "existing@example.org");
    let before = api.total("/credentials");
    assert_eq!(before, 1);

    let mut items = valid_items(&badge, 6);
    items[3]["recipient"]["identity"] = json!("not-an-email");
    assert_validation(
        &api.post("/credentials/batch", &json!({"credentials": items})),
        &["credentials[3].recipient.identity"],
    );
    assert_eq!(api.total("/credentials"), before, "nothing stored");

    let mut items = valid_items(&badge, 6);
    items[1]["issuedOn"] = json!("2024-13-01T00:00:00Z");
    items[4].as_object_mut().map(|o| o.remove("recipient"));
    items[5]["badge"] = json!(7);
    assert_validation(
        &api.post("/credentials/batch", &json!({"credentials": items})),
        &[
            "credentials[1].issuedOn",
            "credentials[4].recipient",
            "credentials[5].badge",
        ],
    );
    assert_eq!(api.total("/credentials"), before, "nothing stored");

    let unknown = uuid::Uuid::new_v4().to_string();
    let mut items = valid_items(&badge, 4);
    items[2]["badge"] = json!(unknown);
    let response = api.post("/credentials/batch", &json!({"credentials": items}));
    assert!(
        response.status == 400 || response.status == 422,
        "an unknown badge in a batch: {} {}",
        response.status,
        response.text
    );
    assert!(
        response.text.contains("credentials[2]") && response.text.contains(&unknown),
        "names the item and the badge: {}",
        response.text
    );
    if response.status == 400 {
        assert_validation(&response, &["credentials[2].badge"]);
    }
    assert_eq!(api.total("/credentials"), before, "nothing stored");

    let mut items = valid_items(&badge, 3);
    items[0]["issuedOn"] = json!("2024-05-01T12:00:00Z");
    items[0]["expires"] = json!("2024-04-01T12:00:00Z");
    assert_validation(
        &api.post("/v2/credentials/batch", &json!({"credentials": items})),
        &["credentials[0].expires"],
    );
    assert_eq!(api.total("/credentials"), before, "nothing stored");

    let mut items = valid_items(&badge, 3);
    items[2] = json!("not an object");
    assert_validation(
        &api.post("/credentials/batch", &json!(items)),
        &["credentials[2]"],
    );
    assert_validation(
        &api.post("/credentials/batch", &json!({"credentials": []})),
        &["credentials"],
    );
    assert_validation(
        &api.post("/credentials/batch", &json!({"credentials": "all of them"})),
        &["credentials"],
    );
    assert_validation(&api.post("/credentials/batch", &json!(42)), &["body"]);
    assert_validation(
        &api.send("POST", "/credentials/batch", &[], Some("[{")),
        &["body"],
    );
    assert_eq!(api.total("/credentials"), before, "nothing stored");
}
