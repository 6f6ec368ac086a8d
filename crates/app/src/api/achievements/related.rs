//! `/achievements/{id}/related`: the achievements related to one (the same
//! achievement in another language or version), published as its OB 3.0
//! `related` list. The previous server's routes, kept for its clients.

use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::documents::{Reference, Urls, Version};
use openbadges_domain::{service, BadgeClass, BadgeClassId, DomainError, Iri, Related};
use serde_json::Value;

use super::schema;
use crate::api::body::JsonBody;
use crate::api::documents::{created_at, document, Freshness};
use crate::api::params::path_id;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::requests::{Body, Errors};
use crate::state::AppState;

/// `related` is plain JSON, not a JSON-LD document of its own.
const JSON: &str = "application/json";

/// A related achievement as stored: one of ours by its OB 3.0 URL (the
/// `id` it is published with), anything else as the IRI given.
fn related_id(raw: &str, urls: &Urls) -> Result<(Iri, Option<BadgeClassId>), String> {
    match urls.reference(raw, Reference::Achievement) {
        Ok(uuid) => {
            let id = BadgeClassId::from(uuid);
            let url = urls.achievement(Version::V3, id);
            Iri::parse(url).map(|iri| (iri, Some(id))).map_err(|e| e.0)
        }
        Err(ours) => {
            // A reference to this server that does not parse is an error
            // about our URLs, not an external IRI.
            if raw.starts_with(urls.base()) || raw.starts_with("urn:uuid:") {
                return Err(ours.0);
            }
            Iri::parse(raw).map(|iri| (iri, None)).map_err(|e| e.0)
        }
    }
}

/// `{"id": <ref>}` (or the previous server's `{"relatedAchievementId":
/// <ref>}`), with `inLanguage` and `version` optional; `type`, when given,
/// must be `Related`. Anything else is refused.
pub(crate) fn related_entry(
    body: &Value,
    urls: &Urls,
) -> Result<(Related, Option<BadgeClassId>), DomainError> {
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    b.class_type(&["Related"], &mut errors);
    let id = b
        .string(&["id", "relatedAchievementId"], true, &mut errors)
        .and_then(|(key, raw)| {
            related_id(raw, urls)
                .map_err(|message| errors.add(b.path(key), message))
                .ok()
        });
    let in_language: Option<openbadges_domain::LanguageTag> = b.typed("inLanguage", &mut errors);
    let version: Option<openbadges_domain::Label> = b.typed("version", &mut errors);
    b.refuse_unknown(&mut errors);
    errors.finish(|| {
        let (id, ours) = id?;
        Some((
            Related {
                id,
                kind: Default::default(),
                in_language,
                version,
            },
            ours,
        ))
    })
}

fn list_body(badge: &BadgeClass) -> String {
    serde_json::to_string(&badge.details.related).unwrap_or_else(|_| "[]".to_owned())
}

/// `GET /achievements/{id}/related`: public, as the achievement is.
#[utoipa::path(
    get,
    path = "/achievements/{id}/related",
    tag = "achievements",
    operation_id = "listRelatedAchievements",
    summary = "List the achievements related to an achievement",
    description = "Public, as the achievement is: its OB 3.0 `related` list (the same achievement in other \
        languages or versions). Also under `/badge-classes`, `/v2` and `/v3`.",
    params(("id" = String, Path, format = "uuid", description = "The achievement's UUID.")),
    responses(
        (status = 200, description = "The related achievements, in the order they were added.",
            body = Vec<schema::RelatedEntry>),
        (status = 404, description = "No such achievement.", body = crate::api::schema::ErrorMessage),
        (status = 503, response = crate::api::responses::Unavailable),
    )
)]
pub(crate) async fn list(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: BadgeClassId = path_id(&id, "achievement")?;
    let badge = state.reads.badge_classes().get(id).await?;
    Ok(document(
        &request,
        list_body(&badge),
        JSON,
        Freshness::Minutes,
    ))
}

/// `POST /achievements/{id}/related`: relates another achievement.
#[utoipa::path(
    post,
    path = "/achievements/{id}/related",
    tag = "achievements",
    operation_id = "addRelatedAchievement",
    summary = "Relate an achievement to this one",
    description = "One of this server's achievements (by UUID, `urn:uuid:` or its URL; stored as its OB 3.0 URL, \
        and it must exist) or any other IRI. An id already related is a 409: delete it first to change it.",
    params(("id" = String, Path, format = "uuid", description = "The achievement's UUID.")),
    request_body(content = schema::RelatedRequest),
    responses(
        (status = 201, description = "Related: the achievement's whole `related` list.",
            body = Vec<schema::RelatedEntry>,
            headers(("Location" = String, description = "The list's URL (`GET` it)."))),
        (status = 400, description = "A field does not validate, names this achievement, or is not one this \
            server keeps.", body = crate::api::schema::ValidationError),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The caller may not write, or does not manage its issuer.",
            body = crate::api::schema::Forbidden),
        (status = 404, description = "No such achievement.", body = crate::api::schema::ErrorMessage),
        (status = 409, description = "Already related.", body = crate::api::schema::ErrorMessage),
        (status = 422, description = "The related achievement of this server does not exist.",
            body = crate::api::schema::ErrorMessage),
        (status = 503, response = crate::api::responses::Unavailable),
    )
)]
pub(crate) async fn add(
    state: web::Data<AppState>,
    id: web::Path<String>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id: BadgeClassId = path_id(&id, "achievement")?;
    let (related, ours) = related_entry(&body, &state.urls)?;
    let badge = service::add_related(state.store.as_ref(), &actor, id, related, ours).await?;
    let location = format!("{}/achievements/{id}/related", state.urls.base());
    Ok(created_at(Some(&location), list_body(&badge), JSON))
}

/// `DELETE /achievements/{id}/related/{relatedId}`.
#[utoipa::path(
    delete,
    path = "/achievements/{id}/related/{relatedId}",
    tag = "achievements",
    operation_id = "removeRelatedAchievement",
    summary = "Stop relating an achievement to this one",
    params(
        ("id" = String, Path, format = "uuid", description = "The achievement's UUID."),
        ("relatedId" = String, Path, description = "The related achievement: the UUID of one of ours, \
            or the percent-encoded IRI it was related by."),
    ),
    responses(
        (status = 204, description = "No longer related."),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The caller may not write, or does not manage its issuer.",
            body = crate::api::schema::Forbidden),
        (status = 404, description = "No such achievement, or that one is not related to it.",
            body = crate::api::schema::ErrorMessage),
        (status = 503, response = crate::api::responses::Unavailable),
    )
)]
pub(crate) async fn remove(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    Auth(actor): Auth,
) -> Result<HttpResponse, ApiError> {
    let (id, related) = path.into_inner();
    let id: BadgeClassId = path_id(&id, "achievement")?;
    // The router leaves some characters (`/`, `%`) encoded in a segment.
    let related = percent_encoding::percent_decode_str(&related).decode_utf8_lossy();
    let not_related = || DomainError::NotFound {
        entity: "related achievement",
        id: related.to_string(),
    };
    let (iri, _) = related_id(&related, &state.urls).map_err(|_| not_related())?;
    service::remove_related(state.store.as_ref(), &actor, id, &iri).await?;
    Ok(HttpResponse::NoContent().finish())
}
