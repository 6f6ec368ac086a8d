//! The OAuth 2.0 authorization server of the Open Badges 3.0 Service API
//! (`docs/service-api.md`):
//!
//! - `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata
//!   ([`metadata`]);
//! - `POST /oauth/register`: RFC 7591 dynamic registration, no initial
//!   access token ([`registration`]);
//! - `GET` and `POST /oauth/authorize`: the login and consent page of the
//!   authorization code grant, PKCE `S256` required ([`authorize`]);
//! - `POST /oauth/token` and `POST /oauth/revoke`: codes and refresh tokens
//!   exchanged for tokens, tokens revoked (RFC 6749, RFC 7009), clients
//!   authenticated with `client_secret_basic` ([`token`]);
//! - `GET /learner/authorizations`, `DELETE /learner/authorizations/{id}`:
//!   what a learner authorized, and taking it back ([`grants`]).
//!
//! [`access::ServiceAccess`] authenticates the Service API's requests by
//! their access token. The rules that need storage (single use of codes,
//! refresh rotation) live in `openbadges_domain::oauth` and its port.

pub mod access;
pub mod authorize;
pub mod grants;
pub mod metadata;
pub mod pending;
pub mod registration;
pub mod token;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use openbadges_domain::oauth::OAuthClient;
use openbadges_domain::{DomainError, OAuthClientId, Timestamp};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

/// Where the authorization server's endpoints are, under `BASE_URL`.
pub const REGISTER_PATH: &str = "/oauth/register";
/// The authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// The token endpoint (also the refresh URL).
pub const TOKEN_PATH: &str = "/oauth/token";
/// The revocation endpoint.
pub const REVOKE_PATH: &str = "/oauth/revoke";
/// The RFC 8414 metadata document.
pub const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// Registers the authorization server's routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route(METADATA_PATH, web::get().to(metadata::metadata))
        .route(REGISTER_PATH, web::post().to(registration::register))
        .route(AUTHORIZE_PATH, web::get().to(authorize::page))
        .route(AUTHORIZE_PATH, web::post().to(authorize::decide))
        .route(TOKEN_PATH, web::post().to(token::token))
        .route(REVOKE_PATH, web::post().to(token::revoke))
        .route("/learner/authorizations", web::get().to(grants::list))
        .route(
            "/learner/authorizations/{id}",
            web::delete().to(grants::revoke),
        );
}

/// A new secret: 256 random bits from the operating system, base64url
/// without padding (43 characters, safe in URLs and forms).
pub fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        ApiError(DomainError::Internal(format!(
            "the operating system's random generator failed: {e}"
        )))
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// `at` plus `duration`, saturating at the end of the representable range.
pub fn after(at: Timestamp, duration: std::time::Duration) -> Timestamp {
    let delta = chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
    Timestamp::from_datetime(
        at.as_datetime()
            .checked_add_signed(delta)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
    )
}

/// Whether `url` is a loopback URL (`localhost`, `127.0.0.0/8`, `::1`):
/// plain HTTP is accepted for those only, so that a client can run on the
/// same machine (tests, desktop wallets); everything else must be HTTPS.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// An RFC 6749 section 5.2 error (token and revocation endpoints): 400 with
/// `{"error", "error_description"}`, or 401 with `WWW-Authenticate: Basic`
/// for `invalid_client`. Never cached.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// The error code.
    pub code: &'static str,
    /// What was wrong, in ASCII without quotes or backslashes.
    pub description: String,
}

impl OAuthError {
    /// An error with its description.
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    /// The answer.
    pub fn response(&self) -> HttpResponse {
        let status = if self.code == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut response = no_store(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                "Basic realm=\"oauth\", charset=\"UTF-8\"",
            ));
        }
        response.json(json!({
            "error": self.code,
            "error_description": self.description,
        }))
    }
}

impl From<ApiError> for OAuthError {
    fn from(error: ApiError) -> Self {
        // Only the store fails here; RFC 6749 has no code for that, so the
        // usual error shape is not used and `server_error` says it.
        Self::new("server_error", error.0.to_string())
    }
}

impl From<DomainError> for OAuthError {
    fn from(error: DomainError) -> Self {
        ApiError(error).into()
    }
}

/// A response builder that forbids caching (tokens and errors about them).
pub fn no_store(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
    builder
}

/// The parameters of an `application/x-www-form-urlencoded` body or query;
/// a parameter sent twice is refused (RFC 6749 section 3.1).
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses form-encoded text.
    pub fn parse(text: &[u8]) -> Result<Self, String> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(text)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (i, (key, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(other, _)| other == key) {
                return Err(format!("parameter {key} is given more than once"));
            }
        }
        Ok(Self(pairs))
    }

    /// The value of `name`, if given and not empty (RFC 6749 treats an
    /// empty parameter as omitted).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }
}

/// A form body of a POST: its Content-Type must say so.
pub fn form_body(request: &HttpRequest, body: &[u8]) -> Result<Form, String> {
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err("the body must be application/x-www-form-urlencoded".to_owned());
    }
    Form::parse(body)
}

/// Authenticates the client of a token or revocation request by
/// `client_secret_basic` (the only method registered): `invalid_client`
/// when the header is missing or malformed, the client unknown, or the
/// secret wrong (one answer for all three).
pub async fn authenticate_client(
    state: &AppState,
    request: &HttpRequest,
) -> Result<OAuthClient, OAuthError> {
    let refused = || {
        OAuthError::new(
            "invalid_client",
            "client authentication failed: send the client_id and client_secret of the \
             registration with HTTP Basic (client_secret_basic)",
        )
    };
    let (id, secret) = basic_credentials(request).ok_or_else(refused)?;
    let Ok(id) = id.parse::<OAuthClientId>() else {
        return Err(refused());
    };
    match state.store.oauth().client(id).await? {
        Some(client) if client.secret_hash.matches(&secret) => Ok(client),
        _ => Err(refused()),
    }
}

/// The `client_id` and `client_secret` of an `Authorization: Basic` header;
/// each is form-urlencoded before encoding (RFC 6749 section 2.3.1).
fn basic_credentials(request: &HttpRequest) -> Option<(String, String)> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |text: &str| -> Option<String> {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bits_and_differ() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
    }

    #[test]
    fn forms_refuse_repeated_parameters_and_treat_empty_as_missing() {
        let form = Form::parse(b"a=1&b=&c=x+y%2Bz").unwrap();
        assert_eq!(form.get("a"), Some("1"));
        assert_eq!(form.get("b"), None);
        assert_eq!(form.get("c"), Some("x y+z"));
        assert!(Form::parse(b"a=1&a=2").is_err());
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for (url, loopback) in [
            ("http://localhost:8080/cb", true),
            ("http://127.0.0.1/cb", true),
            ("http://[::1]:9/cb", true),
            ("http://example.org/cb", false),
            ("http://10.0.0.1/cb", false),
        ] {
            assert_eq!(
                is_loopback(&url::Url::parse(url).unwrap()),
                loopback,
                "{url}"
            );
        }
    }
}
