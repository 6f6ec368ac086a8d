//! The Service Consumer's side of the OB 3.0 API and OAuth 2.0, against a
//! learner's host: reading its discovery document, registering (RFC 7591),
//! exchanging and refreshing tokens (client_secret_basic), and upserting a
//! credential. Every request goes through the guard ([`crate::outbound`]).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::outbound::{Outbound, OutboundError, Reply, Request};

/// The scope that lets a client upsert credentials.
pub const UPSERT_SCOPE: &str = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert";

/// What this server asks a host for: upserting credentials, and
/// `offline_access` for a refresh token (so that a retry after the access
/// token expired needs no new authorization).
pub const REQUESTED_SCOPE: &str =
    "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert offline_access";

/// Where the OB 3.0 API of a host lives, under its base URL.
const API_PATH: &str = "/ims/ob/v3p0";

/// Why talking to a host failed; shown to the learner, so never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The request could not be made or did not complete.
    #[error("{0}")]
    Unreachable(#[from] OutboundError),
    /// The host answered something this server cannot use.
    #[error("{0}")]
    Unusable(String),
}

/// What a host's discovery document says about its OAuth 2.0 server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// `x-imssf-registrationUrl`.
    pub registration_url: url::Url,
    /// `flows.authorizationCode.authorizationUrl`.
    pub authorization_url: url::Url,
    /// `flows.authorizationCode.tokenUrl`.
    pub token_url: url::Url,
}

/// A host's base URL as a learner typed it: an absolute http(s) URL
/// without credentials, query or fragment; answered without a trailing
/// slash. (Whether it may be called is the guard's decision.)
pub fn base_url(raw: &str) -> Result<url::Url, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|_| {
        "must be the address of your badge host, such as https://badges.example.org".to_owned()
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err("must be an https:// address".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".to_owned());
    }
    Ok(url)
}

/// `{base}{API_PATH}{tail}`.
fn api_url(base: &str, tail: &str) -> Result<url::Url, HostError> {
    url::Url::parse(&format!("{base}{API_PATH}{tail}"))
        .map_err(|e| HostError::Unusable(format!("{base}: {e}")))
}

/// Reads the OAuth 2.0 scheme of a Service Description Document: the
/// `OAuth2ACG` security scheme with its registration, authorization and
/// token URLs, offering the upsert scope.
pub fn read_discovery(document: &Value) -> Result<Discovered, String> {
    let scheme = document
        .pointer("/components/securitySchemes/OAuth2ACG")
        .ok_or("the discovery document has no OAuth2ACG security scheme")?;
    if scheme.get("type").and_then(Value::as_str) != Some("oauth2") {
        return Err("its OAuth2ACG scheme is not of type oauth2".to_owned());
    }
    let flow = scheme
        .pointer("/flows/authorizationCode")
        .ok_or("its OAuth2ACG scheme has no authorizationCode flow")?;
    let url_of = |value: Option<&Value>, name: &str| -> Result<url::Url, String> {
        let text = value
            .and_then(Value::as_str)
            .ok_or_else(|| format!("its OAuth2ACG scheme has no {name}"))?;
        url::Url::parse(text)
            .ok()
            .filter(|url| matches!(url.scheme(), "https" | "http"))
            .ok_or_else(|| format!("its {name} is not an absolute URL: {text}"))
    };
    let offers_upsert = flow
        .get("scopes")
        .and_then(Value::as_object)
        .is_some_and(|scopes| scopes.contains_key(UPSERT_SCOPE));
    if !offers_upsert {
        return Err(format!("the host does not offer the scope {UPSERT_SCOPE}"));
    }
    Ok(Discovered {
        registration_url: url_of(
            scheme.get("x-imssf-registrationUrl"),
            "x-imssf-registrationUrl",
        )?,
        authorization_url: url_of(flow.get("authorizationUrl"), "authorizationUrl")?,
        token_url: url_of(flow.get("tokenUrl"), "tokenUrl")?,
    })
}

/// Fetches and reads `{base}/ims/ob/v3p0/discovery`.
pub async fn discover(outbound: &Outbound, base: &str) -> Result<Discovered, HostError> {
    let url = api_url(base, "/discovery")?;
    let reply = outbound
        .send(Request::get(url.clone()).header("Accept", "application/json"))
        .await?;
    if !reply.is_success() {
        return Err(HostError::Unusable(format!(
            "{url} answered {}",
            reply.status
        )));
    }
    let document = reply.json()?;
    read_discovery(&document).map_err(HostError::Unusable)
}

/// What this server tells a host about itself when registering.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// `client_name`.
    pub name: String,
    /// `client_uri`, `logo_uri`, `tos_uri`, `policy_uri`.
    pub client_uri: String,
    /// `logo_uri`.
    pub logo_uri: String,
    /// `tos_uri`.
    pub tos_uri: String,
    /// `policy_uri`.
    pub policy_uri: String,
    /// The callback, the one redirect URI.
    pub redirect_uri: String,
}

/// The RFC 7591 registration request, with the fields the OB 3.0 security
/// framework requires.
pub fn registration_body(client: &ClientInfo) -> Value {
    json!({
        "client_name": client.name,
        "client_uri": client.client_uri,
        "logo_uri": client.logo_uri,
        "tos_uri": client.tos_uri,
        "policy_uri": client.policy_uri,
        // One id for this software, whichever instance runs it.
        "software_id": "3f5b8a2e-6c1d-4e7a-9b0f-2d4c6e8a1b3c",
        "software_version": env!("CARGO_PKG_VERSION"),
        "redirect_uris": [client.redirect_uri],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": REQUESTED_SCOPE,
    })
}

/// A client registration: the id and secret the host gave.
pub struct Registration {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: Zeroizing<String>,
}

/// Registers this server with the host (RFC 7591, no initial access token).
pub async fn register(
    outbound: &Outbound,
    registration_url: &url::Url,
    client: &ClientInfo,
) -> Result<Registration, HostError> {
    let reply = outbound
        .send(
            Request::post_json(
                registration_url.clone(),
                registration_body(client).to_string(),
            )
            .header("Accept", "application/json"),
        )
        .await?;
    if !reply.is_success() {
        return Err(HostError::Unusable(format!(
            "the host refused the registration ({}): {}",
            reply.status,
            oauth_error(&reply)
        )));
    }
    let answer = reply.json()?;
    let text = |name: &str| {
        answer
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| HostError::Unusable(format!("the registration answer has no {name}")))
    };
    Ok(Registration {
        client_id: text("client_id")?,
        client_secret: Zeroizing::new(text("client_secret")?),
    })
}

/// Tokens from a token endpoint.
pub struct Tokens {
    /// `access_token`.
    pub access: Zeroizing<String>,
    /// `refresh_token`, if given.
    pub refresh: Option<Zeroizing<String>>,
}

/// The client's credentials as HTTP Basic (RFC 6749 2.3.1: each part
/// form-encoded first).
fn basic(client_id: &str, secret: &str) -> String {
    let encode =
        |part: &str| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
    let pair = Zeroizing::new(format!("{}:{}", encode(client_id), encode(secret)));
    format!("Basic {}", STANDARD.encode(pair.as_bytes()))
}

/// The OAuth error of an answer (`error` and `error_description`), for
/// messages; never the body as a whole.
fn oauth_error(reply: &Reply) -> String {
    let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    let error = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("no error code");
    match body.get("error_description").and_then(Value::as_str) {
        Some(description) => format!("{error}: {description}"),
        None => error.to_owned(),
    }
}

/// Calls the token endpoint with `fields`, authenticated as the client.
async fn token_request(
    outbound: &Outbound,
    token_url: &str,
    client_id: &str,
    secret: &str,
    fields: &[(&str, &str)],
) -> Result<Tokens, HostError> {
    let url = url::Url::parse(token_url).map_err(|e| HostError::Unusable(e.to_string()))?;
    let reply = outbound
        .send(
            Request::post_form(url, fields)
                .header("Authorization", basic(client_id, secret))
                .header("Accept", "application/json"),
        )
        .await?;
    if !reply.is_success() {
        return Err(HostError::Unusable(format!(
            "the token endpoint answered {} ({})",
            reply.status,
            oauth_error(&reply)
        )));
    }
    let answer = reply.json()?;
    let access = answer
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| HostError::Unusable("the token answer has no access_token".to_owned()))?;
    Ok(Tokens {
        access: Zeroizing::new(access.to_owned()),
        refresh: answer
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .map(|token| Zeroizing::new(token.to_owned())),
    })
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    outbound: &Outbound,
    host: &openbadges_domain::deliveries::RemoteHost,
    secret: &str,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> Result<Tokens, HostError> {
    token_request(
        outbound,
        &host.token_url,
        &host.client_id,
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
            ("scope", &host.scope),
        ],
    )
    .await
}

/// Refreshes the tokens (the host may rotate the refresh token).
pub async fn refresh(
    outbound: &Outbound,
    host: &openbadges_domain::deliveries::RemoteHost,
    secret: &str,
    refresh_token: &str,
) -> Result<Tokens, HostError> {
    token_request(
        outbound,
        &host.token_url,
        &host.client_id,
        secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("scope", &host.scope),
        ],
    )
    .await
}

/// `POST {base}/ims/ob/v3p0/credentials` with the credential's JSON
/// (upsertCredential); the answer as is.
pub async fn upsert(
    outbound: &Outbound,
    base: &str,
    access_token: &str,
    credential: &str,
) -> Result<Reply, HostError> {
    let url = api_url(base, "/credentials")?;
    Ok(outbound
        .send(
            Request::post_json(url, credential.to_owned())
                .header("Authorization", format!("Bearer {access_token}"))
                .header("Accept", "application/json"),
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discovery() -> Value {
        json!({"components": {"securitySchemes": {"OAuth2ACG": {
            "type": "oauth2",
            "x-imssf-registrationUrl": "https://host.example/oauth/register",
            "flows": {"authorizationCode": {
                "authorizationUrl": "https://host.example/oauth/authorize",
                "tokenUrl": "https://host.example/oauth/token",
                "scopes": {UPSERT_SCOPE: "Create or update credentials"}
            }}
        }}}})
    }

    #[test]
    fn the_discovery_document_must_offer_acg_with_the_upsert_scope() {
        let found = read_discovery(&discovery()).expect("usable");
        assert_eq!(found.token_url.as_str(), "https://host.example/oauth/token");
        for (pointer, why) in [
            (
                "/components/securitySchemes/OAuth2ACG/x-imssf-registrationUrl",
                "registrationUrl",
            ),
            (
                "/components/securitySchemes/OAuth2ACG/flows/authorizationCode/tokenUrl",
                "tokenUrl",
            ),
            (
                "/components/securitySchemes/OAuth2ACG/flows/authorizationCode/scopes",
                "scope",
            ),
        ] {
            let mut document = discovery();
            let (parent, key) = pointer.rsplit_once('/').expect("pointer");
            document
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .expect("parent")
                .remove(key);
            let error = read_discovery(&document).expect_err("unusable");
            assert!(error.contains(why), "{error}");
        }
        let mut relative = discovery();
        relative["components"]["securitySchemes"]["OAuth2ACG"]["flows"]["authorizationCode"]
            ["authorizationUrl"] = json!("provider.example.com/authorize");
        assert!(read_discovery(&relative).is_err());
        assert!(read_discovery(&json!({})).is_err());
    }

    #[test]
    fn base_urls_are_absolute_plain_and_trimmed() {
        assert_eq!(
            base_url(" https://host.example/ ").expect("ok").as_str(),
            "https://host.example/"
        );
        assert_eq!(
            base_url("https://host.example/badges/")
                .expect("ok")
                .as_str(),
            "https://host.example/badges"
        );
        for bad in [
            "host.example",
            "ftp://host.example",
            "https://user:pw@host.example",
            "https://host.example/?x=1",
            "",
        ] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registration_asks_for_what_the_spec_requires() {
        let body = registration_body(&ClientInfo {
            name: "Badges".to_owned(),
            client_uri: "https://badges.example/".to_owned(),
            logo_uri: "https://badges.example/logo".to_owned(),
            tos_uri: "https://badges.example/terms".to_owned(),
            policy_uri: "https://badges.example/privacy".to_owned(),
            redirect_uri: "https://badges.example/oauth/callback".to_owned(),
        });
        for field in [
            "client_name",
            "client_uri",
            "logo_uri",
            "tos_uri",
            "policy_uri",
            "software_id",
            "software_version",
            "redirect_uris",
            "scope",
            "grant_types",
            "response_types",
            "token_endpoint_auth_method",
        ] {
            assert!(body.get(field).is_some(), "{field}");
        }
        assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(
            basic("a b", "c:d"),
            format!("Basic {}", STANDARD.encode("a+b:c%3Ad"))
        );
    }
}
