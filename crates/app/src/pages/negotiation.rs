//! Whether a request for a document wants the page or the JSON.
//!
//! A browser following a link sends `Accept: text/html,...,*/*;q=0.8`;
//! API clients and verifiers send a JSON media type, `*/*`, or nothing.
//! Only an explicit `text/html` (or XHTML) that the client prefers at
//! least as much as every JSON type it names gets the page: a wildcard
//! never does, so no API client is handed HTML by surprise.

use actix_web::http::header;
use actix_web::HttpRequest;

/// The media types that mean "a page", as browsers send them.
const HTML: &[&str] = &["text/html", "application/xhtml+xml"];

/// `?format=html` asks for the page whatever `Accept` says; any other
/// `format` is a JSON or token rendering.
pub(crate) fn wants_html(request: &HttpRequest) -> bool {
    let query = request.query_string();
    if let Some(format) = url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "format")
        .map(|(_, value)| value)
    {
        return format == "html";
    }
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(prefers_html)
}

/// One `type/subtype;q=...` of an `Accept` header, lowercased, with its
/// weight (1 when absent or unreadable).
fn ranges(accept: &str) -> impl Iterator<Item = (String, f32)> + '_ {
    accept.split(',').filter_map(|range| {
        let mut parts = range.split(';');
        let media = parts.next()?.trim().to_ascii_lowercase();
        if media.is_empty() {
            return None;
        }
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        Some((media, q))
    })
}

/// Whether `accept` names HTML with a positive weight no lower than that
/// of any JSON type it names.
pub(crate) fn prefers_html(accept: &str) -> bool {
    let mut html = 0.0_f32;
    let mut json = 0.0_f32;
    for (media, q) in ranges(accept) {
        if HTML.contains(&media.as_str()) {
            html = html.max(q);
        } else if media.ends_with("/json") || media.ends_with("+json") || media.ends_with("+jwt") {
            json = json.max(q);
        }
    }
    html > 0.0 && html >= json
}

#[cfg(test)]
mod tests {
    use super::prefers_html;

    #[test]
    fn browsers_get_pages_and_api_clients_get_json() {
        for browser in [
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "text/html",
            "application/xhtml+xml",
            "TEXT/HTML; charset=utf-8",
            "application/json;q=0.5, text/html",
        ] {
            assert!(prefers_html(browser), "{browser}");
        }
        for client in [
            "",
            "*/*",
            "application/json",
            "application/ld+json",
            "application/vc+ld+json, text/html;q=0.5",
            "text/html;q=0",
            "application/vc+jwt",
            "text/*",
        ] {
            assert!(!prefers_html(client), "{client}");
        }
    }
}
