//! The OpenAPI 3.1 document of the HTTP API, generated from the handlers'
//! `#[utoipa::path]` annotations and the doc-only types of
//! [`super::schema`]; served at `GET /openapi.json`, with Swagger UI at
//! `GET /docs/`. The Swagger UI files are embedded in the binary at build
//! time (`utoipa-swagger-ui`, feature `vendored`): nothing is fetched from
//! the network, at build time or at run time.
//!
//! The handlers are mounted under `/v2`, `/v3` and the bare path; the
//! document lists the bare paths and explains the prefixes in its
//! description. The deprecated aliases (`/badge-classes`, `/assertions`)
//! are the same handlers: their operations are copied from the documented
//! ones and marked deprecated, so they cannot drift apart.

use std::sync::LazyLock;

use actix_web::{web, HttpResponse};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Deprecated, OpenApi as Document, RefOr};
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::ALIAS_SUNSET;
use crate::requests::MAX_BATCH;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Where Swagger UI is served (with its assets below it).
pub const DOCS_PATH: &str = "/docs/";

/// The deprecated alias prefixes and the documented prefix each stands for.
pub const ALIASES: [(&str, &str); 2] = [
    ("/badge-classes", "/achievements"),
    ("/assertions", "/credentials"),
];

/// Tag of the deprecated alias operations.
const ALIAS_TAG: &str = "deprecated aliases";

#[derive(OpenApi)]
#[openapi(
    info(title = "Open Badges server"),
    paths(
        crate::http::health,
        super::issuers::create,
        super::issuers::list,
        super::issuers::get,
        super::issuers::update,
        super::issuers::delete,
        super::issuers::achievements,
        super::achievements::create,
        super::achievements::list,
        super::achievements::get,
        super::achievements::update,
        super::achievements::delete,
        super::achievements::credentials,
        super::credentials::create,
        super::credentials::create_batch,
        super::credentials::list,
        super::credentials::get,
        super::credentials::update,
        super::credentials::revoke,
    ),
    tags(
        (name = "issuers", description = "Issuer profiles (OB 2.0 `Issuer`, OB 3.0 `Profile`)."),
        (name = "achievements", description = "Badge definitions (OB 2.0 `BadgeClass`, OB 3.0 `Achievement`). \
            Alias: `/badge-classes` (deprecated)."),
        (name = "credentials", description = "Awards (OB 2.0 `Assertion`, OB 3.0 `OpenBadgeCredential`). \
            Alias: `/assertions` (deprecated)."),
        (name = "health", description = "Liveness and database reachability."),
        (name = "deprecated aliases", description = "`/badge-classes` and `/assertions`: the same operations \
            as `/achievements` and `/credentials`, kept for clients of the previous server."),
    )
)]
struct ApiDoc;

/// The API description (Markdown), shown at the top of `/docs/`.
fn description() -> String {
    format!(
        r#"Open Badges 2.0 and 3.0 server: issuers, achievements (badge classes) and credentials (assertions).

## Versions: `/v2`, `/v3` and the bare path

Every resource is served by the same handlers under three prefixes; the prefix only chooses how
documents are rendered:

- **`/v3/...`**, and the bare path **`/...`** (= v3): Open Badges 3.0, W3C Verifiable Credentials 2.0
  data model: `Profile`, `Achievement`, `OpenBadgeCredential` (`application/vc+ld+json`).
- **`/v2/...`**: Open Badges 2.0 JSON-LD for hosted verification: `Issuer`, `BadgeClass`, `Assertion`
  (`application/ld+json`); a revoked assertion's 410 code is `ASSERTION_REVOKED`.

**This document lists the bare paths**; put `/v2` or `/v3` in front for the others (e.g.
`GET /v2/credentials/{{id}}`). Request bodies are the same under every prefix, and both the OB 2.0 and
the OB 3.0 style are accepted. Documents' `id`s are URLs under the server's `BASE_URL` that serve them
(e.g. `<BASE_URL>/v3/credentials/<uuid>`).

## Deprecated aliases

`/badge-classes...` is `/achievements...` and `/assertions...` is `/credentials...` (under every prefix).
They are listed as deprecated operations and answer with `Deprecation: true`, `Sunset: {ALIAS_SUNSET}`
and `Link: </achievements>; rel="successor-version"` (or `</credentials>`); on lists, `Link` carries
the pages instead.

## References

An issuer or achievement is referenced (in bodies and in the `issuer` / `achievement` filters) by the
`id` URL this server returns (any prefix), by `urn:uuid:<uuid>`, or by the bare UUID. A path id that
is not a UUID names nothing: 404.

## Errors

- **400** `{{"success":false,"error":"Validation error","details":{{"<field>":["<message>"]}}}}`: every bad
  field is named, with paths such as `criteria.narrative` or `credentials[3].recipient.identity`.
- **404** `{{"error":"Not Found","message":"..."}}`, also for a route that does not exist.
- **409**, **422** (a referenced issuer or achievement does not exist), **503** (the database is
  unavailable; retry): `{{"error":"<reason phrase>","message":"..."}}`.
- **410** for a revoked credential: `{{"error":"Credential has been revoked","code":"CREDENTIAL_REVOKED",
  "details":{{"id","revocationReason"}},"revoked":true,"revocationReason":...}}`.
- **500** `{{"error":"Internal Server Error"}}`: details are logged, never sent.

## Lists

`limit` (1 to 500, default 50) and `offset` (default 0). The answer is a JSON array, with
`X-Total-Count` (the total) and an RFC 8288 `Link` header (`first`, `prev`, `next`, `last`).

## Bodies and caching

Request bodies are read as JSON whatever the `Content-Type` (up to 16 MiB; a batch holds at most
{MAX_BATCH} credentials). Single documents carry a strong `ETag` and answer `304` to a matching
`If-None-Match`; issuers and achievements may be cached for 5 minutes, credentials must be
revalidated (`no-cache`), as they can be revoked at any time.
"#
    )
}

/// Every operation of a path item.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn string_header(description: String) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

/// The operation of `path` (under `successor`) as reached through `alias`.
fn deprecated_copy(
    mut operation: Operation,
    path: &str,
    alias: &str,
    successor: &str,
) -> Operation {
    let alias_name: String = alias
        .trim_start_matches('/')
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    operation.deprecated = Some(Deprecated::True);
    operation.tags = Some(vec![ALIAS_TAG.to_owned()]);
    operation.operation_id = operation
        .operation_id
        .map(|id| format!("{id}Via{alias_name}"));
    operation.summary = operation
        .summary
        .map(|summary| format!("{summary} (deprecated alias of {path})"));
    let note = format!(
        "**Deprecated**: use `{path}`. This alias is the same operation and goes away after {ALIAS_SUNSET}."
    );
    operation.description = Some(match operation.description {
        Some(description) => format!("{note}\n\n{description}"),
        None => note,
    });
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        response.headers.insert(
            "Deprecation".to_owned(),
            string_header("`true`.".to_owned()),
        );
        response.headers.insert(
            "Sunset".to_owned(),
            string_header(format!("`{ALIAS_SUNSET}`: when the alias goes away.")),
        );
        let link = match response.headers.get("Link") {
            Some(_) => "RFC 8288 links to the pages (the pagination links take the place of the \
                 `successor-version` link)."
                .to_owned(),
            None => format!("`<{successor}>; rel=\"successor-version\"`."),
        };
        response
            .headers
            .insert("Link".to_owned(), string_header(link));
    }
    operation
}

/// Adds the deprecated alias paths: copies of the operations they stand for.
fn add_aliases(document: &mut Document) {
    let mut copies = Vec::new();
    for (path, item) in &document.paths.paths {
        for (alias, successor) in ALIASES {
            let Some(rest) = path.strip_prefix(successor) else {
                continue;
            };
            if !(rest.is_empty() || rest.starts_with('/')) {
                continue;
            }
            let mut copy = item.clone();
            for operation in operations(&mut copy) {
                *operation = deprecated_copy(operation.clone(), path, alias, successor);
            }
            copies.push((format!("{alias}{rest}"), copy));
        }
    }
    document.paths.paths.extend(copies);
}

/// The OpenAPI document of the API.
pub fn openapi() -> Document {
    let mut document = ApiDoc::openapi();
    document.info.description = Some(description());
    add_aliases(&mut document);
    document
}

/// Built once; each worker gets a copy.
static DOCUMENT: LazyLock<Document> = LazyLock::new(openapi);

/// Registers `GET /openapi.json`, Swagger UI at `/docs/` (and `/docs`), and
/// the previous server's `/swagger` as a redirect to `/docs/`.
pub fn configure(config: &mut web::ServiceConfig) {
    let ui_config = Config::new([OPENAPI_PATH])
        // No call to the online validator at validator.swagger.io.
        .validator_url("none");
    config
        .service(
            SwaggerUi::new(format!("{DOCS_PATH}{{_:.*}}"))
                .url(OPENAPI_PATH, DOCUMENT.clone())
                .config(ui_config),
        )
        .route("/docs", web::get().to(to_docs))
        .route("/swagger", web::get().to(to_docs))
        .route("/swagger/{_:.*}", web::get().to(to_docs));
}

/// `/docs`, `/swagger`: the UI is at `/docs/` (its assets are relative).
async fn to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, DOCS_PATH))
        .finish()
}
