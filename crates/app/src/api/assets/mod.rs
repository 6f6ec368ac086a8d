//! Hosted images: `POST /assets` (also the previous server's
//! `POST /v1/assets`) stores an uploaded image in the database, `GET
//! /assets/{id}` serves it to anyone, from any instance. What an image is
//! comes from its bytes (`openbadges-baking`), never from the name or the
//! header of the upload; unsafe SVG and anything that is not a clean PNG,
//! JPEG, GIF, WebP or SVG within `ASSETS_MAX_FILE_SIZE` and 4096x4096
//! pixels is refused before anything is stored.
//!
//! Also here: the check of an achievement's `image` when it is ours or a
//! `data:` URI ([`check_image`]), the multipart reader `POST /verify`
//! shares ([`read_upload`]), and baked badges ([`baked`]).

pub(crate) mod baked;

pub(crate) use crate::images::{asset_under, data_uri_bytes};
pub mod schema;

use actix_multipart::Multipart;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use futures_util::StreamExt as _;
use openbadges_baking::{ImageError, Limits, MediaType};
use openbadges_domain::{Asset, AssetId, DomainError, ImageType, Iri, Timestamp};
use serde_json::json;

use super::params::path_id;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

/// `Cache-Control` of a hosted image: its URL names one file forever.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The policy a hosted SVG is served with, should a browser open it as a
/// document: nothing loads, inline styles apply, scripts never run.
const SVG_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// Bare-path routes.
pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/assets", web::post().to(upload))
        .route("/v1/assets", web::post().to(upload_v1))
        .route("/assets/{id}", web::get().to(serve))
        .route("/assets/{id}", web::head().to(serve));
}

/// What an upload can go wrong with, answered in the usual JSON shapes:
/// 413 for a file over the limit, 400 naming the field otherwise.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    /// The file passed `ASSETS_MAX_FILE_SIZE` while it was read.
    #[error("the file is larger than {limit} bytes (ASSETS_MAX_FILE_SIZE)")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body or the file is refused; `field` names what.
    #[error("{field}: {message}")]
    Refused {
        /// The field to name.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl UploadError {
    fn refused(field: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            field,
            message: message.into(),
        }
    }

    /// An image refused by the checks, as the answer for `field`.
    pub(crate) fn image(field: &'static str, error: ImageError) -> Self {
        match error {
            ImageError::TooLarge { max, .. } => Self::TooLarge { limit: max },
            other => Self::refused(field, other.to_string()),
        }
    }
}

impl ResponseError for UploadError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Refused { .. } => StatusCode::BAD_REQUEST,
            Self::Domain(error) => ApiError(error.clone()).status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::TooLarge { .. } => HttpResponse::PayloadTooLarge().json(json!({
                "error": "Payload Too Large",
                "message": self.to_string(),
            })),
            Self::Refused { field, message } => {
                ApiError(DomainError::invalid(*field, message.clone())).error_response()
            }
            Self::Domain(error) => ApiError(error.clone()).error_response(),
        }
    }
}

/// The limits of hosted images.
pub(crate) fn limits(state: &AppState) -> Limits {
    crate::images::limits(state.settings.security.assets_max_file_size)
}

/// The `file` part of a `multipart/form-data` body, read up to `limit`
/// bytes (413 past it, without reading the rest). Other parts are skipped.
pub(crate) async fn read_upload(
    request: &HttpRequest,
    payload: actix_web::dev::Payload,
    limit: usize,
) -> Result<Vec<u8>, UploadError> {
    let malformed = |e: actix_multipart::MultipartError| {
        UploadError::refused(
            "file",
            format!("the body must be multipart/form-data with a `file` part ({e})"),
        )
    };
    let mut multipart = Multipart::new(request.headers(), payload);
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(malformed)?;
        if field.name() != Some("file") {
            // Drain it: the parts come one after the other.
            while let Some(chunk) = field.next().await {
                chunk.map_err(malformed)?;
            }
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            if bytes.len() + chunk.len() > limit {
                return Err(UploadError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(UploadError::refused(
        "file",
        "is required: a multipart/form-data part named `file`",
    ))
}

/// A raw body (an image posted as `image/png`, say), read up to `limit`
/// bytes (413 past it, without reading the rest).
pub(crate) async fn read_raw(
    mut payload: actix_web::dev::Payload,
    limit: usize,
) -> Result<Vec<u8>, UploadError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            UploadError::refused("body", format!("the body could not be read ({e})"))
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(UploadError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `ASSETS_MAX_FILE_SIZE`, where the state is at hand (the default
/// without it: unit tests of extractors).
pub(crate) fn max_file_size(request: &HttpRequest) -> usize {
    request
        .app_data::<web::Data<AppState>>()
        .map_or(Limits::default().max_bytes, |state| {
            state.settings.security.assets_max_file_size
        })
}

fn image_type(media_type: MediaType) -> ImageType {
    match media_type {
        MediaType::Png => ImageType::Png,
        MediaType::Jpeg => ImageType::Jpeg,
        MediaType::Gif => ImageType::Gif,
        MediaType::Webp => ImageType::Webp,
        MediaType::Svg => ImageType::Svg,
    }
}

/// The public URL of an asset.
pub(crate) fn asset_url(state: &AppState, id: AssetId) -> String {
    format!("{}/assets/{id}", state.urls.base())
}

/// The asset an URL of ours names, if it is one.
pub(crate) fn asset_of_url(state: &AppState, url: &str) -> Option<AssetId> {
    asset_under(state.urls.base(), url)
}

#[utoipa::path(
    post,
    path = "/assets",
    tag = "assets",
    operation_id = "uploadAsset",
    summary = "Upload an image",
    description = "Stores a PNG, JPEG, GIF, WebP or SVG image in the database and answers its public URL, to use as \
        an issuer's or achievement's `image`. Also at `POST /v1/assets` (the previous server's path). The type is \
        read from the bytes, never from the file name or the part's `Content-Type`. Refused with 400 (naming \
        `file`): another type, a file with data after the image's end (a polyglot), an image wider or taller \
        than 4096 pixels or with no pixels (a decompression bomb is refused from its header), a PNG whose pixels \
        do not decode, and an SVG with scripts, event handler attributes, `foreignObject`, HTML, references \
        outside the document (only `#fragments` and raster `data:image/...` URIs), a DOCTYPE or entities, or \
        CSS `@import`. Unsafe SVG is refused, never rewritten. Needs the `write` permission, like creating an \
        achievement.",
    request_body(content = schema::AssetUpload, content_type = "multipart/form-data",
        description = "The image as the part `file`; other parts are ignored."),
    responses(
        (status = 201, description = "Stored.", body = schema::AssetCreated,
            headers(("Location" = String, description = "The image's public URL."))),
        (status = 400, description = "No `file` part, or the file is refused (see above).",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`).",
            body = super::schema::Forbidden),
        (status = 413, description = "The file is larger than `ASSETS_MAX_FILE_SIZE` (default 5 MB).",
            body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
pub(super) async fn upload(
    request: HttpRequest,
    state: web::Data<AppState>,
    Auth(actor): Auth,
    payload: web::Payload,
) -> Result<HttpResponse, UploadError> {
    actor.may_upload()?;
    let limits = limits(&state);
    let bytes = read_upload(&request, payload.into_inner(), limits.max_bytes).await?;
    // Checking decodes a PNG's rows: off the async workers.
    let (bytes, checked) = web::block(move || {
        let checked = openbadges_baking::inspect(&bytes, &limits);
        (bytes, checked)
    })
    .await
    .map_err(|e| DomainError::Internal(format!("image check task failed: {e}")))?;
    let checked = checked.map_err(|e| UploadError::image("file", e))?;
    let asset = Asset::new(
        image_type(checked.media_type),
        bytes,
        checked.width,
        checked.height,
        actor.user_id,
        Timestamp::now(),
    );
    state.store.assets().create(&asset).await?;
    let url = asset_url(&state, asset.id());
    log::info!(
        target: "openbadges::assets",
        "stored asset {} ({}, {} bytes)",
        asset.id(),
        asset.media_type(),
        asset.size()
    );
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, url.clone()))
        .json(json!({
            "url": url,
            "id": asset.id(),
            "mediaType": asset.media_type().as_str(),
            "size": asset.size(),
            "width": asset.width(),
            "height": asset.height(),
            "etag": asset.etag(),
        })))
}

/// `POST /v1/assets`: the previous server's path of [`upload`].
#[utoipa::path(
    post,
    path = "/v1/assets",
    tag = "assets",
    operation_id = "uploadAssetV1",
    summary = "Upload an image (the previous server's path)",
    description = "The same as `POST /assets`, at the path clients of the previous server call.",
    request_body(content = schema::AssetUpload, content_type = "multipart/form-data",
        description = "The image as the part `file`; other parts are ignored."),
    responses(
        (status = 201, description = "Stored.", body = schema::AssetCreated,
            headers(("Location" = String, description = "The image's public URL."))),
        (status = 400, description = "No `file` part, or the file is refused (see `POST /assets`).",
            body = super::schema::ValidationError),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`).",
            body = super::schema::Forbidden),
        (status = 413, description = "The file is larger than `ASSETS_MAX_FILE_SIZE` (default 5 MB).",
            body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
pub(super) async fn upload_v1(
    request: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    payload: web::Payload,
) -> Result<HttpResponse, UploadError> {
    upload(request, state, auth, payload).await
}

#[utoipa::path(
    get,
    path = "/assets/{id}",
    tag = "assets",
    operation_id = "getAsset",
    summary = "Get an uploaded image",
    description = "Public. The image exactly as uploaded, with the type read from its bytes. It never changes: \
        cached for a year (`immutable`), with a strong `ETag` (its SHA-256); `If-None-Match` answers 304. \
        `X-Content-Type-Options: nosniff`; an SVG also has `Content-Security-Policy: default-src 'none'; \
        style-src 'unsafe-inline'; sandbox`.",
    params(
        ("id" = String, Path, format = "uuid", description = "The image's UUID."),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304."),
    ),
    responses(
        (status = 200, description = "The image.", content_type = "image/*",
            headers(
                ("ETag" = String, description = "The SHA-256 of the bytes."),
                ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`."),
            )),
        (status = 304, description = "Not modified.", headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, description = "No such image (or the id is not a UUID).", body = super::schema::ErrorMessage),
        (status = 503, response = super::responses::Unavailable),
    )
)]
pub(super) async fn serve(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: AssetId = path_id(&id, "asset")?;
    let asset = state.reads.assets().get(id).await?;
    let etag = format!("\"{}\"", asset.etag());
    let media_type = asset.media_type();
    Ok(image_response(
        &request,
        &etag,
        media_type.as_str(),
        IMMUTABLE,
        &[],
        asset.into_bytes(),
    ))
}

/// An image answer: `body` of `media_type` with `etag`, `cache_control`,
/// `nosniff`, the SVG policy for an SVG and `extra` headers; a 304 with
/// the same headers and no body when `If-None-Match` names `etag`.
pub(crate) fn image_response(
    request: &HttpRequest,
    etag: &str,
    media_type: &str,
    cache_control: &'static str,
    extra: &[(header::HeaderName, String)],
    body: Vec<u8>,
) -> HttpResponse {
    let matches = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
        });
    let mut builder = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    builder
        .insert_header((header::ETAG, etag.to_owned()))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    for (name, value) in extra {
        builder.insert_header((name.clone(), value.clone()));
    }
    if media_type == MediaType::Svg.as_str() {
        builder.insert_header((header::CONTENT_SECURITY_POLICY, SVG_POLICY));
    }
    if matches {
        builder.finish()
    } else {
        builder.content_type(media_type).body(body)
    }
}

/// Checks an achievement's `image` when we can see the file: one of our
/// assets (it must exist, and passed the checks when uploaded) or a
/// `data:` URI (checked here: type, size, dimensions, safe SVG). Any other
/// URL is the client's to host. A 400 names `image`.
pub(crate) async fn check_image(state: &AppState, image: Option<&Iri>) -> Result<(), ApiError> {
    let Some(image) = image else { return Ok(()) };
    let refuse = |message: String| ApiError(DomainError::invalid("image", message));
    if let Some(id) = asset_of_url(state, image.as_str()) {
        return match state.store.assets().get(id).await {
            Ok(_) => Ok(()),
            Err(DomainError::NotFound { .. }) => Err(refuse(format!(
                "names an uploaded image that does not exist ({id})"
            ))),
            Err(other) => Err(other.into()),
        };
    }
    match data_uri_bytes(image.as_str()) {
        None => Ok(()),
        Some(Err(message)) => Err(refuse(message)),
        Some(Ok(bytes)) => {
            let limits = limits(state);
            let checked = web::block(move || openbadges_baking::inspect(&bytes, &limits))
                .await
                .map_err(|e| DomainError::Internal(format!("image check task failed: {e}")))?;
            checked.map(drop).map_err(|e| refuse(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_uris_are_read_base64_or_percent_encoded() {
        assert_eq!(
            data_uri_bytes("data:image/png;base64,iVBORw=="),
            Some(Ok(vec![0x89, 0x50, 0x4E, 0x47]))
        );
        assert_eq!(
            data_uri_bytes("data:image/svg+xml,%3Csvg%2F%3E"),
            Some(Ok(b"<svg/>".to_vec()))
        );
        assert!(matches!(
            data_uri_bytes("data:text/html;base64,PGI+"),
            Some(Err(message)) if message.contains("not of an image")
        ));
        assert!(matches!(
            data_uri_bytes("data:image/png;base64,!!!"),
            Some(Err(message)) if message.contains("base64")
        ));
        assert_eq!(data_uri_bytes("https://example.org/a.png"), None);
    }

    #[test]
    fn image_refusals_name_the_field_and_oversize_is_413() {
        let refused = UploadError::image("file", ImageError::UnknownType);
        assert_eq!(refused.status_code(), StatusCode::BAD_REQUEST);
        let body = crate::error::tests::body(refused.error_response());
        assert!(body["details"]["file"][0]
            .as_str()
            .is_some_and(|m| m.contains("not a PNG")));
        let large = UploadError::image("file", ImageError::TooLarge { size: 9, max: 8 });
        assert_eq!(large.status_code(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = crate::error::tests::body(large.error_response());
        assert_eq!(body["error"], "Payload Too Large");
        assert!(body["message"]
            .as_str()
            .is_some_and(|m| m.contains("ASSETS_MAX_FILE_SIZE")));
    }
}
