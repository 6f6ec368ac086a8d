//! `/achievements` (alias `/badge-classes`): badge definitions.

pub(crate) mod related;
pub(crate) mod requests;
pub mod schema;

use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::documents::{ob2, ob3, Version};
use openbadges_domain::ports::{AssertionFilter, BadgeClassFilter};
use openbadges_domain::{service, BadgeClass, BadgeClassId, DomainError, IssuerId};
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
        .route("/{id}/credentials", web::get().to(credentials))
        .route("/{id}/related", web::get().to(related::list))
        .route("/{id}/related", web::head().to(related::list))
        .route("/{id}/related", web::post().to(related::add))
        .route(
            "/{id}/related/{related:.+}",
            web::delete().to(related::remove),
        );
}

pub(super) fn render(badge: &BadgeClass, version: Version, state: &AppState) -> Value {
    match version {
        Version::V2 => ob2::badge_class(badge, &state.urls),
        Version::V3 => ob3::achievement(badge, &state.urls),
    }
}

#[utoipa::path(
    post,
    path = "/achievements",
    tag = "achievements",
    operation_id = "createAchievement",
    summary = "Create an achievement (badge class)",
    request_body(content = schema::AchievementRequest,
        description = "The achievement, OB 2.0 or OB 3.0 style. Read as JSON whatever the `Content-Type`.",
        examples(
            ("OB 2.0 style" = (value = json!(schema::achievement_example()))),
            ("OB 3.0 style" = (value = json!(schema::achievement_example_ob3()))),
        )),
    responses(
        (status = 201, description = "Created: the achievement.", body = schema::AchievementDocument,
            content_type = "application/ld+json",
            headers(("Location" = String, description = "The new achievement's URL (its `id`)."))),
        (status = 400, description = "A field does not validate, `issuer` names no issuer, or the body is not a \
            JSON object.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage the issuer.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn create(
    state: web::Data<AppState>,
    version: web::Data<Version>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let draft = requests::badge_class_draft(&body, &state.urls, None)?;
    super::assets::check_image(&state, draft.image.as_ref()).await?;
    let badge = service::create_badge_class(state.store.as_ref(), &actor, draft)
        .await
        .map_err(|e| {
            let field =
                crate::requests::named_field(&body, &[&["issuer"], &["issuerId"]], "issuer");
            crate::requests::renamed_field(e, "issuer", &field)
        })?;
    Ok(created(
        &render(&badge, **version, &state),
        media_type(**version, false),
    ))
}

/// `GET /achievements[?issuer=...]`.
#[utoipa::path(
    get,
    path = "/achievements",
    tag = "achievements",
    operation_id = "listAchievements",
    summary = "List achievements",
    params(super::schema::Paging, schema::AchievementFilter),
    responses(
        (status = 200, description = "A page of achievements.", body = Vec<schema::AchievementDocument>,
            headers(
                ("X-Total-Count" = u64, description = "How many achievements match in all."),
                ("Link" = String, description = "RFC 8288 links to the `first`, `prev`, `next` and `last` pages."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 400, description = "`limit`, `offset` or `issuer` does not validate.", body = super::schema::ValidationError),
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
    let issuer_id = match query.get(&["issuer", "issuerId"]) {
        None => None,
        Some(raw) => Some(
            crate::requests::issuer_reference(raw, &state.urls)
                .map(IssuerId::from)
                .map_err(|e| DomainError::invalid("issuer", e.0))?,
        ),
    };
    let page = state
        .reads
        .badge_classes()
        .list(&BadgeClassFilter { issuer_id }, page_request)
        .await?;
    let docs: Vec<_> = page
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

#[utoipa::path(
    get,
    path = "/achievements/{id}",
    tag = "achievements",
    operation_id = "getAchievement",
    summary = "Get an achievement",
    description = "Public: the URL of an achievement is its `id`. Conditional with `If-None-Match`. \
        The OB 3.0 document lists its active endorsements in `endorsement` (and `endorsementJwt`). \
        A browser (`Accept` naming `text/html` ahead of JSON, or `?format=html`) gets its page (`text/html`, \
        docs/pages.md).",
    params(
        ("id" = String, Path, format = "uuid", description = "The achievement's UUID."),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 if unchanged."),
    ),
    responses(
        (status = 200, description = "The achievement.", content((schema::AchievementDocument = "application/ld+json"), (String = "text/html")),
            headers(
                ("ETag" = String, description = "Strong validator of the document."),
                ("Cache-Control" = String, description = "`public, max-age=300`."),
                ("Vary" = String, description = "`Accept`."),
            )),
        (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`.",
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, description = "No such achievement (or the id is not a UUID).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn get(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: BadgeClassId = path_id(&id, "achievement")?;
    if crate::pages::wants_html(&request) {
        let badge = state.reads.badge_classes().get(id).await?;
        let doc = render(&badge, crate::pages::PAGE_VERSION, &state);
        return Ok(crate::pages::achievement(&doc, state.urls.base())?);
    }
    let key = DocumentKey::Achievement(id, **version);
    cached(&request, &state.documents, key, async {
        let badge = state.reads.badge_classes().get(id).await?;
        let rendered = render(&badge, **version, &state);
        let subject = openbadges_domain::EndorsedSubject::Achievement(id);
        let rendered = super::endorsements::with_endorsements(
            state.reads.as_ref(),
            subject,
            **version,
            rendered,
        )
        .await?;
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
    path = "/achievements/{id}",
    tag = "achievements",
    operation_id = "updateAchievement",
    summary = "Update an achievement",
    description = "A partial update, as the previous server did: the body is applied to the stored achievement \
        (its OB 3.0 document) as a JSON merge patch (RFC 7396): fields the body leaves out are kept, `null` \
        removes an optional field, an OB 2.0 name (`tags`) replaces its OB 3.0 field (`tag`), and the result is \
        validated whole. `PATCH` does the same. The achievement is looked up (404) and its issuer's management \
        checked (403) before the body is read. The issuer cannot change.",
    params(("id" = String, Path, description = "The achievement's id: its UUID, `urn:uuid:<UUID>` or its URL \
        (raw or percent-encoded).")),
    request_body(content = schema::AchievementRequest, description = "The fields to change (any subset)."),
    responses(
        (status = 200, description = "The updated achievement.", body = schema::AchievementDocument,
            content_type = "application/ld+json"),
        (status = 400, description = "A field does not validate (or names another issuer).",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage its issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such achievement.", body = super::schema::ErrorMessage),
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
    let id: BadgeClassId = path_id(&id, "achievement")?;
    let current = state.store.badge_classes().get(id).await?;
    actor.may_manage(&state.store.issuers().get(current.issuer_id).await?)?;
    let subject = openbadges_domain::EndorsedSubject::Achievement(id);
    let stored = ob3::achievement(&current, &state.urls);
    let stored =
        super::endorsements::with_endorsements(state.store.as_ref(), subject, Version::V3, stored)
            .await?;
    let mut merged = super::merge::achievement(stored.clone(), &body.value()?);
    super::endorsements::drop_unchanged(&mut merged, &stored);
    let draft = requests::badge_class_draft(&merged, &state.urls, Some(id.as_uuid()))?;
    super::assets::check_image(&state, draft.image.as_ref()).await?;
    let badge = service::update_badge_class(state.store.as_ref(), &actor, id, draft).await?;
    Ok(HttpResponse::Ok()
        .content_type(media_type(**version, false))
        .body(render(&badge, **version, &state).to_string()))
}

/// `PATCH /achievements/{id}`: the same partial update as `PUT`.
#[utoipa::path(
    patch,
    path = "/achievements/{id}",
    tag = "achievements",
    operation_id = "patchAchievement",
    summary = "Update an achievement (as PUT)",
    description = "The same partial update as `PUT /achievements/{id}` (a JSON merge patch, RFC 7396).",
    params(("id" = String, Path, description = "The achievement's id: its UUID, `urn:uuid:<UUID>` or its URL.")),
    request_body(content = schema::AchievementRequest, description = "The fields to change (any subset)."),
    responses(
        (status = 200, description = "The updated achievement.", body = schema::AchievementDocument,
            content_type = "application/ld+json"),
        (status = 400, description = "A field does not validate (or names another issuer).",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write, or does not manage its issuer.",
            body = super::schema::Forbidden),
        (status = 404, description = "No such achievement.", body = super::schema::ErrorMessage),
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

/// `DELETE /achievements/{id}[?cascade=true]`: refused with 409 while it
/// has been awarded, unless `cascade` is true.
#[utoipa::path(
    delete,
    path = "/achievements/{id}",
    tag = "achievements",
    operation_id = "deleteAchievement",
    summary = "Delete an achievement",
    description = "Refused with 409 while it has been awarded, unless `cascade=true`, which deletes its awards too.",
    params(("id" = String, Path, format = "uuid", description = "The achievement's UUID."), super::schema::DeleteOptions),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "`cascade` is neither `true` nor `false`.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage its issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such achievement.", body = super::schema::ErrorMessage),
        (status = 409, description = "It has been awarded and `cascade` is not `true`.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn delete(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: BadgeClassId = path_id(&id, "achievement")?;
    let mode = delete_mode(&request)?;
    service::delete_badge_class(state.store.as_ref(), &actor, id, mode).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /achievements/{id}/credentials`: the awards of this badge.
#[utoipa::path(
    get,
    path = "/achievements/{id}/credentials",
    tag = "achievements",
    operation_id = "listAchievementCredentials",
    summary = "List the awards of an achievement",
    description = "Oldest first. Paged by `offset`, with the total, or by `cursor` (start with `?cursor=`, \
        follow `next`), as `GET /credentials`.",
    params(("id" = String, Path, format = "uuid", description = "The achievement's UUID."), super::schema::Paging,
        super::schema::CursorPaging),
    responses(
        (status = 200, description = "A page of credentials (revoked ones included): all of them for administrators \
            and viewers; for an issuer-role user, only those of the issuers they own; for a key scoped to an issuer, \
            only that issuer's.",
            body = Vec<super::credentials::schema::CredentialDocument>,
            headers(
                ("X-Total-Count" = u64, description = "How many awards the achievement has in all (not with `cursor`)."),
                ("Link" = String, description = "RFC 8288 links to the `first`, `prev`, `next` and `last` pages; \
                    with `cursor`, to the `first` page and, while more follow, the `next`."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 400, description = "`limit` or `offset` is out of range, or `cursor` is not one this server \
            gave or comes with `offset`.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The key lacks the `read` permission.", body = super::schema::Forbidden),
        (status = 404, description = "No such achievement.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn credentials(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: BadgeClassId = path_id(&id, "achievement")?;
    let badge = state.store.badge_classes().get(id).await?;
    // Naming the issuer makes a caller who may not read its credentials
    // get a 403, not an empty page.
    let filter = AssertionFilter {
        badge_class_id: Some(id),
        issuer_id: Some(badge.issuer_id),
        ..Default::default()
    };
    super::credentials::list_page(&request, &state, &actor, **version, filter).await
}
