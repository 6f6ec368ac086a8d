//! Two instances of this server on two loopback ports, on both backends:
//! one issues an award (the Service Consumer), the other is the learner's
//! badge host (the Service Provider). The learner sends the award from its
//! page; the browser's steps (the send form, the host's login and consent
//! form, the callback) are driven with plain HTTP. The award ends up in
//! the host's getCredentials, as the host verified it: its issuer is the
//! first instance's did:web, whose DID document the host fetched.
//!
//! Both instances run with `OUTBOUND_ALLOW_LOOPBACK_HTTP=true`: they talk
//! plain HTTP on 127.0.0.1, which the outbound guard otherwise refuses.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openbadges_e2e::{
    award_body, on_both_backends, uuid_of, Backend, Caller, OnBothBackends, Response, Server,
    Storage,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

on_both_backends!(an_award_sent_from_one_instance_is_verified_and_held_by_the_other);

const ADMIN_KEY: &str = "e2e-two-instances-admin-key-0123456789";
const PASSWORD: &str = "learner-password-0123";
const READ: &str = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly";

/// The storage of each instance.
struct Pair {
    issuer: Storage,
    host: Storage,
}

impl OnBothBackends for Pair {
    fn on(backend: Backend) -> Self {
        Self {
            issuer: Storage::create(backend),
            host: Storage::create(backend),
        }
    }
}

fn admin() -> Caller {
    Caller::Key(ADMIN_KEY.to_owned())
}

fn start(storage: &Storage, kek: &str) -> Server {
    storage
        .launch_with_auth()
        .env(
            "AUTH_API_KEY_TWO",
            format!("{ADMIN_KEY}:admin:two instances"),
        )
        .env("KEY_ENCRYPTION_KEY", kek)
        .env("OUTBOUND_ALLOW_LOOPBACK_HTTP", "true")
        .start()
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn post_form(server: &Server, target: &str, pairs: &[(&str, &str)]) -> Response {
    server.send(
        "POST",
        target,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&form(pairs)),
    )
}

/// The `Location` of a 303, checked to be under `prefix`.
#[track_caller]
fn redirected(response: &Response, prefix: &str) -> String {
    assert_eq!(
        response.status, 303,
        "{}: {}",
        response.request, response.text
    );
    let location = response.expect_header("location").to_owned();
    assert!(
        location.starts_with(prefix),
        "{location} is not under {prefix}"
    );
    location
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The hidden `request` field of the host's consent page.
#[track_caller]
fn pending_request(page: &Response) -> String {
    let marker = "name=\"request\" value=\"";
    let start = page
        .text
        .find(marker)
        .unwrap_or_else(|| panic!("no request field in {}", page.text))
        + marker.len();
    let end = page.text[start..].find('"').expect("the field ends") + start;
    page.text[start..end].to_owned()
}

/// The learner at the host: the consent page at `location`, then the form
/// signed in as `username` with `decision`. Answers the redirect back.
fn at_the_host(host: &Server, location: &str, username: &str, decision: &str) -> Response {
    let page = host.fetch(location);
    page.assert_status(200);
    let request = pending_request(&page);
    post_form(
        host,
        "/oauth/authorize",
        &[
            ("request", &request),
            ("username", username),
            ("password", PASSWORD),
            ("decision", decision),
        ],
    )
}

/// Sends award `id` from its page to `host` and goes through the host's
/// consent with `decision`: the callback's page.
fn send(issuer: &Server, host: &Server, id: &str, decision: &str) -> (Response, String) {
    let started = post_form(
        issuer,
        &format!("/credentials/{id}/send"),
        &[("host", &host.base_url())],
    );
    let authorize = redirected(&started, &format!("{}/oauth/authorize?", host.base_url()));
    for (name, expected) in [
        ("response_type", Some("code".to_owned())),
        ("code_challenge_method", Some("S256".to_owned())),
        (
            "redirect_uri",
            Some(format!("{}/oauth/callback", issuer.base_url())),
        ),
    ] {
        assert_eq!(
            query_param(&authorize, name),
            expected,
            "{name} in {authorize}"
        );
    }
    let client_id = query_param(&authorize, "client_id").expect("client_id");
    let back = at_the_host(host, &authorize, "ada", decision);
    let callback = redirected(&back, &format!("{}/oauth/callback?", issuer.base_url()));
    let outcome = issuer.fetch(&callback);
    // The state is used once.
    let replay = issuer.fetch(&callback);
    replay.assert_status(400);
    (outcome, client_id)
}

/// A client of the host's own (a wallet reading the learner's backpack):
/// registration, PKCE authorization and the code's redemption; the access
/// token.
fn reader_token(host: &Server) -> String {
    let redirect = "http://127.0.0.1:9/callback";
    let registered = host.post(
        "/oauth/register",
        &json!({
            "client_name": "Reader",
            "client_uri": "http://127.0.0.1:9/",
            "logo_uri": "http://127.0.0.1:9/logo.png",
            "tos_uri": "http://127.0.0.1:9/terms",
            "policy_uri": "http://127.0.0.1:9/privacy",
            "software_id": "2b0c8a7e-3f1d-4c5b-9e6a-7d8f9a0b1c2d",
            "software_version": "1.0.0",
            "redirect_uris": [redirect],
            "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": READ,
        }),
    );
    registered.assert_status(201);
    let client_id = registered.body["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    let secret = registered.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = format!(
        "/oauth/authorize?{}",
        form(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", redirect),
            ("scope", READ),
            ("state", "reader"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    );
    let back = at_the_host(host, &authorize, "ada", "allow");
    let code = query_param(&redirected(&back, redirect), "code").expect("a code");
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"))
    );
    let token = host.send(
        "POST",
        "/oauth/token",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &basic),
        ],
        Some(&form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ])),
    );
    token.assert_status(200);
    token.body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn deliveries(issuer: &Server, id: &str) -> Vec<Value> {
    let listed = issuer.get_as(&admin(), &format!("/credentials/{id}/deliveries"));
    listed.assert_status(200);
    listed.body.as_array().expect("an array").clone()
}

fn an_award_sent_from_one_instance_is_verified_and_held_by_the_other(pair: &Pair) {
    let issuer = start(
        &pair.issuer,
        "2a1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff",
    );
    let host = start(
        &pair.host,
        "3b1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff",
    );
    host.create_user(&admin(), "ada", PASSWORD, "learner");
    let (issuer_id, badge) = issuer.issuer_with_badge(&admin(), "Issuing Office", "Sent Badge");
    let awarded = issuer.post_as(
        &admin(),
        "/credentials",
        &award_body(&badge, "ada@example.org"),
    );
    awarded.assert_status(201);
    let id = uuid_of(&awarded.body);
    let signed = issuer.fetch(&format!("/v3/credentials/{id}"));
    signed.assert_status(200);
    assert_eq!(signed.body["issuer"]["id"], issuer.did_of(&issuer_id));
    assert!(signed.body.get("proof").is_some(), "{}", signed.text);

    // The learner declines first: nothing is sent, and the page says so.
    let (declined, first_client) = send(&issuer, &host, &id, "deny");
    declined.assert_status(400);
    assert!(declined.text.contains("You declined"), "{}", declined.text);

    // Then allows: the badge is sent at once.
    let (outcome, second_client) = send(&issuer, &host, &id, "allow");
    outcome.assert_status(200);
    assert!(
        outcome.text.contains("Your badge was sent"),
        "{}\nissuer:\n{}\nhost:\n{}",
        outcome.text,
        issuer.output(),
        host.output()
    );
    assert_eq!(first_client, second_client, "one registration per host");

    let listed = deliveries(&issuer, &id);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["state"], "failed");
    assert_eq!(listed[1]["state"], "delivered");
    assert_eq!(listed[1]["host"], host.base_url());
    assert_eq!(listed[1]["attempts"], 1);
    let page = issuer.fetch_with(&format!("/v3/credentials/{id}"), &[("Accept", "text/html")]);
    assert!(
        page.text
            .contains(&format!("Sent to <a href=\"{0}\">{0}</a>", host.base_url())),
        "{}",
        page.text
    );

    // The host holds it: the learner's wallet reads it through
    // getCredentials, exactly as signed.
    let token = reader_token(&host);
    let held = host.get_as(&Caller::Token(token), "/ims/ob/v3p0/credentials");
    held.assert_status(200);
    let credentials = held.body["credential"].as_array().expect("credential");
    assert_eq!(credentials.len(), 1, "{}", held.text);
    assert_eq!(credentials[0]["id"], signed.body["id"]);
    assert_eq!(credentials[0]["proof"], signed.body["proof"]);

    // And it verifies there: the host resolves the other instance's
    // did:web (a credential of a stranger's did:web would not).
    let verified = host.post("/verify", &signed.body);
    verified.assert_status(200);
    assert_eq!(verified.body["isValid"], true, "{}", verified.text);
    assert_eq!(
        verified.body["hasValidSignature"], true,
        "{}",
        verified.text
    );
    let mut forged = signed.body.clone();
    forged["name"] = json!("Another badge");
    let refused = host.post("/verify", &forged);
    assert_eq!(refused.body["isValid"], false, "{}", refused.text);
}
