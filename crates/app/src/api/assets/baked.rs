//! Baked badges: `GET /credentials/{id}/image` (and `/assertions`, under
//! `/v2`, `/v3` and bare) answers the award's achievement image with the
//! award baked in, as PNG or SVG:
//!
//! - under `/v3` and bare, the OB 3.0 credential as served (the signed one
//!   exactly as issued) in an `iTXt` chunk `openbadgecredential` or an
//!   `<openbadges:credential>` element;
//! - under `/v2`, the hosted assertion's URL in an `iTXt` chunk
//!   `openbadges`, or an `<openbadges:assertion verify="URL">` element
//!   holding the assertion's JSON; with `?signed=true`, the OB 2.0 signed
//!   assertion (compact JWS) in the chunk or the `verify` attribute.
//!
//! The image baked into is the achievement's when it is one of our assets
//! or a `data:` URI of the asked format, else a default badge built into
//! the binary: remote images are never fetched (a server-side request to
//! any URL a client names is an SSRF). A revoked or suspended award's
//! image is served all the same: what a verifier reads out of it says so.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_baking::MediaType;
use openbadges_domain::documents::{ob2, Version};
use openbadges_domain::{AssertionId, DomainError};
use sha2::{Digest, Sha256};

use super::{image_response, limits};
use crate::api::documents::Freshness;
use crate::api::listing::ListQuery;
use crate::api::params::path_id;
use crate::error::ApiError;
use crate::images::{bake_into, Payload};
use crate::state::AppState;

/// Routes under `/credentials` (and `/assertions`), beside the
/// credentials' own: registered by `api`, so that the credentials module,
/// which this one reads from, does not depend on it back.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config.route("/{id}/image", web::get().to(image));
}

/// The format asked for: `?format=png|svg`, else the first of
/// `image/png` and `image/svg+xml` that `Accept` names, else PNG.
fn format(request: &HttpRequest) -> Result<MediaType, ApiError> {
    match ListQuery::of(request).get(&["format"]) {
        Some("png") => return Ok(MediaType::Png),
        Some("svg") => return Ok(MediaType::Svg),
        Some(_) => return Err(DomainError::invalid("format", "must be png or svg").into()),
        None => {}
    }
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let png = accept.find(MediaType::Png.as_str());
    let svg = accept.find(MediaType::Svg.as_str());
    Ok(match (png, svg) {
        (Some(p), Some(s)) if s < p => MediaType::Svg,
        (None, Some(_)) => MediaType::Svg,
        _ => MediaType::Png,
    })
}

/// `?signed=true`: under `/v2`, bake the OB 2.0 signed assertion (JWS)
/// rather than the hosted assertion's URL.
fn signed(request: &HttpRequest) -> Result<bool, ApiError> {
    match ListQuery::of(request).get(&["signed"]) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(DomainError::invalid("signed", "must be true or false").into()),
    }
}

#[utoipa::path(
    get,
    path = "/credentials/{id}/image",
    tag = "credentials",
    operation_id = "getBakedBadge",
    summary = "Get the award as a baked badge image (PNG or SVG)",
    description = "Public. The achievement's image with the award baked in, as the OB 3.0 \"Baked Badge\" and \
        OB 2.0 baking specifications say. Under `/v3` and bare: the OB 3.0 credential as served (signed, exactly \
        as issued) in an `iTXt` chunk `openbadgecredential` (PNG) or an `<openbadges:credential>` element (SVG). \
        Under `/v2`: the hosted assertion's URL in an `iTXt` chunk `openbadges` (PNG), or an \
        `<openbadges:assertion verify=\"<URL>\">` element holding the assertion's JSON (SVG). Also under \
        `/assertions`. The image is the achievement's when it is an uploaded image (`/assets/...`) or a \
        `data:` URI of the format asked; otherwise (none, another format, a remote URL, which is never \
        fetched) a default badge. A revoked or suspended award's image is still served: a verifier reading \
        it finds the status (`POST /verify` takes the image).",
    params(
        ("id" = String, Path, format = "uuid", description = "The credential's UUID."),
        ("format" = Option<String>, Query, description = "`png` or `svg`; wins over `Accept`."),
        ("signed" = Option<bool>, Query, description = "Under `/v2`: `true` bakes the OB 2.0 signed assertion \
            (the compact JWS of `?format=jws`, signed with the issuer's RSA key) instead of the hosted URL."),
        ("Accept" = Option<String>, Header, description = "`image/png` or `image/svg+xml` (PNG by default)."),
    ),
    responses(
        (status = 200, description = "The baked badge.",
            content((Vec<u8> = "image/png"), (Vec<u8> = "image/svg+xml")),
            headers(
                ("ETag" = String, description = "Strong validator of the image."),
                ("Cache-Control" = String, description = "`public, no-cache`: revalidated like the credential."),
                ("Vary" = String, description = "`Accept`."),
            )),
        (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "`format` is neither `png` nor `svg`, or `signed` neither `true` nor `false`.", body = crate::api::schema::ValidationError),
        (status = 404, description = "No such credential.", body = crate::api::schema::ErrorMessage),
        (status = 503, response = crate::api::responses::Unavailable),
    )
)]
pub(crate) async fn image(
    request: HttpRequest,
    state: web::Data<AppState>,
    version: web::Data<Version>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: AssertionId = path_id(&id, "credential")?;
    let format = format(&request)?;
    let reads = state.reads.as_ref();
    let award = reads.assertions().get(id).await?;
    let badge = reads.badge_classes().get(award.badge_class_id).await?;
    let payload = match **version {
        Version::V3 => Payload::Ob3(
            crate::api::credentials::render_one(&state, reads, Version::V3, &award).await?,
        ),
        Version::V2 if signed(&request)? => {
            Payload::Ob2Signed(crate::api::signed::assertion_jws_text(&state, &award).await?)
        }
        Version::V2 => Payload::Ob2 {
            url: state.urls.credential(Version::V2, award.id),
            assertion: ob2::assertion(&award, &state.urls).to_string(),
        },
    };
    let baked = bake_into(
        reads,
        state.urls.base(),
        limits(&state),
        &badge,
        format,
        payload,
    )
    .await?;
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&baked))[..32]);
    let extension = if format == MediaType::Svg {
        "svg"
    } else {
        "png"
    };
    Ok(image_response(
        &request,
        &etag,
        format.as_str(),
        Freshness::Revalidate.cache_control(),
        &[
            (header::VARY, "Accept".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"badge-{id}.{extension}\""),
            ),
        ],
        baked,
    ))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn asked(uri: &str, accept: Option<&str>) -> Result<MediaType, ApiError> {
        let mut request = TestRequest::get().uri(uri);
        if let Some(accept) = accept {
            request = request.insert_header((header::ACCEPT, accept));
        }
        format(&request.to_http_request())
    }

    #[test]
    fn the_format_comes_from_the_query_then_accept_then_png() {
        assert_eq!(asked("/x", None).ok(), Some(MediaType::Png));
        assert_eq!(asked("/x", Some("*/*")).ok(), Some(MediaType::Png));
        assert_eq!(
            asked("/x", Some("image/svg+xml")).ok(),
            Some(MediaType::Svg)
        );
        assert_eq!(
            asked("/x", Some("image/svg+xml, image/png;q=0.5")).ok(),
            Some(MediaType::Svg)
        );
        assert_eq!(
            asked("/x", Some("image/png, image/svg+xml")).ok(),
            Some(MediaType::Png)
        );
        assert_eq!(
            asked("/x?format=png", Some("image/svg+xml")).ok(),
            Some(MediaType::Png)
        );
        assert_eq!(asked("/x?format=svg", None).ok(), Some(MediaType::Svg));
        assert!(asked("/x?format=gif", None).is_err());
    }
}
