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
