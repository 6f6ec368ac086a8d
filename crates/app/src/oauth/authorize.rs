//! The authorization endpoint: `GET /oauth/authorize` checks the request
//! and shows the login and consent page; `POST /oauth/authorize` (the
//! page's form) logs the learner in, and answers the client by redirecting
//! the browser to its `redirect_uri` with a code, or with an error.
//!
//! Fail-closed rules (RFC 6749 section 4.1.2.1, the Open Badges security
//! section):
//!
//! - an unknown `client_id`, or a `redirect_uri` that is not exactly one
//!   the client registered, is shown as an error page and never redirected
//!   to: an attacker must not be able to bounce the browser anywhere;
//! - every other problem is redirected to the client with `error=` and its
//!   `state`: a missing or unknown scope, a `response_type` other than
//!   `code`, and a missing PKCE challenge or a method other than `S256`
//!   (`plain` is refused);
//! - only learner accounts can authorize ([`may_authorize`]): the Service
//!   API serves a backpack, which only learners have. Administrators and
//!   issuers are refused with an explanation, so that a staff account is
//!   never handed to a third-party application by mistake;
//! - wrong passwords go through the login throttle
//!   (`auth::throttle`), counted exactly as `POST /auth/login` counts them.
//!
//! The page is served with its own security policy: nothing loads but its
//! style sheet and the client's logo, the form may post only here and
//! redirect only to the client, and no one may frame it (clickjacking).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use openbadges_domain::oauth::{AuthorizationCode, OAuthClient, ScopeSet, SecretHash};
use openbadges_domain::{DomainError, GrantId, OAuthClientId, Role, Timestamp, User};

use super::pending::PendingRequest;
use super::{after, form_body, new_secret, Form};
use crate::auth::password;
use crate::error::ApiError;
use crate::state::AppState;

/// Whether an account of `role` may authorize a client to its backpack:
/// learners only. Staff accounts (administrators, issuers, viewers) manage
/// or read the server, hold no backpack, and must not hand their session
/// to a third-party application.
pub fn may_authorize(role: Role) -> bool {
    role == Role::Learner
}

/// Where the page's style sheet is.
const STYLE: &str = "/pages/style.css";

/// A client as the consent page names it.
struct ClientView {
    name: String,
    client_uri: String,
    logo_uri: String,
    tos_uri: String,
    policy_uri: String,
    redirect_host: String,
}

/// A scope asked for, in words.
struct ScopeView {
    uri: &'static str,
    description: &'static str,
}

#[derive(Template)]
#[template(path = "authorize.html")]
struct ConsentPage {
    service: String,
    style: &'static str,
    client: ClientView,
    scopes: Vec<ScopeView>,
    request: String,
    username: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    service: String,
    style: &'static str,
    title: String,
    paragraphs: Vec<String>,
}

fn rendered(template: &impl Template) -> Result<String, ApiError> {
    template
        .render()
        .map_err(|e| ApiError(DomainError::Internal(format!("page template: {e}"))))
}

/// An HTML answer under `policy`; never cached, never framed.
fn html(status: StatusCode, policy: &str, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(policy).unwrap_or_else(|_| HeaderValue::from_static(STRICT)),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// The policy of pages without a form.
const STRICT: &str = "default-src 'none'; style-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// A page that only says something (an error, the terms).
pub fn message_page(
    state: &AppState,
    status: StatusCode,
    title: &str,
    paragraphs: Vec<String>,
) -> Result<HttpResponse, ApiError> {
    let body = rendered(&MessagePage {
        service: state.settings.service.name.clone(),
        style: STYLE,
        title: title.to_owned(),
        paragraphs,
    })?;
    Ok(html(status, STRICT, body))
}

/// The error page of a request that cannot be redirected to its client.
fn error_page(
    state: &AppState,
    status: StatusCode,
    problem: &str,
) -> Result<HttpResponse, ApiError> {
    message_page(
        state,
        status,
        "This authorization request cannot be completed",
        vec![
            problem.to_owned(),
            "Go back to the application you came from and start again. If it keeps happening, \
             tell the application's makers: the request it sent is not valid."
                .to_owned(),
        ],
    )
}

/// The browser sent back to the client with `error` (and its `state`).
fn error_redirect(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> HttpResponse {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect(redirect_uri, &pairs, StatusCode::FOUND)
}

/// A redirect to `uri` with `pairs` added to its query.
fn redirect(uri: &str, pairs: &[(&str, &str)], status: StatusCode) -> HttpResponse {
    let location = match url::Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        // Registered URIs were checked to be URLs.
        Err(_) => uri.to_owned(),
    };
    HttpResponse::build(status)
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// What checking an authorization request found.
enum Checked {
    /// Show the consent page.
    Consent(Box<OAuthClient>, PendingRequest, ScopeSet),
    /// Send the browser back to the client with this answer.
    Redirect(HttpResponse),
    /// Show an error page: the client or its redirect URI is not known.
    Refused(String),
}

/// Whether `value` can be an `S256` challenge: the base64url of 32 bytes.
fn is_s256_challenge(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn check(state: &AppState, query: &Form) -> Result<Checked, ApiError> {
    let Some(client_id) = query.get("client_id") else {
        return Ok(Checked::Refused(
            "The request names no application (client_id is missing).".to_owned(),
        ));
    };
    let client = match client_id.parse::<OAuthClientId>() {
        Ok(id) => state.store.oauth().client(id).await?,
        Err(_) => None,
    };
    let Some(client) = client else {
        return Ok(Checked::Refused(
            "The application that sent you here is not registered with this server (unknown client_id)."
                .to_owned(),
        ));
    };
    let Some(redirect_uri) = query.get("redirect_uri") else {
        return Ok(Checked::Refused(
            "The request says nowhere to return to (redirect_uri is missing).".to_owned(),
        ));
    };
    if !client.redirect_uris.iter().any(|uri| uri == redirect_uri) {
        return Ok(Checked::Refused(format!(
            "The address the request would send you back to is not one that {} registered \
             (redirect_uri mismatch), so you are not sent there.",
            client.name
        )));
    }
    let client_state = query.get("state");
    let refuse = |error: &str, description: &str| {
        Ok(Checked::Redirect(error_redirect(
            redirect_uri,
            error,
            description,
            client_state,
        )))
    };
    match query.get("response_type") {
        Some("code") => {}
        Some(_) => return refuse("unsupported_response_type", "response_type must be code"),
        None => return refuse("invalid_request", "response_type is missing"),
    }
    match query.get("code_challenge_method") {
        Some("S256") => {}
        Some(_) => {
            return refuse(
                "invalid_request",
                "code_challenge_method must be S256 (plain is refused)",
            )
        }
        None => {
            return refuse(
                "invalid_request",
                "PKCE is required: send code_challenge and code_challenge_method=S256",
            )
        }
    }
    let Some(challenge) = query.get("code_challenge") else {
        return refuse(
            "invalid_request",
            "PKCE is required: code_challenge is missing",
        );
    };
    if !is_s256_challenge(challenge) {
        return refuse(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
        );
    }
    let Some(client_state) = client_state else {
        return refuse("invalid_request", "state is required");
    };
    let Some(scope) = query.get("scope") else {
        return refuse("invalid_scope", "scope is required");
    };
    let scopes = match ScopeSet::parse(scope) {
        Ok(scopes) if !scopes.is_empty() => scopes,
        Ok(_) => return refuse("invalid_scope", "scope names no scope"),
        Err(_) => return refuse("invalid_scope", "scope names an unknown scope"),
    };
    if !scopes.is_subset(&client.scopes) {
        return refuse(
            "invalid_scope",
            "scope asks for a scope the client did not register",
        );
    }
    let pending = PendingRequest {
        client_id: client.id.to_string(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scopes.to_string(),
        state: client_state.to_owned(),
        code_challenge: challenge.to_owned(),
    };
    Ok(Checked::Consent(Box::new(client), pending, scopes))
}

/// The origin of a URL, for a security policy; `None` when it has none.
fn origin(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// The consent page for `pending`, with `error` above the form.
fn consent(
    state: &AppState,
    client: &OAuthClient,
    pending: &PendingRequest,
    scopes: &ScopeSet,
    status: StatusCode,
    username: &str,
    error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let request = state
        .auth
        .pending
        .seal(pending)
        .map_err(|e| ApiError(DomainError::Internal(format!("sealing the request: {e}"))))?;
    let redirect_origin = origin(&pending.redirect_uri).unwrap_or_default();
    let body = rendered(&ConsentPage {
        service: state.settings.service.name.clone(),
        style: STYLE,
        client: ClientView {
            name: client.name.clone(),
            client_uri: client.client_uri.clone(),
            logo_uri: client.logo_uri.clone(),
            tos_uri: client.tos_uri.clone(),
            policy_uri: client.policy_uri.clone(),
            redirect_host: url::Url::parse(&pending.redirect_uri)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
        },
        scopes: scopes
            .iter()
            .map(|scope| ScopeView {
                uri: scope.as_str(),
                description: scope.description(),
            })
            .collect(),
        request,
        username: username.to_owned(),
        error,
    })?;
    // The form posts here and is then redirected to the client, which
    // browsers check against form-action too; the logo comes from the
    // client's site.
    let policy = format!(
        "default-src 'none'; img-src 'self' data: {}; style-src 'self'; base-uri 'none'; \
         form-action 'self' {redirect_origin}; frame-ancestors 'none'",
        origin(&client.logo_uri).unwrap_or_default()
    );
    Ok(html(status, &policy, body))
}

/// `GET /oauth/authorize`: checks the request and shows the page.
#[utoipa::path(
    get,
    path = "/oauth/authorize",
    tag = "oauth",
    operation_id = "authorize",
    summary = "OAuth 2.0 authorization endpoint: the login and consent page",
    description = "For browsers. Query: response_type=code, client_id, redirect_uri (exactly one the client \
        registered), scope, state, code_challenge and code_challenge_method=S256 (PKCE is required; plain is \
        refused). An unknown client or redirect URI shows an error page and never redirects; other problems \
        redirect to the client with `error` and `state`. Only learner accounts can authorize.",
    responses(
        (status = 200, description = "The login and consent page (HTML).", content_type = "text/html"),
        (status = 302, description = "Back to the client with `error` and `state`."),
        (status = 400, description = "An error page: unknown client or redirect URI.", content_type = "text/html"),
    )
)]
pub async fn page(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = match Form::parse(request.query_string().as_bytes()) {
        Ok(query) => query,
        Err(problem) => return error_page(&state, StatusCode::BAD_REQUEST, &problem),
    };
    match check(&state, &query).await? {
        Checked::Refused(problem) => error_page(&state, StatusCode::BAD_REQUEST, &problem),
        Checked::Redirect(response) => Ok(response),
        Checked::Consent(client, pending, scopes) => {
            consent(&state, &client, &pending, &scopes, StatusCode::OK, "", None)
        }
    }
}

/// The account a login names (username, or e-mail when it has an `@`).
async fn account(state: &AppState, login: &str) -> Result<Option<User>, ApiError> {
    // No stored name holds a control character, and PostgreSQL refuses
    // NUL in text: such a name is unknown.
    if login.chars().any(char::is_control) {
        return Ok(None);
    }
    let users = state.store.users();
    Ok(match users.find_by_username(login).await? {
        Some(user) => Some(user),
        None if login.contains('@') => users.find_by_email(login).await?,
        None => None,
    })
}

/// `POST /oauth/authorize`: the consent form. `decision=deny` sends the
/// browser back with `access_denied`; `decision=allow` logs in, issues a
/// code and sends the browser back with it.
#[utoipa::path(
    post,
    path = "/oauth/authorize",
    tag = "oauth",
    operation_id = "authorizeDecision",
    summary = "The consent form: log in and allow, or deny",
    description = "application/x-www-form-urlencoded: `request` (the opaque field of the page), `username` \
        (or e-mail), `password`, and `decision` = allow | deny. Allow with the right password of a learner \
        answers 303 to the redirect URI with `code`, `scope` and `state`; deny answers 303 with \
        `error=access_denied`. A wrong password shows the page again (401); failed logins are throttled as \
        `POST /auth/login` throttles them (429).",
    responses(
        (status = 303, description = "Back to the client with a code, or with access_denied."),
        (status = 400, description = "The form is incomplete or its request expired (HTML).", content_type = "text/html"),
        (status = 401, description = "Wrong username or password: the page again (HTML).", content_type = "text/html"),
        (status = 403, description = "The account is not a learner's: the page again (HTML).", content_type = "text/html"),
        (status = 429, description = "Too many failed logins for this name: the page again (HTML).", content_type = "text/html"),
    )
)]
pub async fn decide(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let form = match form_body(&request, &body) {
        Ok(form) => form,
        Err(problem) => return error_page(&state, StatusCode::BAD_REQUEST, &problem),
    };
    let Some(pending) = form.get("request").and_then(|r| state.auth.pending.open(r)) else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            "This page has expired or was altered.",
        );
    };
    let client = match pending.client_id.parse::<OAuthClientId>() {
        Ok(id) => state.store.oauth().client(id).await?,
        Err(_) => None,
    };
    let Some(client) = client else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            "The application is no longer registered with this server.",
        );
    };
    // Sealed by us after checking: it parses.
    let scopes = ScopeSet::parse(&pending.scope).unwrap_or_default();
    let login = form.get("username").unwrap_or_default().trim().to_owned();
    let again = |status: StatusCode, error: &str| {
        consent(
            &state,
            &client,
            &pending,
            &scopes,
            status,
            &login,
            Some(error.to_owned()),
        )
    };
    match form.get("decision") {
        Some("deny") => {
            return Ok(redirect(
                &pending.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the user denied the request"),
                    ("state", &pending.state),
                ],
                StatusCode::SEE_OTHER,
            ))
        }
        Some("allow") => {}
        _ => return again(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    }
    let Some(secret) = form.get("password") else {
        return again(
            StatusCode::BAD_REQUEST,
            "Enter your username (or e-mail) and password.",
        );
    };
    if login.is_empty() {
        return again(
            StatusCode::BAD_REQUEST,
            "Enter your username (or e-mail) and password.",
        );
    }
    let attempt = match state.auth.logins.attempt(&login, None) {
        Ok(attempt) => attempt,
        Err(throttled) => {
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many failed logins for this account. Try again in {} seconds.",
                    throttled.wait.as_secs().max(1)
                ),
            )
        }
    };
    let user = account(&state, &login).await?;
    let hash = user
        .as_ref()
        .map_or_else(password::decoy, |u| u.password_hash.clone());
    let secret = secret.to_owned();
    let matches = password::off_workers(move || password::verify(&secret, &hash))
        .await
        .map_err(|e| ApiError(DomainError::Internal(format!("password task failed: {e}"))))?;
    let (Some(user), true) = (user, matches) else {
        log::info!("failed OAuth login for an unknown user or with a wrong password");
        return again(StatusCode::UNAUTHORIZED, "Wrong username or password.");
    };
    // The password was right: the throttle takes the attempt back (the
    // device token a login answers is of no use to a form).
    drop(state.auth.logins.succeeded(attempt));
    if !may_authorize(user.role) {
        return again(
            StatusCode::FORBIDDEN,
            "This account cannot connect applications: only learner accounts have a backpack. \
             Log in with your learner account.",
        );
    }
    let secret = new_secret()?;
    let now = Timestamp::now();
    let code = AuthorizationCode {
        hash: SecretHash::of(&secret),
        client_id: client.id,
        user_id: user.id,
        redirect_uri: pending.redirect_uri.clone(),
        scopes: scopes.clone(),
        code_challenge: pending.code_challenge.clone(),
        grant_id: GrantId::generate(),
        created_at: now,
        expires_at: after(now, state.settings.service.code_lifetime),
        redeemed_at: None,
    };
    state.store.oauth().create_code(&code).await?;
    log::info!(
        "user {} authorized OAuth client {} for {}",
        user.id,
        client.id,
        scopes
    );
    Ok(redirect(
        &pending.redirect_uri,
        &[
            ("code", &secret),
            ("scope", &scopes.to_string()),
            ("state", &pending.state),
        ],
        StatusCode::SEE_OTHER,
    ))
}
