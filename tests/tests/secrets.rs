//! Secrets never in logs or responses (issue 4): a server with every kind
//! of secret configured (a PostgreSQL password, `JWT_SECRET`, the bootstrap
//! administrator's password, an `AUTH_API_KEY_*` key), logging everything
//! it can (`LOG_LEVEL=trace`, `DB_QUERY_LOGGING=true`), goes through logins
//! good and bad, key creation and use, password changes and failing
//! requests; then no secret, password hash or key hash may appear in what
//! it printed, nor in any answer but the one that hands it out.

use std::cell::RefCell;

use openbadges_e2e::{
    issuer_body, on_both_backends, Caller, Launch, Response, Server, Storage, ADMIN_USERNAME,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

on_both_backends!(secrets_stay_out_of_logs_and_responses);

/// Exit code of a refused configuration.
const CONFIG_REFUSED: i32 = 2;

/// A secret nobody could guess, labelled for messages.
fn secret(label: &str) -> String {
    format!("{label}-{}", uuid::Uuid::new_v4().simple())
}

/// The stored form of an API key: hex SHA-256.
fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Every answer of the scenario, with the one secret it may carry.
struct Recorder<'s> {
    server: &'s Server,
    answers: RefCell<Vec<(Response, Option<String>)>>,
}

impl<'s> Recorder<'s> {
    fn new(server: &'s Server) -> Self {
        Self {
            server,
            answers: RefCell::new(Vec::new()),
        }
    }

    fn send(&self, caller: &Caller, method: &str, path: &str, body: Option<&Value>) -> Response {
        let response = self.server.send_as(caller, method, path, body);
        self.answers.borrow_mut().push((response.clone(), None));
        response
    }

    /// A login; its answer may carry the token it issues.
    fn login(&self, username: &str, password: &str) -> Response {
        let response = self.server.try_login(username, password);
        let token = response.body["token"].as_str().map(str::to_owned);
        self.answers.borrow_mut().push((response.clone(), token));
        response
    }

    #[track_caller]
    fn token(&self, username: &str, password: &str) -> Caller {
        let response = self.login(username, password);
        response.assert_status(200);
        Caller::Token(response.body["token"].as_str().expect("a token").to_owned())
    }

    /// `POST /api-keys`; its answer may carry the key it creates.
    #[track_caller]
    fn create_key(&self, caller: &Caller, body: &Value) -> (String, String) {
        let response = self.server.post_as(caller, "/api-keys", body);
        response.assert_status(201);
        let key = response.body["key"].as_str().expect("the key").to_owned();
        let id = response.body["id"].as_str().expect("an id").to_owned();
        self.answers
            .borrow_mut()
            .push((response, Some(key.clone())));
        (id, key)
    }
}

/// Where `needle` appears in `haystack`, with some context, if it does.
fn found(haystack: &str, needle: &str) -> Option<String> {
    let at = haystack.find(needle)?;
    let mut start = at.saturating_sub(120);
    while !haystack.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + needle.len() + 120).min(haystack.len());
    while !haystack.is_char_boundary(end) {
        end += 1;
    }
    Some(haystack[start..end].to_owned())
}

fn secrets_stay_out_of_logs_and_responses(storage: &Storage) {
    let jwt_secret = secret("jwt-secret");
    let admin_password = secret("admin-password");
    let configured_key = secret("configured-key");
    let key_encryption_key = hex::encode(Sha256::digest(secret("kek").as_bytes()));
    let mut launch = storage
        .launch_with_auth()
        .env("JWT_SECRET", &jwt_secret)
        .env("AUTH_ADMIN_PASSWORD", &admin_password)
        .env(
            "AUTH_API_KEY_OPS",
            format!("{configured_key}:ops-bot:operations"),
        )
        .env("KEY_ENCRYPTION_KEY", &key_encryption_key)
        .env("LOG_LEVEL", "trace")
        .env("DB_QUERY_LOGGING", "true");
    let mut secrets: Vec<(&str, String)> = vec![
        ("JWT_SECRET", jwt_secret.clone()),
        ("AUTH_ADMIN_PASSWORD", admin_password.clone()),
        ("the configured key", configured_key.clone()),
        ("the configured key's hash", key_hash(&configured_key)),
        ("KEY_ENCRYPTION_KEY", key_encryption_key.clone()),
    ];
    if let Some(database) = storage.database() {
        // Local connections are trusted: the password is accepted whatever
        // it is, and all that is tested is that it is never shown.
        let pg_password = secret("pg-password");
        let role = database.create_role("app");
        database.execute(&format!(
            "ALTER ROLE \"{role}\" PASSWORD '{pg_password}';
             GRANT ALL ON DATABASE \"{db}\" TO \"{role}\";
             GRANT ALL ON SCHEMA public TO \"{role}\";",
            db = database.name()
        ));
        launch = launch.env(
            "DATABASE_URL",
            database.url_for_role(&role, Some(&pg_password)),
        );
        secrets.push(("the PostgreSQL password", pg_password));
    }
    let server = launch.start();
    let api = Recorder::new(&server);

    // Logins, good and bad.
    let admin = api.token(ADMIN_USERNAME, &admin_password);
    let wrong = secret("wrong-password");
    api.login(ADMIN_USERNAME, &wrong).assert_status(401);
    let typed_in_the_wrong_field = secret("password-typed-as-username");
    api.login(&typed_in_the_wrong_field, "whatever-else")
        .assert_status(401);
    secrets.push(("a wrong password", wrong));
    secrets.push(("a password typed as the username", typed_in_the_wrong_field));

    // Users with passwords, one refused for its name (the password must not
    // be echoed in the 400).
    let alice_password = secret("alice-password");
    let bob_password = secret("bob-password");
    let refused_password = secret("refused-user-password");
    for (username, password, status) in [
        ("alice", &alice_password, 201),
        ("bob", &bob_password, 201),
        ("not a valid name", &refused_password, 400),
    ] {
        api.send(
            &admin,
            "POST",
            "/users",
            Some(&json!({"username": username, "password": password, "role": "issuer"})),
        )
        .assert_status(status);
    }
    let alice = api.token("alice", &alice_password);
    let bob = api.token("bob", &bob_password);
    let alice_id = api.send(&alice, "GET", "/auth/profile", None).body["user"]["id"]
        .as_str()
        .expect("alice's id")
        .to_owned();
    let bob_id = api.send(&bob, "GET", "/auth/profile", None).body["user"]["id"]
        .as_str()
        .expect("bob's id")
        .to_owned();

    // Keys: created, used both ways, revoked, used again.
    let (_, alice_key) = api.create_key(&alice, &json!({"name": "alice's"}));
    let (bob_key_id, bob_key) = api.create_key(&admin, &json!({"name": "bob's", "userId": bob_id}));
    api.send(
        &Caller::Key(alice_key.clone()),
        "POST",
        "/issuers",
        Some(&issuer_body("Alice's")),
    )
    .assert_status(201);
    api.send(
        &Caller::BearerKey(alice_key.clone()),
        "GET",
        "/credentials",
        None,
    )
    .assert_status(200);
    api.send(&Caller::Key(bob_key.clone()), "GET", "/auth/profile", None)
        .assert_status(200);
    api.send(&Caller::Key(configured_key.clone()), "GET", "/users", None)
        .assert_status(200);
    api.send(
        &admin,
        "POST",
        &format!("/api-keys/{bob_key_id}/revoke"),
        None,
    )
    .assert_status(200);

    // Failing requests that carry credentials.
    let garbage_key = secret("obk_garbage");
    let Caller::Token(alice_token) = &alice else {
        unreachable!("alice logged in")
    };
    for (caller, method, path, body, status) in [
        (
            Caller::Key(bob_key.clone()),
            "GET",
            "/auth/profile",
            None,
            401,
        ),
        (
            Caller::BearerKey(bob_key.clone()),
            "POST",
            "/issuers",
            Some(issuer_body("x")),
            401,
        ),
        (
            Caller::Key(garbage_key.clone()),
            "GET",
            "/credentials",
            None,
            401,
        ),
        (
            Caller::Token(format!("{alice_token}x")),
            "GET",
            "/credentials",
            None,
            401,
        ),
        (
            Caller::Key(alice_key.clone()),
            "GET",
            "/no/such/route",
            None,
            404,
        ),
        (
            Caller::Key(alice_key.clone()),
            "POST",
            "/issuers",
            Some(json!({"name": 42})),
            400,
        ),
        (Caller::Key(alice_key.clone()), "GET", "/users", None, 403),
        (
            Caller::Key(alice_key.clone()),
            "PUT",
            "/issuers/not-a-uuid",
            Some(issuer_body("x")),
            404,
        ),
    ] {
        api.send(&caller, method, path, body.as_ref())
            .assert_status(status);
    }

    // Password changes: self-service with a wrong current password, then
    // right; an administrator's reset.
    let alice_new_password = secret("alice-new-password");
    let bob_new_password = secret("bob-new-password");
    let wrong_current = secret("wrong-current-password");
    let change = |caller: &Caller, user: &str, current: Option<&str>, new: &str| {
        let mut body = json!({"newPassword": new});
        if let Some(current) = current {
            body["currentPassword"] = json!(current);
        }
        api.send(
            caller,
            "POST",
            &format!("/users/{user}/change-password"),
            Some(&body),
        )
    };
    change(&alice, &alice_id, Some(&wrong_current), &alice_new_password).assert_status(400);
    change(
        &alice,
        &alice_id,
        Some(&alice_password),
        &alice_new_password,
    )
    .assert_status(204);
    change(&admin, &bob_id, None, &bob_new_password).assert_status(204);
    let short = "short-pw";
    change(&admin, &bob_id, None, short).assert_status(400);
    api.login("alice", &alice_password).assert_status(401);
    let alice_again = api.token("alice", &alice_new_password);
    api.token("bob", &bob_new_password);

    // The lists of users and keys show neither password hashes nor key hashes.
    let users = api.send(&admin, "GET", "/users", None);
    users.assert_status(200);
    let keys = api.send(&admin, "GET", &format!("/api-keys?userId={bob_id}"), None);
    keys.assert_status(200);
    let own_keys = api.send(&alice_again, "GET", "/api-keys", None);
    own_keys.assert_status(200);
    for list in [&users, &keys, &own_keys] {
        let items = list.body.as_array().expect("a list");
        assert!(!items.is_empty(), "{}", list.text);
        for item in items {
            let fields: Vec<&String> = item.as_object().expect("an object").keys().collect();
            for field in &fields {
                let lower = field.to_ascii_lowercase();
                assert!(
                    !lower.contains("hash")
                        && !lower.contains("password")
                        && lower != "key"
                        && lower != "secret",
                    "{}: the field {field} should not be shown: {item}",
                    list.request
                );
            }
        }
    }

    for (label, value) in [
        ("alice's password", alice_password),
        ("alice's new password", alice_new_password),
        ("bob's password", bob_password),
        ("bob's new password", bob_new_password),
        ("the refused user's password", refused_password),
        ("a wrong current password", wrong_current),
        ("the garbage key", garbage_key),
        ("a refused new password", short.to_owned()),
    ] {
        secrets.push((label, value));
    }
    for (label, key) in [("alice's key", alice_key), ("bob's key", bob_key)] {
        secrets.push((label, key.clone()));
        secrets.push(("a key's hash", key_hash(&key)));
        // Its random part alone, should a log cut the prefix off.
        secrets.push(("a key's random part", key[key.len() - 40..].to_owned()));
    }
    for (label, caller) in [
        ("admin's token", &admin),
        ("alice's token", &alice),
        ("bob's token", &bob),
    ] {
        let Caller::Token(token) = caller else {
            unreachable!("logged in")
        };
        secrets.push((label, token.clone()));
        let signature = token.rsplit('.').next().unwrap_or_default().to_owned();
        secrets.push(("a token's signature", signature));
    }

    // Nothing in what the server printed...
    let output = server.output();
    assert!(output.contains("openbadges::sql"), "query logging is on");
    assert!(output.contains("TRACE"), "trace logging is on");
    let mut leaks = Vec::new();
    for (label, value) in &secrets {
        if let Some(context) = found(&output, value) {
            leaks.push(format!("the output shows {label}: …{context}…"));
        }
    }
    if let Some(context) = found(&output, "$argon2") {
        leaks.push(format!("the output shows a password hash: …{context}…"));
    }
    // ... nor in any answer, except the one that hands the secret out.
    for (response, allowed) in api.answers.borrow().iter() {
        let headers: String = response
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\n"))
            .collect();
        let whole = format!("{headers}\n{}", response.text);
        for (label, value) in &secrets {
            let is_allowed = allowed
                .as_deref()
                .is_some_and(|a| a == value || a.contains(value.as_str()));
            if !is_allowed {
                if let Some(context) = found(&whole, value) {
                    leaks.push(format!("{} answers {label}: …{context}…", response.request));
                }
            }
        }
        if let Some(context) = found(&whole, "$argon2") {
            leaks.push(format!(
                "{} answers a password hash: …{context}…",
                response.request
            ));
        }
        // Issuers' signing keys: public keys are published, private ones never.
        for private in ["privateKey", "secretKey", "private_key", "PRIVATE KEY"] {
            if let Some(context) = found(&whole, private) {
                leaks.push(format!(
                    "{} answers a private key: …{context}…",
                    response.request
                ));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    assert!(api.answers.borrow().len() > 30, "the scenario ran");
}

/// A `JWT_SECRET` too short or an `AUTH_ADMIN_PASSWORD` too short refuse
/// the start without printing the value.
#[test]
fn refused_secrets_are_not_echoed() {
    let short_secret = "jwt-secret-of-31-characters-xyz";
    assert_eq!(short_secret.len(), 31);
    Launch::new()
        .env("JWT_SECRET", short_secret)
        .run()
        .assert_failure(CONFIG_REFUSED, &["JWT_SECRET"])
        .assert_hidden(short_secret);
    Launch::new()
        .env("AUTH_ADMIN_USERNAME", "admin")
        .env("AUTH_ADMIN_PASSWORD", "tiny-pw")
        .run()
        .assert_failure(CONFIG_REFUSED, &["AUTH_ADMIN_PASSWORD"])
        .assert_hidden("tiny-pw");
}

/// A password pasted into `DATABASE_URL` unencoded (an '@', a '/' or a
/// '%' in it) made libpq read another URL and print a piece of the password
/// as a host or port ("could not translate host name "x@db""). The start
/// is refused before connecting, as a configuration error that says what to
/// encode; no piece of the password is printed, by `serve` or `migrate`.
#[test]
fn a_password_pasted_unencoded_in_database_url_is_named_not_shown() {
    let head = secret("pw-head");
    let tail = secret("pw-tail");
    for (password, advice) in [
        (format!("{head}@{tail}"), "percent-encode it as %40"),
        (format!("{head}/{tail}"), "percent-encode it as %2F"),
        (format!("{head}%{tail}"), "percent-encode it as %25"),
    ] {
        // Nothing listens there: the URL is refused before any connection.
        let url = format!("postgres://openbadges:{password}@127.0.0.1:1/openbadges");
        for command in [None, Some("migrate")] {
            let mut launch = Launch::new()
                .env("DB_TYPE", "postgresql")
                .env("DATABASE_URL", &url);
            if let Some(command) = command {
                launch = launch.arg(command);
            }
            launch
                .run()
                .assert_failure(CONFIG_REFUSED, &["DATABASE_URL", "the password", advice])
                .assert_hidden(&head)
                .assert_hidden(&tail);
        }
    }
}

/// `--help` lists the secret variables without any value, even when set.
#[test]
fn help_shows_no_secret_values() {
    let jwt_secret = secret("help-jwt-secret");
    Launch::new()
        .arg("--help")
        .env("JWT_SECRET", &jwt_secret)
        .env("AUTH_ADMIN_PASSWORD", "help-admin-password")
        .run()
        .assert_success()
        .assert_output_contains(&["JWT_SECRET", "AUTH_ADMIN_PASSWORD"])
        .assert_hidden(&jwt_secret)
        .assert_hidden("help-admin-password");
}
