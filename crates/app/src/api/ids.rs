//! Ids in request paths, in every form the API hands them out.
//!
//! Clients of the previous server put an id back into a path exactly as
//! they got it. Ours are URLs (`https://host/v3/issuers/<uuid>`), which a
//! client may send raw (slashes and all: `/v3/issuers/https://host/v3/
//! issuers/<uuid>/achievements`), percent-encoded as one segment, as
//! `urn:uuid:<uuid>` or as the bare UUID; an issuer also by the `did:web`
//! its credentials name it by. [`normalize`] runs before routing
//! (like actix's `NormalizePath`) and rewrites the first three to the bare
//! UUID, so that every route and handler sees one form.
//!
//! Only references to this server (its `BASE_URL`) of the collection's own
//! kind are rewritten: a foreign URL, or an achievement URL in an issuer
//! path, is left as it came and answers 404 like any unknown id.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::uri::{PathAndQuery, Uri};
use actix_web::middleware::Next;
use actix_web::web;
use openbadges_domain::documents::{Reference, Urls};
use percent_encoding::percent_decode_str;

use crate::state::AppState;

/// The collection a path segment names, and the kind of id it takes.
fn collection(segment: &str) -> Option<Reference> {
    match segment {
        "issuers" => Some(Reference::Issuer),
        "achievements" | "badge-classes" => Some(Reference::Achievement),
        "credentials" | "assertions" => Some(Reference::Credential),
        "status-lists" => Some(Reference::StatusList),
        _ => None,
    }
}

/// Rewrites the path (without the query) so that an id given as one of
/// our URLs or as `urn:uuid:` becomes the bare UUID; `None` when there is
/// nothing to rewrite.
pub(crate) fn rewrite(path: &str, urls: &Urls) -> Option<String> {
    let rest = path.strip_prefix('/')?;
    let (version, rest) = match rest.split_once('/') {
        Some((v @ ("v2" | "v3"), rest)) => (Some(v), rest),
        _ => (None, rest),
    };
    let (segment, reference) = rest.split_once('/')?;
    let kind = collection(segment)?;
    let (uuid, suffix) = reference_in(reference, kind, urls)?;
    let prefix = version.map_or(String::new(), |v| format!("/{v}"));
    Some(format!("{prefix}/{segment}/{uuid}{suffix}"))
}

/// The UUID that `reference` (the path after the collection segment)
/// starts with, and what follows it (`""` or `/...`).
fn reference_in<'p>(
    reference: &'p str,
    kind: Reference,
    urls: &Urls,
) -> Option<(uuid::Uuid, &'p str)> {
    // A raw URL spans several segments: ours are `<base>[/v2|/v3]/<kind>/<uuid>`.
    if reference.starts_with("http://") || reference.starts_with("https://") {
        let after_base = reference.strip_prefix(urls.base())?;
        let parts: Vec<&str> = after_base.trim_start_matches('/').splitn(4, '/').collect();
        let taken = if matches!(parts.first(), Some(&("v2" | "v3"))) {
            3
        } else {
            2
        };
        if parts.len() < taken {
            return None;
        }
        let candidate = format!("{}/{}", urls.base(), parts[..taken].join("/"));
        if !reference.starts_with(&candidate) {
            return None;
        }
        let uuid = urls.reference(&candidate, kind).ok()?;
        return Some((uuid, &reference[candidate.len()..]));
    }
    let (first, suffix) = match reference.find('/') {
        Some(at) => reference.split_at(at),
        None => (reference, ""),
    };
    // One segment: the bare UUID (nothing to do), `urn:uuid:`, a URL
    // percent-encoded as one segment, or (for an issuer) the `did:web` an
    // OB 3.0 credential names it by, raw (its port is `%3A`-encoded
    // already) or percent-encoded.
    let decoded = percent_decode_str(first).decode_utf8().ok()?;
    if kind == Reference::Issuer {
        if let Some(issuer) = [first, decoded.as_ref()]
            .into_iter()
            .find_map(|did| urls.issuer_of_did(did))
        {
            return Some((issuer.as_uuid(), suffix));
        }
    }
    if !decoded.starts_with("urn:uuid:")
        && !decoded.starts_with("http://")
        && !decoded.starts_with("https://")
    {
        return None;
    }
    let uuid = urls.reference(&decoded, kind).ok()?;
    Some((uuid, suffix))
}

/// The middleware: rewrites the request's path before routing.
pub async fn normalize(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let rewritten = request
        .app_data::<web::Data<AppState>>()
        .and_then(|state| rewrite(request.path(), &state.urls));
    if let Some(path) = rewritten {
        let path_and_query = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        if let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) {
            let mut parts = request.uri().clone().into_parts();
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                request.match_info_mut().get_mut().update(&uri);
                request.head_mut().uri = uri;
            }
        }
    }
    next.call(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    fn urls() -> Urls {
        Urls::new("http://127.0.0.1:3000").unwrap()
    }

    fn rewritten(path: &str) -> Option<String> {
        rewrite(path, &urls())
    }

    #[test]
    fn every_form_of_our_id_becomes_the_uuid() {
        let want = format!("/v3/issuers/{ID}");
        for path in [
            format!("/v3/issuers/urn:uuid:{ID}"),
            format!("/v3/issuers/http://127.0.0.1:3000/v3/issuers/{ID}"),
            format!("/v3/issuers/http://127.0.0.1:3000/issuers/{ID}"),
            format!("/v3/issuers/http%3A%2F%2F127.0.0.1%3A3000%2Fv3%2Fissuers%2F{ID}"),
            format!("/v3/issuers/urn%3Auuid%3A{ID}"),
        ] {
            assert_eq!(rewritten(&path).as_deref(), Some(want.as_str()), "{path}");
        }
        assert_eq!(rewritten(&format!("/v3/issuers/{ID}")), None);
        let did = format!("did:web:127.0.0.1%3A3000:issuers:{ID}");
        for path in [
            format!("/v3/issuers/{did}"),
            format!(
                "/v3/issuers/{}",
                did.replace('%', "%25").replace(':', "%3A")
            ),
        ] {
            assert_eq!(rewritten(&path).as_deref(), Some(want.as_str()), "{path}");
        }
        assert_eq!(rewritten(&format!("/v3/achievements/{did}")), None);
    }

    #[test]
    fn the_suffix_and_the_prefix_stay() {
        assert_eq!(
            rewritten(&format!(
                "/issuers/http://127.0.0.1:3000/v2/issuers/{ID}/achievements"
            )),
            Some(format!("/issuers/{ID}/achievements"))
        );
        assert_eq!(
            rewritten(&format!(
                "/v2/assertions/http%3A%2F%2F127.0.0.1%3A3000%2Fv2%2Fcredentials%2F{ID}/verify"
            )),
            Some(format!("/v2/assertions/{ID}/verify"))
        );
        assert_eq!(
            rewritten(&format!(
                "/status-lists/http://127.0.0.1:3000/status-lists/{ID}/stats"
            )),
            Some(format!("/status-lists/{ID}/stats"))
        );
    }

    #[test]
    fn foreign_or_other_kinds_stay_as_they_came() {
        for path in [
            format!("/v3/issuers/https://elsewhere.example/v3/issuers/{ID}"),
            format!("/v3/issuers/http://127.0.0.1:3000/v3/achievements/{ID}"),
            format!("/v3/issuers/http%3A%2F%2F127.0.0.1%3A3000%2Fv3%2Fachievements%2F{ID}"),
            "/v3/issuers/http://127.0.0.1:3000/v3/issuers".to_owned(),
            "/v3/issuers/urn:uuid:nope".to_owned(),
            format!("/v3/users/urn:uuid:{ID}"),
            "/health".to_owned(),
        ] {
            assert_eq!(rewritten(&path), None, "{path}");
        }
    }
}
