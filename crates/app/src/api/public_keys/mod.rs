//! `/public-keys`: the previous server's listing of the public keys, over
//! the issuers' signing keys (the same keys as the JWKS and the DID
//! documents, one list for every issuer).

pub mod schema;

use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::documents::Version;
use openbadges_domain::*;
use openbadges_verify::publication;
use serde_json::{json, Value};

use super::listing::{page_response, ListQuery};
use super::params::path_id;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/public-keys", web::get().to(list))
        .route("/public-keys/{id}", web::get().to(get));
}

/// One key: its JWK (with `kid`, its verification method, and `alg`), its
/// issuer and its status.
fn public_key(state: &AppState, key: &SigningKey) -> Value {
    json!({
        "id": key.id,
        "kid": state.urls.verification_method(key),
        "alg": match key.algorithm {
            KeyAlgorithm::Ed25519 => "EdDSA",
            KeyAlgorithm::Rs256 => "RS256",
        },
        "algorithm": key.algorithm.as_str(),
        "issuer": state.urls.issuer(Version::V3, key.issuer_id),
        "issuerId": key.issuer_id,
        "status": key.status.as_str(),
        "createdAt": key.created_at.to_rfc3339(),
        "publicKeyJwk": publication::jwk(&state.urls, key),
    })
}

#[utoipa::path(
    get,
    path = "/public-keys",
    tag = "verification",
    operation_id = "listPublicKeys",
    summary = "List the public keys of every issuer",
    description = "Public. Every key of every issuer that still verifies (active and retired; never a revoked \
        one), oldest first, paged like the other lists: the keys of `/.well-known/jwks.json`, each with its \
        issuer and status.",
    params(super::schema::Paging),
    responses(
        (status = 200, description = "A page of public keys.", body = Vec<schema::PublicKey>,
            headers(
                ("X-Total-Count" = u64, description = "How many keys there are in all."),
                ("Link" = String, description = "RFC 8288 links to the `first`, `prev`, `next` and `last` pages."),
            )),
        (status = 400, description = "`limit` or `offset` is out of range.", body = super::schema::ValidationError),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::of(&request);
    let page_request = query.page()?;
    let page = state
        .reads
        .signing_keys()
        .list_verifying(page_request)
        .await?;
    let docs: Vec<Value> = page.items.iter().map(|k| public_key(&state, k)).collect();
    Ok(page_response(
        &request,
        state.urls.base(),
        &query,
        page_request,
        &page,
        docs,
    ))
}

#[utoipa::path(
    get,
    path = "/public-keys/{id}",
    tag = "verification",
    operation_id = "getPublicKey",
    summary = "Get one public key",
    description = "Public. One key of an issuer, whatever its status (a revoked key says so).",
    params(("id" = String, Path, format = "uuid", description = "The key's UUID (or `urn:uuid:<UUID>`).")),
    responses(
        (status = 200, description = "The key.", body = schema::PublicKey),
        (status = 404, description = "No such key.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn get(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id: SigningKeyId = path_id(&id, "public key")?;
    let key = state.reads.signing_keys().get(id).await?;
    Ok(HttpResponse::Ok().json(public_key(&state, &key)))
}
