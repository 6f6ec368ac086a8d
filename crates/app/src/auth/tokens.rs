//! Login tokens: HS256 JWTs signed with `JWT_SECRET`, carrying the user id
//! and role, valid for `JWT_TOKEN_EXPIRY_SECONDS`.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use openbadges_domain::{Role, UserId};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "openbadges-server";

/// The claims of a login token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    iss: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks login tokens. Debug hides the secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime_seconds: i64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("secret", &"<redacted>")
            .field("lifetime_seconds", &self.lifetime_seconds)
            .finish()
    }
}

/// A token and when it expires.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Seconds until it expires.
    #[serde(rename = "expiresIn")]
    pub expires_in: i64,
}

impl TokenKeys {
    /// Keys from a secret of at least 32 bytes.
    pub fn new(secret: &[u8], lifetime_seconds: i64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetime_seconds,
        }
    }

    /// A token for `user` with `role`, valid from `now` (Unix seconds).
    pub fn issue(&self, user: UserId, role: Role, now: i64) -> Result<IssuedToken, String> {
        let claims = Claims {
            sub: user.to_string(),
            role,
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + self.lifetime_seconds,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())?;
        Ok(IssuedToken {
            token,
            expires_in: self.lifetime_seconds,
        })
    }

    /// The user and role of a valid, unexpired token of ours.
    pub fn verify(&self, token: &str) -> Option<(UserId, Role)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        let user = data.claims.sub.parse().ok()?;
        Some((user, data.claims.role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        chrono_free_now()
    }

    fn chrono_free_now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    }

    #[test]
    fn issued_tokens_verify_and_tampering_fails() {
        let keys = TokenKeys::new(&[7; 32], 60);
        let user = UserId::generate();
        let issued = keys.issue(user, Role::Issuer, now()).unwrap();
        assert_eq!(keys.verify(&issued.token), Some((user, Role::Issuer)));
        let other = TokenKeys::new(&[8; 32], 60);
        assert_eq!(other.verify(&issued.token), None, "another secret");
        let mut tampered = issued.token.clone();
        tampered.push('x');
        assert_eq!(keys.verify(&tampered), None);
    }

    #[test]
    fn expired_tokens_fail() {
        let keys = TokenKeys::new(&[7; 32], 60);
        let issued = keys
            .issue(UserId::generate(), Role::Admin, now() - 3600)
            .unwrap();
        assert_eq!(keys.verify(&issued.token), None);
    }
}
