//! A page request as SQL wants it, and a count as the port wants it.

use openbadges_domain::{DomainError, PageRequest};

/// `LIMIT` and `OFFSET` of a page. `PageRequest` bounds the offset by
/// `i64::MAX`, so the fallback is never taken.
pub fn limit_offset(page: PageRequest) -> (i64, i64) {
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    (i64::from(page.limit()), offset)
}

/// A `COUNT(*)` as a page's total; a negative count is a database
/// answering nonsense.
pub fn total(count: i64) -> Result<u64, DomainError> {
    u64::try_from(count).map_err(|_| {
        DomainError::Internal(format!("the database returned a negative count: {count}"))
    })
}
