//! `/credentials` (alias `/assertions`): awards.

pub(crate) mod requests;
pub mod schema;

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::access::Principal;
use openbadges_domain::documents::{ob2, ob3, Urls, Version};
use openbadges_domain::ports::{AssertionFilter, Store};
use openbadges_domain::service::{self, Proofs, StatusChange};
use openbadges_domain::*;
use openbadges_signing::JwtAlgorithm;
use serde_json::{json, Value};

use super::documents::{
    created_at, media_type, not_acceptable, token, Freshness, PublicDocument, VC_JWT,
};
use super::listing::{cursor_page_response, page_response, ListQuery, Paging};
use super::params::path_id;
use crate::auth::Auth;
use crate::cache::DocumentKey;
use crate::error::ApiError;
use crate::state::AppState;

use super::body::{JsonBody, JsonText, OptionalJsonBody};

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("", web::post().to(create))
        .route("", web::get().to(list))
        .route("/batch", web::post().to(create_batch))
        .route("/{id}", web::get().to(get))
        // HEAD answers like GET without the body (RFC 9110 9.3.2).
        .route("/{id}", web::head().to(get))
        .route("/{id}", web::put().to(update))
        .route("/{id}", web::patch().to(patch))
        .route("/{id}/sign", web::post().to(sign))
        .route("/{id}/revoke", web::post().to(revoke))
        .route("/{id}/suspend", web::post().to(suspend))
        .route("/{id}/reinstate", web::post().to(reinstate))
        .route("/{id}/status", web::post().to(change_status))
        .route("/{id}/delivery", web::get().to(crate::mail::api::delivery))
        .route(
            "/{id}/deliveries",
            web::get().to(crate::consumer::deliveries),
        )
        .route(
            "/{id}/verify",
            web::get().to(super::verification::verify_stored),
        );
}

/// A credential as served: a signed one exactly as it was issued (its
/// stored text), any other built from the award.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Rendered<'a> {
    Issued(&'a IssuedCredential),
    Built(Value),
}

impl Rendered<'_> {
    fn into_json(self) -> String {
        match self {
            Self::Issued(issued) => issued.json().to_owned(),
            Self::Built(doc) => doc.to_string(),
        }
    }
}

/// What rendering awards takes besides the awards: for unsigned OB 3.0
/// credentials, their badge classes and issuers, each loaded once.
struct Renderer {
    version: Version,
    urls: Urls,
    badges: HashMap<BadgeClassId, BadgeClass>,
    issuers: HashMap<IssuerId, Issuer>,
}

impl Renderer {
    /// Loads what `awards` need from `store` (the state's, or its read
    /// view for a public read).
    async fn load<'a>(
        state: &AppState,
        store: &dyn Store,
        version: Version,
        awards: impl IntoIterator<Item = &'a Assertion>,
    ) -> Result<Self, DomainError> {
        let mut renderer = Self {
            version,
            urls: state.urls.clone(),
            badges: HashMap::new(),
            issuers: HashMap::new(),
        };
        if version == Version::V2 {
            return Ok(renderer);
        }
        // A signed credential is served exactly as issued: it needs nothing.
        for award in awards.into_iter().filter(|a| a.issued_credential.is_none()) {
            if !renderer.badges.contains_key(&award.badge_class_id) {
                let badge = store.badge_classes().get(award.badge_class_id).await?;
                renderer.badges.insert(badge.id, badge);
            }
            if !renderer.issuers.contains_key(&award.issuer_id) {
                let issuer = store.issuers().get(award.issuer_id).await?;
                renderer.issuers.insert(issuer.id, issuer);
            }
        }
        Ok(renderer)
    }

    /// One award as served; `award` must be one of those loaded for.
    fn render<'a>(&self, award: &'a Assertion) -> Result<Rendered<'a>, DomainError> {
        if self.version == Version::V2 {
            return Ok(Rendered::Built(ob2::assertion(award, &self.urls)));
        }
        if let Some(issued) = &award.issued_credential {
            return Ok(Rendered::Issued(issued));
        }
        match (
            self.badges.get(&award.badge_class_id),
            self.issuers.get(&award.issuer_id),
        ) {
            (Some(badge), Some(issuer)) => Ok(Rendered::Built(ob3::credential(
                award, badge, issuer, &self.urls,
            ))),
            _ => Err(DomainError::Internal(format!(
                "credential {} rendered without its badge class and issuer",
                award.id
            ))),
        }
    }

    /// A JSON array of the batch's awards, written a chunk of about
    /// `CHUNK` bytes at a time as the client reads it. Awards are read out
    /// of the batch a few at a time and dropped once written: a batch of
    /// 10,000 signed credentials is about 18 MB of text.
    fn stream_array(
        self,
        mut batch: AwardBatch,
    ) -> impl futures_util::Stream<Item = Result<web::Bytes, ApiError>> {
        const CHUNK: usize = 64 * 1024;
        const READ: usize = 32;
        let mut next = 0;
        let mut awards = Vec::new().into_iter();
        let mut started = false;
        let mut finished = false;
        futures_util::stream::iter(std::iter::from_fn(move || {
            if finished {
                return None;
            }
            let mut chunk = Vec::with_capacity(CHUNK + 4 * 1024);
            let mut fill = || -> Result<(), ApiError> {
                while chunk.len() < CHUNK {
                    let award = match awards.next() {
                        Some(award) => award,
                        None if next < batch.len() => {
                            let end = batch.len().min(next + READ);
                            awards = batch.read(next..end)?.into_iter();
                            next = end;
                            continue;
                        }
                        None => {
                            chunk.extend_from_slice(if started { b"]" } else { b"[]" });
                            finished = true;
                            return Ok(());
                        }
                    };
                    chunk.push(if started { b',' } else { b'[' });
                    started = true;
                    chunk.extend_from_slice(self.render(&award)?.into_json().as_bytes());
                }
                Ok(())
            };
            Some(fill().map(|()| web::Bytes::from(chunk)))
        }))
    }
}

/// Renders awards, loading each badge class and issuer once.
async fn render_all<'a>(
    state: &AppState,
    version: Version,
    awards: &'a [Assertion],
) -> Result<Vec<Rendered<'a>>, DomainError> {
    let renderer = Renderer::load(state, state.store.as_ref(), version, awards).await?;
    awards.iter().map(|award| renderer.render(award)).collect()
}

/// One award rendered, as JSON text, with what it needs read from `store`.
pub(crate) async fn render_one(
    state: &AppState,
    store: &dyn Store,
    version: Version,
    award: &Assertion,
) -> Result<String, DomainError> {
    let renderer = Renderer::load(state, store, version, std::slice::from_ref(award)).await?;
    Ok(renderer.render(award)?.into_json())
}

/// Issued credentials are signed unless the caller asks `?sign=false`.
fn proofs<'a>(request: &HttpRequest, state: &'a AppState) -> Option<Proofs<'a>> {
    let unsigned = ListQuery::of(request).get(&["sign"]) == Some("false");
    (!unsigned).then(|| Proofs {
        signer: state.signing.as_ref(),
        urls: &state.urls,
    })
}

#[utoipa::path(
    post,
    path = "/credentials",
    tag = "credentials",
    operation_id = "createCredential",
    summary = "Issue a credential (award a badge)",
    description = "The OB 3.0 credential is signed with the issuer's active Ed25519 key (made on first use) as \
        an `eddsa-rdfc-2022` Data Integrity proof, unless `?sign=false`, and stored as issued: \
        `GET /credentials/{id}` serves it exactly so (under `/v2`, the OB 2.0 assertion, which carries no proof).",
    params(schema::SignOption),
    request_body(content = schema::CredentialRequest,
        description = "The award, OB 2.0 or OB 3.0 style. Read as JSON whatever the `Content-Type`.",
        examples(
            ("OB 2.0 style" = (value = json!(schema::credential_example_ob2()))),
            ("OB 3.0 style" = (value = json!(schema::credential_example_ob3()))),
        )),
    responses(
        (status = 201, description = "Issued: the credential, with its `proof` (none with `?sign=false`, nor \
            under `/v2`).", body = schema::CredentialDocument,
            content_type = "application/vc+ld+json",
            headers(("Location" = String, description = "The new credential's URL (its `id`)."))),
        (status = 400, description = "A field does not validate, the achievement does not exist (named as \
            `badge`), or the body is not a JSON object.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage the achievement's issuer.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn create(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let (draft, notify) = crate::mail::requests::merge(
        requests::assertion_draft(&body, &state.urls, None),
        crate::mail::requests::notify_request(&body),
    )?;
    let award = service::issue_notifying(
        state.store.as_ref(),
        &actor,
        proofs(&request, &state),
        draft,
        &notify,
        crate::mail::enabled(&state),
    )
    .await
    .map_err(|e| {
        // An unknown achievement is named as the body named it (the
        // reader's precedence).
        let field = crate::requests::named_field(
            &body,
            &[
                &["credentialSubject", "achievement"],
                &["badge"],
                &["badgeClass"],
                &["achievement"],
            ],
            "badge",
        );
        crate::requests::renamed_field(e, "badge", &field)
    })?;
    crate::mail::wake(&request);
    crate::metrics::count_issued(&request, 1);
    let doc = render_one(&state, state.store.as_ref(), **version, &award).await?;
    let location = state.urls.credential(**version, award.id);
    Ok(created_at(
        Some(&location),
        doc,
        media_type(**version, true),
    ))
}

/// `POST /credentials/batch`: many awards, all stored or none.
#[utoipa::path(
    post,
    path = "/credentials/batch",
    tag = "credentials",
    operation_id = "createCredentialBatch",
    summary = "Issue many credentials at once",
    description = "Every item is checked first; if any fails, none is stored and the 400 names each bad \
        field with its item index. Otherwise each is signed (unless `?sign=false`) and all are stored in one \
        transaction.",
    params(schema::SignOption),
    request_body(content = schema::BatchRequest,
        description = "1 to 10,000 credential bodies, each in either style."),
    responses(
        (status = 201, description = "Issued: the credentials, in the order given.",
            body = Vec<schema::CredentialDocument>),
        (status = 400, description = "An item does not validate or names an achievement that does not exist \
            (`credentials[3].badge`), or the batch is empty or too large.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage the issuer of one of the achievements.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn create_batch(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    Auth(actor): Auth,
    body: JsonText,
) -> Result<HttpResponse, ApiError> {
    let (drafts, notify) = crate::mail::requests::merge(
        requests::batch_drafts(&body.text, &state.urls, body.max_depth),
        crate::mail::requests::batch_notify_requests(&body.text),
    )?;
    drop(body);
    let batch = service::issue_batch_notifying(
        state.store.as_ref(),
        &actor,
        proofs(&request, &state),
        drafts,
        batch_spill(),
        &notify,
        crate::mail::enabled(&state),
    )
    .await?;
    crate::mail::wake(&request);
    crate::metrics::count_issued(&request, batch.len());
    let renderer =
        Renderer::load(&state, state.store.as_ref(), **version, batch.unsigned()).await?;
    Ok(HttpResponse::Created()
        .content_type(actix_web::http::header::ContentType::json())
        .streaming(renderer.stream_array(batch)))
}

/// Where a batch's signed credentials wait until stored and answered: in
/// memory up to `IN_MEMORY` bytes (about 500 credentials), then in an
/// unnamed file in the temporary directory (`TMPDIR`), which the system
/// removes when the batch is done, even if the server is killed.
fn batch_spill() -> Box<dyn Spill> {
    const IN_MEMORY: usize = 1024 * 1024;
    Box::new(tempfile::spooled_tempfile(IN_MEMORY))
}

/// A list of awards in the shared list format; used by the filtered lists
/// under issuers and achievements too.
pub(super) async fn list_page(
    request: &HttpRequest,
    state: &AppState,
    actor: &Principal,
    version: Version,
    filter: AssertionFilter,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::of(request);
    match query.paging(&state.cursors)? {
        Paging::Offset(page_request) => {
            let page = service::list_credentials(state.store.as_ref(), actor, filter, page_request)
                .await?;
            let docs = render_all(state, version, &page.items).await?;
            Ok(page_response(
                request,
                state.urls.base(),
                &query,
                page_request,
                &page,
                docs,
            ))
        }
        Paging::Cursor(cursor_request) => {
            let page = service::list_credentials_after(
                state.store.as_ref(),
                actor,
                filter,
                cursor_request,
            )
            .await?;
            let docs = render_all(state, version, &page.items).await?;
            Ok(cursor_page_response(
                request,
                state.urls.base(),
                &query,
                cursor_request.limit(),
                page.next.map(|next| (next, &state.cursors)),
                docs,
            ))
        }
    }
}

/// `GET /credentials[?issuer=&achievement=&recipient=]`. A recipient given in
/// the clear is matched through its lookup key; a `sha256$` hash as given.
#[utoipa::path(
    get,
    path = "/credentials",
    tag = "credentials",
    operation_id = "listCredentials",
    summary = "List credentials",
    description = "Oldest first (by creation time, then id). Paged by `offset`, with the total, or by `cursor`, \
        which costs the same per page however long the list: start with `?cursor=` (empty) and follow the \
        `next` link until there is none.",
    params(super::schema::Paging, super::schema::CursorPaging, schema::CredentialFilter),
    responses(
        (status = 200, description = "A page of credentials (revoked ones included): all of them for administrators \
            and viewers; for an issuer-role user, only those of the issuers they own; for a key scoped to an issuer, \
            only that issuer's.",
            body = Vec<schema::CredentialDocument>,
            headers(
                ("X-Total-Count" = u64, description = "How many credentials match in all (not with `cursor`)."),
                ("Link" = String, description = "RFC 8288 links to the `first`, `prev`, `next` and `last` pages; \
                    with `cursor`, to the `first` page and, while more follow, the `next`."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 400, description = "`limit`, `offset`, `cursor` (not one this server gave, or given with \
            `offset`), `issuer` or `achievement` does not validate.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The key lacks the `read` permission, or `issuer` names an issuer whose \
            credentials the caller may not read.", body = super::schema::Forbidden),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn list(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
    version: web::Data<Version>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::of(&request);
    let mut errors = Vec::new();
    let issuer_id = query.get(&["issuer", "issuerId"]).and_then(|raw| {
        crate::requests::issuer_reference(raw, &state.urls)
            .map(IssuerId::from)
            .map_err(|e| errors.push(FieldError::new("issuer", e.0)))
            .ok()
    });
    let badge_class_id = query
        .get(&["achievement", "badge", "badgeClass"])
        .and_then(|raw| {
            crate::requests::achievement_reference(raw, &state.urls)
                .map(BadgeClassId::from)
                .map_err(|e| errors.push(FieldError::new("achievement", e.0)))
                .ok()
        });
    let recipient_key = query.get(&["recipient"]).map(|raw| {
        if raw.starts_with("sha256$") || raw.starts_with("md5$") {
            raw.to_ascii_lowercase()
        } else if raw.contains('@') {
            Recipient::lookup_key_for(RecipientKind::Email, raw)
        } else {
            Recipient::lookup_key_for(RecipientKind::Url, raw)
        }
    });
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors).into());
    }
    let filter = AssertionFilter {
        badge_class_id,
        issuer_id,
        recipient_key,
        owner_id: None,
    };
    list_page(&request, &state, &actor, **version, filter).await
}

/// The answer for a revoked credential: 410 in the shape clients of the
/// previous server parse; the OB 2.0 body is the assertion itself with
/// `revoked: true` and the reason, as hosted verifiers expect.
fn gone(award: &Assertion, version: Version, state: &AppState) -> HttpResponse {
    let reason = match &award.status {
        CredentialStatus::Revoked { reason, .. } => reason.as_ref().map(|r| r.as_str().to_owned()),
        _ => None,
    };
    let code = match version {
        Version::V2 => "ASSERTION_REVOKED",
        Version::V3 => "CREDENTIAL_REVOKED",
    };
    let id = state.urls.credential(version, award.id);
    let mut body = match version {
        Version::V2 => ob2::assertion(award, &state.urls),
        Version::V3 => json!({}),
    };
    if let Value::Object(object) = &mut body {
        object.insert("error".into(), json!("Credential has been revoked"));
        object.insert("code".into(), json!(code));
        object.insert(
            "details".into(),
            json!({ "id": id, "revocationReason": reason }),
        );
        object.insert("revoked".into(), json!(true));
        object.insert("revocationReason".into(), json!(reason));
    }
    HttpResponse::build(StatusCode::GONE)
        .insert_header(("Cache-Control", Freshness::Revalidate.cache_control()))
        .json(body)
}

#[utoipa::path(
    get,
    path = "/credentials/{id}",
    tag = "credentials",
    operation_id = "getCredential",
    summary = "Get a credential",
    description = "Public: the URL of a credential is its `id` (OB 2.0 hosted verification dereferences it). \
        On the bare and `/v3` paths a signed credential is served exactly as issued, with its `proof`. \
        A revoked credential answers 410. Conditional with `If-None-Match`. \
        `Accept: application/vc+jwt` (or `?format=jwt`) answers the signed OB 3.0 credential as a \
        VC-JWT (`application/vc+jwt`): a compact JWS (EdDSA by default, RS256 with `?alg=RS256`; `kid` = the \
        issuer's verification method) whose payload is the credential plus the claims `iss`, `jti`, `sub` \
        (when the subject has an id), `nbf`, `exp`. Under `/v2`, `Accept: application/jose` (or `?format=jws`) \
        answers the OB 2.0 signed assertion (`application/jose`): a compact JWS (RS256, `kid` = the key's \
        `CryptographicKey` URL) whose payload is the assertion with `verification` \
        `{\"type\": \"SignedBadge\", \"creator\": <CryptographicKey URL>}`, signed when asked with the issuer's \
        RSA key (made on first use). A browser (`Accept` naming `text/html` ahead of JSON, or `?format=html`) \
        gets the credential's page (`text/html`, docs/pages.md): 410 when revoked, like the JSON.",
    params(
        ("id" = String, Path, format = "uuid", description = "The credential's UUID."),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 if unchanged."),
        ("format" = Option<String>, Query, description = "`jwt`: answer a VC-JWT (as `Accept: application/vc+jwt`); \
            `jws` (under `/v2`): answer the OB 2.0 signed assertion (as `Accept: application/jose`); `html`: the page for people; \
            `json` (default): the JSON-LD document."),
        ("alg" = Option<String>, Query, description = "Algorithm of the VC-JWT: `EdDSA` (default, the issuer's \
            Ed25519 key) or `RS256` (the issuer's RSA key)."),
    ),
    responses(
        (status = 200, description = "The credential: the JSON-LD document, or the VC-JWT or OB 2.0 signed \
            assertion when asked for (a compact JWS, `header.payload.signature` in base64url, with no ETag).",
            content(
                (schema::CredentialDocument = "application/vc+ld+json"),
                (String = "application/vc+jwt"),
                (String = "application/jose"),
                (String = "text/html"),
            ),
            headers(
                ("ETag" = String, description = "Strong validator of the document."),
                ("Cache-Control" = String, description = "`public, no-cache`: revalidate on every use."),
                ("Vary" = String, description = "`Accept`."),
            )),
        (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`.",
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 400, description = "`format` is not `json`, `jwt` or `jws`, or `alg` is neither `EdDSA` nor `RS256`.",
            body = super::schema::ValidationError),
        (status = 404, description = "No such credential (or the id is not a UUID).", body = super::schema::ErrorMessage),
        (status = 406, description = "VC-JWT was asked for an OB 2.0 rendering or an unsigned credential, or an \
            OB 2.0 signed assertion outside `/v2`.", body = super::schema::ErrorMessage),
        (status = 410, description = "The credential has been revoked.", body = schema::RevokedError,
            headers(("Cache-Control" = String, description = "`public, no-cache`."))),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn get(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: AssertionId = path_id(&id, "credential")?;
    // Only the plain JSON-LD is kept rendered: the page verifies now, and
    // the tokens are signed per request.
    let key = DocumentKey::Credential(id, **version);
    let plain = !crate::pages::wants_html(&request)
        && !super::signed::wants_jws(&request)
        && matches!(wants_jwt(&request), Ok(false))
        && jwt_algorithm(&request).is_ok();
    if plain {
        if let Some(doc) = state.documents.get(&key) {
            return Ok(doc.respond(&request));
        }
    }
    let ticket = state.documents.ticket();
    // Kept awards are of the ticket's generation or a later one: a change
    // forgets them all.
    let award = openbadges_verify::Records::award(state.records.as_ref(), id).await?;
    if crate::pages::wants_html(&request) {
        return page(&state, &award).await;
    }
    if award.status.is_revoked() {
        return Ok(gone(&award, **version, &state));
    }
    if super::signed::wants_jws(&request) {
        return super::signed::assertion_jws(&state, **version, &award).await;
    }
    let algorithm = jwt_algorithm(&request)?;
    if wants_jwt(&request)? {
        return jwt(&state, **version, &award, algorithm).await;
    }
    let doc = render_one(&state, state.reads.as_ref(), **version, &award).await?;
    let doc = Arc::new(PublicDocument::new(
        doc,
        media_type(**version, true),
        Freshness::Revalidate,
    ));
    let response = doc.respond(&request);
    state.documents.put(key, ticket, doc);
    Ok(response)
}

/// The credential's page: its OB 3.0 credential as served, verified now.
async fn page(state: &AppState, award: &Assertion) -> Result<HttpResponse, ApiError> {
    let text = render_one(
        state,
        state.reads.as_ref(),
        crate::pages::PAGE_VERSION,
        award,
    )
    .await?;
    let credential: Value = serde_json::from_str(&text)
        .map_err(|e| DomainError::Internal(format!("stored credential {}: {e}", award.id)))?;
    // Our own credential: no other server's DID document is fetched for a
    // page view.
    let report = openbadges_verify::Verifier::new(
        state.reads.as_ref(),
        &state.urls,
        state.signing.integrity(),
    )
    .with_memo(&state.proofs)
    .with_records(state.records.as_ref())
    .verify_award(award)
    .await?;
    let sent = crate::consumer::sent_to(state, award.id)
        .await?
        .into_iter()
        .map(|(delivery, host)| crate::pages::SentView {
            host,
            state: match delivery.state {
                openbadges_domain::deliveries::DeliveryState::Delivered => "Sent to",
                openbadges_domain::deliveries::DeliveryState::Failed => "Could not be sent to",
                openbadges_domain::deliveries::DeliveryState::Authorizing => {
                    "Waiting for authorization at"
                }
                _ => "On its way to",
            },
        })
        .collect();
    Ok(crate::pages::credential(
        award,
        &credential,
        &report,
        state.urls.base(),
        sent,
    )?)
}

/// VC-JWT is asked for with `Accept: application/vc+jwt` or `?format=jwt`.
fn wants_jwt(request: &HttpRequest) -> Result<bool, ApiError> {
    let accept = request
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match ListQuery::of(request).get(&["format"]) {
        None => Ok(accept.contains(VC_JWT)),
        Some("json") => Ok(false),
        Some("jwt") => Ok(true),
        Some(_) => Err(DomainError::invalid("format", "must be json, jwt or jws").into()),
    }
}

/// The VC-JWT algorithm: `?alg=RS256`, or EdDSA by default.
fn jwt_algorithm(request: &HttpRequest) -> Result<JwtAlgorithm, ApiError> {
    match ListQuery::of(request).get(&["alg"]) {
        None => Ok(JwtAlgorithm::EdDsa),
        Some(raw) => JwtAlgorithm::parse(raw)
            .ok_or_else(|| DomainError::invalid("alg", "must be EdDSA or RS256").into()),
    }
}

/// The signed OB 3.0 credential as a VC-JWT (EdDSA or RS256, `kid` = the
/// issuer's verification method); 406 for OB 2.0 or an unsigned credential.
async fn jwt(
    state: &AppState,
    version: Version,
    award: &Assertion,
    algorithm: JwtAlgorithm,
) -> Result<HttpResponse, ApiError> {
    let Some(issued) = award
        .issued_credential
        .as_ref()
        .filter(|_| version == Version::V3)
    else {
        return Ok(not_acceptable(
            "VC-JWT is available for OB 3.0 credentials issued with a proof",
        ));
    };
    let jwt = state
        .signing
        .jwt(award.issuer_id, &issued.document()?, algorithm)
        .await?;
    Ok(token(VC_JWT, jwt))
}

#[utoipa::path(
    put,
    path = "/credentials/{id}",
    tag = "credentials",
    operation_id = "updateCredential",
    summary = "Update a credential",
    description = "A partial update, as the previous server did: the body is applied to the stored credential \
        (its OB 3.0 document) as a JSON merge patch (RFC 7396): fields the body leaves out are kept, `null` \
        removes an optional field, an OB 2.0 name (`issuedOn`, `expires`, `recipient`, `badge`, `narrative`, \
        `image`) replaces its OB 3.0 field, and the result is validated whole. `PATCH` does the same. The \
        credential is looked up (404) and its issuer's management checked (403) before the body is read. \
        The changed credential is signed anew with the issuer's active key (its old proof would no longer \
        match), unless `?sign=false`, which leaves it without a proof. The status is not part of the edit and \
        is never written by it: a revocation made meanwhile stays, and the answer shows the stored status.",
    params(
        ("id" = String, Path, description = "The credential's id: its UUID, `urn:uuid:<UUID>` or its URL \
            (raw or percent-encoded)."),
        schema::SignOption,
    ),
    request_body(content = schema::CredentialRequest,
        description = "The fields to change (any subset), either style. The achievement cannot change."),
    responses(
        (status = 200, description = "The updated credential.", body = schema::CredentialDocument,
            content_type = "application/vc+ld+json"),
        (status = 400, description = "A field does not validate (or names another achievement).",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage its issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such credential.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn update(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
    Auth(actor): Auth,
    body: JsonText,
) -> Result<HttpResponse, ApiError> {
    let id: AssertionId = path_id(&id, "credential")?;
    let current = state.store.assertions().get(id).await?;
    let issuer = state.store.issuers().get(current.issuer_id).await?;
    actor.may_manage(&issuer)?;
    let badge = state
        .store
        .badge_classes()
        .get(current.badge_class_id)
        .await?;
    let document = ob3::credential(&current, &badge, &issuer, &state.urls);
    let patch = body.value()?;
    let merged = super::merge::credential(document, &patch);
    let mut draft = requests::assertion_draft(&merged, &state.urls, Some(id.as_uuid()))
        .map_err(|e| super::merge::as_patch_named(e, &patch))?;
    if !super::merge::names_recipient(&patch) {
        // Kept exactly as stored (kind, hash and salt), not as read back
        // from its rendering.
        draft.recipient = current.recipient.clone();
    }
    let award = service::update_assertion(
        state.store.as_ref(),
        &actor,
        proofs(&request, &state),
        id,
        draft,
    )
    .await?;
    let doc = render_one(&state, state.store.as_ref(), **version, &award).await?;
    Ok(HttpResponse::Ok()
        .content_type(media_type(**version, true))
        .body(doc))
}

/// `PATCH /credentials/{id}`: the same partial update as `PUT`.
#[utoipa::path(
    patch,
    path = "/credentials/{id}",
    tag = "credentials",
    operation_id = "patchCredential",
    summary = "Update a credential (as PUT)",
    description = "The same partial update as `PUT /credentials/{id}` (a JSON merge patch, RFC 7396), signed \
        anew unless `?sign=false`.",
    params(
        ("id" = String, Path, description = "The credential's id: its UUID, `urn:uuid:<UUID>` or its URL."),
        schema::SignOption,
    ),
    request_body(content = schema::CredentialRequest, description = "The fields to change (any subset)."),
    responses(
        (status = 200, description = "The updated credential.", body = schema::CredentialDocument,
            content_type = "application/vc+ld+json"),
        (status = 400, description = "A field does not validate (or names another achievement).",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write, or does not manage its issuer.",
            body = super::schema::Forbidden),
        (status = 404, description = "No such credential.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn patch(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
    actor: Auth,
    body: JsonText,
) -> Result<HttpResponse, ApiError> {
    update(request, state, version, id, actor, body).await
}

/// `POST /credentials/{id}/sign[?keyId=]`: the previous server's signing
/// route.
#[utoipa::path(
    post,
    path = "/credentials/{id}/sign",
    tag = "credentials",
    operation_id = "signCredential",
    summary = "Sign a credential",
    description = "Signs the OB 3.0 credential anew with an `eddsa-rdfc-2022` Data Integrity proof: one issued \
        unsigned (`?sign=false`), or one to be signed with another key. `keyId` chooses the key: an active \
        Ed25519 key of the credential's issuer; without it, the issuer's active key (made on first use). The \
        signed credential is stored and served as issued from then on. No body.",
    params(
        ("id" = String, Path, description = "The credential's id: its UUID, `urn:uuid:<UUID>` or its URL."),
        schema::SignKey,
    ),
    responses(
        (status = 200, description = "The signed credential (under `/v2`, the OB 2.0 assertion).",
            body = schema::CredentialDocument, content_type = "application/vc+ld+json"),
        (status = 400, description = "`keyId` is not an active Ed25519 key of the credential's issuer.",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage its issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such credential.", body = super::schema::ErrorMessage),
        (status = 409, description = "The credential is revoked.", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn sign(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
    Auth(actor): Auth,
) -> Result<HttpResponse, ApiError> {
    let id: AssertionId = path_id(&id, "credential")?;
    let key = match ListQuery::of(&request).get(&["keyId", "key"]) {
        None => None,
        Some(raw) => Some(
            raw.strip_prefix("urn:uuid:")
                .unwrap_or(raw)
                .parse::<SigningKeyId>()
                .map_err(|_| DomainError::invalid("keyId", "must be a key's UUID"))?,
        ),
    };
    let proofs = Proofs {
        signer: state.signing.as_ref(),
        urls: &state.urls,
    };
    let award = service::sign_assertion(state.store.as_ref(), &actor, proofs, id, key).await?;
    let doc = render_one(&state, state.store.as_ref(), **version, &award).await?;
    Ok(HttpResponse::Ok()
        .content_type(media_type(**version, true))
        .body(doc))
}

/// `POST /credentials/{id}/revoke` with an optional `{"reason": ...}`:
/// 200 with the new status.
#[utoipa::path(
    post,
    path = "/credentials/{id}/revoke",
    tag = "credentials",
    operation_id = "revokeCredential",
    summary = "Revoke a credential",
    description = "Final: a revoked credential answers 410 from then on. The body is optional.",
    params(("id" = String, Path, format = "uuid", description = "The credential's UUID.")),
    request_body(content = Option<schema::RevokeRequest>, description = "Optional: the reason."),
    responses(
        (status = 200, description = "Revoked: the new status.", body = schema::RevocationStatus),
        (status = 400, description = "The body is not JSON, or `reason` is not a string.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage its issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such credential.", body = super::schema::ErrorMessage),
        (status = 409, description = "The credential is already revoked, or its status changed while this request \
            was handled (read it again).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn revoke(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<HttpResponse, ApiError> {
    let id: AssertionId = path_id(&id, "credential")?;
    let reason = requests::revocation_reason(body.as_ref())?;
    let award = service::change_status(
        state.store.as_ref(),
        &actor,
        id,
        StatusChange::Revoke(reason),
    )
    .await?;
    Ok(HttpResponse::Ok().json(status_body(
        &award,
        **version,
        &state,
        StatusPurpose::Revocation,
    )))
}

/// `POST /credentials/{id}/suspend` with an optional `{"reason": ...}`.
#[utoipa::path(
    post,
    path = "/credentials/{id}/suspend",
    tag = "credentials",
    operation_id = "suspendCredential",
    summary = "Suspend a credential",
    description = "Withdraws the credential until it is reinstated: its bit is set in the suspension status list \
        (`<statusListCredential>/suspension`, same index) and `/verify` reports it suspended. Suspending a \
        suspended credential records the new reason. The body is optional.",
    params(("id" = String, Path, format = "uuid", description = "The credential's UUID.")),
    request_body(content = Option<schema::RevokeRequest>, description = "Optional: the reason."),
    responses(
        (status = 200, description = "Suspended: the new status.", body = schema::RevocationStatus),
        (status = 400, description = "The body is not JSON, or `reason` is not a string.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage its issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such credential.", body = super::schema::ErrorMessage),
        (status = 409, description = "The credential is revoked (revocation is final), or its status changed while \
            this request was handled (read it again).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn suspend(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<HttpResponse, ApiError> {
    let reason = requests::revocation_reason(body.as_ref())?;
    apply_status(
        &actor,
        &state,
        **version,
        &id,
        StatusChange::Suspend(reason),
    )
    .await
}

/// `POST /credentials/{id}/reinstate`: lifts a suspension.
#[utoipa::path(
    post,
    path = "/credentials/{id}/reinstate",
    tag = "credentials",
    operation_id = "reinstateCredential",
    summary = "Reinstate a suspended credential",
    description = "Clears the credential's bit in the suspension status list; it verifies again.",
    params(("id" = String, Path, format = "uuid", description = "The credential's UUID.")),
    responses(
        (status = 200, description = "Active again: the new status.", body = schema::RevocationStatus),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage its issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such credential.", body = super::schema::ErrorMessage),
        (status = 409, description = "The credential is not suspended, or is revoked, or its status changed while \
            this request was handled (read it again).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn reinstate(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    apply_status(&actor, &state, **version, &id, StatusChange::Reinstate).await
}

/// `POST /credentials/{id}/status`: the previous server's status route.
#[utoipa::path(
    post,
    path = "/credentials/{id}/status",
    tag = "credentials",
    operation_id = "updateCredentialStatus",
    summary = "Set or clear a credential's status bit",
    description = "The previous server's status route. `{\"status\": \"1\", \"purpose\": \"revocation\"}` revokes \
        (as `/revoke`), `\"suspension\"` suspends, and `\"0\"` with `\"suspension\"` reinstates. Revocation is \
        final: clearing the revocation bit is refused. The bit and the credential's status are one state, \
        changed in one transaction.",
    params(("id" = String, Path, format = "uuid", description = "The credential's UUID.")),
    request_body(content = schema::StatusChangeRequest),
    responses(
        (status = 200, description = "The new status.", body = schema::RevocationStatus),
        (status = 400, description = "`status` is not \"0\" or \"1\", `purpose` is unknown, or the revocation bit \
            would be cleared.", body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage its issuer.", body = super::schema::Forbidden),
        (status = 404, description = "No such credential.", body = super::schema::ErrorMessage),
        (status = 409, description = "The credential is revoked, or not suspended when reinstated, or its status \
            changed while this request was handled (read it again).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
async fn change_status(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let change = requests::status_change(&body)?;
    apply_status(&actor, &state, **version, &id, change).await
}

async fn apply_status(
    actor: &Principal,
    state: &AppState,
    version: Version,
    id: &str,
    change: StatusChange,
) -> Result<HttpResponse, ApiError> {
    let id: AssertionId = path_id(id, "credential")?;
    let purpose = match change {
        StatusChange::Revoke(_) => StatusPurpose::Revocation,
        StatusChange::Suspend(_) | StatusChange::Reinstate => StatusPurpose::Suspension,
    };
    let award = service::change_status(state.store.as_ref(), actor, id, change).await?;
    Ok(HttpResponse::Ok().json(status_body(&award, version, state, purpose)))
}

/// The answer of a status change: the status, and the previous server's
/// `success` and `statusEntry` (the bit of `purpose`, the list the change
/// was about).
fn status_body(
    award: &Assertion,
    version: Version,
    state: &AppState,
    purpose: StatusPurpose,
) -> Value {
    let (reason, at) = match &award.status {
        CredentialStatus::Active => (None, None),
        CredentialStatus::Revoked { reason, at } | CredentialStatus::Suspended { reason, at } => (
            reason.as_ref().map(|r| r.as_str().to_owned()),
            Some(at.to_rfc3339()),
        ),
    };
    let mut body = json!({
        "id": state.urls.credential(version, award.id),
        "status": award.status.as_str(),
        "revoked": award.status.is_revoked(),
        "revocationReason": reason,
        "statusChangedAt": at,
        // The previous server's fields, which its clients read.
        "success": true,
    });
    if let Some(slot) = award.status_slot {
        let set = match purpose {
            StatusPurpose::Revocation => award.status.is_revoked(),
            StatusPurpose::Suspension => {
                matches!(award.status, CredentialStatus::Suspended { .. })
            }
        };
        body["statusEntry"] = json!({
            "currentStatus": if set { "1" } else { "0" },
            "purpose": purpose.as_str(),
            "statusListIndex": slot.index.to_string(),
            "statusListCredential": state.urls.status_list(slot.list_id, purpose),
        });
    }
    body
}
