//! Endorsements: an issuer profile vouching for an achievement, a profile
//! or a credential, as an OB 3.0 `EndorsementCredential`.
//!
//! `GET|POST /{achievements,issuers,credentials}/{id}/endorsements` (and
//! the `/badge-classes`, `/assertions`, `/v2` and `/v3` forms) list and add
//! them; `GET /endorsements/{id}` serves one at its public URL and
//! `POST /endorsements/{id}/revoke` withdraws it (bare paths only). The v3
//! achievement and profile documents list their active endorsements in
//! `endorsement` ([`with_endorsements`]); a credential's are listed at its
//! `/endorsements` only, as a signed credential cannot change.

pub(crate) mod requests;
pub mod schema;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_credentials::jws::CompactJws;
use openbadges_domain::documents::Version;
use openbadges_domain::endorsements;
use openbadges_domain::service::Proofs;
use openbadges_domain::*;
use openbadges_verify::Verifier;
use serde_json::{json, Value};

use super::body::{JsonBody, OptionalJsonBody};
use super::documents::{created_at, document, Freshness, VC_JSON_LD, VC_JWT};
use super::params::path_id;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use requests::{endorsement_request, EndorsementRequest, Signed};

/// The list and add routes, under every version prefix (registered before
/// the resources' own scopes, which would otherwise take these paths); the
/// alias paths are [`badge_classes_alias`] and [`assertions_alias`].
pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route(
            "/achievements/{id}/endorsements",
            web::get().to(list_achievement),
        )
        .route(
            "/achievements/{id}/endorsements",
            web::post().to(endorse_achievement),
        )
        .route("/issuers/{id}/endorsements", web::get().to(list_issuer))
        .route("/issuers/{id}/endorsements", web::post().to(endorse_issuer))
        .route(
            "/credentials/{id}/endorsements",
            web::get().to(list_credential),
        )
        .route(
            "/credentials/{id}/endorsements",
            web::post().to(endorse_credential),
        );
}

/// `/badge-classes/{id}/endorsements`, for the caller to mark deprecated
/// like the other alias routes.
pub(super) fn badge_classes_alias() -> actix_web::Resource {
    web::resource("/badge-classes/{id}/endorsements")
        .route(web::get().to(list_achievement))
        .route(web::post().to(endorse_achievement))
}

/// `/assertions/{id}/endorsements`, for the caller to mark deprecated like
/// the other alias routes.
pub(super) fn assertions_alias() -> actix_web::Resource {
    web::resource("/assertions/{id}/endorsements")
        .route(web::get().to(list_credential))
        .route(web::post().to(endorse_credential))
}

/// The routes of one endorsement: bare path only (its public URL).
pub(super) fn public_routes(config: &mut web::ServiceConfig) {
    config
        .route("/endorsements/{id}", web::get().to(get))
        .route("/endorsements/{id}", web::head().to(get))
        .route("/endorsements/{id}/revoke", web::post().to(revoke));
}

/// The document members that list endorsements: managed through the
/// endorsement routes, never through the document's own body.
const LISTS: [&str; 2] = ["endorsement", "endorsementJwt"];

/// Drops from an update's merged document the endorsement lists that are
/// exactly those `current` (the stored document, as
/// [`with_endorsements`] renders it) lists: a fetched document sent back
/// whole is accepted. Changed lists stay, for the reader to refuse by
/// name; so does a list the body removed (`null` in a merge patch), as an
/// empty one: endorsements are revoked through their routes, and a body
/// that asks otherwise is not obeyed in silence.
pub(crate) fn drop_unchanged(merged: &mut Value, current: &Value) {
    if let Value::Object(object) = merged {
        for key in LISTS {
            match (object.get(key), current.get(key)) {
                (mine, theirs) if mine == theirs => {
                    object.remove(key);
                }
                (None, Some(_)) => {
                    object.insert(key.to_owned(), Value::Array(Vec::new()));
                }
                _ => {}
            }
        }
    }
}

/// `doc`, a v3 achievement or profile document, with the subject's active
/// endorsements: in `endorsement` (the credentials with embedded proofs)
/// and `endorsementJwt` (those attached as VC-JWTs), as OB 3.0's
/// `Achievement` and `Profile` allow. OB 2.0 documents are left as they are.
pub(crate) async fn with_endorsements(
    store: &dyn openbadges_domain::ports::Store,
    subject: EndorsedSubject,
    version: Version,
    mut doc: Value,
) -> Result<Value, ApiError> {
    if version != Version::V3 {
        return Ok(doc);
    }
    // The document was just read: its endorsements are listed without
    // looking it up again.
    let all = store.endorsements().list_for(subject).await?;
    let (mut objects, mut tokens) = (Vec::new(), Vec::new());
    for endorsement in all.iter().filter(|e| !e.status.is_revoked()) {
        match endorsement.credential.document()? {
            Value::String(token) => tokens.push(Value::String(token)),
            credential => objects.push(credential),
        }
    }
    if let Value::Object(object) = &mut doc {
        if !objects.is_empty() {
            object.insert("endorsement".to_owned(), Value::Array(objects));
        }
        if !tokens.is_empty() {
            object.insert("endorsementJwt".to_owned(), Value::Array(tokens));
        }
    }
    Ok(doc)
}

/// The active endorsements of `subject`, as a JSON array of the
/// credentials (a VC-JWT as its string), revalidated like credentials.
async fn list_answer(
    request: &HttpRequest,
    state: &AppState,
    subject: EndorsedSubject,
) -> Result<HttpResponse, ApiError> {
    let active = endorsements::list(state.reads.as_ref(), subject).await?;
    let texts: Vec<&str> = active.iter().map(|e| e.credential.json()).collect();
    Ok(document(
        request,
        format!("[{}]", texts.join(",")),
        "application/json",
        Freshness::Revalidate,
    ))
}

/// The 422 answer for a credential that does not verify: the report says
/// every check that failed.
fn not_verified(report: &openbadges_verify::Report) -> HttpResponse {
    HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY).json(json!({
        "error": "Unprocessable Entity",
        "message": format!(
            "the endorsement credential does not verify ({})",
            report.error_code.unwrap_or("INVALID")
        ),
        "report": report.to_json(),
    }))
}

/// Verifies a credential signed elsewhere, checks that it is an
/// `EndorsementCredential` of `subject`, and attaches it.
async fn attach(
    state: &AppState,
    actor: &access::Principal,
    subject: EndorsedSubject,
    signed: Signed,
) -> Result<Result<Endorsement, HttpResponse>, ApiError> {
    let verifier = Verifier::new(state.store.as_ref(), &state.urls, state.signing.integrity());
    let (report, credential, stored) = match signed {
        Signed::Json(credential) => {
            let report = verifier.verify_json(&credential).await?;
            let stored = IssuedCredential::new(&credential);
            (report, credential, stored)
        }
        Signed::Jwt(token) => {
            let report = verifier.verify_token(&token).await?;
            // Verified above (or refused below): the payload is read only
            // for its fields.
            let payload = CompactJws::parse(&token)
                .and_then(|jws| jws.payload_json())
                .unwrap_or(Value::Null);
            (
                report,
                payload,
                IssuedCredential::new(&Value::String(token)),
            )
        }
    };
    if !report.is_valid() {
        return Ok(Err(not_verified(&report)));
    }
    let mut errors = Vec::new();
    let typed = credential
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|t| {
            t.iter()
                .any(|t| t.as_str() == Some("EndorsementCredential"))
        });
    if !typed {
        errors.push(FieldError::new(
            "type",
            "must include EndorsementCredential",
        ));
    }
    let subject_field = credential.get("credentialSubject");
    let named = subject_field
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str)
        .is_some_and(|raw| subject.is_named_by(raw, &state.urls));
    if !named {
        errors.push(FieldError::new(
            "credentialSubject.id",
            format!(
                "must name the endorsed document, {}",
                subject.url(&state.urls)
            ),
        ));
    }
    let issuer = credential.get("issuer");
    let endorser = issuer
        .and_then(Value::as_str)
        .or_else(|| issuer.and_then(|i| i.get("id")).and_then(Value::as_str))
        .and_then(|raw| Iri::parse(raw).ok());
    if endorser.is_none() {
        errors.push(FieldError::new(
            "issuer",
            "must be an IRI or a profile with an id",
        ));
    }
    let comment = match subject_field
        .and_then(|s| s.get("endorsementComment"))
        .and_then(Value::as_str)
        .map(Text::parse)
        .transpose()
    {
        Ok(comment) => comment,
        Err(e) => {
            errors.push(FieldError::new("credentialSubject.endorsementComment", e.0));
            None
        }
    };
    match endorser {
        Some(endorser) if errors.is_empty() => Ok(Ok(endorsements::attach(
            state.store.as_ref(),
            actor,
            subject,
            endorser,
            comment,
            stored,
        )
        .await?)),
        _ => Err(ApiError(DomainError::Validation(errors))),
    }
}

/// Issues or attaches an endorsement of `subject`: 201 with the credential
/// and `Location` at its public URL.
async fn endorse_answer(
    state: &AppState,
    actor: &access::Principal,
    subject: EndorsedSubject,
    body: &Value,
) -> Result<HttpResponse, ApiError> {
    let endorsement = match endorsement_request(body, &state.urls)? {
        EndorsementRequest::Issue { endorser, comment } => {
            let proofs = Proofs {
                signer: state.signing.as_ref(),
                urls: &state.urls,
            };
            endorsements::endorse(
                state.store.as_ref(),
                actor,
                proofs,
                subject,
                endorser,
                comment,
            )
            .await?
        }
        EndorsementRequest::Attach(signed) => match attach(state, actor, subject, signed).await? {
            Ok(endorsement) => endorsement,
            Err(refused) => return Ok(refused),
        },
    };
    let (body, media_type) = served(&endorsement)?;
    Ok(created_at(
        Some(&state.urls.endorsement(endorsement.id)),
        body,
        media_type,
    ))
}

/// An endorsement as served: its JSON, or its VC-JWT.
fn served(endorsement: &Endorsement) -> Result<(String, &'static str), ApiError> {
    Ok(match endorsement.credential.document()? {
        Value::String(token) => (token, VC_JWT),
        _ => (endorsement.credential.json().to_owned(), VC_JSON_LD),
    })
}

macro_rules! subject_handlers {
    ($list:ident, $endorse:ident, $variant:ident, $entity:literal,
     $list_path:literal, $list_op:literal, $endorse_op:literal, $what:literal) => {
        #[utoipa::path(
            get,
            path = $list_path,
            tag = "endorsements",
            operation_id = $list_op,
            summary = concat!("List the endorsements of ", $what),
            description = concat!("Public. The active endorsements of ", $what, ", oldest first, as a JSON \
                array of `EndorsementCredential`s (one attached as a VC-JWT is its compact string). \
                Revoked ones are left out. Revalidated on every use (`ETag`)."),
            params(("id" = String, Path, format = "uuid", description = "The UUID of what is endorsed.")),
            responses(
                (status = 200, description = "The active endorsements.",
                    body = Vec<schema::EndorsementCredential>, content_type = "application/json",
                    headers(("ETag" = String), ("Cache-Control" = String, description = "`public, no-cache`."))),
                (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`."),
                (status = 404, description = "No such document.", body = super::schema::ErrorMessage),
                (status = 503, response = super::responses::Unavailable),
            )
        )]
        async fn $list(
            request: HttpRequest,
            state: web::Data<AppState>,
            id: web::Path<String>,
        ) -> Result<HttpResponse, ApiError> {
            let subject = EndorsedSubject::$variant(path_id(&id, $entity)?);
            list_answer(&request, &state, subject).await
        }

        #[utoipa::path(
            post,
            path = $list_path,
            tag = "endorsements",
            operation_id = $endorse_op,
            summary = concat!("Endorse ", $what),
            description = concat!("Two bodies. `{\"issuer\": <issuer id: URL, urn:uuid or UUID>, \
                \"endorsementComment\": ...}` (the previous server's): this server issues an \
                `EndorsementCredential` of ", $what, " by that issuer, which the caller must manage (any issuer \
                profile here, a third party registered only to endorse included), signed with the issuer's \
                key (`eddsa-rdfc-2022`), with a bit of its status list. Or a complete `EndorsementCredential` \
                signed elsewhere (with `proof`, bare or as `{\"credential\": ...}`, or a VC-JWT as a JSON string \
                or `{\"endorsementJwt\": ...}`): it is verified (`did:key` issuers, or ours by `did:web`) and \
                attached as it is, by someone who manages the endorsed document's issuer; its \
                `credentialSubject.id` must name ", $what, ". One that does not verify is refused with 422 \
                and the verification report; nothing is stored."),
            params(("id" = String, Path, format = "uuid", description = "The UUID of what is endorsed.")),
            request_body(content = schema::EndorsementRequest,
                description = "The endorser and comment, or a signed `EndorsementCredential`.",
                example = json!(schema::endorsement_request_example())),
            responses(
                (status = 201, description = "Created: the `EndorsementCredential` (`application/vc+jwt` for \
                    one attached as a VC-JWT).", body = schema::EndorsementCredential,
                    content_type = "application/vc+ld+json",
                    headers(("Location" = String, description = "Its public URL, `/endorsements/{id}` (its `id`, \
                        for one issued here)."))),
                (status = 400, description = "A field does not validate: `issuer`, `endorsementComment`, or, \
                    of a signed credential, `type`, `credentialSubject.id` or `issuer`.",
                    body = super::schema::ValidationError),
                (status = 401, response = super::responses::Unauthorized),
                (status = 403, description = "The caller may not write, or does not manage the endorsing \
                    issuer (or, for a signed credential, the endorsed document's issuer).",
                    body = super::schema::Forbidden),
                (status = 404, description = "No such document to endorse.", body = super::schema::ErrorMessage),
                (status = 422, description = "The endorsing issuer does not exist (`ErrorMessage`), or the \
                    signed credential does not verify (`NotVerified`, with the report).",
                    body = schema::NotVerified),
                (status = 503, response = super::responses::Unavailable),
            )
        )]
        async fn $endorse(
            state: web::Data<AppState>,
            Auth(actor): Auth,
            id: web::Path<String>,
            JsonBody(body): JsonBody,
        ) -> Result<HttpResponse, ApiError> {
            let subject = EndorsedSubject::$variant(path_id(&id, $entity)?);
            endorse_answer(&state, &actor, subject, &body).await
        }
    };
}

subject_handlers!(
    list_achievement,
    endorse_achievement,
    Achievement,
    "achievement",
    "/achievements/{id}/endorsements",
    "listAchievementEndorsements",
    "endorseAchievement",
    "an achievement"
);
subject_handlers!(
    list_issuer,
    endorse_issuer,
    Issuer,
    "issuer",
    "/issuers/{id}/endorsements",
    "listIssuerEndorsements",
    "endorseIssuer",
    "an issuer profile"
);
subject_handlers!(
    list_credential,
    endorse_credential,
    Credential,
    "credential",
    "/credentials/{id}/endorsements",
    "listCredentialEndorsements",
    "endorseCredential",
    "a credential"
);

/// `GET /endorsements/{id}`: the endorsement at its public URL.
#[utoipa::path(
    get,
    path = "/endorsements/{id}",
    tag = "endorsements",
    operation_id = "getEndorsement",
    summary = "Get an endorsement",
    description = "Public: the `EndorsementCredential` exactly as signed (`application/vc+ld+json`; one attached \
        as a VC-JWT is answered as `application/vc+jwt`). For one issued here this URL is its `id`. A revoked \
        endorsement answers 410. Conditional with `If-None-Match`.",
    params(
        ("id" = String, Path, format = "uuid", description = "The endorsement's UUID."),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 if unchanged."),
    ),
    responses(
        (status = 200, description = "The endorsement.", body = schema::EndorsementCredential,
            content_type = "application/vc+ld+json",
            headers(("ETag" = String), ("Cache-Control" = String, description = "`public, no-cache`."))),
        (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`."),
        (status = 404, description = "No such endorsement.", body = super::schema::ErrorMessage),
        (status = 410, description = "The endorsement has been revoked.", body = schema::RevokedEndorsement),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn get(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: EndorsementId = path_id(&id, "endorsement")?;
    let endorsement = state.reads.endorsements().get(id).await?;
    if let EndorsementStatus::Revoked { reason, .. } = &endorsement.status {
        return Ok(HttpResponse::build(StatusCode::GONE)
            .insert_header(("Cache-Control", Freshness::Revalidate.cache_control()))
            .json(json!({
                "error": "Endorsement has been revoked",
                "code": "ENDORSEMENT_REVOKED",
                "details": {
                    "id": state.urls.endorsement(id),
                    "revocationReason": reason.as_ref().map(Text::as_str),
                },
            })));
    }
    let (body, media_type) = served(&endorsement)?;
    Ok(document(&request, body, media_type, Freshness::Revalidate))
}

/// `POST /endorsements/{id}/revoke` with an optional `{"reason": ...}`.
#[utoipa::path(
    post,
    path = "/endorsements/{id}/revoke",
    tag = "endorsements",
    operation_id = "revokeEndorsement",
    summary = "Revoke an endorsement",
    description = "For good. One issued here is revoked by who manages its endorser: its bit in the endorser's \
        status list is set, so verifiers see it revoked. One attached (signed elsewhere) is withdrawn by who \
        manages the endorsed document's issuer: it is no longer listed or served here (its own status is \
        wherever its issuer publishes it). Either way it leaves the `endorsement` lists and its URL answers 410.",
    params(("id" = String, Path, format = "uuid", description = "The endorsement's UUID.")),
    request_body(content = Option<super::credentials::schema::RevokeRequest>,
        description = "Optional: `{\"reason\": ...}`. An empty body gives no reason."),
    responses(
        (status = 200, description = "Revoked.", body = schema::EndorsementStatus),
        (status = 400, description = "`reason` does not validate.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write, or does not manage the endorser (or the endorsed \
            document's issuer).", body = super::schema::Forbidden),
        (status = 404, description = "No such endorsement.", body = super::schema::ErrorMessage),
        (status = 409, description = "It is revoked already.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn revoke(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<HttpResponse, ApiError> {
    let id: EndorsementId = path_id(&id, "endorsement")?;
    let reason = super::credentials::requests::revocation_reason(body.as_ref())?;
    let endorsement = endorsements::revoke(state.store.as_ref(), &actor, id, reason).await?;
    let (reason, at) = match &endorsement.status {
        EndorsementStatus::Revoked { reason, at } => {
            (reason.as_ref().map(|r| r.as_str().to_owned()), Some(*at))
        }
        EndorsementStatus::Active => (None, None),
    };
    Ok(HttpResponse::Ok().json(json!({
        "id": state.urls.endorsement(id),
        "status": endorsement.status.as_str(),
        "revokedAt": at.map(|at| at.to_rfc3339()),
        "revocationReason": reason,
    })))
}
