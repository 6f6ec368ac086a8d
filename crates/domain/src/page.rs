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
/// the id, and a 4-byte SHA-256 check. The check catches a token that was
/// cut or altered by mistake; it is no secret, and need not be: a cursor is
/// only a position, and the list's filter and the caller's access rules
/// apply to whatever follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    created_at: crate::Timestamp,
    id: uuid::Uuid,
}

impl Cursor {
    const VERSION: u8 = 1;
    /// Version, microseconds, id, check.
    const LEN: usize = 1 + 8 + 16 + 4;
    const CHECK_LEN: usize = 4;

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

    /// The opaque token given to clients (URL-safe, no padding).
    pub fn encode(&self) -> String {
        use base64::Engine as _;
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
        let check = Self::check(&bytes);
        bytes.extend_from_slice(&check);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a token made by [`Cursor::encode`]. Anything else, altered or
    /// cut short, is a validation error naming the `cursor` field.
    pub fn decode(token: &str) -> Result<Self, crate::DomainError> {
        use base64::Engine as _;
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
        let (body, check) = bytes.split_at(Self::LEN - Self::CHECK_LEN);
        if Self::check(body) != check {
            return Err(invalid());
        }
        let micros = i64::from_be_bytes(body[1..9].try_into().map_err(|_| invalid())?);
        let id = uuid::Uuid::from_slice(&body[9..25]).map_err(|_| invalid())?;
        let created_at = chrono::DateTime::from_timestamp_micros(micros)
            .filter(|at| (1..=9999).contains(&chrono::Datelike::year(at)))
            .ok_or_else(invalid)?;
        Ok(Self::new(crate::Timestamp::from_datetime(created_at), id))
    }

    fn check(body: &[u8]) -> [u8; Self::CHECK_LEN] {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(body);
        let mut check = [0; Self::CHECK_LEN];
        check.copy_from_slice(&digest[..Self::CHECK_LEN]);
        check
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

    #[test]
    fn cursors_round_trip_as_url_safe_tokens() {
        let token = sample().encode();
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert_eq!(Cursor::decode(&token), Ok(sample()));
        let early = Cursor::new(
            crate::Timestamp::parse("1970-01-01T00:00:00Z").expect("fixture"),
            uuid::Uuid::nil(),
        );
        assert_eq!(Cursor::decode(&early.encode()), Ok(early));
    }

    #[test]
    fn altered_or_foreign_tokens_name_the_cursor() {
        let token = sample().encode();
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
            match Cursor::decode(bad) {
                Err(crate::DomainError::Validation(fields)) => {
                    assert_eq!(fields.len(), 1, "{bad}");
                    assert_eq!(fields[0].field, "cursor", "{bad}");
                }
                other => panic!("{bad:?}: expected a validation error, got {other:?}"),
            }
        }
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

    use super::Cursor;

    proptest! {
        /// Whatever a client sends, decoding answers; it never panics.
        #[test]
        fn decoding_any_text_never_panics(token in ".{0,64}") {
            let _ = Cursor::decode(&token);
        }

        /// Tokens shaped like ours (base64url of 29 bytes) decode only when
        /// the check matches.
        #[test]
        fn decoding_any_29_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 29)) {
            use base64::Engine as _;
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
            if let Ok(cursor) = Cursor::decode(&token) {
                prop_assert_eq!(cursor.encode(), token);
            }
        }
    }
}
