//! `GET /version`: which server answers, as the previous server told its
//! clients. Only what Cargo knows at build time: no paths, no settings.

use actix_web::HttpResponse;
use serde_json::json;
use utoipa::ToSchema;

/// The answer of `GET /version`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "name": "openbadges-server",
    "version": "0.1.0",
    "description": "Open Badges 2.0 / 3.0 server: HTTP API, configuration and CLI.",
    "openBadges": ["2.0", "3.0"]
}))]
#[allow(dead_code)]
pub struct VersionInfo {
    /// The package name.
    pub name: String,
    /// The package version (SemVer).
    pub version: String,
    /// What it is.
    pub description: String,
    /// The Open Badges versions served.
    pub open_badges: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/version",
    tag = "health",
    operation_id = "getVersion",
    summary = "Get the server's name and version",
    description = "Public. The package name and version this binary was built from. Bare path only.",
    responses(
        (status = 200, description = "The name and version.", body = VersionInfo),
        (status = 503, description = "The request ran longer than `REQUEST_TIMEOUT_SECONDS`.",
            body = super::schema::ErrorMessage),
    )
)]
pub(super) async fn version() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
        "description": env!("CARGO_PKG_DESCRIPTION"),
        "openBadges": ["2.0", "3.0"],
    }))
}
