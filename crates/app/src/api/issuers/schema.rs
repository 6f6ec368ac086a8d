//! OpenAPI types of issuers: the body an issuer is created with and the
//! document it is served as.

use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::api::schema::ImageRef;

/// An issuer, to create or replace (`POST /issuers`, `PUT /issuers/{id}`).
/// The same body in either version, or a published profile sent back:
/// `@context`, `type` (`Profile` or `Issuer`) and `id` (this issuer's, on
/// replace) are accepted and not kept. Any other member is refused (400).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(issuer_example()))]
pub struct IssuerRequest {
    /// Display name.
    pub name: String,
    /// The issuer's home page: an http(s) URL.
    #[schema(format = "uri")]
    pub url: String,
    /// Contact e-mail address (required: OB 2.0 issuer profiles must carry one).
    #[schema(format = "email")]
    pub email: String,
    /// What the issuer is.
    pub description: Option<String>,
    /// Logo: a URL, a `data:` URI, or an OB 3.0 `Image` object.
    pub image: Option<ImageRef>,
    /// OB 3.0 `phone`.
    pub phone: Option<String>,
    /// OB 3.0 `Address` (`type: ["Address"]`, `streetAddress`, `postalCode`, `addressCountryCode`, `geo` ...).
    #[schema(value_type = Option<Object>)]
    pub address: Option<Value>,
    /// Who may act for the organization.
    pub official: Option<String>,
    /// The parent organization: a Profile with `id` and `type: ["Profile"]`.
    #[serde(rename = "parentOrg")]
    #[schema(value_type = Option<Object>)]
    pub parent_org: Option<Value>,
    /// Other identifiers: `IdentifierEntry` objects (`identifier`, `identifierType`).
    #[serde(rename = "otherIdentifier")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub other_identifier: Option<Value>,
    /// Person: family name.
    pub family_name: Option<String>,
    /// Person: given name.
    pub given_name: Option<String>,
    /// Person: additional name.
    pub additional_name: Option<String>,
    /// Person: patronymic name.
    pub patronymic_name: Option<String>,
    /// Person: honorific prefix.
    pub honorific_prefix: Option<String>,
    /// Person: honorific suffix.
    pub honorific_suffix: Option<String>,
    /// Person: family name prefix.
    pub family_name_prefix: Option<String>,
    /// Person: date of birth, `YYYY-MM-DD`.
    #[schema(format = "date")]
    pub date_of_birth: Option<String>,
}

/// A valid issuer body (also checked by the tests).
pub fn issuer_example() -> Value {
    json!({
        "name": "Example University",
        "url": "https://example.edu",
        "email": "badges@example.edu",
        "description": "Awards badges for its courses.",
        "image": "https://example.edu/logo.png"
    })
}

/// An issuer profile: an OB 3.0 `Profile` (`application/ld+json`) on the
/// bare and `/v3` paths; an OB 2.0 `Issuer` under `/v2`, which names the
/// issuer's RS256 keys that still verify (`publicKey`, `CryptographicKey`
/// URLs) and its `revocationList` once it has one. Its `id` is the URL it
/// is served at.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
    "type": ["Profile"],
    "name": "Example University",
    "url": "https://example.edu",
    "email": "badges@example.edu",
    "description": "Awards badges for its courses.",
    "image": {"id": "https://example.edu/logo.png", "type": "Image"}
}))]
pub struct IssuerDocument(pub Value);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_accepted_by_the_reader() {
        crate::api::issuers::requests::issuer_draft(
            &issuer_example(),
            &crate::requests::tests::urls(),
            None,
        )
        .expect("issuer example");
    }
}
