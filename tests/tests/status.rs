//! Status lists end to end on both backends: every OB 3.0 credential names
//! a bit of its issuer's W3C Bitstring Status List; revoking, suspending
//! and reinstating flip that bit in the published, signed list at once;
//! `/verify` reports the same; bits are never shared, even between two
//! instances issuing on one database at the same time.
//!
//! The lists are decoded here with `flate2` and `base64`, not with the
//! server's code.

use std::collections::HashSet;
use std::io::Read;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openbadges_e2e::{
    award_body, on_both_backends, uuid_of, Caller, Launch, Server, Storage, JWT_SECRET,
};
use serde_json::{json, Value};

#[allow(dead_code)]
#[path = "api/schemas.rs"]
mod schemas;

use schemas::{assert_valid, Schema};

on_both_backends!(
    every_credential_names_a_bit_of_a_signed_list,
    revocation_suspension_and_reinstatement_flip_the_bits,
    the_previous_servers_status_route_works,
    lists_are_counted_for_their_readers_only,
    two_instances_never_share_a_bit_and_agree_on_it,
);

const ADMIN_KEY: &str = "e2e-status-admin-key-0123456789ab";
const KEK: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
/// Bits per list: the specification's minimum, 16 KiB.
const LIST_BITS: usize = 131_072;

fn admin() -> Caller {
    Caller::Key(ADMIN_KEY.to_owned())
}

/// A launch on `storage` with the administrator key; `BASE_URL` is set by
/// the caller.
fn launch(storage: &Storage) -> Launch {
    storage
        .launch()
        .env(
            "AUTH_API_KEY_STATUS",
            format!("{ADMIN_KEY}:admin:status tests"),
        )
        .env("JWT_SECRET", JWT_SECRET)
        .env("KEY_ENCRYPTION_KEY", KEK)
        .env("RATE_LIMIT_PER_MINUTE", "0")
}

fn start(storage: &Storage) -> Server {
    launch(storage).base_url_at_own_address().start()
}

#[track_caller]
fn issuer_with_badge(server: &Server, name: &str) -> (String, String) {
    server.issuer_with_badge(&admin(), name, name)
}

#[track_caller]
fn issue(server: &Server, badge: &str, email: &str) -> Value {
    let response = server.post_as(&admin(), "/credentials", &award_body(badge, email));
    response.assert_status(201);
    response.body
}

/// The `credentialStatus` of an issued credential: (list URL, index).
#[track_caller]
fn slot_of(credential: &Value) -> (String, usize) {
    let status = &credential["credentialStatus"];
    assert_eq!(status["type"], "BitstringStatusListEntry", "{credential:#}");
    assert_eq!(status["statusPurpose"], "revocation", "{status}");
    let list = status["statusListCredential"]
        .as_str()
        .expect("statusListCredential")
        .to_owned();
    let index: usize = status["statusListIndex"]
        .as_str()
        .expect("statusListIndex is a string, as the specification has it")
        .parse()
        .expect("statusListIndex is a decimal integer");
    assert_eq!(status["id"], format!("{list}#{index}"), "{status}");
    (list, index)
}

/// GETs a published list (a full URL of this server) and decodes its bits.
#[track_caller]
fn bits(server: &Server, list_url: &str) -> Vec<u8> {
    let target = list_url
        .strip_prefix(&server.base_url())
        .unwrap_or_else(|| panic!("{list_url} is not on {}", server.base_url()));
    let response = server.fetch(target);
    response.assert_status(200);
    assert_eq!(response.media_type(), Some("application/vc+ld+json"));
    assert_eq!(response.header("cache-control"), Some("public, max-age=60"));
    decode(&response.body)
}

fn decode(list: &Value) -> Vec<u8> {
    let encoded = list["credentialSubject"]["encodedList"]
        .as_str()
        .unwrap_or_else(|| panic!("no encodedList in {list:#}"));
    let compressed = URL_SAFE_NO_PAD
        .decode(
            encoded
                .strip_prefix('u')
                .expect("multibase base64url: u..."),
        )
        .expect("base64url");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_end(&mut bytes)
        .expect("GZIP");
    assert_eq!(bytes.len() * 8, LIST_BITS, "a 16 KiB list");
    bytes
}

fn bit(bytes: &[u8], index: usize) -> bool {
    bytes[index / 8] & (0x80 >> (index % 8)) != 0
}

/// The indices set in a list.
fn set_bits(bytes: &[u8]) -> Vec<usize> {
    (0..LIST_BITS).filter(|&i| bit(bytes, i)).collect()
}

fn suspension_url(list_url: &str) -> String {
    format!("{list_url}/suspension")
}

#[track_caller]
fn verify(server: &Server, id: &str) -> Value {
    let response = server.fetch(&format!("/credentials/{id}/verify"));
    response.assert_status(200);
    response.body
}

#[track_caller]
fn status_check(report: &Value) -> &Value {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["check"] == "status"))
        .unwrap_or_else(|| panic!("no status check in {report:#}"))
}

#[track_caller]
fn post_status(server: &Server, id: &str, action: &str, body: &Value) -> (u16, Value) {
    let response = server.post_as(&admin(), &format!("/credentials/{id}/{action}"), body);
    (response.status, response.body)
}

fn every_credential_names_a_bit_of_a_signed_list(storage: &Storage) {
    let server = start(storage);
    let (_, badge) = issuer_with_badge(&server, "Listed issuer");
    let signed = issue(&server, &badge, "one@example.org");
    let unsigned = server.post_as(
        &admin(),
        "/credentials?sign=false",
        &award_body(&badge, "two@example.org"),
    );
    unsigned.assert_status(201);
    let batch = server.post_as(
        &admin(),
        "/credentials/batch",
        &json!({"credentials": (0..5)
            .map(|i| award_body(&badge, &format!("batch{i}@example.org")))
            .collect::<Vec<_>>()}),
    );
    batch.assert_status(201);
    let mut credentials = vec![signed.clone(), unsigned.body.clone()];
    credentials.extend(
        batch
            .body
            .as_array()
            .expect("the batch's credentials")
            .iter()
            .cloned(),
    );

    let slots: Vec<(String, usize)> = credentials.iter().map(slot_of).collect();
    let list = slots[0].0.clone();
    assert!(
        slots.iter().all(|(url, _)| *url == list),
        "one list: {slots:?}"
    );
    let indices: HashSet<usize> = slots.iter().map(|(_, i)| *i).collect();
    assert_eq!(indices.len(), credentials.len(), "distinct bits: {slots:?}");
    assert!(list.starts_with(&format!("{}/status-lists/", server.base_url())));

    // The entry is inside what the proof covers, and the credential is
    // still a valid OB 3.0 credential.
    assert_valid(Schema::AchievementCredential, &signed);
    let report = verify(&server, &uuid_of(&signed));
    assert_eq!(report["isValid"], true, "{report:#}");
    let message = status_check(&report)["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains(&format!("bit {} of {list} is 0", slots[0].1)),
        "{message}"
    );

    let response = server.fetch(list.strip_prefix(&server.base_url()).expect("ours"));
    response.assert_status(200);
    let document = &response.body;
    assert_eq!(
        document["type"],
        json!(["VerifiableCredential", "BitstringStatusListCredential"])
    );
    assert_eq!(document["id"], list);
    assert_eq!(
        document["issuer"], signed["issuer"]["id"],
        "signed by the credential's issuer"
    );
    assert_eq!(document["credentialSubject"]["type"], "BitstringStatusList");
    assert_eq!(document["credentialSubject"]["statusPurpose"], "revocation");
    assert_eq!(document["proof"]["type"], "DataIntegrityProof");
    assert_eq!(document["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    assert!(
        set_bits(&decode(document)).is_empty(),
        "nothing revoked yet"
    );
    let suspension = server.fetch(&suspension_url(
        list.strip_prefix(&server.base_url()).expect("ours"),
    ));
    suspension.assert_status(200);
    assert_eq!(
        suspension.body["credentialSubject"]["statusPurpose"],
        "suspension"
    );
    assert_eq!(suspension.body["id"], suspension_url(&list));

    // Unchanged bits: the same document, so caches revalidate with 304.
    let etag = response.expect_header("etag").to_owned();
    let again = server.fetch_with(
        list.strip_prefix(&server.base_url()).expect("ours"),
        &[("If-None-Match", &etag)],
    );
    again.assert_status(304);

    server
        .fetch(&format!("/status-lists/{}", uuid::Uuid::new_v4()))
        .assert_status(404);
    server.fetch("/status-lists/not-a-uuid").assert_status(404);
}

fn revocation_suspension_and_reinstatement_flip_the_bits(storage: &Storage) {
    let server = start(storage);
    let (_, badge) = issuer_with_badge(&server, "Flipping issuer");
    let revoked = issue(&server, &badge, "revoked@example.org");
    let suspended = issue(&server, &badge, "suspended@example.org");
    let bystander = issue(&server, &badge, "bystander@example.org");
    let (list, r) = slot_of(&revoked);
    let (_, s) = slot_of(&suspended);
    let (_, b) = slot_of(&bystander);
    let target = list
        .strip_prefix(&server.base_url())
        .expect("ours")
        .to_owned();
    let etag = server.fetch(&target).expect_header("etag").to_owned();

    let (code, body) = post_status(
        &server,
        &uuid_of(&revoked),
        "revoke",
        &json!({"reason": "fraud"}),
    );
    assert_eq!(code, 200, "{body}");
    let (code, body) = post_status(
        &server,
        &uuid_of(&suspended),
        "suspend",
        &json!({"reason": "under review"}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "suspended");

    // Published at once: the list changed, so the old ETag no longer matches.
    let changed = server.fetch_with(&target, &[("If-None-Match", &etag)]);
    changed.assert_status(200);
    assert_eq!(set_bits(&decode(&changed.body)), vec![r]);
    assert_eq!(set_bits(&bits(&server, &suspension_url(&list))), vec![s]);
    assert!(!bit(&bits(&server, &list), b));

    let report = verify(&server, &uuid_of(&suspended));
    assert_eq!(report["isValid"], false);
    assert_eq!(report["errorCode"], "SUSPENDED", "{report:#}");
    let message = status_check(&report)["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("under review"), "{message}");
    assert!(
        message.contains(&format!("bit {s} of {} is 1", suspension_url(&list))),
        "{message}"
    );
    let report = verify(&server, &uuid_of(&revoked));
    assert_eq!(report["errorCode"], "REVOKED", "{report:#}");
    assert!(status_check(&report)["message"]
        .as_str()
        .is_some_and(|m| m.contains(&format!("bit {r} of {list} is 1"))));

    let (code, body) = post_status(&server, &uuid_of(&suspended), "reinstate", &json!({}));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "active");
    assert!(set_bits(&bits(&server, &suspension_url(&list))).is_empty());
    assert_eq!(verify(&server, &uuid_of(&suspended))["isValid"], true);

    // Revocation is final; reinstating what is not suspended is refused.
    let (code, _) = post_status(&server, &uuid_of(&revoked), "suspend", &json!({}));
    assert_eq!(code, 409);
    let (code, _) = post_status(&server, &uuid_of(&revoked), "reinstate", &json!({}));
    assert_eq!(code, 409);
    let (code, _) = post_status(&server, &uuid_of(&bystander), "reinstate", &json!({}));
    assert_eq!(code, 409);
    assert_eq!(set_bits(&bits(&server, &list)), vec![r], "no partial write");

    // Only a manager of the issuer may change a status.
    let anonymous = server.post(
        &format!("/credentials/{}/suspend", uuid_of(&bystander)),
        &json!({}),
    );
    anonymous.assert_status(401);
}

fn the_previous_servers_status_route_works(storage: &Storage) {
    let server = start(storage);
    let (_, badge) = issuer_with_badge(&server, "Legacy issuer");
    let credential = issue(&server, &badge, "legacy@example.org");
    let id = uuid_of(&credential);
    let (list, index) = slot_of(&credential);

    let (code, body) = post_status(
        &server,
        &id,
        "status",
        &json!({"status": "1", "purpose": "suspension", "reason": "paused"}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "suspended");
    assert!(bit(&bits(&server, &suspension_url(&list)), index));

    let (code, body) = post_status(
        &server,
        &id,
        "status",
        &json!({"status": "0", "purpose": "suspension"}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "active");
    assert!(!bit(&bits(&server, &suspension_url(&list)), index));

    for (bad, field) in [
        (json!({"status": "0", "purpose": "revocation"}), "status"),
        (json!({"status": "yes"}), "status"),
        (json!({"status": "1", "purpose": "refresh"}), "purpose"),
        (json!({"purpose": "revocation"}), "status"),
    ] {
        let (code, body) = post_status(&server, &id, "status", &bad);
        assert_eq!(code, 400, "{bad}: {body}");
        assert!(
            body.to_string().contains(&format!("\"{field}\"")),
            "{bad}: {body}"
        );
    }

    let (code, body) = post_status(
        &server,
        &id,
        "status",
        &json!({"status": 1, "purpose": "revocation"}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["revoked"], true);
    assert!(bit(&bits(&server, &list), index));
    assert!(!bit(&bits(&server, &suspension_url(&list)), index));
}

fn lists_are_counted_for_their_readers_only(storage: &Storage) {
    let server = start(storage);
    let (issuer, badge) = issuer_with_badge(&server, "Counted issuer");
    let credentials: Vec<Value> = (0..3)
        .map(|i| issue(&server, &badge, &format!("c{i}@example.org")))
        .collect();
    post_status(&server, &uuid_of(&credentials[0]), "revoke", &json!({}));
    post_status(&server, &uuid_of(&credentials[1]), "suspend", &json!({}));

    let listed = server.get_as(&admin(), &format!("/status-lists?issuer={issuer}"));
    listed.assert_status(200);
    let lists = listed.body.as_array().expect("an array");
    assert_eq!(lists.len(), 1, "{lists:?}");
    let list = &lists[0];
    assert_eq!(list["issuer"], issuer);
    assert_eq!(list["capacity"], LIST_BITS);
    assert_eq!(list["allocated"], 3);
    assert_eq!(list["revoked"], 1);
    assert_eq!(list["suspended"], 1);
    assert_eq!(list["revocationList"], slot_of(&credentials[2]).0);
    let id = list["id"].as_str().expect("id");
    let stats = server.get_as(&admin(), &format!("/status-lists/{id}/stats"));
    stats.assert_status(200);
    assert_eq!(stats.body, *list);

    server
        .fetch(&format!("/status-lists/{id}/stats"))
        .assert_status(401);
    server
        .fetch(&format!("/status-lists?issuer={issuer}"))
        .assert_status(401);
    let missing = server.get_as(&admin(), "/status-lists");
    missing.assert_status(400);
    assert!(
        missing.body.to_string().contains("\"issuer\""),
        "{}",
        missing.body
    );
    server
        .get_as(
            &admin(),
            &format!("/status-lists?issuer={}", uuid::Uuid::new_v4()),
        )
        .assert_status(404);
}

/// Two servers on one database issue, revoke and read at the same time:
/// no write is lost, every bit is handed out once, and a revocation through
/// either is published by both at once (the bits are read from the
/// database, not from a cache).
fn two_instances_never_share_a_bit_and_agree_on_it(storage: &Storage) {
    let first = start(storage);
    // Instances behind one load balancer share one BASE_URL.
    let second = launch(storage).env("BASE_URL", first.base_url()).start();
    let (_, badge) = issuer_with_badge(&first, "Shared issuer");
    let issued: Vec<Value> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|worker| {
                let server = if worker % 2 == 0 { &first } else { &second };
                let badge = badge.clone();
                scope.spawn(move || {
                    (0..10)
                        .map(|i| issue(server, &badge, &format!("w{worker}n{i}@example.org")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    let slots: HashSet<(String, usize)> = issued
        .iter()
        .map(|c| {
            let (list, index) = slot_of(c);
            // The URL names the instance's BASE_URL; the list id is shared.
            (list.rsplit('/').next().expect("list id").to_owned(), index)
        })
        .collect();
    assert_eq!(slots.len(), issued.len(), "a bit was handed out twice");

    // Nothing lost: both instances list every award.
    for server in [&first, &second] {
        let listed = server.get_as(&admin(), "/credentials?limit=1");
        listed.assert_status(200);
        assert_eq!(
            listed.expect_header("x-total-count"),
            issued.len().to_string(),
            "a write was lost"
        );
    }

    // Revoke a third of them through both instances at once while a reader
    // polls the list through both; afterwards both publish exactly those.
    let revoked: Vec<&Value> = issued.iter().step_by(3).collect();
    std::thread::scope(|scope| {
        for (n, server) in [&first, &second].into_iter().enumerate() {
            let mine: Vec<&Value> = revoked.iter().skip(n).step_by(2).copied().collect();
            scope.spawn(move || {
                for credential in mine {
                    let (code, body) =
                        post_status(server, &uuid_of(credential), "revoke", &json!({}));
                    assert_eq!(code, 200, "{body}");
                }
            });
        }
        scope.spawn(|| {
            for _ in 0..10 {
                for server in [&first, &second] {
                    server.fetch(&lists_path(&issued[0])).assert_status(200);
                }
            }
        });
    });
    // Each instance keeps the lists it rendered until it hears of a
    // change, which takes up to 100 ms for a change made through the other
    // (docs/operations.md, Document cache): the bound is what is checked.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let expected: HashSet<(String, usize)> = revoked
        .iter()
        .map(|c| {
            let (list, index) = slot_of(c);
            (list.rsplit('/').next().expect("list id").to_owned(), index)
        })
        .collect();
    for server in [&first, &second] {
        let mut published = HashSet::new();
        let lists: HashSet<String> = slots.iter().map(|(list, _)| list.clone()).collect();
        for list in lists {
            let response = server.fetch(&format!("/status-lists/{list}"));
            response.assert_status(200);
            for index in set_bits(&decode(&response.body)) {
                published.insert((list.clone(), index));
            }
        }
        assert_eq!(
            published, expected,
            "both instances publish every revocation within 100 ms"
        );
    }
    let report = verify(&second, &uuid_of(revoked[0]));
    assert_eq!(report["errorCode"], "REVOKED", "{report:#}");
}

/// The path of the status list a credential names.
fn lists_path(credential: &Value) -> String {
    let (list, _) = slot_of(credential);
    format!(
        "/status-lists/{}",
        list.rsplit('/').next().expect("list id")
    )
}
