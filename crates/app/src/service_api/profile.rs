//! `GET` and `PUT /ims/ob/v3p0/profile`: getProfile and putProfile of the
//! learner the access token acts for.
//!
//! A learner who never stored a profile still has one: getProfile builds
//! it from the account (`id` `urn:uuid:<user id>`, `name` the username,
//! `email` when the account has one), so a client always receives a
//! Profile, never a 404. putProfile stores an OB 3.0 Profile as given
//! (checked: a JSON object whose `type` includes `Profile`, with an `id`
//! IRI and, when present, a string `name`, `email`, `url`, `phone`,
//! `description`, and a `@context` array) and answers it.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::documents::{OB3_CONTEXT, VC2_CONTEXT};
use openbadges_domain::oauth::Scope;
use openbadges_domain::{Iri, Timestamp};
use serde_json::{json, Value};

use super::imsx::ImsxError;
use crate::oauth::access::ServiceAccess;
use crate::state::AppState;

/// The largest profile accepted.
const MAX_PROFILE_BYTES: usize = 64 * 1024;

fn profile_response(text: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text)
}

/// `GET /ims/ob/v3p0/profile`: getProfile.
#[utoipa::path(
    get,
    path = "/ims/ob/v3p0/profile",
    tag = "service-api",
    operation_id = "getServiceProfile",
    summary = "OB 3.0 getProfile: the learner's profile",
    description = "OAuth 2.0 access token with the profile.readonly scope. The profile the learner (or a client) \
        stored, else one made from the account: id urn:uuid:<user id>, name, email.",
    responses(
        (status = 200, description = "The OB 3.0 Profile.", body = Object),
        (status = 401, description = "Imsx_StatusInfo: no valid access token.", body = Object),
        (status = 403, description = "Imsx_StatusInfo: the token lacks profile.readonly.", body = Object),
    ),
    security(("OAuth2ACG" = ["https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"]))
)]
pub async fn get_profile(
    access: ServiceAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ImsxError> {
    access.require(Scope::ProfileReadonly)?;
    if let Some(stored) = state.store.backpack().profile(access.user).await? {
        return Ok(profile_response(stored));
    }
    let user = state.store.users().get(access.user).await?;
    let mut profile = json!({
        "@context": [VC2_CONTEXT, OB3_CONTEXT],
        "id": format!("urn:uuid:{}", user.id),
        "type": ["Profile"],
        "name": user.username.as_str(),
    });
    if let Some(email) = &user.email {
        profile["email"] = json!(email.as_str());
    }
    Ok(profile_response(profile.to_string()))
}

/// The problem with a profile, if any.
fn profile_problem(profile: &Value) -> Option<String> {
    let Some(object) = profile.as_object() else {
        return Some("the body must be a Profile: a JSON object".to_owned());
    };
    let typed = match object.get("type") {
        Some(Value::String(t)) => t == "Profile",
        Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some("Profile")),
        _ => false,
    };
    if !typed {
        return Some("type must include Profile".to_owned());
    }
    match object.get("id").and_then(Value::as_str) {
        Some(id) if Iri::parse(id).is_ok() => {}
        _ => return Some("id is required and must be an IRI".to_owned()),
    }
    for field in ["name", "email", "url", "phone", "description"] {
        if object.get(field).is_some_and(|v| !v.is_string()) {
            return Some(format!("{field} must be a string"));
        }
    }
    if object.get("@context").is_some_and(|v| !v.is_array()) {
        return Some("@context must be an array".to_owned());
    }
    None
}

/// `PUT /ims/ob/v3p0/profile`: putProfile.
#[utoipa::path(
    put,
    path = "/ims/ob/v3p0/profile",
    tag = "service-api",
    operation_id = "putServiceProfile",
    summary = "OB 3.0 putProfile: replace the learner's profile",
    description = "OAuth 2.0 access token with the profile.update scope. An OB 3.0 Profile as application/json: \
        type includes Profile, id an IRI. Answers the profile as stored.",
    request_body(content = Object, description = "The OB 3.0 Profile."),
    responses(
        (status = 200, description = "The profile as stored.", body = Object),
        (status = 400, description = "Imsx_StatusInfo, invalid_data naming the field.", body = Object),
        (status = 401, description = "Imsx_StatusInfo: no valid access token.", body = Object),
        (status = 403, description = "Imsx_StatusInfo: the token lacks profile.update.", body = Object),
        (status = 415, description = "Imsx_StatusInfo: not application/json.", body = Object),
    ),
    security(("OAuth2ACG" = ["https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update"]))
)]
pub async fn put_profile(
    access: ServiceAccess,
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ImsxError> {
    access.require(Scope::ProfileUpdate)?;
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "application/json" | "application/ld+json"
            )
        });
    if !json {
        return Err(ImsxError::unsupported_media_type(
            "send the profile as application/json",
        ));
    }
    if body.len() > MAX_PROFILE_BYTES {
        return Err(ImsxError::invalid_data(format!(
            "the profile is larger than {MAX_PROFILE_BYTES} bytes"
        )));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ImsxError::invalid_data("the body is not UTF-8 text"))?;
    let profile: Value = serde_json::from_str(text)
        .map_err(|e| ImsxError::invalid_data(format!("the body is not JSON: {e}")))?;
    if let Some(problem) = profile_problem(&profile) {
        return Err(ImsxError::invalid_data(problem));
    }
    state
        .store
        .backpack()
        .put_profile(access.user, text, Timestamp::now())
        .await?;
    Ok(profile_response(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_checked_naming_the_field() {
        let good =
            json!({"type": "Profile", "id": "https://example.edu/issuers/565049", "name": "A"});
        assert_eq!(profile_problem(&good), None);
        assert!(profile_problem(&json!([])).is_some());
        assert!(profile_problem(&json!({"type": "Issuer", "id": "urn:x:y"}))
            .is_some_and(|p| p.contains("type")));
        assert!(profile_problem(&json!({"type": ["Profile"]})).is_some_and(|p| p.contains("id")));
        assert!(
            profile_problem(&json!({"type": ["Profile"], "id": "urn:x:y", "name": 3}))
                .is_some_and(|p| p.contains("name"))
        );
    }
}
