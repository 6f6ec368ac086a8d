//! The OB 3.0 Service Provider end to end, on both backends: a client
//! registers (RFC 7591), sends a learner through the login and consent page
//! with PKCE, redeems the code, reads and writes the learner's backpack and
//! profile, refreshes, revokes, and then every call fails. Each fail-closed
//! rule of the authorization server has a test of its own: a wrong or
//! missing PKCE verifier, another redirect URI, a code used twice (the
//! tokens it issued are revoked), an expired code, a scope not granted, a
//! revoked or expired token, one learner's token on another's backpack, and
//! a credential whose proof fails.
//!
//! Answers are checked against the 1EdTech schemas of
//! `../shared/spec/ob3/schemas` (getCredentials, `Imsx_StatusInfo`,
//! Profile, AchievementCredential) when that folder is present.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openbadges_e2e::{award_body, on_both_backends, uuid_of, Caller, Response, Server, Storage};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[allow(dead_code)]
#[path = "api/schemas.rs"]
mod schemas;

on_both_backends!(
    a_client_registers_is_authorized_and_uses_the_backpack,
    discovery_and_metadata_describe_the_provider,
    registration_is_validated,
    authorization_errors_fail_closed,
    a_wrong_or_missing_pkce_verifier_is_refused,
    another_redirect_uri_is_refused,
    a_code_used_twice_is_refused_and_its_tokens_revoked,
    an_expired_code_is_refused,
    a_scope_not_granted_is_forbidden,
    a_revoked_token_fails,
    an_expired_token_fails,
    a_reused_refresh_token_revokes_the_authorization,
    one_learners_token_never_reaches_another_backpack,
    an_upsert_whose_proof_fails_is_refused,
    only_learners_may_authorize_and_logins_are_throttled,
    learners_list_and_revoke_their_authorizations,
);

const ADMIN_KEY: &str = "e2e-provider-admin-key-0123456789abcd";
const KEK: &str = "1f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
const PASSWORD: &str = "learner-password-0123";

const READ: &str = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly";
const UPSERT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert";
const PROFILE_READ: &str = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly";
const PROFILE_UPDATE: &str = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update";

fn all_scopes() -> String {
    format!("{READ} {UPSERT} {PROFILE_READ} {PROFILE_UPDATE} offline_access")
}

fn admin() -> Caller {
    Caller::Key(ADMIN_KEY.to_owned())
}

fn start_with(storage: &Storage, env: &[(&str, &str)]) -> Server {
    let mut launch = storage
        .launch_with_auth()
        .env(
            "AUTH_API_KEY_PROVIDER",
            format!("{ADMIN_KEY}:admin:provider tests"),
        )
        .env("KEY_ENCRYPTION_KEY", KEK);
    for (name, value) in env {
        launch = launch.env(*name, *value);
    }
    launch.start()
}

fn start(storage: &Storage) -> Server {
    start_with(storage, &[])
}

/// A learner account: its username.
fn learner(server: &Server, name: &str) -> String {
    server.create_user(&admin(), name, PASSWORD, "learner");
    name.to_owned()
}

/// A registered client.
struct Client {
    id: String,
    secret: String,
    redirect_uri: String,
}

impl Client {
    fn basic(&self) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", self.id, self.secret))
        )
    }
}

/// Registration metadata of a client running on this machine (plain http
/// is accepted for loopback hosts only).
fn registration(redirect: &str) -> Value {
    json!({
        "client_name": "Test Wallet",
        "client_uri": "http://127.0.0.1:9/",
        "logo_uri": "http://127.0.0.1:9/logo.png",
        "tos_uri": "http://127.0.0.1:9/terms",
        "policy_uri": "http://127.0.0.1:9/privacy",
        "software_id": "c88b6ed8-269e-448e-99be-7e2ff47167d1",
        "software_version": "1.0.0",
        "redirect_uris": [redirect, "http://127.0.0.1:9/other"],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": all_scopes(),
        "contacts": ["ops@wallet.example"],
    })
}

#[track_caller]
fn register(server: &Server) -> Client {
    let redirect = "http://127.0.0.1:9/callback";
    let response = server.post("/oauth/register", &registration(redirect));
    response.assert_status(201);
    Client {
        id: response.body["client_id"]
            .as_str()
            .expect("client_id")
            .to_owned(),
        secret: response.body["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_owned(),
        redirect_uri: redirect.to_owned(),
    }
}

/// A PKCE verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `GET /oauth/authorize` with `pairs` as the query.
fn authorize_page(server: &Server, pairs: &[(&str, &str)]) -> Response {
    server.fetch(&format!("/oauth/authorize?{}", form(pairs)))
}

/// The standard authorization request of `client`.
fn request_pairs<'a>(
    client: &'a Client,
    scope: &'a str,
    challenge: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", &client.id),
        ("redirect_uri", &client.redirect_uri),
        ("scope", scope),
        ("state", "state-123"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// The hidden `request` field of a consent page.
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

fn consent(
    server: &Server,
    request: &str,
    username: &str,
    password: &str,
    decision: &str,
) -> Response {
    server.send(
        "POST",
        "/oauth/authorize",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&form(&[
            ("request", request),
            ("username", username),
            ("password", password),
            ("decision", decision),
        ])),
    )
}

/// The query of a redirect's `Location`, as pairs.
#[track_caller]
fn redirect_query(response: &Response, expected_target: &str) -> Vec<(String, String)> {
    let location = response.expect_header("location");
    assert!(
        location.starts_with(&format!("{expected_target}?")),
        "{location} is not at {expected_target}"
    );
    url::Url::parse(location)
        .expect("a URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Runs the browser part: the page, then the form allowing it; the code.
#[track_caller]
fn authorization_code(
    server: &Server,
    client: &Client,
    username: &str,
    scope: &str,
    challenge: &str,
) -> String {
    let page = authorize_page(server, &request_pairs(client, scope, challenge));
    page.assert_status(200);
    let answer = consent(server, &pending_request(&page), username, PASSWORD, "allow");
    answer.assert_status(303);
    let query = redirect_query(&answer, &client.redirect_uri);
    assert_eq!(param(&query, "state"), Some("state-123"));
    param(&query, "code").expect("a code").to_owned()
}

/// `POST /oauth/token` as `client`.
fn token_request(server: &Server, client: &Client, pairs: &[(&str, &str)]) -> Response {
    let basic = client.basic();
    server.send(
        "POST",
        "/oauth/token",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &basic),
        ],
        Some(&form(pairs)),
    )
}

fn redeem(server: &Server, client: &Client, code: &str, verifier: &str) -> Response {
    token_request(
        server,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", verifier),
        ],
    )
}

/// Tokens of a grant.
struct Tokens {
    access: String,
    refresh: Option<String>,
}

impl Tokens {
    fn bearer(&self) -> Caller {
        Caller::Token(self.access.clone())
    }
}

#[track_caller]
fn tokens_of(response: &Response) -> Tokens {
    response.assert_status(200);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.body["token_type"], "Bearer");
    Tokens {
        access: response.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
        refresh: response.body["refresh_token"].as_str().map(str::to_owned),
    }
}

/// Registration, authorization and redemption in one: the tokens.
#[track_caller]
fn connect(server: &Server, client: &Client, username: &str, scope: &str) -> Tokens {
    let (verifier, challenge) = pkce();
    let code = authorization_code(server, client, username, scope, &challenge);
    tokens_of(&redeem(server, client, &code, &verifier))
}

/// Asserts an `Imsx_StatusInfo` answer with `status` and `minor`.
#[track_caller]
fn assert_imsx(response: &Response, status: u16, minor: &str) {
    response.assert_status(status);
    assert_eq!(
        response.body["imsx_codeMajor"], "failure",
        "{}",
        response.text
    );
    assert_eq!(response.body["imsx_severity"], "error");
    assert_eq!(
        response.body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"],
        minor,
        "{}",
        response.text
    );
    local::assert_valid(local::Schema::StatusInfo, &response.body);
}

/// Asserts an RFC 6749 error.
#[track_caller]
fn assert_oauth_error(response: &Response, status: u16, error: &str) {
    response.assert_status(status);
    assert_eq!(response.body["error"], error, "{}", response.text);
    assert!(response.body["error_description"].is_string());
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

/// An OB 3.0 credential issued and signed here (it verifies): its URL and
/// JSON text as served.
fn issued_credential(server: &Server, badge: &str, email: &str) -> (String, String) {
    let created = server.post_as(&admin(), "/credentials", &award_body(badge, email));
    created.assert_status(201);
    let id = uuid_of(&created.body);
    let served = server.fetch(&format!("/credentials/{id}"));
    served.assert_status(200);
    (id, served.text)
}

fn upsert_json(server: &Server, tokens: &Tokens, text: &str) -> Response {
    server.send(
        "POST",
        "/ims/ob/v3p0/credentials",
        &[
            ("Authorization", &format!("Bearer {}", tokens.access)),
            ("Content-Type", "application/json"),
        ],
        Some(text),
    )
}

fn upsert_jws(server: &Server, tokens: &Tokens, token: &str) -> Response {
    server.send(
        "POST",
        "/ims/ob/v3p0/credentials",
        &[
            ("Authorization", &format!("Bearer {}", tokens.access)),
            ("Content-Type", "text/plain"),
        ],
        Some(token),
    )
}

fn get_credentials(server: &Server, tokens: &Tokens, query: &str) -> Response {
    server.get_as(
        &tokens.bearer(),
        &format!("/ims/ob/v3p0/credentials{query}"),
    )
}

/// The `Link` relations of an answer: rel → URL.
fn links(response: &Response) -> Vec<(String, String)> {
    response
        .header("link")
        .unwrap_or_default()
        .split(", ")
        .filter_map(|part| {
            let (url, rel) = part.split_once(">; rel=\"")?;
            Some((
                rel.trim_end_matches('"').to_owned(),
                url.trim_start_matches('<').to_owned(),
            ))
        })
        .collect()
}

fn link<'a>(links: &'a [(String, String)], rel: &str) -> Option<&'a str> {
    links
        .iter()
        .find(|(r, _)| r == rel)
        .map(|(_, url)| url.as_str())
}

fn a_client_registers_is_authorized_and_uses_the_backpack(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let client = register(&server);

    // The page names the client and each scope in words, and cannot be
    // framed.
    let (verifier, challenge) = pkce();
    let scope = all_scopes();
    let page = authorize_page(&server, &request_pairs(&client, &scope, &challenge));
    page.assert_status(200);
    assert_eq!(page.media_type(), Some("text/html"));
    for needle in [
        "Test Wallet",
        "Read the badges",
        "Change your profile",
        "decision",
        "allow",
        "deny",
    ] {
        assert!(page.text.contains(needle), "{needle} on the page");
    }
    let policy = page.expect_header("content-security-policy");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let request = pending_request(&page);

    // A wrong password shows the page again, with no redirect.
    let wrong = consent(&server, &request, &ada, "not-the-password", "allow");
    wrong.assert_status(401);
    assert!(wrong.header("location").is_none());
    assert!(wrong.text.contains("Wrong username or password"));

    let allowed = consent(&server, &request, &ada, PASSWORD, "allow");
    allowed.assert_status(303);
    let query = redirect_query(&allowed, &client.redirect_uri);
    assert_eq!(param(&query, "state"), Some("state-123"));
    assert_eq!(param(&query, "scope"), Some(scope.as_str()));
    let code = param(&query, "code").expect("a code").to_owned();

    // Redeemed with the verifier: an access and a refresh token.
    let redeemed = redeem(&server, &client, &code, &verifier);
    let tokens = tokens_of(&redeemed);
    assert_eq!(redeemed.body["expires_in"], 3600);
    assert_eq!(redeemed.body["scope"], scope);
    let refresh = tokens
        .refresh
        .clone()
        .expect("offline_access gives a refresh token");

    // upsertCredential: three credentials issued here as JSON (201, then a
    // replace of the first: 200) and one as a VC-JWT.
    let (_, badge) = server.issuer_with_badge(&admin(), "Provider Issuer", "Provider Badge");
    let mut issued = Vec::new();
    for n in 0..3 {
        let (id, text) = issued_credential(&server, &badge, &format!("holder{n}@example.org"));
        let created = upsert_json(&server, &tokens, &text);
        created.assert_status(201);
        assert_eq!(
            created.body,
            serde_json::from_str::<Value>(&text).expect("JSON")
        );
        issued.push((id, text));
    }
    let replaced = upsert_json(&server, &tokens, &issued[0].1);
    replaced.assert_status(200);
    assert_eq!(replaced.text, issued[0].1);
    let (jwt_source, _) = issued_credential(&server, &badge, "jwt-holder@example.org");
    let jwt = server.fetch(&format!("/credentials/{jwt_source}?format=jwt"));
    jwt.assert_status(200);
    let created = upsert_jws(&server, &tokens, jwt.text.trim());
    created.assert_status(201);
    assert_eq!(created.text, jwt.text.trim());
    upsert_jws(&server, &tokens, jwt.text.trim()).assert_status(200);

    // getCredentials pages: 4 in all (the replace kept one row).
    let first = get_credentials(&server, &tokens, "?limit=3");
    first.assert_status(200);
    assert_eq!(first.header("x-total-count"), Some("4"));
    local::assert_valid(local::Schema::CredentialsResponse, &first.body);
    let page_links = links(&first);
    let base = format!("{}/ims/ob/v3p0/credentials", server.base_url());
    assert_eq!(
        link(&page_links, "next"),
        Some(format!("{base}?limit=3&offset=3").as_str())
    );
    assert_eq!(
        link(&page_links, "last"),
        Some(format!("{base}?limit=3&offset=3").as_str())
    );
    assert_eq!(
        link(&page_links, "first"),
        Some(format!("{base}?limit=3&offset=0").as_str())
    );
    assert_eq!(link(&page_links, "prev"), None, "no prev at offset 0");
    let json_credentials = first.body["credential"]
        .as_array()
        .expect("credential array");
    assert_eq!(json_credentials.len(), 3);
    for credential in json_credentials {
        schemas::assert_valid(schemas::Schema::AchievementCredential, credential);
    }
    let second = get_credentials(&server, &tokens, "?limit=3&offset=3");
    second.assert_status(200);
    local::assert_valid(local::Schema::CredentialsResponse, &second.body);
    assert_eq!(second.body["credential"], json!([]));
    assert_eq!(second.body["compactJwsString"], json!([jwt.text.trim()]));
    let second_links = links(&second);
    assert_eq!(link(&second_links, "next"), None, "the last page");
    assert_eq!(
        link(&second_links, "prev"),
        Some(format!("{base}?limit=3&offset=0").as_str())
    );
    // Issued in 2024 (award_body's issuedOn): nothing is valid after 2030.
    let later = get_credentials(&server, &tokens, "?since=2030-01-01T00:00:00Z");
    later.assert_status(200);
    assert_eq!(later.header("x-total-count"), Some("0"));
    let earlier = get_credentials(&server, &tokens, "?since=2000-01-01T00:00:00Z");
    assert_eq!(earlier.header("x-total-count"), Some("4"));
    let bad_since = get_credentials(&server, &tokens, "?since=yesterday");
    assert_imsx(&bad_since, 400, "invalid_query_parameter");
    assert!(bad_since.body["imsx_description"]
        .as_str()
        .unwrap_or_default()
        .contains("since"));
    assert_imsx(
        &get_credentials(&server, &tokens, "?limit=0"),
        400,
        "invalid_query_parameter",
    );
    assert_imsx(
        &get_credentials(&server, &tokens, "?limit=101"),
        400,
        "invalid_query_parameter",
    );

    // getProfile: made from the account until one is stored; putProfile.
    let profile = server.get_as(&tokens.bearer(), "/ims/ob/v3p0/profile");
    profile.assert_status(200);
    assert_eq!(profile.body["name"], "ada");
    schemas::assert_valid(schemas::Schema::Profile, &profile.body);
    let mine = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "https://example.edu/learners/ada",
        "type": ["Profile"],
        "name": "Ada Lovelace",
        "phone": "111-222-3333",
    });
    let put = server.put_as(&tokens.bearer(), "/ims/ob/v3p0/profile", &mine);
    put.assert_status(200);
    assert_eq!(put.body, mine);
    let read = server.get_as(&tokens.bearer(), "/ims/ob/v3p0/profile");
    assert_eq!(read.body, mine);
    schemas::assert_valid(schemas::Schema::Profile, &read.body);
    let not_a_profile = server.put_as(
        &tokens.bearer(),
        "/ims/ob/v3p0/profile",
        &json!({"type": "Issuer"}),
    );
    assert_imsx(&not_a_profile, 400, "invalid_data");

    // Unknown paths and methods under the prefix are Imsx too.
    assert_imsx(
        &server.get_as(&tokens.bearer(), "/ims/ob/v3p0/nothing"),
        404,
        "not_found",
    );
    assert_imsx(
        &server.delete_as(&tokens.bearer(), "/ims/ob/v3p0/credentials"),
        405,
        "not_allowed",
    );
    let no_type = server.send(
        "POST",
        "/ims/ob/v3p0/credentials",
        &[
            ("Authorization", &format!("Bearer {}", tokens.access)),
            ("Content-Type", "image/png"),
        ],
        Some("x"),
    );
    assert_imsx(&no_type, 415, "invalid_data");

    // Refresh: a new pair; the old refresh token is spent.
    let refreshed = tokens_of(&token_request(
        &server,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    ));
    assert_ne!(refreshed.access, tokens.access);
    get_credentials(&server, &refreshed, "").assert_status(200);
    let new_refresh = refreshed.refresh.clone().expect("a new refresh token");
    assert_ne!(new_refresh, refresh);

    // Revoking the refresh token ends the whole authorization.
    let basic = client.basic();
    let revoked = server.send(
        "POST",
        "/oauth/revoke",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &basic),
        ],
        Some(&form(&[
            ("token", &new_refresh),
            ("token_type_hint", "refresh_token"),
        ])),
    );
    revoked.assert_status(200);
    for dead in [&tokens, &refreshed] {
        assert_imsx(
            &get_credentials(&server, dead, ""),
            401,
            "unauthorizedrequest",
        );
        assert_imsx(
            &upsert_json(&server, dead, &issued[1].1),
            401,
            "unauthorizedrequest",
        );
        assert_imsx(
            &server.get_as(&dead.bearer(), "/ims/ob/v3p0/profile"),
            401,
            "unauthorizedrequest",
        );
        assert_imsx(
            &server.put_as(&dead.bearer(), "/ims/ob/v3p0/profile", &mine),
            401,
            "unauthorizedrequest",
        );
    }
    assert_oauth_error(
        &token_request(
            &server,
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &new_refresh),
            ],
        ),
        400,
        "invalid_grant",
    );
    // RFC 7009: an unknown token is answered 200 too.
    server
        .send(
            "POST",
            "/oauth/revoke",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &basic),
            ],
            Some(&form(&[("token", "never-issued")])),
        )
        .assert_status(200);
    // Without the client's credentials: invalid_client, 401 with a Basic challenge.
    let anonymous = server.send(
        "POST",
        "/oauth/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
        ])),
    );
    assert_oauth_error(&anonymous, 401, "invalid_client");
    assert!(anonymous
        .expect_header("www-authenticate")
        .starts_with("Basic"));
    // No secret is ever logged.
    let output = server.output();
    for secret in [
        &client.secret,
        &code,
        &tokens.access,
        &refresh,
        &new_refresh,
    ] {
        assert!(!output.contains(secret.as_str()), "a secret in the log");
    }
}

fn discovery_and_metadata_describe_the_provider(storage: &Storage) {
    let server = start_with(storage, &[("SERVICE_NAME", "Ada's Backpack")]);
    let base = server.base_url();
    let sdd = server.fetch("/ims/ob/v3p0/discovery");
    sdd.assert_status(200);
    let doc = &sdd.body;
    assert_eq!(doc["openapi"], "3.0.1");
    assert_eq!(doc["info"]["title"], "Ada's Backpack");
    assert_eq!(doc["info"]["termsOfService"], format!("{base}/terms"));
    assert_eq!(
        doc["info"]["x-imssf-privacyPolicyUrl"],
        format!("{base}/privacy")
    );
    let scheme = &doc["components"]["securitySchemes"]["OAuth2ACG"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(
        scheme["x-imssf-registrationUrl"],
        format!("{base}/oauth/register")
    );
    let flow = &scheme["flows"]["authorizationCode"];
    assert_eq!(flow["authorizationUrl"], format!("{base}/oauth/authorize"));
    assert_eq!(flow["tokenUrl"], format!("{base}/oauth/token"));
    assert_eq!(flow["refreshUrl"], format!("{base}/oauth/token"));
    for scope in [READ, UPSERT, PROFILE_READ, PROFILE_UPDATE] {
        assert!(flow["scopes"][scope].is_string(), "{scope}");
    }
    for (path, method, operation) in [
        ("/credentials", "get", "getCredentials"),
        ("/credentials", "post", "upsertCredential"),
        ("/profile", "get", "getProfile"),
        ("/profile", "put", "putProfile"),
    ] {
        assert_eq!(doc["paths"][path][method]["operationId"], operation);
    }
    // The schemas the operations name are in the document.
    for name in [
        "GetOpenBadgeCredentialsResponse",
        "Imsx_StatusInfo",
        "Profile",
        "AchievementCredential",
    ] {
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
    for page in ["/terms", "/privacy"] {
        let answer = server.fetch(page);
        answer.assert_status(200);
        assert_eq!(answer.media_type(), Some("text/html"));
    }

    let metadata = server.fetch("/.well-known/oauth-authorization-server");
    metadata.assert_status(200);
    let meta = &metadata.body;
    assert_eq!(meta["issuer"], base);
    assert_eq!(
        meta["registration_endpoint"],
        format!("{base}/oauth/register")
    );
    assert_eq!(
        meta["authorization_endpoint"],
        format!("{base}/oauth/authorize")
    );
    assert_eq!(meta["token_endpoint"], format!("{base}/oauth/token"));
    assert_eq!(meta["revocation_endpoint"], format!("{base}/oauth/revoke"));
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["response_types_supported"], json!(["code"]));
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic"])
    );
    assert_eq!(
        meta["revocation_endpoint_auth_methods_supported"],
        json!(["client_secret_basic"])
    );
    assert!(meta["scopes_supported"]
        .as_array()
        .is_some_and(|s| s.contains(&json!(READ))));

    // An unprotected discovery, but a protected API: 401 Imsx.
    let anonymous = server.fetch("/ims/ob/v3p0/credentials");
    assert_imsx(&anonymous, 401, "unauthorizedrequest");
    assert!(anonymous
        .expect_header("www-authenticate")
        .starts_with("Bearer"));
}

fn registration_is_validated(storage: &Storage) {
    let server = start(storage);
    let good = registration("http://127.0.0.1:9/callback");
    let registered = server.post("/oauth/register", &good);
    registered.assert_status(201);
    let body = &registered.body;
    assert_eq!(body["client_secret_expires_at"], 0);
    assert!(body["client_id_issued_at"].as_i64().is_some_and(|t| t > 0));
    for field in [
        "client_name",
        "client_uri",
        "logo_uri",
        "tos_uri",
        "policy_uri",
        "software_id",
        "software_version",
        "redirect_uris",
        "scope",
        "grant_types",
        "response_types",
        "token_endpoint_auth_method",
        "contacts",
    ] {
        assert_eq!(
            body[field], good[field],
            "{field} is answered as registered"
        );
    }
    let mut refused = Vec::new();
    for (change, error) in [
        (
            json!({"logo_uri": "http://wallet.example/logo.png"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": "http://127.0.0.1:9/callback"}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://elsewhere.example/callback"]}),
            "invalid_redirect_uri",
        ),
        (json!({"tos_uri": null}), "invalid_client_metadata"),
        (
            json!({"token_endpoint_auth_method": "client_secret_post"}),
            "invalid_client_metadata",
        ),
        (
            json!({"grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"response_types": ["token"]}),
            "invalid_client_metadata",
        ),
        (json!({"scope": "openid"}), "invalid_client_metadata"),
    ] {
        let mut body = good.clone();
        for (key, value) in change.as_object().expect("an object") {
            body[key] = value.clone();
        }
        let answer = server.post("/oauth/register", &body);
        if answer.status != 400 || answer.body["error"] != error {
            refused.push(format!("{change}: {} {}", answer.status, answer.text));
        }
    }
    assert!(refused.is_empty(), "{refused:#?}");
}

fn authorization_errors_fail_closed(storage: &Storage) {
    let server = start(storage);
    let client = register(&server);
    let (_, challenge) = pkce();
    let scope = all_scopes();
    let good = request_pairs(&client, &scope, &challenge);
    let with = |name: &str, value: Option<&str>| -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = good
            .iter()
            .filter(|(key, _)| *key != name)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(value) = value {
            pairs.push((name.to_owned(), value.to_owned()));
        }
        pairs
    };
    let fetch = |pairs: Vec<(String, String)>| {
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        authorize_page(&server, &borrowed)
    };
    // Unknown client or redirect URI: an error page, never a redirect.
    for pairs in [
        with("client_id", Some("0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11")),
        with("client_id", None),
        with("redirect_uri", Some("http://127.0.0.1:9/elsewhere")),
        with("redirect_uri", None),
    ] {
        let answer = fetch(pairs);
        answer.assert_status(400);
        assert!(answer.header("location").is_none(), "{}", answer.request);
        assert_eq!(answer.media_type(), Some("text/html"));
    }
    // Anything else: back to the client with error= and its state.
    for (pairs, error) in [
        (
            with("code_challenge_method", Some("plain")),
            "invalid_request",
        ),
        (with("code_challenge_method", None), "invalid_request"),
        (with("code_challenge", None), "invalid_request"),
        (
            with("response_type", Some("token")),
            "unsupported_response_type",
        ),
        (with("scope", Some("openid")), "invalid_scope"),
        (with("scope", None), "invalid_scope"),
    ] {
        let answer = fetch(pairs);
        answer.assert_status(302);
        let query = redirect_query(&answer, &client.redirect_uri);
        assert_eq!(param(&query, "error"), Some(error), "{}", answer.request);
        assert_eq!(param(&query, "state"), Some("state-123"));
    }
    // Denying sends access_denied back.
    let page = fetch(with("state", Some("state-123")));
    let denied = consent(&server, &pending_request(&page), "", "", "deny");
    denied.assert_status(303);
    let query = redirect_query(&denied, &client.redirect_uri);
    assert_eq!(param(&query, "error"), Some("access_denied"));
    assert_eq!(param(&query, "state"), Some("state-123"));
    // A request field that was altered is refused.
    let tampered = consent(
        &server,
        &format!("{}x", pending_request(&page)),
        "a",
        "b",
        "allow",
    );
    tampered.assert_status(400);
    assert!(tampered.header("location").is_none());
}

fn a_wrong_or_missing_pkce_verifier_is_refused(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let scope = all_scopes();
    let (_, challenge) = pkce();
    let code = authorization_code(&server, &client, &ada, &scope, &challenge);
    let (other_verifier, _) = pkce();
    assert_oauth_error(
        &redeem(&server, &client, &code, &other_verifier),
        400,
        "invalid_grant",
    );
    let (verifier, challenge) = pkce();
    let code = authorization_code(&server, &client, &ada, &scope, &challenge);
    let missing = token_request(
        &server,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
        ],
    );
    assert_oauth_error(&missing, 400, "invalid_request");
    // The right one still works for a code not spent by a failed attempt.
    tokens_of(&redeem(&server, &client, &code, &verifier));
}

fn another_redirect_uri_is_refused(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let (verifier, challenge) = pkce();
    let code = authorization_code(&server, &client, &ada, &all_scopes(), &challenge);
    // Registered too, but not the one the code was issued for.
    let other = token_request(
        &server,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &verifier),
        ],
    );
    assert_oauth_error(&other, 400, "invalid_grant");
}

fn a_code_used_twice_is_refused_and_its_tokens_revoked(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let (verifier, challenge) = pkce();
    let code = authorization_code(&server, &client, &ada, &all_scopes(), &challenge);
    let tokens = tokens_of(&redeem(&server, &client, &code, &verifier));
    get_credentials(&server, &tokens, "").assert_status(200);
    assert_oauth_error(
        &redeem(&server, &client, &code, &verifier),
        400,
        "invalid_grant",
    );
    assert_imsx(
        &get_credentials(&server, &tokens, ""),
        401,
        "unauthorizedrequest",
    );
    let refresh = tokens.refresh.expect("a refresh token");
    assert_oauth_error(
        &token_request(
            &server,
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        ),
        400,
        "invalid_grant",
    );
}

fn an_expired_code_is_refused(storage: &Storage) {
    // Every code is expired as soon as it is issued.
    let server = start_with(storage, &[("OAUTH_CODE_LIFETIME_SECONDS", "0")]);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let (verifier, challenge) = pkce();
    let code = authorization_code(&server, &client, &ada, &all_scopes(), &challenge);
    let answer = redeem(&server, &client, &code, &verifier);
    assert_oauth_error(&answer, 400, "invalid_grant");
    assert!(answer.body["error_description"]
        .as_str()
        .unwrap_or_default()
        .contains("expired"));
}

fn a_scope_not_granted_is_forbidden(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let tokens = connect(&server, &client, &ada, READ);
    assert!(
        tokens.refresh.is_none(),
        "no offline_access, no refresh token"
    );
    get_credentials(&server, &tokens, "").assert_status(200);
    let (_, badge) = server.issuer_with_badge(&admin(), "Scope Issuer", "Scope Badge");
    let (_, text) = issued_credential(&server, &badge, "scope@example.org");
    assert_imsx(&upsert_json(&server, &tokens, &text), 403, "forbidden");
    assert_imsx(
        &server.get_as(&tokens.bearer(), "/ims/ob/v3p0/profile"),
        403,
        "forbidden",
    );
    // A token request cannot widen the scope either.
    let (verifier, challenge) = pkce();
    let code = authorization_code(&server, &client, &ada, READ, &challenge);
    let wider = token_request(
        &server,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &verifier),
            ("scope", &format!("{READ} {UPSERT}")),
        ],
    );
    assert_oauth_error(&wider, 400, "invalid_scope");
}

fn a_revoked_token_fails(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let tokens = connect(&server, &client, &ada, &all_scopes());
    get_credentials(&server, &tokens, "").assert_status(200);
    let basic = client.basic();
    server
        .send(
            "POST",
            "/oauth/revoke",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &basic),
            ],
            Some(&form(&[
                ("token", &tokens.access),
                ("token_type_hint", "access_token"),
            ])),
        )
        .assert_status(200);
    assert_imsx(
        &get_credentials(&server, &tokens, ""),
        401,
        "unauthorizedrequest",
    );
    // The refresh token of the grant still works: only the access token was revoked.
    let refresh = tokens.refresh.expect("a refresh token");
    let fresh = tokens_of(&token_request(
        &server,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    ));
    get_credentials(&server, &fresh, "").assert_status(200);
}

fn an_expired_token_fails(storage: &Storage) {
    // Every access token is expired as soon as it is issued.
    let server = start_with(storage, &[("OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS", "0")]);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let tokens = connect(&server, &client, &ada, &all_scopes());
    assert_imsx(
        &get_credentials(&server, &tokens, ""),
        401,
        "unauthorizedrequest",
    );
}

fn a_reused_refresh_token_revokes_the_authorization(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let tokens = connect(&server, &client, &ada, &all_scopes());
    let refresh = tokens.refresh.clone().expect("a refresh token");
    let rotated = tokens_of(&token_request(
        &server,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    ));
    get_credentials(&server, &rotated, "").assert_status(200);
    assert_oauth_error(
        &token_request(
            &server,
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        ),
        400,
        "invalid_grant",
    );
    assert_imsx(
        &get_credentials(&server, &rotated, ""),
        401,
        "unauthorizedrequest",
    );
    let newest = rotated.refresh.expect("a new refresh token");
    assert_oauth_error(
        &token_request(
            &server,
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &newest)],
        ),
        400,
        "invalid_grant",
    );
}

fn one_learners_token_never_reaches_another_backpack(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let bob = learner(&server, "bob");
    let client = register(&server);
    let ada_tokens = connect(&server, &client, &ada, &all_scopes());
    let bob_tokens = connect(&server, &client, &bob, &all_scopes());
    let (_, badge) = server.issuer_with_badge(&admin(), "Isolation Issuer", "Isolation Badge");
    let (_, ada_text) = issued_credential(&server, &badge, "ada-badge@example.org");
    upsert_json(&server, &ada_tokens, &ada_text).assert_status(201);
    // Bob's token sees none of Ada's, and his upsert of the same credential
    // goes to his own backpack (created, not replaced).
    let bobs = get_credentials(&server, &bob_tokens, "");
    assert_eq!(bobs.header("x-total-count"), Some("0"));
    upsert_json(&server, &bob_tokens, &ada_text).assert_status(201);
    assert_eq!(
        get_credentials(&server, &bob_tokens, "").header("x-total-count"),
        Some("1")
    );
    assert_eq!(
        get_credentials(&server, &ada_tokens, "").header("x-total-count"),
        Some("1")
    );
    // Profiles are each their own.
    let bob_profile = json!({"type": ["Profile"], "id": "https://example.edu/bob", "name": "Bob"});
    server
        .put_as(&bob_tokens.bearer(), "/ims/ob/v3p0/profile", &bob_profile)
        .assert_status(200);
    let ada_profile = server.get_as(&ada_tokens.bearer(), "/ims/ob/v3p0/profile");
    assert_eq!(ada_profile.body["name"], "ada");
}

fn an_upsert_whose_proof_fails_is_refused(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let tokens = connect(&server, &client, &ada, &all_scopes());
    let (_, badge) = server.issuer_with_badge(&admin(), "Proof Issuer", "Proof Badge");
    let (id, text) = issued_credential(&server, &badge, "proof@example.org");
    let mut tampered: Value = serde_json::from_str(&text).expect("JSON");
    tampered["credentialSubject"]["achievement"]["name"] = json!("A badge never awarded");
    let refused = upsert_json(&server, &tokens, &tampered.to_string());
    assert_imsx(&refused, 400, "invalid_data");
    assert!(refused.body["imsx_description"]
        .as_str()
        .unwrap_or_default()
        .contains("does not verify"));
    let mut unsigned: Value = serde_json::from_str(&text).expect("JSON");
    unsigned.as_object_mut().expect("an object").remove("proof");
    assert_imsx(
        &upsert_json(&server, &tokens, &unsigned.to_string()),
        400,
        "invalid_data",
    );
    // A VC-JWT with a broken signature.
    let jwt = server.fetch(&format!("/credentials/{id}?format=jwt")).text;
    let mut parts: Vec<String> = jwt.trim().split('.').map(str::to_owned).collect();
    parts[2] = URL_SAFE_NO_PAD.encode([7u8; 64]);
    assert_imsx(
        &upsert_jws(&server, &tokens, &parts.join(".")),
        400,
        "invalid_data",
    );
    assert_imsx(
        &upsert_json(&server, &tokens, "not json"),
        400,
        "invalid_data",
    );
    // Nothing was stored.
    assert_eq!(
        get_credentials(&server, &tokens, "").header("x-total-count"),
        Some("0")
    );
}

fn only_learners_may_authorize_and_logins_are_throttled(storage: &Storage) {
    let server = start_with(storage, &[("LOGIN_THROTTLE_FAILURES", "2")]);
    server.create_user(&admin(), "staff", PASSWORD, "issuer");
    let ada = learner(&server, "ada");
    let client = register(&server);
    let (_, challenge) = pkce();
    let scope = all_scopes();
    let page = authorize_page(&server, &request_pairs(&client, &scope, &challenge));
    let request = pending_request(&page);
    let staff = consent(&server, &request, "staff", PASSWORD, "allow");
    staff.assert_status(403);
    assert!(staff.header("location").is_none());
    assert!(staff.text.contains("only learner accounts"));
    // Two failures for ada, then every attempt waits, the right password too.
    consent(&server, &request, &ada, "wrong-1", "allow").assert_status(401);
    consent(&server, &request, &ada, "wrong-2", "allow").assert_status(401);
    let throttled = consent(&server, &request, &ada, PASSWORD, "allow");
    throttled.assert_status(429);
    assert!(throttled.header("location").is_none());
}

fn learners_list_and_revoke_their_authorizations(storage: &Storage) {
    let server = start(storage);
    let ada = learner(&server, "ada");
    let client = register(&server);
    let tokens = connect(&server, &client, &ada, &all_scopes());
    get_credentials(&server, &tokens, "").assert_status(200);
    let login = server.login(&ada, PASSWORD);
    let listed = server.get_as(&login, "/learner/authorizations");
    listed.assert_status(200);
    let grants = listed.body["authorizations"].as_array().expect("a list");
    assert_eq!(grants.len(), 1, "{}", listed.text);
    assert_eq!(grants[0]["client"]["name"], "Test Wallet");
    assert_eq!(grants[0]["client"]["clientId"], client.id);
    assert_eq!(grants[0]["scope"], all_scopes());
    let id = grants[0]["id"].as_str().expect("an id").to_owned();
    // Nobody else can revoke it.
    let bob = learner(&server, "bob");
    let bob_login = server.login(&bob, PASSWORD);
    server
        .delete_as(&bob_login, &format!("/learner/authorizations/{id}"))
        .assert_status(404);
    get_credentials(&server, &tokens, "").assert_status(200);
    server
        .delete_as(&login, &format!("/learner/authorizations/{id}"))
        .assert_status(204);
    assert_imsx(
        &get_credentials(&server, &tokens, ""),
        401,
        "unauthorizedrequest",
    );
    let after = server.get_as(&login, "/learner/authorizations");
    assert_eq!(after.body["authorizations"], json!([]));
    server
        .get_as(&Caller::Anonymous, "/learner/authorizations")
        .assert_status(401);
}

/// The schemas of the Service API's own answers, from the same folder as
/// `schemas`.
mod local {
    use std::sync::OnceLock;

    use serde_json::Value;

    #[derive(Clone, Copy, Debug)]
    pub enum Schema {
        StatusInfo,
        CredentialsResponse,
    }

    struct Validators {
        status_info: jsonschema::Validator,
        credentials: jsonschema::Validator,
    }

    fn compile(file: &str) -> jsonschema::Validator {
        let path = super::schemas::schema_dir().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let schema: Value = serde_json::from_str(&text).expect("a JSON schema");
        jsonschema::draft201909::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{} does not compile: {e}", path.display()))
    }

    fn validators() -> Option<&'static Validators> {
        static VALIDATORS: OnceLock<Option<Validators>> = OnceLock::new();
        VALIDATORS
            .get_or_init(|| {
                // Says why and returns None when ../shared is absent (and
                // fails under CI, which always has it).
                super::schemas::schemas()?;
                Some(Validators {
                    status_info: compile("ob_v3p0_imsx_statusinfo_schema.json"),
                    credentials: compile("ob_v3p0_getopenbadgecredentialsresponse_schema.json"),
                })
            })
            .as_ref()
    }

    #[track_caller]
    pub fn assert_valid(schema: Schema, doc: &Value) {
        let Some(validators) = validators() else {
            return;
        };
        let validator = match schema {
            Schema::StatusInfo => &validators.status_info,
            Schema::CredentialsResponse => &validators.credentials,
        };
        let violations: Vec<String> = validator
            .iter_errors(doc)
            .map(|e| format!("at {:?}: {e}", e.instance_path().to_string()))
            .collect();
        assert!(
            violations.is_empty(),
            "not a valid {schema:?}:\n  {}\n{doc:#}",
            violations.join("\n  ")
        );
    }
}
