//! `POST /oauth/register`: RFC 7591 dynamic client registration, as the
//! Open Badges 3.0 specification profiles it (security section "Register
//! with Authorization Server"):
//!
//! - no initial access token: anyone may register (a client can do nothing
//!   until a learner authorizes it);
//! - `client_name`, `client_uri`, `logo_uri`, `tos_uri`, `policy_uri`,
//!   `software_id`, `software_version`, `redirect_uris` and `scope` are
//!   required; arrays must be arrays even for one value;
//! - every URL is `https`, and all of them have the same host name. Plain
//!   `http` is accepted for loopback hosts only (`localhost`, `127.0.0.1`,
//!   `::1`), so that a client on the same machine (a test, a desktop
//!   wallet) can register;
//! - `token_endpoint_auth_method` can only be `client_secret_basic`,
//!   `grant_types` only `authorization_code` and `refresh_token`,
//!   `response_types` only `code`.
//!
//! The answer is 201 with `client_id`, `client_secret` (shown this once,
//! stored as its SHA-256), `client_id_issued_at`,
//! `client_secret_expires_at: 0` (it does not expire) and the metadata as
//! registered. A refusal is 400 `{"error": "invalid_client_metadata" |
//! "invalid_redirect_uri", "error_description"}`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use openbadges_domain::oauth::{OAuthClient, ScopeSet, SecretHash};
use openbadges_domain::{OAuthClientId, Timestamp};
use serde_json::{json, Map, Value};

use super::{is_loopback, new_secret, no_store};
use crate::state::AppState;

/// The longest text accepted in a metadata field.
const MAX_TEXT: usize = 2048;
/// The most redirect URIs or contacts a client may register.
const MAX_ITEMS: usize = 20;

/// A refused registration (RFC 7591 section 3.2.2).
#[derive(Debug)]
struct Refusal {
    code: &'static str,
    description: String,
}

fn metadata_error(description: impl Into<String>) -> Refusal {
    Refusal {
        code: "invalid_client_metadata",
        description: description.into(),
    }
}

fn redirect_error(description: impl Into<String>) -> Refusal {
    Refusal {
        code: "invalid_redirect_uri",
        description: description.into(),
    }
}

impl Refusal {
    fn response(&self) -> HttpResponse {
        no_store(StatusCode::BAD_REQUEST)
            .json(json!({ "error": self.code, "error_description": self.description }))
    }
}

fn text(body: &Map<String, Value>, field: &str) -> Result<Option<String>, Refusal> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) if value.trim().is_empty() => {
            Err(metadata_error(format!("{field} must not be empty")))
        }
        Some(Value::String(value)) if value.len() > MAX_TEXT => Err(metadata_error(format!(
            "{field} is longer than {MAX_TEXT} bytes"
        ))),
        Some(Value::String(value)) => Ok(Some(value.trim().to_owned())),
        Some(_) => Err(metadata_error(format!("{field} must be a string"))),
    }
}

fn required_text(body: &Map<String, Value>, field: &str) -> Result<String, Refusal> {
    text(body, field)?.ok_or_else(|| metadata_error(format!("{field} is required")))
}

fn strings(body: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, Refusal> {
    let invalid = || {
        metadata_error(format!(
            "{field} must be an array of strings (an array even for one value)"
        ))
    };
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            if items.len() > MAX_ITEMS {
                return Err(metadata_error(format!(
                    "{field} has more than {MAX_ITEMS} values"
                )));
            }
            items
                .iter()
                .map(|item| match item {
                    Value::String(s) if !s.trim().is_empty() && s.len() <= MAX_TEXT => {
                        Ok(s.trim().to_owned())
                    }
                    _ => Err(invalid()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        }
        Some(_) => Err(invalid()),
    }
}

/// A URL a client registers: absolute, `https` (or `http` on loopback), no
/// fragment, no user name or password in it.
fn checked_url(field: &str, value: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(value).map_err(|e| format!("{field} is not a URL ({e})"))?;
    let allowed = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !allowed {
        return Err(format!(
            "{field} must use https (http only for localhost and loopback addresses)"
        ));
    }
    if url.host_str().is_none() {
        return Err(format!("{field} has no host"));
    }
    if url.fragment().is_some() {
        return Err(format!("{field} must not have a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{field} must not carry credentials"));
    }
    Ok(url)
}

/// The client a registration body describes, checked; `secret` becomes its
/// secret.
fn client_from(body: &Value, secret: &str) -> Result<OAuthClient, Refusal> {
    let Some(body) = body.as_object() else {
        return Err(metadata_error("the body must be a JSON object"));
    };
    let name = required_text(body, "client_name")?;
    let mut hosts: Vec<(String, String)> = Vec::new();
    let mut url_field = |field: &str| -> Result<String, Refusal> {
        let value = required_text(body, field)?;
        let url = checked_url(field, &value).map_err(metadata_error)?;
        hosts.push((
            field.to_owned(),
            url.host_str().unwrap_or_default().to_owned(),
        ));
        Ok(value)
    };
    let client_uri = url_field("client_uri")?;
    let logo_uri = url_field("logo_uri")?;
    let tos_uri = url_field("tos_uri")?;
    let policy_uri = url_field("policy_uri")?;
    let software_id = required_text(body, "software_id")?;
    let software_version = required_text(body, "software_version")?;
    let redirect_uris = strings(body, "redirect_uris")
        .map_err(|e| redirect_error(e.description))?
        .filter(|uris| !uris.is_empty())
        .ok_or_else(|| redirect_error("redirect_uris is required: an array of at least one URL"))?;
    for uri in &redirect_uris {
        let url = checked_url("redirect_uris", uri).map_err(redirect_error)?;
        hosts.push((
            "redirect_uris".to_owned(),
            url.host_str().unwrap_or_default().to_owned(),
        ));
    }
    if let Some((field, host)) = hosts
        .iter()
        .find(|(_, host)| !host.eq_ignore_ascii_case(&hosts[0].1))
    {
        let refusal = format!(
            "every URL must have the same host name: client_uri has {:?}, {field} has {host:?}",
            hosts[0].1
        );
        return Err(if field == "redirect_uris" {
            redirect_error(refusal)
        } else {
            metadata_error(refusal)
        });
    }
    let scope = required_text(body, "scope")?;
    let scopes = ScopeSet::parse(&scope).map_err(|e| metadata_error(format!("scope: {}", e.0)))?;
    if scopes.is_empty() {
        return Err(metadata_error("scope names no scope"));
    }
    if let Some(method) = text(body, "token_endpoint_auth_method")? {
        if method != "client_secret_basic" {
            return Err(metadata_error(
                "token_endpoint_auth_method must be client_secret_basic, the only method of \
                 the Open Badges API",
            ));
        }
    }
    let grant_types =
        strings(body, "grant_types")?.unwrap_or_else(|| vec!["authorization_code".to_owned()]);
    if let Some(other) = grant_types
        .iter()
        .find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
    {
        return Err(metadata_error(format!(
            "grant_types: {other:?} is not supported; only authorization_code and refresh_token"
        )));
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(metadata_error(
            "grant_types must include authorization_code",
        ));
    }
    if let Some(types) = strings(body, "response_types")? {
        if types.is_empty() || types.iter().any(|t| t != "code") {
            return Err(metadata_error("response_types can only be [\"code\"]"));
        }
    }
    let contacts = strings(body, "contacts")?.unwrap_or_default();
    Ok(OAuthClient {
        id: OAuthClientId::generate(),
        secret_hash: SecretHash::of(secret),
        name,
        client_uri,
        logo_uri,
        tos_uri,
        policy_uri,
        software_id,
        software_version,
        redirect_uris,
        contacts,
        scopes,
        refresh_grant: grant_types.iter().any(|g| g == "refresh_token"),
        created_at: Timestamp::now(),
    })
}

/// The registered metadata, as the registration answers it.
pub fn client_metadata(client: &OAuthClient) -> Map<String, Value> {
    let grant_types: Vec<&str> = if client.refresh_grant {
        vec!["authorization_code", "refresh_token"]
    } else {
        vec!["authorization_code"]
    };
    let mut metadata = json!({
        "client_id": client.id.to_string(),
        "client_id_issued_at": client.created_at.as_datetime().timestamp(),
        "client_name": client.name,
        "client_uri": client.client_uri,
        "logo_uri": client.logo_uri,
        "tos_uri": client.tos_uri,
        "policy_uri": client.policy_uri,
        "software_id": client.software_id,
        "software_version": client.software_version,
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": grant_types,
        "response_types": ["code"],
        "scope": client.scopes.to_string(),
    });
    if !client.contacts.is_empty() {
        metadata["contacts"] = json!(client.contacts);
    }
    match metadata {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `POST /oauth/register`.
#[utoipa::path(
    post,
    path = "/oauth/register",
    tag = "oauth",
    operation_id = "registerClient",
    summary = "Register an OAuth 2.0 client (RFC 7591 dynamic registration)",
    description = "Public: no initial access token. Required: client_name, client_uri, logo_uri, tos_uri, \
        policy_uri, software_id, software_version, redirect_uris (an array), scope (space-separated). Every URL \
        is https and all have the same host name (http is accepted for localhost and loopback addresses only). \
        token_endpoint_auth_method can only be client_secret_basic; grant_types authorization_code and \
        refresh_token; response_types code. The client_secret is shown in this answer only.",
    request_body(content = Object, description = "RFC 7591 client metadata."),
    responses(
        (status = 201, description = "Registered: client_id, client_secret, client_id_issued_at, \
            client_secret_expires_at (0: never) and the metadata as registered.", body = Object),
        (status = 400, description = "`invalid_client_metadata` or `invalid_redirect_uri`, with \
            `error_description` naming the field.", body = Object),
        (status = 503, response = crate::api::responses::Unavailable),
    )
)]
pub async fn register(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, crate::error::ApiError> {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return Ok(metadata_error("the body must be a JSON object").response());
    };
    let secret = new_secret()?;
    let client = match client_from(&body, &secret) {
        Ok(client) => client,
        Err(refusal) => return Ok(refusal.response()),
    };
    state.store.oauth().create_client(&client).await?;
    log::info!(
        "OAuth client {} registered: {:?} ({})",
        client.id,
        client.name,
        client.client_uri
    );
    let mut answer = client_metadata(&client);
    answer.insert("client_secret".to_owned(), json!(secret));
    answer.insert("client_secret_expires_at".to_owned(), json!(0));
    Ok(no_store(StatusCode::CREATED).json(Value::Object(answer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Value {
        json!({
            "client_name": "Wallet",
            "client_uri": "https://wallet.example/",
            "logo_uri": "https://wallet.example/logo.png",
            "tos_uri": "https://wallet.example/terms",
            "policy_uri": "https://wallet.example/privacy",
            "software_id": "c88b6ed8-269e-448e-99be-7e2ff47167d1",
            "software_version": "v4.0",
            "redirect_uris": ["https://wallet.example/cb"],
            "scope": "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly offline_access",
            "grant_types": ["authorization_code", "refresh_token"],
        })
    }

    fn refused(change: impl FnOnce(&mut Value)) -> (&'static str, String) {
        let mut body = body();
        change(&mut body);
        let refusal = client_from(&body, "s").expect_err("refused");
        (refusal.code, refusal.description)
    }

    #[test]
    fn the_specification_example_registers() {
        let client = client_from(&body(), "secret").expect("valid");
        assert!(client.refresh_grant);
        assert!(client.secret_hash.matches("secret"));
        let metadata = client_metadata(&client);
        assert_eq!(
            metadata["token_endpoint_auth_method"],
            "client_secret_basic"
        );
        assert_eq!(metadata["response_types"], json!(["code"]));
    }

    #[test]
    fn each_rule_is_enforced_with_the_field_named() {
        let (code, why) = refused(|b| b["logo_uri"] = json!("http://wallet.example/logo.png"));
        assert_eq!(code, "invalid_client_metadata");
        assert!(why.contains("logo_uri"), "{why}");
        let (code, why) = refused(|b| b["redirect_uris"] = json!("https://wallet.example/cb"));
        assert_eq!(code, "invalid_redirect_uri");
        assert!(why.contains("array"), "{why}");
        let (code, why) = refused(|b| b["redirect_uris"] = json!(["https://evil.example/cb"]));
        assert_eq!(code, "invalid_redirect_uri");
        assert!(why.contains("same host"), "{why}");
        let (_, why) = refused(|b| {
            b.as_object_mut().unwrap().remove("software_version");
        });
        assert!(why.contains("software_version is required"), "{why}");
        let (_, why) = refused(|b| b["token_endpoint_auth_method"] = json!("none"));
        assert!(why.contains("token_endpoint_auth_method"), "{why}");
        let (_, why) = refused(|b| b["grant_types"] = json!(["implicit"]));
        assert!(why.contains("implicit"), "{why}");
        let (_, why) = refused(|b| b["response_types"] = json!(["token"]));
        assert!(why.contains("response_types"), "{why}");
        let (_, why) = refused(|b| b["scope"] = json!("openid"));
        assert!(why.contains("scope"), "{why}");
    }

    #[test]
    fn loopback_clients_may_use_plain_http() {
        let mut local = body();
        for field in ["client_uri", "logo_uri", "tos_uri", "policy_uri"] {
            local[field] = json!(format!("http://127.0.0.1:8123/{field}"));
        }
        local["redirect_uris"] = json!(["http://127.0.0.1:8123/cb"]);
        client_from(&local, "s").expect("loopback over http");
    }
}
