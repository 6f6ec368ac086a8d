//! Pagination: every list is bounded.

/// A validated page request: `limit` is within `1..=MAX_LIMIT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    offset: u64,
}

impl PageRequest {
    /// The largest page a caller may ask for.
    pub const MAX_LIMIT: u32 = 500;
    /// The page size when the caller does not say.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// Largest offset accepted; keeps `offset` within the `i64` both backends use.
    pub const MAX_OFFSET: u64 = i64::MAX as u64;

    /// A page of at most `limit` items after skipping `offset`.
    pub fn new(limit: u32, offset: u64) -> Result<Self, crate::DomainError> {
        let mut errors = Vec::new();
        if limit == 0 || limit > Self::MAX_LIMIT {
            errors.push(crate::FieldError::new(
                "limit",
                format!("must be between 1 and {}", Self::MAX_LIMIT),
            ));
        }
        if offset > Self::MAX_OFFSET {
            errors.push(crate::FieldError::new("offset", "is too large"));
        }
        if errors.is_empty() {
            Ok(Self { limit, offset })
        } else {
            Err(crate::DomainError::Validation(errors))
        }
    }

    /// Items per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Items skipped.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The total number of matching items when a page of `items` items
    /// answering this request tells it without a count: a page that is
    /// neither full nor past the end holds the last item. `None` when only
    /// counting can tell.
    pub fn total_from(&self, items: usize) -> Option<u64> {
        let items = u64::try_from(items).ok()?;
        let tells = items < u64::from(self.limit) && (items > 0 || self.offset == 0);
        tells.then(|| self.offset.saturating_add(items))
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// One page of results and the total number of matching items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items on this page, in the list's stable order.
    pub items: Vec<T>,
    /// How many items match the filter in all.
    pub total: u64,
}

/// A position in a list ordered by `(created_at, id)`: the sort key of the
/// last item of a page. The next page is every item after it, which both
/// backends find by seeking an index ending in `(created_at, id)`, so a page
/// costs the same however deep it is and however large the table.
///
/// Clients see it only as an opaque token ([`Cursor::encode`]): base64url of
/// a version byte, the creation time in microseconds since the Unix epoch,
/// the id, and a 16-byte HMAC-SHA256 tag under the server's [`CursorKey`].
/// Only the server can make a token it accepts: one altered, cut short or
/// made up (even with a recomputed checksum) is refused, so a client can
/// only follow positions the server handed out. The list's filter and the
/// caller's access rules still apply to whatever follows a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    created_at: crate::Timestamp,
    id: uuid::Uuid,
}

impl Cursor {
    /// 1 had an unkeyed check; its tokens are refused.
    const VERSION: u8 = 2;
    /// Version, microseconds, id.
    const BODY_LEN: usize = 1 + 8 + 16;
    /// 128 bits: forging one is guessing.
    const TAG_LEN: usize = 16;
    const LEN: usize = Self::BODY_LEN + Self::TAG_LEN;

    /// The position of the item created at `created_at` with `id`.
    pub fn new(created_at: crate::Timestamp, id: impl Into<uuid::Uuid>) -> Self {
        Self {
            created_at,
            id: id.into(),
        }
    }

    /// The creation time of the item at this position.
    pub fn created_at(&self) -> crate::Timestamp {
        self.created_at
    }

    /// The id of the item at this position.
    pub fn id(&self) -> uuid::Uuid {
        self.id
    }

    /// The opaque token given to clients (URL-safe, no padding), tagged
    /// with `key`.
    pub fn encode(&self, key: &CursorKey) -> String {
        use base64::Engine as _;
        use hmac::Mac as _;
        let mut bytes = Vec::with_capacity(Self::LEN);
        bytes.push(Self::VERSION);
        bytes.extend_from_slice(
            &self
                .created_at
                .as_datetime()
                .timestamp_micros()
                .to_be_bytes(),
        );
        bytes.extend_from_slice(self.id.as_bytes());
        let tag = key.mac(&bytes).finalize().into_bytes();
        bytes.extend_from_slice(&tag[..Self::TAG_LEN]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a token made by [`Cursor::encode`] with the same `key`.
    /// Anything else, altered, cut short or tagged with another key, is a
    /// validation error naming the `cursor` field.
    pub fn decode(token: &str, key: &CursorKey) -> Result<Self, crate::DomainError> {
        use base64::Engine as _;
        use hmac::Mac as _;
        let invalid = || crate::DomainError::invalid("cursor", "is not a cursor this server gave");
        // A longer token cannot be one of ours: refuse it before decoding.
        if token.len() > Self::LEN.div_ceil(3) * 4 {
            return Err(invalid());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| invalid())?;
        if bytes.len() != Self::LEN || bytes[0] != Self::VERSION {
            return Err(invalid());
        }
        let (body, tag) = bytes.split_at(Self::BODY_LEN);
        // In constant time: timing must not tell how much of a guess is right.
        key.mac(body)
            .verify_truncated_left(tag)
            .map_err(|_| invalid())?;
        let micros = i64::from_be_bytes(body[1..9].try_into().map_err(|_| invalid())?);
        let id = uuid::Uuid::from_slice(&body[9..25]).map_err(|_| invalid())?;
        let created_at = chrono::DateTime::from_timestamp_micros(micros)
            .filter(|at| (1..=9999).contains(&chrono::Datelike::year(at)))
            .ok_or_else(invalid)?;
        Ok(Self::new(crate::Timestamp::from_datetime(created_at), id))
    }
}

/// The key that tags cursors: derived from the server's secret, so every
/// instance sharing that secret accepts the others' cursors. Its `Debug`
/// shows no key material.
#[derive(Clone)]
pub struct CursorKey(HmacSha256);

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl CursorKey {
    /// Domain separation: the cursor key is not the secret itself, so a
    /// tag can never serve as anything else signed with that secret (login
    /// tokens), and vice versa.
    const LABEL: &'static [u8] = b"openbadges-server cursor key v1";

    /// The cursor key of the server whose secret is `secret`:
    /// HMAC-SHA256(secret, label).
    pub fn derive(secret: &[u8]) -> Self {
        use hmac::Mac as _;
        let keyed =
            |key: &[u8]| HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
        let mut kdf = keyed(secret);
        kdf.update(Self::LABEL);
        Self(keyed(&kdf.finalize().into_bytes()))
    }

    /// A MAC over `body`, ready to finalize or verify.
    fn mac(&self, body: &[u8]) -> HmacSha256 {
        use hmac::Mac as _;
        let mut mac = self.0.clone();
        mac.update(body);
        mac
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

/// A validated cursor page request: at most `limit` items (within
/// `1..=PageRequest::MAX_LIMIT`) after `after`, or from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorRequest {
    limit: u32,
    after: Option<Cursor>,
}

impl CursorRequest {
    /// At most `limit` items after `after` (from the first when `None`).
    pub fn new(limit: u32, after: Option<Cursor>) -> Result<Self, crate::DomainError> {
        if limit == 0 || limit > PageRequest::MAX_LIMIT {
            return Err(crate::DomainError::invalid(
                "limit",
                format!("must be between 1 and {}", PageRequest::MAX_LIMIT),
            ));
        }
        Ok(Self { limit, after })
    }

    /// Items per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The position the page starts after; `None` for the first page.
    pub fn after(&self) -> Option<Cursor> {
        self.after
    }
}

/// One page of a list walked by cursor: no total, only whether more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorPage<T> {
    /// The items on this page, in the list's order.
    pub items: Vec<T>,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cursor {
        Cursor::new(
            crate::Timestamp::parse("2024-05-01T12:00:00.123456Z").expect("fixture"),
            uuid::Uuid::parse_str("0f0e0d0c-0b0a-4908-8706-050403020100").expect("fixture"),
        )
    }

    fn key() -> CursorKey {
        CursorKey::derive(b"a server secret of at least 32 bytes")
    }

    fn assert_refused(token: &str, key: &CursorKey) {
        match Cursor::decode(token, key) {
            Err(crate::DomainError::Validation(fields)) => {
                assert_eq!(fields.len(), 1, "{token}");
                assert_eq!(fields[0].field, "cursor", "{token}");
            }
            other => panic!("{token:?}: expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn cursors_round_trip_as_url_safe_tokens() {
        let token = sample().encode(&key());
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert_eq!(Cursor::decode(&token, &key()), Ok(sample()));
        let early = Cursor::new(
            crate::Timestamp::parse("1970-01-01T00:00:00Z").expect("fixture"),
            uuid::Uuid::nil(),
        );
        assert_eq!(Cursor::decode(&early.encode(&key()), &key()), Ok(early));
    }

    #[test]
    fn altered_or_foreign_tokens_name_the_cursor() {
        let token = sample().encode(&key());
        let mut altered = token.clone().into_bytes();
        altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("ascii");
        let too_long = "A".repeat(10_000);
        for bad in [
            "",
            "garbage",
            "!!!!",
            altered.as_str(),
            &token[..token.len() - 1],
            &format!("{token}A"),
            too_long.as_str(),
            "MjAyNC0wNS0wMQ",
            "é",
        ] {
            assert_refused(bad, &key());
        }
    }

    /// What an attacker can build: the payload of a real token with
    /// another position and a recomputed unkeyed checksum (the check of
    /// version 1 was the first bytes of its SHA-256), or a token tagged
    /// with a key of their own.
    #[test]
    fn forged_cursors_and_cursors_of_another_key_are_refused() {
        use base64::Engine as _;
        use sha2::Digest as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let real = engine.decode(sample().encode(&key())).expect("base64url");
        let mut body = real[..Cursor::BODY_LEN].to_vec();
        body[8] ^= 1; // one microsecond later
        body[24] ^= 1; // another id
        for (version, check_len) in [(1, 4), (Cursor::VERSION, Cursor::TAG_LEN)] {
            body[0] = version;
            let mut forged = body.clone();
            forged.extend_from_slice(&sha2::Sha256::digest(&body)[..check_len]);
            assert_refused(&engine.encode(&forged), &key());
        }
        // The real tag over an altered payload.
        let mut moved = body.clone();
        moved.extend_from_slice(&real[Cursor::BODY_LEN..]);
        assert_refused(&engine.encode(&moved), &key());

        let theirs = CursorKey::derive(b"another server secret, 32 bytes+");
        assert_refused(&sample().encode(&theirs), &key());
        assert_refused(&sample().encode(&key()), &theirs);
    }

    #[test]
    fn the_cursor_key_is_derived_and_never_shown() {
        let secret = b"a server secret of at least 32 bytes";
        // The same secret, the same key: instances sharing it accept each
        // other's cursors.
        let token = sample().encode(&CursorKey::derive(secret));
        assert_eq!(
            Cursor::decode(&token, &CursorKey::derive(secret)),
            Ok(sample())
        );
        // The tag is not keyed with the secret itself.
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &token)
                .expect("base64url");
        let (body, tag) = bytes.split_at(Cursor::BODY_LEN);
        let mut direct = <HmacSha256 as hmac::Mac>::new_from_slice(secret).expect("any length");
        hmac::Mac::update(&mut direct, body);
        assert_ne!(
            &hmac::Mac::finalize(direct).into_bytes()[..Cursor::TAG_LEN],
            tag
        );
        assert_eq!(format!("{:?}", key()), "CursorKey(<redacted>)");
    }

    #[test]
    fn a_page_that_is_not_full_tells_the_total() {
        let page = |limit, offset| PageRequest::new(limit, offset).expect("valid");
        assert_eq!(page(10, 0).total_from(0), Some(0));
        assert_eq!(page(10, 0).total_from(3), Some(3));
        assert_eq!(page(10, 20).total_from(3), Some(23));
        assert_eq!(page(10, 20).total_from(10), None, "a full page");
        assert_eq!(page(10, 20).total_from(0), None, "past the end");
    }

    #[test]
    fn cursor_requests_bound_the_limit() {
        assert!(CursorRequest::new(0, None).is_err());
        assert!(CursorRequest::new(PageRequest::MAX_LIMIT + 1, None).is_err());
        let request = CursorRequest::new(3, Some(sample())).expect("valid");
        assert_eq!((request.limit(), request.after()), (3, Some(sample())));
    }
}

#[cfg(test)]
mod untrusted_tokens {
    use proptest::prelude::*;

    use super::{Cursor, CursorKey};

    proptest! {
        /// Whatever a client sends, decoding answers; it never panics.
        #[test]
        fn decoding_any_text_never_panics(token in ".{0,64}") {
            let _ = Cursor::decode(&token, &CursorKey::derive(b"secret"));
        }

        /// Tokens shaped like ours (base64url of 41 bytes) decode only when
        /// the tag matches.
        #[test]
        fn decoding_any_41_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 41)) {
            use base64::Engine as _;
            let key = CursorKey::derive(b"secret");
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
            if let Ok(cursor) = Cursor::decode(&token, &key) {
                prop_assert_eq!(cursor.encode(&key), token);
            }
        }
    }
}
