//! Paginated lists: `limit` and `offset` query parameters, `X-Total-Count`
//! and RFC 8288 `Link` headers (first, prev, next, last).

use actix_web::{HttpRequest, HttpResponse};
use openbadges_domain::{DomainError, FieldError, Page, PageRequest};
use serde_json::Value;

/// The query string of a list request, read once.
pub struct ListQuery {
    pairs: Vec<(String, String)>,
}

impl ListQuery {
    /// Parses the request's query string.
    pub fn of(request: &HttpRequest) -> Self {
        Self {
            pairs: url::form_urlencoded::parse(request.query_string().as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The first value of the first of `names` present.
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|name| {
            self.pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        })
    }

    /// `limit` (1..=500, default 50) and `offset` (default 0), each bad
    /// value named.
    pub fn page(&self) -> Result<PageRequest, DomainError> {
        let mut errors = Vec::new();
        let limit = match self.get(&["limit"]) {
            None => PageRequest::DEFAULT_LIMIT,
            Some(raw) => match raw.parse() {
                Ok(limit) if (1..=PageRequest::MAX_LIMIT).contains(&limit) => limit,
                _ => {
                    errors.push(FieldError::new(
                        "limit",
                        format!(
                            "must be a whole number between 1 and {}",
                            PageRequest::MAX_LIMIT
                        ),
                    ));
                    PageRequest::DEFAULT_LIMIT
                }
            },
        };
        let offset = match self.get(&["offset"]) {
            None => 0,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    "offset",
                    "must be a whole number, 0 or more",
                ));
                0
            }),
        };
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        PageRequest::new(limit, offset)
    }

    fn link(&self, base_url: &str, path: &str, limit: u32, offset: u64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.pairs {
            if key != "limit" && key != "offset" {
                query.append_pair(key, value);
            }
        }
        query.append_pair("limit", &limit.to_string());
        query.append_pair("offset", &offset.to_string());
        format!("{base_url}{path}?{}", query.finish())
    }
}

/// A JSON array of the page's documents with `X-Total-Count` and `Link`.
pub fn page_response<T>(
    request: &HttpRequest,
    base_url: &str,
    query: &ListQuery,
    page_request: PageRequest,
    page: &Page<T>,
    documents: Vec<Value>,
) -> HttpResponse {
    let limit = page_request.limit();
    let offset = page_request.offset();
    let step = u64::from(limit);
    let path = request.path();
    let mut links = vec![format!(
        "<{}>; rel=\"first\"",
        query.link(base_url, path, limit, 0)
    )];
    if offset > 0 {
        let previous = offset.saturating_sub(step);
        links.push(format!(
            "<{}>; rel=\"prev\"",
            query.link(base_url, path, limit, previous)
        ));
    }
    if offset.saturating_add(step) < page.total {
        links.push(format!(
            "<{}>; rel=\"next\"",
            query.link(base_url, path, limit, offset + step)
        ));
    }
    let last = page.total.saturating_sub(1) / step * step;
    links.push(format!(
        "<{}>; rel=\"last\"",
        query.link(base_url, path, limit, last)
    ));
    HttpResponse::Ok()
        .insert_header(("X-Total-Count", page.total.to_string()))
        .insert_header(("Link", links.join(", ")))
        .insert_header(("Cache-Control", "no-store"))
        .json(Value::Array(documents))
}
