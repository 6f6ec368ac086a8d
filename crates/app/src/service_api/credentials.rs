//! `GET` and `POST /ims/ob/v3p0/credentials`: getCredentials and
//! upsertCredential on the backpack of the learner the access token acts
//! for.
//!
//! - getCredentials pages by `limit` (1 to [`MAX_LIMIT`], default
//!   [`DEFAULT_LIMIT`]) and `offset`, filters by `since` (RFC 3339: only
//!   credentials valid from after it), answers `X-Total-Count` and a `Link`
//!   with `first` and `last` always, `next` when the page is not the last
//!   and `prev` when the offset is not zero. JSON credentials are in
//!   `credential`, compact JWS ones in `compactJwsString`, each exactly as
//!   held.
//! - upsertCredential takes a credential as `application/json` (with an
//!   embedded proof) or a VC-JWT as `text/plain`, verifies it first (the
//!   same engine as `POST /verify`; anything that does not verify is
//!   refused with the failed checks and nothing is stored), and stores it
//!   in the token owner's backpack: replaced (200) when the backpack holds
//!   an equal credential (same issuer id and credential id after
//!   percent-decoding and trimming, the specification's equality), else
//!   created (201). The answer echoes the credential as sent.
//!
//! Whose badge it is: the credential goes into the backpack of the
//! learner who authorized the client, whoever its `credentialSubject`
//! names. A learner may hold credentials issued to any identifier of
//! theirs (an e-mail address, a DID, a hashed identity), which this server
//! cannot prove; what it guarantees is that a client writes only to the
//! backpack its learner allowed, and reads only that one.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_credentials::jws::CompactJws;
use openbadges_domain::backpack::{
    equality_keys, HeldCredential, HeldCredentialId, HeldFormat, HeldSource, Upserted,
};
use openbadges_domain::oauth::Scope;
use openbadges_domain::{DomainError, PageRequest, Timestamp};
use openbadges_verify::Verifier;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::imsx::ImsxError;
use super::query::{Query, DEFAULT_LIMIT, MAX_LIMIT};
use crate::oauth::access::ServiceAccess;
use crate::state::AppState;

/// The getCredentials answer (the `GetOpenBadgeCredentialsResponse`
/// schema), each credential written exactly as held.
#[derive(Serialize)]
struct CredentialsPage<'a> {
    credential: Vec<&'a RawValue>,
    #[serde(rename = "compactJwsString")]
    compact_jws_string: Vec<&'a str>,
}

/// The `Link` header of a page (`api.txt`, "Paging").
fn links(base: &str, limit: u32, offset: u64, total: u64, since: Option<&str>) -> String {
    let limit64 = u64::from(limit);
    let since = since
        .map(|s| {
            format!(
                "&since={}",
                percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .unwrap_or_default();
    let link = |offset: u64, rel: &str| {
        format!("<{base}?limit={limit}&offset={offset}{since}>; rel=\"{rel}\"")
    };
    let last = total.saturating_sub(1) / limit64 * limit64;
    let mut parts = Vec::new();
    if offset.saturating_add(limit64) < total {
        parts.push(link(offset + limit64, "next"));
    }
    parts.push(link(last, "last"));
    parts.push(link(0, "first"));
    if offset > 0 {
        parts.push(link(offset.saturating_sub(limit64), "prev"));
    }
    parts.join(", ")
}

/// `GET /ims/ob/v3p0/credentials`: getCredentials.
#[utoipa::path(
    get,
    path = "/ims/ob/v3p0/credentials",
    tag = "service-api",
    operation_id = "getCredentials",
    summary = "OB 3.0 getCredentials: the credentials of the learner's backpack",
    description = "OAuth 2.0 access token with the credential.readonly scope. `limit` 1 to 100 (default 50), \
        `offset`, `since` (RFC 3339: only credentials valid from after it). Oldest received first. \
        JSON credentials are in `credential`, VC-JWTs in `compactJwsString`. Errors are Imsx_StatusInfo.",
    params(
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 100 (default 50)."),
        ("offset" = Option<u64>, Query, description = "Credentials to skip (default 0)."),
        ("since" = Option<String>, Query, description = "RFC 3339 date-time: only credentials valid from after it."),
    ),
    responses(
        (status = 200, description = "The page: `{credential: [...], compactJwsString: [...]}`.", body = Object,
            headers(("X-Total-Count" = u64, description = "How many credentials match."),
                ("Link" = String, description = "RFC 8288 links: first, last, and next and prev when they exist."))),
        (status = 400, description = "Imsx_StatusInfo, invalid_query_parameter naming limit, offset or since.", body = Object),
        (status = 401, description = "Imsx_StatusInfo: no valid access token.", body = Object),
        (status = 403, description = "Imsx_StatusInfo: the token lacks credential.readonly.", body = Object),
    ),
    security(("OAuth2ACG" = ["https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"]))
)]
pub async fn get_credentials(
    access: ServiceAccess,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ImsxError> {
    access.require(Scope::CredentialReadonly)?;
    let query = Query::parse(request.query_string())?;
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ImsxError::invalid_query(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let offset = match query.get("offset") {
        None => 0,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= PageRequest::MAX_OFFSET)
            .ok_or_else(|| ImsxError::invalid_query("offset must be a whole number, 0 or more"))?,
    };
    let since_text = query.get("since");
    let since = since_text
        .map(|text| {
            Timestamp::parse(text).map_err(|e| ImsxError::invalid_query(format!("since {}", e.0)))
        })
        .transpose()?;
    let page = PageRequest::new(limit, offset).map_err(ImsxError::from)?;
    let held = state
        .store
        .backpack()
        .list(access.user, since, page)
        .await?;
    let mut json = Vec::new();
    let mut jws = Vec::new();
    for credential in &held.items {
        match credential.format {
            HeldFormat::Json => {
                let raw: &RawValue = serde_json::from_str(&credential.text).map_err(|_| {
                    DomainError::Internal(format!("held credential {} is not JSON", credential.id))
                })?;
                json.push(raw);
            }
            HeldFormat::Jws => jws.push(credential.text.as_str()),
        }
    }
    let base = format!(
        "{}{}",
        state.settings.http.base_url,
        super::discovery::API_PATH
    );
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", held.total.to_string()))
        .insert_header((
            header::LINK,
            links(
                &format!("{base}/credentials"),
                limit,
                offset,
                held.total,
                since_text,
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CredentialsPage {
            credential: json,
            compact_jws_string: jws,
        }))
}

/// The media type of a request, lower-cased, without parameters.
fn media_type(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
}

/// What an upsert received.
enum Received {
    Json { text: String, document: Value },
    Jws { token: String, payload: Value },
}

fn is_achievement_credential(document: &Value) -> bool {
    let types = match document.get("type") {
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    };
    types
        .iter()
        .any(|t| matches!(*t, "OpenBadgeCredential" | "AchievementCredential"))
}

fn received(request: &HttpRequest, body: &[u8]) -> Result<Received, ImsxError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ImsxError::invalid_data("the body is not UTF-8 text"))?;
    match media_type(request).as_deref() {
        Some("application/json" | "application/ld+json" | "application/vc+ld+json") => {
            let document: Value = serde_json::from_str(text)
                .map_err(|e| ImsxError::invalid_data(format!("the body is not JSON: {e}")))?;
            if !document.is_object() {
                return Err(ImsxError::invalid_data(
                    "the body must be a credential: a JSON object",
                ));
            }
            Ok(Received::Json {
                text: text.to_owned(),
                document,
            })
        }
        Some("text/plain" | "application/jwt" | "application/vc+jwt") => {
            let token = text.trim().to_owned();
            if openbadges_verify::is_ob2_jws(&token) {
                return Err(ImsxError::invalid_data(
                    "an OB 2.0 signed assertion is not an OpenBadgeCredential",
                ));
            }
            let payload = CompactJws::parse(&token)
                .and_then(|jws| jws.payload_json())
                .map_err(|_| {
                    ImsxError::invalid_data(
                        "the body must be a compact JWS (VC-JWT) whose payload is a credential",
                    )
                })?;
            Ok(Received::Jws { token, payload })
        }
        other => Err(ImsxError::unsupported_media_type(format!(
            "Content-Type {} is not taken: send application/json (a credential with its proof) or \
             text/plain (a compact JWS)",
            other.unwrap_or("(none)")
        ))),
    }
}

/// `POST /ims/ob/v3p0/credentials`: upsertCredential.
#[utoipa::path(
    post,
    path = "/ims/ob/v3p0/credentials",
    tag = "service-api",
    operation_id = "upsertCredential",
    summary = "OB 3.0 upsertCredential: add a credential to the learner's backpack, or replace the equal one",
    description = "OAuth 2.0 access token with the credential.upsert scope. `application/json`: an \
        OpenBadgeCredential with its embedded proof; `text/plain`: a VC-JWT. The credential is verified \
        first (a failed proof is a 400 naming the failed checks, and nothing is stored). An equal credential \
        (same issuer id and id) is replaced (200), else one is created (201); the answer echoes it.",
    request_body(content = Object, description = "The credential (JSON) or a compact JWS (text/plain)."),
    responses(
        (status = 200, description = "Replaced: the credential as sent.", body = Object),
        (status = 201, description = "Created: the credential as sent.", body = Object),
        (status = 400, description = "Imsx_StatusInfo, invalid_data: not a credential, or it does not verify.", body = Object),
        (status = 401, description = "Imsx_StatusInfo: no valid access token.", body = Object),
        (status = 403, description = "Imsx_StatusInfo: the token lacks credential.upsert.", body = Object),
        (status = 415, description = "Imsx_StatusInfo: another Content-Type.", body = Object),
    ),
    security(("OAuth2ACG" = ["https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"]))
)]
pub async fn upsert_credential(
    access: ServiceAccess,
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ImsxError> {
    access.require(Scope::CredentialUpsert)?;
    let received = received(&request, &body)?;
    // Credentials issued by other servers verify with their issuer's
    // did:web DID document, fetched through the outbound guard.
    let verifier = Verifier::new(state.store.as_ref(), &state.urls, state.signing.integrity())
        .with_resolver(state.outbound.dids.as_ref());
    let (report, document) = match &received {
        Received::Json { document, .. } => (verifier.verify_json(document).await?, document),
        Received::Jws { token, payload } => (verifier.verify_token(token).await?, payload),
    };
    if !is_achievement_credential(document) {
        return Err(ImsxError::invalid_data(
            "type must include OpenBadgeCredential (or AchievementCredential)",
        ));
    }
    if !report.is_valid() {
        let failed: Vec<String> = report
            .checks
            .iter()
            .filter(|check| !check.passed)
            .map(|check| format!("{}: {}", check.name, check.message))
            .collect();
        return Err(ImsxError::invalid_data(format!(
            "the credential does not verify ({}): {}",
            report.error_code.unwrap_or("INVALID"),
            failed.join("; ")
        )));
    }
    let (issuer_key, credential_key) = equality_keys(document).map_err(ImsxError::from)?;
    let valid_from = document
        .get("validFrom")
        .and_then(Value::as_str)
        .and_then(|text| Timestamp::parse(text).ok());
    let (format, text, content_type) = match received {
        Received::Json { text, .. } => (HeldFormat::Json, text, "application/json"),
        Received::Jws { token, .. } => (HeldFormat::Jws, token, "text/plain; charset=utf-8"),
    };
    let now = Timestamp::now();
    let held = HeldCredential {
        id: HeldCredentialId::generate(),
        owner: access.user,
        issuer_key,
        credential_key,
        valid_from,
        format,
        text,
        source: HeldSource::Uploaded {
            client: Some(access.client.to_string()),
        },
        received_at: now,
        updated_at: now,
    };
    let status = match state.store.backpack().upsert(&held).await? {
        Upserted::Created => StatusCode::CREATED,
        Upserted::Replaced => StatusCode::OK,
    };
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(held.text))
}

#[cfg(test)]
mod tests {
    use super::links;

    #[test]
    fn links_follow_the_paging_rules() {
        let all = links("https://h/c", 2, 0, 5, None);
        assert_eq!(
            all,
            "<https://h/c?limit=2&offset=2>; rel=\"next\", <https://h/c?limit=2&offset=4>; rel=\"last\", \
             <https://h/c?limit=2&offset=0>; rel=\"first\""
        );
        let middle = links("https://h/c", 2, 2, 5, Some("2024-01-01T00:00:00Z"));
        assert!(
            middle.contains("offset=4&since=2024%2D01%2D01T00%3A00%3A00Z>; rel=\"next\""),
            "{middle}"
        );
        assert!(
            middle.contains("offset=0&since=2024%2D01%2D01T00%3A00%3A00Z>; rel=\"prev\""),
            "{middle}"
        );
        let last = links("https://h/c", 2, 4, 5, None);
        assert!(!last.contains("next"), "{last}");
        assert!(last.contains("offset=2>; rel=\"prev\""), "{last}");
        let empty = links("https://h/c", 10, 0, 0, None);
        assert_eq!(
            empty,
            "<https://h/c?limit=10&offset=0>; rel=\"last\", <https://h/c?limit=10&offset=0>; rel=\"first\""
        );
    }
}
