//! `/issuers`: issuer profiles.

pub(crate) mod requests;
pub mod schema;

use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::documents::{ob2, ob3, Version};
use openbadges_domain::ports::{BadgeClassFilter, IssuerFilter};
use openbadges_domain::{service, DomainError, Issuer, IssuerId, KeyAlgorithm, SigningKeyId};
use serde_json::Value;

use super::documents::{created, media_type, Freshness, PublicDocument};
use super::listing::{page_response, ListQuery};
use super::params::{delete_mode, path_id};
use crate::auth::Auth;
use crate::cache::{cached, DocumentKey};
use crate::error::ApiError;
use crate::state::AppState;

use super::body::{JsonBody, JsonText};

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("", web::post().to(create))
        .route("", web::get().to(list))
        .route("/{id}", web::get().to(get))
        // HEAD answers like GET without the body (RFC 9110 9.3.2).
        .route("/{id}", web::head().to(get))
        .route("/{id}", web::put().to(update))
        .route("/{id}", web::patch().to(patch))
        .route("/{id}", web::delete().to(delete))
        .route("/{id}/achievements", web::get().to(achievements));
}

/// The profile in `version`. The OB 2.0 profile names the issuer's RS256
/// keys that still verify (`publicKey`, read from `store`) and then its
/// `revocationList`.
pub(super) async fn render(
    issuer: &Issuer,
    version: Version,
    state: &AppState,
    store: &dyn openbadges_domain::ports::Store,
) -> Result<Value, DomainError> {
    Ok(match version {
        Version::V2 => {
            let keys: Vec<SigningKeyId> = store
                .signing_keys()
                .list_for_issuer(issuer.id)
                .await?
                .into_iter()
                .filter(|k| k.algorithm == KeyAlgorithm::Rs256 && k.status.verifies())
                .map(|k| k.id)
                .collect();
            ob2::profile(issuer, &state.urls, &keys)
        }
        Version::V3 => ob3::profile(issuer, &state.urls),
    })
}

#[utoipa::path(
    post,
    path = "/issuers",
    tag = "issuers",
    operation_id = "createIssuer",
    summary = "Create an issuer",
    request_body(content = schema::IssuerRequest, description = "The issuer. Read as JSON whatever the `Content-Type`."),
    responses(
        (status = 201, description = "Created: the issuer profile.", body = schema::IssuerDocument,
            content_type = "application/ld+json",
            headers(("Location" = String, description = "The new issuer's URL (its `id`)."))),
        (status = 400, description = "A field does not validate, or the body is not a JSON object.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or uses a key scoped to one issuer.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn create(
    state: web::Data<AppState>,
    version: web::Data<Version>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let draft = requests::issuer_draft(&body, &state.urls, None)?;
    let issuer = service::create_issuer(state.store.as_ref(), &actor, draft).await?;
    Ok(created(
        &render(&issuer, **version, &state, state.store.as_ref()).await?,
        media_type(**version, false),
    ))
}

#[utoipa::path(
    get,
    path = "/issuers",
    tag = "issuers",
    operation_id = "listIssuers",
    summary = "List issuers",
    params(super::schema::Paging),
    responses(
        (status = 200, description = "A page of issuer profiles.", body = Vec<schema::IssuerDocument>,
            headers(
                ("X-Total-Count" = u64, description = "How many issuers there are in all."),
                ("Link" = String, description = "RFC 8288 links to the `first`, `prev`, `next` and `last` pages."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 400, description = "`limit` or `offset` is out of range.", body = super::schema::ValidationError),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::of(&request);
    let page_request = query.page()?;
    let reads = state.reads.as_ref();
    let page = reads
        .issuers()
        .list(&IssuerFilter::default(), page_request)
        .await?;
    let mut docs = Vec::with_capacity(page.items.len());
    for issuer in &page.items {
        docs.push(render(issuer, **version, &state, reads).await?);
    }
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
    path = "/issuers/{id}",
    tag = "issuers",
    operation_id = "getIssuer",
    summary = "Get an issuer profile",
    description = "Public: the URL of an issuer is its `id`. Conditional with `If-None-Match`. \
        The OB 3.0 document lists its active endorsements in `endorsement` (and `endorsementJwt`). \
        A browser (`Accept` naming `text/html` ahead of JSON, or `?format=html`) gets its page (`text/html`, \
        docs/pages.md).",
    params(
        ("id" = String, Path, format = "uuid", description = "The issuer's UUID."),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 if unchanged."),
    ),
    responses(
        (status = 200, description = "The issuer profile.", content((schema::IssuerDocument = "application/ld+json"), (String = "text/html")),
            headers(
                ("ETag" = String, description = "Strong validator of the document."),
                ("Cache-Control" = String, description = "`public, max-age=300`."),
                ("Vary" = String, description = "`Accept`."),
            )),
        (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`.",
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, description = "No such issuer (or the id is not a UUID).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn get(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let reads = state.reads.as_ref();
    if crate::pages::wants_html(&request) {
        let issuer = reads.issuers().get(id).await?;
        let doc = render(&issuer, crate::pages::PAGE_VERSION, &state, reads).await?;
        return Ok(crate::pages::issuer(&doc, state.urls.base())?);
    }
    let key = DocumentKey::Issuer(id, **version);
    cached(&request, &state.documents, key, async {
        let issuer = reads.issuers().get(id).await?;
        let rendered = render(&issuer, **version, &state, reads).await?;
        let subject = openbadges_domain::EndorsedSubject::Issuer(id);
        let rendered =
            super::endorsements::with_endorsements(reads, subject, **version, rendered).await?;
        Ok(PublicDocument::new(
            rendered.to_string(),
            media_type(**version, false),
            Freshness::Minutes,
        ))
    })
    .await
}

#[utoipa::path(
    put,
    path = "/issuers/{id}",
    tag = "issuers",
    operation_id = "updateIssuer",
    summary = "Update an issuer",
    description = "A partial update, as the previous server did: the body is applied to the stored profile \
        (its OB 3.0 document) as a JSON merge patch (RFC 7396): fields the body leaves out are kept, `null` \
        removes an optional field, and the result is validated whole. `PATCH` does the same. The issuer is \
        looked up (404) and its management checked (403) before the body is read.",
    params(("id" = String, Path, description = "The issuer's id: its UUID, `urn:uuid:<UUID>` or its URL \
        (raw or percent-encoded).")),
    request_body(content = schema::IssuerRequest, description = "The fields to change (any subset)."),
    responses(
        (status = 200, description = "The updated issuer profile.", body = schema::IssuerDocument,
            content_type = "application/ld+json"),
        (status = 400, description = "A field does not validate, or the body is not a JSON object.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage this issuer (neither its owner nor an administrator, or a key \
            scoped to another issuer).", body = super::schema::Forbidden),
        (status = 404, description = "No such issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn update(
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
    Auth(actor): Auth,
    body: JsonText,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let current = state.store.issuers().get(id).await?;
    actor.may_manage(&current)?;
    let subject = openbadges_domain::EndorsedSubject::Issuer(id);
    let stored = ob3::profile(&current, &state.urls);
    let stored =
        super::endorsements::with_endorsements(state.store.as_ref(), subject, Version::V3, stored)
            .await?;
    let mut merged = super::merge::issuer(stored.clone(), &body.value()?);
    super::endorsements::drop_unchanged(&mut merged, &stored);
    // An issuer stored without an e-mail (by the previous server) can be
    // renamed without giving one.
    let draft = requests::issuer_draft_with(
        &merged,
        &state.urls,
        Some(id.as_uuid()),
        current.email.is_some(),
    )?;
    let issuer = service::update_issuer(state.store.as_ref(), &actor, id, draft).await?;
    Ok(HttpResponse::Ok()
        .content_type(media_type(**version, false))
        .body(
            render(&issuer, **version, &state, state.store.as_ref())
                .await?
                .to_string(),
        ))
}

/// `PATCH /issuers/{id}`: the same partial update as `PUT`.
#[utoipa::path(
    patch,
    path = "/issuers/{id}",
    tag = "issuers",
    operation_id = "patchIssuer",
    summary = "Update an issuer (as PUT)",
    description = "The same partial update as `PUT /issuers/{id}` (a JSON merge patch, RFC 7396).",
    params(("id" = String, Path, description = "The issuer's id: its UUID, `urn:uuid:<UUID>` or its URL.")),
    request_body(content = schema::IssuerRequest, description = "The fields to change (any subset)."),
    responses(
        (status = 200, description = "The updated issuer profile.", body = schema::IssuerDocument,
            content_type = "application/ld+json"),
        (status = 400, description = "A field does not validate, or the body is not a JSON object.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write, or does not manage this issuer.",
            body = super::schema::Forbidden),
        (status = 404, description = "No such issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn patch(
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
    actor: Auth,
    body: JsonText,
) -> Result<HttpResponse, ApiError> {
    update(state, version, id, actor, body).await
}

/// `DELETE /issuers/{id}[?cascade=true]`: refused with 409 while the
/// issuer's badges have been awarded, unless `cascade` is true.
#[utoipa::path(
    delete,
    path = "/issuers/{id}",
    tag = "issuers",
    operation_id = "deleteIssuer",
    summary = "Delete an issuer",
    description = "Refused with 409 while the issuer's badges have been awarded, unless `cascade=true`, \
        which deletes its achievements and their awards too.",
    params(("id" = String, Path, format = "uuid", description = "The issuer's UUID."), super::schema::DeleteOptions),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "`cascade` is neither `true` nor `false`.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage this issuer (neither its owner nor an administrator, or a key \
            scoped to another issuer).", body = super::schema::Forbidden),
        (status = 404, description = "No such issuer.", body = super::schema::ErrorMessage),
        (status = 409, description = "Its badges have been awarded and `cascade` is not `true`.",
            body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn delete(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let mode = delete_mode(&request)?;
    service::delete_issuer(state.store.as_ref(), &actor, id, mode).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /issuers/{id}/achievements`: the issuer's badge classes.
#[utoipa::path(
    get,
    path = "/issuers/{id}/achievements",
    tag = "issuers",
    operation_id = "listIssuerAchievements",
    summary = "List an issuer's achievements",
    params(("id" = String, Path, format = "uuid", description = "The issuer's UUID."), super::schema::Paging),
    responses(
        (status = 200, description = "A page of the issuer's achievements.", body = Vec<super::achievements::schema::AchievementDocument>,
            headers(
                ("X-Total-Count" = u64, description = "How many achievements the issuer has in all."),
                ("Link" = String, description = "RFC 8288 links to the `first`, `prev`, `next` and `last` pages."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 400, description = "`limit` or `offset` is out of range.", body = super::schema::ValidationError),
        (status = 404, description = "No such issuer.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn achievements(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let query = ListQuery::of(&request);
    let page_request = query.page()?;
    state.reads.issuers().get(id).await?;
    let filter = BadgeClassFilter {
        issuer_id: Some(id),
    };
    let page = state
        .reads
        .badge_classes()
        .list(&filter, page_request)
        .await?;
    let docs: Vec<_> = page
        .items
        .iter()
        .map(|b| super::achievements::render(b, **version, &state))
        .collect();
    Ok(page_response(
        &request,
        state.urls.base(),
        &query,
        page_request,
        &page,
        docs,
    ))
}
