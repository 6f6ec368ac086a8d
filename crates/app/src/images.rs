//! Badge images: our uploaded images and `data:` images read back, and
//! awards baked into them (or into the default badge). Shared by the
//! baked-badge route (`api::assets::baked`) and the e-mail sender (which
//! attaches the baked PNG), neither of which depends on the other.

use actix_web::web;
use base64::Engine;
use openbadges_baking::{Bake, Limits, MediaType, DEFAULT_PNG, DEFAULT_SVG};
use openbadges_domain::ports::Store;
use openbadges_domain::{AssetId, BadgeClass, DomainError, Iri};

/// What an image may be: at most `max_bytes` (`ASSETS_MAX_FILE_SIZE`),
/// and the default dimensions.
pub(crate) fn limits(max_bytes: usize) -> Limits {
    Limits {
        max_bytes,
        ..Limits::default()
    }
}

/// The asset named by `url` when it is one of ours under `base`.
pub(crate) fn asset_under(base: &str, url: &str) -> Option<AssetId> {
    url.strip_prefix(base)?
        .strip_prefix("/assets/")?
        .parse()
        .ok()
}

/// The bytes of a `data:` URI's image, if `iri` is one (base64 or
/// percent-encoded); `Err` names what is wrong with it.
pub(crate) fn data_uri_bytes(iri: &str) -> Option<Result<Vec<u8>, String>> {
    let rest = iri.strip_prefix("data:")?;
    let Some((meta, data)) = rest.split_once(',') else {
        return Some(Err("a data: URI without a comma".to_owned()));
    };
    if !meta.to_ascii_lowercase().starts_with("image/") {
        return Some(Err(format!(
            "a data: URI of {meta:?}, not of an image (image/png, image/jpeg, image/gif, image/webp, image/svg+xml)"
        )));
    }
    Some(if meta.ends_with(";base64") {
        base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| format!("a data: URI whose base64 does not decode ({e})"))
    } else {
        Ok(percent_encoding::percent_decode_str(data).collect())
    })
}

/// The default badge of `format`.
fn default_image(format: MediaType) -> &'static [u8] {
    if format == MediaType::Svg {
        DEFAULT_SVG
    } else {
        DEFAULT_PNG
    }
}

/// The achievement's image if we hold it and it is of `format`, else
/// `None` (the default is used). `base` is the server's base URL (our
/// assets are under it), `limits` what an image may be.
async fn source_image(
    store: &dyn Store,
    base: &str,
    limits: Limits,
    image: Option<&Iri>,
    format: MediaType,
) -> Result<Option<Vec<u8>>, DomainError> {
    let Some(image) = image else { return Ok(None) };
    if let Some(id) = asset_under(base, image.as_str()) {
        return match store.assets().get(id).await {
            Ok(asset) if asset.media_type().as_str() == format.as_str() => {
                Ok(Some(asset.into_bytes()))
            }
            Ok(_) | Err(DomainError::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        };
    }
    let Some(Ok(bytes)) = data_uri_bytes(image.as_str()) else {
        return Ok(None);
    };
    // A data: URI was checked when the achievement was stored, but maybe
    // by an older version: check it again before serving it.
    let checked =
        web::block(move || openbadges_baking::inspect(&bytes, &limits).map(|c| (c, bytes)))
            .await
            .map_err(|e| DomainError::Internal(format!("image check task failed: {e}")))?;
    Ok(match checked {
        Ok((checked, bytes)) if checked.media_type == format => Some(bytes),
        _ => None,
    })
}

/// What to bake, owned.
pub(crate) enum Payload {
    /// The OB 3.0 credential, as served.
    Ob3(String),
    /// The OB 2.0 hosted assertion: its URL, and its JSON (for SVG).
    Ob2 { url: String, assertion: String },
    /// The OB 2.0 signed assertion (compact JWS).
    Ob2Signed(String),
}

impl Payload {
    fn bake(&self) -> Bake<'_> {
        match self {
            Self::Ob3(credential) => Bake::Ob3 { credential },
            // "If a signature is being baked, no tag body is necessary."
            Self::Ob2Signed(jws) => Bake::Ob2 {
                verify: jws,
                assertion: None,
            },
            Self::Ob2 { url, assertion } => Bake::Ob2 {
                verify: url,
                assertion: Some(assertion),
            },
        }
    }
}

/// `payload` baked into `badge`'s image of `format` (or the default
/// badge's), off the async threads.
pub(crate) async fn bake_into(
    store: &dyn Store,
    base: &str,
    limits: Limits,
    badge: &BadgeClass,
    format: MediaType,
    payload: Payload,
) -> Result<Vec<u8>, DomainError> {
    let source = source_image(store, base, limits, badge.image.as_ref(), format).await?;
    web::block(move || {
        let baked = source.and_then(|image| openbadges_baking::bake(&image, payload.bake()).ok());
        match baked {
            Some(baked) => Ok(baked),
            // The achievement's image could not take the badge (it holds
            // one already, say): the default badge can.
            None => openbadges_baking::bake(default_image(format), payload.bake()),
        }
    })
    .await
    .map_err(|e| DomainError::Internal(format!("baking task failed: {e}")))?
    .map_err(|e| DomainError::Internal(format!("cannot bake the default badge: {e}")))
}

/// The OB 3.0 baked PNG of an award whose credential (as served) is
/// `credential`: what the award's e-mail attaches.
pub(crate) async fn ob3_png(
    store: &dyn Store,
    base: &str,
    limits: Limits,
    badge: &BadgeClass,
    credential: String,
) -> Result<Vec<u8>, DomainError> {
    let payload = Payload::Ob3(credential);
    bake_into(store, base, limits, badge, MediaType::Png, payload).await
}
