//! Keys and verification: an issuer's `did:web` document, its keys (public;
//! rotating and revoking one needs credentials of someone who manages the
//! issuer), the JWKS of every key that still verifies, and verification of
//! a credential of ours by id or of any OB 3.0 credential posted as JSON.
//!
//! Every route but `GET /credentials/{id}/verify` is served on the bare path
//! only (`did:web` resolves `/issuers/<id>/did.json` there); that one is
//! mounted with the credentials, so under `/v2`, `/v3` and `/assertions`
//! too.

mod baked;
mod requests;
pub mod schema;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::*;
use serde_json::{json, Value};

use super::documents::{no_store, Freshness, PublicDocument};
use super::params::path_id;
use crate::auth::Auth;
use crate::cache::{cached, DocumentKey};
use crate::error::ApiError;
use crate::state::AppState;
use openbadges_verify::{publication, Report, Verifier};
use requests::VerifyBody;

/// Bare-path routes (did:web resolves at this path only). `GET
/// /credentials/{id}/verify` is registered with the credentials routes.
pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/issuers/{id}/did.json", web::get().to(did_document))
        .route("/issuers/{id}/keys", web::get().to(list_keys))
        .route("/issuers/{id}/keys/rotate", web::post().to(rotate_key))
        .route(
            "/issuers/{id}/keys/{key}/revoke",
            web::post().to(revoke_key),
        )
        .route("/.well-known/jwks.json", web::get().to(jwks))
        .route("/verify", web::post().to(verify_posted));
}

/// `GET /issuers/{id}/did.json`: the issuer's DID document, listing every
/// key that still verifies (active and retired) as `assertionMethod`.
#[utoipa::path(
    get,
    path = "/issuers/{id}/did.json",
    tag = "verification",
    operation_id = "getIssuerDidDocument",
    summary = "Get an issuer's did:web DID document",
    description = "Public. What a `did:web` resolver fetches for the issuer's DID \
        `did:web:<host>[%3A<port>][:<path>]:issuers:<id>` (host, port and path of `BASE_URL`). Lists every key of \
        the issuer that still verifies (active and retired) as a verification method (Ed25519 keys as \
        `Multikey`, RSA keys as `JsonWebKey`) and in `assertionMethod`; a revoked key is left out. Bare path \
        only. An issuer that has signed nothing yet has no key: its document lists none.",
    params(("id" = String, Path, format = "uuid", description = "The issuer's UUID.")),
    responses(
        (status = 200, description = "The DID document.", body = schema::DidDocument,
            content_type = "application/did+json",
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
        (status = 404, description = "No such issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn did_document(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    cached(&request, &state.documents, DocumentKey::Did(id), async {
        let issuer = state.reads.issuers().get(id).await?;
        let keys = state
            .reads
            .signing_keys()
            .list_for_issuer(issuer.id)
            .await?;
        let document = publication::did_document(&state.urls, issuer.id, &keys)?;
        Ok(PublicDocument::new(
            document.to_string(),
            "application/did+json",
            Freshness::Minutes,
        ))
    })
    .await
}

fn key_json(state: &AppState, key: &SigningKey) -> Value {
    let (retired, revoked) = match key.status {
        KeyStatus::Active => (None, None),
        KeyStatus::Retired { at } => (Some(at.to_rfc3339()), None),
        KeyStatus::Revoked { at } => (None, Some(at.to_rfc3339())),
    };
    let mut json = json!({
        "id": key.id,
        "verificationMethod": state.urls.verification_method(key),
        "algorithm": key.algorithm.as_str(),
        "status": key.status.as_str(),
        "createdAt": key.created_at.to_rfc3339(),
        "retiredAt": retired,
        "revokedAt": revoked,
    });
    match key.algorithm {
        KeyAlgorithm::Ed25519 => json["publicKeyMultibase"] = json!(key.public_key),
        KeyAlgorithm::Rs256 => {
            json["publicKeyPem"] = json!(key.public_key);
            json["cryptographicKey"] = json!(state.urls.cryptographic_key(key.issuer_id, key.id));
        }
    }
    json
}

/// `GET /issuers/{id}/keys`: every key of the issuer with its status
/// (public: these are public keys).
#[utoipa::path(
    get,
    path = "/issuers/{id}/keys",
    tag = "verification",
    operation_id = "listIssuerKeys",
    summary = "List an issuer's signing keys",
    description = "Public (public keys only). Every key the issuer ever had, Ed25519 and RS256, with its status: \
        `active` (signs new credentials), `retired` (replaced by a rotation, still verifies what it signed) or \
        `revoked` (verifies nothing). An RS256 key carries its SPKI PEM and the URL of its OB 2.0 \
        `CryptographicKey`. Not paged: an issuer has few keys. Bare path only.",
    params(("id" = String, Path, format = "uuid", description = "The issuer's UUID.")),
    responses(
        (status = 200, description = "The issuer's keys.", body = Vec<schema::SigningKey>),
        (status = 404, description = "No such issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list_keys(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    state.reads.issuers().get(id).await?;
    let keys = state.reads.signing_keys().list_for_issuer(id).await?;
    Ok(HttpResponse::Ok().json(keys.iter().map(|k| key_json(&state, k)).collect::<Vec<_>>()))
}

/// `POST /issuers/{id}/keys/rotate`: a new key signs from now on; the old
/// one is retired and still verifies what it signed.
#[utoipa::path(
    post,
    path = "/issuers/{id}/keys/rotate",
    tag = "verification",
    operation_id = "rotateIssuerKey",
    summary = "Rotate an issuer's signing key",
    description = "Makes a new Ed25519 key (or, with `?algorithm=RS256`, RSA key) that signs everything issued \
        from now on; the active key of that algorithm is retired: it signs nothing new but still verifies what it \
        signed, and stays in the DID document and the JWKS (an RSA key also in the OB 2.0 profile's `publicKey`). \
        Credentials already issued keep their proofs. No body. Bare path only.",
    params(("id" = String, Path, format = "uuid", description = "The issuer's UUID."), schema::RotateOptions),
    responses(
        (status = 201, description = "The new active key.", body = schema::SigningKey),
        (status = 400, description = "`algorithm` is neither `Ed25519` nor `RS256`.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage the issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn rotate_key(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let algorithm = match super::listing::ListQuery::of(&request).get(&["algorithm"]) {
        None => KeyAlgorithm::Ed25519,
        Some(raw) => {
            KeyAlgorithm::parse(raw).map_err(|e| DomainError::invalid("algorithm", e.0))?
        }
    };
    let issuer = state.store.issuers().get(id).await?;
    actor.may_manage(&issuer)?;
    let key = state.signing.keys().rotate(id, algorithm).await?;
    Ok(HttpResponse::Created().json(key_json(&state, &key)))
}

/// `POST /issuers/{id}/keys/{key}/revoke`: the key verifies nothing from
/// now on (for a compromised key); credentials it signed fail verification.
#[utoipa::path(
    post,
    path = "/issuers/{id}/keys/{key}/revoke",
    tag = "verification",
    operation_id = "revokeIssuerKey",
    summary = "Revoke one of an issuer's signing keys",
    description = "For a compromised key: from now on it verifies nothing, so every credential it signed fails \
        verification (`KEY_REVOKED`), and it leaves the DID document and the JWKS. Final. If it was the active \
        key, the next credential issued gets a new key. Re-issue (`PUT /credentials/{id}`) what should stay \
        valid. No body. Bare path only.",
    params(
        ("id" = String, Path, format = "uuid", description = "The issuer's UUID."),
        ("key" = String, Path, format = "uuid", description = "The key's UUID (`id` in `GET /issuers/{id}/keys`)."),
    ),
    responses(
        (status = 200, description = "Revoked: the key with its new status.", body = schema::SigningKey),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage the issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such issuer, or no such key of this issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn revoke_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (issuer_id, key_id) = path.into_inner();
    let issuer_id: IssuerId = path_id(&issuer_id, "issuer")?;
    let key_id: SigningKeyId = path_id(&key_id, "signing key")?;
    let issuer = state.store.issuers().get(issuer_id).await?;
    actor.may_manage(&issuer)?;
    let key = state
        .signing
        .keys()
        .revoke(issuer_id, key_id, Timestamp::now())
        .await?;
    Ok(HttpResponse::Ok().json(key_json(&state, &key)))
}

/// `GET /.well-known/jwks.json`: every key that still verifies, as JWKs
/// whose `kid` is the key's verification method.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "verification",
    operation_id = "getJwks",
    summary = "Get the public keys of every issuer as a JWKS",
    description = "Public. Every key of every issuer that still verifies (active and retired; never a revoked \
        one): Ed25519 keys as RFC 8037 `OKP` JSON Web Keys (`alg` `EdDSA`), RSA keys as RFC 7518 `RSA` ones (`n`, \
        `e`, `alg` `RS256`), each with the key's verification method (`<issuer did>#key-<key id>`) as `kid`: \
        what the `kid` of a VC-JWT names. Bare path only.",
    responses(
        (status = 200, description = "The key set.", body = schema::Jwks,
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut keys = Vec::new();
    let mut offset = 0;
    loop {
        let page = state
            .reads
            .signing_keys()
            .list_verifying(PageRequest::new(PageRequest::MAX_LIMIT, offset)?)
            .await?;
        keys.extend(
            page.items
                .iter()
                .filter_map(|key| publication::jwk(&state.urls, key)),
        );
        offset += page.items.len() as u64;
        if page.items.is_empty() || offset >= page.total {
            break;
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", Freshness::Minutes.cache_control()))
        .json(json!({ "keys": keys })))
}

/// `GET /credentials/{id}/verify`: verifies one of our credentials as a
/// verifier would: proof, key status, issuer, validity window, status.
#[utoipa::path(
    get,
    path = "/credentials/{id}/verify",
    tag = "verification",
    operation_id = "verifyCredential",
    summary = "Verify a credential of this server",
    description = "Public. Verifies the credential as it was issued (its OB 3.0 form with its proof), as a \
        verifier would: its shape (`schema`), the proof's key (`keyStatus`: known and not revoked; \
        `issuerMatch`: controlled by the credential's issuer), the `eddsa-rdfc-2022` signature (`proof`), `validFrom` / \
        `validUntil` (`validityWindow`) and whether it was revoked or suspended (`status`). A credential issued \
        with `?sign=false` has no proof: `NO_PROOF`. A revoked credential answers 200 with `errorCode: REVOKED` \
        here (not 410). Served under every prefix, and under `/assertions`.",
    params(("id" = String, Path, format = "uuid", description = "The credential's UUID.")),
    responses(
        (status = 200, description = "The verification report, whatever its outcome.",
            body = schema::VerificationReport,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 404, description = "No such credential (or the id is not a UUID).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
pub(super) async fn verify_stored(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: AssertionId = path_id(&id, "credential")?;
    let report = verifier(&state).verify_stored(id).await?;
    Ok(answer(&report))
}

/// The verifier over the server's records (through the read view:
/// verifying writes nothing), keys and base URL, fetching the DID documents
/// of other servers' did:web issuers through the outbound guard.
pub(crate) fn verifier(state: &AppState) -> Verifier<'_> {
    Verifier::new(state.reads.as_ref(), &state.urls, state.signing.integrity())
        .with_resolver(state.outbound.dids.as_ref())
        .with_memo(&state.proofs)
        .with_records(state.records.as_ref())
}

/// A report as the verification routes answer it.
fn answer(report: &Report) -> HttpResponse {
    no_store(StatusCode::OK).json(report.to_json())
}

/// `POST /verify` with an OB 3.0 credential (JSON): ours, or a did:key
/// issuer's signed with that did:key.
#[utoipa::path(
    post,
    path = "/verify",
    tag = "verification",
    operation_id = "verifyPostedCredential",
    summary = "Verify a credential given as JSON, VC-JWT or JWS",
    description = "Public. Verifies a credential as given: an OB 3.0 credential as JSON, a VC-JWT (EdDSA or \
        RS256) or an OB 2.0 signed assertion (an RS256 compact JWS whose `verification.creator` is one of this \
        server's `CryptographicKey` URLs: the key must not be revoked and must belong to the issuer of the \
        assertion's badge; then `issuedOn` / `expires` and, for one of this server's assertions, revocation). \
        For a JSON credential: its shape, its proof (one of this server's issuer \
        keys, named `<issuer did>#key-<key id>`, not revoked; or a `did:key`), that the proof's key is \
        controlled by the credential's issuer (`issuerMatch`: one of that issuer's keys for one of this \
        server's issuers, by did:web or profile URL; the issuer's own did:key for a did:key issuer; otherwise \
        `ISSUER_MISMATCH`, naming both), the `eddsa-rdfc-2022` signature over the document as posted (any \
        change after signing gives `INVALID_SIGNATURE`), and `validFrom` / `validUntil` (for a VC-JWT, its \
        `nbf` and `exp` too). When its `id` is the URL of one \
        of this server's credentials, whether that credential was revoked or suspended too. JSON-LD contexts \
        are never fetched: a credential using a context that is not bundled, or a term its contexts do not \
        define, fails the `proof` check. Bare path only.",
    request_body(
        description = "The credential, or `{\"credential\": {...}}`; a VC-JWT or OB 2.0 signed assertion as a JSON \
            string (`\"eyJ...\"`) or `{\"credential\": \"eyJ...\"}`, read as JSON whatever the `Content-Type`; or, \
            as the OB 3.0 API posts it, the compact VC-JWT or JWS itself as the raw body with `Content-Type: \
            application/vc+jwt`, `application/jose` or `text/plain` (a JSON body with one of these types is still \
            read as JSON); or a baked badge image, PNG or SVG, as the raw body (`Content-Type: image/png` or \
            `image/svg+xml`) or the part `file` of a `multipart/form-data` body: what it has baked in is \
            verified (an OB 3.0 credential or VC-JWT, an OB 2.0 signed assertion, or the URL of one of this \
            server's assertions; other servers' URLs are not fetched).",
        content(
            (schema::VerifyRequest = "application/json"),
            (String = "application/vc+jwt", example = "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJ...fQ.c2ln"),
            (String = "application/jose"),
            (String = "text/plain"),
            (Vec<u8> = "image/png"),
            (Vec<u8> = "image/svg+xml"),
            (crate::api::assets::schema::AssetUpload = "multipart/form-data"),
        )),
    responses(
        (status = 200, description = "The verification report, whatever its outcome.",
            body = schema::VerificationReport,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "The body is not JSON (nor, with a token media type, a compact JWS), too \
            large or nested too deeply; or an image holds no baked badge (`image`), or bakes the URL of an \
            assertion that is not this server's.",
            body = super::schema::ValidationError),
        (status = 413, description = "A posted image is larger than `ASSETS_MAX_FILE_SIZE`.",
            body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn verify_posted(
    state: web::Data<AppState>,
    body: VerifyBody,
) -> Result<HttpResponse, ApiError> {
    let document = match body {
        VerifyBody::Token(token) => Value::String(token),
        VerifyBody::Json(document) => document,
        VerifyBody::Image(image) => {
            let verifier = verifier(&state);
            return Ok(answer(
                &baked::verify_image(&state, &verifier, &image).await?,
            ));
        }
    };
    let token = match &document {
        Value::String(token) => Some(token.as_str()),
        _ => document.get("credential").and_then(Value::as_str),
    };
    let verifier = verifier(&state);
    let report = match token {
        Some(token) => verifier.verify_token(token).await?,
        None => match document.get("credential") {
            Some(inner @ Value::Object(_)) => verifier.verify_json(inner).await?,
            _ => verifier.verify_json(&document).await?,
        },
    };
    Ok(answer(&report))
}
