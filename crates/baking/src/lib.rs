//! Open Badges images: checking uploads, and baking credentials into PNG
//! and SVG badges (and reading them out again).
//!
//! - [`inspect`] takes untrusted bytes and answers what image they are
//!   ([`MediaType`], sniffed from the bytes, never taken from a header or
//!   a file name) and its dimensions, or refuses them: unknown types,
//!   files with data after the image's end (polyglots), images larger than
//!   [`Limits`] (a decompression bomb is refused from its header, before
//!   any pixel is decoded; a PNG is then decoded one row at a time to prove
//!   it whole), and SVG that could run or fetch anything (scripts, event
//!   handlers, `foreignObject`, external references, `DOCTYPE`/entities,
//!   `@import`). Unsafe SVG is refused, never rewritten.
//! - [`bake`] embeds an OB 3.0 credential or an OB 2.0 assertion as the
//!   specifications' "Baked Badge" sections say: PNG `iTXt` chunks
//!   `openbadgecredential` / `openbadges` (uncompressed, placed right
//!   after `IHDR`; the image's own bytes are copied as they are), SVG
//!   `<openbadges:credential>` / `<openbadges:assertion verify="…">`.
//! - [`unbake`] reads the first such chunk or element back.
//!
//! [`DEFAULT_PNG`] and [`DEFAULT_SVG`] are a plain badge to bake into when
//! an achievement has no image of its own.

#![deny(missing_docs)]

mod png_image;
mod raster;
mod svg;

use std::fmt;

/// The default badge image, PNG (128x128), when an achievement has none.
pub static DEFAULT_PNG: &[u8] = include_bytes!("../assets/default-badge.png");
/// The default badge image, SVG, when an achievement has none.
pub static DEFAULT_SVG: &[u8] = include_bytes!("../assets/default-badge.svg");

/// The OB 3.0 namespace of `<openbadges:credential>` in a baked SVG.
pub const OB3_SVG_NAMESPACE: &str = "https://purl.imsglobal.org/ob/v3p0";
/// The OB 2.0 namespace of `<openbadges:assertion>` in a baked SVG.
pub const OB2_SVG_NAMESPACE: &str = "http://openbadges.org";
/// The `iTXt` keyword of an OB 3.0 baked PNG.
pub const OB3_PNG_KEYWORD: &str = "openbadgecredential";
/// The `iTXt` keyword of an OB 2.0 baked PNG.
pub const OB2_PNG_KEYWORD: &str = "openbadges";

/// The image types we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
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

impl MediaType {
    /// Every accepted type.
    pub const ALL: [MediaType; 5] = [Self::Png, Self::Jpeg, Self::Gif, Self::Webp, Self::Svg];

    /// The MIME type, as served in `Content-Type`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Svg => "image/svg+xml",
        }
    }

    /// Parses a MIME type as [`as_str`](Self::as_str) writes it.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }

    /// Whether badges can be baked into this type (PNG and SVG only).
    pub fn bakeable(&self) -> bool {
        matches!(self, Self::Png | Self::Svg)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`inspect`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of the file.
    pub max_bytes: usize,
    /// Most pixels across.
    pub max_width: u32,
    /// Most pixels down.
    pub max_height: u32,
}

impl Default for Limits {
    /// 5 MB, at most 4096x4096 pixels.
    fn default() -> Self {
        Self {
            max_bytes: 5 * 1024 * 1024,
            max_width: 4096,
            max_height: 4096,
        }
    }
}

/// An image [`inspect`] accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspected {
    /// Its type, from its bytes.
    pub media_type: MediaType,
    /// Pixels across; `None` for an SVG without a width in pixels.
    pub width: Option<u32>,
    /// Pixels down; `None` for an SVG without a height in pixels.
    pub height: Option<u32>,
}

/// Why an image was refused, or could not be baked or unbaked. The
/// messages are written for the client that sent the image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// Empty file.
    #[error("the file is empty")]
    Empty,
    /// More bytes than allowed.
    #[error("the file is {size} bytes, more than the {max} allowed")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not one of the accepted types.
    #[error("not a PNG, JPEG, GIF, WebP or SVG image (the type is read from the bytes, not the name or header)")]
    UnknownType,
    /// The bytes look like the type but are broken.
    #[error("not a valid {media_type} image: {reason}")]
    Malformed {
        /// The sniffed type.
        media_type: MediaType,
        /// What is wrong.
        reason: String,
    },
    /// Bytes after the image's end: another file riding along (a polyglot).
    #[error("the {0} image has data after its end (a file hidden in an image is refused)")]
    TrailingData(MediaType),
    /// Outside the allowed dimensions (or a decompression bomb).
    #[error("the image is {width}x{height} pixels; at least 1x1 and at most {max_width}x{max_height} are allowed")]
    Dimensions {
        /// Declared width.
        width: u64,
        /// Declared height.
        height: u64,
        /// The limit across.
        max_width: u32,
        /// The limit down.
        max_height: u32,
    },
    /// SVG with something that could run or fetch.
    #[error("unsafe SVG refused: {0}")]
    UnsafeSvg(String),
    /// Baking asked of a type that cannot hold a badge.
    #[error("badges can be baked only into PNG and SVG images, not {0}")]
    NotBakeable(MediaType),
    /// The image holds a badge already.
    #[error("the image holds a baked badge already")]
    AlreadyBaked,
    /// No baked badge in the image.
    #[error("the image holds no baked badge (no `openbadgecredential` or `openbadges` iTXt chunk, no <openbadges:credential> or <openbadges:assertion> element)")]
    NotBaked,
}

/// Checks untrusted bytes as an image: type sniffed from the bytes, no
/// data after its end, size and dimensions within `limits`, SVG safe.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<Inspected, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let media_type = sniff(bytes).ok_or(ImageError::UnknownType)?;
    let (width, height) = match media_type {
        MediaType::Png => {
            let (w, h) = png_image::inspect(bytes, limits)?;
            (Some(w), Some(h))
        }
        MediaType::Jpeg | MediaType::Gif | MediaType::Webp => {
            let (w, h) = raster::inspect(bytes, media_type, limits)?;
            (Some(w), Some(h))
        }
        MediaType::Svg => svg::inspect(bytes, limits)?,
    };
    Ok(Inspected {
        media_type,
        width,
        height,
    })
}

/// The type of an image from its first bytes (and, for SVG, its root
/// element), or `None`. Says nothing about whether the rest is valid:
/// [`inspect`] checks that.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(MediaType::Gif)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else if svg::looks_like_svg(bytes) {
        Some(MediaType::Svg)
    } else {
        None
    }
}

/// What to bake into an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bake<'a> {
    /// OB 3.0: the signed credential's JSON, or its VC-JWT (compact JWS).
    Ob3 {
        /// JSON text or compact JWS.
        credential: &'a str,
    },
    /// OB 2.0: the hosted assertion's URL or a signed assertion's JWS, and
    /// for SVG optionally the assertion's JSON as the element's body.
    Ob2 {
        /// URL or compact JWS: the PNG chunk's text, the SVG's `verify`.
        verify: &'a str,
        /// The assertion JSON (SVG only; PNG carries `verify`).
        assertion: Option<&'a str>,
    },
}

/// Which Open Badges version a baked image holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// OB 2.0 (`openbadges`).
    Ob2,
    /// OB 3.0 (`openbadgecredential`).
    Ob3,
}

/// What [`unbake`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unbaked {
    /// Which version's chunk or element held it.
    pub version: Version,
    /// The content: a credential or assertion's JSON, a compact JWS, or an
    /// assertion URL. For SVG, the element's body when it has one, else
    /// its `verify` attribute.
    pub text: String,
    /// For SVG, the element's `verify` attribute, if any.
    pub verify: Option<String>,
}

/// Bakes `what` into a PNG or SVG image. The image must hold no badge yet
/// ([`ImageError::AlreadyBaked`]): which of two would count is not for us
/// to guess.
pub fn bake(image: &[u8], what: Bake<'_>) -> Result<Vec<u8>, ImageError> {
    match sniff(image) {
        Some(MediaType::Png) => png_image::bake(image, what),
        Some(MediaType::Svg) => svg::bake(image, what),
        Some(other) => Err(ImageError::NotBakeable(other)),
        None => Err(ImageError::UnknownType),
    }
}

/// Reads the first baked badge out of a PNG or SVG image.
pub fn unbake(image: &[u8]) -> Result<Unbaked, ImageError> {
    match sniff(image) {
        Some(MediaType::Png) => png_image::unbake(image),
        Some(MediaType::Svg) => svg::unbake(image),
        Some(other) => Err(ImageError::NotBakeable(other)),
        None => Err(ImageError::UnknownType),
    }
}

/// Whether `text` has the shape of a compact JWS (three base64url parts).
pub fn is_compact_jws(text: &str) -> bool {
    let parts: Vec<&str> = text.trim().split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        })
        && !parts[0].is_empty()
        && !parts[1].is_empty()
}

#[cfg(test)]
mod tests;
