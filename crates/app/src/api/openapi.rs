//! The OpenAPI 3.1 document of the HTTP API, generated from the handlers'
//! `#[utoipa::path]` annotations and the doc-only types of
//! [`super::schema`] and each resource's `schema` module; served at `GET /openapi.json`, with Swagger UI at
//! `GET /docs/`. The Swagger UI files are embedded in the binary at build
//! time (`utoipa-swagger-ui`, feature `vendored`): nothing is fetched from
//! the network, at build time or at run time.
//!
//! The handlers are mounted under `/v2`, `/v3` and the bare path; the
//! document lists the bare paths and explains the prefixes in its
//! description. The deprecated aliases (`/badge-classes`, `/assertions`)
//! are the same handlers: their operations are copied from the documented
//! ones and marked deprecated, so they cannot drift apart. The account
//! routes (`/auth`, `/users`, `/api-keys`), `/health`, `/health/ready`,
//! `/metrics` and the key and verification routes other than
//! `GET /credentials/{id}/verify` are bare only ([`BARE_ONLY`]).
//!
//! Security is added here rather than on each handler: every operation
//! except those of [`PUBLIC_OPERATIONS`] requires the `apiKey` or the
//! `bearer` scheme (so an operation added later is documented as protected
//! until it is listed as public), those of [`PLATFORM_OPERATIONS`] the
//! `platformJwt` scheme instead, and every operation but the health
//! probes, which the rate limit exempts ([`UNLIMITED`]), may answer 429.
//! The 401 and 403 answers are on the handlers, as their reasons differ.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::{web, HttpResponse};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Deprecated, OpenApi as Document, Ref, RefOr};
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::credentials::requests::MAX_BATCH;
use super::ALIAS_SUNSET;
use crate::protection::UNLIMITED;

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

/// The security scheme of API keys in `X-API-Key`.
pub const API_KEY_SCHEME: &str = "apiKey";
/// The security scheme of `Authorization: Bearer` (a login token or an API key).
pub const BEARER_SCHEME: &str = "bearer";

/// The security scheme of a backpack platform's own JWTs.
pub const PLATFORM_SCHEME: &str = "platformJwt";

/// The operations a backpack platform calls with its own JWT (the
/// [`PLATFORM_SCHEME`]), not with this server's credentials.
pub const PLATFORM_OPERATIONS: &[&str] = &[
    "addBackpackAssertion",
    "listBackpackAssertions",
    "removeBackpackAssertion",
    "setBackpackAssertionStatus",
];

/// The operations anyone may call, without credentials: the public
/// documents, the lists of issuers and achievements, health, login, the
/// public keys (DID documents, key lists, JWKS) and verification. Every
/// other operation requires credentials.
pub const PUBLIC_OPERATIONS: &[&str] = &[
    "health",
    "ready",
    "metrics",
    "listIssuers",
    "getIssuer",
    "listIssuerAchievements",
    "listAchievements",
    "getAchievement",
    "listRelatedAchievements",
    "getCredential",
    "login",
    "getIssuerDidDocument",
    "listIssuerKeys",
    "getJwks",
    "getCryptographicKey",
    "getIssuerRevocationList",
    "getRevocationList",
    "getSuspensionList",
    "verifyCredential",
    "verifyPostedCredential",
    "listAchievementEndorsements",
    "listIssuerEndorsements",
    "listCredentialEndorsements",
    "getEndorsement",
    "getAsset",
    "getBakedBadge",
    "listPublicKeys",
    "getPublicKey",
    "getVersion",
    "registerLearner",
    "verifyLearnerEmail",
    "verifyLearnerEmailPage",
    "oauthMetadata",
    "registerClient",
    "authorize",
    "authorizeDecision",
    "getServiceDescription",
];

/// The security scheme of OAuth clients at the token and revocation
/// endpoints: HTTP Basic with the registration's `client_id` and
/// `client_secret` (`client_secret_basic`).
pub const OAUTH_CLIENT_SCHEME: &str = "oauthClient";
/// The security scheme of the OB 3.0 Service API: OAuth 2.0 access tokens
/// of the authorization code grant, each operation naming its scope.
pub const SERVICE_SCHEME: &str = "OAuth2ACG";

/// The paths served only bare, not under `/v2` and `/v3`, each with what
/// lies below it: they are not Open Badges documents (`did:web` resolves
/// `/issuers/<id>/did.json` on the bare path only). A `{...}` segment stands
/// for any one segment.
pub const BARE_ONLY: [&str; 19] = [
    "/health",
    "/metrics",
    "/auth",
    "/users",
    "/api-keys",
    "/issuers/{id}/did.json",
    "/issuers/{id}/keys",
    "/issuers/{id}/revocation-list",
    "/.well-known/jwks.json",
    "/verify",
    "/endorsements",
    "/assets",
    "/v1/assets",
    "/version",
    "/learner",
    "/oauth",
    "/.well-known/oauth-authorization-server",
    "/ims/ob/v3p0",
    "/backpack",
];

/// Name of the shared 429 answer in `components.responses`.
const TOO_MANY_REQUESTS: &str = "TooManyRequests";

#[derive(OpenApi)]
#[openapi(
    info(title = "Open Badges server"),
    paths(
        crate::health::health,
        crate::health::ready,
        crate::metrics::metrics,
        super::issuers::create,
        super::issuers::list,
        super::issuers::get,
        super::issuers::update,
        super::issuers::patch,
        super::issuers::delete,
        super::issuers::achievements,
        super::achievements::create,
        super::achievements::list,
        super::achievements::get,
        super::achievements::update,
        super::achievements::patch,
        super::achievements::delete,
        super::achievements::credentials,
        super::endorsements::list_achievement,
        super::endorsements::endorse_achievement,
        super::endorsements::list_issuer,
        super::endorsements::endorse_issuer,
        super::endorsements::list_credential,
        super::endorsements::endorse_credential,
        super::endorsements::get,
        super::endorsements::revoke,
        super::achievements::related::list,
        super::achievements::related::add,
        super::achievements::related::remove,
        super::credentials::create,
        super::credentials::create_batch,
        super::credentials::list,
        super::credentials::get,
        super::credentials::update,
        super::credentials::patch,
        super::credentials::sign,
        super::credentials::revoke,
        super::credentials::suspend,
        super::credentials::reinstate,
        super::credentials::change_status,
        crate::mail::api::delivery,
        crate::consumer::deliveries,
        super::status_lists::revocation,
        super::status_lists::suspension,
        super::status_lists::stats,
        super::status_lists::list,
        super::status_lists::create,
        super::public_keys::list,
        super::public_keys::get,
        super::version::version,
        super::verification::verify_stored,
        super::verification::did_document,
        super::verification::list_keys,
        super::verification::rotate_key,
        super::verification::revoke_key,
        super::verification::jwks,
        super::verification::verify_posted,
        super::signed::cryptographic_key,
        super::signed::revocation_list,
        super::assets::upload,
        super::assets::upload_v1,
        super::assets::serve,
        super::assets::baked::image,
        super::accounts::login,
        super::accounts::profile,
        super::accounts::logout_all,
        super::accounts::create_user,
        super::accounts::list_users,
        super::accounts::get_user,
        super::accounts::update_user,
        super::accounts::delete_user,
        super::accounts::change_password,
        super::accounts::create_key,
        super::accounts::list_keys,
        super::accounts::get_key,
        super::accounts::delete_key,
        super::accounts::revoke_key,
        super::learners::register,
        super::learners::list_emails,
        super::learners::add_email,
        super::learners::verify,
        super::learners::verify_page,
        super::learners::remove_email,
        super::learners::list_credentials,
        super::learners::remove_credential,
        crate::oauth::metadata::metadata,
        crate::oauth::registration::register,
        crate::oauth::authorize::page,
        crate::oauth::authorize::decide,
        crate::oauth::token::token,
        crate::oauth::token::revoke,
        crate::oauth::grants::list,
        crate::oauth::grants::revoke,
        crate::service_api::discovery::discovery,
        crate::service_api::credentials::get_credentials,
        crate::service_api::credentials::upsert_credential,
        crate::service_api::profile::get_profile,
        crate::service_api::profile::put_profile,
        super::backpack::list_platforms,
        super::backpack::create_platform,
        super::backpack::get_platform,
        super::backpack::update_platform,
        super::backpack::delete_platform,
        super::backpack::add_assertion,
        super::backpack::list_assertions,
        super::backpack::remove_assertion,
        super::backpack::set_assertion_status,
    ),
    components(
        schemas(super::schema::RateLimited, super::assets::schema::AssetCreated),
        responses(super::responses::Unauthorized, super::responses::Unavailable)
    ),
    tags(
        (name = "issuers", description = "Issuer profiles (OB 2.0 `Issuer`, OB 3.0 `Profile`)."),
        (name = "achievements", description = "Badge definitions (OB 2.0 `BadgeClass`, OB 3.0 `Achievement`). \
            Alias: `/badge-classes` (deprecated)."),
        (name = "credentials", description = "Awards (OB 2.0 `Assertion`, OB 3.0 `OpenBadgeCredential`). \
            Alias: `/assertions` (deprecated)."),
        (name = "verification", description = "Signing keys and verification: issuers' `did:web` DID \
            documents, their keys (rotation, revocation), the JWKS, the previous server's `/public-keys`, and \
            verification reports. Bare paths only, except `GET /credentials/{id}/verify` and `/public-keys`."),
        (name = "endorsements", description = "OB 3.0 `EndorsementCredential`s of achievements, issuer \
            profiles and credentials: issued and signed here by an issuer profile, or signed elsewhere and \
            attached after verification; served at `/endorsements/{id}` (bare path only) and revocable."),
        (name = "status lists", description = "W3C Bitstring Status Lists of revocation and suspension. Every \
            OB 3.0 credential names its list and index in `credentialStatus`. Under every prefix."),
        (name = "assets", description = "Hosted images: uploaded once (PNG, JPEG, GIF, WebP or SVG, checked \
            from their bytes), stored in the database and served by every instance, for issuers' and achievements' \
            `image`. Baked badges are `GET /credentials/{id}/image`. Bare paths only."),
        (name = "accounts", description = "Login, user accounts and API keys. Bare paths only: not under `/v2` or \
            `/v3`."),
        (name = "learners", description = "Learner accounts: self-registration (`LEARNER_REGISTRATION`), their \
            e-mail addresses (verified by a link e-mailed to them) and their backpack: the credentials awarded here to \
            a verified address, uploaded, or added by a platform. A learner's login token reaches only these. Bare \
            paths only."),
        (name = "oauth", description = "The OAuth 2.0 authorization server of the OB 3.0 Service API: RFC 8414 \
            metadata, RFC 7591 dynamic registration, the authorization endpoint (a login and consent page, PKCE S256 \
            required), the token endpoint (codes and rotating refresh tokens) and RFC 7009 revocation, and a \
            learner's list of the applications they authorized. Errors follow RFC 6749, not the API's shape. Bare \
            paths only."),
        (name = "service-api", description = "The 1EdTech Open Badges 3.0 Service API (`/ims/ob/v3p0`): discovery, \
            getCredentials, upsertCredential, getProfile and putProfile on the backpack of the learner who \
            authorized the client. Errors are `Imsx_StatusInfo`. See `GET /ims/ob/v3p0/discovery` for its own \
            OpenAPI document. Bare paths only."),
        (name = "backpack", description = "The previous server's backpack API: administrators register \
            platforms (`/backpack/platforms`), which then add this server's awards to their users' backpacks \
            (`/backpack/assertions`) with RS256 JWTs signed by their own key (the `platformJwt` scheme). Each \
            platform user is a learner account here. Answers in the previous server's `{\"success\": ...}` shape. \
            Bare paths only."),
        (name = "health", description = "Liveness (`/health`), readiness (`/health/ready`) and \
            Prometheus metrics (`/metrics`)."),
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
`GET /v2/credentials/{{id}}`), except `/health`, `/health/ready`, `/metrics`, the account routes (`/auth/...`, `/users...`,
`/api-keys...`) and the key and verification routes (`/issuers/{{id}}/did.json`, `/issuers/{{id}}/keys...`,
`/.well-known/jwks.json`, `/issuers/{{id}}/revocation-list`, `POST /verify`) and `/version`, which exist only bare. Request bodies are the same under every prefix, and both the OB 2.0 and
the OB 3.0 style are accepted. Documents' `id`s are URLs under the server's `BASE_URL` that serve them
(e.g. `<BASE_URL>/v3/credentials/<uuid>`).

## Deprecated aliases

`/badge-classes...` is `/achievements...` and `/assertions...` is `/credentials...` (under every prefix).
They are listed as deprecated operations and answer with `Deprecation: true`, `Sunset: {ALIAS_SUNSET}`
and `Link: </achievements>; rel="successor-version"` (or `</credentials>`); on lists, `Link` carries
the pages instead.

## Signing and verification

Every OB 3.0 credential issued (`POST /credentials`, `POST /credentials/batch`, and `PUT /credentials/{{id}}`,
which signs the changed credential anew) carries a Data Integrity proof: `DataIntegrityProof` with the
`eddsa-rdfc-2022` cryptosuite and `proofPurpose: assertionMethod`, made with the issuer's Ed25519 key.
`?sign=false` issues without a proof. The signed credential is stored and served exactly as issued by
`GET /credentials/{{id}}` (bare and `/v3`; the `/v2` assertion has no proof). JSON-LD contexts are bundled,
never fetched.

- **Keys**: one active key per issuer, made on first use and stored with its private half sealed
  (AES-256-GCM) under `KEY_ENCRYPTION_KEY` (required when `NODE_ENV=production`).
  `POST /issuers/{{id}}/keys/rotate` retires the active key (it still verifies) and makes a new one;
  `POST /issuers/{{id}}/keys/{{key}}/revoke` makes a key verify nothing. Both need credentials of someone
  who manages the issuer. `GET /issuers/{{id}}/keys` lists them with their status.
- **did:web**: an issuer's DID is `did:web:<host>[%3A<port>][:<path>]:issuers:<id>` from `BASE_URL`, and a
  proof's `verificationMethod` is `<did>#key-<key id>`; the DID document is at `/issuers/{{id}}/did.json`
  and `/.well-known/jwks.json` lists every key that still verifies.
- **RS256 and OB 2.0 signed badges**: each issuer also gets an RSA key (RS256) when one is first needed,
  kept, rotated (`?algorithm=RS256`) and revoked like the Ed25519 key, and published in the JWKS.
  `GET /credentials/{{id}}?format=jwt&alg=RS256` answers an RS256 VC-JWT; `GET /v2/credentials/{{id}}` with
  `Accept: application/jose` (or `?format=jws`) answers the OB 2.0 signed assertion, a compact JWS whose
  `verification` is `SignedBadge` with `creator` the key's `CryptographicKey` URL
  (`/issuers/{{id}}/keys/{{key}}`). The OB 2.0 issuer profile names those keys (`publicKey`) and its
  `RevocationList` (`/issuers/{{id}}/revocation-list`, every revoked award).
- **Verification**: `GET /credentials/{{id}}/verify` (any prefix) and `POST /verify` (any OB 3.0 credential
  as JSON, a VC-JWT, or an OB 2.0 signed assertion) answer a report `{{id, isValid, hasValidSignature, isExpired, isRevoked, errorCode, checks,
  verifiedAt}}`; `errorCode` is the first failed check's (`INVALID_SIGNATURE`, `KEY_REVOKED`, `REVOKED`,
  `NO_PROOF`, ...). `POST /verify` also takes a baked badge image (PNG or SVG, raw or multipart).
- **Images**: `POST /assets` (multipart `file`) stores a checked PNG, JPEG, GIF, WebP or SVG and answers
  its public URL `/assets/{{id}}`; `GET /credentials/{{id}}/image` (any prefix) answers the award as a baked
  badge, PNG or SVG (`?format=` or `Accept`).

## Authentication

Anyone may read the public documents (issuers, achievements and credentials by id), the lists of
issuers and achievements (also an issuer's achievements), the DID documents, key lists, keys, revocation lists and JWKS,
`/health`, `/openapi.json` and `/docs`, and call `POST /auth/login`, `POST /verify` and
`GET /credentials/{{id}}/verify`. Everything else needs credentials: every write, the lists of credentials
(they carry recipient data: `GET /credentials`, `GET /achievements/{{id}}/credentials`) and the account
routes. Those operations list the `apiKey` and `bearer` security schemes; either one will do:

- **An API key**, sent as `X-API-Key: <key>` or `Authorization: Bearer <key>`. Keys are made by
  `POST /api-keys` (or `openbadges-server api-key create`), shown once and stored only as their SHA-256;
  they can be revoked, expire if given `expiresAt`, and can be scoped to one issuer. Keys can also be
  configured in the environment as `AUTH_API_KEY_<NAME>=<key>:<userId>:<description>`: when `<userId>`
  is the id of one of our users the key acts as that user, otherwise as an administrator.
- **A login token**, sent as `Authorization: Bearer <token>`: the JWT that `POST /auth/login` answers
  with for a username (or e-mail address) and password, valid for `JWT_TOKEN_EXPIRY_SECONDS`.

Without valid credentials the answer is **401** `{{"error":"Unauthorized","message":"..."}}` with
`WWW-Authenticate: Bearer`; with credentials that may not do what is asked, **403**
`{{"error":"Forbidden","message":"..."}}`. Public operations do not look at credentials.

The previous server's `/backpack/assertions` routes are called by a registered backpack platform
instead, with its own JWT (the `platformJwt` scheme: RS256, signed with the private key of the
platform's registered `publicKey`, `iss` its `clientId`, `sub` its user, `exp` required); they refuse
with 401 `{{"success":false,"error":"..."}}`, as the previous server did.

## Roles and ownership

Every user has one role:

- **admin**: manages everything: every issuer with its achievements and credentials, the user accounts
  (`/users`) and everyone's API keys;
- **issuer**: creates issuers, and then owns them; manages the issuers they own, with their achievements
  and credentials; lists only the credentials of the issuers they own;
- **viewer**: writes nothing; lists every credential.

Everyone may read and change their own account (`GET` / `PUT /users/{{id}}`: the e-mail address; only an
administrator changes roles; `POST /users/{{id}}/change-password` with the current password) and manage
their own API keys. A login token has every permission of its user's role; an API key has the
permissions it was given (`read`, `write`, `admin`: at most what the role allows) and, when scoped to an
issuer, touches only that issuer. The role is read on every request, so a change applies at once. An
issuer without an owner (its owner was deleted, or it was made by a configured key not tied to a user)
is managed by administrators only.

## Rate limit

At most `RATE_LIMIT_PER_MINUTE` requests a minute (600 by default) per API key, or per user for
login tokens, or, for requests without valid credentials (a made-up key counts for nothing), per client
address; logins always count against the address. Beyond that every operation answers **429**
`{{"error":"Too Many Requests","message":"..."}}` with `Retry-After` (seconds); `/health` and
`/health/ready` are never limited. Failed logins for one account also make the next attempts wait (see
`POST /auth/login`).

## References

An issuer or achievement is referenced (in bodies and in the `issuer` / `achievement` filters) by the
`id` URL this server returns (any prefix), by `urn:uuid:<uuid>`, or by the bare UUID. A reference in a
body that names no issuer or achievement is a 400 naming the field (`issuer`, `badge`).

Every `{{id}}` in a path takes the same forms: the bare UUID, `urn:uuid:<uuid>`, or the `id` URL this
server returned, percent-encoded as one segment or raw, slashes and all
(`/v3/issuers/https://host/v3/issuers/<uuid>/achievements`). A URL of another server, or of another
kind of resource (an achievement's URL in an issuer path), names nothing: 404.

## Updates

`PUT` and `PATCH` on issuers, achievements and credentials are partial updates: the body is applied to
the stored resource (its OB 3.0 document) as a JSON merge patch (RFC 7396). Fields the body leaves out
are kept, `null` removes an optional field, and the result is validated whole; an OB 2.0 name in the
body (`tags`, `issuedOn`, `expires`, `recipient`, `badge`, `narrative`, `image`) replaces the OB 3.0
field it stands for. An unknown id is a 404 and a resource the caller may not manage a 403, whatever
the body.

## Dates

RFC 3339 date-times with at most microsecond precision, served back exactly as given in UTC (`Z`).
A leap second (`23:59:60`) or an instant outside the years 0001 to 9999 in UTC is a 400 naming the
field.

## Errors

- **400** `{{"success":false,"error":"Validation error","details":{{"<field>":["<message>"]}}}}`: every bad
  field is named, with paths such as `criteria.narrative` or `credentials[3].recipient.identity`.
- **401** (no valid credentials) and **403** (not allowed): see Authentication.
- **404** `{{"error":"Not Found","message":"..."}}`, also for a route that does not exist.
- **409**, **422** (a referenced user or issuer of an account operation does not exist), **503** (the database is
  unavailable, or the request ran longer than `REQUEST_TIMEOUT_SECONDS`; retry):
  `{{"error":"<reason phrase>","message":"..."}}`.
- **429**: see Rate limit.
- **410** for a revoked credential: `{{"error":"Credential has been revoked","code":"CREDENTIAL_REVOKED",
  "details":{{"id","revocationReason"}},"revoked":true,"revocationReason":...}}`.
- **500** `{{"error":"Internal Server Error"}}`: details are logged, never sent.

## Lists

`limit` (1 to 500, default 50) and `offset` (default 0). The answer is a JSON array, with
`X-Total-Count` (the total) and an RFC 8288 `Link` header (`first`, `prev`, `next`, `last`).
Items are oldest first (by creation time, then id).

The credential lists (`GET /credentials`, `GET /achievements/{{id}}/credentials`, and their aliases
and prefixes) also page by **cursor**, at the same cost per page however many credentials there are
(an `offset` page has to skip, and the total has to count, every credential before it):

- ask `?cursor=` (empty: the first page, with the usual `limit` and filters), then follow
  `Link: <...>; rel="next"` until an answer has none; the cursor in that link is opaque;
- a cursor page has no `X-Total-Count`;
- a cursor is signed by the server: one it did not give (made up, altered, or from a server with
  another `JWT_SECRET`), or one given with `offset`, is a 400 naming `cursor`;
- a cursor is a position in the list, not a snapshot: credentials created during a walk are met
  at its end, deleted ones are skipped.

## Bodies and caching

Request bodies are read as JSON whatever the `Content-Type` (up to `MAX_BODY_BYTES`, 16 MiB by
default, nested at most `MAX_JSON_DEPTH` levels, 32 by default; a batch holds at most {MAX_BATCH}
credentials). Single documents carry a strong `ETag` and answer `304` to a matching
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
    shared: &BTreeMap<String, RefOr<Response>>,
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
        // A shared answer is copied in: through the alias it carries the
        // deprecation headers too.
        if let RefOr::Ref(reference) = response {
            let name = reference
                .ref_location
                .trim_start_matches("#/components/responses/");
            if let Some(RefOr::T(answer)) = shared.get(name) {
                *response = RefOr::T(answer.clone());
            }
        }
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
    let shared = document
        .components
        .as_ref()
        .map(|components| components.responses.clone())
        .unwrap_or_default();
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
                *operation = deprecated_copy(operation.clone(), path, alias, successor, &shared);
            }
            copies.push((format!("{alias}{rest}"), copy));
        }
    }
    document.paths.paths.extend(copies);
}

/// Registers the security schemes and the shared 429 answer.
fn add_components(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        API_KEY_SCHEME,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-Key",
            "An API key: made by `POST /api-keys` or `openbadges-server api-key create`, or configured \
             as `AUTH_API_KEY_<NAME>`.",
        ))),
    );
    components.add_security_scheme(
        BEARER_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT or API key")
                .description(Some(
                    "`Authorization: Bearer <token>` with a login token from `POST /auth/login`, or \
                     `Authorization: Bearer <key>` with an API key.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        OAUTH_CLIENT_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Basic)
                .description(Some(
                    "`client_secret_basic`: HTTP Basic with the `client_id` and `client_secret` of \
                     `POST /oauth/register`.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        PLATFORM_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT (RS256)")
                .description(Some(
                    "`Authorization: Bearer <JWT>` signed by a registered backpack platform with the private \
                     key of its `publicKey`: `iss` its `clientId`, `sub` its user, `exp` required.",
                ))
                .build(),
        ),
    );
    let scopes = Scopes::from_iter(
        openbadges_domain::oauth::ScopeSet::all()
            .iter()
            .map(|scope| (scope.as_str(), scope.description())),
    );
    components.add_security_scheme(
        SERVICE_SCHEME,
        SecurityScheme::OAuth2(OAuth2::with_description(
            [Flow::AuthorizationCode(AuthorizationCode::with_refresh_url(
                "/oauth/authorize",
                "/oauth/token",
                scopes,
                "/oauth/token",
            ))],
            "OAuth 2.0 authorization code grant with PKCE S256 (see `GET /ims/ob/v3p0/discovery`); send the \
             access token as `Authorization: Bearer <token>`.",
        )),
    );
    components
        .responses
        .insert(TOO_MANY_REQUESTS.to_owned(), RefOr::T(too_many_requests()));
}

/// 429, shared by every rate-limited operation.
fn too_many_requests() -> Response {
    let retry_after = HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        )
        .description(Some("Seconds to wait before retrying."))
        .build();
    ResponseBuilder::new()
        .description(
            "More than `RATE_LIMIT_PER_MINUTE` requests a minute from this API key or this user's \
             login tokens (or, without valid credentials, from this client address).",
        )
        .header("Retry-After", retry_after)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("RateLimited")))
                .build(),
        )
        .build()
}

/// Every operation not listed in [`PUBLIC_OPERATIONS`] requires an API key
/// or a bearer token (either one), unless its handler names another scheme
/// (the OAuth client's Basic credentials, or a Service API access token).
/// or a bearer token (either one), but those of [`PLATFORM_OPERATIONS`],
/// which require a platform's JWT.
fn add_security(document: &mut Document) {
    let requirements = vec![
        SecurityRequirement::new(API_KEY_SCHEME, Vec::<String>::new()),
        SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new()),
    ];
    let platform = vec![SecurityRequirement::new(
        PLATFORM_SCHEME,
        Vec::<String>::new(),
    )];
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            let id = operation.operation_id.as_deref();
            if id.is_some_and(|id| PLATFORM_OPERATIONS.contains(&id)) {
                operation.security = Some(platform.clone());
            } else if !id.is_some_and(|id| PUBLIC_OPERATIONS.contains(&id))
                // The OAuth operations name their own schemes.
                && operation.security.is_none()
            {
                operation.security = Some(requirements.clone());
            }
        }
    }
}

/// Every operation but the probes of [`UNLIMITED`] may answer 429. Added after the
/// aliases are copied: the rate limit answers before the alias layer, so
/// its 429 carries no deprecation headers. An operation that documents a
/// 429 of its own (the login throttle) keeps it.
fn add_rate_limit(document: &mut Document) {
    for (path, item) in &mut document.paths.paths {
        if UNLIMITED.contains(&path.as_str()) {
            continue;
        }
        for operation in operations(item) {
            operation
                .responses
                .responses
                .entry("429".to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(TOO_MANY_REQUESTS)));
        }
    }
}

/// The OpenAPI document of the API.
pub fn openapi() -> Document {
    let mut document = ApiDoc::openapi();
    document.info.description = Some(description());
    add_components(&mut document);
    add_security(&mut document);
    add_aliases(&mut document);
    add_rate_limit(&mut document);
    document
}

/// The document as JSON, written once. Kept as text: the document's tree
/// took about 3 MiB, and Swagger UI kept one copy of it per worker.
static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| {
    serde_json::to_string(&openapi()).unwrap_or_else(|e| {
        // Serializing a document of strings and maps cannot fail; should
        // it ever, the UI shows this error instead of a blank page.
        serde_json::json!({ "error": format!("the OpenAPI document did not serialize: {e}") })
            .to_string()
    })
});

/// Registers `GET /openapi.json`, Swagger UI at `/docs/` (and `/docs`), and
/// the previous server's `/swagger` as a redirect to `/docs/`.
pub fn configure(config: &mut web::ServiceConfig) {
    let ui_config = Config::new([OPENAPI_PATH])
        // No call to the online validator at validator.swagger.io.
        .validator_url("none");
    config
        .route(OPENAPI_PATH, web::get().to(document_json))
        .service(SwaggerUi::new(format!("{DOCS_PATH}{{_:.*}}")).config(ui_config))
        .route("/docs", web::get().to(to_docs))
        .route("/swagger", web::get().to(to_docs))
        .route("/swagger/{_:.*}", web::get().to(to_docs));
}

/// `GET /openapi.json`.
async fn document_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT_JSON.as_str())
}

/// `/docs`, `/swagger`: the UI is at `/docs/` (its assets are relative).
async fn to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, DOCS_PATH))
        .finish()
}
