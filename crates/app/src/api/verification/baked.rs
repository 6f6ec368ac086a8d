//! `POST /verify` with a baked badge image: the badge is read out of the
//! PNG or SVG and verified as what it is: an OB 3.0 credential (JSON) or
//! VC-JWT, an OB 2.0 signed assertion (JWS), or the URL of one of this
//! server's hosted assertions (its stored award is verified; no other URL
//! is fetched).

use actix_web::web;
use openbadges_baking::{is_compact_jws, ImageError, Unbaked, Version as BakedVersion};
use openbadges_domain::{AssertionId, DomainError};
use openbadges_verify::{Report, Verifier};
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

fn refused(message: impl Into<String>) -> ApiError {
    ApiError(DomainError::invalid("image", message))
}

/// The award one of our credential or assertion URLs names (any version,
/// or bare; `/credentials` or `/assertions`).
fn our_award(state: &AppState, url: &str) -> Option<AssertionId> {
    let path = url.strip_prefix(state.urls.base())?;
    let mut parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if matches!(parts.first(), Some(&"v2" | &"v3")) {
        parts.remove(0);
    }
    match parts.as_slice() {
        [segment, id] if matches!(*segment, "credentials" | "assertions") => id.parse().ok(),
        _ => None,
    }
}

/// Verifies what `image` has baked in.
pub(super) async fn verify_image(
    state: &AppState,
    verifier: &Verifier<'_>,
    image: &[u8],
) -> Result<Report, ApiError> {
    let bytes = image.to_vec();
    let unbaked = web::block(move || openbadges_baking::unbake(&bytes))
        .await
        .map_err(|e| DomainError::Internal(format!("unbaking task failed: {e}")))?
        .map_err(|e| match e {
            ImageError::UnknownType => {
                refused("is neither a PNG nor an SVG image (read from the bytes)")
            }
            other => refused(other.to_string()),
        })?;
    let Unbaked {
        version,
        text,
        verify,
    } = unbaked;
    let text = text.trim();
    if is_compact_jws(text) {
        return Ok(verifier.verify_token(text).await?);
    }
    if text.starts_with('{') {
        let document: Value = serde_json::from_str(text)
            .map_err(|e| refused(format!("the baked badge is not valid JSON ({e})")))?;
        if version == BakedVersion::Ob3 {
            return Ok(verifier.verify_json(&document).await?);
        }
        // An OB 2.0 assertion's JSON: hosted verification goes by its URL
        // (the SVG's `verify`, or its `id`), which must be ours.
        let url = verify
            .as_deref()
            .filter(|v| !v.trim_start().starts_with('{'))
            .or_else(|| document.get("id").and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        if is_compact_jws(&url) {
            return Ok(verifier.verify_token(&url).await?);
        }
        return verify_url(state, verifier, &url).await;
    }
    verify_url(state, verifier, text).await
}

async fn verify_url(
    state: &AppState,
    verifier: &Verifier<'_>,
    url: &str,
) -> Result<Report, ApiError> {
    let id = our_award(state, url).ok_or_else(|| {
        refused(format!(
            "the baked assertion URL {url:?} is not one of this server's (other servers' are not fetched)"
        ))
    })?;
    match verifier.verify_stored(id).await {
        Err(DomainError::NotFound { .. }) => Err(refused(format!(
            "the baked assertion URL {url:?} names no credential of this server"
        ))),
        other => Ok(other?),
    }
}
