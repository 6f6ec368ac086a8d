//! Learners (issue 16), end to end on both backends: the learner role,
//! self-registration, e-mail addresses verified by a link that really goes
//! out (through the aiosmtpd server of `openbadges_e2e::smtp`), awards
//! linked into the backpack before and after verification, and the
//! refusals: a token used twice or expired, another learner's address.

use std::thread::sleep;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use openbadges_e2e::smtp::Mailbox;
use openbadges_e2e::{
    achievement_body, award_body, issuer_body, on_both_backends, uuid_of, Backend, Caller, Launch,
    Server, Storage, ADMIN_PASSWORD, ADMIN_USERNAME,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

on_both_backends!(
    a_learner_reaches_nothing_of_the_admin_api,
    registration_is_closed_unless_opened,
    verified_addresses_link_awards_made_before_and_after,
    a_token_works_once_and_not_after_it_expired,
);

/// How long a verification e-mail may take to arrive.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// A server with authentication on, sending e-mail to `mailbox`.
fn launch(storage: &Storage, mailbox: &Mailbox) -> Launch {
    storage
        .launch_with_auth()
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", mailbox.port.to_string())
        .env("SMTP_TLS", "none")
        .env("SMTP_FROM", "Badge Office <badges@example.org>")
        .env("MAIL_RETRY_BASE_SECONDS", "1")
        .env("MAIL_MAX_ATTEMPTS", "30")
}

/// Runs `sql` on the storage's database, beside the server.
fn execute(storage: &Storage, sql: &str) {
    match storage.backend() {
        Backend::Postgres => storage.database().expect("a database").execute(sql),
        Backend::Sqlite => {
            let file = storage.sqlite_file().expect("a SQLite file");
            let mut conn =
                SqliteConnection::establish(&file.to_string_lossy()).expect("open the database");
            conn.batch_execute(&format!("PRAGMA busy_timeout = 10000; {sql}"))
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}

/// The messages received for `to`, waiting until there are `count`.
#[track_caller]
fn wait_for_mail(server: &Server, mailbox: &Mailbox, to: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    loop {
        let mine: Vec<Value> = mailbox
            .messages()
            .into_iter()
            .filter(|m| m["rcptTos"][0] == to)
            .collect();
        if mine.len() >= count {
            return mine;
        }
        assert!(
            Instant::now() < deadline,
            "{count} e-mail(s) to {to} not received; server output:\n{}",
            server.output()
        );
        sleep(Duration::from_millis(100));
    }
}

/// The verification link in a message, and its token.
#[track_caller]
fn link_in(message: &Value) -> (String, String) {
    let text = message["text"].as_str().expect("a text part");
    let start = text.find("http").expect("a link in the text");
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let token = link
        .split_once("token=")
        .map(|(_, token)| token.to_owned())
        .expect("a token in the link");
    let html = message["html"].as_str().expect("an HTML part");
    assert!(html.contains(&link), "the HTML part links the same: {html}");
    (link, token)
}

/// A path and query of `link` on `server`.
fn target(link: &str) -> String {
    let rest = link.split_once("://").expect("absolute").1;
    rest[rest.find('/').expect("a path")..].to_owned()
}

/// The backpack's credentials: `(source, assertionId)` of each.
fn backpack(server: &Server, learner: &Caller) -> Vec<Value> {
    let response = server.get_as(learner, "/learner/credentials?limit=500");
    response.assert_status(200);
    response.body.as_array().expect("an array").clone()
}

fn holds(entries: &[Value], credential: &str) -> bool {
    entries
        .iter()
        .any(|entry| entry["assertionId"] == credential)
}

/// An award to `email` in the clear.
fn clear_award(badge: &str, email: &str) -> Value {
    let mut body = award_body(badge, email);
    body["recipient"]["hashed"] = json!(false);
    body
}

/// A learner's token can do nothing of the admin API: no issuers,
/// achievements or awards, no list of users or credentials, nobody else's
/// account; an admin's token still does all of it.
fn a_learner_reaches_nothing_of_the_admin_api(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let learner_id = server.create_user(&admin, "lena", "lena-password-1", "learner");
    let other_id = server.create_user(&admin, "otto", "otto-password-1", "issuer");
    let lena = server.login("lena", "lena-password-1");
    let profile = server.get_as(&lena, "/auth/profile");
    profile.assert_status(200);
    assert_eq!(profile.body["role"], "learner", "{}", profile.text);

    // The admin's fixtures, so that every refused write has a target.
    let (issuer, badge) = server.issuer_with_badge(&admin, "Admin's issuer", "A badge");
    let award = server.post_as(&admin, "/credentials", &award_body(&badge, "r@example.org"));
    award.assert_status(201);

    for (method, path, body) in [
        ("POST", "/issuers".to_owned(), issuer_body("Lena's")),
        (
            "POST",
            "/achievements".to_owned(),
            achievement_body(&issuer, "Lena's badge"),
        ),
        (
            "POST",
            "/credentials".to_owned(),
            award_body(&badge, "me@example.org"),
        ),
        (
            "POST",
            "/users".to_owned(),
            json!({"username": "mallory", "password": "mallory-password", "role": "admin"}),
        ),
        ("GET", "/users".to_owned(), json!(null)),
        ("GET", "/credentials".to_owned(), json!(null)),
        ("GET", format!("/users/{other_id}"), json!(null)),
        ("DELETE", format!("/users/{other_id}"), json!(null)),
    ] {
        let response = match method {
            "GET" => server.get_as(&lena, &path),
            "DELETE" => server.delete_as(&lena, &path),
            _ => server.post_as(&lena, &path, &body),
        };
        assert_eq!(response.status, 403, "{method} {path}: {}", response.text);
    }
    // Nothing was made or removed.
    assert_eq!(server.total_as(&admin, "/issuers"), 1);
    assert_eq!(server.total_as(&admin, "/credentials"), 1);
    server
        .get_as(&admin, &format!("/users/{other_id}"))
        .assert_status(200);
    // A learner cannot promote themself either.
    server
        .put_as(
            &lena,
            &format!("/users/{learner_id}"),
            &json!({"role": "admin"}),
        )
        .assert_status(403);
    let me = server.get_as(&admin, &format!("/users/{learner_id}"));
    assert_eq!(me.body["role"], "learner");
    // And the learner routes are a learner's only.
    server
        .get_as(&admin, "/learner/credentials")
        .assert_status(403);
    server
        .get_as(&lena, "/learner/credentials")
        .assert_status(200);
    server
        .get_as(&Caller::Anonymous, "/learner/credentials")
        .assert_status(401);
}

/// Registration: closed by default (404; an admin still creates learners),
/// open with `LEARNER_REGISTRATION=open`, with the password rules of every
/// account; the new learner logs in, and the address they gave receives
/// its verification link.
fn registration_is_closed_unless_opened(storage: &Storage) {
    let body = json!({"username": "lena", "email": "Lena@Example.org",
        "password": "lena-password-1"});
    {
        let server = storage.launch_with_auth().start();
        let closed = server.post_as(&Caller::Anonymous, "/learner/register", &body);
        assert_eq!(closed.status, 404, "{}", closed.text);
        let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
        server.create_user(&admin, "made-by-admin", "made-by-admin-1", "learner");
        server.login("made-by-admin", "made-by-admin-1");
    }
    let mailbox = Mailbox::new();
    let _smtp = mailbox.start();
    let server = launch(storage, &mailbox)
        .env("LEARNER_REGISTRATION", "open")
        .base_url_at_own_address()
        .start();
    let weak = server.post_as(
        &Caller::Anonymous,
        "/learner/register",
        &json!({"username": "lena", "email": "lena@example.org", "password": "short"}),
    );
    weak.assert_status(400);
    assert!(weak.body["details"]["password"].is_array(), "{}", weak.text);
    let missing = server.post_as(&Caller::Anonymous, "/learner/register", &json!({}));
    missing.assert_status(400);
    for field in ["username", "email", "password"] {
        assert!(
            missing.body["details"][field].is_array(),
            "{field}: {}",
            missing.text
        );
    }
    // Whatever role is asked for, a learner is made.
    let mut asking = body.clone();
    asking["role"] = json!("admin");
    let registered = server.post_as(&Caller::Anonymous, "/learner/register", &asking);
    registered.assert_status(201);
    assert_eq!(
        registered.body["user"]["role"], "learner",
        "{}",
        registered.text
    );
    assert_eq!(registered.body["email"]["email"], "lena@example.org");
    assert_eq!(registered.body["email"]["verified"], false);
    assert!(!registered.text.contains("lena-password-1"));
    let taken = server.post_as(&Caller::Anonymous, "/learner/register", &body);
    taken.assert_status(409);

    let lena = server.login("lena", "lena-password-1");
    let messages = wait_for_mail(&server, &mailbox, "lena@example.org", 1);
    assert_eq!(messages[0]["subject"], "Confirm your e-mail address");
    let (link, _) = link_in(&messages[0]);
    assert!(link.starts_with(&server.base_url()), "{link}");
    let page = server.get_as(&Caller::Anonymous, &target(&link));
    page.assert_status(200);
    assert!(
        page.text.contains("lena@example.org is verified"),
        "{}",
        page.text
    );
    let emails = server.get_as(&lena, "/learner/emails");
    emails.assert_status(200);
    assert_eq!(emails.body[0]["verified"], true, "{}", emails.text);
}

/// Awards to a learner's address, in the clear, hashed here, or hashed by
/// the client with a salt, made before the address is verified appear in
/// the backpack when it is, and those made after appear when made; awards
/// to other addresses never do, and another learner cannot claim the
/// address once verified.
fn verified_addresses_link_awards_made_before_and_after(storage: &Storage) {
    let mailbox = Mailbox::new();
    let _smtp = mailbox.start();
    let server = launch(storage, &mailbox).base_url_at_own_address().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    server.create_user(&admin, "lena", "lena-password-1", "learner");
    server.create_user(&admin, "otto", "otto-password-1", "learner");
    let lena = server.login("lena", "lena-password-1");
    let otto = server.login("otto", "otto-password-1");
    let (_, badge) = server.issuer_with_badge(&admin, "Linking issuer", "Linked badge");
    let award = |body: Value| {
        let response = server.post_as(&admin, "/credentials", &body);
        response.assert_status(201);
        uuid_of(&response.body)
    };
    let address = "lena.learner@example.org";
    let before_clear = award(clear_award(&badge, "Lena.Learner@example.org"));
    let before_hashed = award(award_body(&badge, address));
    let digest = Sha256::digest(format!("{address}pepper").as_bytes());
    let mut salted = award_body(&badge, "unused@example.org");
    salted["recipient"] = json!({"type": "email", "hashed": true,
        "identity": format!("sha256${}", hex::encode(digest)), "salt": "pepper"});
    let before_salted = award(salted);
    let not_hers = award(clear_award(&badge, "someone.else@example.org"));

    // Lena claims her address, then Otto claims it too: a claim is not
    // ownership, the link is.
    let added = server.post_as(&lena, "/learner/emails", &json!({"email": address}));
    added.assert_status(201);
    assert_eq!(added.body["verified"], false);
    let (_, hers) = link_in(&wait_for_mail(&server, &mailbox, address, 1)[0]);
    server
        .post_as(&otto, "/learner/emails", &json!({"email": address}))
        .assert_status(201);
    let his = wait_for_mail(&server, &mailbox, address, 2)
        .iter()
        .map(|m| link_in(m).1)
        .find(|token| *token != hers)
        .expect("Otto's token");
    assert!(
        backpack(&server, &lena).is_empty(),
        "nothing before verification"
    );

    let verified = server.post_as(
        &Caller::Anonymous,
        "/learner/emails/verify",
        &json!({"token": hers}),
    );
    verified.assert_status(200);
    assert_eq!(verified.body["linked"], 3, "{}", verified.text);
    // Otto's link: the address is Lena's now.
    server
        .post_as(
            &Caller::Anonymous,
            "/learner/emails/verify",
            &json!({"token": his}),
        )
        .assert_status(409);
    let emails = server.get_as(&lena, "/learner/emails");
    assert_eq!(emails.body[0]["verified"], true);
    let held = backpack(&server, &lena);
    for credential in [&before_clear, &before_hashed, &before_salted] {
        assert!(holds(&held, credential), "{credential} not in {held:?}");
    }
    assert!(!holds(&held, &not_hers));
    let entry = held
        .iter()
        .find(|e| e["assertionId"] == before_clear.as_str())
        .expect("linked");
    assert_eq!(entry["source"], "awarded");
    assert!(entry["credential"]["proof"].is_object(), "{entry}");
    assert!(
        backpack(&server, &otto).is_empty(),
        "Otto holds nothing of hers"
    );

    // Awards made after: linked when made, single or in a batch.
    let after = award(award_body(&badge, address));
    let batch = server.post_as(
        &admin,
        "/credentials/batch",
        &json!({"credentials": [clear_award(&badge, address),
            clear_award(&badge, "nobody@example.org")]}),
    );
    batch.assert_status(201);
    let batch_ids: Vec<String> = batch
        .body
        .as_array()
        .expect("array")
        .iter()
        .map(uuid_of)
        .collect();
    let held = backpack(&server, &lena);
    assert!(holds(&held, &after));
    assert!(holds(&held, &batch_ids[0]));
    assert!(!holds(&held, &batch_ids[1]));
    assert_eq!(held.len(), 5);
    // Paged like every list.
    let page = server.get_as(&lena, "/learner/credentials?limit=2&offset=2");
    page.assert_status(200);
    assert_eq!(page.expect_header("x-total-count"), "5");
    assert_eq!(page.body.as_array().map(Vec::len), Some(2));
    let bad = server.get_as(&lena, "/learner/credentials?since=yesterday");
    bad.assert_status(400);
    assert!(bad.body["details"]["since"].is_array(), "{}", bad.text);

    // An awarded credential cannot be removed by the learner; another's
    // entry is not found.
    let id = held[0]["id"].as_str().expect("an id");
    server
        .delete_as(&lena, &format!("/learner/credentials/{id}"))
        .assert_status(409);
    server
        .delete_as(&otto, &format!("/learner/credentials/{id}"))
        .assert_status(404);
    // Otto cannot claim the verified address any more.
    server
        .post_as(&otto, "/learner/emails", &json!({"email": address}))
        .assert_status(409);
    assert!(backpack(&server, &otto).is_empty());
}

/// A verification token works once; an expired one is refused, and
/// adding the address again sends a new link that works (the old one not).
fn a_token_works_once_and_not_after_it_expired(storage: &Storage) {
    let mailbox = Mailbox::new();
    let _smtp = mailbox.start();
    let server = launch(storage, &mailbox).base_url_at_own_address().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    server.create_user(&admin, "lena", "lena-password-1", "learner");
    let lena = server.login("lena", "lena-password-1");
    let address = "lena.expiring@example.org";
    server
        .post_as(&lena, "/learner/emails", &json!({"email": address}))
        .assert_status(201);
    let (_, first) = link_in(&wait_for_mail(&server, &mailbox, address, 1)[0]);

    // Expired (the clock moved past its 24 hours).
    execute(
        storage,
        "UPDATE learner_emails SET token_expires_at = '2000-01-01T00:00:00.000000Z' \
         WHERE token_hash IS NOT NULL",
    );
    let expired = server.post_as(
        &Caller::Anonymous,
        "/learner/emails/verify",
        &json!({"token": first}),
    );
    expired.assert_status(400);
    assert!(
        expired.body["details"]["token"][0]
            .as_str()
            .is_some_and(|m| m.contains("expired")),
        "{}",
        expired.text
    );

    // Again: a new link; the old token is dead, the new one works once.
    let again = server.post_as(&lena, "/learner/emails", &json!({"email": address}));
    again.assert_status(200);
    let messages = wait_for_mail(&server, &mailbox, address, 2);
    let second = messages
        .iter()
        .map(|m| link_in(m).1)
        .find(|token| *token != first)
        .expect("a new token");
    let old = server.post_as(
        &Caller::Anonymous,
        "/learner/emails/verify",
        &json!({"token": first}),
    );
    old.assert_status(400);
    let verify = |token: &str| {
        server.get_as(
            &Caller::Anonymous,
            &format!("/learner/emails/verify?token={token}"),
        )
    };
    let page = verify(&second);
    page.assert_status(200);
    assert!(
        page.expect_header("content-type").starts_with("text/html"),
        "an HTML page"
    );
    let twice = verify(&second);
    twice.assert_status(400);
    assert!(
        twice.text.contains("unknown or was used already"),
        "{}",
        twice.text
    );
    let missing = server.post_as(&Caller::Anonymous, "/learner/emails/verify", &json!({}));
    missing.assert_status(400);
    assert!(
        missing.body["details"]["token"].is_array(),
        "{}",
        missing.text
    );
}
