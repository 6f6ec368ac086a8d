//! The guarded client itself (see the module documentation of
//! [`crate::outbound`]).

use std::io::{self, Read};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use super::addresses::Reach;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one read may wait.
const READ_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a whole request may take, connection to last byte.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest response body read: discovery documents, DID documents and
/// token responses are a few KiB.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// What this server calls itself.
const USER_AGENT: &str = concat!("openbadges-server/", env!("CARGO_PKG_VERSION"));

/// Why an outbound request was not made or did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The URL is not one this server may call.
    #[error("{0}")]
    Refused(String),
    /// A name resolved to an address this server does not call.
    #[error("{host} resolves to {address}, which is not a public address")]
    Forbidden {
        /// The host as named.
        host: String,
        /// The first refused address.
        address: std::net::IpAddr,
    },
    /// The answer was a redirect; none is followed.
    #[error("the server answered {status} (a redirect to {location}); redirects are not followed")]
    Redirect {
        /// The status.
        status: u16,
        /// Where it pointed.
        location: String,
    },
    /// The answer is longer than [`MAX_RESPONSE_BYTES`].
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    /// The network failed: no answer, timeout, TLS failure.
    #[error("{0}")]
    Transport(String),
}

/// What the guard allows (`OUTBOUND_ALLOW_LOOPBACK_HTTP`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundSettings {
    /// Whether plain HTTP to loopback addresses is allowed (tests).
    pub allow_loopback_http: bool,
}

/// Resolves `host:port` to socket addresses; the system resolver, or a
/// fake in tests.
pub trait Lookup: Send + Sync {
    /// The addresses of `netloc` (`host:port`, IPv6 hosts bracketed).
    fn lookup(&self, netloc: &str) -> io::Result<Vec<SocketAddr>>;
}

/// The system resolver.
struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        netloc.to_socket_addrs().map(Iterator::collect)
    }
}

/// Why the resolver refused a name: carried through ureq's error to tell
/// a refusal from a network failure.
#[derive(Debug)]
struct RefusedAddress {
    host: String,
    address: std::net::IpAddr,
}

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves to refused address {}",
            self.host, self.address
        )
    }
}

impl std::error::Error for RefusedAddress {}

/// ureq's resolver: looks the name up once and hands ureq only vetted
/// addresses, or refuses the name when any of its addresses is refused.
struct VettingResolver {
    lookup: Arc<dyn Lookup>,
    reach: Reach,
}

impl ureq::Resolver for VettingResolver {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        let found = self.lookup.lookup(netloc)?;
        let host = netloc
            .rsplit_once(':')
            .map_or(netloc, |(host, _)| host)
            .to_owned();
        if let Some(bad) = found.iter().find(|a| !self.reach.allows(a.ip())) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                RefusedAddress {
                    host,
                    address: bad.ip(),
                },
            ));
        }
        if found.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{host} has no address"),
            ));
        }
        Ok(found)
    }
}

/// An outbound request.
#[derive(Debug, Clone)]
pub struct Request {
    method: &'static str,
    url: url::Url,
    headers: Vec<(&'static str, String)>,
    body: Option<(&'static str, Vec<u8>)>,
}

impl Request {
    /// `GET url`.
    pub fn get(url: url::Url) -> Self {
        Self {
            method: "GET",
            url,
            headers: Vec::new(),
            body: None,
        }
    }

    /// `POST url` with a form-encoded body.
    pub fn post_form(url: url::Url, fields: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        Self {
            method: "POST",
            url,
            headers: Vec::new(),
            body: Some(("application/x-www-form-urlencoded", body.into_bytes())),
        }
    }

    /// `POST url` with a JSON body.
    pub fn post_json(url: url::Url, body: String) -> Self {
        Self {
            method: "POST",
            url,
            headers: Vec::new(),
            body: Some(("application/json", body.into_bytes())),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// An answer (any status but a redirect), read within the size limit.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After`, as sent.
    pub retry_after: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value, OutboundError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| OutboundError::Transport(format!("the answer is not JSON: {e}")))
    }
}

/// The guarded client (see the module documentation).
#[derive(Clone)]
pub struct Outbound {
    https: ureq::Agent,
    loopback_http: Option<ureq::Agent>,
    max_body: usize,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("loopback_http", &self.loopback_http.is_some())
            .field("max_body", &self.max_body)
            .finish()
    }
}

impl Outbound {
    /// The client the settings describe, resolving with the system resolver.
    pub fn new(settings: OutboundSettings) -> Result<Self, String> {
        Self::with_lookup(settings, Arc::new(SystemLookup), MAX_RESPONSE_BYTES)
    }

    /// The client with its own resolver and size limit (tests).
    pub fn with_lookup(
        settings: OutboundSettings,
        lookup: Arc<dyn Lookup>,
        max_body: usize,
    ) -> Result<Self, String> {
        let tls = Arc::new(super::tls::Rustls::new()?);
        let agent = |reach: Reach| {
            ureq::AgentBuilder::new()
                .resolver(VettingResolver {
                    lookup: Arc::clone(&lookup),
                    reach,
                })
                .tls_connector(Arc::clone(&tls))
                .redirects(0)
                // No pooled connections: calls to one host are few and far
                // apart, and a POST on a connection the host closed while
                // idle would fail (ureq retries only idempotent requests).
                .max_idle_connections(0)
                .timeout_connect(CONNECT_TIMEOUT)
                .timeout_read(READ_TIMEOUT)
                .timeout(TOTAL_TIMEOUT)
                .user_agent(USER_AGENT)
                .build()
        };
        Ok(Self {
            https: agent(Reach::Public),
            loopback_http: settings.allow_loopback_http.then(|| agent(Reach::Loopback)),
            max_body,
        })
    }

    /// Makes `request` on the blocking pool and reads the answer.
    pub async fn send(&self, request: Request) -> Result<Reply, OutboundError> {
        let client = self.clone();
        tokio::task::spawn_blocking(move || client.send_blocking(&request))
            .await
            .map_err(|e| OutboundError::Transport(format!("the request task failed: {e}")))?
    }

    /// The agent allowed for `url`, or why none is.
    fn agent_for(&self, url: &url::Url) -> Result<&ureq::Agent, OutboundError> {
        if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
            return Err(OutboundError::Refused(format!(
                "{url} must name a host and carry no credentials"
            )));
        }
        match (url.scheme(), &self.loopback_http) {
            ("https", _) => Ok(&self.https),
            ("http", Some(loopback)) => Ok(loopback),
            _ => Err(OutboundError::Refused(format!(
                "{} is not an https:// URL: only HTTPS is used",
                redacted(url)
            ))),
        }
    }

    fn send_blocking(&self, request: &Request) -> Result<Reply, OutboundError> {
        let agent = self.agent_for(&request.url)?;
        let mut call = agent.request_url(request.method, &request.url);
        for (name, value) in &request.headers {
            call = call.set(name, value);
        }
        let answer = match &request.body {
            Some((content_type, body)) => call.set("Content-Type", content_type).send_bytes(body),
            None => call.call(),
        };
        let response = match answer {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => return Err(transport_error(&transport)),
        };
        let status = response.status();
        if (300..400).contains(&status) {
            return Err(OutboundError::Redirect {
                status,
                location: response.header("Location").unwrap_or("nowhere").to_owned(),
            });
        }
        let retry_after = response.header("Retry-After").map(str::to_owned);
        let mut body = Vec::new();
        let limit = u64::try_from(self.max_body).unwrap_or(u64::MAX);
        response
            .into_reader()
            .take(limit.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| OutboundError::Transport(format!("reading the answer: {e}")))?;
        if body.len() > self.max_body {
            return Err(OutboundError::TooLarge(self.max_body));
        }
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }
}

/// A refusal by the resolver, else the network failure.
fn transport_error(transport: &ureq::Transport) -> OutboundError {
    let mut source: Option<&(dyn std::error::Error + 'static)> =
        std::error::Error::source(transport);
    while let Some(error) = source {
        if let Some(refused) = error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<RefusedAddress>())
        {
            return OutboundError::Forbidden {
                host: refused.host.clone(),
                address: refused.address,
            };
        }
        source = error.source();
    }
    OutboundError::Transport(transport.to_string())
}

/// `url` without its query, which may carry codes or tokens.
fn redacted(url: &url::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::TcpListener;

    use super::*;

    /// A resolver answering from a table.
    struct Table(HashMap<&'static str, Vec<SocketAddr>>);

    impl Lookup for Table {
        fn lookup(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
            let host = netloc.rsplit_once(':').map_or(netloc, |(host, _)| host);
            self.0
                .get(host)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown host"))
        }
    }

    fn client(allow_loopback_http: bool, table: &[(&'static str, &str)]) -> Outbound {
        let table = table
            .iter()
            .map(|(name, address)| {
                let ip: std::net::IpAddr = address.parse().expect("ip");
                (*name, vec![SocketAddr::new(ip, 443)])
            })
            .collect();
        Outbound::with_lookup(
            OutboundSettings {
                allow_loopback_http,
            },
            Arc::new(Table(table)),
            64,
        )
        .expect("client")
    }

    fn url(text: &str) -> url::Url {
        url::Url::parse(text).expect("url")
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused_before_connecting() {
        let outbound = client(
            false,
            &[
                ("loopback.example", "127.0.0.1"),
                ("private.example", "10.1.2.3"),
                ("metadata.example", "169.254.169.254"),
                ("ec2v6.example", "fd00:ec2::254"),
                ("mapped.example", "::ffff:127.0.0.1"),
            ],
        );
        for (host, address) in [
            ("loopback.example", "127.0.0.1"),
            ("private.example", "10.1.2.3"),
            ("metadata.example", "169.254.169.254"),
            ("ec2v6.example", "fd00:ec2::254"),
            ("mapped.example", "::ffff:127.0.0.1"),
        ] {
            let answer = outbound
                .send(Request::get(url(&format!("https://{host}/x"))))
                .await;
            assert_eq!(
                answer.expect_err("refused"),
                OutboundError::Forbidden {
                    host: host.to_owned(),
                    address: address.parse().expect("ip"),
                },
                "{host}"
            );
        }
    }

    #[tokio::test]
    async fn internal_address_literals_are_refused_too() {
        let outbound = Outbound::new(OutboundSettings::default()).expect("client");
        for literal in [
            "https://127.0.0.1/",
            "https://10.0.0.1:8443/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/",
            "https://[fd00:ec2::254]/",
            "https://localhost/",
        ] {
            let answer = outbound.send(Request::get(url(literal))).await;
            assert!(
                matches!(answer, Err(OutboundError::Forbidden { .. })),
                "{literal}: {answer:?}"
            );
        }
    }

    #[tokio::test]
    async fn plain_http_is_refused_unless_allowed_and_then_only_to_loopback() {
        let strict = client(false, &[("loopback.example", "127.0.0.1")]);
        let answer = strict
            .send(Request::get(url("http://loopback.example/?code=secret")))
            .await
            .expect_err("refused");
        let message = answer.to_string();
        assert!(message.contains("only HTTPS"), "{message}");
        assert!(!message.contains("secret"), "{message}");

        let testing = client(
            true,
            &[
                ("public.example", "8.8.8.8"),
                ("private.example", "10.0.0.1"),
            ],
        );
        for host in ["public.example", "private.example"] {
            let answer = testing
                .send(Request::get(url(&format!("http://{host}/"))))
                .await;
            assert!(
                matches!(answer, Err(OutboundError::Forbidden { .. })),
                "{host}: {answer:?}"
            );
        }
        let credentials = testing
            .send(Request::get(url("https://user:pw@public.example/")))
            .await;
        assert!(matches!(credentials, Err(OutboundError::Refused(_))));
    }

    /// A one-shot HTTP server on loopback answering `reply` as is.
    fn serve_once(reply: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = std::io::Write::write_all(&mut stream, reply.as_bytes());
            }
        });
        port
    }

    #[tokio::test]
    async fn loopback_http_when_allowed_reads_within_the_limit_and_follows_no_redirect() {
        let outbound = Outbound::with_lookup(
            OutboundSettings {
                allow_loopback_http: true,
            },
            Arc::new(SystemLookup),
            64,
        )
        .expect("client");
        let port = serve_once(
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 2\r\n\r\n{}",
        );
        let reply = outbound
            .send(Request::get(url(&format!("http://127.0.0.1:{port}/"))))
            .await
            .expect("an answer");
        assert_eq!(reply.status, 503);
        assert_eq!(reply.retry_after.as_deref(), Some("120"));
        assert_eq!(reply.json().expect("json"), serde_json::json!({}));

        let port = serve_once(
            "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n",
        );
        let answer = outbound
            .send(Request::get(url(&format!("http://127.0.0.1:{port}/"))))
            .await;
        assert!(
            matches!(answer, Err(OutboundError::Redirect { status: 302, .. })),
            "{answer:?}"
        );

        let port = serve_once(
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n0123456789012345678901234567890123456789012345678901234567890123456789",
        );
        let answer = outbound
            .send(Request::get(url(&format!("http://127.0.0.1:{port}/"))))
            .await;
        assert_eq!(answer.expect_err("too large"), OutboundError::TooLarge(64));
    }
}
