//! The whole OB 3.0 data model: every property an issuer can set on a
//! profile, an achievement and a credential is kept and published exactly
//! as posted; what the server does not keep is a 400 naming it; values are
//! checked as the specification types them; related achievements.

use serde_json::{json, Value};

use crate::schemas::{assert_valid, Schema};
use crate::support::*;

on_both_backends!(
    every_profile_and_achievement_property_round_trips,
    every_credential_property_round_trips,
    unknown_properties_are_refused_by_path,
    bad_values_are_refused_by_path,
    related_achievements
);

/// Asserts that `doc` has every member of `posted` with the same value,
/// except `skip`.
#[track_caller]
fn assert_members(what: &str, posted: &Value, doc: &Value, skip: &[&str]) {
    for (key, value) in posted.as_object().expect("an object") {
        if skip.contains(&key.as_str()) {
            continue;
        }
        assert_eq!(&doc[key], value, "{what}: {key} differs in {doc:#}");
    }
}

/// An issuer and an achievement using every property: GET returns each as
/// posted, and so it does after the fetched documents are PUT back.
fn every_profile_and_achievement_property_round_trips(api: &Api) {
    let posted = full_issuer_body();
    let created = api.create("/v3/issuers", &posted, JSON_LD);
    let issuer = uuid_of(&created);
    let url = format!("/v3/issuers/{issuer}");
    let fetched = api.document(&url);
    assert_eq!(fetched, created, "GET = POST answer");
    assert_members("profile", &posted, &fetched, &[]);
    assert_valid(Schema::Profile, &fetched);
    api.put(&url, &fetched).assert_status(200);
    assert_eq!(api.document(&url), fetched, "PUT of the fetched profile");

    let posted = full_achievement_body(&issuer);
    let created = api.create("/v3/achievements", &posted, JSON_LD);
    let badge = uuid_of(&created);
    let url = format!("/v3/achievements/{badge}");
    let fetched = api.document(&url);
    assert_members("achievement", &posted, &fetched, &["issuer"]);
    assert_eq!(
        fetched["creator"]["id"],
        json!(api.at(&format!("/v3/issuers/{issuer}")))
    );
    api.put(&url, &fetched).assert_status(200);
    let again = api.document(&url);
    assert_eq!(again, fetched, "PUT of the fetched achievement");

    // OB 2.0 has tags, alignments (without their OB 3.0 type and
    // targetType) and the version.
    let v2 = api.document(&format!("/v2/achievements/{badge}"));
    assert_eq!(v2["tags"], posted["tag"]);
    assert_eq!(v2["version"], posted["version"]);
    assert_eq!(
        v2["alignment"][1],
        json!({"targetName": "Quantum", "targetUrl": "https://case.example.org/q",
               "targetDescription": "Quantum theory", "targetFramework": "CASE", "targetCode": "Q-1"})
    );
}

/// A credential using every property: GET v3 returns each as posted, it
/// validates against the 1EdTech schema, OB 2.0 carries what OB 2.0 has,
/// the fetched document can be PUT back, and a batch keeps them too.
fn every_credential_property_round_trips(api: &Api) {
    let issuer = uuid_of(&api.create("/v3/issuers", &full_issuer_body(), JSON_LD));
    let badge_doc = api.create("/v3/achievements", &full_achievement_body(&issuer), JSON_LD);
    let badge_url = id_of(&badge_doc);
    let posted = full_credential_body(&badge_url);
    let created = api.create("/v3/credentials", &posted, VC_JSON_LD);
    let award = uuid_of(&created);
    let url = format!("/v3/credentials/{award}");
    let fetched = api.document(&url);
    assert_eq!(fetched, created, "GET = POST answer");
    assert_members("credential", &posted, &fetched, &["credentialSubject"]);
    assert_members(
        "credentialSubject",
        &posted["credentialSubject"],
        &fetched["credentialSubject"],
        &["achievement"],
    );
    assert_eq!(
        fetched["credentialSubject"]["achievement"],
        without_context(&badge_doc),
        "the achievement is embedded whole, its details included"
    );
    assert_eq!(fetched["issuer"]["address"], full_issuer_body()["address"]);
    assert!(fetched.get("proof").is_some(), "signed: {fetched:#}");
    assert_valid(Schema::AchievementCredential, &fetched);

    let v2 = api.document(&format!("/v2/credentials/{award}"));
    assert_eq!(v2["expires"], posted["validUntil"]);
    assert_eq!(v2["narrative"], posted["credentialSubject"]["narrative"]);
    assert_eq!(v2["evidence"][0]["narrative"], json!("Lab report"));
    assert_eq!(v2["evidence"][0]["genre"], json!("Report"));
    let v2_badge = api.document(&format!("/v2/achievements/{}", uuid_of(&badge_doc)));
    assert_eq!(v2_badge["alignment"].as_array().map(Vec::len), Some(2));

    // The published credential sent back: accepted, nothing changes but
    // the proof (signed anew).
    api.put(&url, &fetched).assert_status(200);
    let replaced = api.document(&url);
    let strip = |doc: &Value| {
        let mut doc = doc.clone();
        doc.as_object_mut().expect("an object").remove("proof");
        doc
    };
    assert_eq!(
        strip(&replaced),
        strip(&fetched),
        "PUT of the fetched credential"
    );

    let response = api.post(
        "/v3/credentials/batch",
        &json!([posted.clone(), posted.clone()]),
    );
    response.assert_status(201);
    for item in response.body.as_array().expect("an array") {
        assert_members("batch credential", &posted, item, &["credentialSubject"]);
        assert_members(
            "batch credentialSubject",
            &posted["credentialSubject"],
            &item["credentialSubject"],
            &["achievement"],
        );
        assert_eq!(api.document(&id_of(item)), *item);
    }
}

/// A property the server does not keep is a 400 naming its path, at the
/// top level and nested, and nothing is stored.
fn unknown_properties_are_refused_by_path(api: &Api) {
    let mut issuer = full_issuer_body();
    issuer["nickname"] = json!("Ω");
    issuer["address"]["bogus"] = json!(1);
    issuer["image"]["caption"] = json!("not kept for issuers");
    assert_validation(
        &api.post("/issuers", &issuer),
        &["nickname", "address.bogus", "image.caption"],
    );
    assert_eq!(api.total("/issuers"), 0, "nothing stored");

    let issuer = uuid_of(&api.issuer("", "Issuer"));
    let mut badge = full_achievement_body(&issuer);
    badge["bogus"] = json!(true);
    badge["alignment"][1]["foo"] = json!("bar");
    badge["criteria"]["extra"] = json!(1);
    badge["resultDescription"][1]["rubricCriterionLevel"][0]["colour"] = json!("red");
    assert_validation(
        &api.post("/achievements", &badge),
        &[
            "bogus",
            "alignment[1].foo",
            "criteria.extra",
            "resultDescription[1].rubricCriterionLevel[0].colour",
        ],
    );
    assert_eq!(api.total("/achievements"), 0, "nothing stored");

    let badge = id_of(&api.create("/achievements", &full_achievement_body(&issuer), JSON_LD));
    let mut credential = full_credential_body(&badge);
    credential["bogus"] = json!("x");
    credential["credentialSubject"]["result"][0]["bogus"] = json!(1);
    credential["credentialSubject"]["grade"] = json!("A");
    credential["evidence"][0]["weight"] = json!(3);
    assert_validation(
        &api.post("/credentials", &credential),
        &[
            "bogus",
            "credentialSubject.result[0].bogus",
            "credentialSubject.grade",
            "evidence[0].weight",
        ],
    );
    let ob2 = json!({"badge": badge, "recipient": {"identity": "a@example.org", "nickname": "A"},
                     "issuedOn": "2026-01-01T00:00:00Z", "verification": {"type": "hosted"}});
    assert_validation(
        &api.post("/credentials", &ob2),
        &["recipient.nickname", "verification"],
    );
    let batch = json!({"credentials": [full_credential_body(&badge), credential]});
    assert_validation(
        &api.post("/credentials/batch", &batch),
        &[
            "credentials[1].bogus",
            "credentials[1].credentialSubject.result[0].bogus",
            "credentials[1].credentialSubject.grade",
            "credentials[1].evidence[0].weight",
        ],
    );
    assert_eq!(api.total("/credentials"), 0, "nothing stored");
}

/// Values are checked as the specification types them, each error named
/// by its path.
fn bad_values_are_refused_by_path(api: &Api) {
    let mut issuer = full_issuer_body();
    issuer["dateOfBirth"] = json!("1867-02-30");
    issuer["address"]["geo"]["latitude"] = json!("north");
    issuer["parentOrg"]["id"] = json!("not an IRI");
    assert_validation(
        &api.post("/issuers", &issuer),
        &["dateOfBirth", "address.geo.latitude", "parentOrg.id"],
    );

    let issuer = uuid_of(&api.issuer("", "Issuer"));
    let mut badge = full_achievement_body(&issuer);
    badge["achievementType"] = json!("Trophy");
    badge["creditsAvailable"] = json!("three");
    badge["inLanguage"] = json!("French");
    badge["related"][0]["id"] = json!("not an IRI");
    badge["resultDescription"][0]["resultType"] = json!("Stars");
    badge["alignment"][1]["targetType"] = json!("Skill");
    assert_validation(
        &api.post("/achievements", &badge),
        &[
            "achievementType",
            "creditsAvailable",
            "inLanguage",
            "related[0].id",
            "resultDescription[0].resultType",
            "alignment[1].targetType",
        ],
    );

    let badge = id_of(&api.create("/achievements", &full_achievement_body(&issuer), JSON_LD));
    let mut credential = full_credential_body(&badge);
    credential["awardedDate"] = json!("last June");
    credential["credentialSubject"]["result"][0]["status"] = json!("Done");
    credential["credentialSubject"]["creditsEarned"] = json!("7.5");
    credential["credentialSubject"]["result"][1]["type"] = json!(["Grade"]);
    credential["termsOfUse"][0]["id"] = json!("terms");
    assert_validation(
        &api.post("/credentials", &credential),
        &[
            "awardedDate",
            "credentialSubject.result[0].status",
            "credentialSubject.creditsEarned",
            "credentialSubject.result[1].type",
            "termsOfUse[0].id",
        ],
    );
    // A credential sent back names its issuer: it must be the
    // achievement's.
    let stranger = uuid_of(&api.issuer("", "Another issuer"));
    let mut credential = full_credential_body(&badge);
    credential["issuer"] = json!(format!("urn:uuid:{stranger}"));
    assert_validation(&api.post("/credentials", &credential), &["issuer"]);
    credential["issuer"] = json!({"id": format!("urn:uuid:{issuer}"), "type": ["Profile"]});
    api.post("/credentials", &credential).assert_status(201);
    assert_eq!(api.total("/credentials"), 1);
}

/// `/achievements/{id}/related` (and `/badge-classes`): add one of ours
/// (stored as its OB 3.0 URL) and an external one, list, publish in
/// `related`, refuse duplicates, delete by UUID and by encoded IRI.
fn related_achievements(api: &Api) {
    for collection in ["/achievements", "/v3/badge-classes"] {
        let (_, badge) = api.issuer_with_achievement();
        let (_, other) = api.issuer_with_achievement();
        let related = format!("{collection}/{badge}/related");
        assert_eq!(api.document(&related), json!([]));

        let ours = json!({"id": api.at(&format!("/v3/achievements/{other}")), "type": ["Related"],
                          "inLanguage": "de", "version": "2"});
        let response = api.post(
            &related,
            &json!({"relatedAchievementId": format!("urn:uuid:{other}"),
                                                   "inLanguage": "de", "version": "2"}),
        );
        response.assert_status(201);
        assert_eq!(response.body, json!([ours]));
        let external = json!({"id": "https://elsewhere.example.org/a?x=1", "type": ["Related"]});
        let response = api.post(
            &related,
            &json!({"id": "https://elsewhere.example.org/a?x=1"}),
        );
        response.assert_status(201);
        assert_eq!(response.body, json!([ours, external]));
        api.post(&related, &json!({"id": other})).assert_status(409);
        api.post(&related, &json!({"id": badge})).assert_status(400);
        api.post(&related, &json!({"id": uuid::Uuid::new_v4().to_string()}))
            .assert_status(422);
        assert_validation(
            &api.post(
                &related,
                &json!({"id": other, "inLanguage": "German", "why": 1}),
            ),
            &["inLanguage", "why"],
        );

        assert_eq!(api.document(&related), json!([ours, external]));
        let doc = api.document(&format!("/v3/achievements/{badge}"));
        assert_eq!(doc["related"], json!([ours, external]));

        api.delete(&format!("{related}/{other}")).assert_status(204);
        api.delete(&format!(
            "{related}/https%3A%2F%2Felsewhere.example.org%2Fa%3Fx%3D1"
        ))
        .assert_status(204);
        assert_not_found(&api.delete(&format!("{related}/{other}")));
        assert_eq!(api.document(&related), json!([]));
        assert!(api
            .document(&format!("/v3/achievements/{badge}"))
            .get("related")
            .is_none());
        assert_not_found(&api.fetch(&format!("{collection}/{}/related", uuid::Uuid::new_v4())));
    }
}
