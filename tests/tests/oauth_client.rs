//! The OB 3.0 Service API driven black-box by a client written with a
//! standard OAuth 2.0 library, Python's `authlib` (tests/service_api/client.py,
//! in the virtual environment scripts/python-tools.sh makes), on both
//! backends:
//!
//! - discovery and the RFC 8414 metadata, dynamic registration, the
//!   authorization code with PKCE S256 through the HTML login and consent
//!   form (denied, a wrong password, then allowed), the token, upserts of
//!   signed credentials (JSON created then replaced, a VC-JWT as a compact
//!   JWS), getCredentials page by page with its headers, getProfile and
//!   putProfile, refresh with rotation, and revocation, after which every
//!   call fails;
//! - what the client received is then checked here against the official
//!   OB 3.0 JSON Schemas: a getCredentials page (and each credential on
//!   it), the profile and an error body (Imsx_StatusInfo); and against the
//!   schemas the discovery document declares for them, so that what it
//!   describes is what the server answers.
//!
//! The learner verifies an address of theirs through a real SMTP server
//! (tests/src/smtp.rs), so the awards made here to it are in their backpack
//! before the client connects: the client pages through those first. The
//! credentials it upserts are issued and signed by the same server to
//! another address, as credentials a learner brings from elsewhere.

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use openbadges_e2e::images::python;
use openbadges_e2e::smtp::Mailbox;
use openbadges_e2e::{
    award_body, on_both_backends, uuid_of, Caller, Server, Storage, ADMIN_PASSWORD, ADMIN_USERNAME,
};
use serde_json::{json, Value};

#[allow(dead_code)]
#[path = "api/schemas.rs"]
mod schemas;

on_both_backends!(an_oauth_library_client_drives_the_service_api);

const KEK: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
const LEARNER: &str = "ada";
const LEARNER_PASSWORD: &str = "correct horse battery staple 42";
/// The learner's verified address: awards to it are in their backpack.
const VERIFIED: &str = "ada@learners.example.org";
/// How many awards to [`VERIFIED`] the backpack holds before the client.
const AWARDED: usize = 2;
/// The address the credentials the client upserts are awarded to.
const RECIPIENT: &str = "ada.lovelace@elsewhere.example.org";
/// How many signed JSON credentials the client upserts (plus one VC-JWT).
const JSON_CREDENTIALS: usize = 3;
/// How long the verification e-mail may take to arrive.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

fn an_oauth_library_client_drives_the_service_api(storage: &Storage) {
    let mailbox = Mailbox::new();
    let _sink = mailbox.start();
    let server = storage
        .launch_with_auth()
        .env("KEY_ENCRYPTION_KEY", KEK)
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", mailbox.port.to_string())
        .env("SMTP_TLS", "none")
        .env("SMTP_FROM", "Badge Office <badges@example.org>")
        .env("MAIL_RETRY_BASE_SECONDS", "1")
        .start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    server.create_user(&admin, LEARNER, LEARNER_PASSWORD, "learner");
    let (_, badge) = server.issuer_with_badge(&admin, "Analytical Engines", "Note G");

    // The learner verifies an address; the awards to it are theirs.
    let learner = server.login(LEARNER, LEARNER_PASSWORD);
    server
        .post_as(&learner, "/learner/emails", &json!({"email": VERIFIED}))
        .assert_status(201);
    let token = verification_token(&server, &mailbox);
    server
        .post("/learner/emails/verify", &json!({"token": token}))
        .assert_status(200);
    for _ in 0..AWARDED {
        let mut body = award_body(&badge, VERIFIED);
        body["recipient"]["hashed"] = json!(false);
        server
            .post_as(&admin, "/credentials", &body)
            .assert_status(201);
    }
    let held = server.get_as(&learner, "/learner/credentials");
    held.assert_status(200);
    assert_eq!(
        held.body.as_array().map(Vec::len),
        Some(AWARDED),
        "the awards to the verified address are held: {}",
        held.text
    );

    let files = tempfile::tempdir().expect("a directory for the client's files");
    let mut args: Vec<String> = vec![
        "--base-url".into(),
        server.base_url(),
        "--username".into(),
        LEARNER.into(),
        "--password".into(),
        LEARNER_PASSWORD.into(),
        "--expect-held".into(),
        AWARDED.to_string(),
    ];
    for number in 1..=JSON_CREDENTIALS {
        let credential = signed_credential(&server, &admin, &badge);
        let path = files.path().join(format!("credential-{number}.json"));
        std::fs::write(&path, credential.to_string()).expect("write a credential");
        args.extend(["--credential".into(), path.to_string_lossy().into_owned()]);
    }
    let jws = vc_jwt(&server, &admin, &badge);
    let jws_path = files.path().join("credential.jws");
    std::fs::write(&jws_path, &jws).expect("write the VC-JWT");
    let saved = files.path().join("received");
    args.extend([
        "--jws".into(),
        jws_path.to_string_lossy().into_owned(),
        "--redirect-base".into(),
        "http://localhost:8765".into(),
        "--save".into(),
        saved.to_string_lossy().into_owned(),
    ]);

    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("service_api/client.py");
    let output = Command::new(python())
        .arg(&client)
        .args(&args)
        .output()
        .expect("run the authlib client");
    let printed = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    // What the client checked, one line each (shown with --nocapture).
    println!("{printed}");
    assert!(
        output.status.success(),
        "the authlib client failed ({}):\n{printed}{errors}\n--- server output:\n{}",
        output.status,
        server.output()
    );
    assert!(
        printed
            .lines()
            .any(|line| line.starts_with("service API client: all ")
                && line.ends_with(" checks passed")),
        "the client did not report its checks:\n{printed}{errors}"
    );
    // Secrets the client was given never reach the server's log.
    let log = server.output();
    assert!(
        !log.contains(LEARNER_PASSWORD),
        "the learner's password is in the server's log"
    );

    check_received(&saved);
}

/// The token of the verification e-mail sent to [`VERIFIED`], once it
/// has arrived.
fn verification_token(server: &Server, mailbox: &Mailbox) -> String {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    let message = loop {
        if let Some(message) = mailbox
            .messages()
            .into_iter()
            .find(|m| m["rcptTos"][0] == VERIFIED)
        {
            break message;
        }
        assert!(
            Instant::now() < deadline,
            "no verification e-mail to {VERIFIED}; server output:\n{}",
            server.output()
        );
        sleep(Duration::from_millis(100));
    };
    let text = message["text"].as_str().expect("a text part");
    let link = text
        .split_whitespace()
        .find(|word| word.contains("token="))
        .unwrap_or_else(|| panic!("no verification link in {text}"));
    link.split_once("token=")
        .map(|(_, token)| token.to_owned())
        .expect("a token in the link")
}

/// A credential of `badge` awarded to [`RECIPIENT`], signed at issuance:
/// its OB 3.0 JSON as published.
fn signed_credential(server: &Server, admin: &Caller, badge: &str) -> Value {
    let id = award(server, admin, badge);
    let response = server.fetch_with(
        &format!("/v3/credentials/{id}"),
        &[("Accept", "application/ld+json")],
    );
    response.assert_status(200);
    assert!(
        response.body.get("proof").is_some(),
        "an issued credential carries a proof: {}",
        response.text
    );
    response.body
}

/// A credential of `badge` awarded to [`RECIPIENT`] as a VC-JWT (compact
/// JWS).
fn vc_jwt(server: &Server, admin: &Caller, badge: &str) -> String {
    let id = award(server, admin, badge);
    let response = server.fetch_with(
        &format!("/v3/credentials/{id}"),
        &[("Accept", "application/vc+jwt")],
    );
    response.assert_status(200);
    assert_eq!(response.media_type(), Some("application/vc+jwt"));
    let jws = response.text.trim().to_owned();
    assert_eq!(jws.split('.').count(), 3, "a compact JWS: {jws}");
    jws
}

/// Awards `badge` to [`RECIPIENT`] (signed at issuance); the credential's
/// UUID.
fn award(server: &Server, admin: &Caller, badge: &str) -> String {
    let response = server.post_as(admin, "/credentials", &award_body(badge, RECIPIENT));
    response.assert_status(201);
    uuid_of(&response.body)
}

/// What the client saved, checked against the OB 3.0 JSON Schemas.
fn check_received(saved: &Path) {
    let read = |name: &str| -> Value {
        let path = saved.join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the client saved no {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
    };
    let sdd = read("discovery.json");
    check_discovery(&sdd);
    let page = read("getcredentials-page.json");
    let profile = read("profile.json");
    let error = read("error-unauthorized.json");
    // The discovery document describes the answers: each one validates
    // against the schema the document itself declares for it.
    for (name, doc) in [
        ("GetOpenBadgeCredentialsResponse", &page),
        ("Profile", &profile),
        ("Imsx_StatusInfo", &error),
    ] {
        assert_valid_against(&declared(&sdd, name), &format!("discovery's {name}"), doc);
    }
    let Some(validators) = Validators::load() else {
        return;
    };
    assert_valid_against(
        &validators.credentials_response,
        "GetOpenBadgeCredentialsResponse",
        &page,
    );
    let credentials = page["credential"].as_array().cloned().unwrap_or_default();
    for credential in &credentials {
        schemas::assert_valid(schemas::Schema::AchievementCredential, credential);
    }
    assert_valid_against(&validators.profile, "Profile", &profile);
    assert_valid_against(&validators.status_info, "Imsx_StatusInfo", &error);
}

/// A validator of the schema `name` of the discovery document's
/// `components.schemas` (OpenAPI 3.0 schema objects: JSON Schema draft 4
/// with `$ref`s into the same document).
fn declared(sdd: &Value, name: &str) -> jsonschema::Validator {
    assert!(
        sdd["components"]["schemas"].get(name).is_some(),
        "discovery declares no {name} schema: {:#}",
        sdd["components"]["schemas"]
    );
    let schema = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": sdd["components"],
    });
    jsonschema::draft4::options()
        .build(&schema)
        .unwrap_or_else(|e| panic!("discovery's {name} schema does not compile: {e}"))
}

#[track_caller]
fn assert_valid_against(validator: &jsonschema::Validator, name: &str, doc: &Value) {
    let violations: Vec<String> = validator
        .iter_errors(doc)
        .map(|error| format!("at {:?}: {error}", error.instance_path().to_string()))
        .collect();
    assert!(
        violations.is_empty(),
        "the document does not validate against the {name} schema:\n  {}\ndocument: {doc:#}",
        violations.join("\n  ")
    );
}

/// The Service Description Document's required parts (security.txt,
/// "Request the Service Description Document"): the client checked them
/// as a client would; here the same document is checked for what the OB
/// OpenAPI file it profiles declares.
fn check_discovery(sdd: &Value) {
    let schemes = &sdd["components"]["securitySchemes"];
    assert_eq!(schemes["OAuth2ACG"]["type"], json!("oauth2"), "{sdd:#}");
    let scopes = schemes["OAuth2ACG"]["flows"]["authorizationCode"]["scopes"]
        .as_object()
        .unwrap_or_else(|| panic!("no scopes in the OAuth2ACG flow: {sdd:#}"));
    for scope in [
        "credential.readonly",
        "credential.upsert",
        "profile.readonly",
        "profile.update",
    ] {
        let scope = format!("https://purl.imsglobal.org/spec/ob/v3p0/scope/{scope}");
        assert!(scopes.contains_key(&scope), "{scope} is not in {scopes:?}");
    }
    for field in ["title", "termsOfService", "x-imssf-privacyPolicyUrl"] {
        assert!(
            sdd["info"][field].as_str().is_some_and(|v| !v.is_empty()),
            "info.{field} is missing: {sdd:#}"
        );
    }
}

/// The three schemas a Service Provider's answers follow.
struct Validators {
    credentials_response: jsonschema::Validator,
    profile: jsonschema::Validator,
    status_info: jsonschema::Validator,
}

impl Validators {
    /// The compiled schemas, or `None` when ../shared is absent (outside
    /// CI, as the other schema checks: see api/schemas.rs).
    fn load() -> Option<Self> {
        schemas::schemas()?;
        Some(Self {
            credentials_response: compile("ob_v3p0_getopenbadgecredentialsresponse_schema.json"),
            profile: compile("ob_v3p0_profile_schema.json"),
            status_info: compile("ob_v3p0_imsx_statusinfo_schema.json"),
        })
    }
}

fn compile(file: &str) -> jsonschema::Validator {
    let path = schemas::schema_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    jsonschema::draft201909::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{} does not compile: {e}", path.display()))
}
