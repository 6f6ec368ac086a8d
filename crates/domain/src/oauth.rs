//! OAuth 2.0 for the Open Badges 3.0 Service API: registered clients,
//! authorization codes, grants and their tokens.
//!
//! A learner authorizes a client (their wallet, another host, an issuer
//! pushing badges) for some of the four Open Badges scopes. The client
//! receives an authorization code bound to itself, its redirect URI, the
//! learner, the scopes and a PKCE `S256` challenge; redeeming the code
//! makes a [`Grant`] with an access token and, when `offline_access` was
//! granted, a refresh token. Everything secret (client secrets, codes,
//! tokens) is a 256-bit random value shown once and stored as its SHA-256
//! ([`SecretHash`]): a copy of the database authenticates nobody.
//!
//! The rules that need a transaction are ports of [`OAuthRepository`]:
//!
//! - a code is redeemed once: of two concurrent redemptions exactly one
//!   wins; a second use fails and revokes the grant issued from the code
//!   (RFC 6749 section 4.1.2, OAuth 2.0 Security BCP);
//! - refresh tokens rotate: using one retires it and issues a new pair;
//!   presenting a retired one again means it leaked, and revokes the grant.
//!
//! [`OAuthRepository`]: crate::ports::OAuthRepository

use std::collections::BTreeSet;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::ids::{GrantId, OAuthClientId, UserId};
use crate::values::{InvalidValue, Timestamp};

/// The URI prefix of the Open Badges 3.0 scopes.
const SCOPE_PREFIX: &str = "https://purl.imsglobal.org/spec/ob/v3p0/scope/";

/// One scope a client may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `.../credential.readonly`: getCredentials.
    CredentialReadonly,
    /// `.../credential.upsert`: upsertCredential.
    CredentialUpsert,
    /// `.../profile.readonly`: getProfile.
    ProfileReadonly,
    /// `.../profile.update`: putProfile.
    ProfileUpdate,
    /// `offline_access`: a refresh token is issued with the access token.
    OfflineAccess,
}

impl Scope {
    /// Every scope, in the order lists show them.
    pub const ALL: [Scope; 5] = [
        Self::CredentialReadonly,
        Self::CredentialUpsert,
        Self::ProfileReadonly,
        Self::ProfileUpdate,
        Self::OfflineAccess,
    ];

    /// The scope as it is sent: the full 1EdTech URI, or `offline_access`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CredentialReadonly => {
                "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
            }
            Self::CredentialUpsert => {
                "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"
            }
            Self::ProfileReadonly => {
                "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"
            }
            Self::ProfileUpdate => "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update",
            Self::OfflineAccess => "offline_access",
        }
    }

    /// What the scope allows, in words a learner reads on the consent page.
    pub fn description(&self) -> &'static str {
        match self {
            Self::CredentialReadonly => "Read the badges (credentials) in your backpack",
            Self::CredentialUpsert => "Add badges to your backpack and replace ones it holds",
            Self::ProfileReadonly => "Read your profile",
            Self::ProfileUpdate => "Change your profile",
            Self::OfflineAccess => "Keep this access while you are away (until you revoke it)",
        }
    }

    /// Parses one scope as sent.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == value)
            .ok_or_else(|| {
                InvalidValue(format!(
                    "unknown scope {value:?}: the scopes are {SCOPE_PREFIX}credential.readonly, \
                     credential.upsert, profile.readonly, profile.update (same prefix) and \
                     offline_access"
                ))
            })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, written as the space-separated list OAuth sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses a space-separated list; an unknown scope is refused
    /// (`invalid_scope`). An empty list is an empty set.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        value
            .split(' ')
            .filter(|part| !part.is_empty())
            .map(Scope::parse)
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    /// Every scope.
    pub fn all() -> Self {
        Self(Scope::ALL.into_iter().collect())
    }

    /// Whether it holds `scope`.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &Self) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Whether it holds no scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes in both.
    pub fn intersection(&self, other: &Self) -> Self {
        Self(self.0.intersection(&other.0).copied().collect())
    }

    /// The scopes, in order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
            first = false;
        }
        Ok(())
    }
}

/// The SHA-256 (hex) of a secret this server handed out: a client secret,
/// an authorization code, an access or a refresh token. The secret is only
/// ever held by its owner.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretHash(String);

impl SecretHash {
    /// The hash of a secret as presented.
    pub fn of(secret: &str) -> Self {
        Self(hex::encode(Sha256::digest(secret.as_bytes())))
    }

    /// Wraps a stored hash (64 hex digits).
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        if value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Self(value.to_ascii_lowercase()))
        } else {
            Err(InvalidValue("must be 64 hex digits".to_owned()))
        }
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares with the hash of a presented secret in time independent of
    /// where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        let other = Self::of(presented);
        self.0
            .bytes()
            .zip(other.0.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
            && self.0.len() == other.0.len()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

/// A client registered through RFC 7591 dynamic registration, with the
/// metadata the Open Badges specification requires (validated by the
/// HTTP layer: https URLs on one host, at least one redirect URI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// The `client_id`.
    pub id: OAuthClientId,
    /// SHA-256 of the `client_secret` (`client_secret_basic` is the only
    /// authentication method).
    pub secret_hash: SecretHash,
    /// `client_name`, shown on the consent page.
    pub name: String,
    /// `client_uri`.
    pub client_uri: String,
    /// `logo_uri`.
    pub logo_uri: String,
    /// `tos_uri`.
    pub tos_uri: String,
    /// `policy_uri`.
    pub policy_uri: String,
    /// `software_id`.
    pub software_id: String,
    /// `software_version`.
    pub software_version: String,
    /// `redirect_uris`: an authorization request must name one exactly.
    pub redirect_uris: Vec<String>,
    /// `contacts`.
    pub contacts: Vec<String>,
    /// The scopes it may ask for.
    pub scopes: ScopeSet,
    /// Whether it registered the `refresh_token` grant type (besides
    /// `authorization_code`, which every client has).
    pub refresh_grant: bool,
    /// `client_id_issued_at`.
    pub created_at: Timestamp,
}

/// An authorization code, as stored: bound to the client, the redirect
/// URI, the learner, the scopes and the PKCE challenge it was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// SHA-256 of the code.
    pub hash: SecretHash,
    /// The client it was issued to.
    pub client_id: OAuthClientId,
    /// The learner who authorized.
    pub user_id: UserId,
    /// The `redirect_uri` of the request; the token request must repeat it.
    pub redirect_uri: String,
    /// The scopes granted.
    pub scopes: ScopeSet,
    /// The PKCE `code_challenge` (`S256`: base64url of the SHA-256 of the
    /// verifier, unpadded).
    pub code_challenge: String,
    /// The grant its redemption makes: known from the start, so that a
    /// second use can revoke what the first one issued.
    pub grant_id: GrantId,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
    /// When it was redeemed, if it was.
    pub redeemed_at: Option<Timestamp>,
}

impl AuthorizationCode {
    /// Whether `verifier` is the one the challenge was made from (RFC 7636
    /// `S256`).
    pub fn verifies(&self, verifier: &str) -> bool {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        computed.len() == self.code_challenge.len()
            && computed
                .bytes()
                .zip(self.code_challenge.bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

/// One authorization of a client by a learner: the tokens issued from one
/// code and their refreshes. Revoking it ends every one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Its id (listed to the learner, who revokes it by it).
    pub id: GrantId,
    /// The client.
    pub client_id: OAuthClientId,
    /// The learner.
    pub user_id: UserId,
    /// The scopes granted.
    pub scopes: ScopeSet,
    /// When the code was redeemed.
    pub created_at: Timestamp,
    /// When a token of it was last used (at most once a minute is recorded).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked: by the learner, by revoking its refresh token,
    /// or because a code or refresh token of it was used twice.
    pub revoked_at: Option<Timestamp>,
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Sent as `Authorization: Bearer` to the Service API.
    Access,
    /// Exchanged at the token endpoint for a new pair.
    Refresh,
}

impl TokenKind {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match value {
            "access" => Ok(Self::Access),
            "refresh" => Ok(Self::Refresh),
            _ => Err(InvalidValue("must be access or refresh".to_owned())),
        }
    }
}

/// An access or refresh token, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthToken {
    /// SHA-256 of the token.
    pub hash: SecretHash,
    /// The grant it was issued under.
    pub grant_id: GrantId,
    /// Access or refresh.
    pub kind: TokenKind,
    /// What it allows: at most the grant's scopes.
    pub scopes: ScopeSet,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// For a refresh token: when it was exchanged (it works once).
    pub used_at: Option<Timestamp>,
    /// When it was revoked on its own (RFC 7009).
    pub revoked_at: Option<Timestamp>,
}

impl OAuthToken {
    /// Whether it may be used at `now` under `grant` (its own): not expired,
    /// not revoked, not exchanged already, its grant not revoked.
    pub fn is_live(&self, grant: &Grant, now: Timestamp) -> bool {
        self.grant_id == grant.id
            && grant.revoked_at.is_none()
            && self.revoked_at.is_none()
            && self.used_at.is_none()
            && now < self.expires_at
    }
}

/// The tokens a redemption or a refresh issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The access token.
    pub access: OAuthToken,
    /// The refresh token, when `offline_access` was granted and the client
    /// registered the `refresh_token` grant.
    pub refresh: Option<OAuthToken>,
}

/// How redeeming a code went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// First use: the grant and its tokens are stored.
    Issued,
    /// The code was redeemed before: nothing is issued, and the grant the
    /// first use made is revoked.
    AlreadyUsed,
}

/// How exchanging a refresh token went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token is retired and the new pair stored.
    Rotated,
    /// The token was exchanged before: it leaked or the client misbehaves;
    /// the whole grant is revoked.
    Reused,
    /// The token or its grant was revoked: nothing changes.
    Revoked,
}

/// A grant as the learner sees it in their list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantSummary {
    /// The grant.
    pub grant: Grant,
    /// The client's `client_name`.
    pub client_name: String,
    /// The client's `client_uri`.
    pub client_uri: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sets_parse_print_and_refuse_unknown_scopes() {
        let text =
            "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly  offline_access";
        let set = ScopeSet::parse(text).unwrap();
        assert!(set.contains(Scope::CredentialReadonly));
        assert!(set.contains(Scope::OfflineAccess));
        assert!(!set.contains(Scope::ProfileUpdate));
        assert_eq!(
            set.to_string(),
            "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly offline_access"
        );
        assert!(ScopeSet::parse("openid").is_err());
        assert!(ScopeSet::parse("").unwrap().is_empty());
        assert!(set.is_subset(&ScopeSet::all()));
    }

    #[test]
    fn pkce_s256_accepts_only_its_verifier() {
        // RFC 7636 appendix B.
        let code = AuthorizationCode {
            hash: SecretHash::of("code"),
            client_id: OAuthClientId::generate(),
            user_id: UserId::generate(),
            redirect_uri: "https://client.example/cb".to_owned(),
            scopes: ScopeSet::all(),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
            grant_id: GrantId::generate(),
            created_at: Timestamp::now(),
            expires_at: Timestamp::now(),
            redeemed_at: None,
        };
        assert!(code.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!code.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"));
        assert!(!code.verifies(""));
    }

    #[test]
    fn secret_hashes_match_only_their_secret() {
        let hash = SecretHash::of("s3cret");
        assert!(hash.matches("s3cret"));
        assert!(!hash.matches("s3cret "));
        assert_eq!(format!("{hash:?}"), "SecretHash(<redacted>)");
    }
}
