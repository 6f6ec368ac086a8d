//! The query parameters of the Service API, and its page sizes.

use super::imsx::ImsxError;

/// The largest page getCredentials answers.
pub const MAX_LIMIT: u32 = 100;
/// The page getCredentials answers without `limit`.
pub const DEFAULT_LIMIT: u32 = 50;

/// The query parameters of a Service API request; one given twice is a
/// 400 naming it.
pub struct Query(crate::oauth::common::Form);

impl Query {
    /// Parses a query string.
    pub fn parse(query: &str) -> Result<Self, ImsxError> {
        crate::oauth::common::Form::parse(query.as_bytes())
            .map(Self)
            .map_err(ImsxError::invalid_query)
    }

    /// The value of `name`, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }
}
