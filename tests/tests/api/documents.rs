//! Creating through every prefix and alias, and the documents served back:
//! the OB 2.0 and OB 3.0 shapes, ids that dereference, and every resource
//! rendering in both versions whatever route created it.

use serde_json::{json, Value};

use crate::schemas::{assert_valid, Schema};
use crate::support::*;

on_both_backends!(
    creates_through_every_prefix,
    alias_paths_are_deprecated,
    ids_dereference_to_the_same_document,
    v2_documents_have_the_ob2_shape,
    v3_documents_have_the_ob3_shape,
    resources_render_in_both_versions,
    text_round_trips_exactly,
);

/// POST /issuers, /achievements, /credentials under /v2, /v3 and bare:
/// 201, `Location` = id, the id under `BASE_URL/<version>/...`, the media
/// type of the version, and no deprecation headers.
fn creates_through_every_prefix(api: &Api) {
    for prefix in PREFIXES {
        let version = version_of(prefix);

        let response = api.post(&format!("{prefix}/issuers"), &issuer_body("Acme"));
        let issuer = expect_created(&response, JSON_LD);
        assert_not_deprecated(&response);
        let issuer_uuid = uuid_of(&issuer);
        assert_eq!(
            id_of(&issuer),
            api.at(&format!("/{version}/issuers/{issuer_uuid}"))
        );

        let response = api.post(
            &format!("{prefix}/achievements"),
            &achievement_body(&issuer_uuid, "Rust"),
        );
        let achievement = expect_created(&response, JSON_LD);
        assert_not_deprecated(&response);
        let badge_uuid = uuid_of(&achievement);
        assert_eq!(
            id_of(&achievement),
            api.at(&format!("/{version}/achievements/{badge_uuid}"))
        );

        let response = api.post(
            &format!("{prefix}/credentials"),
            &award_body(&badge_uuid, "ada@example.org"),
        );
        let credential = expect_created(&response, credential_media_type(prefix));
        assert_not_deprecated(&response);
        let credential_uuid = uuid_of(&credential);
        assert_eq!(
            id_of(&credential),
            api.at(&format!("/{version}/credentials/{credential_uuid}"))
        );

        // Each is listed, and fetched through the same prefix.
        for (list, uuid) in [
            ("issuers", &issuer_uuid),
            ("achievements", &badge_uuid),
            ("credentials", &credential_uuid),
        ] {
            let listed = api.document(&format!("{prefix}/{list}?limit=500"));
            assert!(
                ids_in(&listed).iter().any(|id| id.ends_with(uuid.as_str())),
                "{prefix}/{list} lists {uuid}: {listed}"
            );
            let fetched = api.fetch(&format!("{prefix}/{list}/{uuid}"));
            fetched.assert_status(200);
            assert_not_deprecated(&fetched);
        }
    }
    assert_eq!(api.total("/issuers"), 3);
    assert_eq!(api.total("/achievements"), 3);
    assert_eq!(api.total("/credentials"), 3);
}

/// /badge-classes and /assertions work like /achievements and /credentials
/// under every prefix, and every answer carries `Deprecation: true`, a
/// `Sunset` date and `Link: </achievements>` (or `</credentials>`)
/// `; rel="successor-version"` — list answers included.
fn alias_paths_are_deprecated(api: &Api) {
    // List answers are checked last, so that a failure there does not hide
    // the others.
    let mut lists = Vec::new();
    for prefix in PREFIXES {
        let version = version_of(prefix);
        let issuer = uuid_of(&api.issuer(prefix, "Alias issuer"));

        // Badge classes.
        let response = api.post(
            &format!("{prefix}/badge-classes"),
            &achievement_body(&issuer, "Alias badge"),
        );
        let badge = expect_created(&response, JSON_LD);
        assert_deprecated(&response, "/achievements");
        let badge_uuid = uuid_of(&badge);
        assert_eq!(
            id_of(&badge),
            api.at(&format!("/{version}/achievements/{badge_uuid}")),
            "the id names the successor path"
        );
        let alias_get = api.fetch(&format!("{prefix}/badge-classes/{badge_uuid}"));
        alias_get.assert_status(200);
        assert_deprecated(&alias_get, "/achievements");
        assert_eq!(alias_get.body, badge);
        assert_eq!(
            api.document(&format!("{prefix}/achievements/{badge_uuid}")),
            badge
        );
        let mut changed = achievement_body(&issuer, "Alias badge, renamed");
        changed["description"] = json!("Changed through the alias");
        let put = api.put(&format!("{prefix}/badge-classes/{badge_uuid}"), &changed);
        put.assert_status(200);
        assert_deprecated(&put, "/achievements");
        assert_eq!(put.body["name"], json!("Alias badge, renamed"));

        let list = api.fetch(&format!("{prefix}/badge-classes?issuer={issuer}"));
        list.assert_status(200);
        assert_eq!(ids_in(&list.body), [id_of(&put.body)]);
        lists.push((list, "/achievements"));

        let nested = api.fetch(&format!("{prefix}/badge-classes/{badge_uuid}/credentials"));
        nested.assert_status(200);
        lists.push((nested, "/achievements"));

        // Assertions.
        let response = api.post(
            &format!("{prefix}/assertions"),
            &award_body(&badge_uuid, "alias@example.org"),
        );
        let credential = expect_created(&response, credential_media_type(prefix));
        assert_deprecated(&response, "/credentials");
        let credential_uuid = uuid_of(&credential);
        assert_eq!(
            id_of(&credential),
            api.at(&format!("/{version}/credentials/{credential_uuid}"))
        );
        let alias_get = api.fetch(&format!("{prefix}/assertions/{credential_uuid}"));
        alias_get.assert_status(200);
        assert_deprecated(&alias_get, "/credentials");
        assert_eq!(alias_get.body, credential);

        let put = api.put(
            &format!("{prefix}/assertions/{credential_uuid}"),
            &json!({"badge": badge_uuid, "recipient": {"identity": "alias@example.org", "hashed": false},
                    "issuedOn": "2024-05-01T12:00:00Z", "narrative": "Changed through the alias"}),
        );
        put.assert_status(200);
        assert_deprecated(&put, "/credentials");

        let batch = api.post(
            &format!("{prefix}/assertions/batch"),
            &json!({"credentials": [award_body(&badge_uuid, "batch@example.org")]}),
        );
        batch.assert_status(201);
        assert_deprecated(&batch, "/credentials");

        let list = api.fetch(&format!("{prefix}/assertions?achievement={badge_uuid}"));
        list.assert_status(200);
        assert_eq!(list.body.as_array().map(Vec::len), Some(2));
        lists.push((list, "/credentials"));

        let revoke = api.post(
            &format!("{prefix}/assertions/{credential_uuid}/revoke"),
            &json!({"reason": "alias"}),
        );
        revoke.assert_status(200);
        assert_deprecated(&revoke, "/credentials");

        // Errors through an alias are deprecated too.
        let missing = api.fetch(&format!("{prefix}/assertions/{}", uuid::Uuid::new_v4()));
        assert_not_found(&missing);
        assert_deprecated(&missing, "/credentials");

        // And an unawarded badge class is deleted through the alias.
        let spare = uuid_of(&api.achievement(prefix, &issuer, "Spare"));
        let delete = api.delete(&format!("{prefix}/badge-classes/{spare}"));
        delete.assert_status(204);
        assert_deprecated(&delete, "/achievements");
        assert_not_found(&api.fetch(&format!("/achievements/{spare}")));
    }
    for (list, successor) in &lists {
        // The pagination links and the successor link, side by side.
        assert!(link(list, "first").is_some(), "{}", list.request);
        assert_deprecated(list, successor);
    }
}

/// Every id (and every id inside a document) is an HTTP URL under
/// `BASE_URL` that answers with that very document.
fn ids_dereference_to_the_same_document(api: &Api) {
    let base = api.base_url();
    let (_, badge) = api.issuer_with_achievement();
    for prefix in PREFIXES {
        let credential = api.award(prefix, &badge, "grace@example.org");
        let uuid = uuid_of(&credential);
        for version in ["v2", "v3"] {
            let doc = api.document(&format!("/{version}/credentials/{uuid}"));
            let id = id_of(&doc);
            assert!(id.starts_with(&format!("{base}/{version}/")), "{id}");
            assert_eq!(api.document(&id), doc, "GET {id}");

            if version == "v2" {
                let badge_url = doc["badge"].as_str().expect("badge is an IRI");
                let badge_class = api.document(badge_url);
                assert_eq!(badge_class["id"], json!(badge_url));
                let issuer_url = badge_class["issuer"].as_str().expect("issuer is an IRI");
                let issuer = api.document(issuer_url);
                assert_eq!(issuer["id"], json!(issuer_url));
                assert!(issuer_url.starts_with(&format!("{base}/v2/issuers/")));
                assert!(badge_url.starts_with(&format!("{base}/v2/achievements/")));
            } else {
                // OB 3.0 credentials name their issuer by its did:web, which
                // resolves to a DID document pointing back to the profile.
                let did = doc["issuer"]["id"].as_str().expect("issuer.id");
                let did_document = api.document(&did_web_url(did));
                assert_eq!(did_document["id"], json!(did));
                let issuer_url = did_document["alsoKnownAs"][0]
                    .as_str()
                    .expect("the DID document names the profile");
                assert_eq!(as_embedded(&api.document(issuer_url), did), doc["issuer"]);
                let achievement = &doc["credentialSubject"]["achievement"];
                let achievement_url = achievement["id"].as_str().expect("achievement.id");
                assert_eq!(
                    without_context(&api.document(achievement_url)),
                    *achievement
                );
                let creator_url = achievement["creator"]["id"].as_str().expect("creator.id");
                assert_eq!(creator_url, issuer_url);
                assert!(issuer_url.starts_with(&format!("{base}/v3/issuers/")));
                assert!(achievement_url.starts_with(&format!("{base}/v3/achievements/")));
            }
        }
    }
}

/// /v2 documents, exactly: the Issuer Profile with url and email, the
/// BadgeClass with issuer, criteria and image, the hosted Assertion with
/// `badge` (never `badgeClass`), recipient, verification and issuedOn.
fn v2_documents_have_the_ob2_shape(api: &Api) {
    let base = api.base_url();
    let issuer = api.issuer("/v2", "OB2 Issuer");
    let issuer_uuid = uuid_of(&issuer);
    let issuer_url = format!("{base}/v2/issuers/{issuer_uuid}");
    let expected_issuer = json!({
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": issuer_url,
        "name": "OB2 Issuer",
        "url": "https://issuer.example.org",
        "email": "badges@issuer.example.org",
        "description": "Issues badges in the end-to-end tests",
        "image": "https://issuer.example.org/logo.png",
    });
    assert_eq!(issuer, expected_issuer);
    assert_eq!(api.document(&issuer_url), expected_issuer);

    let badge = api.create(
        "/v2/badge-classes",
        &json!({
            "type": "BadgeClass",
            "issuer": issuer_url,
            "name": "OB2 Badge",
            "description": "An OB 2.0 badge class",
            "image": "https://issuer.example.org/badge.png",
            "criteria": "https://issuer.example.org/criteria",
            "tags": ["rust", "testing"],
            "alignment": [{"targetName": "Testing", "targetUrl": "https://standards.example.org/testing",
                           "targetFramework": "Skills", "targetCode": "T-1"}],
            "version": "1.0",
        }),
        JSON_LD,
    );
    let badge_uuid = uuid_of(&badge);
    let badge_url = format!("{base}/v2/achievements/{badge_uuid}");
    let expected_badge = json!({
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badge_url,
        "name": "OB2 Badge",
        "description": "An OB 2.0 badge class",
        "image": "https://issuer.example.org/badge.png",
        "criteria": {"id": "https://issuer.example.org/criteria"},
        "issuer": issuer_url,
        "tags": ["rust", "testing"],
        "alignment": [{"targetName": "Testing", "targetUrl": "https://standards.example.org/testing",
                       "targetFramework": "Skills", "targetCode": "T-1"}],
        "version": "1.0",
    });
    assert_eq!(badge, expected_badge);
    assert_eq!(api.document(&badge_url), expected_badge);

    let assertion = api.create(
        "/v2/assertions",
        &json!({
            "badge": badge_url,
            "recipient": {"type": "email", "identity": "ob2@example.org", "hashed": false},
            "issuedOn": "2024-05-01T12:00:00Z",
            "expires": "2030-01-01T00:00:00Z",
            "evidence": [{"id": "https://work.example.org/1", "narrative": "Wrote the tests"}],
            "narrative": "Did the work",
            "image": "https://issuer.example.org/award.png",
        }),
        JSON_LD,
    );
    let assertion_url = format!("{base}/v2/credentials/{}", uuid_of(&assertion));
    let expected_assertion = json!({
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_url,
        "recipient": {"type": "email", "identity": "ob2@example.org", "hashed": false},
        "badge": badge_url,
        "verification": {"type": "hosted"},
        "issuedOn": "2024-05-01T12:00:00Z",
        "expires": "2030-01-01T00:00:00Z",
        "evidence": [{"id": "https://work.example.org/1", "type": "Evidence", "narrative": "Wrote the tests"}],
        "narrative": "Did the work",
        "image": "https://issuer.example.org/award.png",
    });
    assert_eq!(assertion, expected_assertion);
    assert_eq!(api.document(&assertion_url), expected_assertion);
    assert!(assertion.get("badgeClass").is_none());
}

/// /v3 documents, exactly: the Profile, the Achievement and the
/// OpenBadgeCredential with issuer as a Profile, validFrom, validUntil,
/// name and the AchievementSubject.
fn v3_documents_have_the_ob3_shape(api: &Api) {
    let base = api.base_url();
    let context = json!([VC2_CONTEXT, OB3_CONTEXT]);
    let issuer = api.issuer("/v3", "OB3 Issuer");
    let issuer_url = format!("{base}/v3/issuers/{}", uuid_of(&issuer));
    let expected_profile = json!({
        "@context": context,
        "id": issuer_url,
        "type": ["Profile"],
        "name": "OB3 Issuer",
        "url": "https://issuer.example.org",
        "email": "badges@issuer.example.org",
        "description": "Issues badges in the end-to-end tests",
        "image": {"id": "https://issuer.example.org/logo.png", "type": "Image"},
    });
    assert_eq!(issuer, expected_profile);
    assert_eq!(api.document(&issuer_url), expected_profile);
    assert_valid(Schema::Profile, &issuer);
    let host = base.strip_prefix("http://").expect("an http base URL");
    let issuer_did = format!(
        "did:web:{}:issuers:{}",
        host.replace(':', "%3A"),
        uuid_of(&issuer)
    );

    let achievement = api.create(
        "/v3/achievements",
        &json!({
            "type": ["Achievement"],
            "issuer": {"id": issuer_url},
            "name": "OB3 Achievement",
            "description": "An OB 3.0 achievement",
            "image": {"id": "https://issuer.example.org/badge.png", "type": "Image"},
            "criteria": {"narrative": "Ship it"},
            "tag": ["rust"],
            "achievementType": "Badge",
            "alignment": [{"targetName": "Shipping", "targetUrl": "https://standards.example.org/shipping"}],
        }),
        JSON_LD,
    );
    let achievement_url = format!("{base}/v3/achievements/{}", uuid_of(&achievement));
    let expected_achievement = json!({
        "@context": context,
        "id": achievement_url,
        "type": ["Achievement"],
        "name": "OB3 Achievement",
        "description": "An OB 3.0 achievement",
        "criteria": {"narrative": "Ship it"},
        "image": {"id": "https://issuer.example.org/badge.png", "type": "Image"},
        "achievementType": "Badge",
        "tag": ["rust"],
        "alignment": [{"type": ["Alignment"], "targetName": "Shipping",
                       "targetUrl": "https://standards.example.org/shipping"}],
        "creator": {"id": issuer_url, "type": ["Profile"]},
    });
    assert_eq!(achievement, expected_achievement);
    assert_eq!(api.document(&achievement_url), expected_achievement);

    let credential = api.create(
        "/v3/credentials",
        &json!({
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "validFrom": "2024-05-01T12:00:00Z",
            "validUntil": "2030-05-01T12:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
                                "identityHash": "ob3@example.org", "hashed": false}],
                "achievement": {"id": achievement_url},
            },
        }),
        VC_JSON_LD,
    );
    let credential_url = format!("{base}/v3/credentials/{}", uuid_of(&credential));
    let expected_credential = json!({
        // Credentials also name the extensions context, which defines the
        // type of the credentialSchema every credential names.
        "@context": [VC2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT],
        "id": credential_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "OB3 Achievement",
        "issuer": as_embedded(&expected_profile, &issuer_did),
        "validFrom": "2024-05-01T12:00:00Z",
        "validUntil": "2030-05-01T12:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
                            "identityHash": "ob3@example.org", "hashed": false}],
            "achievement": without_context(&expected_achievement),
        },
        "credentialSchema": [{
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019"
        }],
    });
    // Issued credentials are signed; the rest of the document is as expected.
    let mut unsigned = credential.clone();
    let proof = unsigned
        .as_object_mut()
        .and_then(|c| c.remove("proof"))
        .expect("an issued credential carries a proof");
    assert_eq!(proof["cryptosuite"], json!("eddsa-rdfc-2022"));
    // The issuer's first credential holds bit 0 of its first status list.
    let status = unsigned
        .as_object_mut()
        .and_then(|c| c.remove("credentialStatus"))
        .expect("an issued credential names its status list");
    let list = status["statusListCredential"].as_str().unwrap_or_default();
    assert!(
        list.starts_with(&format!("{base}/status-lists/")),
        "{status}"
    );
    assert_eq!(
        status,
        json!({"id": format!("{list}#0"), "type": "BitstringStatusListEntry",
               "statusPurpose": "revocation", "statusListIndex": "0",
               "statusListCredential": list})
    );
    assert_eq!(unsigned, expected_credential);
    assert_eq!(api.document(&credential_url), credential);
    assert_valid(Schema::AchievementCredential, &credential);
}

/// A resource created through /v2 renders through /v3 and the other way
/// round, in lists too (the old server answered 500 there).
fn resources_render_in_both_versions(api: &Api) {
    let base = api.base_url();
    let v2_issuer = uuid_of(&api.issuer("/v2", "Made in v2"));
    let v2_badge = uuid_of(&api.achievement("/v2", &v2_issuer, "Made in v2"));
    let v2_award = uuid_of(&api.award("/v2", &v2_badge, "v2@example.org"));

    let v3_issuer = uuid_of(&api.issuer("/v3", "Made in v3"));
    let v3_badge = uuid_of(&api.achievement("/v3", &v3_issuer, "Made in v3"));
    let v3_award = uuid_of(&api.create(
        "/v3/credentials",
        &json!({"credentialSubject": {"id": "did:example:v3", "achievement": {"id": v3_badge}},
                "validFrom": "2024-05-01T12:00:00Z"}),
        VC_JSON_LD,
    ));

    for (issuer, badge, award, name) in [
        (&v2_issuer, &v2_badge, &v2_award, "Made in v2"),
        (&v3_issuer, &v3_badge, &v3_award, "Made in v3"),
    ] {
        let profile = api.document(&format!("/v3/issuers/{issuer}"));
        assert_eq!(profile["type"], json!(["Profile"]));
        assert_eq!(profile["name"], json!(name));
        let ob2_issuer = api.document(&format!("/v2/issuers/{issuer}"));
        assert_eq!(ob2_issuer["type"], json!("Issuer"));
        assert_eq!(ob2_issuer["@context"], json!(OB2_CONTEXT));

        let achievement = api.document(&format!("/v3/achievements/{badge}"));
        assert_eq!(achievement["type"], json!(["Achievement"]));
        assert_eq!(
            achievement["creator"]["id"],
            json!(format!("{base}/v3/issuers/{issuer}"))
        );
        let badge_class = api.document(&format!("/v2/achievements/{badge}"));
        assert_eq!(badge_class["type"], json!("BadgeClass"));
        assert_eq!(
            badge_class["issuer"],
            json!(format!("{base}/v2/issuers/{issuer}"))
        );

        let credential = api.document(&format!("/v3/credentials/{award}"));
        assert_eq!(
            credential["type"],
            json!(["VerifiableCredential", "OpenBadgeCredential"])
        );
        let did = credential["issuer"]["id"].as_str().expect("issuer.id");
        assert!(did.starts_with("did:web:"), "{did}");
        assert_eq!(credential["issuer"], as_embedded(&profile, did));
        assert_eq!(
            credential["credentialSubject"]["achievement"],
            without_context(&achievement)
        );
        assert_valid(Schema::AchievementCredential, &credential);
        let assertion = api.document(&format!("/v2/credentials/{award}"));
        assert_eq!(assertion["type"], json!("Assertion"));
        assert_eq!(
            assertion["badge"],
            json!(format!("{base}/v2/achievements/{badge}"))
        );
        assert_eq!(assertion["verification"], json!({"type": "hosted"}));
    }

    // The DID subject of the v3 credential, as OB 2.0 sees it.
    let assertion = api.document(&format!("/v2/credentials/{v3_award}"));
    assert_eq!(assertion["recipient"]["identity"], json!("did:example:v3"));
    assert_eq!(assertion["recipient"]["hashed"], json!(false));

    for prefix in PREFIXES {
        for list in ["issuers", "achievements", "credentials"] {
            let docs = api.document(&format!("{prefix}/{list}"));
            assert_eq!(docs.as_array().map(Vec::len), Some(2), "{prefix}/{list}");
            for doc in docs.as_array().into_iter().flatten() {
                assert_eq!(doc, &api.document(&id_of(doc)), "listed = fetched");
                check_version(prefix, doc);
            }
        }
    }
}

fn check_version(prefix: &str, doc: &Value) {
    if version_of(prefix) == "v2" {
        assert_eq!(doc["@context"], json!(OB2_CONTEXT), "{doc}");
    } else if doc["type"][0] == json!("VerifiableCredential") {
        // A credential also names the extensions context, which defines
        // its credentialSchema type.
        assert_eq!(
            doc["@context"],
            json!([VC2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT]),
            "{doc}"
        );
    } else {
        assert_eq!(doc["@context"], json!([VC2_CONTEXT, OB3_CONTEXT]), "{doc}");
    }
}

/// Text as given, on both backends: non-ASCII letters, emoji, CJK, line
/// breaks and tabs in free text, 255-character names counted in
/// characters, markup, quotes and a `data:` image.
fn text_round_trips_exactly(api: &Api) {
    let name = "Ünïcödé Akademie 🎓 — 学校 \"quoted\" <b>&amp;</b>";
    let long_name = "é".repeat(255);
    let description = "Line one\nLine two\r\n\tIndented — ✓\n\n**Markdown** _too_";
    let image =
        "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=";
    let issuer = api.create(
        "/v3/issuers",
        &json!({"name": name, "url": "https://xn--bcher-kva.example/über?q=1&r=ä#frag",
                "email": "o'brien+badges@example.org", "description": description, "image": image}),
        JSON_LD,
    );
    let issuer_uuid = uuid_of(&issuer);
    let v2 = api.document(&format!("/v2/issuers/{issuer_uuid}"));
    assert_eq!(v2["name"], json!(name));
    assert_eq!(v2["description"], json!(description));
    assert_eq!(
        v2["url"],
        json!("https://xn--bcher-kva.example/über?q=1&r=ä#frag")
    );
    assert_eq!(v2["email"], json!("o'brien+badges@example.org"));
    assert_eq!(v2["image"], json!(image));
    assert_eq!(api.document(&id_of(&issuer)), issuer);

    let badge = api.create(
        "/v2/achievements",
        &json!({"issuer": issuer_uuid, "name": long_name, "description": description,
                "criteria": {"narrative": description}, "tags": ["ß", "🎓", "日本語"], "image": image}),
        JSON_LD,
    );
    let badge_uuid = uuid_of(&badge);
    assert_eq!(badge["name"], json!(long_name));
    assert_eq!(api.document(&id_of(&badge)), badge);
    let v3 = api.document(&format!("/v3/achievements/{badge_uuid}"));
    assert_eq!(v3["name"], json!(long_name));
    assert_eq!(v3["criteria"], json!({"narrative": description}));
    assert_eq!(v3["tag"], json!(["ß", "🎓", "日本語"]));
    assert_eq!(v3["image"], json!({"id": image, "type": "Image"}));

    let award = api.create(
        "/v2/credentials",
        &json!({"badge": badge_uuid, "recipient": {"identity": "zoë@example.org", "hashed": false},
                "narrative": description,
                "evidence": [{"narrative": name, "name": "Évidence 🎓", "genre": "Kunst"}]}),
        JSON_LD,
    );
    assert_eq!(api.document(&id_of(&award)), award);
    assert_eq!(award["recipient"]["identity"], json!("zoë@example.org"));
    assert_eq!(award["narrative"], json!(description));
    assert_eq!(
        award["evidence"],
        json!([{"type": "Evidence", "narrative": name, "name": "Évidence 🎓", "genre": "Kunst"}])
    );
    let credential = api.document(&format!("/v3/credentials/{}", uuid_of(&award)));
    assert_eq!(credential["name"], json!(long_name));
    assert_eq!(credential["issuer"]["name"], json!(name));
}

/// The URL a `did:web` resolves to (the tests' base URL is plain http).
fn did_web_url(did: &str) -> String {
    let rest = did.strip_prefix("did:web:").expect("a did:web");
    let mut parts = rest.split(':');
    let host = parts.next().expect("a host").replace("%3A", ":");
    let path: Vec<&str> = parts.collect();
    format!("http://{host}/{}/did.json", path.join("/"))
}

/// A standalone OB 3.0 profile as a credential embeds it: without its
/// `@context`, and named by the issuer's DID.
fn as_embedded(profile: &serde_json::Value, did: &str) -> serde_json::Value {
    let mut embedded = without_context(profile);
    embedded["id"] = json!(did);
    embedded
}
