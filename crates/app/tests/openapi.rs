//! The OpenAPI document (`/openapi.json`) and Swagger UI (`/docs/`): the
//! document describes exactly the routes the server registers, with their
//! error answers, and both are served without any network access (the UI
//! files are embedded in the binary).

use std::collections::{BTreeMap, BTreeSet};

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, Method, StatusCode};
use actix_web::test as web_test;
use actix_web::App;
use openbadges_server::api::openapi::{openapi, ALIASES, DOCS_PATH, OPENAPI_PATH};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];
const ANY_ID: &str = "0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11";

/// Every route under the bare prefix, with its methods (`/v2` and `/v3`
/// repeat them; the aliases are checked separately).
const ROUTES: &[(&str, &[&str])] = &[
    ("/health", &["get"]),
    ("/issuers", &["get", "post"]),
    ("/issuers/{id}", &["delete", "get", "put"]),
    ("/issuers/{id}/achievements", &["get"]),
    ("/achievements", &["get", "post"]),
    ("/achievements/{id}", &["delete", "get", "put"]),
    ("/achievements/{id}/credentials", &["get"]),
    ("/credentials", &["get", "post"]),
    ("/credentials/batch", &["post"]),
    ("/credentials/{id}", &["get", "put"]),
    ("/credentials/{id}/revoke", &["post"]),
];

fn document() -> Value {
    serde_json::to_value(openapi()).expect("the document serializes")
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

#[test]
fn document_is_openapi_3_and_explains_the_versions() {
    let text = openapi().to_pretty_json().expect("the document serializes");
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "{version}");
    let description = doc["info"]["description"].as_str().expect("a description");
    for needle in ["/v2", "/v3", "/badge-classes", "/assertions", "Sunset"] {
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
    for (path, ops) in operations(&document()) {
        for (method, op) in ops {
            let responses = op["responses"].as_object().expect("responses");
            let has = |status: &str| responses.contains_key(status);
            let what = format!("{method} {path}");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what}: a success"
            );
            if path == "/health" {
                assert!(has("503"), "{what}: 503");
                continue;
            }
            assert!(has("503"), "{what}: 503");
            if path.contains("{id}") {
                assert!(has("404"), "{what}: 404");
            }
            let takes_input = op.get("requestBody").is_some()
                || op["parameters"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["in"] == "query"));
            if takes_input {
                assert!(has("400"), "{what}: 400");
                assert_eq!(
                    responses["400"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ValidationError",
                    "{what}: the validation shape"
                );
            }
            if has("404") {
                assert_eq!(
                    responses["404"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorMessage",
                    "{what}: the not-found shape"
                );
            }
            if method == "get" && path.ends_with("{id}") {
                assert!(has("304"), "{what}: 304");
                assert!(responses["200"]["headers"].get("ETag").is_some(), "{what}");
            }
            if method == "post" && !path.ends_with("/batch") && !path.ends_with("/revoke") {
                assert!(
                    responses["201"]["headers"].get("Location").is_some(),
                    "{what}: Location"
                );
            }
            if method == "get" && !path.ends_with("{id}") {
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
    assert!(ops["/credentials"]["post"]["responses"]
        .get("422")
        .is_some());
}

/// Whether `concrete` is an instance of the templated `path`.
fn matches(path: &str, concrete: &str) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (path.split('/').collect(), concrete.split('/').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(t, c)| t == c || (t.starts_with('{') && t.ends_with('}')))
}

fn request(method: &str, uri: &str) -> web_test::TestRequest {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("a method");
    web_test::TestRequest::default().method(method).uri(uri)
}

/// The routes the server registers are the documented ones, under every
/// prefix. Without an `AppState` a registered handler fails with 500 (its
/// data is missing) while an unregistered route is a 404, so probing every
/// method of every documented path, and a few routes the previous server
/// had, tells registered from not.
#[actix_web::test]
async fn documented_operations_are_exactly_the_registered_routes() {
    let app = web_test::init_service(App::new().configure(openbadges_server::http::routes)).await;
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
            if path == "/health" && !prefix.is_empty() {
                continue;
            }
            let concrete = format!("{prefix}{}", path.replace("{id}", ANY_ID));
            for method in METHODS {
                let status = web_test::call_service(&app, request(method, &concrete).to_request())
                    .await
                    .status();
                let registered =
                    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED;
                let unprefixed = concrete.strip_prefix(prefix).unwrap_or(&concrete);
                if registered != is_documented(method, unprefixed) {
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
    let app = web_test::init_service(App::new().configure(openbadges_server::http::routes)).await;
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
