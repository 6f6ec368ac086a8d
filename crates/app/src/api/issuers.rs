//! `/issuers`: issuer profiles.

use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::documents::{ob2, ob3, Version};
use openbadges_domain::ports::{BadgeClassFilter, DeleteMode, IssuerFilter};
use openbadges_domain::{service, DomainError, Issuer, IssuerId};
use serde_json::Value;

use super::listing::{page_response, ListQuery};
use super::{created, document, media_type, path_id, Freshness};
use crate::http::{ApiError, AppState};
use crate::requests;

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("", web::post().to(create))
        .route("", web::get().to(list))
        .route("/{id}", web::get().to(get))
        .route("/{id}", web::put().to(update))
        .route("/{id}", web::delete().to(delete))
        .route("/{id}/achievements", web::get().to(achievements));
}

pub(super) fn render(issuer: &Issuer, version: Version, state: &AppState) -> Value {
    match version {
        Version::V2 => ob2::profile(issuer, &state.urls),
        Version::V3 => ob3::profile(issuer, &state.urls),
    }
}

async fn create(
    state: web::Data<AppState>,
    version: web::Data<Version>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let draft = requests::issuer_draft(&body)?;
    let issuer = service::create_issuer(state.store.as_ref(), draft, None).await?;
    Ok(created(
        &render(&issuer, **version, &state),
        media_type(**version, false),
    ))
}

async fn list(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::of(&request);
    let page_request = query.page()?;
    let page = state
        .store
        .issuers()
        .list(&IssuerFilter::default(), page_request)
        .await?;
    let docs = page
        .items
        .iter()
        .map(|i| render(i, **version, &state))
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

async fn get(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let issuer = state.store.issuers().get(id).await?;
    Ok(document(
        &request,
        &render(&issuer, **version, &state),
        media_type(**version, false),
        Freshness::Minutes,
    ))
}

async fn update(
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let draft = requests::issuer_draft(&body)?;
    let issuer = service::update_issuer(state.store.as_ref(), id, draft).await?;
    Ok(HttpResponse::Ok()
        .content_type(media_type(**version, false))
        .body(render(&issuer, **version, &state).to_string()))
}

/// `DELETE /issuers/{id}[?cascade=true]`: refused with 409 while the
/// issuer's badges have been awarded, unless `cascade` is true.
async fn delete(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let mode = match ListQuery::of(&request).get(&["cascade"]) {
        None | Some("false") => DeleteMode::Restrict,
        Some("true") => DeleteMode::Cascade,
        Some(_) => return Err(DomainError::invalid("cascade", "must be true or false").into()),
    };
    state.store.issuers().delete(id, mode).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /issuers/{id}/achievements`: the issuer's badge classes.
async fn achievements(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let query = ListQuery::of(&request);
    let page_request = query.page()?;
    state.store.issuers().get(id).await?;
    let filter = BadgeClassFilter {
        issuer_id: Some(id),
    };
    let page = state
        .store
        .badge_classes()
        .list(&filter, page_request)
        .await?;
    let docs = page
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
