//! The OpenAPI types of hosted images.

use utoipa::ToSchema;

/// `POST /assets`: a `multipart/form-data` body with the image as `file`.
#[derive(ToSchema)]
#[allow(dead_code)] // Read by the multipart reader, described here.
pub struct AssetUpload {
    /// The image: PNG, JPEG, GIF, WebP or SVG, at most
    /// `ASSETS_MAX_FILE_SIZE` bytes (default 5 MB).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// `POST /assets`: where the stored image is served.
#[derive(ToSchema)]
#[schema(example = json!({
    "url": "https://badges.example.org/assets/5f0c2a9e-7b1d-4c3e-9a8f-0d1e2f3a4b5c",
    "id": "5f0c2a9e-7b1d-4c3e-9a8f-0d1e2f3a4b5c",
    "mediaType": "image/png",
    "size": 18231,
    "width": 256,
    "height": 256,
    "etag": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
}))]
#[allow(dead_code)] // Written with json!, described here.
pub struct AssetCreated {
    /// The public URL, to use as an issuer's or achievement's `image`.
    pub url: String,
    /// The image's UUID.
    pub id: String,
    /// The type read from the bytes: `image/png`, `image/jpeg`,
    /// `image/gif`, `image/webp` or `image/svg+xml`.
    #[schema(rename = "mediaType")]
    pub media_type: String,
    /// Bytes.
    pub size: u64,
    /// Pixels across (none for an SVG without a size).
    pub width: Option<u32>,
    /// Pixels down (none for an SVG without a size).
    pub height: Option<u32>,
    /// SHA-256 of the bytes, hex: the `ETag` it is served with.
    pub etag: String,
}
