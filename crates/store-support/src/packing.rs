//! How an award's signed credential is stored: its JSON text compressed
//! against a dictionary of what every credential the server signs has in
//! common (contexts, schema, property names, URL paths), so that only what
//! differs (ids, hashes, dates, the proof value) takes room. About 2 KB of
//! text becomes about 470 bytes; unpacking gives back the same bytes, so a
//! credential is served exactly as it was signed.
//!
//! The stored bytes are `0x01`, then a raw deflate stream (RFC 1951) of
//! the UTF-8 text made with [`DICTIONARY_1`] as its preset dictionary.
//! A dictionary is never edited: rows depend on it byte for byte. A better
//! one would be `credentials-2.dict` under a new first byte, the old one
//! kept for the rows that use it.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use openbadges_domain::IssuedCredential;

/// The first byte of a credential packed with [`DICTIONARY_1`].
const PACKED_1: u8 = 1;

/// A credential as the server signs it, its members with placeholder
/// values: first the optional ones, then the members every credential has
/// (deflate reaches the end of its dictionary with the shortest codes).
pub const DICTIONARY_1: &[u8] = include_bytes!("credentials-1.dict");

/// Deflate's default level: higher levels make nothing smaller here, lower
/// ones up to a third larger for half the time.
const LEVEL: u32 = 6;

/// The most text unpacking produces: far more than any credential the
/// server signs; bytes that would give more were not written by it.
const MAX_TEXT: usize = 16 * 1024 * 1024;

/// The bytes to store for a signed credential's text (any bytes pack; the
/// migration packs rows as they are, without reading them as JSON).
pub fn pack(text: &[u8]) -> Vec<u8> {
    let mut deflate = Compress::new(Compression::new(LEVEL), false);
    deflate
        .set_dictionary(DICTIONARY_1)
        .expect("a new raw deflate stream takes a dictionary");
    let mut packed = Vec::with_capacity(text.len() / 3 + 64);
    packed.push(PACKED_1);
    loop {
        let read = usize::try_from(deflate.total_in()).map_or(text.len(), |n| n.min(text.len()));
        let status = deflate
            .compress_vec(&text[read..], &mut packed, FlushCompress::Finish)
            .expect("deflate takes any bytes");
        if status == Status::StreamEnd {
            return packed;
        }
        packed.reserve(packed.capacity());
    }
}

/// The credential from its stored bytes; an error names what is wrong
/// with bytes the server did not write.
pub fn unpack(stored: &[u8]) -> Result<IssuedCredential, String> {
    let text = match stored.split_first() {
        Some((&PACKED_1, deflated)) => inflate(deflated)?,
        Some((first, _)) => return Err(format!("unknown packing {first:#04x}")),
        None => return Err("empty".to_owned()),
    };
    let text = String::from_utf8(text).map_err(|err| err.to_string())?;
    IssuedCredential::restore(text).map_err(|err| err.to_string())
}

fn inflate(deflated: &[u8]) -> Result<Vec<u8>, String> {
    let mut inflate = Decompress::new(false);
    inflate
        .set_dictionary(DICTIONARY_1)
        .map_err(|err| err.to_string())?;
    // Credentials shrink to about a quarter: four times the input is
    // usually one call.
    let mut text = Vec::with_capacity(deflated.len() * 4 + 256);
    loop {
        let read = usize::try_from(inflate.total_in()).unwrap_or(usize::MAX);
        let rest = deflated.get(read..).ok_or("inflated past its input")?;
        match inflate.decompress_vec(rest, &mut text, FlushDecompress::Finish) {
            Ok(Status::StreamEnd) => return Ok(text),
            Ok(_) if text.len() < text.capacity() => {
                return Err("the deflate stream ends early".to_owned())
            }
            Ok(_) if text.len() >= MAX_TEXT => {
                return Err(format!("more than {MAX_TEXT} bytes of text"))
            }
            Ok(_) => text.reserve(text.capacity()),
            Err(err) => return Err(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(text: &str) -> IssuedCredential {
        IssuedCredential::restore(text.to_owned()).expect("JSON")
    }

    /// A credential as the server signs one, with the bench's values.
    const SIGNED: &str = r#"{"@context":["https://www.w3.org/ns/credentials/v2","https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json","https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"],"credentialSchema":[{"id":"https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json","type":"1EdTechJsonSchemaValidator2019"}],"credentialStatus":{"id":"http://127.0.0.1:18801/status-lists/7f6a56c3-66ab-4545-ad75-a7d128137bf9#0","statusListCredential":"http://127.0.0.1:18801/status-lists/7f6a56c3-66ab-4545-ad75-a7d128137bf9","statusListIndex":"0","statusPurpose":"revocation","type":"BitstringStatusListEntry"},"credentialSubject":{"achievement":{"creator":{"id":"http://127.0.0.1:18801/v3/issuers/422fcf99-98d3-43c1-9250-48d65eef8867","type":["Profile"]},"criteria":{"narrative":"Be fast."},"description":"Measured.","id":"http://127.0.0.1:18801/v3/achievements/5ee6bdbb-b5b2-4ae4-8887-6ac92c05eae8","image":{"id":"https://bench.example.org/b.png","type":"Image"},"name":"Bench badge 1","type":["Achievement"]},"identifier":[{"hashed":true,"identityHash":"sha256$1294a9f7a170c3ee7c847899101dc703dc3cec1063745703a4f61b595d1a3713","identityType":"emailAddress","salt":"6be2d9e349d8498da1f76d2a5e457d25","type":"IdentityObject"}],"type":["AchievementSubject"]},"id":"http://127.0.0.1:18801/v3/credentials/832f0e47-8deb-45ce-825e-a01528e92ade","issuer":{"email":"b@bench.example.org","id":"did:web:127.0.0.1%3A18801:issuers:422fcf99-98d3-43c1-9250-48d65eef8867","name":"Bench University","type":["Profile"],"url":"https://bench.example.org"},"name":"Bench badge 1","proof":{"created":"2026-12-07T12:01:52Z","cryptosuite":"eddsa-rdfc-2022","proofPurpose":"assertionMethod","proofValue":"z4emVUohKoA41wQEgMFeNkBgMaY3CmGS7Hsv5SdjKqag67fNr4fbWeDj7EPkDH14RwnbJsYAm5sMpeBiqDSqr2XZY","type":"DataIntegrityProof","verificationMethod":"did:web:127.0.0.1%3A18801:issuers:422fcf99-98d3-43c1-9250-48d65eef8867#key-7a257cd1-5ac8-4917-a1f7-09093bb812fb"},"type":["VerifiableCredential","OpenBadgeCredential"],"validFrom":"2026-12-07T12:01:52.927678Z"}"#;

    #[test]
    fn a_packed_credential_unpacks_to_the_same_bytes_in_a_quarter_of_them() {
        let signed = credential(SIGNED);
        let packed = pack(signed.json().as_bytes());
        assert_eq!(packed[0], PACKED_1);
        assert!(
            packed.len() * 4 < SIGNED.len(),
            "{} bytes packed of {}",
            packed.len(),
            SIGNED.len()
        );
        assert_eq!(unpack(&packed).expect("unpack").json(), SIGNED);
    }

    #[test]
    fn any_json_text_round_trips() {
        let long = format!(r#"{{"a":"{}"}}"#, "ü€😀\\\"x".repeat(50_000));
        for text in [
            "{}",
            r#"{"b": [1, 2.5e-3, null, true], "a": "\u0000"}"#,
            long.as_str(),
        ] {
            let packed = pack(text.as_bytes());
            assert_eq!(unpack(&packed).expect("unpack").json(), text);
        }
    }

    #[test]
    fn text_that_hardly_compresses_round_trips() {
        // Hex digits from a linear congruential generator: about half
        // their size packed, more than the first guess of room.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let digits: String = (0..20_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                char::from_digit(u32::try_from(state >> 60).unwrap_or(0), 16).unwrap_or('0')
            })
            .collect();
        let text = format!(r#"{{"proofValue":"{digits}"}}"#);
        let packed = pack(text.as_bytes());
        assert!(packed.len() > text.len() / 3, "{} bytes", packed.len());
        assert_eq!(unpack(&packed).expect("unpack").json(), text);
    }

    #[test]
    fn bytes_the_server_did_not_write_are_refused() {
        let packed = pack(SIGNED.as_bytes());
        let mut flipped = packed.clone();
        flipped[1] ^= 0xff;
        for (name, stored) in [
            ("empty", Vec::new()),
            ("unknown packing", vec![2, 0, 0]),
            ("cut short", packed[..packed.len() / 2].to_vec()),
            ("only the packing byte", vec![PACKED_1]),
            ("plain text", br#"{"id":"urn:uuid:1"}"#.to_vec()),
            ("packed text that is not JSON", pack(b"{not json")),
            ("flipped bits", flipped),
        ] {
            assert!(unpack(&stored).is_err(), "{name} accepted");
        }
    }

    /// Stored rows depend on the dictionary byte for byte.
    #[test]
    fn the_dictionary_never_changes() {
        let mut crc = flate2::Crc::new();
        crc.update(DICTIONARY_1);
        assert_eq!(
            (crc.amount(), crc.sum()),
            (3442, 0xc1cd_bc50),
            "credentials-1.dict was edited"
        );
    }
}
