//! `/achievements` (alias `/badge-classes`): badge definitions.

use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::documents::{ob2, ob3, Version};
use openbadges_domain::ports::{AssertionFilter, BadgeClassFilter, DeleteMode};
use openbadges_domain::{service, BadgeClass, BadgeClassId, DomainError, IssuerId};
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
        .route("/{id}/credentials", web::get().to(credentials));
}

pub(super) fn render(badge: &BadgeClass, version: Version, state: &AppState) -> Value {
    match version {
        Version::V2 => ob2::badge_class(badge, &state.urls),
        Version::V3 => ob3::achievement(badge, &state.urls),
    }
}

async fn create(
    state: web::Data<AppState>,
    version: web::Data<Version>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let draft = requests::badge_class_draft(&body, &state.urls)?;
    let badge = service::create_badge_class(state.store.as_ref(), draft).await?;
    Ok(created(
        &render(&badge, **version, &state),
        media_type(**version, false),
    ))
}

/// `GET /achievements[?issuer=...]`.
async fn list(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::of(&request);
    let page_request = query.page()?;
    let issuer_id = match query.get(&["issuer", "issuerId"]) {
        None => None,
        Some(raw) => Some(
            requests::issuer_reference(raw, &state.urls)
                .map(IssuerId::from)
                .map_err(|e| DomainError::invalid("issuer", e.0))?,
        ),
    };
    let page = state
        .store
        .badge_classes()
        .list(&BadgeClassFilter { issuer_id }, page_request)
        .await?;
    let docs = page
        .items
        .iter()
        .map(|b| render(b, **version, &state))
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
    let id: BadgeClassId = path_id(&id, "achievement")?;
    let badge = state.store.badge_classes().get(id).await?;
    Ok(document(
        &request,
        &render(&badge, **version, &state),
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
    let id: BadgeClassId = path_id(&id, "achievement")?;
    let draft = requests::badge_class_draft(&body, &state.urls)?;
    let badge = service::update_badge_class(state.store.as_ref(), id, draft).await?;
    Ok(HttpResponse::Ok()
        .content_type(media_type(**version, false))
        .body(render(&badge, **version, &state).to_string()))
}

/// `DELETE /achievements/{id}[?cascade=true]`: refused with 409 while it
/// has been awarded, unless `cascade` is true.
async fn delete(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: BadgeClassId = path_id(&id, "achievement")?;
    let mode = match ListQuery::of(&request).get(&["cascade"]) {
        None | Some("false") => DeleteMode::Restrict,
        Some("true") => DeleteMode::Cascade,
        Some(_) => return Err(DomainError::invalid("cascade", "must be true or false").into()),
    };
    state.store.badge_classes().delete(id, mode).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /achievements/{id}/credentials`: the awards of this badge.
async fn credentials(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: BadgeClassId = path_id(&id, "achievement")?;
    state.store.badge_classes().get(id).await?;
    let filter = AssertionFilter {
        badge_class_id: Some(id),
        ..Default::default()
    };
    super::credentials::list_page(&request, &state, **version, filter).await
}
