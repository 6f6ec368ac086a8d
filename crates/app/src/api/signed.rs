//! Open Badges 2.0 signed verification: assertions as compact JWS (RS256)
//! signed with the issuer's RSA key, the key published as a
//! `CryptographicKey`, the issuer's `RevocationList`, and the verification
//! of such a JWS posted to `POST /verify`.
//!
//! The key and revocation list routes are served on the bare path only,
//! like the other key routes; the JWS itself is the `/v2` rendering of a
//! credential (`GET /v2/credentials/{id}` with `Accept: application/jose`
//! or `?format=jws`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_credentials::jws::CompactJws;
use openbadges_domain::documents::{ob2, Version, OB2_CONTEXT};
use openbadges_domain::*;
use serde_json::{json, Map, Value};

use super::documents::{document, Freshness, JSON_LD};
use super::listing::ListQuery;
use super::params::path_id;
use super::schema;
use super::verification::{check, check_issuer_match, check_our_status, Party, Report};
use crate::error::ApiError;
use crate::signing::PublicKey;
use crate::state::AppState;

/// Media type of a compact JWS (RFC 7515 section 9.2.1).
pub(super) const JOSE: &str = "application/jose";

/// Bare-path routes: the key documents live under the issuer's key list.
pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/issuers/{id}/keys/{key}", web::get().to(cryptographic_key))
        .route(
            "/issuers/{id}/revocation-list",
            web::get().to(revocation_list),
        );
}

/// An OB 2.0 signed assertion is asked for with `Accept: application/jose`
/// or `?format=jws`.
pub(super) fn wants_jws(request: &HttpRequest) -> bool {
    match ListQuery::of(request).get(&["format"]) {
        Some(format) => format == "jws",
        None => request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains(JOSE)),
    }
}

/// The award as an OB 2.0 signed assertion: a compact JWS (RS256, `kid` =
/// the key's `CryptographicKey` URL) whose payload is the assertion with
/// `verification: {type: SignedBadge, creator}`. Signed when asked, with the
/// issuer's active RSA key (made on first use). 406 outside `/v2`.
pub(super) async fn assertion_jws(
    state: &AppState,
    version: Version,
    award: &Assertion,
) -> Result<HttpResponse, ApiError> {
    if version != Version::V2 {
        return Ok(HttpResponse::NotAcceptable().json(json!({
            "error": "Not Acceptable",
            "message": "OB 2.0 signed assertions are served under /v2: GET /v2/credentials/{id}?format=jws",
        })));
    }
    let key = state
        .signing
        .active_key_of(award.issuer_id, KeyAlgorithm::Rs256)
        .await?;
    let payload = ob2::signed_assertion(award, &key, &state.urls);
    let mut header = Map::new();
    header.insert(
        "kid".to_owned(),
        json!(state.urls.cryptographic_key(key.issuer_id, key.id)),
    );
    let token = state.signing.sign_rs256(&key, header, &payload).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, no-cache"))
        .insert_header((header::VARY, "Accept"))
        .content_type(JOSE)
        .body(token))
}

/// `GET /issuers/{id}/keys/{key}`: an RS256 key as an OB 2.0
/// `CryptographicKey`.
#[utoipa::path(
    get,
    path = "/issuers/{id}/keys/{key}",
    tag = "verification",
    operation_id = "getCryptographicKey",
    summary = "Get an issuer's RSA key as an OB 2.0 CryptographicKey",
    description = "Public. The document the `creator` of an OB 2.0 signed assertion (and the `kid` of its JWS) \
        names, and that the issuer's OB 2.0 profile lists in `publicKey`: the key's id (this URL), its `owner` \
        (the issuer's `/v2` profile URL) and the public key as SPKI PEM (`publicKeyPem`). For RS256 keys that \
        still verify (active or retired); a revoked key answers 410, an Ed25519 key 404 (it is published in the \
        DID document). Bare path only.",
    params(
        ("id" = String, Path, format = "uuid", description = "The issuer's UUID."),
        ("key" = String, Path, format = "uuid", description = "The key's UUID (`id` in `GET /issuers/{id}/keys`)."),
    ),
    responses(
        (status = 200, description = "The key.", body = schema::CryptographicKeyDocument,
            content_type = "application/ld+json",
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
        (status = 404, description = "No such issuer, no such key of this issuer, or not an RS256 key.",
            body = schema::ErrorMessage),
        (status = 410, description = "The key was revoked: it verifies nothing.", body = schema::ErrorMessage),
        (status = 503, description = "The database is unavailable; retry later.", body = schema::ErrorMessage),
    )
)]
pub(super) async fn cryptographic_key(
    request: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (issuer_id, key_id) = path.into_inner();
    let issuer_id: IssuerId = path_id(&issuer_id, "issuer")?;
    let key_id: SigningKeyId = path_id(&key_id, "signing key")?;
    let not_found = || DomainError::NotFound {
        entity: "RS256 key",
        id: key_id.to_string(),
    };
    let key = match state.store.signing_keys().get(key_id).await {
        Ok(key) if key.issuer_id == issuer_id && key.algorithm == KeyAlgorithm::Rs256 => key,
        Ok(_) | Err(DomainError::NotFound { .. }) => return Err(not_found().into()),
        Err(other) => return Err(other.into()),
    };
    if !key.status.verifies() {
        return Ok(HttpResponse::Gone()
            .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
            .json(json!({
                "error": "Gone",
                "message": format!("key {key_id} was revoked: it verifies nothing"),
            })));
    }
    let doc = ob2::cryptographic_key(&key, &key.public_key, &state.urls);
    Ok(document(
        &request,
        doc.to_string(),
        JSON_LD,
        Freshness::Minutes,
    ))
}

/// `GET /issuers/{id}/revocation-list`: the issuer's revoked awards, as an
/// OB 2.0 `RevocationList`.
#[utoipa::path(
    get,
    path = "/issuers/{id}/revocation-list",
    tag = "verification",
    operation_id = "getIssuerRevocationList",
    summary = "Get an issuer's OB 2.0 RevocationList",
    description = "Public. Every award of the issuer that was revoked, by its `/v2` assertion URL (the `id` of its \
        OB 2.0 assertion, signed or hosted) with its `revocationReason` when one was given. The issuer's OB 2.0 \
        profile names it in `revocationList` once the issuer has an RS256 key. Revalidate on every use: \
        revocation takes effect at once. Bare path only.",
    params(
        ("id" = String, Path, format = "uuid", description = "The issuer's UUID."),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 if unchanged."),
    ),
    responses(
        (status = 200, description = "The revocation list.", body = schema::RevocationListDocument,
            content_type = "application/ld+json",
            headers(
                ("ETag" = String, description = "Strong validator of the document."),
                ("Cache-Control" = String, description = "`public, no-cache`: revalidate on every use."),
            )),
        (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`.",
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, description = "No such issuer.", body = schema::ErrorMessage),
        (status = 503, description = "The database is unavailable; retry later.", body = schema::ErrorMessage),
    )
)]
pub(super) async fn revocation_list(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    state.store.issuers().get(id).await?;
    let revoked = state
        .store
        .status_lists()
        .flagged_awards(id, StatusPurpose::Revocation)
        .await?;
    let doc = ob2::revocation_list(id, &revoked, &state.urls);
    Ok(document(
        &request,
        doc.to_string(),
        JSON_LD,
        Freshness::Revalidate,
    ))
}

/// Whether `token` looks like an OB 2.0 signed assertion (a JWS whose
/// payload is an OB 2.0 `Assertion`) rather than a VC-JWT. Nothing is
/// verified here.
pub(super) fn is_ob2_jws(token: &str) -> bool {
    let Ok(payload) = CompactJws::parse(token).and_then(|jws| jws.payload_json()) else {
        return false;
    };
    let context = payload.get("@context");
    context.and_then(Value::as_str) == Some(OB2_CONTEXT)
        || context
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|c| c.as_str() == Some(OB2_CONTEXT)))
        || payload.get("type").and_then(Value::as_str) == Some("Assertion")
}

/// The shape an OB 2.0 signed assertion must have, checked on the payload.
fn check_shape(payload: &Value, report: &mut Report) {
    let verification_type = payload
        .get("verification")
        .and_then(|v| v.get("type"))
        .and_then(Value::as_str);
    let passed = payload.get("type").and_then(Value::as_str) == Some("Assertion")
        && payload.get("id").is_some_and(Value::is_string)
        && payload.get("recipient").is_some_and(Value::is_object)
        && payload.get("badge").is_some()
        && payload.get("issuedOn").is_some_and(Value::is_string)
        && matches!(verification_type, Some("SignedBadge" | "signed"));
    report.checks.push(check(
        "schema",
        passed,
        if passed {
            "an OB 2.0 signed assertion (type, id, recipient, badge, issuedOn, SignedBadge verification)"
        } else {
            "not an OB 2.0 signed assertion: needs type Assertion, an id, a recipient, a badge, issuedOn \
             and verification of type SignedBadge"
        },
    ));
    if !passed {
        report.fail("INVALID_CREDENTIAL");
    }
}

/// The issuer of the badge an assertion names, if it is one of ours.
async fn badge_issuer(state: &AppState, payload: &Value) -> Result<Option<IssuerId>, ApiError> {
    let badge = payload.get("badge");
    let Some(raw) = badge
        .and_then(Value::as_str)
        .or_else(|| badge.and_then(|b| b.get("id")).and_then(Value::as_str))
    else {
        return Ok(None);
    };
    let Ok(id) = crate::requests::achievement_reference(raw, &state.urls) else {
        return Ok(None);
    };
    match state
        .store
        .badge_classes()
        .get(BadgeClassId::from(id))
        .await
    {
        Ok(badge) => Ok(Some(badge.issuer_id)),
        Err(DomainError::NotFound { .. }) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Checks `issuedOn` and `expires` against now.
fn check_window(payload: &Value, report: &mut Report) {
    let now = Timestamp::now();
    let issued = payload
        .get("issuedOn")
        .and_then(Value::as_str)
        .map(Timestamp::parse);
    let expires = payload
        .get("expires")
        .and_then(Value::as_str)
        .map(Timestamp::parse);
    let (passed, message) = match (issued, expires) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => (false, "issuedOn or expires is not a date-time"),
        (None, _) => (false, "issuedOn is missing"),
        (Some(Ok(issued)), _) if issued > now => {
            (false, "not valid yet (issuedOn is in the future)")
        }
        (_, Some(Ok(expires))) if expires <= now => {
            report.expired = true;
            (false, "expired (expires has passed)")
        }
        _ => (true, "issued, and not expired"),
    };
    report.checks.push(check("validityWindow", passed, message));
    if !passed {
        report.fail(if report.expired {
            "EXPIRED"
        } else {
            "NOT_VALID_NOW"
        });
    }
}

/// Verifies an OB 2.0 signed assertion (compact JWS) as OB 2.0 says: the
/// payload's shape; the key its `verification.creator` (or header `kid`)
/// names, which must be one of our RS256 keys, not revoked, owned by the
/// issuer of the assertion's badge; the RS256 signature over the token as
/// given; `issuedOn` / `expires`; and, for one of our assertions, whether it
/// was revoked.
pub(super) async fn verify_ob2_jws(
    state: &AppState,
    token: &str,
) -> Result<HttpResponse, ApiError> {
    let mut report = Report::new();
    let respond = |report: Report, id: Option<&str>| {
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(report.into_json(id))
    };
    let parsed = CompactJws::parse(token).and_then(|jws| Ok((jws.payload_json()?, jws)));
    let (payload, jws) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            report.checks.push(check("proof", false, error.to_string()));
            report.fail("INVALID_SIGNATURE");
            return Ok(respond(report, None));
        }
    };
    let id = payload.get("id").and_then(Value::as_str).map(str::to_owned);
    check_shape(&payload, &mut report);

    let creator = payload
        .get("verification")
        .and_then(|v| v.get("creator"))
        .and_then(Value::as_str);
    let named = match (creator, jws.kid()) {
        (Some(creator), Some(kid)) if creator != kid => None,
        (Some(url), _) | (None, Some(url)) => Some(url),
        (None, None) => None,
    };
    let ours = match named {
        Some(url) => state.signing.our_key_at(url).await?,
        None => None,
    };
    let Some((key, public)) = ours else {
        let message = match (creator, jws.kid(), named) {
            (Some(_), Some(_), None) => {
                "the JWS kid and verification.creator name different keys".to_owned()
            }
            (_, _, Some(url)) => format!("{url} is not a key of this server"),
            _ => "the assertion names no key (verification.creator)".to_owned(),
        };
        report.checks.push(check("keyStatus", false, message));
        report.fail("UNKNOWN_KEY");
        return Ok(respond(report, id.as_deref()));
    };
    let verifies = key.status.verifies();
    report.checks.push(check(
        "keyStatus",
        verifies,
        format!("key {} is {}", key.id, key.status.as_str()),
    ));
    if !verifies {
        report.fail("KEY_REVOKED");
    }
    // The key's owner is its controller; the assertion's issuer is its
    // badge's.
    let issuer = badge_issuer(state, &payload).await?.map(Party::Ours);
    check_issuer_match(
        &state.urls,
        issuer.as_ref(),
        &Party::Ours(key.issuer_id),
        &mut report,
    );
    match (&public, verifies) {
        (_, false) => report.checks.push(check(
            "proof",
            false,
            "the signing key verifies nothing any more",
        )),
        (PublicKey::Ed25519(_), true) => {
            report.checks.push(check(
                "proof",
                false,
                "the creator is an Ed25519 key: OB 2.0 signed assertions are RS256",
            ));
            report.fail("INVALID_SIGNATURE");
        }
        (PublicKey::Rsa(public), true) => match jws.verify_rs256(public) {
            Ok(()) => {
                report.signature = true;
                report
                    .checks
                    .push(check("proof", true, "RS256 JWS signature verified"));
            }
            Err(error) => {
                report.checks.push(check("proof", false, error.to_string()));
                report.fail("INVALID_SIGNATURE");
            }
        },
    }
    check_window(&payload, &mut report);
    // What this server's RevocationList publishes.
    check_our_status(state, id.as_deref(), &mut report).await?;
    Ok(respond(report, id.as_deref()))
}
