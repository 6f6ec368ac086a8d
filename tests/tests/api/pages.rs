//! Pages for people (issue 15, item 3): a browser opening a credential,
//! achievement or issuer URL gets an HTML page; API clients and verifiers
//! keep getting JSON from the same URL. What the pages look like in a real
//! browser, and their accessibility, is tests/tests/pages.rs.

use serde_json::{json, Value};

use crate::support::*;

/// What a browser sends when it follows a link.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

on_both_backends!(
    a_browser_gets_the_credential_page_and_clients_get_json,
    a_revoked_credential_page_says_so_plainly,
    an_expired_credential_page_says_so,
    achievement_and_issuer_pages,
);

fn page(api: &Api, url: &str) -> openbadges_e2e::Response {
    api.fetch_with(url, &[("Accept", BROWSER)])
}

#[track_caller]
fn assert_page(response: &openbadges_e2e::Response, status: u16) {
    response.assert_status(status);
    assert_eq!(
        response.media_type(),
        Some("text/html"),
        "{}",
        response.request
    );
    let policy = response.expect_header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(
        !policy.contains("script-src"),
        "pages run no scripts: {policy}"
    );
    assert!(
        response.text.starts_with("<!DOCTYPE html>"),
        "{}",
        response.text
    );
    assert!(response.text.contains("<html lang=\"en\">"));
    assert_eq!(response.header("vary"), Some("Accept"));
}

fn a_browser_gets_the_credential_page_and_clients_get_json(api: &Api) {
    let issuer = uuid_of(&api.issuer("", "Faculty of Pages"));
    let mut body = achievement_body(&issuer, "Accessible Web Design");
    body["alignment"] = json!([{"targetName": "WCAG 2.1", "targetUrl": "https://www.w3.org/TR/WCAG21/",
        "targetFramework": "W3C"}]);
    let badge = api.create("/achievements", &body, JSON_LD);
    let credential = api.award("", &id_of(&badge), "ada@example.org");
    let url = id_of(&credential);
    let identity_hash = credential["credentialSubject"]["identifier"][0]["identityHash"]
        .as_str()
        .expect("a hashed identity")
        .to_owned();

    let response = page(api, &url);
    assert_page(&response, 200);
    let html = &response.text;
    for shown in [
        "Accessible Web Design",
        "Faculty of Pages",
        "This badge is valid",
        "Digital signature:</strong> passed",
        "WCAG 2.1",
        "Pass the end-to-end tests",
        "1 May 2024",
        "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME",
        "property=\"og:title\"",
        &format!("{url}/image?format=png"),
        &format!("{url}?format=jwt"),
    ] {
        assert!(html.contains(shown), "the page lacks {shown:?}:\n{html}");
    }
    // The recipient's identity is hashed: the page reveals neither it nor
    // its hash.
    assert!(!html.contains("ada@example.org"), "{html}");
    assert!(!html.contains(&identity_hash), "{html}");

    // The same URL still answers JSON to clients, whatever they accept.
    for accept in ["application/json", "application/vc+ld+json", "*/*", ""] {
        let json = api.fetch_with(&url, &[("Accept", accept)]);
        json.assert_status(200);
        assert_eq!(json.media_type(), Some(VC_JSON_LD), "Accept: {accept}");
        assert_eq!(json.body["id"], url);
    }
    // ?format chooses explicitly.
    assert_page(&api.fetch(&format!("{url}?format=html")), 200);
    let json = api.fetch_with(&format!("{url}?format=json"), &[("Accept", BROWSER)]);
    assert_eq!(json.media_type(), Some(VC_JSON_LD));

    // The style sheet the page names is served here.
    let style = api.fetch("/pages/style.css");
    style.assert_status(200);
    assert_eq!(style.media_type(), Some("text/css"));
}

fn a_revoked_credential_page_says_so_plainly(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let credential = api.award("", &badge, "grace@example.org");
    let url = id_of(&credential);
    api.post(
        &format!("{url}/revoke"),
        &json!({"reason": "Awarded in error"}),
    )
    .assert_status(200);
    let response = page(api, &url);
    assert_page(&response, 410);
    let html = &response.text;
    assert!(html.contains("This badge has been revoked"), "{html}");
    assert!(html.contains("Awarded in error"), "{html}");
    assert!(!html.contains("This badge is valid"), "{html}");
    assert!(
        !html.contains("linkedin.com"),
        "no sharing of a revoked badge: {html}"
    );
}

fn an_expired_credential_page_says_so(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    let body = json!({"badge": badge, "recipient": {"identity": "lin@example.org"},
        "issuedOn": "2020-01-01T00:00:00Z", "expires": "2021-06-30T00:00:00Z"});
    let credential = api.create("/credentials", &body, VC_JSON_LD);
    let response = page(api, &id_of(&credential));
    assert_page(&response, 200);
    let html = &response.text;
    assert!(html.contains("This badge has expired"), "{html}");
    assert!(html.contains("30 June 2021"), "{html}");
    assert!(!html.contains("This badge is valid"), "{html}");
}

fn achievement_and_issuer_pages(api: &Api) {
    let issuer = api.issuer("", "Department of Examples");
    let badge = api.achievement("", &uuid_of(&issuer), "Example Making");
    for (prefix, doc, name) in [
        ("/v3", &issuer, "Department of Examples"),
        ("/v2", &issuer, "Department of Examples"),
        ("", &badge, "Example Making"),
        ("/v2", &badge, "Example Making"),
    ] {
        let kind = if doc == &issuer {
            "issuers"
        } else {
            "achievements"
        };
        let url = api.at(&format!("{prefix}/{kind}/{}", uuid_of(doc)));
        let response = page(api, &url);
        assert_page(&response, 200);
        assert!(response.text.contains(name), "{}", response.text);
        assert!(response.text.contains("as Open Badges JSON"));
        let json = api.fetch(&url);
        assert_eq!(json.media_type(), Some(JSON_LD));
        assert_eq!(json.body["name"], Value::from(name));
    }
}
