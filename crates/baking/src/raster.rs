//! JPEG, GIF and WebP: dimensions from the headers (nothing is decoded:
//! we serve these as they are and never look at their pixels), and the
//! file must end where the format says it ends, so that no second file
//! (a ZIP, an HTML page) rides along after it.

use crate::{ImageError, Limits, MediaType};

pub(crate) fn inspect(
    bytes: &[u8],
    media_type: MediaType,
    limits: &Limits,
) -> Result<(u32, u32), ImageError> {
    let malformed = |reason: &str| ImageError::Malformed {
        media_type,
        reason: reason.to_owned(),
    };
    match media_type {
        MediaType::Jpeg => {
            // End Of Image marker last.
            if !bytes.ends_with(&[0xFF, 0xD9]) {
                return Err(ImageError::TrailingData(media_type));
            }
        }
        MediaType::Gif => {
            // The trailer byte last.
            if bytes.last() != Some(&0x3B) {
                return Err(ImageError::TrailingData(media_type));
            }
        }
        MediaType::Webp => {
            // RIFF: the declared size covers the whole file after its
            // first 8 bytes (plus a pad byte for an odd size).
            let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
            let expected = declared + 8 + (declared & 1);
            if bytes.len() < expected {
                return Err(malformed("the RIFF size is larger than the file"));
            }
            if bytes.len() > expected {
                return Err(ImageError::TrailingData(media_type));
            }
        }
        MediaType::Png | MediaType::Svg => unreachable!("PNG and SVG have checks of their own"),
    }
    let size = imagesize::blob_size(bytes).map_err(|e| malformed(&e.to_string()))?;
    let (width, height) = (size.width as u64, size.height as u64);
    if width == 0
        || height == 0
        || width > u64::from(limits.max_width)
        || height > u64::from(limits.max_height)
    {
        return Err(ImageError::Dimensions {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        });
    }
    Ok((width as u32, height as u32))
}
