//! A pending authorization request: what `GET /oauth/authorize` checked,
//! carried through the consent form as one opaque, signed field
//! (`request`), so that the form's `POST` needs no server-side session and
//! cannot change what was checked (another redirect URI, more scopes).
//!
//! It is an HS256 JWT under a key derived from the server secret
//! (`JWT_SECRET`) with an issuer of its own, so it can never pass for a
//! login token, and it expires after [`LIFETIME`].

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a learner may take to fill in the consent form.
pub const LIFETIME: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// The `iss` of pending requests.
const ISSUER: &str = "openbadges-server/oauth-authorize";

/// What the authorization endpoint checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    /// The client's id.
    pub client_id: String,
    /// The redirect URI, one of the client's, exactly.
    pub redirect_uri: String,
    /// The scopes asked for, space-separated, all known and registered.
    pub scope: String,
    /// The client's `state`.
    pub state: String,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    exp: u64,
    #[serde(flatten)]
    request: PendingRequest,
}

/// Signs and opens pending requests. Debug hides the key.
#[derive(Clone)]
pub struct PendingKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for PendingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingKeys(<redacted>)")
    }
}

impl PendingKeys {
    /// Keys derived from the server secret.
    pub fn new(secret: &[u8]) -> Self {
        let key = Sha256::new()
            .chain_update(b"openbadges-server oauth pending requests\0")
            .chain_update(secret)
            .finalize();
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }

    /// The opaque form field for `request`.
    pub fn seal(&self, request: &PendingRequest) -> Result<String, String> {
        let claims = Claims {
            iss: ISSUER.to_owned(),
            exp: jsonwebtoken::get_current_timestamp() + LIFETIME.as_secs(),
            request: request.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    /// The request a form field carries, if it is ours and unexpired.
    pub fn open(&self, sealed: &str) -> Option<PendingRequest> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        jsonwebtoken::decode::<Claims>(sealed, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims.request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_requests_open_only_with_their_key_and_unchanged() {
        let keys = PendingKeys::new(&[3; 32]);
        let request = PendingRequest {
            client_id: "c".to_owned(),
            redirect_uri: "https://a.example/cb".to_owned(),
            scope: "offline_access".to_owned(),
            state: "xyz".to_owned(),
            code_challenge: "abc".to_owned(),
        };
        let sealed = keys.seal(&request).unwrap();
        assert_eq!(keys.open(&sealed), Some(request));
        assert_eq!(PendingKeys::new(&[4; 32]).open(&sealed), None);
        let mut tampered = sealed.clone();
        tampered.insert(sealed.find('.').unwrap() + 3, 'A');
        assert_eq!(keys.open(&tampered), None);
    }
}
