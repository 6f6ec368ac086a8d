//! Every OB 3.0 document the server emits validates against the official
//! JSON Schemas (`../shared/spec/ob3/schemas`).

use serde_json::{json, Value};

use crate::schemas::{assert_valid, schema_dir, schemas, Schema};
use crate::support::*;

on_both_backends!(v3_documents_validate_against_the_ob3_schemas);

/// Credentials of every shape (hashed e-mail, plain e-mail, DID and URL
/// subjects, telephone, pre-hashed identity, evidence, validUntil,
/// narrative and image, alignment and tags on the achievement), created
/// singly and in a batch, as created, fetched and listed; and the issuer
/// profiles, full and minimal.
fn v3_documents_validate_against_the_ob3_schemas(api: &Api) {
    if schemas().is_none() {
        println!(
            "skipped: the OB 3.0 schemas are not at {}",
            schema_dir().display()
        );
        return;
    }
    let full_issuer = uuid_of(&api.issuer("/v3", "Full profile"));
    let minimal_issuer = uuid_of(&api.create(
        "/v3/issuers",
        &json!({"name": "Minimal profile", "url": "https://minimal.example.org",
                "email": "badges@minimal.example.org"}),
        JSON_LD,
    ));
    for issuer in [&full_issuer, &minimal_issuer] {
        for prefix in ["/v3", ""] {
            assert_valid(
                Schema::Profile,
                &api.document(&format!("{prefix}/issuers/{issuer}")),
            );
        }
    }

    let rich_badge = uuid_of(&api.create(
        "/v3/achievements",
        &json!({
            "issuer": full_issuer,
            "name": "Rich achievement",
            "description": "With everything",
            "image": {"id": "https://issuer.example.org/rich.png", "type": "Image"},
            "criteria": {"id": "https://issuer.example.org/criteria", "narrative": "Do *everything*"},
            "tags": ["one", "two"],
            "alignment": [
                {"targetName": "A", "targetUrl": "https://standards.example.org/a",
                 "targetDescription": "The A standard", "targetFramework": "Framework", "targetCode": "A.1"},
                {"targetName": "B", "targetUrl": "https://standards.example.org/b"},
            ],
            "version": "2.1",
            "achievementType": "Certificate",
        }),
        JSON_LD,
    ));
    let minimal_badge = uuid_of(&api.create(
        "/achievements",
        &json!({"issuer": minimal_issuer, "name": "Minimal achievement",
                "description": "Nothing more", "criteria": "https://minimal.example.org/criteria",
                "image": "https://minimal.example.org/badge.png"}),
        JSON_LD,
    ));

    let shapes = [
        // OB 2.0 style e-mail: hashed with a salt.
        json!({"badge": rich_badge, "recipient": {"type": "email", "identity": "hashed@example.org"},
               "issuedOn": "2024-05-01T12:00:00Z"}),
        // E-mail in the clear.
        json!({"badge": minimal_badge, "recipient": {"type": "email", "identity": "plain@example.org", "hashed": false}}),
        // A DID subject.
        json!({"credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
                                     "achievement": {"id": rich_badge}},
               "validFrom": "2024-05-01T12:00:00.123Z"}),
        // A URL subject.
        json!({"achievement": minimal_badge, "credentialSubject": {"id": "https://people.example.org/ada"}}),
        // A telephone number, hashed.
        json!({"badge": rich_badge, "recipient": {"type": "telephone", "identity": "+15551234567"}}),
        // An identity hashed by the caller.
        json!({"credentialSubject": {"identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
                  "identityHash": "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399",
                  "hashed": true, "salt": "Kosher"}],
               "achievement": rich_badge}}),
        // Evidence, validUntil, narrative and image.
        json!({"badge": rich_badge, "recipient": {"identity": "evidence@example.org"},
               "validFrom": "2024-05-01T12:00:00Z", "validUntil": "2026-05-01T12:00:00.123456Z",
               "evidence": [{"id": "https://work.example.org/1", "name": "Work", "description": "The work",
                             "genre": "Code", "audience": "Reviewers", "narrative": "Wrote it"},
                            {"narrative": "Presented it"}],
               "narrative": "Everything at once", "image": "https://issuer.example.org/award.png"}),
        // A single evidence object, OB 2.0 style, and expires.
        json!({"badge": minimal_badge, "recipient": {"identity": "single@example.org"},
               "issuedOn": "2024-05-01T12:00:00+02:00", "expires": "2025-05-01T12:00:00Z",
               "evidence": {"id": "https://work.example.org/2"}}),
    ];
    for (index, body) in shapes.iter().enumerate() {
        for prefix in ["/v3", ""] {
            let credential = api.create(&format!("{prefix}/credentials"), body, VC_JSON_LD);
            check(&credential, &format!("shape {index} as created"));
            let fetched = api.document(&id_of(&credential));
            assert_eq!(fetched, credential);
        }
    }

    let batch = api.post(
        "/v3/credentials/batch",
        &json!({"credentials": shapes.to_vec()}),
    );
    batch.assert_status(201);
    for credential in batch.body.as_array().expect("an array of credentials") {
        check(credential, "batch item");
    }

    let listed = api.fetch("/v3/credentials?limit=500");
    listed.assert_status(200);
    let listed = listed.body.as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), shapes.len() * 3);
    for credential in &listed {
        check(credential, "listed");
    }
}

fn check(credential: &Value, what: &str) {
    assert!(
        assert_valid(Schema::AchievementCredential, credential),
        "{what}: the schemas are loaded"
    );
}

/// A way to break a valid credential, and its name.
type Breakage = (&'static str, fn(&mut Value));

/// The schema checks are not vacuous: a valid credential passes, and
/// broken copies (no validFrom, a date that is not a date-time, an unknown
/// identityType, a single context) fail.
#[test]
fn schema_checks_reject_broken_credentials() {
    let Some(schemas) = schemas() else {
        println!(
            "skipped: the OB 3.0 schemas are not at {}",
            schema_dir().display()
        );
        return;
    };
    let valid = json!({
        "@context": [VC2_CONTEXT, OB3_CONTEXT],
        "id": "http://127.0.0.1:1/v3/credentials/5b7ef4bc-4a04-4c39-8b43-1ac3f4b3a6f0",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Badge",
        "issuer": {"id": "http://127.0.0.1:1/v3/issuers/1", "type": ["Profile"], "name": "I"},
        "validFrom": "2024-05-01T12:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
                            "identityHash": "a@example.org", "hashed": false}],
            "achievement": {"id": "http://127.0.0.1:1/v3/achievements/1", "type": ["Achievement"],
                            "name": "Badge", "description": "D", "criteria": {"narrative": "N"}},
        },
    });
    assert!(
        schemas
            .violations(Schema::AchievementCredential, &valid)
            .is_empty(),
        "{:?}",
        schemas.violations(Schema::AchievementCredential, &valid)
    );
    let broken: [Breakage; 4] = [
        ("no validFrom", |doc| {
            doc.as_object_mut().map(|o| o.remove("validFrom"));
        }),
        ("validFrom not a date-time", |doc| {
            doc["validFrom"] = json!("yesterday");
        }),
        ("unknown identityType", |doc| {
            doc["credentialSubject"]["identifier"][0]["identityType"] = json!("shoeSize");
        }),
        ("VC context only", |doc| {
            doc["@context"] = json!([VC2_CONTEXT]);
        }),
    ];
    for (what, breaks) in broken {
        let mut doc = valid.clone();
        breaks(&mut doc);
        assert!(
            !schemas
                .violations(Schema::AchievementCredential, &doc)
                .is_empty(),
            "{what} must not validate"
        );
    }
    assert!(!schemas
        .violations(Schema::Profile, &json!({"id": "http://x.example/1"}))
        .is_empty());
}
