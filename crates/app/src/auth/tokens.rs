//! Login tokens: HS256 JWTs signed with `JWT_SECRET`, carrying the user id,
//! role and session generation, valid from their `nbf` for
//! `JWT_TOKEN_EXPIRY_SECONDS`.

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
    /// Not valid before (checked when present; tokens issued before it was
    /// set have none, and their `iat` was not in the future).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    exp: i64,
    /// The user's session generation when the token was issued; a token
    /// whose generation is no longer the user's has been ended. Tokens
    /// issued before generations existed carry none: 0, every user's first.
    #[serde(default)]
    gen: u32,
    /// A random id, so that two logins of a user in the same second get two
    /// tokens, told apart in logs and by the rate limit's bookkeeping.
    #[serde(default)]
    jti: String,
}

/// What a valid token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The user it was issued to.
    pub user: UserId,
    /// Their role then (the server reads the current one).
    pub role: Role,
    /// Their session generation then (see `User::session_generation`).
    pub generation: u32,
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

    /// A token for `session`, valid from `now` (Unix seconds).
    pub fn issue(&self, session: Session, now: i64) -> Result<IssuedToken, String> {
        let claims = Claims {
            sub: session.user.to_string(),
            role: session.role,
            iss: ISSUER.to_owned(),
            iat: now,
            nbf: Some(now),
            exp: now + self.lifetime_seconds,
            gen: session.generation,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())?;
        Ok(IssuedToken {
            token,
            expires_in: self.lifetime_seconds,
        })
    }

    /// The session of a valid token of ours, inside its validity window:
    /// not before its `nbf`, not from its `exp` on.
    pub fn verify(&self, token: &str) -> Option<Session> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        Some(Session {
            user: data.claims.sub.parse().ok()?,
            role: data.claims.role,
            generation: data.claims.gen,
        })
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

    fn session(role: Role) -> Session {
        Session {
            user: UserId::generate(),
            role,
            generation: 3,
        }
    }

    #[test]
    fn two_logins_in_one_second_get_two_tokens() {
        let keys = TokenKeys::new(&[7; 32], 60);
        let session = session(Role::Issuer);
        let at = now();
        let first = keys.issue(session, at).unwrap().token;
        let second = keys.issue(session, at).unwrap().token;
        assert_ne!(first, second);
        assert_eq!(keys.verify(&first), keys.verify(&second));
    }

    #[test]
    fn issued_tokens_verify_and_tampering_fails() {
        let keys = TokenKeys::new(&[7; 32], 60);
        let session = session(Role::Issuer);
        let issued = keys.issue(session, now()).unwrap();
        assert_eq!(keys.verify(&issued.token), Some(session));
        let other = TokenKeys::new(&[8; 32], 60);
        assert_eq!(other.verify(&issued.token), None, "another secret");
        let mut tampered = issued.token.clone();
        tampered.push('x');
        assert_eq!(keys.verify(&tampered), None);
    }

    #[test]
    fn expired_tokens_fail() {
        let keys = TokenKeys::new(&[7; 32], 60);
        let issued = keys.issue(session(Role::Admin), now() - 3600).unwrap();
        assert_eq!(keys.verify(&issued.token), None);
    }

    #[test]
    fn tokens_not_yet_valid_fail() {
        let keys = TokenKeys::new(&[7; 32], 3600);
        let later = keys.issue(session(Role::Admin), now() + 600).unwrap();
        assert_eq!(keys.verify(&later.token), None, "nbf in the future");
        let current = keys.issue(session(Role::Admin), now()).unwrap();
        assert!(keys.verify(&current.token).is_some());
    }

    #[test]
    fn tokens_of_before_generations_and_nbf_are_of_the_first_generation() {
        let keys = TokenKeys::new(&[7; 32], 60);
        let user = UserId::generate();
        let claims = serde_json::json!({
            "sub": user.to_string(), "role": "issuer", "iss": ISSUER,
            "iat": now(), "exp": now() + 60,
        });
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert_eq!(
            keys.verify(&token).map(|s| (s.user, s.generation)),
            Some((user, 0))
        );
    }
}
