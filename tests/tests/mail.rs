//! Award e-mails end to end on both backends, through a real SMTP server
//! (Python's `aiosmtpd`, from the virtual environment scripts/python-tools.sh
//! makes) that writes each message it receives, as parsed by Python's own
//! e-mail library, to a directory:
//!
//! - an award with `notify: true` reaches its recipient with the
//!   credential's link in a text and an HTML part and the credential
//!   attached; the delivery state says so;
//! - with the SMTP server down, awards are issued all the same, their
//!   e-mails wait, and go out once each when it is back;
//! - two instances sharing one outbox send each e-mail once.

use std::collections::HashMap;
use std::fs;
use std::thread::sleep;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openbadges_e2e::smtp::Mailbox;
use openbadges_e2e::{
    achievement_body, award_body, on_both_backends, uuid_of, Caller, Launch, Server, Storage,
    JWT_SECRET,
};
use serde_json::{json, Value};

on_both_backends!(
    a_notified_award_arrives_with_its_link_and_badge,
    an_achievement_can_notify_by_default,
    the_smtp_login_works_and_its_password_is_never_shown,
    awards_do_not_wait_for_a_dead_smtp_server_and_are_sent_once_it_is_back,
    two_instances_send_each_e_mail_once,
);

const ADMIN_KEY: &str = "e2e-mail-admin-key-0123456789abcdef";
const KEK: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
/// How long an e-mail may take to be delivered once the SMTP server is up:
/// retries back off from one second, doubling.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(120);

fn admin() -> Caller {
    Caller::Key(ADMIN_KEY.to_owned())
}

/// A server on `storage` sending e-mail to `mailbox`'s port, retrying
/// after one second at first.
fn launch(storage: &Storage, mailbox: &Mailbox) -> Launch {
    storage
        .launch()
        .env("AUTH_API_KEY_MAIL", format!("{ADMIN_KEY}:admin:mail tests"))
        .env("JWT_SECRET", JWT_SECRET)
        .env("KEY_ENCRYPTION_KEY", KEK)
        .env("RATE_LIMIT_PER_MINUTE", "0")
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", mailbox.port.to_string())
        .env("SMTP_TLS", "none")
        .env("SMTP_FROM", "Badge Office <badges@example.org>")
        .env("MAIL_RETRY_BASE_SECONDS", "1")
        .env("MAIL_MAX_ATTEMPTS", "30")
}

/// An award to `email` in the clear, asking for an e-mail.
fn notified_award(badge: &str, email: &str) -> Value {
    let mut body = award_body(badge, email);
    body["recipient"]["hashed"] = json!(false);
    body["notify"] = json!(true);
    body
}

fn delivery(server: &Server, credential: &str) -> Value {
    let response = server.get_as(&admin(), &format!("/credentials/{credential}/delivery"));
    response.assert_status(200);
    response.body
}

/// Waits until every credential's e-mail is `sent`, polling its state.
#[track_caller]
fn wait_until_sent(server: &Server, credentials: &[String]) {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    for credential in credentials {
        loop {
            let state = delivery(server, credential);
            if state["state"] == "sent" {
                break;
            }
            assert_ne!(state["state"], "failed", "{state}");
            assert!(
                Instant::now() < deadline,
                "e-mail of {credential} not sent: {state}; server output:\n{}",
                server.output()
            );
            sleep(Duration::from_millis(100));
        }
    }
}

/// The received e-mails by recipient; each must have come once.
#[track_caller]
fn once_each(mailbox: &Mailbox) -> HashMap<String, Value> {
    let mut by_recipient = HashMap::new();
    for message in mailbox.messages() {
        let to = message["rcptTos"][0]
            .as_str()
            .expect("a recipient")
            .to_owned();
        assert!(
            by_recipient.insert(to.clone(), message).is_none(),
            "{to} received the e-mail twice"
        );
    }
    by_recipient
}

fn a_notified_award_arrives_with_its_link_and_badge(storage: &Storage) {
    let mailbox = Mailbox::new();
    let _smtp = mailbox.start();
    let server = launch(storage, &mailbox).base_url_at_own_address().start();
    let (_, badge) = server.issuer_with_badge(&admin(), "Mail issuer", "Kind words");

    let award = server.post_as(
        &admin(),
        "/credentials",
        &notified_award(&badge, "ada@example.org"),
    );
    award.assert_status(201);
    let credential = uuid_of(&award.body);
    // No e-mail asked for: none queued.
    let quiet = server.post_as(
        &admin(),
        "/credentials",
        &award_body(&badge, "quiet@example.org"),
    );
    quiet.assert_status(201);
    assert_eq!(delivery(&server, &uuid_of(&quiet.body))["state"], "none");
    // A hashed recipient cannot be mailed without an address.
    let mut hashed = award_body(&badge, "hidden@example.org");
    hashed["notify"] = json!(true);
    let refused = server.post_as(&admin(), "/credentials", &hashed);
    refused.assert_status(400);
    assert!(refused.text.contains("notifyEmail"), "{}", refused.text);
    // With one, it can.
    hashed["notifyEmail"] = json!("hidden.inbox@example.org");
    let redirected = server.post_as(&admin(), "/credentials", &hashed);
    redirected.assert_status(201);
    // In a batch too, item by item.
    let batch = server.post_as(
        &admin(),
        "/credentials/batch",
        &json!({"credentials": [
            notified_award(&badge, "batch.one@example.org"),
            award_body(&badge, "batch.two@example.org"),
        ]}),
    );
    batch.assert_status(201);
    let batch_ids: Vec<String> = batch
        .body
        .as_array()
        .expect("array")
        .iter()
        .map(uuid_of)
        .collect();
    assert_eq!(delivery(&server, &batch_ids[1])["state"], "none");

    wait_until_sent(
        &server,
        &[
            credential.clone(),
            uuid_of(&redirected.body),
            batch_ids[0].clone(),
        ],
    );
    let state = delivery(&server, &credential);
    assert_eq!(state["attempts"], 1, "{state}");
    assert_eq!(state["to"], "a***@example.org", "{state}");
    assert!(state["sentAt"].is_string(), "{state}");

    let received = once_each(&mailbox);
    assert_eq!(received.len(), 3, "{received:#?}");
    assert!(received.contains_key("hidden.inbox@example.org"));
    assert!(received.contains_key("batch.one@example.org"));
    let message = &received["ada@example.org"];
    assert_eq!(
        message["from"], "Badge Office <badges@example.org>",
        "{message:#}"
    );
    assert_eq!(message["mailFrom"], "badges@example.org");
    assert_eq!(message["contentType"], "multipart/mixed", "{message:#}");
    assert_eq!(message["alternatives"], json!(["multipart/alternative"]));
    let link = server.url(&format!("/v3/credentials/{credential}"));
    let text = message["text"].as_str().expect("a text part");
    let html = message["html"].as_str().expect("an HTML part");
    assert!(text.contains(&link), "{text}");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(
        text.contains("Kind words") && html.contains("Mail issuer"),
        "{text}\n{html}"
    );
    // The link serves the credential.
    server.fetch(&link).assert_status(200);

    let attachments = message["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1, "{message:#}");
    // The baked badge: an OB 3.0 PNG whose `openbadgecredential` iTXt
    // chunk, read by an independent PNG decoder (pypng), is exactly the
    // credential as issued, proof and all.
    assert_eq!(attachments[0]["filename"], "badge.png");
    assert_eq!(attachments[0]["contentType"], "image/png");
    let png = STANDARD
        .decode(attachments[0]["base64"].as_str().expect("base64"))
        .expect("decode");
    let work = tempfile::tempdir().expect("a temporary directory");
    let path = work.path().join("badge.png");
    fs::write(&path, &png).expect("write the attachment");
    let attached: Value = serde_json::from_str(&openbadges_e2e::images::pypng_itxt(
        &path,
        "openbadgecredential",
    ))
    .expect("the baked credential is JSON");
    assert_eq!(attached, award.body);
    assert!(attached["proof"].is_object(), "{attached:#}");
}

fn an_achievement_can_notify_by_default(storage: &Storage) {
    let mailbox = Mailbox::new();
    let _smtp = mailbox.start();
    let server = launch(storage, &mailbox).base_url_at_own_address().start();
    let (issuer, quiet_badge) = server.issuer_with_badge(&admin(), "Default issuer", "Quiet");
    let mut body = achievement_body(&issuer, "Loud");
    body["notifyRecipients"] = json!("yes");
    let refused = server.post_as(&admin(), "/achievements", &body);
    refused.assert_status(400);
    assert!(
        refused.text.contains("notifyRecipients"),
        "{}",
        refused.text
    );
    body["notifyRecipients"] = json!(true);
    let loud = server.post_as(&admin(), "/achievements", &body);
    loud.assert_status(201);
    // A server setting: not in the Open Badges document.
    assert!(
        loud.body.get("notifyRecipients").is_none(),
        "{:#}",
        loud.body
    );
    let loud = uuid_of(&loud.body);

    let issue = |badge: &str, email: &str, notify: Option<bool>| {
        let mut award = award_body(badge, email);
        award["recipient"]["hashed"] = json!(false);
        if let Some(notify) = notify {
            award["notify"] = json!(notify);
        }
        let response = server.post_as(&admin(), "/credentials", &award);
        response.assert_status(201);
        uuid_of(&response.body)
    };
    let by_default = issue(&loud, "default@example.org", None);
    let opted_out = issue(&loud, "opted.out@example.org", Some(false));
    let not_asked = issue(&quiet_badge, "not.asked@example.org", None);
    // A hashed recipient and only the default: nothing to send to, no error.
    let hashed = server.post_as(
        &admin(),
        "/credentials",
        &award_body(&loud, "h@example.org"),
    );
    hashed.assert_status(201);
    assert_eq!(delivery(&server, &uuid_of(&hashed.body))["state"], "none");
    assert_eq!(delivery(&server, &opted_out)["state"], "none");
    assert_eq!(delivery(&server, &not_asked)["state"], "none");
    wait_until_sent(&server, &[by_default]);
    let received = once_each(&mailbox);
    assert_eq!(
        received.keys().collect::<Vec<_>>(),
        vec!["default@example.org"]
    );
}

/// Waits until the credential's e-mail is in `state`.
#[track_caller]
fn wait_for_state(server: &Server, credential: &str, state: &str) -> Value {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    loop {
        let now = delivery(server, credential);
        if now["state"] == state {
            return now;
        }
        assert!(Instant::now() < deadline, "never {state}: {now}");
        sleep(Duration::from_millis(100));
    }
}

fn the_smtp_login_works_and_its_password_is_never_shown(storage: &Storage) {
    let password = format!("smtp-password-{}", uuid::Uuid::new_v4().simple());
    let wrong = format!("wrong-password-{}", uuid::Uuid::new_v4().simple());
    let mailbox = Mailbox::new();
    let _smtp = mailbox.start_with_login("mailer", &password);
    let server = launch(storage, &mailbox)
        .env("SMTP_USER", "mailer")
        .env("SMTP_PASSWORD", &password)
        .env("LOG_LEVEL", "trace")
        .base_url_at_own_address()
        .start();
    let (_, badge) = server.issuer_with_badge(&admin(), "Login issuer", "Logged in");
    let award = server.post_as(
        &admin(),
        "/credentials",
        &notified_award(&badge, "in@example.org"),
    );
    award.assert_status(201);
    let credential = uuid_of(&award.body);
    wait_until_sent(&server, std::slice::from_ref(&credential));
    assert_eq!(once_each(&mailbox).len(), 1);

    // A wrong password: the SMTP server refuses the login for good (535),
    // so the e-mail fails at once, and the error does not carry it.
    let refusing = Mailbox::new();
    let _refusing_smtp = refusing.start_with_login("mailer", &password);
    let misconfigured = launch(storage, &refusing)
        .env("SMTP_USER", "mailer")
        .env("SMTP_PASSWORD", &wrong)
        .env("LOG_LEVEL", "trace")
        .env("BASE_URL", server.base_url())
        .start();
    let award = misconfigured.post_as(
        &admin(),
        "/credentials",
        &notified_award(&badge, "out@example.org"),
    );
    award.assert_status(201);
    let failed = wait_for_state(&misconfigured, &uuid_of(&award.body), "failed");
    assert!(failed["lastError"].is_string(), "{failed}");
    assert!(refusing.messages().is_empty());

    for (output, what) in [
        (server.output(), "server output"),
        (misconfigured.output(), "misconfigured server output"),
        (failed.to_string(), "delivery answer"),
        (
            delivery(&server, &credential).to_string(),
            "delivery answer",
        ),
    ] {
        for secret in [&password, &wrong] {
            assert!(
                !output.contains(secret.as_str()),
                "{what} shows an SMTP password"
            );
        }
    }
}

fn awards_do_not_wait_for_a_dead_smtp_server_and_are_sent_once_it_is_back(storage: &Storage) {
    // Nothing listens on the mailbox's port yet.
    let mailbox = Mailbox::new();
    let server = launch(storage, &mailbox).base_url_at_own_address().start();
    let (_, badge) = server.issuer_with_badge(&admin(), "Patient issuer", "Patience");
    let credentials: Vec<String> = (0..50)
        .map(|i| {
            let award = server.post_as(
                &admin(),
                "/credentials",
                &notified_award(&badge, &format!("patient{i}@example.org")),
            );
            award.assert_status(201);
            uuid_of(&award.body)
        })
        .collect();
    // Every award is issued while the SMTP port is still closed: none of
    // them waited for the e-mail. Their e-mails wait.
    for credential in &credentials {
        let state = delivery(&server, credential);
        assert!(
            matches!(state["state"].as_str(), Some("pending" | "sending")),
            "{state}"
        );
    }
    // The sender has tried and failed (it polls every second).
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    loop {
        let state = delivery(&server, &credentials[0]);
        if state["attempts"].as_u64() >= Some(1) && state["state"] == "pending" {
            assert!(state["lastError"].is_string(), "{state}");
            assert!(state["nextAttemptAt"].is_string(), "{state}");
            break;
        }
        assert!(Instant::now() < deadline, "no attempt was made: {state}");
        sleep(Duration::from_millis(100));
    }
    assert!(mailbox.messages().is_empty());

    let _smtp = mailbox.start();
    wait_until_sent(&server, &credentials);
    let received = once_each(&mailbox);
    assert_eq!(received.len(), 50);
    for i in 0..50 {
        assert!(
            received.contains_key(&format!("patient{i}@example.org")),
            "{i}"
        );
    }
}

fn two_instances_send_each_e_mail_once(storage: &Storage) {
    let mailbox = Mailbox::new();
    let first = launch(storage, &mailbox).base_url_at_own_address().start();
    let second = launch(storage, &mailbox)
        .env("BASE_URL", first.base_url())
        .start();
    let (_, badge) = first.issuer_with_badge(&admin(), "Shared issuer", "Together");
    // Queued while the SMTP server is down, so that both senders find the
    // whole backlog due at once when it is up.
    let credentials: Vec<String> = (0..30)
        .map(|i| {
            let server = if i % 2 == 0 { &first } else { &second };
            let award = server.post_as(
                &admin(),
                "/credentials",
                &notified_award(&badge, &format!("shared{i}@example.org")),
            );
            award.assert_status(201);
            uuid_of(&award.body)
        })
        .collect();
    let _smtp = mailbox.start();
    wait_until_sent(&first, &credentials);
    let received = once_each(&mailbox);
    assert_eq!(received.len(), 30);
    for credential in &credentials {
        assert_eq!(delivery(&second, credential)["state"], "sent");
    }
}
