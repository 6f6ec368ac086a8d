//! Validated value types. Each is built at the edge with `parse`, so code that
//! holds one never re-checks it. `restore` constructors are for adapters that
//! read values back which were validated when written.

use std::fmt;

use chrono::{DateTime, Datelike, SecondsFormat, SubsecRound, Timelike, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a value was refused; the caller names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn invalid(message: impl Into<String>) -> InvalidValue {
    InvalidValue(message.into())
}

fn check_text(value: &str, max_chars: usize, allow_newlines: bool) -> Result<(), InvalidValue> {
    if value.trim().is_empty() {
        return Err(invalid("must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(invalid(format!("must be at most {max_chars} characters")));
    }
    let bad_control = value
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')));
    if bad_control {
        return Err(invalid("must not contain control characters"));
    }
    Ok(())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $max:expr, $newlines:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Validates `value`: not blank, not too long, no stray control characters.
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                check_text(&value, $max, $newlines)?;
                Ok(Self(value))
            }

            /// The text as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A display name: one line, 1 to 255 characters.
    Name, 255, false
);
text_type!(
    /// Free text such as a description or narrative: up to 20,000 characters.
    Text, 20_000, true
);
text_type!(
    /// A short label such as a tag or version: one line, up to 100 characters.
    Label, 100, false
);

/// An e-mail address (checked for shape, not deliverability).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Validates the address: `local@domain.tld`, no spaces, at most 254 characters.
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        let shape = "must be an e-mail address like name@example.org";
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(shape));
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(|| invalid(shape))?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid(shape));
        }
        Ok(Self(value))
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> String {
        value.0
    }
}

/// An absolute IRI (http, https, urn, did, mailto, data ...), kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iri(String);

impl Iri {
    /// Longest accepted IRI, in bytes; `data:` image URIs make this generous.
    pub const MAX_LEN: usize = 2 * 1024 * 1024;

    /// Validates an absolute IRI.
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        if value.len() > Self::MAX_LEN {
            return Err(invalid("is too long"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must be an absolute IRI without spaces"));
        }
        url::Url::parse(&value).map_err(|_| invalid("must be an absolute IRI"))?;
        Ok(Self(value))
    }

    /// The IRI as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Iri {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Iri> for String {
    fn from(value: Iri) -> String {
        value.0
    }
}

/// An `http` or `https` URL with a host, kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpUrl(String);

impl HttpUrl {
    /// Validates an http(s) URL of at most 2,048 characters.
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        let shape = "must be an http or https URL";
        if value.len() > 2048 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(shape));
        }
        let url = url::Url::parse(&value).map_err(|_| invalid(shape))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(invalid(shape));
        }
        Ok(Self(value))
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HttpUrl {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<HttpUrl> for String {
    fn from(value: HttpUrl) -> String {
        value.0
    }
}

/// A UTC instant with microsecond precision: the precision both storage
/// backends keep, so every timestamp round-trips exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Now, truncated to microseconds.
    pub fn now() -> Self {
        Self(Utc::now().trunc_subsecs(6))
    }

    /// Parses RFC 3339 (`2024-05-01T12:00:00Z`, any offset); refuses more
    /// than microsecond precision rather than silently dropping digits.
    ///
    /// Also refused, though the parser takes them: a leap second (`:60`),
    /// which has no instant of its own to store (PostgreSQL reads it as the
    /// next minute, so what was signed would not read back as written), and
    /// an instant outside the years 0001 to 9999 in UTC (year 0000 is 1 BC,
    /// which XML Schema 1.0 dates, the type JSON-LD gives these fields, do
    /// not have; RFC 3339 and the text encodings hold four digits).
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let parsed = DateTime::parse_from_rfc3339(value)
            .map_err(|_| invalid("must be an RFC 3339 date-time like 2024-05-01T12:00:00Z"))?
            .with_timezone(&Utc);
        if parsed.nanosecond() >= 1_000_000_000 {
            return Err(invalid(
                "must not be a leap second: seconds go from 00 to 59",
            ));
        }
        if !(1..=9999).contains(&parsed.year()) {
            return Err(invalid("must be in the years 0001 to 9999 (UTC)"));
        }
        if parsed.trunc_subsecs(6) != parsed {
            return Err(invalid("must have at most microsecond precision"));
        }
        Ok(Self(parsed))
    }

    /// Wraps a stored instant, dropping anything finer than a microsecond.
    pub fn from_datetime(value: DateTime<Utc>) -> Self {
        Self(value.trunc_subsecs(6))
    }

    /// The instant.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// RFC 3339 in UTC with `Z`, fractional seconds only when present
    /// (3 or 6 digits).
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

impl TryFrom<String> for Timestamp {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Timestamp> for String {
    fn from(value: Timestamp) -> String {
        value.to_rfc3339()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// How a recipient is identified (OB 2.0 `recipient.type`, OB 3.0 `identityType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientKind {
    /// An e-mail address.
    Email,
    /// A URL the recipient controls.
    Url,
    /// A telephone number.
    Telephone,
    /// A DID or other IRI used as the credential subject's `id`.
    Did,
}

impl RecipientKind {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Url => "url",
            Self::Telephone => "telephone",
            Self::Did => "did",
        }
    }

    /// Parses a stored or client-given name.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match value {
            "email" | "emailAddress" => Ok(Self::Email),
            "url" => Ok(Self::Url),
            "telephone" | "phone" => Ok(Self::Telephone),
            "did" | "id" => Ok(Self::Did),
            _ => Err(invalid("must be one of email, url, telephone, did")),
        }
    }

    fn validate(&self, identity: &str) -> Result<(), InvalidValue> {
        match self {
            Self::Email => Email::parse(identity).map(drop),
            Self::Url => HttpUrl::parse(identity).map(drop),
            Self::Did => Iri::parse(identity).map(drop),
            Self::Telephone => {
                let digits = identity.strip_prefix('+').unwrap_or(identity);
                if !digits.is_empty()
                    && digits.len() <= 20
                    && digits.chars().all(|c| c.is_ascii_digit())
                {
                    Ok(())
                } else {
                    Err(invalid("must be a telephone number like +15551234567"))
                }
            }
        }
    }

    fn normalize(&self, identity: &str) -> String {
        match self {
            Self::Email => identity.to_lowercase(),
            _ => identity.to_owned(),
        }
    }
}

/// The identity an award is made to: in the clear, or as an OB 2.0
/// `sha256$<hex>` / `md5$<hex>` hash of identity + salt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecipientIdentity {
    /// The identity itself.
    Plain(String),
    /// A salted hash of the identity.
    Hashed {
        /// `sha256$<64 hex>` or `md5$<32 hex>`.
        hash: String,
        /// The salt appended to the identity before hashing, if any.
        salt: Option<String>,
    },
}

/// A salt is published in the clear: at most 255 characters, none of them
/// control characters (a NUL cannot even be stored in PostgreSQL text).
fn check_salt(salt: &str) -> Result<(), InvalidValue> {
    if salt.len() > 255 {
        return Err(invalid("salt must be at most 255 characters"));
    }
    if salt.chars().any(char::is_control) {
        return Err(invalid("salt must not contain control characters"));
    }
    Ok(())
}

/// A validated recipient and its lookup key.
///
/// The lookup key is `sha256$<hex>` of the normalized identity without salt
/// (or, for an identity that arrived already hashed, that hash): it lets
/// lists filter by recipient without storing salted hashes twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Recipient {
    kind: RecipientKind,
    identity: RecipientIdentity,
    lookup_key: String,
}

impl Recipient {
    /// A recipient stored in the clear.
    pub fn plain(kind: RecipientKind, identity: &str) -> Result<Self, InvalidValue> {
        kind.validate(identity)?;
        Ok(Self {
            kind,
            identity: RecipientIdentity::Plain(identity.to_owned()),
            lookup_key: Self::lookup_key_for(kind, identity),
        })
    }

    /// A recipient stored as `sha256$hex(identity + salt)`, as OB 2.0 hosted
    /// verification checks it. An e-mail is lower-cased first, so that the
    /// check passes however the recipient (or the issuer) capitalised it.
    pub fn hashed(kind: RecipientKind, identity: &str, salt: &str) -> Result<Self, InvalidValue> {
        kind.validate(identity)?;
        check_salt(salt)?;
        let digest = Sha256::digest(format!("{}{salt}", kind.normalize(identity)).as_bytes());
        Ok(Self {
            kind,
            identity: RecipientIdentity::Hashed {
                hash: format!("sha256${}", hex::encode(digest)),
                salt: (!salt.is_empty()).then(|| salt.to_owned()),
            },
            lookup_key: Self::lookup_key_for(kind, identity),
        })
    }

    /// A recipient whose identity the caller already hashed.
    pub fn prehashed(
        kind: RecipientKind,
        hash: &str,
        salt: Option<&str>,
    ) -> Result<Self, InvalidValue> {
        let hex_len = match hash.split_once('$') {
            Some(("sha256", hex)) => (hex.len() == 64).then_some(hex),
            Some(("md5", hex)) => (hex.len() == 32).then_some(hex),
            _ => None,
        };
        match hex_len {
            Some(hex) if hex.chars().all(|c| c.is_ascii_hexdigit()) => {}
            _ => {
                return Err(invalid(
                    "hashed identity must be sha256$<64 hex> or md5$<32 hex>",
                ))
            }
        }
        if let Some(salt) = salt {
            check_salt(salt)?;
        }
        let hash = hash.to_ascii_lowercase();
        Ok(Self {
            kind,
            lookup_key: hash.clone(),
            identity: RecipientIdentity::Hashed {
                hash,
                salt: salt.filter(|s| !s.is_empty()).map(str::to_owned),
            },
        })
    }

    /// Rebuilds a recipient from storage, trusting what was validated on write.
    pub fn restore(kind: RecipientKind, identity: RecipientIdentity, lookup_key: String) -> Self {
        Self {
            kind,
            identity,
            lookup_key,
        }
    }

    /// The lookup key that [`Recipient::lookup_key`] would hold for this
    /// identity; use it to filter lists by a recipient given in the clear.
    pub fn lookup_key_for(kind: RecipientKind, identity: &str) -> String {
        let digest = Sha256::digest(kind.normalize(identity).as_bytes());
        format!("sha256${}", hex::encode(digest))
    }

    /// How the recipient is identified.
    pub fn kind(&self) -> RecipientKind {
        self.kind
    }

    /// The identity, plain or hashed.
    pub fn identity(&self) -> &RecipientIdentity {
        &self.identity
    }

    /// The unsalted lookup key.
    pub fn lookup_key(&self) -> &str {
        &self.lookup_key
    }
}

/// A user's role: what they may do across the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages everything, including users.
    Admin,
    /// Manages the issuers they own and what those issue.
    Issuer,
    /// Reads only.
    Viewer,
    /// Holds credentials: their own backpack, e-mail addresses and profile
    /// (`/learner/*`, the OB 3.0 Service API), nothing of the admin API.
    Learner,
}

impl Role {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Issuer => "issuer",
            Self::Viewer => "viewer",
            Self::Learner => "learner",
        }
    }

    /// Parses a stored or client-given name.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match value {
            "admin" => Ok(Self::Admin),
            "issuer" => Ok(Self::Issuer),
            "viewer" => Ok(Self::Viewer),
            "learner" => Ok(Self::Learner),
            _ => Err(invalid("must be one of admin, issuer, viewer, learner")),
        }
    }
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Read protected resources (credential lists).
    Read,
    /// Create and change issuers, achievements and credentials.
    Write,
    /// Manage users and keys.
    Admin,
}

/// A username: 3 to 64 characters of letters, digits, `.`, `_`, `-`, `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Validates a username.
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        let ok = (3..=64).contains(&value.chars().count())
            && value
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if ok {
            Ok(Self(value))
        } else {
            Err(invalid(
                "must be 3 to 64 letters, digits or the characters . _ - @",
            ))
        }
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> String {
        value.0
    }
}

/// A password hash in PHC string format (for example argon2id). Never the
/// password itself; its `Debug` hides the value all the same.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC-format hash (`$algorithm$...`).
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        if value.starts_with('$') && value.len() <= 512 {
            Ok(Self(value))
        } else {
            Err(invalid("must be a PHC-format password hash"))
        }
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// The SHA-256 of an API key, hex encoded: API keys are long random strings,
/// so a fast hash is safe and lets the key be found by an index lookup.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(String);

impl ApiKeyHash {
    /// Hashes a key as presented by a client.
    pub fn of_key(key: &str) -> Self {
        Self(hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// Wraps a stored hash (64 hex digits).
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        if value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Self(value.to_ascii_lowercase()))
        } else {
            Err(invalid("must be 64 hex digits"))
        }
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyHash(<redacted>)")
    }
}

/// A signed OB 3.0 credential exactly as issued, kept as its JSON text: it
/// is served as it is and parsed only to be read (verification, VC-JWT).
/// Held as a tree instead, each credential of a list page took several
/// times its size in maps and strings while the page was written out.
#[derive(Debug, Clone)]
pub struct IssuedCredential(Box<serde_json::value::RawValue>);

impl IssuedCredential {
    /// The credential as signed.
    pub fn new(document: &serde_json::Value) -> Self {
        Self(
            serde_json::value::to_raw_value(document)
                .expect("a JSON value always serializes: its map keys are strings"),
        )
    }

    /// Restores a stored credential; refuses text that is not JSON.
    pub fn restore(json: String) -> Result<Self, serde_json::Error> {
        serde_json::value::RawValue::from_string(json).map(Self)
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The credential parsed, for code that reads its fields. The text was
    /// checked when it was made or restored; parsing it again fails only
    /// past serde_json's nesting limit.
    pub fn document(&self) -> Result<serde_json::Value, crate::DomainError> {
        serde_json::from_str(self.0.get()).map_err(|err| {
            crate::DomainError::Internal(format!("an issued credential does not parse: {err}"))
        })
    }
}

/// The same credential, however its text is laid out: PostgreSQL's `jsonb`
/// gives back keys in its own order.
impl PartialEq for IssuedCredential {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
            || matches!((self.document(), other.document()), (Ok(a), Ok(b)) if a == b)
    }
}

impl Eq for IssuedCredential {}

impl Serialize for IssuedCredential {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        assert!(Email::parse("ada@example.org").is_ok());
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@example.org",
            "ada@.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn http_url_requires_scheme_and_host() {
        assert!(HttpUrl::parse("https://example.org/badge").is_ok());
        for bad in [
            "ftp://example.org",
            "https://",
            "example.org",
            "javascript:alert(1)",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn timestamp_round_trips_and_refuses_nanoseconds() {
        for given in [
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00.123Z",
            "2024-05-01T12:00:00.123456Z",
        ] {
            assert_eq!(Timestamp::parse(given).unwrap().to_rfc3339(), given);
        }
        assert_eq!(
            Timestamp::parse("2024-05-01T14:00:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2024-05-01T12:00:00Z"
        );
        assert!(Timestamp::parse("2024-05-01T12:00:00.123456789Z").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn timestamp_refuses_leap_seconds_and_years_outside_0001_to_9999() {
        for (bad, why) in [
            ("2016-12-31T23:59:60Z", "leap second"),
            ("2016-12-31T23:59:60.5Z", "leap second"),
            ("2017-01-01T00:59:60+01:00", "leap second"),
            ("2024-05-01T12:00:60Z", "leap second"),
            ("0000-01-01T00:00:00Z", "year"),
            ("0000-06-15T12:00:00Z", "year"),
            ("0001-01-01T00:00:00+01:00", "year"),
            ("9999-12-31T23:59:59-01:00", "year"),
        ] {
            let error = Timestamp::parse(bad).expect_err(bad);
            assert!(error.0.contains(why), "{bad}: {error:?}");
        }
        for edge in [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999Z",
            "2016-12-31T23:59:59Z",
        ] {
            assert_eq!(Timestamp::parse(edge).expect(edge).to_rfc3339(), edge);
        }
    }

    #[test]
    fn hashed_recipient_matches_ob2_rule() {
        let r = Recipient::hashed(RecipientKind::Email, "Ada@Example.org", "pepper").unwrap();
        let expected = hex::encode(Sha256::digest(b"ada@example.orgpepper"));
        assert_eq!(
            r.identity(),
            &RecipientIdentity::Hashed {
                hash: format!("sha256${expected}"),
                salt: Some("pepper".into())
            }
        );
        assert_eq!(
            r.lookup_key(),
            Recipient::lookup_key_for(RecipientKind::Email, "ADA@example.org")
        );
    }

    #[test]
    fn text_refuses_blank_long_and_control() {
        assert!(Name::parse("  ").is_err());
        assert!(Name::parse("a\u{0}b").is_err());
        assert!(Name::parse("x".repeat(256)).is_err());
        assert!(Text::parse("line one\nline two").is_ok());
    }
}
