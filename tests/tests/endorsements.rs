//! Endorsements end to end, on both backends, with authentication on (who
//! may endorse is part of the feature):
//!
//! - the previous server's body `{"issuer", "endorsementComment"}` has the
//!   server issue and sign an `EndorsementCredential` of an achievement, a
//!   profile and a credential (the issuer given as URL, `urn:uuid:` or bare
//!   UUID): 201, served publicly at its `id`, valid against the 1EdTech
//!   schema, verified by `POST /verify`, listed in the achievement's and
//!   profile's `endorsement` and in the `/endorsements` lists;
//! - revoked: its URL answers 410, its bit is set in the endorser's
//!   published status list, `POST /verify` reports it revoked, and it
//!   leaves the lists;
//! - one signed elsewhere with a did:key (JSON with a proof, or a VC-JWT)
//!   is verified and attached; a tampered one is refused with the report
//!   and nothing is stored; one about something else is refused;
//! - only who manages the endorsing issuer may endorse (403 otherwise).

use std::io::Read;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openbadges_credentials::{
    did_key_for, did_key_verification_method, DataIntegrity, Ed25519KeyPair,
};
use openbadges_e2e::{award_body, on_both_backends, uuid_of, Caller, Server, Storage};
use serde_json::{json, Value};

#[allow(dead_code)]
#[path = "api/schemas.rs"]
mod schemas;

on_both_backends!(
    endorsements_are_issued_listed_and_revoked,
    endorsements_signed_elsewhere_are_verified_then_attached,
    only_who_manages_the_endorser_may_endorse,
    endorsed_documents_can_be_sent_back_but_not_edit_their_endorsements,
);

const ADMIN_KEY: &str = "e2e-endorse-admin-key-0123456789ab";
const KEK: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
const LIST_BITS: usize = 131_072;

fn admin() -> Caller {
    Caller::Key(ADMIN_KEY.to_owned())
}

fn start(storage: &Storage) -> Server {
    storage
        .launch_with_auth()
        .env(
            "AUTH_API_KEY_ENDORSE",
            format!("{ADMIN_KEY}:admin:endorsement tests"),
        )
        .env("KEY_ENCRYPTION_KEY", KEK)
        .start()
}

/// The path of one of the server's URLs.
fn path_of(server: &Server, url: &str) -> String {
    url.strip_prefix(&server.base_url())
        .unwrap_or_else(|| panic!("{url} is not on {}", server.base_url()))
        .to_owned()
}

/// POSTs an endorsement body as `caller`, expecting 201 with `Location` at
/// `/endorsements/<id>`; returns the credential.
#[track_caller]
fn endorse(server: &Server, caller: &Caller, target: &str, body: &Value) -> Value {
    let response = server.post_as(caller, target, body);
    response.assert_status(201);
    let location = response.header("location").expect("a Location").to_owned();
    assert!(
        location.starts_with(&format!("{}/endorsements/", server.base_url())),
        "{location}"
    );
    assert_eq!(
        response.media_type(),
        Some("application/vc+ld+json"),
        "{}",
        response.request
    );
    response.body
}

/// The ids of the endorsements in `doc`'s `endorsement`.
fn endorsement_ids(doc: &Value) -> Vec<String> {
    doc["endorsement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect()
}

/// The ids of a `GET .../endorsements` list (public).
#[track_caller]
fn listed(server: &Server, target: &str) -> Vec<String> {
    let response = server.fetch(target);
    response.assert_status(200);
    endorsement_ids(&json!({ "endorsement": response.body }))
}

/// Asserts `credential` is valid against the 1EdTech EndorsementCredential
/// schema (skipped, as the other schema checks, where ../shared is absent).
#[track_caller]
fn assert_valid_endorsement(credential: &Value) {
    let path = schemas::schema_dir().join("ob_v3p0_endorsementcredential_schema.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing",
            path.display()
        );
        eprintln!(
            "EndorsementCredential schema check skipped: {}",
            path.display()
        );
        return;
    };
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    let validator = jsonschema::draft201909::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(credential)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{credential:#}");
}

/// `POST /verify` anonymously, expecting 200; the report.
#[track_caller]
fn verify(server: &Server, credential: &Value) -> Value {
    let response = server.post("/verify", credential);
    response.assert_status(200);
    response.body
}

/// The bit `index` of the published revocation list at `list_url`.
#[track_caller]
fn published_bit(server: &Server, list_url: &str, index: usize) -> bool {
    let response = server.fetch(&path_of(server, list_url));
    response.assert_status(200);
    let encoded = response.body["credentialSubject"]["encodedList"]
        .as_str()
        .expect("encodedList");
    let compressed = URL_SAFE_NO_PAD
        .decode(encoded.strip_prefix('u').expect("multibase base64url"))
        .expect("base64url");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_end(&mut bytes)
        .expect("GZIP");
    assert_eq!(bytes.len() * 8, LIST_BITS);
    bytes[index / 8] & (0x80 >> (index % 8)) != 0
}

fn endorsements_are_issued_listed_and_revoked(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = server.issuer_with_badge(&admin(), "Endorsed college", "Data literacy");
    let endorser = uuid_of(
        &server
            .post_as(&admin(), "/issuers", &openbadges_e2e::issuer_body("Guild"))
            .body,
    );
    let award = server.post_as(
        &admin(),
        "/credentials",
        &award_body(&badge, "ada@example.org"),
    );
    award.assert_status(201);
    let award = uuid_of(&award.body);
    let base = server.base_url();

    // Every subject, the endorser in every id form, through the route forms.
    let cases = [
        (
            format!("/achievements/{badge}/endorsements"),
            format!("{base}/v3/issuers/{endorser}"),
            format!("{base}/v3/achievements/{badge}"),
        ),
        (
            format!("/v2/issuers/{issuer}/endorsements"),
            format!("urn:uuid:{endorser}"),
            format!("{base}/v3/issuers/{issuer}"),
        ),
        (
            format!("/assertions/{award}/endorsements"),
            endorser.clone(),
            format!("{base}/v3/credentials/{award}"),
        ),
    ];
    let mut issued = Vec::new();
    for (target, endorser_ref, subject_url) in &cases {
        let comment = format!("Endorsing {subject_url}");
        let credential = endorse(
            &server,
            &admin(),
            target,
            &json!({"issuer": endorser_ref, "endorsementComment": comment}),
        );
        assert_eq!(
            credential["type"],
            json!(["VerifiableCredential", "EndorsementCredential"]),
            "{credential:#}"
        );
        assert_eq!(credential["issuer"]["id"], json!(server.did_of(&endorser)));
        assert_eq!(credential["credentialSubject"]["id"], json!(subject_url));
        assert_eq!(
            credential["credentialSubject"]["type"],
            json!(["EndorsementSubject"])
        );
        assert_eq!(
            credential["credentialSubject"]["endorsementComment"],
            json!(comment)
        );
        assert_eq!(credential["proof"]["cryptosuite"], json!("eddsa-rdfc-2022"));
        assert_valid_endorsement(&credential);
        // Public at its id, exactly as signed.
        let id = credential["id"].as_str().expect("an id").to_owned();
        let fetched = server.fetch(&path_of(&server, &id));
        fetched.assert_status(200);
        assert_eq!(fetched.media_type(), Some("application/vc+ld+json"));
        assert_eq!(fetched.body, credential);
        let report = verify(&server, &credential);
        assert_eq!(report["isValid"], json!(true), "{report:#}");
        issued.push(credential);
    }
    let achievement_endorsement = issued[0]["id"].as_str().expect("id").to_owned();
    let issuer_endorsement = issued[1]["id"].as_str().expect("id").to_owned();
    let credential_endorsement = issued[2]["id"].as_str().expect("id").to_owned();

    // Listed in the endorsed documents (v3) and in the lists.
    let achievement = server.fetch(&format!("/v3/achievements/{badge}"));
    achievement.assert_status(200);
    assert_eq!(
        endorsement_ids(&achievement.body),
        std::slice::from_ref(&achievement_endorsement)
    );
    assert_eq!(
        endorsement_ids(&server.fetch(&format!("/issuers/{issuer}")).body),
        std::slice::from_ref(&issuer_endorsement)
    );
    assert_eq!(
        listed(&server, &format!("/badge-classes/{badge}/endorsements")),
        std::slice::from_ref(&achievement_endorsement)
    );
    assert_eq!(
        listed(&server, &format!("/issuers/{issuer}/endorsements")),
        [issuer_endorsement]
    );
    assert_eq!(
        listed(&server, &format!("/credentials/{award}/endorsements")),
        [credential_endorsement]
    );
    // The alias paths are deprecated like the others.
    let alias = server.fetch(&format!("/assertions/{award}/endorsements"));
    alias.assert_status(200);
    assert_eq!(
        alias.header("deprecation"),
        Some("true"),
        "{}",
        alias.request
    );
    // The signed award itself does not change.
    let award_doc = server.fetch(&format!("/credentials/{award}"));
    assert!(
        award_doc.body.get("endorsement").is_none(),
        "{:#}",
        award_doc.body
    );

    // Revoked: 410, its bit set, reported revoked, out of the lists.
    let status = &issued[0]["credentialStatus"];
    let list = status["statusListCredential"]
        .as_str()
        .expect("a status list")
        .to_owned();
    let index: usize = status["statusListIndex"]
        .as_str()
        .expect("an index")
        .parse()
        .expect("a number");
    assert!(!published_bit(&server, &list, index));
    let revoked = server.post_as(
        &admin(),
        &format!("{}/revoke", path_of(&server, &achievement_endorsement)),
        &json!({"reason": "Endorsed by mistake"}),
    );
    revoked.assert_status(200);
    assert_eq!(revoked.body["status"], json!("revoked"), "{}", revoked.text);
    assert_eq!(
        revoked.body["revocationReason"],
        json!("Endorsed by mistake")
    );
    let gone = server.fetch(&path_of(&server, &achievement_endorsement));
    gone.assert_status(410);
    assert_eq!(
        gone.body["code"],
        json!("ENDORSEMENT_REVOKED"),
        "{}",
        gone.text
    );
    assert!(
        published_bit(&server, &list, index),
        "bit {index} of {list} is set"
    );
    let report = verify(&server, &issued[0]);
    assert_eq!(report["isValid"], json!(false), "{report:#}");
    assert_eq!(report["isRevoked"], json!(true), "{report:#}");
    assert_eq!(report["errorCode"], json!("REVOKED"), "{report:#}");
    let achievement = server.fetch(&format!("/v3/achievements/{badge}"));
    assert!(
        endorsement_ids(&achievement.body).is_empty(),
        "{:#}",
        achievement.body
    );
    assert!(listed(&server, &format!("/achievements/{badge}/endorsements")).is_empty());
    // The others are unaffected.
    assert_eq!(verify(&server, &issued[1])["isValid"], json!(true));
    // Revocation is final.
    let again = server.post_as(
        &admin(),
        &format!("{}/revoke", path_of(&server, &achievement_endorsement)),
        &json!({}),
    );
    again.assert_status(409);

    // Bad requests name the field; a missing endorser is 422, a missing
    // subject 404.
    let bad = server.post_as(
        &admin(),
        &format!("/achievements/{badge}/endorsements"),
        &json!({"endorsementComment": 7}),
    );
    bad.assert_status(400);
    assert!(bad.body["details"]["issuer"].is_array(), "{}", bad.text);
    assert!(
        bad.body["details"]["endorsementComment"].is_array(),
        "{}",
        bad.text
    );
    let unknown = uuid::Uuid::new_v4();
    server
        .post_as(
            &admin(),
            &format!("/achievements/{badge}/endorsements"),
            &json!({"issuer": unknown.to_string()}),
        )
        .assert_status(422);
    server
        .post_as(
            &admin(),
            &format!("/achievements/{unknown}/endorsements"),
            &json!({"issuer": endorser}),
        )
        .assert_status(404);

    // Deleting what is endorsed deletes its endorsements: the achievement
    // with its award (cascade) takes theirs; the profile's stays.
    server
        .delete_as(&admin(), &format!("/achievements/{badge}?cascade=true"))
        .assert_status(204);
    for gone in [&issued[0], &issued[2]] {
        let id = gone["id"].as_str().expect("id");
        server.fetch(&path_of(&server, id)).assert_status(404);
    }
    let id = issued[1]["id"].as_str().expect("id");
    server.fetch(&path_of(&server, id)).assert_status(200);
}

/// An unsigned EndorsementCredential of `subject_url` by `did`.
fn foreign(did: &str, subject_url: &str, comment: &str) -> Value {
    json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "An endorsement from elsewhere",
        "issuer": {"id": did, "type": ["Profile"], "name": "Elsewhere"},
        "validFrom": "2024-05-01T12:00:00Z",
        "credentialSubject": {
            "id": subject_url,
            "type": ["EndorsementSubject"],
            "endorsementComment": comment
        }
    })
}

fn sign(unsigned: &Value, key: &Ed25519KeyPair) -> Value {
    DataIntegrity::new()
        .expect("the bundled contexts load")
        .sign(
            unsigned,
            key,
            &did_key_verification_method(&key.verifying_key()),
            "2024-05-01T12:00:00Z",
        )
        .expect("sign")
}

/// A VC-JWT (EdDSA) of `credential`, `kid` naming `key`'s did:key.
fn jwt(credential: &Value, key: &Ed25519KeyPair) -> String {
    let mut claims = credential.clone();
    claims["iss"] = credential["issuer"]["id"].clone();
    claims["jti"] = credential["id"].clone();
    claims["sub"] = credential["credentialSubject"]["id"].clone();
    claims["nbf"] = json!(1_714_564_800);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(did_key_verification_method(&key.verifying_key()));
    header.typ = Some("JWT".to_owned());
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(key.seed().as_slice());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&der),
    )
    .expect("sign a JWT")
}

fn endorsements_signed_elsewhere_are_verified_then_attached(storage: &Storage) {
    let server = start(storage);
    let (_, badge) = server.issuer_with_badge(&admin(), "Endorsed college", "Statistics");
    let (_, other) = server.issuer_with_badge(&admin(), "Other college", "Other badge");
    let key = Ed25519KeyPair::generate().expect("a key");
    let did = did_key_for(&key.verifying_key());
    let target = format!("/achievements/{badge}/endorsements");
    // Any of our URL forms names the achievement: here its OB 2.0 URL.
    let subject = format!("{}/v2/achievements/{badge}", server.base_url());

    let signed = sign(&foreign(&did, &subject, "Rigorous"), &key);
    let attached = endorse(&server, &admin(), &target, &signed);
    assert_eq!(attached, signed, "attached exactly as signed");
    let achievement = server.fetch(&format!("/achievements/{badge}"));
    assert_eq!(
        endorsement_ids(&achievement.body),
        [signed["id"].as_str().expect("id").to_owned()]
    );

    // Tampered after signing: 422 with the report, nothing stored.
    let mut tampered = sign(&foreign(&did, &subject, "Fine"), &key);
    tampered["credentialSubject"]["endorsementComment"] = json!("The best there is");
    let refused = server.post_as(&admin(), &target, &tampered);
    refused.assert_status(422);
    assert_eq!(
        refused.body["report"]["isValid"],
        json!(false),
        "{}",
        refused.text
    );
    assert_eq!(
        refused.body["report"]["errorCode"],
        json!("INVALID_SIGNATURE"),
        "{}",
        refused.text
    );
    assert_eq!(listed(&server, &target).len(), 1);

    // Signed, but about another achievement: the field is named.
    let elsewhere = sign(
        &foreign(
            &did,
            &format!("{}/achievements/{other}", server.base_url()),
            "Misplaced",
        ),
        &key,
    );
    let misplaced = server.post_as(&admin(), &target, &elsewhere);
    misplaced.assert_status(400);
    assert!(
        misplaced.body["details"]["credentialSubject.id"].is_array(),
        "{}",
        misplaced.text
    );
    assert_eq!(listed(&server, &target).len(), 1);

    // A VC-JWT: attached, served as a token, listed in endorsementJwt.
    let token = jwt(
        &foreign(&did, &format!("urn:uuid:{badge}"), "As a token"),
        &key,
    );
    let response = server.post_as(&admin(), &target, &json!({"endorsementJwt": token}));
    response.assert_status(201);
    assert_eq!(response.media_type(), Some("application/vc+jwt"));
    assert_eq!(response.text, token);
    let location = response.header("location").expect("Location").to_owned();
    let fetched = server.fetch(&path_of(&server, &location));
    fetched.assert_status(200);
    assert_eq!(fetched.text, token);
    let achievement = server.fetch(&format!("/achievements/{badge}"));
    assert_eq!(
        achievement.body["endorsementJwt"],
        json!([token]),
        "{:#}",
        achievement.body
    );

    // Withdrawn by who manages the endorsed achievement: out of the lists.
    let attached_id = location;
    server
        .post_as(
            &admin(),
            &format!("{}/revoke", path_of(&server, &attached_id)),
            &json!({}),
        )
        .assert_status(200);
    server
        .fetch(&path_of(&server, &attached_id))
        .assert_status(410);
    let achievement = server.fetch(&format!("/achievements/{badge}"));
    assert!(
        achievement.body.get("endorsementJwt").is_none(),
        "{:#}",
        achievement.body
    );
}

fn only_who_manages_the_endorser_may_endorse(storage: &Storage) {
    let server = start(storage);
    let (_, badge) = server.issuer_with_badge(&admin(), "Admin's college", "Chemistry");
    let admins_issuer = uuid_of(
        &server
            .post_as(
                &admin(),
                "/issuers",
                &openbadges_e2e::issuer_body("Admin's guild"),
            )
            .body,
    );
    server.create_user(&admin(), "carol", "carol-password-123", "issuer");
    let carol = server.login("carol", "carol-password-123");
    let carols = server.post_as(
        &carol,
        "/issuers",
        &openbadges_e2e::issuer_body("Carol's guild"),
    );
    carols.assert_status(201);
    let carols = uuid_of(&carols.body);
    let target = format!("/achievements/{badge}/endorsements");

    // Carol endorses with the issuer she manages, on someone else's badge.
    let hers = endorse(
        &server,
        &carol,
        &target,
        &json!({"issuer": carols, "endorsementComment": "Good"}),
    );
    // Not with another's issuer.
    let refused = server.post_as(&carol, &target, &json!({"issuer": admins_issuer}));
    refused.assert_status(403);
    assert_eq!(listed(&server, &target).len(), 1);
    // Nobody anonymous.
    server
        .post_as(&Caller::Anonymous, &target, &json!({"issuer": carols}))
        .assert_status(401);
    // The admin's endorsement is not hers to revoke; hers is.
    let admins = endorse(
        &server,
        &admin(),
        &target,
        &json!({"issuer": admins_issuer}),
    );
    server
        .post_as(
            &carol,
            &format!(
                "{}/revoke",
                path_of(&server, admins["id"].as_str().expect("id"))
            ),
            &json!({}),
        )
        .assert_status(403);
    server
        .post_as(
            &carol,
            &format!(
                "{}/revoke",
                path_of(&server, hers["id"].as_str().expect("id"))
            ),
            &json!({}),
        )
        .assert_status(200);
    assert_eq!(
        listed(&server, &target),
        [admins["id"].as_str().expect("id").to_owned()]
    );
}

/// An endorsed achievement or profile, fetched and sent back whole with
/// `PUT`, is accepted and keeps its endorsements; a body that changes its
/// `endorsement` list, or a new document that brings one, is refused by
/// name (endorsements are made through their routes), and nothing changes.
fn endorsed_documents_can_be_sent_back_but_not_edit_their_endorsements(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = server.issuer_with_badge(&admin(), "Sent-back college", "Statistics");
    let endorser = uuid_of(
        &server
            .post_as(
                &admin(),
                "/issuers",
                &openbadges_e2e::issuer_body("Guild of statisticians"),
            )
            .body,
    );
    for (kind, id) in [("achievements", &badge), ("issuers", &issuer)] {
        let target = format!("/{kind}/{id}/endorsements");
        let credential = endorse(
            &server,
            &admin(),
            &target,
            &json!({"issuer": endorser, "endorsementComment": "Sound work"}),
        );
        let url = format!("/v3/{kind}/{id}");
        let fetched = server.fetch(&url).body;
        assert_eq!(
            endorsement_ids(&fetched),
            [credential["id"].as_str().expect("an id")]
        );

        // Sent back whole, with a new description: accepted, still endorsed.
        let mut edited = fetched.clone();
        edited["description"] = json!("Now with a longer description");
        server.put_as(&admin(), &url, &edited).assert_status(200);
        let after = server.fetch(&url).body;
        assert_eq!(after["description"], "Now with a longer description");
        assert_eq!(endorsement_ids(&after), endorsement_ids(&fetched));

        // A changed list is refused by name, and nothing changes.
        let mut forged = after.clone();
        forged["endorsement"][0]["credentialSubject"]["endorsementComment"] = json!("Forged");
        forged["description"] = json!("Should not be stored");
        let refused = server.put_as(&admin(), &url, &forged);
        refused.assert_status(400);
        assert!(
            refused.body["details"].get("endorsement").is_some(),
            "{}",
            refused.text
        );
        assert_eq!(server.fetch(&url).body, after);
        // Nor can a merge patch remove it: revoking is done on its route.
        let removed = server.send_as(
            &admin(),
            "PATCH",
            &url,
            Some(&json!({"endorsement": null, "description": "Should not be stored"})),
        );
        removed.assert_status(400);
        assert!(
            removed.body["details"].get("endorsement").is_some(),
            "{}",
            removed.text
        );
        assert_eq!(server.fetch(&url).body, after);
    }
    // A new achievement cannot bring endorsements along.
    let fetched = server.fetch(&format!("/v3/achievements/{badge}")).body;
    let mut body = openbadges_e2e::achievement_body(&issuer, "Copied");
    body["endorsement"] = fetched["endorsement"].clone();
    let refused = server.post_as(&admin(), "/achievements", &body);
    refused.assert_status(400);
    assert!(
        refused.body["details"].get("endorsement").is_some(),
        "{}",
        refused.text
    );
}
