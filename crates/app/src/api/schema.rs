//! Documentation-only types: the JSON the API accepts and answers, described
//! for the OpenAPI document (`/openapi.json`). Nothing here is used to read
//! or write a body. Request bodies are read field by field (see
//! [`crate::requests`]), so that every bad field is named in one 400; the
//! doc types mirror what the readers accept (both the OB 2.0 and the OB 3.0
//! style) and are checked against them by tests: every example is accepted
//! by the real readers.
//!
//! This module holds the types several resources share (references, error
//! answers, probes, paging); each resource's own
//! types sit beside its handlers, in `api::<resource>::schema`.
//!
//! Where a field has a legacy alias (`issuerId` for `issuer`, `badge` or
//! `badgeClass` for `achievement`, ...), the canonical name carries the
//! `required` mark and the alias is listed beside it, accepted instead.

use std::collections::BTreeMap;

use utoipa::{IntoParams, ToSchema};

// ---------------------------------------------------------------- shared --

/// An image: its URL (or `data:` URI), or an OB 3.0 `Image` object.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum ImageRef {
    /// The image URL or a `data:` URI (OB 2.0 style).
    #[schema(format = "uri", example = "https://example.org/badge.png")]
    Url(String),
    /// An OB 3.0 `Image` object; only its `id` is kept.
    Object(ImageObject),
}

/// An OB 3.0 `Image`.
#[derive(ToSchema)]
pub struct ImageObject {
    /// The image URL or a `data:` URI.
    #[schema(format = "uri", example = "https://example.org/badge.png")]
    pub id: String,
    /// `Image` (ignored).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A reference to an issuer or an achievement of this server: the `id` URL
/// the server returns (under `/v2`, `/v3` or bare), `urn:uuid:<uuid>`, or the
/// bare UUID; or an object with such an `id` (OB 3.0 style).
#[derive(ToSchema)]
#[serde(untagged)]
pub enum EntityRef {
    /// The id URL, `urn:uuid:<uuid>`, or the bare UUID.
    #[schema(example = "urn:uuid:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11")]
    Id(String),
    /// An object whose `id` is one of the above; other fields are ignored.
    Object(EntityObject),
}

/// An object standing for an entity by its `id`.
#[derive(ToSchema)]
pub struct EntityObject {
    /// The id URL, `urn:uuid:<uuid>`, or the bare UUID.
    pub id: String,
}

// ------------------------------------------------------------- responses --

/// 400: the request does not validate. Every bad field is named, with
/// dotted paths and indexes (`credentials[1].recipient.identity`); `body`
/// names the body itself (not JSON, not an object, too large).
#[derive(ToSchema)]
#[schema(example = json!({
    "success": false,
    "error": "Validation error",
    "details": {"name": ["is required"], "url": ["must be an http(s) URL"]}
}))]
pub struct ValidationError {
    /// Always `false`.
    pub success: bool,
    /// Always `Validation error`.
    pub error: String,
    /// Messages by field.
    pub details: BTreeMap<String, Vec<String>>,
}

/// 404, 409, 422 and 503: the reason phrase and what went wrong.
#[derive(ToSchema)]
#[schema(example = json!({"error": "Not Found", "message": "issuer 0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11 not found"}))]
pub struct ErrorMessage {
    /// The HTTP reason phrase: `Not Found`, `Conflict`, `Unprocessable
    /// Entity`, `Service Unavailable`.
    pub error: String,
    /// What went wrong.
    pub message: String,
}

/// 401: the request carries no valid credentials: no `X-API-Key` or
/// `Authorization: Bearer` header, an unknown, revoked or expired key, or an
/// invalid or expired login token. Sent with `WWW-Authenticate: Bearer`.
#[derive(ToSchema)]
#[schema(example = json!({
    "error": "Unauthorized",
    "message": "authentication required: send X-API-Key or Authorization: Bearer"
}))]
pub struct Unauthorized {
    /// Always `Unauthorized`.
    pub error: String,
    /// What is wrong with the credentials.
    pub message: String,
}

/// 403: the credentials are valid but may not do this (role, ownership,
/// key permissions or key scope).
#[derive(ToSchema)]
#[schema(example = json!({"error": "Forbidden", "message": "forbidden: this credential may not write"}))]
pub struct Forbidden {
    /// Always `Forbidden`.
    pub error: String,
    /// Which rule refused the request.
    pub message: String,
}

/// 429: more requests than `RATE_LIMIT_PER_MINUTE` from one API key (or
/// user's login tokens) or, without valid credentials, from one client
/// address; or, for a login, too many failed logins for its account.
#[derive(ToSchema)]
#[schema(example = json!({
    "error": "Too Many Requests",
    "message": "more than 600 requests per minute; retry in 1 s"
}))]
pub struct RateLimited {
    /// Always `Too Many Requests`.
    pub error: String,
    /// The limit and when to retry.
    pub message: String,
}

/// `GET /health`.
#[derive(ToSchema)]
#[schema(example = json!({"status": "ok", "backend": "sqlite", "database": "up"}))]
pub struct Health {
    /// `ok`, or `error` when the database does not answer (with 503).
    pub status: String,
    /// `sqlite` or `postgresql`.
    pub backend: String,
    /// `up` or `down`.
    pub database: String,
}

/// `GET /health/ready`.
#[derive(ToSchema)]
#[schema(example = json!({"status": "ready", "backend": "postgresql", "database": "up", "pendingMigrations": 0}))]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready` (200), or `not ready` (503).
    pub status: String,
    /// `sqlite` or `postgresql`.
    pub backend: String,
    /// `up` or `down`.
    pub database: String,
    /// Migrations the database lacks; `null` when it could not be asked.
    pub pending_migrations: Option<usize>,
    /// Why the server is not ready (only with 503).
    pub reason: Option<String>,
    /// Each read replica (`DATABASE_REPLICA_URLS`), only when some are
    /// configured. A replica down or lagging never makes the server not
    /// ready: the primary answers its reads.
    pub replicas: Option<Vec<ReplicaReadiness>>,
}

/// One read replica in `GET /health/ready`.
#[derive(ToSchema)]
#[schema(example = json!({"replica": 0, "url": "postgres://ob:***@replica-1:5432/openbadges",
    "state": "serving", "lagMs": 120, "queries": 5120}))]
#[serde(rename_all = "camelCase")]
pub struct ReplicaReadiness {
    /// Its position in `DATABASE_REPLICA_URLS`, from 0.
    pub replica: usize,
    /// Its URL, password redacted.
    pub url: String,
    /// `serving` (it gets public reads), `lagging` (further behind than
    /// `REPLICA_MAX_LAG_MS`: skipped) or `down` (does not answer, or is no
    /// standby: skipped).
    pub state: String,
    /// How far behind the primary it may be, at most, in milliseconds;
    /// `null` until measured.
    pub lag_ms: Option<u64>,
    /// Public reads sent to it since the start.
    pub queries: u64,
}

// ------------------------------------------------------------ parameters --

/// Paging of every list. The answer carries `X-Total-Count` and `Link`
/// (first, prev, next, last).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page size, 1 to 500; 50 when absent.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<u32>,
    /// Items to skip; 0 when absent.
    #[param(minimum = 0, default = 0)]
    pub offset: Option<u64>,
}

/// Cursor paging of the credential lists: walks a list of any size at the
/// same cost per page. Present (empty for the first page), it replaces
/// `offset`: the answer has no `X-Total-Count`, and its `Link` header has
/// `first` and, while more credentials follow, `next`, whose URL carries the
/// next page's cursor.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorPaging {
    /// Where the page starts: empty for the first page, then the opaque
    /// value from the `next` link of the page before, signed by the server
    /// (a made-up or altered one is a 400). Not with `offset`.
    pub cursor: Option<String>,
}

/// Option of the deletes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteOptions {
    /// `true` deletes what depends on it too (achievements and their
    /// awards); `false` (the default) refuses with 409 while its badges have
    /// been awarded.
    #[param(default = false)]
    pub cascade: Option<bool>,
}
