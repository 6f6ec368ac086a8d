//! Sending an award to a learner's badge host, the parts that need no
//! host: the form on the award's page, and what is refused before any
//! host is called (an address that is not https, a name of this machine or
//! of a private network, an unknown or replayed callback), on both
//! backends. The whole flow between two instances is two_instances.rs.

use openbadges_e2e::{award_body, on_both_backends, uuid_of, Caller, Response, Server, Storage};
use serde_json::Value;

on_both_backends!(
    the_page_offers_the_form_only_for_a_sendable_award,
    hosts_that_are_not_public_https_are_refused_before_any_call,
    unknown_callbacks_send_nothing,
);

const ADMIN_KEY: &str = "e2e-sending-admin-key-0123456789abcdef";

fn admin() -> Caller {
    Caller::Key(ADMIN_KEY.to_owned())
}

fn start(storage: &Storage) -> Server {
    storage
        .launch_with_auth()
        .env(
            "AUTH_API_KEY_SENDING",
            format!("{ADMIN_KEY}:admin:sending tests"),
        )
        .start()
}

/// A signed award and an unsigned one: their UUIDs.
fn awards(server: &Server) -> (String, String) {
    let (_, badge) = server.issuer_with_badge(&admin(), "Sending Office", "Sent Badge");
    let signed = server.post_as(
        &admin(),
        "/credentials",
        &award_body(&badge, "ada@example.org"),
    );
    signed.assert_status(201);
    let unsigned = server.post_as(
        &admin(),
        "/credentials?sign=false",
        &award_body(&badge, "bob@example.org"),
    );
    unsigned.assert_status(201);
    (uuid_of(&signed.body), uuid_of(&unsigned.body))
}

fn page(server: &Server, id: &str) -> Response {
    let page = server.fetch_with(&format!("/v3/credentials/{id}"), &[("Accept", "text/html")]);
    page.assert_status(200);
    page
}

fn send(server: &Server, id: &str, host: &str) -> Response {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("host", host)
        .finish();
    server.send(
        "POST",
        &format!("/credentials/{id}/send"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&body),
    )
}

fn the_page_offers_the_form_only_for_a_sendable_award(storage: &Storage) {
    let server = start(storage);
    let (signed, unsigned) = awards(&server);
    let sendable = page(&server, &signed);
    let action = format!("{}/credentials/{signed}/send", server.base_url());
    assert!(
        sendable.text.contains(&format!("action=\"{action}\"")),
        "{}",
        sendable.text
    );
    assert!(sendable.text.contains("name=\"host\""));
    let policy = sendable.expect_header("content-security-policy");
    assert!(policy.contains("form-action 'self' https:"), "{policy}");
    assert!(!page(&server, &unsigned)
        .text
        .contains("Send to your badge host"));
    // Asked anyway: refused, saying why.
    let refused = send(&server, &unsigned, "https://host.example");
    refused.assert_status(409);
    assert!(
        refused.text.contains("without a digital signature"),
        "{}",
        refused.text
    );
    send(
        &server,
        "0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
        "https://host.example",
    )
    .assert_status(404);
    // Nothing was sent anywhere.
    let listed = server.get_as(&admin(), &format!("/credentials/{signed}/deliveries"));
    listed.assert_status(200);
    assert_eq!(listed.body, Value::Array(Vec::new()));
    server
        .get_as(
            &Caller::Anonymous,
            &format!("/credentials/{signed}/deliveries"),
        )
        .assert_status(401);
}

fn hosts_that_are_not_public_https_are_refused_before_any_call(storage: &Storage) {
    let server = start(storage);
    let (signed, _) = awards(&server);
    // The server itself, over plain HTTP: not https (and loopback HTTP is
    // off by default).
    let own = send(&server, &signed, &server.base_url());
    own.assert_status(400);
    assert!(own.text.contains("only HTTPS"), "{}", own.text);
    for (host, shown) in [
        ("https://127.0.0.1:9", "127.0.0.1"),
        ("https://localhost:9", "localhost"),
        ("https://169.254.169.254", "169.254.169.254"),
        ("https://10.0.0.1", "10.0.0.1"),
        ("https://[fd00:ec2::254]", "fd00:ec2::254"),
    ] {
        let refused = send(&server, &signed, host);
        refused.assert_status(400);
        assert!(
            refused.text.contains("not a public address"),
            "{host}: {}",
            refused.text
        );
        assert!(refused.text.contains(shown), "{host}: {}", refused.text);
    }
    let typo = send(&server, &signed, "badges.example.org");
    typo.assert_status(400);
    assert!(typo.text.contains("host:"), "{}", typo.text);
    let missing = server.send(
        "POST",
        &format!("/credentials/{signed}/send"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("other=1"),
    );
    missing.assert_status(400);
    assert!(
        missing.text.contains("host: is required"),
        "{}",
        missing.text
    );
    let listed = server.get_as(&admin(), &format!("/credentials/{signed}/deliveries"));
    assert_eq!(listed.body, Value::Array(Vec::new()), "nothing was started");
}

fn unknown_callbacks_send_nothing(storage: &Storage) {
    let server = start(storage);
    for query in [
        "",
        "?code=abc",
        "?code=abc&state=forged",
        "?error=access_denied&state=x",
    ] {
        let answer = server.fetch(&format!("/oauth/callback{query}"));
        answer.assert_status(400);
        assert!(
            answer.text.contains("unknown or was used already"),
            "{query}: {}",
            answer.text
        );
    }
}
