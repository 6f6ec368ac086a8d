//! Recipients: e-mails hashed with a per-award salt unless the caller asks
//! otherwise, the OB 2.0 recipient check, and the OB 3.0 identifier.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::*;

on_both_backends!(
    ob2_email_recipients_are_hashed_with_a_per_award_salt,
    unhashed_recipients_stay_in_the_clear,
    ob3_subjects_by_identifier_or_id,
);

/// `sha256$` + hex(sha256(identity + salt)), as OB 2.0 defines it.
fn sha256_identity(identity: &str, salt: &str) -> String {
    format!(
        "sha256${}",
        hex::encode(Sha256::digest(format!("{identity}{salt}").as_bytes()))
    )
}

/// The OB 2.0 recipient check a verifier makes: does this assertion's
/// recipient designate `email`?
fn recipient_matches(recipient: &Value, email: &str) -> bool {
    let identity = recipient["identity"].as_str().expect("recipient.identity");
    if recipient["hashed"] == json!(true) {
        let salt = recipient["salt"].as_str().unwrap_or("");
        identity.eq_ignore_ascii_case(&sha256_identity(email, salt))
    } else {
        identity == email
    }
}

/// OB 2.0 e-mail recipients without `hashed`: `hashed: true`, a
/// `sha256$<64 hex>` identity, a salt that differs between two awards to
/// the same address; the hash recomputes, and only the right e-mail
/// matches. OB 3.0 shows the same hash in its IdentityObject.
fn ob2_email_recipients_are_hashed_with_a_per_award_salt(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let email = "ada@example.org";
    let first = api.award("/v2", &badge, email);
    let second = api.award("/v2", &badge, email);

    let mut salts = Vec::new();
    let mut identities = Vec::new();
    for created in [&first, &second] {
        // As created and as stored.
        for doc in [created.clone(), api.document(&id_of(created))] {
            let recipient = &doc["recipient"];
            assert_eq!(recipient["type"], json!("email"), "{doc}");
            assert_eq!(recipient["hashed"], json!(true), "{doc}");
            let identity = recipient["identity"].as_str().expect("identity");
            let hex = identity
                .strip_prefix("sha256$")
                .unwrap_or_else(|| panic!("identity must start sha256$: {identity}"));
            assert!(
                hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()),
                "{identity}"
            );
            let salt = recipient["salt"].as_str().expect("a salt");
            assert!(!salt.is_empty());
            assert_eq!(identity, sha256_identity(email, salt), "recomputed hash");
            assert!(recipient_matches(recipient, email));
            assert!(!recipient_matches(recipient, "eve@example.org"));
            assert!(!recipient_matches(recipient, "ada@example.com"));
            assert!(
                !doc.to_string().contains(email),
                "the e-mail never appears in the clear: {doc}"
            );
            salts.push(salt.to_owned());
            identities.push(identity.to_owned());
        }
    }
    assert_eq!(salts[0], salts[1], "stored as created");
    assert_ne!(salts[0], salts[2], "a fresh salt per award");
    assert_ne!(identities[0], identities[2]);

    // The same award in OB 3.0.
    let v3 = api.document(&format!("/v3/credentials/{}", uuid_of(&first)));
    assert!(!v3.to_string().contains(email), "{v3}");
    assert_eq!(
        v3["credentialSubject"]["identifier"],
        json!([{"type": "IdentityObject", "identityType": "emailAddress", "hashed": true,
                "identityHash": identities[0], "salt": salts[0]}])
    );
    assert!(v3["credentialSubject"].get("id").is_none());

    // `hashed: true` with the caller's salt.
    let peppered = api.create(
        "/v2/credentials",
        &json!({"badge": badge, "recipient": {"type": "email", "identity": email, "hashed": true, "salt": "pepper"}}),
        JSON_LD,
    );
    assert_eq!(
        peppered["recipient"],
        json!({"type": "email", "hashed": true, "salt": "pepper",
               "identity": sha256_identity(email, "pepper")})
    );
    assert!(recipient_matches(&peppered["recipient"], email));

    // An identity hashed by the caller is kept as given.
    let prehashed = sha256_identity("grace@example.org", "s4lt");
    let given = api.create(
        "/v2/credentials",
        &json!({"badge": badge, "recipient": {"type": "email", "identity": prehashed, "hashed": true, "salt": "s4lt"}}),
        JSON_LD,
    );
    assert_eq!(given["recipient"]["identity"], json!(prehashed));
    assert!(recipient_matches(&given["recipient"], "grace@example.org"));
    assert!(!recipient_matches(&given["recipient"], email));
}

/// `hashed: false` keeps the e-mail in the clear, without a salt, in both
/// versions.
fn unhashed_recipients_stay_in_the_clear(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let created = api.create(
        "/credentials",
        &json!({"badge": badge, "recipient": {"type": "email", "identity": "clear@example.org", "hashed": false}}),
        VC_JSON_LD,
    );
    let uuid = uuid_of(&created);
    let v2 = api.document(&format!("/v2/credentials/{uuid}"));
    assert_eq!(
        v2["recipient"],
        json!({"type": "email", "identity": "clear@example.org", "hashed": false})
    );
    assert!(recipient_matches(&v2["recipient"], "clear@example.org"));
    assert!(!recipient_matches(&v2["recipient"], "other@example.org"));
    let v3 = api.document(&format!("/v3/credentials/{uuid}"));
    assert_eq!(v3, created);
    assert_eq!(
        v3["credentialSubject"]["identifier"],
        json!([{"type": "IdentityObject", "identityType": "emailAddress", "hashed": false,
                "identityHash": "clear@example.org"}])
    );
}

/// OB 3.0 style subjects: an e-mail identifier is hashed with a salt
/// unless `hashed: false`; a DID or URL is the subject's `id`.
fn ob3_subjects_by_identifier_or_id(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let email = "lin@example.org";
    let hashed = api.create(
        "/v3/credentials",
        &json!({"credentialSubject": {"type": ["AchievementSubject"], "achievement": {"id": badge},
                 "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "identityHash": email}]}}),
        VC_JSON_LD,
    );
    let identifier = &hashed["credentialSubject"]["identifier"][0];
    assert_eq!(identifier["type"], json!("IdentityObject"));
    assert_eq!(identifier["identityType"], json!("emailAddress"));
    assert_eq!(identifier["hashed"], json!(true));
    let salt = identifier["salt"].as_str().expect("a salt");
    assert_eq!(
        identifier["identityHash"],
        json!(sha256_identity(email, salt))
    );
    assert!(!hashed.to_string().contains(email));
    let v2 = api.document(&format!("/v2/credentials/{}", uuid_of(&hashed)));
    assert!(recipient_matches(&v2["recipient"], email));
    assert!(!recipient_matches(&v2["recipient"], "someone@example.org"));

    let plain = api.create(
        "/v3/credentials",
        &json!({"achievement": badge, "credentialSubject": {
                 "identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
                                 "identityHash": email, "hashed": false}]}}),
        VC_JSON_LD,
    );
    assert_eq!(
        plain["credentialSubject"]["identifier"],
        json!([{"type": "IdentityObject", "identityType": "emailAddress", "hashed": false, "identityHash": email}])
    );

    for subject in [
        "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "https://people.example.org/lin",
    ] {
        let doc = api.create(
            "/v3/credentials",
            &json!({"credentialSubject": {"id": subject, "achievement": badge}}),
            VC_JSON_LD,
        );
        assert_eq!(doc["credentialSubject"]["id"], json!(subject));
        assert!(
            doc["credentialSubject"].get("identifier").is_none(),
            "{doc}"
        );
        assert_eq!(
            doc["credentialSubject"]["type"],
            json!(["AchievementSubject"])
        );
        let v2 = api.document(&format!("/v2/credentials/{}", uuid_of(&doc)));
        assert_eq!(v2["recipient"]["identity"], json!(subject));
        assert_eq!(v2["recipient"]["hashed"], json!(false));
    }
    let url_subject = api.document(&format!(
        "/v2/credentials/{}",
        uuid_of(&api.create(
            "/v3/credentials",
            &json!({"credentialSubject": {"id": "https://people.example.org/kim", "achievement": badge}}),
            VC_JSON_LD,
        ))
    ));
    assert_eq!(url_subject["recipient"]["type"], json!("url"));
}
