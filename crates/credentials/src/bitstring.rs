//! The `encodedList` of a W3C Bitstring Status List: the bitstring,
//! GZIP-compressed, then multibase base64url (`u` prefix, no padding).
//! Bit 0 is the most significant bit of the first byte.

use std::io::{Read, Write};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::Error;

/// The largest decoded list accepted from an untrusted document: 16 MiB,
/// 128 times the 16 KiB minimum list. Bounds the work of decompressing a
/// hostile "zip bomb".
pub const MAX_DECODED_BYTES: u64 = 16 * 1024 * 1024;

/// Encodes a list of `len` bits with the bits at `set` on. Indices at or
/// beyond `len` are an error: they would not be in the published list.
pub fn encode(len: u32, set: impl IntoIterator<Item = u32>) -> Result<String, Error> {
    let mut bytes = vec![0u8; len.div_ceil(8) as usize];
    for index in set {
        if index >= len {
            return Err(Error::InvalidDocument(format!(
                "status index {index} is outside a list of {len} bits"
            )));
        }
        bytes[(index / 8) as usize] |= 0x80 >> (index % 8);
    }
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(&bytes)
        .and_then(|()| gzip.finish())
        .map(|compressed| format!("u{}", URL_SAFE_NO_PAD.encode(compressed)))
        .map_err(|e| Error::InvalidDocument(format!("could not compress the status list: {e}")))
}

/// Decodes an `encodedList` into its bytes, refusing lists larger than
/// [`MAX_DECODED_BYTES`].
pub fn decode(encoded: &str) -> Result<Vec<u8>, Error> {
    let invalid = |why: &str| Error::InvalidDocument(format!("encodedList {why}"));
    // The specification says multibase base64url; early lists had none.
    let text = encoded.strip_prefix('u').unwrap_or(encoded);
    let compressed = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| invalid("is not base64url"))?;
    let mut bytes = Vec::new();
    GzDecoder::new(compressed.as_slice())
        .take(MAX_DECODED_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| invalid("is not GZIP-compressed"))?;
    if bytes.len() as u64 > MAX_DECODED_BYTES {
        return Err(Error::LimitExceeded(format!(
            "encodedList decompresses to more than {MAX_DECODED_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

/// Whether bit `index` of decoded list `bytes` is on; `None` past its end.
pub fn is_set(bytes: &[u8], index: u32) -> Option<bool> {
    bytes
        .get((index / 8) as usize)
        .map(|byte| byte & (0x80 >> (index % 8)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_set_bits_msb_first() {
        let encoded = encode(131_072, [0, 9, 131_071]).expect("encode");
        assert!(encoded.starts_with('u'));
        let bytes = decode(&encoded).expect("decode");
        assert_eq!(bytes.len(), 16_384);
        assert_eq!(bytes[0], 0x80, "bit 0 is the first byte's high bit");
        assert_eq!(bytes[1], 0x40);
        assert_eq!(bytes[16_383], 0x01);
        let set: Vec<u32> = (0..131_072)
            .filter(|&i| is_set(&bytes, i) == Some(true))
            .collect();
        assert_eq!(set, [0, 9, 131_071]);
        assert_eq!(is_set(&bytes, 131_072), None);
    }

    #[test]
    fn refuses_indices_outside_the_list() {
        assert!(encode(8, [8]).is_err());
    }

    /// The example list of the Bitstring Status List specification: 16 KiB
    /// of zeros, as published there.
    #[test]
    fn decodes_the_specification_example() {
        let spec = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";
        let bytes = decode(spec).expect("decode");
        assert_eq!(bytes.len(), 16_384);
        assert!(bytes.iter().all(|b| *b == 0));
    }

    #[test]
    fn refuses_garbage_and_bombs() {
        assert!(decode("u!!!").is_err());
        assert!(decode("uAAAA").is_err());
        let bomb = {
            let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
            gzip.write_all(&vec![0u8; (MAX_DECODED_BYTES + 1) as usize])
                .expect("write");
            format!(
                "u{}",
                URL_SAFE_NO_PAD.encode(gzip.finish().expect("finish"))
            )
        };
        assert!(matches!(decode(&bomb), Err(Error::LimitExceeded(_))));
    }
}
