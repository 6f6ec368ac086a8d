//! Hosted images: files uploaded once and served by every instance from
//! the database, for issuers' and achievements' `image`.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::ids::{AssetId, UserId};
use crate::values::Timestamp;
use crate::DomainError;

/// The image types the server hosts. What a file is was decided from its
/// bytes before an [`Asset`] is made (`openbadges-baking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageType {
    /// `image/png`
    Png,
    /// `image/jpeg`
    Jpeg,
    /// `image/gif`
    Gif,
    /// `image/webp`
    Webp,
    /// `image/svg+xml`
    Svg,
}

impl ImageType {
    /// The MIME type, as stored and served.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Svg => "image/svg+xml",
        }
    }
}

impl fmt::Display for ImageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImageType {
    type Err = DomainError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        [Self::Png, Self::Jpeg, Self::Gif, Self::Webp, Self::Svg]
            .into_iter()
            .find(|t| t.as_str() == value)
            .ok_or_else(|| DomainError::Internal(format!("unknown image type {value:?}")))
    }
}

/// An uploaded image. Its ETag is the SHA-256 of its bytes, made here, so
/// that the two cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    id: AssetId,
    media_type: ImageType,
    bytes: Vec<u8>,
    etag: String,
    width: Option<u32>,
    height: Option<u32>,
    uploaded_by: Option<UserId>,
    created_at: Timestamp,
}

impl Asset {
    /// A new asset of checked image bytes.
    pub fn new(
        media_type: ImageType,
        bytes: Vec<u8>,
        width: Option<u32>,
        height: Option<u32>,
        uploaded_by: Option<UserId>,
        created_at: Timestamp,
    ) -> Self {
        let etag = hex::encode(Sha256::digest(&bytes));
        Self {
            id: AssetId::generate(),
            media_type,
            bytes,
            etag,
            width,
            height,
            uploaded_by,
            created_at,
        }
    }

    /// An asset as a store read it back. The ETag is taken as stored (a
    /// read does not hash megabytes again), the size is checked.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: AssetId,
        media_type: ImageType,
        bytes: Vec<u8>,
        etag: String,
        size: u64,
        width: Option<u32>,
        height: Option<u32>,
        uploaded_by: Option<UserId>,
        created_at: Timestamp,
    ) -> Result<Self, DomainError> {
        if size != bytes.len() as u64 {
            return Err(DomainError::Internal(format!(
                "asset {id}: stored size {size} but {} bytes",
                bytes.len()
            )));
        }
        Ok(Self {
            id,
            media_type,
            bytes,
            etag,
            width,
            height,
            uploaded_by,
            created_at,
        })
    }

    /// Its id.
    pub fn id(&self) -> AssetId {
        self.id
    }
    /// Its type.
    pub fn media_type(&self) -> ImageType {
        self.media_type
    }
    /// The file.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The file, taken.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
    /// SHA-256 of the bytes, hex.
    pub fn etag(&self) -> &str {
        &self.etag
    }
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
    /// Pixels across, when known.
    pub fn width(&self) -> Option<u32> {
        self.width
    }
    /// Pixels down, when known.
    pub fn height(&self) -> Option<u32> {
        self.height
    }
    /// Who uploaded it (none for a key not tied to an account).
    pub fn uploaded_by(&self) -> Option<UserId> {
        self.uploaded_by
    }
    /// Drops the uploader, whose account was deleted (what the stores'
    /// `ON DELETE SET NULL` does).
    pub fn forget_uploader(&mut self) {
        self.uploaded_by = None;
    }
    /// When it was uploaded.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
}
