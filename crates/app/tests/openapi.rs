//! The OpenAPI document (`/openapi.json`) and Swagger UI (`/docs/`): the
//! document describes exactly the routes the server registers, with their
//! error answers and which of them need credentials, and both are served
//! without any network access (the UI files are embedded in the binary).

use std::collections::{BTreeMap, BTreeSet};

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, Method, StatusCode};
use actix_web::test as web_test;
use actix_web::App;
use openbadges_server::api::openapi::{openapi, ALIASES, BARE_ONLY, DOCS_PATH, OPENAPI_PATH};
use openbadges_server::protection::UNLIMITED;
use serde_json::{json, Value};

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];
const ANY_ID: &str = "0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11";

/// Every route under the bare prefix, with its methods (`/v2` and `/v3`
/// repeat them, except the bare-only ones; the aliases are checked
/// separately).
const ROUTES: &[(&str, &[&str])] = &[
    ("/health", &["get"]),
    ("/health/ready", &["get"]),
    ("/metrics", &["get"]),
    ("/auth/login", &["post"]),
    ("/auth/profile", &["get"]),
    ("/auth/logout-all", &["post"]),
    ("/users", &["get", "post"]),
    ("/users/{id}", &["delete", "get", "put"]),
    ("/users/{id}/change-password", &["post"]),
    ("/api-keys", &["get", "post"]),
    ("/api-keys/{id}", &["delete", "get"]),
    ("/api-keys/{id}/revoke", &["post"]),
    ("/issuers", &["get", "post"]),
    ("/issuers/{id}", &["delete", "get", "patch", "put"]),
    ("/issuers/{id}/achievements", &["get"]),
    ("/achievements", &["get", "post"]),
    ("/achievements/{id}", &["delete", "get", "patch", "put"]),
    ("/achievements/{id}/credentials", &["get"]),
    ("/achievements/{id}/endorsements", &["get", "post"]),
    ("/issuers/{id}/endorsements", &["get", "post"]),
    ("/credentials/{id}/endorsements", &["get", "post"]),
    ("/endorsements/{id}", &["get"]),
    ("/endorsements/{id}/revoke", &["post"]),
    ("/achievements/{id}/related", &["get", "post"]),
    ("/achievements/{id}/related/{relatedId}", &["delete"]),
    ("/credentials", &["get", "post"]),
    ("/credentials/batch", &["post"]),
    ("/credentials/{id}", &["get", "patch", "put"]),
    ("/credentials/{id}/sign", &["post"]),
    ("/credentials/{id}/revoke", &["post"]),
    ("/credentials/{id}/suspend", &["post"]),
    ("/credentials/{id}/reinstate", &["post"]),
    ("/credentials/{id}/status", &["post"]),
    ("/credentials/{id}/delivery", &["get"]),
    ("/credentials/{id}/deliveries", &["get"]),
    ("/status-lists", &["get", "post"]),
    ("/status-lists/{id}", &["get"]),
    ("/status-lists/{id}/suspension", &["get"]),
    ("/status-lists/{id}/stats", &["get"]),
    ("/credentials/{id}/verify", &["get"]),
    ("/issuers/{id}/did.json", &["get"]),
    ("/issuers/{id}/keys", &["get"]),
    ("/issuers/{id}/keys/rotate", &["post"]),
    ("/issuers/{id}/keys/{key}/revoke", &["post"]),
    ("/issuers/{id}/keys/{key}", &["get"]),
    ("/issuers/{id}/revocation-list", &["get"]),
    ("/.well-known/jwks.json", &["get"]),
    ("/verify", &["post"]),
    ("/assets", &["post"]),
    ("/v1/assets", &["post"]),
    ("/assets/{id}", &["get"]),
    ("/credentials/{id}/image", &["get"]),
    ("/public-keys", &["get"]),
    ("/public-keys/{id}", &["get"]),
    ("/version", &["get"]),
    ("/learner/register", &["post"]),
    ("/learner/emails", &["get", "post"]),
    ("/learner/emails/verify", &["get", "post"]),
    ("/learner/emails/{id}", &["delete"]),
    ("/learner/credentials", &["get"]),
    ("/learner/credentials/{id}", &["delete"]),
    ("/.well-known/oauth-authorization-server", &["get"]),
    ("/oauth/register", &["post"]),
    ("/oauth/authorize", &["get", "post"]),
    ("/oauth/token", &["post"]),
    ("/oauth/revoke", &["post"]),
    ("/learner/authorizations", &["get"]),
    ("/learner/authorizations/{id}", &["delete"]),
    ("/ims/ob/v3p0/discovery", &["get"]),
    ("/ims/ob/v3p0/credentials", &["get", "post"]),
    ("/ims/ob/v3p0/profile", &["get", "put"]),
    ("/backpack/platforms", &["get", "post"]),
    ("/backpack/platforms/{id}", &["delete", "get", "put"]),
    ("/backpack/assertions", &["get", "post"]),
    ("/backpack/assertions/{assertionId}", &["delete"]),
    ("/backpack/assertions/{assertionId}/status", &["patch"]),
];

fn document() -> Value {
    serde_json::to_value(openapi()).expect("the document serializes")
}

/// The answer itself: a shared answer (`#/components/responses/...`) is
/// looked up in the components.
fn answer<'d>(doc: &'d Value, response: &'d Value) -> &'d Value {
    match response["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/responses/")
                .unwrap_or_else(|| panic!("{reference} names a shared answer"));
            &doc["components"]["responses"][name]
        }
        None => response,
    }
}

/// `path` → its operations (method → operation).
fn operations(doc: &Value) -> BTreeMap<String, BTreeMap<String, Value>> {
    doc["paths"]
        .as_object()
        .expect("paths is an object")
        .iter()
        .map(|(path, item)| {
            let ops = METHODS
                .iter()
                .filter_map(|m| item.get(*m).map(|op| ((*m).to_owned(), op.clone())))
                .collect();
            (path.clone(), ops)
        })
        .collect()
}

fn is_alias(path: &str) -> bool {
    ALIASES.iter().any(|(alias, _)| path.starts_with(alias))
}

/// Whether the segment `template` of a path stands for `segment`: equal, or
/// a `{...}` parameter.
fn segment_matches(template: &str, segment: &str) -> bool {
    template == segment || (template.starts_with('{') && template.ends_with('}'))
}

/// Whether `path` (templated or concrete) is served only bare, not under
/// `/v2` and `/v3`: it is one of [`BARE_ONLY`] or lies below one.
fn is_bare_only(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    BARE_ONLY.iter().any(|bare| {
        let prefix: Vec<&str> = bare.split('/').collect();
        prefix.len() <= segments.len()
            && prefix
                .iter()
                .zip(&segments)
                .all(|(t, s)| segment_matches(t, s))
    })
}

/// The account routes: not Open Badges documents (no ETag, no Location).
fn is_account(path: &str) -> bool {
    ["/auth", "/users", "/api-keys"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// The learners' routes: not Open Badges documents either.
fn is_learner(path: &str) -> bool {
    path.starts_with("/learner/")
}

/// The previous server's backpack routes: not Open Badges documents, and
/// they answer its `{"success": false, "error": ...}` 401 and 404.
fn is_backpack(path: &str) -> bool {
    path.starts_with("/backpack/")
}

/// The backpack operations a platform calls with its own JWT.
fn is_platform(path: &str) -> bool {
    path.starts_with("/backpack/assertions")
}

/// Whether `op` is one of the key and verification operations: they answer
/// DID documents, keys and reports, not Open Badges documents (no ETag, no
/// Location, no paging).
fn is_verification(op: &Value) -> bool {
    op["tags"] == json!(["verification"])
}

/// `path` with every `{...}` parameter replaced by [`ANY_ID`].
fn with_ids(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                ANY_ID
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The operations anyone may call without credentials (bare paths; their
/// alias copies are public too).
const PUBLIC: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
    ("get", "/issuers"),
    ("get", "/issuers/{id}"),
    ("get", "/issuers/{id}/achievements"),
    ("get", "/achievements"),
    ("get", "/achievements/{id}"),
    ("get", "/achievements/{id}/related"),
    ("get", "/credentials/{id}"),
    ("post", "/auth/login"),
    ("get", "/credentials/{id}/verify"),
    ("get", "/issuers/{id}/did.json"),
    ("get", "/issuers/{id}/keys"),
    ("get", "/.well-known/jwks.json"),
    ("post", "/verify"),
    ("get", "/issuers/{id}/keys/{key}"),
    ("get", "/issuers/{id}/revocation-list"),
    ("get", "/status-lists/{id}"),
    ("get", "/status-lists/{id}/suspension"),
    ("get", "/achievements/{id}/endorsements"),
    ("get", "/issuers/{id}/endorsements"),
    ("get", "/credentials/{id}/endorsements"),
    ("get", "/endorsements/{id}"),
    ("get", "/assets/{id}"),
    ("get", "/credentials/{id}/image"),
    ("get", "/public-keys"),
    ("get", "/public-keys/{id}"),
    ("get", "/version"),
    ("post", "/learner/register"),
    ("post", "/learner/emails/verify"),
    ("get", "/learner/emails/verify"),
    ("get", "/.well-known/oauth-authorization-server"),
    ("post", "/oauth/register"),
    ("get", "/oauth/authorize"),
    ("post", "/oauth/authorize"),
    ("get", "/ims/ob/v3p0/discovery"),
];

/// The scheme an operation requires other than an API key or a login
/// token: the OAuth client's Basic credentials (`oauthClient`, the token
/// and revocation endpoints) or a Service API access token with one scope
/// (`OAuth2ACG`). Their errors follow RFC 6749 and `Imsx_StatusInfo`, not
/// the API's shapes.
fn oauth_scheme(op: &Value) -> Option<&'static str> {
    let security = op["security"].as_array()?;
    ["oauthClient", "OAuth2ACG"]
        .into_iter()
        .find(|scheme| security.iter().any(|s| s.get(*scheme).is_some()))
}

/// The OAuth and Service API operations: RFC 6749 and Imsx error shapes.
fn is_oauth(op: &Value) -> bool {
    op["tags"] == json!(["oauth"]) || op["tags"] == json!(["service-api"])
}

/// Protected operations that cannot answer 403: any valid credentials may
/// read their own profile, and someone else's API key is reported missing
/// (404), not forbidden, so that key ids cannot be probed. (Revoking or
/// deleting one's own key can be forbidden: a read-only key may not.)
const NEVER_FORBIDDEN: &[(&str, &str)] = &[("get", "/auth/profile"), ("get", "/api-keys/{id}")];

/// The documented path `path` stands for: an alias's successor.
fn successor(path: &str) -> String {
    for (alias, successor) in ALIASES {
        if let Some(rest) = path.strip_prefix(alias) {
            return format!("{successor}{rest}");
        }
    }
    path.to_owned()
}

fn is_public(method: &str, path: &str) -> bool {
    let path = successor(path);
    PUBLIC.iter().any(|(m, p)| *m == method && *p == path)
}

#[test]
fn document_is_openapi_3_and_explains_the_versions() {
    let text = openapi().to_pretty_json().expect("the document serializes");
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "{version}");
    let description = doc["info"]["description"].as_str().expect("a description");
    for needle in [
        "/v2",
        "/v3",
        "/badge-classes",
        "/assertions",
        "Sunset",
        // Authentication, roles and ownership, the rate limit.
        "X-API-Key",
        "Authorization: Bearer",
        "POST /auth/login",
        "AUTH_API_KEY_<NAME>=<key>:<userId>:<description>",
        "**admin**",
        "**issuer**",
        "**viewer**",
        "owns",
        "scoped",
        "401",
        "403",
        "429",
        "Retry-After",
        "RATE_LIMIT_PER_MINUTE",
        // Signing and verification.
        "eddsa-rdfc-2022",
        "KEY_ENCRYPTION_KEY",
        "did:web",
        "?sign=false",
        "/.well-known/jwks.json",
        "POST /verify",
        "RS256",
        "SignedBadge",
        "CryptographicKey",
        "RevocationList",
    ] {
        assert!(
            description.contains(needle),
            "description mentions {needle}"
        );
    }
    let mut ids = BTreeSet::new();
    for (path, ops) in operations(&doc) {
        for (method, op) in ops {
            let id = op["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "{method} {path}: duplicate {id}");
        }
    }
}

#[test]
fn every_bare_route_is_documented_with_its_methods() {
    let documented: BTreeMap<String, Vec<String>> = operations(&document())
        .into_iter()
        .filter(|(path, _)| !is_alias(path))
        .map(|(path, ops)| (path, ops.into_keys().collect()))
        .collect();
    let expected: BTreeMap<String, Vec<String>> = ROUTES
        .iter()
        .map(|(path, methods)| {
            (
                (*path).to_owned(),
                methods.iter().map(|m| (*m).to_owned()).collect(),
            )
        })
        .collect();
    assert_eq!(documented, expected);
}

#[test]
fn aliases_are_deprecated_copies_with_the_deprecation_headers() {
    let ops = operations(&document());
    for (alias, successor) in ALIASES {
        let bare: Vec<_> = ops.keys().filter(|p| p.starts_with(successor)).collect();
        assert!(!bare.is_empty());
        for path in bare {
            let alias_path = path.replacen(successor, alias, 1);
            let copies = &ops[&alias_path];
            assert_eq!(
                copies.keys().collect::<Vec<_>>(),
                ops[path].keys().collect::<Vec<_>>(),
                "{alias_path}"
            );
            for (method, op) in copies {
                assert_eq!(op["deprecated"], true, "{method} {alias_path}");
                for (status, response) in op["responses"].as_object().expect("responses") {
                    if status == "429" {
                        // The rate limit answers before the alias layer.
                        assert!(response.get("$ref").is_some(), "{method} {alias_path}");
                        continue;
                    }
                    for name in ["Deprecation", "Sunset", "Link"] {
                        assert!(
                            response["headers"].get(name).is_some(),
                            "{method} {alias_path} {status}: {name}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn operations_document_their_error_answers() {
    let all = operations(&document());
    for (path, ops) in &all {
        let path = path.clone();
        for (method, op) in ops {
            let method = method.clone();
            if is_oauth(op) {
                continue;
            }
            // An alias copy is tagged as an alias: its successor tells.
            let verification = is_verification(&all[&successor(&path)][&method]);
            let responses = op["responses"].as_object().expect("responses");
            let has = |status: &str| responses.contains_key(status);
            let what = format!("{method} {path}");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what}: a success"
            );
            if op["tags"] == json!(["health"]) {
                assert!(has("503"), "{what}: 503");
                // The probes are never rate limited; the metrics are.
                assert_eq!(
                    has("429"),
                    !UNLIMITED.contains(&path.as_str()),
                    "{what}: 429"
                );
                continue;
            }
            assert!(has("503"), "{what}: 503");
            if op["operationId"] == "login" {
                // The login throttle's 429, which names the rate limit too.
                let throttled = &responses["429"];
                assert_eq!(
                    throttled["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/RateLimited",
                    "{what}: 429"
                );
                assert!(
                    throttled["headers"]["Retry-After"].is_object(),
                    "{what}: 429 Retry-After"
                );
            } else {
                assert_eq!(
                    responses["429"]["$ref"], "#/components/responses/TooManyRequests",
                    "{what}: 429"
                );
            }
            if path.contains("{id}") {
                assert!(has("404"), "{what}: 404");
            }
            let takes_input = op.get("requestBody").is_some()
                || op["parameters"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["in"] == "query"));
            // The verification link opened in a browser answers pages.
            let page = method == "get" && path == "/learner/emails/verify";
            if takes_input && !page {
                assert!(has("400"), "{what}: 400");
                assert_eq!(
                    responses["400"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ValidationError",
                    "{what}: the validation shape"
                );
            }
            if has("404") {
                let shape = if is_backpack(&path) {
                    "#/components/schemas/BackpackFailure"
                } else {
                    "#/components/schemas/ErrorMessage"
                };
                assert_eq!(
                    responses["404"]["content"]["application/json"]["schema"]["$ref"], shape,
                    "{what}: the not-found shape"
                );
            }
            let document =
                !is_account(&path) && !is_learner(&path) && !is_backpack(&path) && !verification;
            if document && method == "get" && path.ends_with("{id}") {
                assert!(has("304"), "{what}: 304");
                assert!(responses["200"]["headers"].get("ETag").is_some(), "{what}");
            }
            if document
                && method == "post"
                && !path.ends_with("/batch")
                && !["/revoke", "/suspend", "/reinstate", "/status", "/sign"]
                    .iter()
                    .any(|change| path.ends_with(change))
            {
                assert!(
                    responses["201"]["headers"].get("Location").is_some(),
                    "{what}: Location"
                );
            }
            // Paged lists; an issuer's status lists, a document's
            // endorsements, an achievement's related achievements and a
            // learner's addresses are few and not paged; a baked badge is an
            // image; an award's e-mail delivery is one state, not a list, and
            // its sendings to badge hosts are few.
            if method == "get"
                && !path.ends_with("{id}")
                && !path.ends_with("/image")
                && !path.ends_with("/related")
                && !path.ends_with("/delivery")
                && !path.ends_with("/deliveries")
                && path != "/auth/profile"
                && !path.starts_with("/status-lists")
                && !path.ends_with("/endorsements")
                && path != "/learner/emails"
                // The previous server's clients read one list of each.
                && !is_backpack(&path)
                && !page
                && !verification
            {
                let headers = &responses["200"]["headers"];
                assert!(headers.get("X-Total-Count").is_some(), "{what}");
                assert!(headers.get("Link").is_some(), "{what}");
            }
        }
    }
    let ops = operations(&document());
    assert!(ops["/credentials/{id}"]["get"]["responses"]
        .get("410")
        .is_some());
    assert!(ops["/issuers/{id}"]["delete"]["responses"]
        .get("409")
        .is_some());
    // An unknown achievement is a bad field (400), as the previous server
    // answered, not a 422.
    assert!(ops["/credentials"]["post"]["responses"]
        .get("422")
        .is_none());
    assert!(
        ops["/credentials"]["post"]["responses"]["400"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("`badge`"))
    );
    assert!(ops["/users"]["post"]["responses"].get("409").is_some());
    assert!(ops["/users/{id}"]["delete"]["responses"]
        .get("409")
        .is_some());
}

#[test]
fn account_routes_are_documented_under_their_tag() {
    let doc = document();
    let ops = operations(&doc);
    let accounts: Vec<_> = ops.keys().filter(|p| is_account(p)).collect();
    assert_eq!(accounts.len(), 9, "{accounts:?}");
    for path in accounts {
        for (method, op) in &ops[path] {
            assert_eq!(op["tags"], json!(["accounts"]), "{method} {path}");
        }
    }
    assert!(doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .any(|tag| tag["name"] == "accounts"));
    // The bodies and answers are described, and no answer shows a secret
    // other than the key made by POST /api-keys.
    let schemas = &doc["components"]["schemas"];
    let body = |method: &str, path: &str| {
        ops[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"].clone()
    };
    assert_eq!(
        body("post", "/auth/login"),
        "#/components/schemas/LoginRequest"
    );
    assert_eq!(
        body("post", "/users"),
        "#/components/schemas/NewUserRequest"
    );
    assert_eq!(
        body("put", "/users/{id}"),
        "#/components/schemas/UserUpdate"
    );
    assert_eq!(
        body("post", "/users/{id}/change-password"),
        "#/components/schemas/ChangePassword"
    );
    assert_eq!(
        body("post", "/api-keys"),
        "#/components/schemas/NewApiKeyRequest"
    );
    let answer = |method: &str, path: &str, status: &str| {
        ops[path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            .clone()
    };
    assert_eq!(
        answer("post", "/auth/login", "200"),
        "#/components/schemas/LoginResponse"
    );
    assert_eq!(
        answer("get", "/auth/profile", "200"),
        "#/components/schemas/Profile"
    );
    assert_eq!(answer("post", "/users", "201"), "#/components/schemas/User");
    assert_eq!(
        answer("post", "/api-keys", "201"),
        "#/components/schemas/CreatedApiKey"
    );
    assert_eq!(
        answer("get", "/api-keys/{id}", "200"),
        "#/components/schemas/ApiKey"
    );
    for name in ["User", "ApiKey", "Profile"] {
        let fields = schemas[name]["properties"].as_object().expect(name);
        for secret in ["password", "passwordHash", "key", "keyHash"] {
            assert!(!fields.contains_key(secret), "{name} shows {secret}");
        }
    }
    assert!(
        schemas["CreatedApiKey"].to_string().contains("\"key\""),
        "the new key is shown once"
    );
}

#[test]
fn key_and_verification_routes_are_documented_with_their_answers() {
    let doc = document();
    let ops = operations(&doc);
    let schemas = &doc["components"]["schemas"];
    let verification: Vec<(String, String)> = ops
        .iter()
        .flat_map(|(path, ops)| {
            ops.iter()
                .filter(|(_, op)| is_verification(op))
                .map(move |(method, _)| (method.clone(), path.clone()))
        })
        .collect();
    assert_eq!(
        verification,
        [
            ("get", "/.well-known/jwks.json"),
            ("get", "/credentials/{id}/verify"),
            ("get", "/issuers/{id}/did.json"),
            ("get", "/issuers/{id}/keys"),
            ("post", "/issuers/{id}/keys/rotate"),
            ("get", "/issuers/{id}/keys/{key}"),
            ("post", "/issuers/{id}/keys/{key}/revoke"),
            ("get", "/issuers/{id}/revocation-list"),
            ("get", "/public-keys"),
            ("get", "/public-keys/{id}"),
            ("post", "/verify"),
        ]
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
    );
    // Only the verification of a stored credential is under the credentials
    // (and so has a deprecated copy under /assertions).
    assert!(ops["/assertions/{id}/verify"]["get"]["deprecated"] == true);
    // The previous server's `/public-keys` is served under every prefix, as
    // it was.
    for (method, path) in &verification {
        if path != "/credentials/{id}/verify" && !path.starts_with("/public-keys") {
            assert!(is_bare_only(path), "{method} {path} is bare only");
        }
    }

    let schema_of = |method: &str, path: &str, status: &str, media: &str| {
        let content = &ops[path][method]["responses"][status]["content"][media]["schema"];
        content
            .get("$ref")
            .or_else(|| content["items"].get("$ref"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let json = "application/json";
    for (method, path, status, media, schema) in [
        (
            "get",
            "/issuers/{id}/did.json",
            "200",
            "application/did+json",
            "DidDocument",
        ),
        ("get", "/issuers/{id}/keys", "200", json, "SigningKey"),
        (
            "post",
            "/issuers/{id}/keys/rotate",
            "201",
            json,
            "SigningKey",
        ),
        (
            "post",
            "/issuers/{id}/keys/{key}/revoke",
            "200",
            json,
            "SigningKey",
        ),
        ("get", "/.well-known/jwks.json", "200", json, "Jwks"),
        (
            "get",
            "/issuers/{id}/keys/{key}",
            "200",
            "application/ld+json",
            "CryptographicKeyDocument",
        ),
        (
            "get",
            "/issuers/{id}/revocation-list",
            "200",
            "application/ld+json",
            "RevocationListDocument",
        ),
        ("post", "/verify", "200", json, "VerificationReport"),
        (
            "get",
            "/credentials/{id}/verify",
            "200",
            json,
            "VerificationReport",
        ),
    ] {
        assert_eq!(
            schema_of(method, path, status, media),
            json!(format!("#/components/schemas/{schema}")),
            "{method} {path} {status}"
        );
    }
    assert_eq!(
        ops["/issuers/{id}/keys"]["get"]["responses"]["200"]["content"][json]["schema"]["type"],
        "array"
    );
    assert_eq!(
        ops["/verify"]["post"]["requestBody"]["content"][json]["schema"]["$ref"],
        "#/components/schemas/VerifyRequest"
    );

    let fields = |name: &str| -> BTreeSet<String> {
        schemas[name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} has properties"))
            .keys()
            .cloned()
            .collect()
    };
    let set =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|n| (*n).to_owned()).collect() };
    assert_eq!(
        fields("SigningKey"),
        set(&[
            "id",
            "verificationMethod",
            "algorithm",
            "publicKeyMultibase",
            "publicKeyPem",
            "cryptographicKey",
            "status",
            "createdAt",
            "retiredAt",
            "revokedAt"
        ])
    );
    assert_eq!(
        fields("Jwk"),
        set(&["kty", "crv", "x", "n", "e", "kid", "alg", "use"])
    );
    assert_eq!(fields("Jwks"), set(&["keys"]));
    assert_eq!(
        fields("VerificationReport"),
        set(&[
            "id",
            "isValid",
            "hasValidSignature",
            "isExpired",
            "isRevoked",
            "errorCode",
            "checks",
            "verifiedAt"
        ])
    );
    assert_eq!(
        fields("VerificationCheck"),
        set(&["check", "passed", "message"])
    );
    assert_eq!(
        fields("DidDocument"),
        set(&[
            "@context",
            "id",
            "alsoKnownAs",
            "verificationMethod",
            "assertionMethod"
        ])
    );
    assert_eq!(
        schemas["VerificationCheckName"]["enum"],
        json!([
            "schema",
            "keyStatus",
            "issuerMatch",
            "proof",
            "validityWindow",
            "status"
        ])
    );
    for code in [
        "INVALID_SIGNATURE",
        "KEY_REVOKED",
        "REVOKED",
        "NO_PROOF",
        "ISSUER_MISMATCH",
        "EXPIRED",
    ] {
        assert!(
            schemas["VerificationErrorCode"]["enum"]
                .as_array()
                .is_some_and(|codes| codes.contains(&json!(code))),
            "{code}"
        );
    }

    // Issuance documents `?sign=false`.
    for (method, path) in [
        ("post", "/credentials"),
        ("post", "/credentials/batch"),
        ("put", "/credentials/{id}"),
    ] {
        let sign = ops[path][method]["parameters"]
            .as_array()
            .and_then(|params| params.iter().find(|p| p["name"] == "sign"))
            .unwrap_or_else(|| panic!("{method} {path}: the sign parameter"));
        assert_eq!(sign["in"], "query", "{method} {path}");
        assert_eq!(sign["schema"]["default"], true, "{method} {path}");
    }
}

const SCHEMES: [&str; 2] = ["apiKey", "bearer"];

#[test]
fn protected_operations_require_credentials_and_public_ones_do_not() {
    let doc = document();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["apiKey"],
        json!({"type": "apiKey", "in": "header", "name": "X-API-Key",
            "description": schemes["apiKey"]["description"]})
    );
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert!(
        doc.get("security").is_none(),
        "no document-wide requirement"
    );

    assert_eq!(schemes["platformJwt"]["type"], "http");
    assert_eq!(schemes["platformJwt"]["scheme"], "bearer");
    let mut protected = 0;
    let mut platform = 0;
    for (path, ops) in operations(&doc) {
        for (method, op) in ops {
            let what = format!("{method} {path}");
            let responses = op["responses"].as_object().expect("responses");
            if is_public(&method, &path) {
                assert!(op.get("security").is_none(), "{what}: public, no security");
                // The consent form logs in: a wrong password is its 401 and
                // an account that may not authorize its 403 (both HTML).
                let consent = what == "post /oauth/authorize";
                assert_eq!(
                    responses.contains_key("403"),
                    consent,
                    "{what}: public, no 403"
                );
                // Only a failed login answers 401 on a public route.
                assert_eq!(
                    responses.contains_key("401"),
                    path == "/auth/login" || consent,
                    "{what}: 401"
                );
                continue;
            }
            if is_platform(&path) {
                // A platform's own JWT, refused in the previous server's
                // shape; it reaches only its own users (no 403).
                platform += 1;
                assert_eq!(op["security"], json!([{"platformJwt": []}]), "{what}");
                assert_eq!(
                    responses["401"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/BackpackFailure",
                    "{what}: 401 shape"
                );
                assert!(!responses.contains_key("403"), "{what}: never 403");
                continue;
            }
            if let Some(scheme) = oauth_scheme(&op) {
                let requirement = &op["security"][0][scheme];
                match scheme {
                    "oauthClient" => assert_eq!(requirement, &json!([]), "{what}"),
                    _ => {
                        let scopes = requirement.as_array().expect("scopes");
                        assert_eq!(scopes.len(), 1, "{what}: one scope");
                        assert!(
                            schemes["OAuth2ACG"]["flows"]["authorizationCode"]["scopes"]
                                .get(scopes[0].as_str().expect("a scope"))
                                .is_some(),
                            "{what}: a declared scope"
                        );
                        assert!(responses.contains_key("403"), "{what}: 403");
                    }
                }
                assert!(responses.contains_key("401"), "{what}: 401");
                continue;
            }
            protected += 1;
            // Either scheme will do: two alternatives, no scopes.
            assert_eq!(
                op["security"],
                json!([{"apiKey": []}, {"bearer": []}]),
                "{what}: security"
            );
            for scheme in op["security"].as_array().into_iter().flatten() {
                for name in scheme.as_object().into_iter().flat_map(|s| s.keys()) {
                    assert!(SCHEMES.contains(&name.as_str()), "{what}: {name}");
                }
            }
            let unauthorized = answer(&doc, &responses["401"]);
            assert_eq!(
                unauthorized["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Unauthorized",
                "{what}: 401 shape"
            );
            assert!(
                unauthorized["headers"].get("WWW-Authenticate").is_some(),
                "{what}: WWW-Authenticate"
            );
            let base = successor(&path);
            if NEVER_FORBIDDEN.contains(&(method.as_str(), base.as_str())) {
                assert!(!responses.contains_key("403"), "{what}: never 403");
            } else {
                assert_eq!(
                    responses["403"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Forbidden",
                    "{what}: 403 shape"
                );
            }
        }
    }
    // 13 account operations (all but login), 19 on issuers, achievements
    // and credentials, the 15 copies of those under the deprecated aliases,
    // rotating and revoking signing keys, creating a status list and
    // reading its counts, endorsing (achievements, issuers, credentials,
    // and the 2 alias copies), revoking an endorsement, uploading
    // images (POST /assets and /v1/assets), and relating achievements
    // (add and remove, and their alias copies), and an award's e-mail
    // delivery (and its alias copy); a learner's addresses (list, add,
    // remove) and backpack (list, remove), and the applications they
    // authorized (list, revoke); an award's deliveries to badge hosts (and
    // its alias copy); the backpack platforms (list, create, get, change,
    // delete).
    assert_eq!(
        protected,
        13 + 19 + 15 + 2 + 2 + 1 + 3 + 2 + 1 + 2 + 2 + 2 + 1 + 1 + 5 + 2 + 1 + 1 + 5
    );
    // A platform's user's backpack: add, list, remove, set a status.
    assert_eq!(platform, 4);

    let ops = operations(&doc);
    for (method, path) in [
        ("post", "/issuers"),
        ("put", "/issuers/{id}"),
        ("delete", "/issuers/{id}"),
        ("post", "/achievements"),
        ("put", "/achievements/{id}"),
        ("delete", "/achievements/{id}"),
        ("get", "/achievements/{id}/credentials"),
        ("post", "/credentials"),
        ("post", "/credentials/batch"),
        ("get", "/credentials"),
        ("put", "/credentials/{id}"),
        ("post", "/credentials/{id}/revoke"),
        ("get", "/assertions"),
        ("post", "/badge-classes"),
        ("get", "/auth/profile"),
        ("post", "/api-keys/{id}/revoke"),
        ("post", "/issuers/{id}/keys/rotate"),
        ("post", "/issuers/{id}/keys/{key}/revoke"),
    ] {
        assert!(
            ops[path][method].get("security").is_some(),
            "{method} {path} is protected"
        );
    }
}

#[test]
fn common_error_answers_are_declared_once() {
    let doc = document();
    let shared = &doc["components"]["responses"];
    for (name, schema) in [
        ("Unauthorized", "Unauthorized"),
        ("Unavailable", "ErrorMessage"),
    ] {
        assert_eq!(
            shared[name]["content"]["application/json"]["schema"]["$ref"],
            json!(format!("#/components/schemas/{schema}")),
            "{name}"
        );
    }
    assert!(shared["Unauthorized"]["headers"]
        .get("WWW-Authenticate")
        .is_some());
    // The resources name the shared answers; an alias copy spells them out,
    // as it adds its deprecation headers to every answer.
    let resources = [
        "issuers",
        "achievements",
        "credentials",
        "accounts",
        "verification",
        "status lists",
    ];
    let mut named = 0;
    for (path, ops) in operations(&doc) {
        for (method, op) in ops {
            let tagged = op["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|tag| resources.iter().any(|r| tag == r));
            if !tagged {
                continue;
            }
            for (status, name) in [("401", "Unauthorized"), ("503", "Unavailable")] {
                let response = &op["responses"][status];
                if response.is_null() || (status == "401" && path == "/auth/login") {
                    continue;
                }
                assert_eq!(
                    response["$ref"],
                    json!(format!("#/components/responses/{name}")),
                    "{method} {path} {status}"
                );
                named += 1;
            }
        }
    }
    assert!(named >= 80, "{named} answers name the shared ones");
}

#[test]
fn rate_limited_answer_is_shared_and_says_when_to_retry() {
    let doc = document();
    let response = &doc["components"]["responses"]["TooManyRequests"];
    assert!(
        response["headers"].get("Retry-After").is_some(),
        "{response}"
    );
    assert_eq!(
        response["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/RateLimited"
    );
    assert!(doc["components"]["schemas"].get("RateLimited").is_some());
    for name in ["Unauthorized", "Forbidden", "RateLimited"] {
        let example = &doc["components"]["schemas"][name]["example"];
        assert!(
            example["error"].is_string() && example["message"].is_string(),
            "{name}"
        );
    }
}

/// Whether `concrete` is an instance of the templated `path`.
fn matches(path: &str, concrete: &str) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (path.split('/').collect(), concrete.split('/').collect());
    a.len() == b.len() && a.iter().zip(&b).all(|(t, c)| segment_matches(t, c))
}

fn request(method: &str, uri: &str) -> web_test::TestRequest {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("a method");
    web_test::TestRequest::default().method(method).uri(uri)
}

/// The routes the server registers are the documented ones, under every
/// prefix (the bare-only ones, `/health` and the account routes, only bare:
/// under `/v2` and `/v3` they must not exist). Without an `AppState` a
/// registered handler fails with 500 (its data is missing) while an
/// unregistered route is a 404, so probing every method of every documented
/// path, and a few routes the previous server had, tells registered from not.
#[actix_web::test]
async fn documented_operations_are_exactly_the_registered_routes() {
    let app = web_test::init_service(App::new().configure(openbadges_server::server::routes)).await;
    let ops = operations(&document());
    let documented: Vec<(String, String)> = ops
        .iter()
        .flat_map(|(path, ops)| ops.keys().map(move |m| (path.clone(), m.clone())))
        .collect();
    let is_documented = |method: &str, concrete: &str| {
        documented
            .iter()
            .any(|(path, m)| m == method && matches(path, concrete))
    };
    let mut candidates: BTreeSet<String> = ops.keys().cloned().collect();
    // Routes of the previous server; if one is added, it must be documented.
    for extra in [
        "/",
        "/version",
        "/credentials/{id}/verify",
        "/credentials/{id}/sign",
        "/credentials/{id}/status",
        "/credentials/batch/status",
        "/achievements/{id}/issuer",
        "/status-lists",
        "/public-keys",
    ] {
        candidates.insert(extra.to_owned());
    }
    let mut wrong = Vec::new();
    for path in &candidates {
        for prefix in ["", "/v2", "/v3"] {
            let concrete = format!("{prefix}{}", with_ids(path));
            for method in METHODS {
                let status = web_test::call_service(&app, request(method, &concrete).to_request())
                    .await
                    .status();
                let registered =
                    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED;
                let unprefixed = concrete.strip_prefix(prefix).unwrap_or(&concrete);
                let expected = is_documented(method, unprefixed)
                    && (prefix.is_empty() || !is_bare_only(unprefixed));
                if registered != expected {
                    wrong.push(format!("{method} {concrete}: {status}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "registered but not documented, or documented but not registered: {wrong:#?}"
    );
}

/// The document tells the truth about credentials: against a real store
/// with authentication on, every operation documented as protected answers
/// 401 in the documented shape when called without credentials (under
/// every prefix and alias), and no public one does.
#[test]
fn protected_operations_answer_401_without_credentials() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("openapi.sqlite");
    let settings = openbadges_server::config::Settings::from_source([(
        "SQLITE_FILE",
        file.to_str().expect("a UTF-8 path"),
    )])
    .expect("settings");
    let prepared =
        openbadges_server::startup::open_and_migrate(&settings.database).expect("a migrated store");
    let (store, reads) = (prepared.store, prepared.reads);
    let urls = openbadges_domain::documents::Urls::new(&settings.http.base_url).expect("urls");
    let secret = openbadges_server::startup::server_secret(&settings.auth);
    let auth =
        openbadges_server::startup::auth_config(&settings.auth, &secret).expect("auth settings");
    assert!(auth.enabled, "authentication is on by default");
    let signing =
        openbadges_server::startup::signing(&store, &settings.auth, &urls).expect("signer");
    let settings_outbound = settings.outbound;
    let key = openbadges_server::startup::key_encryption_key(&settings.auth);
    let documents = std::sync::Arc::new(openbadges_server::cache::DocumentCache::new(
        0,
        std::time::Duration::ZERO,
    ));
    let records = std::sync::Arc::new(openbadges_server::cache::CachedRecords::new(
        std::sync::Arc::clone(&reads),
        std::sync::Arc::clone(&documents),
    ));
    let state = openbadges_server::state::AppState {
        store,
        reads,
        settings: std::sync::Arc::new(settings),
        urls,
        auth,
        cursors: openbadges_domain::CursorKey::derive(&secret),
        signing,
        verification: openbadges_domain::learners::VerificationKey::derive(&secret),
        outbound: openbadges_server::outbound::Remote::new(settings_outbound, &key)
            .expect("outbound"),
        documents,
        proofs: std::sync::Arc::new(openbadges_verify::ProofMemo::new(0)),
        records,
    };
    actix_web::rt::System::new().block_on(async move {
        let app = web_test::init_service(
            App::new()
                .app_data(actix_web::web::Data::new(state))
                .configure(openbadges_server::server::routes),
        )
        .await;
        let mut wrong = Vec::new();
        for (path, ops) in operations(&document()) {
            let prefixes: &[&str] = if is_bare_only(&path) {
                &[""]
            } else {
                &["", "/v2", "/v3"]
            };
            for (method, op) in ops {
                let protected = op.get("security").is_some();
                let scheme = oauth_scheme(&op);
                for prefix in prefixes {
                    let concrete = format!("{prefix}{}", with_ids(&path));
                    let response =
                        web_test::call_service(&app, request(&method, &concrete).to_request())
                            .await;
                    let status = response.status();
                    if !protected {
                        if status == StatusCode::UNAUTHORIZED {
                            wrong.push(format!("{method} {concrete}: public but 401"));
                        }
                        continue;
                    }
                    let challenge = response
                        .headers()
                        .get(header::WWW_AUTHENTICATE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let body: Value =
                        serde_json::from_str(&body_text(response)).unwrap_or(Value::Null);
                    // The token endpoints challenge for the client's Basic
                    // credentials; the Service API answers Imsx_StatusInfo.
                    let answered = match scheme {
                        Some("oauthClient") => Some(
                            challenge
                                .as_deref()
                                .is_some_and(|c| c.starts_with("Basic "))
                                && body["error"] == "invalid_client",
                        ),
                        Some(_) => Some(
                            challenge
                                .as_deref()
                                .is_some_and(|c| c.starts_with("Bearer "))
                                && body["imsx_codeMajor"] == "failure"
                                && body["imsx_codeMinor"]["imsx_codeMinorField"][0]
                                    ["imsx_codeMinorFieldValue"]
                                    == "unauthorizedrequest",
                        ),
                        None => None,
                    };
                    if let Some(answered) = answered {
                        if status != StatusCode::UNAUTHORIZED || !answered {
                            wrong.push(format!(
                                "{method} {concrete}: protected but {status} {challenge:?} {body}"
                            ));
                        }
                        continue;
                    }
                    if is_platform(&path) {
                        if status != StatusCode::UNAUTHORIZED
                            || challenge.as_deref() != Some("Bearer")
                            || body != json!({"success": false, "error": "Authentication required"})
                        {
                            wrong.push(format!(
                                "{method} {concrete}: platform's but {status} {challenge:?} {body}"
                            ));
                        }
                        continue;
                    }
                    if status != StatusCode::UNAUTHORIZED
                        || challenge.as_deref() != Some("Bearer")
                        || body["error"] != "Unauthorized"
                        || !body["message"].is_string()
                    {
                        wrong.push(format!(
                            "{method} {concrete}: protected but {status} {challenge:?} {body}"
                        ));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    });
}

fn body_text(response: ServiceResponse) -> String {
    let bytes = response
        .into_body()
        .try_into_bytes()
        .unwrap_or_else(|_| panic!("a complete body"));
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

fn content_type(response: &ServiceResponse) -> String {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[actix_web::test]
async fn document_and_swagger_ui_are_served_offline() {
    let app = web_test::init_service(App::new().configure(openbadges_server::server::routes)).await;
    let get = |uri: &str| web_test::TestRequest::get().uri(uri).to_request();

    let response = web_test::call_service(&app, get(OPENAPI_PATH)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(content_type(&response).starts_with("application/json"));
    let served: Value = serde_json::from_str(&body_text(response)).expect("JSON");
    assert_eq!(served, document());

    let response = web_test::call_service(&app, get(DOCS_PATH)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(content_type(&response).starts_with("text/html"));
    let html = body_text(response);
    assert!(html.to_ascii_lowercase().contains("swagger"));
    // Every script and style sheet is one of ours, none from a CDN.
    for attribute in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!html.contains(attribute), "external asset: {attribute}");
    }

    for (asset, kind) in [
        ("swagger-ui.css", "text/css"),
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui-standalone-preset.js", "javascript"),
        ("swagger-initializer.js", "javascript"),
    ] {
        let response = web_test::call_service(&app, get(&format!("{DOCS_PATH}{asset}"))).await;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(content_type(&response).contains(kind), "{asset}");
        if asset == "swagger-initializer.js" {
            let script = body_text(response);
            assert!(script.contains(OPENAPI_PATH), "the UI loads our document");
            assert!(script.contains("\"validatorUrl\": \"none\""), "{script}");
        }
    }

    for old in ["/docs", "/swagger", "/swagger/"] {
        let response = web_test::call_service(&app, get(old)).await;
        assert!(response.status().is_redirection(), "{old}");
        assert_eq!(
            response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some(DOCS_PATH),
            "{old}"
        );
    }
}

/// The credential lists, and only they, document cursor paging: the
/// `cursor` parameter, the cursor answer's headers, its 400; and the
/// description explains the walk.
#[test]
fn credential_lists_document_cursor_paging() {
    let doc = document();
    let all = operations(&doc);
    for (path, ops) in &all {
        let Some(get) = ops.get("get") else {
            continue;
        };
        let names: Vec<&str> = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        let credential_list = matches!(
            successor(path).as_str(),
            "/credentials" | "/achievements/{id}/credentials"
        );
        if !credential_list {
            assert!(!names.contains(&"cursor"), "GET {path}: no cursor");
            continue;
        }
        assert!(
            names.contains(&"cursor") && names.contains(&"offset"),
            "GET {path}: {names:?}"
        );
        let ok = &get["responses"]["200"];
        // An alias's `Link` is described as its pages in general.
        let headers: &[&str] = if is_alias(path) {
            &["X-Total-Count"]
        } else {
            &["X-Total-Count", "Link"]
        };
        for header in headers {
            let text = ok["headers"][header]["description"]
                .as_str()
                .unwrap_or_default();
            assert!(text.contains("cursor"), "GET {path}: {header}: {text}");
        }
        let bad = get["responses"]["400"]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(bad.contains("cursor"), "GET {path}: 400: {bad}");
    }
    let description = doc["info"]["description"].as_str().expect("a description");
    for needle in ["?cursor=", "rel=\"next\"", "400 naming `cursor`"] {
        assert!(description.contains(needle), "the description: {needle}");
    }
}
