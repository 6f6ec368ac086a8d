//! What every scenario shares: a server on either backend with `BASE_URL`
//! at its own address, request bodies, and assertions on the answers.

use std::collections::BTreeSet;
use std::ops::Deref;

pub use openbadges_e2e::{
    achievement_body, award_body, full_achievement_body, full_credential_body, full_issuer_body,
    id_of, issuer_body, uuid_of,
};
use openbadges_e2e::{Backend, Launch, OnBothBackends, Response, Server, TestDatabase};
use serde_json::{json, Value};

/// The OB 2.0 JSON-LD context.
pub const OB2_CONTEXT: &str = "https://w3id.org/openbadges/v2";
/// The W3C VC 2.0 context, first in every OB 3.0 document.
pub const VC2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The OB 3.0 context.
pub const OB3_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// The OB 3.0 extensions context, which credentials name too.
pub const OB3_EXTENSIONS_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";
/// Media type of OB 2.0 documents and OB 3.0 profiles and achievements.
pub const JSON_LD: &str = "application/ld+json";
/// Media type of OB 3.0 credentials.
pub const VC_JSON_LD: &str = "application/vc+ld+json";
/// The three ways to reach every route: `/v2`, `/v3` and bare (= v3).
pub const PREFIXES: [&str; 3] = ["/v2", "/v3", ""];

/// The version segment a prefix renders in: `v2` or `v3`.
pub fn version_of(prefix: &str) -> &'static str {
    if prefix == "/v2" {
        "v2"
    } else {
        "v3"
    }
}

/// The media type of a credential rendered under `prefix`.
pub fn credential_media_type(prefix: &str) -> &'static str {
    if version_of(prefix) == "v2" {
        JSON_LD
    } else {
        VC_JSON_LD
    }
}

/// A running server on one backend, with its database; the server is
/// stopped before the database is dropped.
pub struct Api {
    server: Server,
    _database: Option<TestDatabase>,
}

impl Deref for Api {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

/// The launch every scenario starts from: `BASE_URL` at the server's own
/// address, and authentication off (`AUTH_ENABLED=false`: every caller acts
/// as an administrator), since these scenarios are about the resources, not
/// about who may change them.
fn launch() -> Launch {
    Launch::new()
        .base_url_at_own_address()
        .env("AUTH_ENABLED", "false")
}

impl OnBothBackends for Api {
    fn on(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres(),
        }
    }
}

impl Api {
    /// A server on a fresh SQLite file in its own temporary directory.
    pub fn sqlite() -> Self {
        Self {
            server: launch().start(),
            _database: None,
        }
    }

    /// A server on a fresh PostgreSQL database on `TEST_DATABASE_URL`.
    pub fn postgres() -> Self {
        let database = TestDatabase::create();
        let server = launch()
            .env("DB_TYPE", "postgresql")
            .env("DATABASE_URL", database.url())
            .start();
        Self {
            server,
            _database: Some(database),
        }
    }

    /// `BASE_URL` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// `POST path body`, expecting 201 with `Location` equal to the new
    /// document's `id` and the given media type; returns the document.
    #[track_caller]
    pub fn create(&self, path: &str, body: &Value, media_type: &str) -> Value {
        expect_created(&self.post(path, body), media_type)
    }

    /// Creates an issuer through `prefix`; returns its document.
    #[track_caller]
    pub fn issuer(&self, prefix: &str, name: &str) -> Value {
        self.create(&format!("{prefix}/issuers"), &issuer_body(name), JSON_LD)
    }

    /// Creates an achievement of `issuer` (any reference form) through
    /// `prefix`; returns its document.
    #[track_caller]
    pub fn achievement(&self, prefix: &str, issuer: &str, name: &str) -> Value {
        self.create(
            &format!("{prefix}/achievements"),
            &achievement_body(issuer, name),
            JSON_LD,
        )
    }

    /// Awards `badge` (any reference form) to `email`, OB 2.0 style,
    /// through `prefix`; returns the credential document.
    #[track_caller]
    pub fn award(&self, prefix: &str, badge: &str, email: &str) -> Value {
        self.create(
            &format!("{prefix}/credentials"),
            &award_body(badge, email),
            credential_media_type(prefix),
        )
    }

    /// An issuer and one of its achievements, created through the bare
    /// path: their UUIDs.
    pub fn issuer_with_achievement(&self) -> (String, String) {
        let issuer = uuid_of(&self.issuer("", "Issuer of the fixture"));
        let badge = uuid_of(&self.achievement("", &issuer, "Badge of the fixture"));
        (issuer, badge)
    }

    /// `X-Total-Count` of the list at `path` (a path that may carry a
    /// query already).
    #[track_caller]
    pub fn total(&self, path: &str) -> u64 {
        let response = self.fetch(path);
        response.assert_status(200);
        response
            .expect_header("x-total-count")
            .parse()
            .unwrap_or_else(|e| panic!("{}: X-Total-Count: {e}", response.request))
    }

    /// `GET target` expecting 200; returns the body.
    #[track_caller]
    pub fn document(&self, target: &str) -> Value {
        let response = self.fetch(target);
        response.assert_status(200);
        response.body
    }
}

/// Asserts 201, `Location` equal to the body's `id` and the media type;
/// returns the body.
#[track_caller]
pub fn expect_created(response: &Response, media_type: &str) -> Value {
    response.assert_status(201);
    let id = id_of(&response.body);
    assert_eq!(
        response.header("location"),
        Some(id.as_str()),
        "{}: Location must be the new document's id",
        response.request
    );
    assert_eq!(
        response.media_type(),
        Some(media_type),
        "{}: Content-Type",
        response.request
    );
    response.body.clone()
}

/// Asserts the validation error shape, naming exactly `fields`, each with
/// at least one message.
#[track_caller]
pub fn assert_validation(response: &Response, fields: &[&str]) {
    response.assert_status(400);
    let body = &response.body;
    assert_eq!(
        body["success"],
        json!(false),
        "{}: {body}",
        response.request
    );
    assert_eq!(
        body["error"],
        json!("Validation error"),
        "{}: {body}",
        response.request
    );
    let details = body["details"]
        .as_object()
        .unwrap_or_else(|| panic!("{}: no details object: {body}", response.request));
    let named: BTreeSet<&str> = details.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = fields.iter().copied().collect();
    assert_eq!(
        named, expected,
        "{}: the fields named: {body}",
        response.request
    );
    for (field, messages) in details {
        let messages = messages
            .as_array()
            .unwrap_or_else(|| panic!("{}: {field}: not an array: {body}", response.request));
        assert!(
            !messages.is_empty()
                && messages
                    .iter()
                    .all(|m| m.as_str().is_some_and(|m| !m.is_empty())),
            "{}: {field} needs non-empty messages: {body}",
            response.request
        );
    }
}

/// Asserts 404 `{"error":"Not Found","message":...}`.
#[track_caller]
pub fn assert_not_found(response: &Response) {
    response.assert_status(404);
    assert_eq!(
        response.body["error"],
        json!("Not Found"),
        "{}: {}",
        response.request,
        response.text
    );
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}: a message is required: {}",
        response.request,
        response.text
    );
    assert_eq!(
        response.body.as_object().map(|o| o.len()),
        Some(2),
        "{}: only error and message: {}",
        response.request,
        response.text
    );
}

/// The document without its `@context` (as it is embedded in another).
pub fn without_context(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(object) = doc.as_object_mut() {
        object.remove("@context");
    }
    doc
}

/// The `id`s of a list answer's documents, in order.
pub fn ids_in(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a JSON array: {list}"))
        .iter()
        .map(id_of)
        .collect()
}

/// The link-values of every `Link` header: (URI, rel).
pub fn links(response: &Response) -> Vec<(String, String)> {
    response
        .header_values("link")
        .into_iter()
        .flat_map(|value| value.split(", <").map(str::to_owned).collect::<Vec<_>>())
        .map(|part| {
            let part = part.trim();
            let part = part.strip_prefix('<').unwrap_or(part);
            let (uri, params) = part
                .split_once('>')
                .unwrap_or_else(|| panic!("{}: bad Link value {part:?}", response.request));
            let rel = params
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("rel="))
                .map(|r| r.trim_matches('"').to_owned())
                .next()
                .unwrap_or_else(|| panic!("{}: Link without rel: {part:?}", response.request));
            (uri.to_owned(), rel)
        })
        .collect()
}

/// The URI of the link with relation `rel`, if any.
pub fn link(response: &Response, rel: &str) -> Option<String> {
    links(response)
        .into_iter()
        .find(|(_, r)| r == rel)
        .map(|(uri, _)| uri)
}

/// Asserts the headers of a deprecated alias path (`/badge-classes`,
/// `/assertions`) naming `successor`.
#[track_caller]
pub fn assert_deprecated(response: &Response, successor: &str) {
    assert_eq!(
        response.header("deprecation"),
        Some("true"),
        "{}: Deprecation; headers {:?}",
        response.request,
        response.headers
    );
    let sunset = response.expect_header("sunset");
    assert!(
        is_http_date(sunset),
        "{}: Sunset must be an HTTP date, got {sunset:?}",
        response.request
    );
    assert!(
        links(response)
            .iter()
            .any(|(uri, rel)| uri == successor && rel == "successor-version"),
        "{}: Link must name <{successor}>; rel=\"successor-version\"; Link headers: {:?}",
        response.request,
        response.header_values("link")
    );
}

/// Asserts none of the deprecation headers.
#[track_caller]
pub fn assert_not_deprecated(response: &Response) {
    assert_eq!(
        response.header("deprecation"),
        None,
        "{}: not deprecated",
        response.request
    );
    assert_eq!(response.header("sunset"), None, "{}", response.request);
    assert!(
        !links(response)
            .iter()
            .any(|(_, rel)| rel == "successor-version"),
        "{}",
        response.request
    );
}

/// An IMF-fixdate such as `Fri, 31 Dec 2027 23:59:59 GMT`.
fn is_http_date(value: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = value.split(' ').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    let time_ok = |s: &str| {
        let t: Vec<&str> = s.split(':').collect();
        t.len() == 3 && t.iter().all(|p| digits(p, 2))
    };
    parts.len() == 6
        && parts[0]
            .strip_suffix(',')
            .is_some_and(|d| DAYS.contains(&d))
        && digits(parts[1], 2)
        && MONTHS.contains(&parts[2])
        && digits(parts[3], 4)
        && time_ok(parts[4])
        && parts[5] == "GMT"
}
