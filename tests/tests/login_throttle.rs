//! The login throttle (issue 12, defect 5): failed logins for one account
//! make further attempts wait, from any address and whatever made-up key
//! they present, an unknown name is throttled exactly like a known one, and
//! the owner still gets in from a device they logged in from before.

use std::time::{Duration, Instant};

use openbadges_e2e::{
    on_both_backends, Caller, Response, Server, Storage, ADMIN_PASSWORD, ADMIN_USERNAME,
};
use serde_json::json;

on_both_backends!(
    guesses_with_made_up_keys_end_in_429_and_so_does_the_right_password,
    the_throttle_follows_the_name_across_addresses_known_or_not,
    concurrent_guesses_cannot_all_pass,
    a_known_device_gets_in_while_its_account_is_hammered,
);

/// The default throttle (5 failures, then waits of 5 s, 10 s, ...) behind a trusted
/// proxy, so that a test can speak from many addresses.
fn server(storage: &Storage) -> Server {
    storage
        .launch_with_auth()
        .env("TRUSTED_PROXIES", "127.0.0.1")
        .start()
}

/// `POST /auth/login` from `address`, presenting `device` if given.
fn login_from(
    server: &Server,
    address: &str,
    name: &str,
    password: &str,
    device: Option<&str>,
) -> Response {
    let mut body = json!({"usernameOrEmail": name, "password": password});
    if let Some(device) = device {
        body["deviceToken"] = json!(device);
    }
    server.send(
        "POST",
        "/auth/login",
        &[("X-Forwarded-For", address)],
        Some(&body.to_string()),
    )
}

/// Asserts a throttled login: 429, `Retry-After` in whole seconds, the usual
/// error shape; returns `Retry-After`.
#[track_caller]
fn assert_throttled(response: &Response) -> u64 {
    response.assert_status(429);
    assert_eq!(
        response.body["error"], "Too Many Requests",
        "{}",
        response.text
    );
    assert!(response.body["message"].is_string(), "{}", response.text);
    assert!(response.body.get("token").is_none(), "{}", response.text);
    response
        .expect_header("retry-after")
        .parse()
        .unwrap_or_else(|e| panic!("{}: Retry-After is not seconds: {e}", response.request))
}

/// The steps: 100 wrong passwords, each with a made-up `X-API-Key`,
/// at `/auth/%6Cogin`, under the default rate limit: 429 from the sixth on
/// (a few more get through as the waits run out), and the right password
/// is refused while the wait lasts.
fn guesses_with_made_up_keys_end_in_429_and_so_does_the_right_password(storage: &Storage) {
    let server = storage
        .launch_with_auth()
        .env("RATE_LIMIT_PER_MINUTE", "600")
        .start();
    let guess = |n: usize, password: &str| {
        let key = format!("made-up-key-{n}-0123456789");
        let body = json!({"usernameOrEmail": ADMIN_USERNAME, "password": password});
        server
            .send_raw(
                "POST",
                "/auth/%6Cogin",
                &[("X-API-Key", &key)],
                Some(body.to_string().as_bytes()),
            )
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let answers: Vec<Response> = (0..100)
        .map(|n| guess(n, &format!("wrong-guess-{n}")))
        .collect();
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
    assert_eq!(
        statuses[..6],
        [401, 401, 401, 401, 401, 429],
        "{statuses:?}"
    );
    for answer in answers.iter().filter(|answer| answer.status != 401) {
        assert_throttled(answer);
    }
    // Each wait doubles the one before: 5 s, 10 s, 20 s, ... Only a run of
    // more than two minutes would let ten through.
    let through = statuses.iter().filter(|status| **status == 401).count();
    assert!(
        through < 10,
        "{through} of 100 guesses were checked: {statuses:?}"
    );
    // The right password is refused while a wait lasts; a wait of two
    // seconds or more leaves time enough to send it. (A wait that ran out
    // lets one more wrong guess through, and doubles.)
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 100;
    loop {
        let answer = guess(n, "still-wrong");
        if answer.status == 401 {
            assert!(Instant::now() < deadline, "the wait never reached 2 s");
        } else if assert_throttled(&answer) >= 2 {
            break;
        }
        n += 1;
    }
    assert_throttled(&guess(n + 1, ADMIN_PASSWORD));
}

/// Failures are counted per name, whatever address they come from, and a
/// name no account has is counted and refused the same way: the answers
/// do not tell which names exist.
fn the_throttle_follows_the_name_across_addresses_known_or_not(storage: &Storage) {
    let server = server(storage);
    let mut seen = Vec::new();
    for name in [ADMIN_USERNAME, "nobody-by-this-name"] {
        let answers: Vec<Response> = (0..8)
            .map(|n| {
                login_from(
                    &server,
                    &format!("203.0.113.{n}"),
                    name,
                    "wrong-password",
                    None,
                )
            })
            .collect();
        let statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429], "{name}");
        assert_throttled(&answers[5]);
        seen.push((answers[0].body.clone(), answers[5].body["error"].clone()));
    }
    assert_eq!(seen[0], seen[1], "a known and an unknown name answer alike");
    // Another address, the right password: still refused while it waits.
    assert_throttled(&login_from(
        &server,
        "198.51.100.1",
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        None,
    ));
    // The name is the account however it is spelled.
    assert_throttled(&login_from(
        &server,
        "198.51.100.2",
        &format!(" {} ", ADMIN_USERNAME.to_uppercase()),
        ADMIN_PASSWORD,
        None,
    ));
    // Other accounts are not slowed down.
    login_from(&server, "203.0.113.1", "someone-else", "wrong", None).assert_status(401);
}

/// Guesses sent all at once are counted as they arrive, before any
/// password is checked: they cannot all pass while the first are checked.
fn concurrent_guesses_cannot_all_pass(storage: &Storage) {
    let server = server(storage);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let guesses: Vec<_> = (0..32)
            .map(|n| {
                let server = &server;
                scope.spawn(move || {
                    login_from(
                        server,
                        &format!("203.0.113.{n}"),
                        ADMIN_USERNAME,
                        &format!("concurrent-guess-{n}"),
                        None,
                    )
                    .status
                })
            })
            .collect();
        guesses
            .into_iter()
            .map(|guess| guess.join().expect("a guess"))
            .collect()
    });
    let through = statuses.iter().filter(|status| **status == 401).count();
    let throttled = statuses.iter().filter(|status| **status == 429).count();
    assert_eq!(through + throttled, 32, "{statuses:?}");
    // Five are free; another gets through only after a wait of 5 s.
    assert!(
        (5..10).contains(&through),
        "{through} of 32 concurrent guesses were checked: {statuses:?}"
    );
}

/// The owner logs in from a device that logged in before (it presents the
/// device token that login gave it) while someone hammers the account from
/// elsewhere; no other token lets the guesser in, and a device that guesses
/// wrong is slowed down on its own.
fn a_known_device_gets_in_while_its_account_is_hammered(storage: &Storage) {
    let server = server(storage);
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let password = "ada-lovelace-password";
    server.create_user(&admin, "ada", password, "viewer");
    server.create_user(&admin, "mallory", "mallory-password", "viewer");
    let device = |response: &Response| {
        response.assert_status(200);
        response.body["deviceToken"]
            .as_str()
            .unwrap_or_else(|| panic!("no deviceToken in {}", response.text))
            .to_owned()
    };
    let laptop = device(&login_from(&server, "192.0.2.10", "ada", password, None));
    let phone = device(&login_from(&server, "192.0.2.11", "ada", password, None));
    let mallorys = device(&login_from(
        &server,
        "203.0.113.99",
        "mallory",
        "mallory-password",
        None,
    ));

    for n in 0..20 {
        login_from(
            &server,
            &format!("203.0.113.{n}"),
            "ada",
            &format!("guess-{n}"),
            None,
        );
    }
    // Without a device token, or with one that is not ada's, even the right
    // password waits.
    let elsewhere = "198.51.100.7";
    for token in [None, Some(mallorys.as_str()), Some("not-a-device-token")] {
        assert_throttled(&login_from(&server, elsewhere, "ada", password, token));
    }
    // A field of the wrong type is a 400 naming it, as for any body.
    let response = server.send(
        "POST",
        "/auth/login",
        &[],
        Some(
            &json!({"usernameOrEmail": "ada", "password": password, "deviceToken": 7}).to_string(),
        ),
    );
    response.assert_status(400);
    assert!(
        response.body["details"]["deviceToken"].is_array(),
        "{}",
        response.text
    );

    // The laptop gets in, with a token that works and a fresh device token.
    let answer = login_from(&server, "192.0.2.10", "ada", password, Some(&laptop));
    let renewed = device(&answer);
    let token = Caller::Token(answer.body["token"].as_str().expect("a token").to_owned());
    server.get_as(&token, "/auth/profile").assert_status(200);

    // A device that guesses wrong waits on its own; the other does not.
    for n in 0..5 {
        login_from(
            &server,
            "192.0.2.10",
            "ada",
            &format!("typo-{n}"),
            Some(&renewed),
        )
        .assert_status(401);
    }
    assert_throttled(&login_from(
        &server,
        "192.0.2.10",
        "ada",
        password,
        Some(&renewed),
    ));
    device(&login_from(
        &server,
        "192.0.2.11",
        "ada",
        password,
        Some(&phone),
    ));
}
