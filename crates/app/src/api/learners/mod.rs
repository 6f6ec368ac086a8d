//! Learners: `POST /learner/register`, their e-mail addresses under
//! `/learner/emails` (verified by a link e-mailed to them) and their
//! backpack under `/learner/credentials` (docs/learners.md). Bare paths
//! only: they are not Open Badges documents.
//!
//! Every route but registration and verification needs a learner's
//! credentials (their login token); other roles are refused with 403: a
//! learner reaches only their own resources, and nobody else reaches them
//! here.

pub mod schema;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::access::Principal;
use openbadges_domain::accounts::{self, NewUser};
use openbadges_domain::backpack::{HeldCredential, HeldCredentialId, HeldFormat, HeldSource};
use openbadges_domain::learners::{token_hash, Claimed, LearnerEmail, VerificationMail};
use openbadges_domain::*;
use serde_json::{json, Value};

use super::body::JsonBody;
use super::documents::no_store;
use super::listing::{page_response, ListQuery};
use super::params::path_id;
use crate::auth::{password, Auth};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/learner/register", web::post().to(register))
        .route("/learner/emails", web::get().to(list_emails))
        .route("/learner/emails", web::post().to(add_email))
        .route("/learner/emails/verify", web::post().to(verify))
        .route("/learner/emails/verify", web::get().to(verify_page))
        .route("/learner/emails/{id}", web::delete().to(remove_email))
        .route("/learner/credentials", web::get().to(list_credentials))
        .route(
            "/learner/credentials/{id}",
            web::delete().to(remove_credential),
        );
}

/// The learner acting, or 403: another role (or authentication off, which
/// acts as an administrator without an account) has no backpack here.
fn learner(actor: &Principal) -> Result<UserId, ApiError> {
    match (actor.role, actor.user_id) {
        (Role::Learner, Some(user)) => Ok(user),
        _ => Err(DomainError::Forbidden(
            "only a learner's own credentials reach /learner".to_owned(),
        )
        .into()),
    }
}

fn email_json(email: &LearnerEmail) -> Value {
    json!({
        "id": email.id,
        "email": email.email.as_str(),
        "verified": email.verified_at.is_some(),
        "verifiedAt": email.verified_at.map(|t| t.to_rfc3339()),
        "createdAt": email.created_at.to_rfc3339(),
    })
}

/// A backpack entry: its id and provenance, and the credential as held
/// (JSON, or the compact JWS as a string).
fn held_json(held: &HeldCredential) -> Value {
    let (source, extra) = match &held.source {
        HeldSource::Awarded(award) => ("awarded", json!({"assertionId": award})),
        HeldSource::Uploaded { client } => ("uploaded", json!({"clientId": client})),
        HeldSource::Platform(platform) => ("platform", json!({"platformId": platform})),
    };
    let credential = match held.format {
        HeldFormat::Json => serde_json::from_str::<Value>(&held.text)
            .unwrap_or_else(|_| Value::String(held.text.clone())),
        HeldFormat::Jws => Value::String(held.text.clone()),
    };
    let mut entry = json!({
        "id": held.id,
        "source": source,
        "format": held.format.as_str(),
        "issuerId": held.issuer_key,
        "credentialId": held.credential_key,
        "validFrom": held.valid_from.map(|t| t.to_rfc3339()),
        "receivedAt": held.received_at.to_rfc3339(),
        "updatedAt": held.updated_at.to_rfc3339(),
        "credential": credential,
    });
    if let (Some(entry), Some(extra)) = (entry.as_object_mut(), extra.as_object()) {
        entry.extend(extra.clone());
    }
    entry
}

fn object(body: &Value) -> Result<(), ApiError> {
    if body.is_object() {
        Ok(())
    } else {
        Err(DomainError::invalid("body", "must be a JSON object").into())
    }
}

fn required_email(body: &Value, errors: &mut Vec<FieldError>) -> Option<Email> {
    match body.get("email") {
        Some(Value::String(raw)) => Email::parse(raw.clone())
            .map_err(|e| errors.push(FieldError::new("email", e.0)))
            .ok(),
        Some(_) => {
            errors.push(FieldError::new("email", "must be a string"));
            None
        }
        None => {
            errors.push(FieldError::new("email", "is required"));
            None
        }
    }
}

/// Claims `email` for `user` and queues its verification e-mail, in one
/// transaction; wakes the sender.
async fn claim(
    state: &AppState,
    request: &HttpRequest,
    user: UserId,
    email: &Email,
) -> Result<Claimed, ApiError> {
    let now = Timestamp::now();
    let claim = LearnerEmail::claim(user, email, now)?;
    let pending = state.verification.pending(now)?;
    let mail = VerificationMail {
        id: OutboxId::generate(),
        email: claim.id,
        to: claim.email.clone(),
        created_at: now,
    };
    let claimed = state
        .store
        .learner_emails()
        .claim(&claim, &pending, &mail)
        .await?;
    crate::mail::wake(request);
    Ok(claimed)
}

/// No e-mail, no verification: refused rather than queued for nobody.
fn require_mail(state: &AppState) -> Result<(), ApiError> {
    if crate::mail::enabled(state) {
        Ok(())
    } else {
        Err(DomainError::Unavailable(
            "this server sends no e-mail (SMTP_HOST is unset), so addresses cannot be verified"
                .to_owned(),
        )
        .into())
    }
}

/// `POST /learner/register` `{username, email, password}`.
#[utoipa::path(
    post,
    path = "/learner/register",
    tag = "learners",
    operation_id = "registerLearner",
    summary = "Register a learner account",
    description = "Public, when `LEARNER_REGISTRATION=open` (the default, `closed`, answers 404: only \
        administrators create learners, through `POST /users` with role `learner`). The password follows the \
        rules of every account (at least 10 characters) and is stored as an argon2id hash. When the server sends \
        e-mail, the address is claimed for the learner and a verification link is sent to it; log in with \
        `POST /auth/login`.",
    request_body(content = schema::RegisterRequest, description = "The account. Read as JSON whatever the `Content-Type`."),
    responses(
        (status = 201, description = "Registered: the user, and the address claimed (unverified), if e-mail is on.",
            body = schema::Registered),
        (status = 400, description = "A field does not validate (`username`, `email`, `password`), or the body is \
            not JSON.", body = super::schema::ValidationError),
        (status = 404, description = "Self-registration is closed.", body = super::schema::ErrorMessage),
        (status = 409, description = "The username or e-mail address is taken.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn register(
    request: HttpRequest,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    if !state.settings.learner_registration_open {
        return Err(DomainError::NotFound {
            entity: "route",
            id: "/learner/register (self-registration is closed)".to_owned(),
        }
        .into());
    }
    object(&body)?;
    let mut errors = Vec::new();
    let username = match body.get("username").and_then(Value::as_str) {
        Some(raw) => Username::parse(raw)
            .map_err(|e| errors.push(FieldError::new("username", e.0)))
            .ok(),
        None => {
            errors.push(FieldError::new("username", "is required"));
            None
        }
    };
    let email = required_email(&body, &mut errors);
    let secret = match body.get("password").and_then(Value::as_str) {
        Some(raw) => password::check_policy(raw)
            .map(|()| raw.to_owned())
            .map_err(|e| errors.push(FieldError::new("password", e.0)))
            .ok(),
        None => {
            errors.push(FieldError::new("password", "is required"));
            None
        }
    };
    let (Some(username), Some(email), Some(secret), true) =
        (username, email, secret, errors.is_empty())
    else {
        return Err(DomainError::Validation(errors).into());
    };
    let password_hash = password::off_workers(move || password::hash(&secret))
        .await
        .map_err(|e| ApiError(DomainError::Internal(format!("password task failed: {e}"))))??;
    let user = accounts::register_learner(
        state.store.as_ref(),
        NewUser {
            username,
            email: Some(email.clone()),
            password_hash,
            role: Role::Learner,
        },
    )
    .await?;
    // The account stands on its own: should the claim fail, the learner
    // adds the address again with `POST /learner/emails`.
    let claimed = if crate::mail::enabled(&state) {
        match claim(&state, &request, user.id, &email).await {
            Ok(Claimed::New(claimed) | Claimed::Renewed(claimed)) => Some(email_json(&claimed)),
            Err(err) => {
                log::warn!(target: "openbadges::learners", "the address of new learner {} was not claimed: {}", user.id, err.0);
                None
            }
        }
    } else {
        None
    };
    Ok(no_store(StatusCode::CREATED).json(json!({
        "user": {
            "id": user.id,
            "username": user.username.as_str(),
            "email": user.email.as_ref().map(Email::as_str),
            "role": user.role.as_str(),
            "createdAt": user.created_at.to_rfc3339(),
        },
        "email": claimed,
    })))
}

/// `GET /learner/emails`.
#[utoipa::path(
    get,
    path = "/learner/emails",
    tag = "learners",
    operation_id = "listLearnerEmails",
    summary = "List your e-mail addresses",
    description = "The learner's addresses, oldest first, verified or not. Few: not paged.",
    responses(
        (status = 200, description = "The addresses.", body = Vec<schema::LearnerEmail>,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not a learner.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list_emails(
    Auth(actor): Auth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = learner(&actor)?;
    let emails = state.store.learner_emails().list(user).await?;
    Ok(no_store(StatusCode::OK).json(emails.iter().map(email_json).collect::<Vec<_>>()))
}

/// `POST /learner/emails` `{email}`.
#[utoipa::path(
    post,
    path = "/learner/emails",
    tag = "learners",
    operation_id = "addLearnerEmail",
    summary = "Add an e-mail address (a verification link is e-mailed to it)",
    description = "Stores the address unverified and queues an e-mail with a single-use verification link, valid \
        for 24 hours (only the token's SHA-256 is stored). Adding an address again, before it is verified, sends a \
        new link and ends the old one. Once verified, the awards made here to the address appear in the backpack.",
    request_body(content = schema::AddEmailRequest, description = "The address. Read as JSON whatever the `Content-Type`."),
    responses(
        (status = 201, description = "Claimed: the address (unverified); the e-mail is queued.", body = schema::LearnerEmail),
        (status = 200, description = "Claimed before and still unverified: a new link is on its way.", body = schema::LearnerEmail),
        (status = 400, description = "`email` is missing or not an address, or the body is not JSON.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not a learner.", body = super::schema::Forbidden),
        (status = 409, description = "The address is verified already (by this learner or another).",
            body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn add_email(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let user = learner(&actor)?;
    object(&body)?;
    let mut errors = Vec::new();
    let Some(email) = required_email(&body, &mut errors) else {
        return Err(DomainError::Validation(errors).into());
    };
    require_mail(&state)?;
    Ok(match claim(&state, &request, user, &email).await? {
        Claimed::New(email) => no_store(StatusCode::CREATED).json(email_json(&email)),
        Claimed::Renewed(email) => no_store(StatusCode::OK).json(email_json(&email)),
    })
}

/// Verifies the address of `token`; the answer names the token on any
/// failure a link can have (unknown, used, expired, or the address taken).
async fn verify_token(
    state: &AppState,
    token: Option<&str>,
) -> Result<(LearnerEmail, u64), ApiError> {
    let token = token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| DomainError::invalid("token", "is required"))?;
    if token.len() > 128 {
        return Err(DomainError::invalid("token", "is not a verification token").into());
    }
    state
        .store
        .learner_emails()
        .verify(&token_hash(token), Timestamp::now())
        .await
        .map_err(|err| match err {
            DomainError::NotFound { .. } => ApiError(DomainError::invalid(
                "token",
                "is unknown or was used already",
            )),
            other => ApiError(other),
        })
}

/// `POST /learner/emails/verify` `{token}`.
#[utoipa::path(
    post,
    path = "/learner/emails/verify",
    tag = "learners",
    operation_id = "verifyLearnerEmail",
    summary = "Verify an address with the token of its e-mail",
    description = "Public: the token is the proof. It works once, for 24 hours. The awards made here to the \
        address (in the clear, or hashed `sha256$...` with their salt) are linked into the learner's backpack in \
        the same transaction; later awards to it are linked when they are made.",
    request_body(content = schema::VerifyRequest, description = "The token. Read as JSON whatever the `Content-Type`."),
    responses(
        (status = 200, description = "Verified: the address, and how many awards were linked.", body = schema::Verified),
        (status = 400, description = "`token` is missing, unknown, used already or expired.",
            body = super::schema::ValidationError),
        (status = 409, description = "Another learner verified the address first.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn verify(
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    object(&body)?;
    let token = match body.get("token") {
        None | Some(Value::String(_)) => body.get("token").and_then(Value::as_str),
        Some(_) => return Err(DomainError::invalid("token", "must be a string").into()),
    };
    let (email, linked) = verify_token(&state, token).await?;
    Ok(no_store(StatusCode::OK).json(json!({"email": email_json(&email), "linked": linked})))
}

/// `GET /learner/emails/verify?token=`: the link of the e-mail, as a page.
#[utoipa::path(
    get,
    path = "/learner/emails/verify",
    tag = "learners",
    operation_id = "verifyLearnerEmailPage",
    summary = "Verify an address: the link of the e-mail, answered with a page",
    description = "Public. As `POST /learner/emails/verify`, answered with a small HTML page for the browser the \
        link was opened in.",
    params(schema::VerifyQuery),
    responses(
        (status = 200, description = "Verified.", content_type = "text/html", body = String),
        (status = 400, description = "The token is missing, unknown, used already or expired (an HTML page).",
            content_type = "text/html", body = String),
        (status = 409, description = "Another learner verified the address first (an HTML page).",
            content_type = "text/html", body = String),
        (status = 503, description = "The database is unavailable (an HTML page).", content_type = "text/html",
            body = String),
    )
)]
async fn verify_page(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query = ListQuery::of(&request);
    let (status, title, message) = match verify_token(&state, query.get(&["token"])).await {
        Ok((email, linked)) => (
            StatusCode::OK,
            "Address verified",
            format!(
                "{} is verified. {linked} badge{} awarded to it {} now in your backpack; badges awarded \
                 to it from now on will appear there too.",
                email.email.as_str(),
                if linked == 1 { "" } else { "s" },
                if linked == 1 { "is" } else { "are" },
            ),
        ),
        Err(ApiError(DomainError::Duplicate { .. })) => (
            StatusCode::CONFLICT,
            "Address taken",
            "Another account verified this address first.".to_owned(),
        ),
        Err(ApiError(DomainError::Validation(fields))) => (
            StatusCode::BAD_REQUEST,
            "Link not valid",
            format!(
                "This verification link {}. Add the address again for a new e-mail.",
                fields
                    .first()
                    .map_or("is not valid", |field| field.message.as_str())
            ),
        ),
        Err(ApiError(other)) => {
            log::warn!(target: "openbadges::learners", "an address could not be verified: {other}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again later",
                "The address could not be verified just now.".to_owned(),
            )
        }
    };
    no_store(status)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
             <body><h1>{title}</h1>\n<p>{}</p></body></html>\n",
            escape(&message)
        ))
}

/// Text made safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `DELETE /learner/emails/{id}`.
#[utoipa::path(
    delete,
    path = "/learner/emails/{id}",
    tag = "learners",
    operation_id = "removeLearnerEmail",
    summary = "Remove one of your addresses",
    description = "Awards linked through it stay in the backpack; later awards to it are no longer linked.",
    params(("id" = String, Path, description = "The address's id.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not a learner.", body = super::schema::Forbidden),
        (status = 404, description = "The learner has no address with this id.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn remove_email(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = learner(&actor)?;
    let id: LearnerEmailId = path_id(&id, "e-mail address")?;
    state.store.learner_emails().remove(user, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /learner/credentials?limit&offset&since`.
#[utoipa::path(
    get,
    path = "/learner/credentials",
    tag = "learners",
    operation_id = "listLearnerCredentials",
    summary = "Your backpack: the credentials you hold",
    description = "Oldest received first, paged by `limit` and `offset`; `since` keeps those valid from a later \
        instant. What the OB 3.0 Service API's `getCredentials` answers, with each entry's id and provenance: \
        awarded here to a verified address (read with the award's current credential), uploaded, or added by a \
        platform of the `/backpack` API.",
    params(super::schema::Paging, schema::Since),
    responses(
        (status = 200, description = "A page of the backpack.", body = Vec<schema::HeldCredential>,
            headers(
                ("X-Total-Count" = u64, description = "How many credentials match in all."),
                ("Link" = String, description = "RFC 8288 links to the `first`, `prev`, `next` and `last` pages."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 400, description = "`limit`, `offset` or `since` does not validate.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not a learner.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list_credentials(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = learner(&actor)?;
    let query = ListQuery::of(&request);
    let page = query.page();
    let since = query
        .get(&["since"])
        .map(|raw| Timestamp::parse(raw).map_err(|e| FieldError::new("since", e.0)))
        .transpose();
    let (page_request, since) = match (page, since) {
        (Ok(page), Ok(since)) => (page, since),
        (page, since) => {
            let mut errors = Vec::new();
            if let Err(DomainError::Validation(fields)) = page {
                errors.extend(fields);
            }
            if let Err(field) = since {
                errors.push(field);
            }
            return Err(DomainError::Validation(errors).into());
        }
    };
    let held = state
        .store
        .backpack()
        .list(user, since, page_request)
        .await?;
    let documents: Vec<Value> = held.items.iter().map(held_json).collect();
    Ok(page_response(
        &request,
        state.urls.base(),
        &query,
        page_request,
        &held,
        documents,
    ))
}

/// `DELETE /learner/credentials/{id}`: uploaded ones only.
#[utoipa::path(
    delete,
    path = "/learner/credentials/{id}",
    tag = "learners",
    operation_id = "removeLearnerCredential",
    summary = "Remove an uploaded credential from your backpack",
    description = "Only credentials uploaded (by the learner or an OAuth client): an award made here stays while \
        the award exists (its issuer revokes or deletes it), and one a platform added goes through the platform's \
        `DELETE /backpack/assertions/{assertionId}`.",
    params(("id" = String, Path, description = "The backpack entry's id.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not a learner.", body = super::schema::Forbidden),
        (status = 404, description = "The learner holds no credential with this id.", body = super::schema::ErrorMessage),
        (status = 409, description = "The credential was not uploaded (awarded here, or added by a platform).",
            body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn remove_credential(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = learner(&actor)?;
    let id: HeldCredentialId = path_id(&id, "held credential")?;
    let held = state.store.backpack().get(user, id).await?;
    if !matches!(held.source, HeldSource::Uploaded { .. }) {
        return Err(DomainError::Conflict(format!(
            "credential {id} was {} here, not uploaded: it cannot be removed from the backpack",
            match held.source {
                HeldSource::Awarded(_) => "awarded",
                _ => "added by a platform",
            }
        ))
        .into());
    }
    state.store.backpack().remove(user, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
