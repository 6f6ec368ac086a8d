//! What handlers read from the path and the query string beside the list
//! parameters of [`super::listing`].

use actix_web::HttpRequest;
use openbadges_domain::DomainError;

use super::listing::ListQuery;
use crate::error::ApiError;

/// A path id that is not a UUID names nothing: 404, like an unknown UUID.
/// `urn:uuid:<uuid>` names the same as the bare UUID (ids given as our URLs
/// are rewritten before routing, by [`super::ids::normalize`]).
pub(crate) fn path_id<T: std::str::FromStr>(
    raw: &str,
    entity: &'static str,
) -> Result<T, ApiError> {
    let bare = raw.strip_prefix("urn:uuid:").unwrap_or(raw);
    bare.parse().map_err(|_| {
        ApiError(DomainError::NotFound {
            entity,
            id: raw.to_owned(),
        })
    })
}

/// `?cascade=true|false` of a delete (absent: refuse while awarded).
pub(crate) fn delete_mode(
    request: &HttpRequest,
) -> Result<openbadges_domain::ports::DeleteMode, ApiError> {
    use openbadges_domain::ports::DeleteMode;
    match ListQuery::of(request).get(&["cascade"]) {
        None | Some("false") => Ok(DeleteMode::Restrict),
        Some("true") => Ok(DeleteMode::Cascade),
        Some(_) => Err(DomainError::invalid("cascade", "must be true or false").into()),
    }
}
