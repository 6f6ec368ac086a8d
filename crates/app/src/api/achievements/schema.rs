//! OpenAPI types of achievements (badge classes): the body one is created
//! with, in the OB 2.0 or the OB 3.0 style, and the document it is served as.

use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::api::schema::{EntityRef, ImageRef};

/// How a badge is earned: a criteria page URL, or an object with a
/// `narrative`, an `id` (URL), or both.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum CriteriaRef {
    /// The criteria page (OB 2.0 style).
    #[schema(format = "uri", example = "https://example.edu/badges/rust/criteria")]
    Url(String),
    /// A narrative and/or a page; at least one is required.
    Object(CriteriaObject),
}

/// Criteria as an object: at least one of `id` and `narrative`.
#[derive(ToSchema)]
pub struct CriteriaObject {
    /// The criteria page.
    #[schema(format = "uri")]
    pub id: Option<String>,
    /// The criteria in words (Markdown allowed).
    pub narrative: Option<String>,
}

/// An alignment to a node of an external framework.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlignmentRequest {
    /// Name of the aligned node.
    pub target_name: String,
    /// URL of the aligned node.
    #[schema(format = "uri")]
    pub target_url: String,
    /// Short description of the node.
    pub target_description: Option<String>,
    /// Framework the node belongs to.
    pub target_framework: Option<String>,
    /// Code of the node in its framework.
    pub target_code: Option<String>,
    /// OB 3.0: the kind of node (`ceasn:Competency`, `CFItem`, ... or
    /// `ext:<term>`).
    pub target_type: Option<String>,
}

/// Alignments: an array, or a single object.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum Alignments {
    /// Several alignments.
    Many(Vec<AlignmentRequest>),
    /// One alignment.
    One(AlignmentRequest),
}

/// An achievement (OB 2.0 badge class), to create or replace
/// (`POST /achievements`, `PUT /achievements/{id}`). OB 2.0 style
/// (`criteria` URL, `tags`, image URL) and OB 3.0 style (`criteria
/// {narrative}`, `tag`, `Image` object, `achievementType`) are both
/// accepted, and so is a published achievement sent back (its
/// `@context`, `type` and `id` are accepted and not kept). Any other member
/// is refused (400). On replace, the issuer cannot change.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(achievement_example()))]
pub struct AchievementRequest {
    /// The issuer that defines and awards it (must exist, else 400 naming `issuer`).
    pub issuer: EntityRef,
    /// Accepted instead of `issuer`.
    pub issuer_id: Option<EntityRef>,
    /// Display name.
    pub name: String,
    /// What the badge means.
    pub description: String,
    /// Badge image: a URL, a `data:` URI, or an OB 3.0 `Image` object
    /// (required: OB 2.0 badge classes must carry one).
    pub image: ImageRef,
    /// How it is earned.
    pub criteria: CriteriaRef,
    /// Free tags (OB 2.0 name).
    pub tags: Option<Vec<String>>,
    /// Free tags (OB 3.0 name), accepted instead of `tags`.
    pub tag: Option<Vec<String>>,
    /// Alignments to frameworks.
    pub alignment: Option<Alignments>,
    /// Accepted instead of `alignment`.
    pub alignments: Option<Alignments>,
    /// Version label of the definition.
    pub version: Option<String>,
    /// OB 3.0 achievement type: `Achievement`, `Badge`, `Certificate`,
    /// `Course`, `MicroCredential`, ... (the OB 3.0 vocabulary), or
    /// `ext:<term>`.
    #[schema(example = "Badge")]
    pub achievement_type: Option<String>,
    /// Credits the achievement is worth (a number).
    #[schema(value_type = Option<f64>)]
    pub credits_available: Option<Value>,
    /// Field of study.
    pub field_of_study: Option<String>,
    /// Code shown to people, e.g. `CS-101`.
    pub human_code: Option<String>,
    /// Language of its texts (BCP 47).
    pub in_language: Option<String>,
    /// `IdentifierEntry` objects.
    #[serde(rename = "otherIdentifier")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub other_identifier: Option<Value>,
    /// `Related` objects (`id`, `type: ["Related"]`, `inLanguage`, `version`); see also `/achievements/{id}/related`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub related: Option<Value>,
    /// `ResultDescription` objects (`id`, `name`, `resultType`, `allowedValue`, `rubricCriterionLevel` ...).
    #[serde(rename = "resultDescription")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub result_description: Option<Value>,
    /// Specialization.
    pub specialization: Option<String>,
    /// The issuer as published (`{id, type: ["Profile"]}`), accepted instead of `issuer`.
    #[schema(value_type = Option<Object>)]
    pub creator: Option<Value>,
    /// Whether its awards e-mail their recipient unless the award request
    /// says `notify` (default `false`). A server setting: not published in
    /// Open Badges documents.
    pub notify_recipients: Option<bool>,
}

/// A valid achievement body, OB 2.0 style (also checked by the tests).
pub fn achievement_example() -> Value {
    json!({
        "issuer": "urn:uuid:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11",
        "name": "Rust Basics",
        "description": "Wrote and tested a small Rust program.",
        "image": "https://example.edu/badges/rust.png",
        "criteria": "https://example.edu/badges/rust/criteria",
        "tags": ["rust", "programming"],
        "alignment": [{"targetName": "Programming", "targetUrl": "https://example.org/frameworks/programming"}],
        "version": "1"
    })
}

/// A valid achievement body, OB 3.0 style (also checked by the tests).
pub fn achievement_example_ob3() -> Value {
    json!({
        "issuer": {"id": "urn:uuid:0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11"},
        "name": "Rust Basics",
        "description": "Wrote and tested a small Rust program.",
        "image": {"id": "https://example.edu/badges/rust.png", "type": "Image"},
        "criteria": {"narrative": "Write a program with tests that pass."},
        "tag": ["rust"],
        "achievementType": "Badge"
    })
}

/// An achievement: an OB 3.0 `Achievement` (`application/ld+json`) on the
/// bare and `/v3` paths, with its issuer as `creator`; an OB 2.0
/// `BadgeClass` under `/v2`, with `issuer`.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "https://badges.example.org/v3/achievements/5f1c9a2e-7d3b-4c8e-a1f0-2b6d9e4c7a13",
    "type": ["Achievement"],
    "name": "Rust Basics",
    "description": "Wrote and tested a small Rust program.",
    "criteria": {"narrative": "Write a program with tests that pass."},
    "image": {"id": "https://example.edu/badges/rust.png", "type": "Image"},
    "achievementType": "Badge",
    "tag": ["rust"],
    "creator": {"id": "https://badges.example.org/v3/issuers/0b8b5f4e-1a5c-4d37-9b1e-3f0a6c7d2e11", "type": ["Profile"]}
}))]
pub struct AchievementDocument(pub Value);

/// A related achievement, as listed in an achievement's OB 3.0 `related`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "https://badges.example.org/v3/achievements/5f1c9a2e-7d3b-4c8e-a1f0-2b6d9e4c7a13",
    "type": ["Related"], "inLanguage": "de", "version": "2"}))]
pub struct RelatedEntry {
    /// The related achievement: one of this server's by its OB 3.0 URL, or
    /// the IRI it was related by.
    #[schema(format = "uri")]
    pub id: String,
    /// Always `["Related"]`.
    #[serde(rename = "type")]
    pub kind: Vec<String>,
    /// Its language (BCP 47, e.g. `en`, `de-CH`).
    pub in_language: Option<String>,
    /// Its version.
    pub version: Option<String>,
}

/// Relates an achievement: `id` (or the previous server's
/// `relatedAchievementId`) is required.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "urn:uuid:5f1c9a2e-7d3b-4c8e-a1f0-2b6d9e4c7a13", "inLanguage": "de"}))]
pub struct RelatedRequest {
    /// One of this server's achievements (UUID, `urn:uuid:`, its URL) or
    /// any other IRI.
    pub id: Option<String>,
    /// Accepted instead of `id`.
    pub related_achievement_id: Option<String>,
    /// Its language (BCP 47).
    pub in_language: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// `Related` or `["Related"]`, when given.
    #[serde(rename = "type")]
    pub kind: Option<Value>,
}

/// Filter of `GET /achievements`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AchievementFilter {
    /// Only this issuer's achievements: its id URL, `urn:uuid:<uuid>` or
    /// the bare UUID. Also accepted as `issuerId`.
    pub issuer: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::achievements::requests::badge_class_draft;
    use crate::requests::tests::urls;

    #[test]
    fn every_example_is_accepted_by_the_reader() {
        badge_class_draft(&achievement_example(), &urls(), None).expect("OB 2.0 achievement");
        badge_class_draft(&achievement_example_ob3(), &urls(), None).expect("OB 3.0 achievement");
    }
}
