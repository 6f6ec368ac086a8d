//! Hardening (issue 4): the rate limit per key or client address (and the
//! trusted proxy's `X-Forwarded-For`), CORS from `CORS_ORIGINS`, security
//! headers, the body size and JSON depth limits and the request time limit.
//! None of this depends on the backend: these run on SQLite.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use openbadges_e2e::{
    achievement_body, issuer_body, uuid_of, Caller, Framing, Launch, Response, Server, Storage,
};
use serde_json::json;

/// A server with `RATE_LIMIT_PER_MINUTE=5`, two configured keys and
/// `extra` settings.
fn limited(extra: &[(&str, &str)]) -> Server {
    let mut launch = Launch::new()
        .env("RATE_LIMIT_PER_MINUTE", "5")
        .env("AUTH_API_KEY_A", format!("{KEY_A}:ops:first"))
        .env("AUTH_API_KEY_B", format!("{KEY_B}:ops:second"));
    for (name, value) in extra {
        launch = launch.env(*name, *value);
    }
    launch.start()
}

const KEY_A: &str = "rate-limit-key-a-0123456789";
const KEY_B: &str = "rate-limit-key-b-0123456789";

/// Asserts a 429 with `Retry-After` in whole seconds within the minute, the
/// documented body and the security headers.
#[track_caller]
fn assert_limited(response: &Response) {
    response.assert_status(429);
    let retry: u64 = response
        .expect_header("retry-after")
        .parse()
        .unwrap_or_else(|e| panic!("{}: Retry-After is not seconds: {e}", response.request));
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        response.body["error"], "Too Many Requests",
        "{}",
        response.text
    );
    assert!(response.body["message"].is_string(), "{}", response.text);
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn the_sixth_request_of_a_key_or_address_within_a_minute_is_refused() {
    let server = limited(&[]);
    let a = [("X-API-Key", KEY_A)];
    for _ in 0..5 {
        server.fetch_with("/auth/profile", &a).assert_status(200);
    }
    assert_limited(&server.fetch_with("/auth/profile", &a));
    // Refused before any work: a write is refused alike.
    assert_limited(&server.send("POST", "/issuers", &a, Some(&issuer_body("x").to_string())));
    // Another key has its own allowance.
    server
        .fetch_with("/auth/profile", &[("X-API-Key", KEY_B)])
        .assert_status(200);
    // So has the address without a key, until it spends it.
    for _ in 0..5 {
        server.fetch("/issuers").assert_status(200);
    }
    assert_limited(&server.fetch("/issuers"));
    // Health is never limited.
    for _ in 0..20 {
        server.fetch("/health").assert_status(200);
    }
    server
        .fetch_with("/auth/profile", &[("X-API-Key", KEY_B)])
        .assert_status(200);
}

/// An address that spent its allowance does not get a fresh one by making
/// up a key for each request: unknown keys would otherwise make password
/// and key guessing unlimited.
#[test]
fn made_up_keys_do_not_lift_the_limit_of_an_address() {
    let server = limited(&[]);
    for _ in 0..5 {
        server
            .post(
                "/auth/login",
                &json!({"usernameOrEmail": "admin", "password": "guess-guess"}),
            )
            .assert_status(401);
    }
    assert_limited(&server.post(
        "/auth/login",
        &json!({"usernameOrEmail": "admin", "password": "guess-guess"}),
    ));
    let mut answers = Vec::new();
    for n in 0..5 {
        let key = format!("made-up-key-{n}-0123456789");
        let response = server.send(
            "POST",
            "/auth/login",
            &[("X-API-Key", &key)],
            Some(
                &json!({"usernameOrEmail": "admin", "password": format!("guess-{n}")}).to_string(),
            ),
        );
        answers.push(response.status);
    }
    assert!(
        answers.iter().all(|status| *status == 429),
        "logins from an address past its limit, each with a made-up X-API-Key, answered {answers:?} \
         instead of 429: every unknown key gets an allowance of its own"
    );
}

/// `POST /auth/%6Cogin` reaches the login handler (the router decodes the
/// escape), so it is limited as `/auth/login` is: the limit follows the
/// route the router chose, never the raw path, and the made-up key each
/// attempt presents buys nothing.
#[test]
fn an_escaped_login_path_is_limited_like_the_plain_one() {
    let server = limited(&[]);
    let login = |path: &str, n: usize| {
        let key = format!("made-up-key-{n}-0123456789");
        // Another name each time: only the address's allowance is at stake.
        let body = json!({"usernameOrEmail": format!("guess-{n}"), "password": "guess-guess"});
        server
            .send_raw(
                "POST",
                path,
                &[("X-API-Key", &key)],
                Some(body.to_string().as_bytes()),
            )
            .unwrap_or_else(|e| panic!("{e}"))
    };
    for n in 0..5 {
        let response = login("/auth/%6Cogin", n);
        response.assert_status(401);
        assert_eq!(
            response.body["message"], "invalid username or password",
            "{}",
            response.text
        );
    }
    assert_limited(&login("/auth/%6Cogin", 5));
    assert_limited(&login("/auth/%6c%6f%67%69%6e", 6));
    assert_limited(&login("/auth/login", 7));
}

/// Only credentials that authenticate get an allowance of their own: junk
/// in `X-API-Key` or `Authorization`, on a public route or a private one,
/// counts against the client address like no credentials at all.
#[test]
fn junk_credentials_count_against_the_address_on_every_route() {
    let server = limited(&[]);
    let junk = [
        ("X-API-Key", "junk-key-one-0123456789"),
        ("Authorization", "Bearer junk-key-two-0123456789"),
        ("X-API-Key", "junk-key-three-0123456789"),
        ("Authorization", "Bearer junk.token.four"),
        ("Authorization", "Bearer junk-key-five-0123456789"),
    ];
    for (n, header) in junk.iter().enumerate() {
        if n % 2 == 0 {
            server.fetch_with("/issuers", &[*header]).assert_status(200);
        } else {
            // Checked once, by the limit; the route answers as ever.
            let response = server.fetch_with("/auth/profile", &[*header]);
            response.assert_status(401);
            let expected = if header.1.contains('.') {
                "invalid or expired token"
            } else {
                "unknown API key"
            };
            assert_eq!(response.body["message"], expected, "{}", response.text);
            assert_eq!(response.header("www-authenticate"), Some("Bearer"));
        }
    }
    assert_limited(&server.fetch("/issuers"));
    assert_limited(&server.fetch_with("/issuers", &[("X-API-Key", "junk-key-six-0123456789")]));
    assert_limited(&server.fetch_with("/auth/profile", &[("X-API-Key", "junk-key-seven-0123")]));
    // A key that authenticates has an allowance of its own.
    server
        .fetch_with("/auth/profile", &[("X-API-Key", KEY_A)])
        .assert_status(200);
}

/// The login tokens of one user share one allowance: logging in again does
/// not buy a fresh one.
#[test]
fn the_login_tokens_of_a_user_share_one_allowance() {
    let password = "token-allowance-password";
    let server = limited(&[
        ("AUTH_ADMIN_USERNAME", "admin"),
        ("AUTH_ADMIN_PASSWORD", password),
        ("JWT_SECRET", "token-allowance-secret-0123456789abcdef"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ]);
    // Logins from addresses of their own (behind the trusted proxy), so
    // that the allowance of 127.0.0.1 stays whole.
    let login = |n: usize| {
        let body = json!({"usernameOrEmail": "admin", "password": password}).to_string();
        let address = format!("198.51.100.{n}");
        let response = server.send(
            "POST",
            "/auth/login",
            &[("X-Forwarded-For", &address)],
            Some(&body),
        );
        response.assert_status(200);
        Caller::Token(response.body["token"].as_str().expect("a token").to_owned())
    };
    let profile = |caller: &Caller| server.get_as(caller, "/auth/profile");
    let first = login(1);
    for _ in 0..5 {
        profile(&first).assert_status(200);
    }
    assert_limited(&profile(&first));
    // Every login issues another token (each carries a random `jti`).
    let second = login(2);
    assert_ne!(second, first, "a second login issues another token");
    assert_limited(&profile(&second));
    server.fetch("/issuers").assert_status(200);
}

#[test]
fn a_trusted_proxy_names_the_client_and_others_do_not() {
    let server = limited(&[("TRUSTED_PROXIES", "127.0.0.1")]);
    let from = |client: &str| server.fetch_with("/issuers", &[("X-Forwarded-For", client)]);
    for _ in 0..5 {
        from("203.0.113.1").assert_status(200);
    }
    assert_limited(&from("203.0.113.1"));
    // Another client behind the proxy is counted apart.
    from("203.0.113.2").assert_status(200);
    // A client cannot pass for another by prepending addresses: the proxy
    // appends the one it saw, and that one counts.
    assert_limited(&from("198.51.100.7, 203.0.113.1"));
    // A trusted proxy in the chain is skipped.
    assert_limited(&from("203.0.113.1, 127.0.0.1"));
    // The proxy's own requests (no X-Forwarded-For) are its own.
    server.fetch("/issuers").assert_status(200);

    // Without a trusted proxy the header is the client's word: ignored.
    let server = limited(&[]);
    for n in 0..5 {
        server
            .fetch_with(
                "/issuers",
                &[("X-Forwarded-For", &format!("203.0.113.{n}"))],
            )
            .assert_status(200);
    }
    assert_limited(&server.fetch_with("/issuers", &[("X-Forwarded-For", "203.0.113.99")]));
    assert_limited(&server.fetch("/issuers"));
}

fn preflight(server: &Server, origin: &str) -> Response {
    server.send(
        "OPTIONS",
        "/issuers",
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type,x-api-key"),
        ],
        None,
    )
}

#[test]
fn cors_allows_the_configured_origins_only() {
    let allowed = "https://app.example.org";
    let other = "https://evil.example.com";
    let server = Launch::new()
        .env(
            "CORS_ORIGINS",
            format!("{allowed},https://admin.example.org"),
        )
        .start();
    let response = preflight(&server, allowed);
    assert!(
        (200..300).contains(&response.status),
        "preflight: {} {:?}",
        response.status,
        response.headers
    );
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some(allowed)
    );
    let methods = response
        .expect_header("access-control-allow-methods")
        .to_ascii_uppercase();
    assert!(methods.contains("POST"), "{methods}");
    assert!(methods.contains("PATCH"), "partial updates: {methods}");
    let headers = response
        .expect_header("access-control-allow-headers")
        .to_ascii_lowercase();
    assert!(
        headers.contains("x-api-key") && headers.contains("content-type"),
        "{headers}"
    );

    let response = preflight(&server, other);
    assert!(response.status < 500, "{}", response.status);
    assert_eq!(
        response.header("access-control-allow-origin"),
        None,
        "{:?}",
        response.headers
    );

    let response = server.fetch_with("/issuers", &[("Origin", allowed)]);
    response.assert_status(200);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some(allowed)
    );
    let exposed = response
        .expect_header("access-control-expose-headers")
        .to_ascii_lowercase();
    assert!(
        exposed.contains("x-total-count") && exposed.contains("link"),
        "{exposed}"
    );
    let response = server.fetch_with("/issuers", &[("Origin", other)]);
    assert!(response.status < 500, "{}", response.status);
    assert_eq!(response.header("access-control-allow-origin"), None);

    // Without CORS_ORIGINS: no CORS headers at all, and requests that carry
    // an Origin (servers send one too) are served.
    let server = Launch::new().start();
    let response = preflight(&server, allowed);
    assert!(response.status < 500, "{}", response.status);
    assert_eq!(response.header("access-control-allow-origin"), None);
    let response = server.fetch_with("/issuers", &[("Origin", allowed)]);
    response.assert_status(200);
    assert!(
        !response
            .headers
            .iter()
            .any(|(name, _)| name.starts_with("access-control-")),
        "{:?}",
        response.headers
    );
}

#[track_caller]
fn assert_security_headers(response: &Response) {
    let expect = |name: &str, value: &str| {
        assert_eq!(
            response.header(name),
            Some(value),
            "{} ({}): {name}; headers {:?}",
            response.request,
            response.status,
            response.headers
        );
    };
    expect("x-content-type-options", "nosniff");
    expect("x-frame-options", "DENY");
    expect("referrer-policy", "no-referrer");
    let csp = response.expect_header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{}: CSP {csp}",
        response.request
    );
}

#[test]
fn every_answer_carries_the_security_headers() {
    let server = Launch::new()
        .env("JWT_SECRET", "security-headers-secret-0123456789ab")
        .start();
    for response in [
        server.fetch("/health"),
        server.fetch("/issuers"),
        server.fetch("/issuers/not-a-uuid"),
        server.fetch("/no/such/route"),
        server.fetch("/credentials"),
        server.post("/issuers", &issuer_body("x")),
        server.send("POST", "/auth/login", &[], Some("not json")),
        server.fetch_with("/auth/profile", &[("X-API-Key", "unknown-key-0123456789")]),
    ] {
        assert_security_headers(&response);
        assert_eq!(response.header("strict-transport-security"), None);
    }
    // Behind https, browsers are told to stay on https.
    let server = Launch::new()
        .env("BASE_URL", "https://badges.example.org")
        .start();
    let response = server.fetch("/issuers");
    assert_security_headers(&response);
    assert!(response
        .expect_header("strict-transport-security")
        .starts_with("max-age="));
}

#[test]
fn bodies_over_max_body_bytes_are_refused_naming_the_body() {
    let server = Launch::new()
        .env("AUTH_ENABLED", "false")
        .env("MAX_BODY_BYTES", "2048")
        .start();
    let issuer = uuid_of(&server.post("/issuers", &issuer_body("Small enough")).body);
    let mut big = issuer_body("Too big");
    big["description"] = json!("d".repeat(4096));
    let body = big.to_string();
    let badge = achievement_body(&issuer, "Badge");
    let badge = uuid_of(&server.post("/achievements", &badge).body);
    let award = openbadges_e2e::award_body(&badge, "limit@recipients.example.org");
    let credential = uuid_of(&server.post("/credentials", &award).body);
    let mut failures = Vec::new();
    for (method, path) in [
        ("POST", "/issuers".to_owned()),
        ("PUT", format!("/issuers/{issuer}")),
        ("POST", "/credentials/batch".to_owned()),
        ("POST", format!("/credentials/{credential}/revoke")),
        ("POST", "/auth/login".to_owned()),
    ] {
        for framing in [Framing::Sized, Framing::Chunked] {
            let response = server
                .send_raw_framed(method, &path, &[], Some(body.as_bytes()), framing)
                .unwrap_or_else(|e| panic!("{e}"));
            let documented = match response.status {
                400 => response.body["details"]["body"].is_array(),
                413 => {
                    response.body["error"] == "Payload Too Large"
                        && response.body["message"].is_string()
                }
                _ => false,
            };
            if !documented {
                failures.push(format!(
                    "{method} {path} ({framing:?}): {} {:?} ({})",
                    response.status,
                    response.text,
                    response.header("content-type").unwrap_or("no content type")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "a body over MAX_BODY_BYTES must answer 413 or 400 naming the body, in the documented JSON shape:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        server.fetch(&format!("/credentials/{credential}")).status,
        200,
        "not revoked"
    );
    let issuers = server.fetch("/issuers");
    assert_eq!(issuers.expect_header("x-total-count"), "1");
}

#[test]
fn bodies_nested_deeper_than_max_json_depth_are_refused_naming_the_body() {
    let server = Launch::new()
        .env("AUTH_ENABLED", "false")
        .env("MAX_JSON_DEPTH", "4")
        .start();
    let issuer = uuid_of(&server.post("/issuers", &issuer_body("Shallow")).body);
    // Depth 3: the achievement with its alignment objects in an array.
    let mut badge = achievement_body(&issuer, "Within the limit");
    badge["alignment"] =
        json!([{"targetName": "Skill", "targetUrl": "https://skills.example.org"}]);
    server.post("/achievements", &badge).assert_status(201);
    // Depth 5: an unknown field nested deeply is refused all the same.
    let mut deep = achievement_body(&issuer, "Too deep");
    deep["extra"] = json!({"a": {"b": {"c": {"d": 1}}}});
    let response = server.post("/achievements", &deep);
    response.assert_status(400);
    assert!(
        response.body["details"]["body"].is_array(),
        "{}",
        response.text
    );
    let mut deep = issuer_body("Too deep");
    deep["image"] = json!({"id": "https://issuer.example.org/logo.png", "x": [[[[1]]]]});
    let response = server.post("/issuers", &deep);
    response.assert_status(400);
    assert!(
        response.body["details"]["body"].is_array(),
        "{}",
        response.text
    );
    assert_eq!(
        server.fetch("/achievements").expect_header("x-total-count"),
        "1"
    );
    assert_eq!(server.fetch("/issuers").expect_header("x-total-count"), "1");
}

/// A request stuck on a locked database answers 503 after
/// `REQUEST_TIMEOUT_SECONDS`; the server keeps serving once the lock goes.
#[test]
fn a_request_over_the_time_limit_answers_503() {
    let storage = Storage::create(openbadges_e2e::Backend::Sqlite);
    let server = storage
        .launch()
        .env("AUTH_ENABLED", "false")
        .env("REQUEST_TIMEOUT_SECONDS", "1")
        .env("SQLITE_BUSY_TIMEOUT", "20000")
        .start();
    let file = storage.sqlite_file().expect("a SQLite file");
    let mut lock = SqliteConnection::establish(&file.to_string_lossy()).expect("open the database");
    // The server writes now and then by itself (its workers): wait for
    // such a write to end rather than fail to take the lock.
    lock.batch_execute("PRAGMA busy_timeout = 10000; BEGIN EXCLUSIVE")
        .expect("lock the database");
    let started = Instant::now();
    let response = server.post("/issuers", &issuer_body("Stuck"));
    let took = started.elapsed();
    lock.batch_execute("COMMIT").expect("release the lock");
    response.assert_status(503);
    assert_eq!(
        response.body["error"], "Service Unavailable",
        "{}",
        response.text
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "answered after {took:?}"
    );
    server.fetch("/health").assert_status(200);
    server
        .post("/issuers", &issuer_body("Unstuck"))
        .assert_status(201);
}
