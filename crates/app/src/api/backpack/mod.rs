//! The previous server's backpack API (docs/learners.md, "Platforms"):
//! administrators register platforms under `/backpack/platforms`; a
//! platform then manages its users' backpacks under `/backpack/assertions`
//! with JWTs it signs (RS256) with the key registered for it. Each
//! platform user is a learner account here, made on first use, and each
//! award added for them is an entry in that learner's backpack. Bare paths
//! only; answers keep the previous server's `{"success": ...}` shapes.

pub mod schema;

use actix_web::http::{header, StatusCode};
use actix_web::{guard, web, HttpRequest, HttpResponse, ResponseError};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openbadges_domain::backpack::{equality_keys, HeldCredential, HeldCredentialId};
use openbadges_domain::documents::{Reference, Version};
use openbadges_domain::platforms::{
    Added, EntryStatus, Platform, PlatformEntry, PlatformStatus, PlatformUser,
};
use openbadges_domain::*;
use rsa::pkcs8::DecodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Map, Value};

use super::body::{JsonBody, JsonText};
use super::credentials::render_one;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/backpack/platforms", web::get().to(list_platforms))
        .route("/backpack/platforms", web::post().to(create_platform))
        .route("/backpack/platforms/{id}", web::get().to(get_platform))
        .route("/backpack/platforms/{id}", web::put().to(update_platform))
        .route(
            "/backpack/platforms/{id}",
            web::delete().to(delete_platform),
        )
        .route("/backpack/assertions", web::get().to(list_assertions))
        .route("/backpack/assertions", web::post().to(add_assertion))
        // An award's id may be one of our URLs, slashes and all.
        .route(
            "/backpack/assertions/{assertion:.+}/status",
            web::patch().to(set_assertion_status),
        )
        // Not `.../status`: that path takes PATCH only.
        .route(
            "/backpack/assertions/{assertion:.+}",
            web::delete()
                .guard(guard::fn_guard(|context| {
                    !context.head().uri.path().ends_with("/status")
                }))
                .to(remove_assertion),
        );
}

/// The smallest RSA key a platform may register: what RS256 needs today.
const MIN_RSA_BITS: usize = 2048;

/// What a backpack route answers when it fails: the previous server's
/// `{"success": false, "error": ...}` for a refused platform token (401)
/// and for what is not there (404); everything else as every route does.
#[derive(Debug, thiserror::Error)]
pub enum BackpackError {
    /// 401: the platform's token is missing or not accepted.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 404: no such platform, or no such entry.
    #[error("{0}")]
    NotFound(&'static str),
    /// Anything else.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<DomainError> for BackpackError {
    fn from(error: DomainError) -> Self {
        Self::Api(ApiError(error))
    }
}

impl ResponseError for BackpackError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Api(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Unauthorized(error) => HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .json(json!({"success": false, "error": error})),
            Self::NotFound(error) => {
                HttpResponse::NotFound().json(json!({"success": false, "error": error}))
            }
            Self::Api(error) => error.error_response(),
        }
    }
}

/// A store's `NotFound` as the previous server's 404 `error`.
fn or_missing(what: &'static str) -> impl FnOnce(DomainError) -> BackpackError {
    move |error| match error {
        DomainError::NotFound { .. } => BackpackError::NotFound(what),
        other => other.into(),
    }
}

fn platform_json(platform: &Platform) -> Value {
    json!({
        "id": platform.id,
        "name": platform.name,
        "clientId": platform.client_id,
        "publicKey": platform.public_key,
        "status": platform.status.as_str(),
        "description": platform.description,
        "webhookUrl": platform.webhook_url,
        "createdAt": platform.created_at.to_rfc3339(),
        "updatedAt": platform.updated_at.to_rfc3339(),
    })
}

fn entry_json(state: &AppState, entry: &PlatformEntry) -> Value {
    json!({
        "id": entry.held,
        "userId": entry.user,
        "assertionId": state.urls.credential(Version::V3, entry.assertion),
        "addedAt": entry.added_at.to_rfc3339(),
        "status": entry.status.as_str(),
        "metadata": entry.metadata.as_deref().and_then(|text| serde_json::from_str::<Value>(text).ok()),
    })
}

fn object(body: &Value) -> Result<&Map<String, Value>, DomainError> {
    body.as_object()
        .ok_or_else(|| DomainError::invalid("body", "must be a JSON object"))
}

/// A text field: `Ok(None)` when absent (or `null`, if `nullable`).
fn text_field(
    body: &Map<String, Value>,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<Option<String>> {
    match body.get(field) {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(text)) if text.trim().is_empty() => {
            errors.push(FieldError::new(field, "must not be empty"));
            None
        }
        Some(Value::String(text)) if text.chars().count() > max => {
            errors.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
            None
        }
        Some(Value::String(text)) => Some(Some(text.clone())),
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

/// Checks a platform's public key: a PEM `PUBLIC KEY` (SPKI) of an RSA key
/// of at least 2048 bits, which RS256 tokens verify with. The previous
/// server imported it as RS256 too; a key that cannot verify its tokens is
/// refused here, not at its first request.
fn check_public_key(pem: &str) -> Result<(), String> {
    let key = rsa::RsaPublicKey::from_public_key_pem(pem.trim()).map_err(|_| {
        "must be an RSA public key in PEM (-----BEGIN PUBLIC KEY-----): the platform's tokens are RS256"
            .to_owned()
    })?;
    if key.size() * 8 < MIN_RSA_BITS {
        return Err(format!(
            "must be an RSA key of at least {MIN_RSA_BITS} bits"
        ));
    }
    Ok(())
}

/// The key a platform's tokens verify with; `None` if its stored key is
/// not one (it was checked when stored).
fn verifying_key(pem: &str) -> Option<DecodingKey> {
    let key = rsa::RsaPublicKey::from_public_key_pem(pem.trim()).ok()?;
    Some(DecodingKey::from_rsa_raw_components(
        &key.n().to_bytes_be(),
        &key.e().to_bytes_be(),
    ))
}

/// Checks a webhook: an absolute `https` URL with a host.
fn check_webhook(raw: &str) -> Result<(), &'static str> {
    match url::Url::parse(raw) {
        Ok(url) if url.scheme() == "https" && url.host_str().is_some_and(|h| !h.is_empty()) => {
            Ok(())
        }
        Ok(_) => Err("must be an https URL"),
        Err(_) => Err("must be an absolute https URL"),
    }
}

/// Reads a platform body onto `platform` (all fields required when
/// `creating`), validating every field; the errors name each bad one.
fn read_platform(body: &Value, platform: &mut Platform, creating: bool) -> Result<(), DomainError> {
    let body = object(body)?;
    let mut errors = Vec::new();
    let required =
        |field: &str, value: Option<Option<String>>, errors: &mut Vec<FieldError>| match value {
            Some(Some(text)) => Some(text),
            Some(None) => {
                errors.push(FieldError::new(field, "must not be null"));
                None
            }
            None if creating && !errors.iter().any(|e| e.field == field) => {
                errors.push(FieldError::new(field, "is required"));
                None
            }
            None => None,
        };
    let name = text_field(body, "name", 200, &mut errors);
    if let Some(name) = required("name", name, &mut errors) {
        platform.name = name.trim().to_owned();
    }
    let client_id = text_field(body, "clientId", 255, &mut errors);
    if let Some(client_id) = required("clientId", client_id, &mut errors) {
        platform.client_id = client_id;
    }
    let public_key = text_field(body, "publicKey", 16 * 1024, &mut errors);
    if let Some(public_key) = required("publicKey", public_key, &mut errors) {
        match check_public_key(&public_key) {
            Ok(()) => platform.public_key = public_key.trim().to_owned() + "\n",
            Err(problem) => errors.push(FieldError::new("publicKey", problem)),
        }
    }
    if let Some(description) = text_field(body, "description", 2000, &mut errors) {
        platform.description = description;
    }
    if let Some(webhook) = text_field(body, "webhookUrl", 2000, &mut errors) {
        match webhook.as_deref().map(check_webhook) {
            Some(Err(problem)) => errors.push(FieldError::new("webhookUrl", problem)),
            _ => platform.webhook_url = webhook,
        }
    }
    match body.get("status") {
        None | Some(Value::Null) => {}
        Some(Value::String(status)) => match PlatformStatus::parse(status) {
            Ok(status) => platform.status = status,
            Err(problem) => errors.push(FieldError::new("status", problem.0)),
        },
        Some(_) => errors.push(FieldError::new("status", "must be a string")),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(errors))
    }
}

/// `GET /backpack/platforms` (administrators).
#[utoipa::path(
    get,
    path = "/backpack/platforms",
    tag = "backpack",
    operation_id = "listBackpackPlatforms",
    summary = "List the platforms of the backpack API",
    description = "Administrators only. Every platform, oldest first (there are few; not paged).",
    responses(
        (status = 200, description = "`{\"success\": true, \"platforms\": [...]}`.", body = schema::PlatformsAnswer),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not an administrator.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list_platforms(
    Auth(actor): Auth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BackpackError> {
    actor.may_administer()?;
    let platforms = state.store.platforms().list().await?;
    let platforms: Vec<Value> = platforms.iter().map(platform_json).collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "platforms": platforms})))
}

/// `POST /backpack/platforms` (administrators).
#[utoipa::path(
    post,
    path = "/backpack/platforms",
    tag = "backpack",
    operation_id = "createBackpackPlatform",
    summary = "Register a platform",
    description = "Administrators only. The platform signs its users' JWTs (RS256) with the private key of \
        `publicKey`; nothing secret of it is stored. `status` defaults to `active`.",
    request_body(content = schema::PlatformRequest, description = "The platform. Read as JSON whatever the `Content-Type`."),
    responses(
        (status = 201, description = "`{\"success\": true, \"platform\": ...}`.", body = schema::PlatformAnswer),
        (status = 400, description = "A field does not validate: `name`, `clientId`, `publicKey` (not an RSA \
            public key in PEM of at least 2048 bits), `description`, `webhookUrl` (not https), `status`.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not an administrator.", body = super::schema::Forbidden),
        (status = 409, description = "Another platform has this `clientId`.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn create_platform(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, BackpackError> {
    actor.may_administer()?;
    let now = Timestamp::now();
    let mut platform = Platform {
        id: PlatformId::generate(),
        name: String::new(),
        description: None,
        client_id: String::new(),
        public_key: String::new(),
        webhook_url: None,
        status: PlatformStatus::Active,
        created_at: now,
        updated_at: now,
    };
    read_platform(&body, &mut platform, true)?;
    state.store.platforms().create(&platform).await?;
    Ok(
        HttpResponse::Created()
            .json(json!({"success": true, "platform": platform_json(&platform)})),
    )
}

fn platform_id(raw: &str) -> Result<PlatformId, BackpackError> {
    raw.strip_prefix("urn:uuid:")
        .unwrap_or(raw)
        .parse()
        .map_err(|_| BackpackError::NotFound("Platform not found"))
}

/// `GET /backpack/platforms/{id}` (administrators).
#[utoipa::path(
    get,
    path = "/backpack/platforms/{id}",
    tag = "backpack",
    operation_id = "getBackpackPlatform",
    summary = "Get a platform",
    description = "Administrators only.",
    params(("id" = String, Path, description = "The platform's id.")),
    responses(
        (status = 200, description = "`{\"success\": true, \"platform\": ...}`.", body = schema::PlatformAnswer),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not an administrator.", body = super::schema::Forbidden),
        (status = 404, description = "`{\"success\": false, \"error\": \"Platform not found\"}`.", body = schema::BackpackFailure),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn get_platform(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, BackpackError> {
    actor.may_administer()?;
    let id = platform_id(&id)?;
    let platform = state
        .store
        .platforms()
        .get(id)
        .await
        .map_err(or_missing("Platform not found"))?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "platform": platform_json(&platform)})))
}

/// `PUT /backpack/platforms/{id}` (administrators).
#[utoipa::path(
    put,
    path = "/backpack/platforms/{id}",
    tag = "backpack",
    operation_id = "updateBackpackPlatform",
    summary = "Change a platform",
    description = "Administrators only. Changes the fields given, as the previous server did (`null` clears \
        `description` and `webhookUrl`). A new `publicKey` takes effect at once: tokens signed with the old key \
        are refused; `status` other than `active` refuses every token of the platform.",
    params(("id" = String, Path, description = "The platform's id.")),
    request_body(content = schema::PlatformRequest, description = "The fields to change."),
    responses(
        (status = 200, description = "`{\"success\": true, \"platform\": ...}`.", body = schema::PlatformAnswer),
        (status = 400, description = "A field does not validate (named as for creation).",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not an administrator.", body = super::schema::Forbidden),
        (status = 404, description = "`{\"success\": false, \"error\": \"Platform not found\"}`.", body = schema::BackpackFailure),
        (status = 409, description = "Another platform has this `clientId`.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn update_platform(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, BackpackError> {
    actor.may_administer()?;
    let id = platform_id(&id)?;
    let platforms = state.store.platforms();
    let mut platform = platforms
        .get(id)
        .await
        .map_err(or_missing("Platform not found"))?;
    read_platform(&body, &mut platform, false)?;
    platform.updated_at = Timestamp::now();
    platforms
        .update(&platform)
        .await
        .map_err(or_missing("Platform not found"))?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "platform": platform_json(&platform)})))
}

/// `DELETE /backpack/platforms/{id}` (administrators).
#[utoipa::path(
    delete,
    path = "/backpack/platforms/{id}",
    tag = "backpack",
    operation_id = "deleteBackpackPlatform",
    summary = "Delete a platform",
    description = "Administrators only. Its users' mappings and the entries it added go with it; the learner \
        accounts stay, with what else they hold.",
    params(("id" = String, Path, description = "The platform's id.")),
    responses(
        (status = 200, description = "`{\"success\": true}`.", body = schema::Done),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller is not an administrator.", body = super::schema::Forbidden),
        (status = 404, description = "`{\"success\": false, \"error\": \"Platform not found\"}`.", body = schema::BackpackFailure),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn delete_platform(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, BackpackError> {
    actor.may_administer()?;
    let id = platform_id(&id)?;
    state
        .store
        .platforms()
        .delete(id)
        .await
        .map_err(or_missing("Platform not found"))?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// The claims a platform's token carries about its user, as the previous
/// server read them: `sub` (the platform's id for the user),
/// `displayName` and `email`. `iss` (the platform's client id) and `exp`
/// are checked by the verification.
#[derive(serde::Deserialize)]
struct PlatformClaims {
    sub: String,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
    email: Option<String>,
}

/// The `iss` of an unverified JWT: which platform's key to verify it with.
fn claimed_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// A claim about the user, if given: at most 255 characters.
fn user_claim(value: Option<String>, field: &str) -> Result<Option<String>, DomainError> {
    match value {
        Some(text) if text.chars().count() > 255 => Err(DomainError::invalid(
            field,
            "(a claim of the token) must be at most 255 characters",
        )),
        Some(text) if text.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// The platform user the request's token stands for: `Authorization:
/// Bearer <JWT>` signed (RS256) with the key of the active platform whose
/// client id is its `iss`, unexpired (`exp` required). The user is the
/// learner account mapped to `sub`, made the first time.
async fn platform_user(
    request: &HttpRequest,
    state: &AppState,
) -> Result<PlatformUser, BackpackError> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(BackpackError::Unauthorized("Authentication required"))?;
    let issuer =
        claimed_issuer(token).ok_or(BackpackError::Unauthorized("Authentication failed"))?;
    let platform = state
        .store
        .platforms()
        .find_by_client_id(&issuer)
        .await?
        .ok_or(BackpackError::Unauthorized("Unknown platform"))?;
    if platform.status != PlatformStatus::Active {
        return Err(BackpackError::Unauthorized("Platform is not active"));
    }
    let key = verifying_key(&platform.public_key)
        .ok_or(BackpackError::Unauthorized("Authentication failed"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[platform.client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    // The previous server checked no audience; its platforms send none.
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<PlatformClaims>(token, &key, &validation)
        .map_err(|_| BackpackError::Unauthorized("Authentication failed"))?
        .claims;
    if claims.sub.trim().is_empty() || claims.sub.chars().count() > 255 {
        return Err(BackpackError::Unauthorized("Authentication failed"));
    }
    let now = Timestamp::now();
    let visitor = PlatformUser {
        id: PlatformUserId::generate(),
        platform: platform.id,
        external_id: claims.sub,
        user: UserId::generate(),
        display_name: user_claim(claims.display_name, "displayName")?,
        email: user_claim(claims.email, "email")?,
        created_at: now,
        updated_at: now,
    };
    // Made only if the platform has not presented this user before: a
    // learner without a password (the stored hash is no hash at all, so
    // no password matches it) and without an address (the platform's is
    // unverified); an administrator can set a password later.
    let account = User {
        id: visitor.user,
        username: Username::parse(format!("platform-{}", visitor.user.as_uuid().simple()))
            .map_err(|e| DomainError::Internal(e.0))?,
        email: None,
        password_hash: PasswordHash::parse("$none$platform-account")
            .map_err(|e| DomainError::Internal(e.0))?,
        role: Role::Learner,
        session_generation: 0,
        created_at: now,
        updated_at: now,
    };
    let platforms = state.store.platforms();
    match platforms.enter(&visitor, &account).await {
        // Two first requests of one user at once: the other made them
        // (its mapping won the unique key); this one finds them now.
        Err(DomainError::Duplicate {
            entity: "platform user",
            ..
        }) => Ok(platforms.enter(&visitor, &account).await?),
        other => Ok(other?),
    }
}

/// The award an `assertionId` names: one of our credential URLs (any
/// version), `urn:uuid:` or the bare UUID.
fn award_id(state: &AppState, raw: &str) -> Option<AssertionId> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    state
        .urls
        .reference(decoded.trim(), Reference::Credential)
        .ok()
        .map(AssertionId::from)
}

/// `POST /backpack/assertions` (a platform's token).
#[utoipa::path(
    post,
    path = "/backpack/assertions",
    tag = "backpack",
    operation_id = "addBackpackAssertion",
    summary = "Add one of this server's awards to the platform user's backpack",
    description = "Authenticated with the platform's token (`Authorization: Bearer <JWT>`, RS256, `iss` = its \
        `clientId`, `sub` = its user, `exp` required, optional `displayName` and `email`). The user's learner \
        account is made on first use. The award is held in their backpack (`source: platform`) with its OB 3.0 \
        credential; adding it again replaces the metadata (200).",
    request_body(content = schema::AddRequest, description = "The award and the platform's metadata."),
    responses(
        (status = 201, description = "Added: `{\"success\": true, \"userAssertion\": ...}`.", body = schema::UserAssertionAnswer),
        (status = 200, description = "Had it already: its metadata replaced.", body = schema::UserAssertionAnswer),
        (status = 400, description = "`assertionId` is missing or not one of this server's credential ids, \
            `metadata` is not an object, or a claim (`displayName`, `email`) is too long.",
            body = super::schema::ValidationError),
        (status = 401, description = "`{\"success\": false, \"error\": ...}`: no token, an unknown or inactive \
            platform, or a token not signed by its key, expired or without `exp`.", body = schema::BackpackFailure),
        (status = 404, description = "`{\"success\": false, \"error\": \"Assertion not found\"}`: no such award.", body = schema::BackpackFailure),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn add_assertion(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: JsonText,
) -> Result<HttpResponse, BackpackError> {
    // The token first: a stranger learns nothing from the body's checks.
    let user = platform_user(&request, &state).await?;
    let body = body.value()?;
    let fields = object(&body)?;
    let mut errors = Vec::new();
    let award = match fields.get("assertionId") {
        Some(Value::String(raw)) => {
            let id = award_id(&state, raw);
            if id.is_none() {
                errors.push(FieldError::new(
                    "assertionId",
                    "must be one of this server's credentials: its URL, urn:uuid:<UUID> or the UUID",
                ));
            }
            id
        }
        Some(_) => {
            errors.push(FieldError::new("assertionId", "must be a string"));
            None
        }
        None => {
            errors.push(FieldError::new("assertionId", "is required"));
            None
        }
    };
    let metadata = match fields.get("metadata") {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(_)) => Some(value.to_string()),
        Some(_) => {
            errors.push(FieldError::new("metadata", "must be a JSON object"));
            None
        }
    };
    let (Some(award), true) = (award, errors.is_empty()) else {
        return Err(DomainError::Validation(errors).into());
    };
    let award = state
        .store
        .assertions()
        .get(award)
        .await
        .map_err(or_missing("Assertion not found"))?;
    let text = render_one(&state, state.store.as_ref(), Version::V3, &award).await?;
    let document: Value = serde_json::from_str(&text)
        .map_err(|e| DomainError::Internal(format!("credential {} is not JSON: {e}", award.id)))?;
    let (issuer_key, credential_key) = equality_keys(&document)?;
    let now = Timestamp::now();
    let held = HeldCredential {
        id: HeldCredentialId::generate(),
        owner: user.user,
        issuer_key,
        credential_key,
        valid_from: Some(award.issued_on),
        format: HeldFormat::Json,
        text,
        source: HeldSource::Platform(user.platform.to_string()),
        received_at: now,
        updated_at: now,
    };
    let entry = PlatformEntry {
        held: held.id,
        user: user.id,
        assertion: award.id,
        status: EntryStatus::Active,
        metadata,
        added_at: now,
    };
    let (status, entry) = match state
        .store
        .platforms()
        .add_entry(&user, &held, &entry)
        .await
        .map_err(|error| match error {
            DomainError::MissingReference {
                entity: "assertion",
                ..
            } => BackpackError::NotFound("Assertion not found"),
            other => other.into(),
        })? {
        Added::New(entry) => (StatusCode::CREATED, entry),
        Added::Again(entry) => (StatusCode::OK, entry),
    };
    Ok(HttpResponse::build(status)
        .json(json!({"success": true, "userAssertion": entry_json(&state, &entry)})))
}

/// `GET /backpack/assertions?version=v2|v3` (a platform's token).
#[utoipa::path(
    get,
    path = "/backpack/assertions",
    tag = "backpack",
    operation_id = "listBackpackAssertions",
    summary = "List the platform user's awards",
    description = "Authenticated with the platform's token. The awards this platform added for its user, oldest \
        first, whatever their status, each with `assertion`: the award as served now, an OB 2.0 assertion \
        (`?version=v2`) or its OB 3.0 credential (`v3`, the default). Not paged: the previous server's clients \
        read one list. Awards added by another platform, or held otherwise, are not listed.",
    params(schema::VersionQuery),
    responses(
        (status = 200, description = "`{\"success\": true, \"assertions\": [...]}`.", body = schema::UserAssertionsAnswer),
        (status = 400, description = "`version` is neither `v2` nor `v3`.", body = super::schema::ValidationError),
        (status = 401, description = "`{\"success\": false, \"error\": ...}`: the token is not accepted.", body = schema::BackpackFailure),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list_assertions(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BackpackError> {
    let user = platform_user(&request, &state).await?;
    let version = match super::listing::ListQuery::of(&request).get(&["version"]) {
        None | Some("v3") => Version::V3,
        Some("v2") => Version::V2,
        Some(_) => return Err(DomainError::invalid("version", "must be v2 or v3").into()),
    };
    let entries = state.store.platforms().entries(user.id).await?;
    let mut assertions = Vec::with_capacity(entries.len());
    for entry in &entries {
        let award = match state.store.assertions().get(entry.assertion).await {
            Ok(award) => award,
            // Deleted since it was listed: its entry has gone with it.
            Err(DomainError::NotFound { .. }) => continue,
            Err(other) => return Err(other.into()),
        };
        let rendered = render_one(&state, state.store.as_ref(), version, &award).await?;
        let mut item = entry_json(&state, entry);
        item["assertion"] = serde_json::from_str(&rendered).map_err(|e| {
            DomainError::Internal(format!("credential {} is not JSON: {e}", award.id))
        })?;
        assertions.push(item);
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"success": true, "assertions": assertions})))
}

fn entry_award(state: &AppState, raw: &str) -> Result<AssertionId, BackpackError> {
    award_id(state, raw).ok_or(BackpackError::NotFound("Assertion not found"))
}

/// `DELETE /backpack/assertions/{assertionId}` (a platform's token).
#[utoipa::path(
    delete,
    path = "/backpack/assertions/{assertionId}",
    tag = "backpack",
    operation_id = "removeBackpackAssertion",
    summary = "Remove an award from the platform user's backpack",
    description = "Authenticated with the platform's token. Removes the entry and the credential it added (one \
        the learner held before stays).",
    params(("assertionId" = String, Path, description = "The award: its URL, `urn:uuid:` or UUID.")),
    responses(
        (status = 200, description = "`{\"success\": true}`.", body = schema::Done),
        (status = 401, description = "`{\"success\": false, \"error\": ...}`: the token is not accepted.", body = schema::BackpackFailure),
        (status = 404, description = "`{\"success\": false, \"error\": \"Assertion not found\"}`: the user has no \
            such entry.", body = schema::BackpackFailure),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn remove_assertion(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BackpackError> {
    let user = platform_user(&request, &state).await?;
    let raw = request.match_info().get("assertion").unwrap_or_default();
    let award = entry_award(&state, raw)?;
    state
        .store
        .platforms()
        .remove_entry(user.id, award)
        .await
        .map_err(or_missing("Assertion not found"))?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// `PATCH /backpack/assertions/{assertionId}/status` (a platform's token).
#[utoipa::path(
    patch,
    path = "/backpack/assertions/{assertionId}/status",
    tag = "backpack",
    operation_id = "setBackpackAssertionStatus",
    summary = "Set the platform's status of an award in its user's backpack",
    description = "Authenticated with the platform's token. `active`, `hidden` or `deleted` (marked, kept), the \
        previous server's values. The credential itself is not changed.",
    params(("assertionId" = String, Path, description = "The award: its URL, `urn:uuid:` or UUID.")),
    request_body(content = schema::StatusRequest, description = "The status."),
    responses(
        (status = 200, description = "`{\"success\": true, \"userAssertion\": ...}`.", body = schema::UserAssertionAnswer),
        (status = 400, description = "`status` is missing or not one of the three.", body = super::schema::ValidationError),
        (status = 401, description = "`{\"success\": false, \"error\": ...}`: the token is not accepted.", body = schema::BackpackFailure),
        (status = 404, description = "`{\"success\": false, \"error\": \"Assertion not found\"}`: the user has no \
            such entry.", body = schema::BackpackFailure),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn set_assertion_status(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: JsonText,
) -> Result<HttpResponse, BackpackError> {
    let user = platform_user(&request, &state).await?;
    let body = body.value()?;
    let raw = request.match_info().get("assertion").unwrap_or_default();
    let award = entry_award(&state, raw)?;
    let status = match object(&body)?.get("status") {
        Some(Value::String(status)) => {
            EntryStatus::parse(status).map_err(|e| DomainError::invalid("status", e.0))?
        }
        Some(_) => return Err(DomainError::invalid("status", "must be a string").into()),
        None => return Err(DomainError::invalid("status", "is required").into()),
    };
    let entry = state
        .store
        .platforms()
        .set_entry_status(user.id, award, status)
        .await
        .map_err(or_missing("Assertion not found"))?;
    Ok(HttpResponse::Ok()
        .json(json!({"success": true, "userAssertion": entry_json(&state, &entry)})))
}
