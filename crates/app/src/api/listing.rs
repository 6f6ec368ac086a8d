//! Paginated lists: `limit` and `offset` query parameters, `X-Total-Count`
//! and RFC 8288 `Link` headers (first, prev, next, last); or, on the lists
//! that support it, `limit` and an opaque `cursor`, with no total and a
//! `next` link while more follow.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use openbadges_domain::{
    Cursor, CursorKey, CursorRequest, DomainError, FieldError, Page, PageRequest,
};
use serde::Serialize;

use super::documents::no_store;

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
        let limit = self.limit(&mut errors);
        let offset = self.offset(&mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        PageRequest::new(limit, offset)
    }

    /// Offset paging as [`ListQuery::page`], or cursor paging when the
    /// query has a `cursor` (empty for the first page). A cursor with an
    /// `offset` is refused: a cursor already says where the page starts.
    /// Only a cursor tagged with `key` is one this server gave.
    pub fn paging(&self, key: &CursorKey) -> Result<Paging, DomainError> {
        let Some(token) = self.get(&["cursor"]) else {
            return self.page().map(Paging::Offset);
        };
        let mut errors = Vec::new();
        let limit = self.limit(&mut errors);
        let after = if self.get(&["offset"]).is_some() {
            errors.push(FieldError::new(
                "cursor",
                "cannot be combined with offset: follow the `next` link of the previous page",
            ));
            None
        } else if token.is_empty() {
            None
        } else {
            match Cursor::decode(token, key) {
                Ok(cursor) => Some(cursor),
                Err(DomainError::Validation(bad)) => {
                    errors.extend(bad);
                    None
                }
                Err(other) => return Err(other),
            }
        };
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        CursorRequest::new(limit, after).map(Paging::Cursor)
    }

    fn limit(&self, errors: &mut Vec<FieldError>) -> u32 {
        match self.get(&["limit"]) {
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
        }
    }

    fn offset(&self, errors: &mut Vec<FieldError>) -> u64 {
        match self.get(&["offset"]) {
            None => 0,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    "offset",
                    "must be a whole number, 0 or more",
                ));
                0
            }),
        }
    }

    /// This list at `path` with the query's other parameters and `paging`
    /// in place of its own `limit`, `offset` and `cursor`.
    fn link_with(&self, base_url: &str, path: &str, paging: &[(&str, &str)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.pairs {
            if !matches!(key.as_str(), "limit" | "offset" | "cursor") {
                query.append_pair(key, value);
            }
        }
        for (key, value) in paging {
            query.append_pair(key, value);
        }
        format!("{base_url}{path}?{}", query.finish())
    }

    fn link(&self, base_url: &str, path: &str, limit: u32, offset: u64) -> String {
        self.link_with(
            base_url,
            path,
            &[
                ("limit", &limit.to_string()),
                ("offset", &offset.to_string()),
            ],
        )
    }
}

/// How a list request pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `limit` and `offset`: any page, with the total.
    Offset(PageRequest),
    /// `limit` and `cursor`: the page after a cursor, at the same cost
    /// however deep.
    Cursor(CursorRequest),
}

/// A JSON array of the page's documents with `X-Total-Count` and `Link`.
pub fn page_response<T>(
    request: &HttpRequest,
    base_url: &str,
    query: &ListQuery,
    page_request: PageRequest,
    page: &Page<T>,
    documents: impl Serialize,
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
    no_store(StatusCode::OK)
        .insert_header(("X-Total-Count", page.total.to_string()))
        .insert_header(("Link", links.join(", ")))
        .json(documents)
}

/// A JSON array of a cursor page's documents with `Link` (`first`, and
/// `next`, tagged with `key`, while more follow). No `X-Total-Count`:
/// counting is what cursor paging exists to avoid.
pub fn cursor_page_response(
    request: &HttpRequest,
    base_url: &str,
    query: &ListQuery,
    limit: u32,
    next: Option<(Cursor, &CursorKey)>,
    documents: impl Serialize,
) -> HttpResponse {
    let path = request.path();
    let limit = limit.to_string();
    let mut links = vec![format!(
        "<{}>; rel=\"first\"",
        query.link_with(base_url, path, &[("limit", &limit), ("cursor", "")])
    )];
    if let Some((next, key)) = next {
        links.push(format!(
            "<{}>; rel=\"next\"",
            query.link_with(
                base_url,
                path,
                &[("limit", &limit), ("cursor", &next.encode(key))]
            )
        ));
    }
    no_store(StatusCode::OK)
        .insert_header(("Link", links.join(", ")))
        .json(documents)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn key() -> CursorKey {
        CursorKey::derive(b"a server secret of at least 32 bytes")
    }

    fn paging(query: &str) -> Result<Paging, DomainError> {
        ListQuery::of(&TestRequest::with_uri(&format!("/credentials?{query}")).to_http_request())
            .paging(&key())
    }

    fn named(result: Result<Paging, DomainError>) -> Vec<String> {
        match result {
            Err(DomainError::Validation(fields)) => fields.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_cursor_switches_to_cursor_paging() {
        let cursor = Cursor::new(
            openbadges_domain::Timestamp::parse("2024-05-01T12:00:00Z").expect("fixture"),
            uuid::Uuid::new_v4(),
        );
        assert_eq!(
            paging("limit=7"),
            Ok(Paging::Offset(PageRequest::new(7, 0).expect("valid")))
        );
        assert_eq!(
            paging("cursor="),
            Ok(Paging::Cursor(
                CursorRequest::new(PageRequest::DEFAULT_LIMIT, None).expect("valid")
            ))
        );
        assert_eq!(
            paging(&format!("limit=3&cursor={}", cursor.encode(&key()))),
            Ok(Paging::Cursor(
                CursorRequest::new(3, Some(cursor)).expect("valid")
            ))
        );
    }

    #[test]
    fn bad_cursors_and_cursors_with_offsets_name_the_cursor() {
        assert_eq!(named(paging("cursor=garbage")), ["cursor"]);
        assert_eq!(named(paging("cursor=&offset=0")), ["cursor"]);
        assert_eq!(named(paging("cursor=x&limit=0")), ["limit", "cursor"]);
        let theirs = CursorKey::derive(b"another server secret, 32 bytes+");
        let cursor = Cursor::new(
            openbadges_domain::Timestamp::parse("2024-05-01T12:00:00Z").expect("fixture"),
            uuid::Uuid::new_v4(),
        );
        assert_eq!(
            named(paging(&format!("cursor={}", cursor.encode(&theirs)))),
            ["cursor"]
        );
    }
}
