//! `did:web` resolution for verification: the DID documents of issuers of
//! other servers, fetched with the guarded client ([`super::Outbound`]) and
//! kept a few minutes, so that a credential issued by another instance
//! verifies here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use openbadges_verify::DidResolver;
use serde_json::Value;

use super::client::{Outbound, Request};

/// How long a fetched DID document is used before it is fetched again: a
/// rotation or revocation on the other server shows here within this.
const FRESH_FOR: Duration = Duration::from_secs(300);

/// The most documents kept; past it, the expired ones go, then all.
const MAX_CACHED: usize = 1000;

/// The https URL of a `did:web` DID document, per the did:web method:
/// `did:web:<host>[%3A<port>][:<path>...]` is `https://<host>[:<port>]/
/// <path>/did.json`, or `/.well-known/did.json` without a path. With
/// `loopback_http` (tests only), a loopback host is fetched over plain
/// HTTP, as the guard then allows.
pub fn document_url(did: &str, loopback_http: bool) -> Result<url::Url, String> {
    let rest = did
        .strip_prefix("did:web:")
        .ok_or_else(|| format!("{did} is not a did:web"))?;
    let mut parts = rest.split(':');
    let authority = parts
        .next()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| format!("{did} names no host"))?
        .replace("%3A", ":")
        .replace("%3a", ":");
    let path: Vec<&str> = parts.collect();
    let invalid = |what: &str| format!("{did} is not a valid did:web ({what})");
    if authority.contains(['/', '@', '?', '#', '%'])
        || path
            .iter()
            .any(|segment| segment.is_empty() || segment.contains(['/', '?', '#', '%']))
    {
        return Err(invalid("unexpected characters"));
    }
    let path = if path.is_empty() {
        "/.well-known/did.json".to_owned()
    } else {
        format!("/{}/did.json", path.join("/"))
    };
    let mut url = url::Url::parse(&format!("https://{authority}{path}"))
        .map_err(|e| invalid(&e.to_string()))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if loopback_http && loopback {
        url.set_scheme("http")
            .map_err(|()| invalid("cannot use http"))?;
    }
    Ok(url)
}

/// Resolves `did:web` DIDs over HTTPS through the guard, with a cache.
pub struct WebDids {
    outbound: Outbound,
    loopback_http: bool,
    cache: Mutex<HashMap<String, (Instant, Value)>>,
}

impl WebDids {
    /// A resolver fetching with `outbound`; `loopback_http` as the guard's
    /// `OUTBOUND_ALLOW_LOOPBACK_HTTP`.
    pub fn new(outbound: Outbound, loopback_http: bool) -> Self {
        Self {
            outbound,
            loopback_http,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, did: &str) -> Option<Value> {
        let cache = self.cache.lock().ok()?;
        let (fetched, document) = cache.get(did)?;
        (fetched.elapsed() < FRESH_FOR).then(|| document.clone())
    }

    fn keep(&self, did: &str, document: &Value) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, (fetched, _)| fetched.elapsed() < FRESH_FOR);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(did.to_owned(), (Instant::now(), document.clone()));
    }
}

#[async_trait]
impl DidResolver for WebDids {
    async fn resolve(&self, did: &str) -> Result<Value, String> {
        if let Some(document) = self.cached(did) {
            return Ok(document);
        }
        let url = document_url(did, self.loopback_http)?;
        let reply = self
            .outbound
            .send(
                Request::get(url.clone())
                    .header("Accept", "application/did+json, application/json"),
            )
            .await
            .map_err(|e| format!("fetching {url}: {e}"))?;
        if !reply.is_success() {
            return Err(format!("{url} answered {}", reply.status));
        }
        let document = reply.json().map_err(|e| format!("{url}: {e}"))?;
        if document.get("id").and_then(Value::as_str) != Some(did) {
            return Err(format!("{url} is not the DID document of {did}"));
        }
        self.keep(did, &document);
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_maps_to_https_urls_per_the_method() {
        let url = |did| document_url(did, false).map(|u| u.to_string());
        assert_eq!(
            url("did:web:example.com").as_deref(),
            Ok("https://example.com/.well-known/did.json")
        );
        assert_eq!(
            url("did:web:w3c-ccg.github.io:user:alice").as_deref(),
            Ok("https://w3c-ccg.github.io/user/alice/did.json")
        );
        assert_eq!(
            url("did:web:example.com%3A3000:ob:issuers:42").as_deref(),
            Ok("https://example.com:3000/ob/issuers/42/did.json")
        );
        for bad in [
            "did:key:z6Mk",
            "did:web:",
            "did:web:example.com::x",
            "did:web:user@example.com",
            "did:web:example.com:a%2Fb",
            "did:web:example.com:..%2F",
        ] {
            assert!(document_url(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_hosts_use_http_only_when_allowed() {
        let did = "did:web:127.0.0.1%3A8080:issuers:1";
        assert_eq!(
            document_url(did, false).expect("url").as_str(),
            "https://127.0.0.1:8080/issuers/1/did.json"
        );
        assert_eq!(
            document_url(did, true).expect("url").as_str(),
            "http://127.0.0.1:8080/issuers/1/did.json"
        );
        assert_eq!(
            document_url("did:web:example.com", true)
                .expect("url")
                .scheme(),
            "https"
        );
    }
}
