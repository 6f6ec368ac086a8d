//! Open Badges 2.0 signed verification: assertions as compact JWS (RS256)
//! signed with the issuer's RSA key, the key published as a
//! `CryptographicKey`, and the issuer's `RevocationList`. Such a JWS posted
//! to `POST /verify` is verified by `openbadges-verify`.
//!
//! The key and revocation list routes are served on the bare path only,
//! like the other key routes; the JWS itself is the `/v2` rendering of a
//! credential (`GET /v2/credentials/{id}` with `Accept: application/jose`
//! or `?format=jws`).

pub mod schema;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::documents::{ob2, Version};
use openbadges_domain::*;
use serde_json::{json, Map};

use super::documents::{document, not_acceptable, token, Freshness, JOSE, JSON_LD};
use super::listing::ListQuery;
use super::params::path_id;
use crate::error::ApiError;
use crate::state::AppState;

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
        return Ok(not_acceptable(
            "OB 2.0 signed assertions are served under /v2: GET /v2/credentials/{id}?format=jws",
        ));
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
    let jws = state.signing.sign_rs256(&key, header, &payload).await?;
    Ok(token(JOSE, jws))
}

/// The award as an OB 2.0 signed assertion's compact JWS, as
/// [`assertion_jws`] answers it: for baking into a badge image
/// (`GET /v2/credentials/{id}/image?signed=true`).
pub(crate) async fn assertion_jws_text(
    state: &AppState,
    award: &Assertion,
) -> Result<String, DomainError> {
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
    state.signing.sign_rs256(&key, header, &payload).await
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
            body = super::schema::ErrorMessage),
        (status = 410, description = "The key was revoked: it verifies nothing.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
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
    let key = match state.reads.signing_keys().get(key_id).await {
        Ok(key) if key.issuer_id == issuer_id && key.algorithm == KeyAlgorithm::Rs256 => key,
        Ok(_) | Err(DomainError::NotFound { .. }) => return Err(not_found().into()),
        Err(other) => return Err(other.into()),
    };
    if !key.status.verifies() {
        return Ok(HttpResponse::Gone()
            .insert_header((header::CACHE_CONTROL, Freshness::Minutes.cache_control()))
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
        (status = 404, description = "No such issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
pub(super) async fn revocation_list(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    state.reads.issuers().get(id).await?;
    let revoked = state
        .reads
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
