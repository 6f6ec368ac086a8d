//! PNG: chunk walking (structure, CRCs, nothing after `IEND`), a bounded
//! decode, and baking by splicing one `iTXt` chunk in. Baking works on
//! chunks rather than decoding and encoding the image again, so the
//! pixels and every other chunk come out exactly as they went in.

use std::io::Cursor;

use crate::{Bake, ImageError, Limits, MediaType, Unbaked, Version};
use crate::{OB2_PNG_KEYWORD, OB3_PNG_KEYWORD};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn malformed(reason: impl Into<String>) -> ImageError {
    ImageError::Malformed {
        media_type: MediaType::Png,
        reason: reason.into(),
    }
}

/// One chunk: its type and data, and where it starts and ends in the file.
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    end: usize,
}

/// Every chunk up to and including `IEND`, CRCs checked; refuses bytes
/// after `IEND` (a file riding along) and a first chunk other than `IHDR`.
fn chunks(bytes: &[u8]) -> Result<Vec<Chunk<'_>>, ImageError> {
    if !bytes.starts_with(SIGNATURE) {
        return Err(malformed("no PNG signature"));
    }
    let mut at = SIGNATURE.len();
    let mut out = Vec::new();
    loop {
        let header = bytes
            .get(at..at + 8)
            .ok_or_else(|| malformed("the file ends before IEND"))?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if length > 0x7FFF_FFFF {
            return Err(malformed("a chunk length out of range"));
        }
        let kind = [header[4], header[5], header[6], header[7]];
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(malformed("a chunk with an invalid type"));
        }
        let data_start = at + 8;
        let data_end = data_start
            .checked_add(length)
            .filter(|&end| end + 4 <= bytes.len())
            .ok_or_else(|| malformed("a chunk runs past the end of the file"))?;
        let data = &bytes[data_start..data_end];
        let stored = &bytes[data_end..data_end + 4];
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&kind);
        hasher.update(data);
        if hasher.finalize().to_be_bytes() != stored {
            return Err(malformed(format!(
                "bad CRC in a {} chunk",
                String::from_utf8_lossy(&kind)
            )));
        }
        if out.is_empty() && &kind != b"IHDR" {
            return Err(malformed("the first chunk is not IHDR"));
        }
        let end = data_end + 4;
        out.push(Chunk { kind, data, end });
        at = end;
        if &kind == b"IEND" {
            if at != bytes.len() {
                return Err(ImageError::TrailingData(MediaType::Png));
            }
            return Ok(out);
        }
    }
}

/// Width and height from `IHDR`.
fn dimensions(ihdr: &Chunk<'_>) -> Result<(u32, u32), ImageError> {
    if ihdr.data.len() != 13 {
        return Err(malformed("IHDR is not 13 bytes"));
    }
    let d = ihdr.data;
    Ok((
        u32::from_be_bytes([d[0], d[1], d[2], d[3]]),
        u32::from_be_bytes([d[4], d[5], d[6], d[7]]),
    ))
}

/// Checks a PNG: structure, dimensions within `limits` (read from `IHDR`
/// before anything is decoded), then a decode one row at a time, so a
/// broken or lying image stream is refused without ever holding the
/// whole picture in memory.
pub(crate) fn inspect(bytes: &[u8], limits: &Limits) -> Result<(u32, u32), ImageError> {
    let all = chunks(bytes)?;
    let (width, height) = dimensions(&all[0])?;
    if width == 0 || height == 0 || width > limits.max_width || height > limits.max_height {
        return Err(ImageError::Dimensions {
            width: width.into(),
            height: height.into(),
            max_width: limits.max_width,
            max_height: limits.max_height,
        });
    }
    bounded_decode(bytes)?;
    Ok((width, height))
}

/// Decodes every row of a PNG whose dimensions were checked already,
/// with the decoder's allocation limit at a few rows' worth.
pub(crate) fn bounded_decode(bytes: &[u8]) -> Result<(), ImageError> {
    // A row is at most width * 8 bytes (RGBA, 16 bits); 4096 px wide
    // rows are 32 KiB. 4 MiB leaves room for the decoder's own buffers
    // and text chunks, and stops a lying stream early.
    let limits = png::Limits {
        bytes: 4 * 1024 * 1024,
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    // Text chunks are not pixels: their content is not our concern here
    // (and compressed ones could be bombs of their own).
    decoder.set_ignore_text_chunk(true);
    let mut reader = decoder.read_info().map_err(|e| malformed(e.to_string()))?;
    while reader
        .next_row()
        .map_err(|e| malformed(e.to_string()))?
        .is_some()
    {}
    Ok(())
}

/// The keyword of an `iTXt`/`tEXt`/`zTXt` chunk (text up to its NUL).
fn keyword<'a>(chunk: &Chunk<'a>) -> Option<&'a [u8]> {
    if !matches!(&chunk.kind, b"iTXt" | b"tEXt" | b"zTXt") {
        return None;
    }
    let nul = chunk.data.iter().position(|&b| b == 0)?;
    Some(&chunk.data[..nul])
}

fn is_badge_chunk(chunk: &Chunk<'_>) -> bool {
    matches!(
        keyword(chunk),
        Some(k) if k == OB2_PNG_KEYWORD.as_bytes() || k == OB3_PNG_KEYWORD.as_bytes()
    )
}

/// An uncompressed `iTXt` chunk, length, type, data and CRC.
fn itxt_chunk(keyword: &str, text: &str) -> Vec<u8> {
    let mut data = Vec::with_capacity(keyword.len() + 5 + text.len());
    data.extend_from_slice(keyword.as_bytes());
    // NUL, compression flag 0 (none), method 0, empty language tag and
    // translated keyword (each ended by NUL).
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(text.as_bytes());
    let mut chunk = Vec::with_capacity(data.len() + 12);
    chunk.extend_from_slice(&(data.len() as u32).to_be_bytes());
    chunk.extend_from_slice(b"iTXt");
    chunk.extend_from_slice(&data);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(b"iTXt");
    hasher.update(&data);
    chunk.extend_from_slice(&hasher.finalize().to_be_bytes());
    chunk
}

pub(crate) fn bake(bytes: &[u8], what: Bake<'_>) -> Result<Vec<u8>, ImageError> {
    let all = chunks(bytes)?;
    if all.iter().any(is_badge_chunk) {
        return Err(ImageError::AlreadyBaked);
    }
    let (keyword, text) = match what {
        Bake::Ob3 { credential } => (OB3_PNG_KEYWORD, credential),
        Bake::Ob2 { verify, .. } => (OB2_PNG_KEYWORD, verify),
    };
    let chunk = itxt_chunk(keyword, text);
    // Right after IHDR: "parse the datastream until the first iTXt chunk
    // is found", so a reader finds it without going through the pixels.
    let split = all[0].end;
    let mut out = Vec::with_capacity(bytes.len() + chunk.len());
    out.extend_from_slice(&bytes[..split]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&bytes[split..]);
    Ok(out)
}

pub(crate) fn unbake(bytes: &[u8]) -> Result<Unbaked, ImageError> {
    for chunk in chunks(bytes)? {
        let Some(key) = keyword(&chunk) else { continue };
        let version = if key == OB3_PNG_KEYWORD.as_bytes() {
            Version::Ob3
        } else if key == OB2_PNG_KEYWORD.as_bytes() {
            Version::Ob2
        } else {
            continue;
        };
        let rest = &chunk.data[key.len() + 1..];
        let text = match &chunk.kind {
            b"iTXt" => {
                let [compressed, _method, tail @ ..] = rest else {
                    return Err(malformed("a truncated iTXt chunk"));
                };
                if *compressed != 0 {
                    return Err(malformed(
                        "the badge's iTXt chunk is compressed (the specification forbids it)",
                    ));
                }
                // Language tag and translated keyword, each ended by NUL.
                let mut tail: &[u8] = tail;
                for _ in 0..2 {
                    let nul = tail
                        .iter()
                        .position(|&b| b == 0)
                        .ok_or_else(|| malformed("a truncated iTXt chunk"))?;
                    tail = &tail[nul + 1..];
                }
                std::str::from_utf8(tail)
                    .map_err(|_| malformed("the badge's iTXt text is not UTF-8"))?
                    .to_owned()
            }
            // The legacy OB 1.0 form: the assertion URL in a tEXt chunk
            // (Latin-1; a URL is ASCII).
            b"tEXt" if version == Version::Ob2 => rest.iter().map(|&b| b as char).collect(),
            _ => return Err(malformed("the badge is in a compressed zTXt chunk")),
        };
        return Ok(Unbaked {
            version,
            text,
            verify: None,
        });
    }
    Err(ImageError::NotBaked)
}
