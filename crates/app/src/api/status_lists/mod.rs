//! `/status-lists`: the issuers' W3C Bitstring Status Lists.
//!
//! A list is published twice: at `/status-lists/{id}` for revocation (the
//! URL every OB 3.0 credential's `credentialStatus` names) and at
//! `/status-lists/{id}/suspension` for suspension, with the same indices.
//! The bits are read from the awards' status on every request, so every
//! instance publishes the same list; only the signature is reused while
//! the bits and the issuer's active key are unchanged.

pub mod schema;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_credentials::bitstring;
use openbadges_domain::documents::ob3;
use openbadges_domain::service;
use openbadges_domain::*;
use serde_json::{json, Value};

use super::body::JsonBody;
use super::documents::{Freshness, PublicDocument, VC_JSON_LD};
use super::listing::ListQuery;
use super::params::path_id;
use crate::auth::Auth;
use crate::cache::{cached, DocumentKey};
use crate::error::ApiError;
use crate::requests::{Body, Errors};
use crate::state::AppState;
use openbadges_domain::documents::Urls;

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(web::Data::new(SignedLists::default()))
        .route("/status-lists", web::get().to(list))
        .route("/status-lists", web::post().to(create))
        .route("/status-lists/{id}", web::get().to(revocation))
        .route("/status-lists/{id}/suspension", web::get().to(suspension))
        .route("/status-lists/{id}/stats", web::get().to(stats));
}

/// How long a signed list is served again while its bits and its issuer's
/// active key do not change. A changed bit or key is published at once;
/// this only spares a signature.
const REUSE_SIGNATURE: Duration = Duration::from_secs(300);
/// Signed lists kept per worker; past that the oldest is dropped.
const MAX_SIGNED_LISTS: usize = 1024;

/// Signed list credentials by list and purpose, with the `encodedList`
/// they were signed over and the key that signed them.
#[derive(Default)]
struct SignedLists(Mutex<HashMap<(StatusListId, StatusPurpose), SignedList>>);

struct SignedList {
    encoded: String,
    /// A list is served again only while this key is still its issuer's
    /// active key (read from the database on every request): a rotation
    /// or revocation through any instance ends the reuse on all of them.
    key: SigningKeyId,
    document: IssuedCredential,
    signed_at: Instant,
}

impl SignedLists {
    fn reusable(
        &self,
        key: (StatusListId, StatusPurpose),
        encoded: &str,
        signer: SigningKeyId,
    ) -> Option<IssuedCredential> {
        let lists = self.0.lock().ok()?;
        lists
            .get(&key)
            .filter(|s| {
                s.encoded == encoded && s.key == signer && s.signed_at.elapsed() < REUSE_SIGNATURE
            })
            .map(|s| s.document.clone())
    }

    fn keep(
        &self,
        key: (StatusListId, StatusPurpose),
        encoded: String,
        signer: SigningKeyId,
        document: IssuedCredential,
    ) {
        if let Ok(mut lists) = self.0.lock() {
            if lists.len() >= MAX_SIGNED_LISTS && !lists.contains_key(&key) {
                let oldest = lists
                    .iter()
                    .min_by_key(|(_, s)| s.signed_at)
                    .map(|(k, _)| *k);
                if let Some(oldest) = oldest {
                    lists.remove(&oldest);
                }
            }
            let signed_at = Instant::now();
            lists.insert(
                key,
                SignedList {
                    encoded,
                    key: signer,
                    document,
                    signed_at,
                },
            );
        }
    }
}

/// The signed `BitstringStatusListCredential` of list `id` for `purpose`.
async fn status_list_credential(
    state: &AppState,
    signed: &SignedLists,
    id: StatusListId,
    purpose: StatusPurpose,
) -> Result<IssuedCredential, ApiError> {
    let lists = state.reads.status_lists();
    let list = lists.get(id).await?;
    let flagged = lists.flagged(id, purpose).await?;
    let encoded = bitstring::encode(list.capacity, flagged)
        .map_err(|e| DomainError::Internal(format!("status list {id}: {e}")))?;
    // The key that signs now (an indexed read), so that a list signed by a
    // key since retired or revoked is never served again.
    let key = state.signing.active_key(list.issuer_id).await?;
    if let Some(document) = signed.reusable((id, purpose), &encoded, key.id) {
        return Ok(document);
    }
    let unsigned =
        ob3::status_list_credential(&list, purpose, &encoded, Timestamp::now(), &state.urls);
    let document = state.signing.sign_with(&key, unsigned).await?;
    signed.keep((id, purpose), encoded, key.id, document.clone());
    Ok(document)
}

async fn publish(
    request: &HttpRequest,
    state: &AppState,
    signed: &SignedLists,
    id: &str,
    purpose: StatusPurpose,
) -> Result<HttpResponse, ApiError> {
    let id: StatusListId = path_id(id, "status list")?;
    let key = DocumentKey::StatusList(id, purpose);
    cached(request, &state.documents, key, async {
        let signed_list = status_list_credential(state, signed, id, purpose).await?;
        Ok(PublicDocument::new(
            signed_list.json().to_owned(),
            VC_JSON_LD,
            Freshness::StatusList,
        ))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/status-lists/{id}",
    tag = "status lists",
    operation_id = "getRevocationList",
    summary = "Get a revocation status list",
    description = "Public: the signed `BitstringStatusListCredential` (W3C Bitstring Status List v1.0, \
        `statusPurpose: revocation`) that OB 3.0 credentials name in `credentialStatus.statusListCredential`. \
        Bit `statusListIndex` is 1 when that credential is revoked. The list and the issuer's active key are \
        read from the database on every request, so every instance serves the same bits, signed by the key \
        that signs now (after a key rotation or revocation, at once); caches may keep it for 60 seconds, so a \
        cached copy may be signed by a key revoked within the last minute.",
    params(("id" = String, Path, format = "uuid", description = "The list's UUID.")),
    responses(
        (status = 200, description = "The signed status list credential.",
            body = schema::StatusListCredential, content_type = "application/vc+ld+json",
            headers(
                ("ETag" = String, description = "Strong validator of the document."),
                ("Cache-Control" = String, description = "`public, max-age=60`."),
            )),
        (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`."),
        (status = 404, description = "No such list.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn revocation(
    request: HttpRequest,
    state: web::Data<AppState>,
    signed: web::Data<SignedLists>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    publish(&request, &state, &signed, &id, StatusPurpose::Revocation).await
}

#[utoipa::path(
    get,
    path = "/status-lists/{id}/suspension",
    tag = "status lists",
    operation_id = "getSuspensionList",
    summary = "Get a suspension status list",
    description = "Public: the same list as `/status-lists/{id}` published for `statusPurpose: suspension`; \
        bit `statusListIndex` is 1 while that credential is suspended.",
    params(("id" = String, Path, format = "uuid", description = "The list's UUID.")),
    responses(
        (status = 200, description = "The signed status list credential.",
            body = schema::StatusListCredential, content_type = "application/vc+ld+json",
            headers(
                ("ETag" = String, description = "Strong validator of the document."),
                ("Cache-Control" = String, description = "`public, max-age=60`."),
            )),
        (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`."),
        (status = 404, description = "No such list.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn suspension(
    request: HttpRequest,
    state: web::Data<AppState>,
    signed: web::Data<SignedLists>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    publish(&request, &state, &signed, &id, StatusPurpose::Suspension).await
}

fn report(state: &AppState, list: &StatusList, counts: StatusCounts) -> Value {
    let available = list.capacity.saturating_sub(list.allocated);
    // Two decimals, as the previous server reported it.
    let utilization = if list.capacity == 0 {
        0.0
    } else {
        (f64::from(list.allocated) * 10_000.0 / f64::from(list.capacity)).round() / 100.0
    };
    json!({
        // The previous server's names, which its clients read.
        "totalEntries": list.capacity,
        "usedEntries": list.allocated,
        "availableEntries": available,
        "utilizationPercent": utilization,
        "id": list.id,
        "issuer": list.issuer_id,
        "capacity": list.capacity,
        "allocated": list.allocated,
        "revoked": counts.revoked,
        "suspended": counts.suspended,
        "revocationList": state.urls.status_list(list.id, StatusPurpose::Revocation),
        "suspensionList": state.urls.status_list(list.id, StatusPurpose::Suspension),
        "createdAt": list.created_at.to_rfc3339(),
    })
}

#[utoipa::path(
    get,
    path = "/status-lists/{id}/stats",
    tag = "status lists",
    operation_id = "getStatusListStats",
    summary = "Count a status list's bits",
    description = "How many bits the list has, has handed out, and how many of its credentials are revoked \
        and suspended. For those who may read the issuer's credentials.",
    params(("id" = String, Path, format = "uuid", description = "The list's UUID.")),
    responses(
        (status = 200, description = "The list's counts.", body = schema::StatusListReport),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not read this issuer's credentials.", body = super::schema::Forbidden),
        (status = 404, description = "No such list.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn stats(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: StatusListId = path_id(&id, "status list")?;
    let (list, counts) = service::status_list_report(state.store.as_ref(), &actor, id).await?;
    Ok(HttpResponse::Ok().json(report(&state, &list, counts)))
}

#[utoipa::path(
    get,
    path = "/status-lists",
    tag = "status lists",
    operation_id = "listStatusLists",
    summary = "List an issuer's status lists",
    description = "The status lists of one issuer, oldest first, with their counts. Lists are made as \
        credentials are issued (131,072 bits each), or ahead of need by `POST /status-lists`.",
    params(("issuer" = String, Query, description = "The issuer (required): its UUID, `urn:uuid:<UUID>` or its URL.")),
    responses(
        (status = 200, description = "The issuer's lists.", body = Vec<schema::StatusListReport>),
        (status = 400, description = "`issuer` is missing or names no issuer of this server.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not read this issuer's credentials.", body = super::schema::Forbidden),
        (status = 404, description = "No such issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let issuer: IssuerId = match ListQuery::of(&request).get(&["issuer", "issuerId"]) {
        Some(raw) => crate::requests::issuer_reference(raw, &state.urls)
            .map(IssuerId::from)
            .map_err(|e| DomainError::invalid("issuer", e.0))?,
        None => return Err(DomainError::invalid("issuer", "is required").into()),
    };
    let reports = service::status_lists_of(state.store.as_ref(), &actor, issuer).await?;
    let body: Vec<Value> = reports
        .iter()
        .map(|(list, counts)| report(&state, list, *counts))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `{"issuer": <reference>, "purpose"?: "revocation" | "suspension"}`.
fn create_body(body: &Value, urls: &Urls) -> Result<(IssuerId, StatusPurpose), DomainError> {
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    let issuer = b
        .iri_or_object(&["issuer", "issuerId"], true, &mut errors)
        .and_then(|(field, raw)| {
            crate::requests::issuer_reference(raw, urls)
                .map(IssuerId::from)
                .map_err(|e| errors.add(field, e.0))
                .ok()
        });
    let purpose = match b.string(&["purpose", "statusPurpose"], false, &mut errors) {
        None | Some((_, "revocation")) => Some(StatusPurpose::Revocation),
        Some((_, "suspension")) => Some(StatusPurpose::Suspension),
        Some((key, _)) => {
            errors.add(b.path(key), "must be revocation or suspension");
            None
        }
    };
    errors.finish(|| Some((issuer?, purpose?)))
}

/// `POST /status-lists`: the previous server's way to make a list.
#[utoipa::path(
    post,
    path = "/status-lists",
    tag = "status lists",
    operation_id = "createStatusList",
    summary = "Create a status list",
    description = "Makes an empty status list (131,072 bits) for an issuer now; lists are otherwise made as \
        credentials are issued, and this one is used once the issuer's older lists are full. Every list is \
        published for both purposes; `purpose` only chooses which URL `statusListCredential` gives. Needs \
        credentials of someone who manages the issuer.",
    request_body(content = schema::StatusListRequest),
    responses(
        (status = 201, description = "Created: the list's counts.", body = schema::StatusListReport,
            headers(("Location" = String, description = "The list credential's URL for `purpose`."))),
        (status = 400, description = "`issuer` is missing or names no issuer, or `purpose` is unknown.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write, or does not manage the issuer.",
            body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn create(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let (issuer, purpose) = create_body(&body, &state.urls)?;
    let list = service::create_status_list(state.store.as_ref(), &actor, issuer).await?;
    let url = state.urls.status_list(list.id, purpose);
    let mut report = report(&state, &list, StatusCounts::default());
    report["purpose"] = json!(purpose.as_str());
    report["statusListCredential"] = json!(url);
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, url))
        .json(report))
}
