//! Compact JSON Web Signatures (RFC 7515) with RS256: the form of OB 2.0
//! signed assertions and of RS256 VC-JWTs.
//!
//! A token is `base64url(header) . base64url(payload) . base64url(signature)`
//! (no padding), the signature covering the first two parts exactly as they
//! appear in the token. Verification checks those bytes, never a
//! re-encoding, so any change to the header or the payload fails it.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::{Error, RsaKeyPair, RsaPublicKey};

/// The JWS `alg` of RSASSA-PKCS1-v1_5 with SHA-256.
pub const RS256: &str = "RS256";

/// The largest token read, in bytes: far more than any credential, and a
/// bound on what an unauthenticated caller can make the server decode.
const MAX_TOKEN_BYTES: usize = 8 * 1024 * 1024;

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn decode(part: &str, what: &str) -> Result<Vec<u8>, Error> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| Error::InvalidJws(format!("the {what} is not base64url without padding: {e}")))
}

/// Signs `payload` as a compact JWS with `key`. `header` gives the other
/// header parameters (`kid`, `typ`, ...); `alg` is always set to `RS256`.
pub fn sign_rs256(
    header: Map<String, Value>,
    payload: &[u8],
    key: &RsaKeyPair,
) -> Result<String, Error> {
    let mut header = header;
    header.insert("alg".to_owned(), Value::from(RS256));
    let header = serde_json::to_vec(&Value::Object(header))
        .map_err(|e| Error::InvalidJws(format!("the header does not serialize: {e}")))?;
    let signing_input = format!("{}.{}", encode(&header), encode(payload));
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", encode(&signature)))
}

/// A compact JWS taken apart: its header and payload, decoded, and the
/// signed bytes with the signature over them. Nothing is verified yet.
#[derive(Debug, Clone)]
pub struct CompactJws {
    /// The protected header (a JSON object).
    pub header: Map<String, Value>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    signing_input: String,
    signature: Vec<u8>,
}

impl CompactJws {
    /// Splits and decodes `token`. Fails unless it has three base64url
    /// parts, the header is a JSON object naming an `alg`, and it asks for
    /// no extension (`crit`), as RFC 7515 requires of a verifier that
    /// understands none.
    pub fn parse(token: &str) -> Result<Self, Error> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Error::InvalidJws(format!(
                "the token is larger than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return Err(Error::InvalidJws(format!(
                "a compact JWS has 3 parts separated by `.`, this one has {}",
                parts.len()
            )));
        };
        let header_bytes = decode(header, "header")?;
        let Ok(Value::Object(header_map)) = serde_json::from_slice(&header_bytes) else {
            return Err(Error::InvalidJws("the header is not a JSON object".into()));
        };
        if !header_map.get("alg").is_some_and(Value::is_string) {
            return Err(Error::InvalidJws("the header names no `alg`".into()));
        }
        if header_map.contains_key("crit") {
            return Err(Error::InvalidJws(
                "the header asks for extensions (`crit`) this verifier does not support".into(),
            ));
        }
        Ok(Self {
            header: header_map,
            payload: decode(payload, "payload")?,
            signing_input: format!("{header}.{payload}"),
            signature: decode(signature, "signature")?,
        })
    }

    /// The header's `alg`.
    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }

    /// The header's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The payload as JSON, if it is JSON.
    pub fn payload_json(&self) -> Result<Value, Error> {
        serde_json::from_slice(&self.payload)
            .map_err(|e| Error::InvalidJws(format!("the payload is not JSON: {e}")))
    }

    /// Checks the RS256 signature with `key`: the header must say `RS256`
    /// (no other algorithm, `none` included, is taken for this key), and
    /// the signature must match the header and payload as they appear in
    /// the token.
    pub fn verify_rs256(&self, key: &RsaPublicKey) -> Result<(), Error> {
        if self.alg() != RS256 {
            return Err(Error::InvalidJws(format!(
                "the header's alg is `{}`, the key is an RS256 key",
                self.alg()
            )));
        }
        if key.verify(self.signing_input.as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(Error::JwsSignatureMismatch)
        }
    }
}

/// Parses `token` and checks its RS256 signature with `key`: the verified
/// token.
pub fn verify_rs256(token: &str, key: &RsaPublicKey) -> Result<CompactJws, Error> {
    let jws = CompactJws::parse(token)?;
    jws.verify_rs256(key)?;
    Ok(jws)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::rsa_keys::tests::key;

    fn header() -> Map<String, Value> {
        match json!({"kid": "https://badges.example.org/issuers/1/keys/2", "typ": "JWT"}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn signed() -> String {
        let payload = json!({"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": "urn:uuid:1"});
        sign_rs256(header(), payload.to_string().as_bytes(), key()).unwrap()
    }

    /// `token` with part `index` replaced by `part`.
    fn with_part(token: &str, index: usize, part: &str) -> String {
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[index] = part;
        parts.join(".")
    }

    #[test]
    fn a_signed_token_verifies_and_carries_its_header_and_payload() {
        let token = signed();
        let jws = verify_rs256(&token, key().public_key()).unwrap();
        assert_eq!(jws.alg(), RS256);
        assert_eq!(
            jws.kid(),
            Some("https://badges.example.org/issuers/1/keys/2")
        );
        assert_eq!(jws.header["typ"], "JWT");
        assert_eq!(jws.payload_json().unwrap()["id"], "urn:uuid:1");
        assert_eq!(signed(), token, "RS256 is deterministic");
    }

    #[test]
    fn a_changed_payload_or_header_fails() {
        let token = signed();
        let other_payload = encode(br#"{"@context":"https://w3id.org/openbadges/v2","type":"Assertion","id":"urn:uuid:2"}"#);
        let changed = with_part(&token, 1, &other_payload);
        assert!(matches!(
            verify_rs256(&changed, key().public_key()),
            Err(Error::JwsSignatureMismatch)
        ));
        let other_header = encode(br#"{"alg":"RS256","kid":"https://evil.example/key"}"#);
        assert!(matches!(
            verify_rs256(&with_part(&token, 0, &other_header), key().public_key()),
            Err(Error::JwsSignatureMismatch)
        ));
        // The same JSON encoded differently (padding) is refused, not re-encoded.
        let padded = with_part(&token, 1, &format!("{}=", token.split('.').nth(1).unwrap()));
        assert!(verify_rs256(&padded, key().public_key()).is_err());
        // A flipped signature bit.
        let signature = token.split('.').nth(2).unwrap();
        let mut bytes = decode(signature, "signature").unwrap();
        bytes[0] ^= 0x80;
        assert!(verify_rs256(&with_part(&token, 2, &encode(&bytes)), key().public_key()).is_err());
    }

    #[test]
    fn other_algorithms_and_malformed_tokens_are_refused() {
        let token = signed();
        let none = with_part(&with_part(&token, 0, &encode(br#"{"alg":"none"}"#)), 2, "");
        assert!(matches!(
            verify_rs256(&none, key().public_key()),
            Err(Error::InvalidJws(_))
        ));
        let hs256 = with_part(&token, 0, &encode(br#"{"alg":"HS256"}"#));
        assert!(matches!(
            verify_rs256(&hs256, key().public_key()),
            Err(Error::InvalidJws(_))
        ));
        let crit = with_part(
            &token,
            0,
            &encode(br#"{"alg":"RS256","crit":["b64"],"b64":false}"#),
        );
        assert!(CompactJws::parse(&crit).is_err());
        for bad in ["", "a.b", "a.b.c.d", "!!.e30.e30", "e30.e30.e30"] {
            assert!(verify_rs256(bad, key().public_key()).is_err(), "{bad}");
        }
    }

    #[test]
    fn another_key_does_not_verify() {
        let other = RsaKeyPair::generate(2048).unwrap();
        assert!(matches!(
            verify_rs256(&signed(), other.public_key()),
            Err(Error::JwsSignatureMismatch)
        ));
    }
}
