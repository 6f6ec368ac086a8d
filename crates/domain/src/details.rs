//! The OB 3.0 properties beyond the core columns: results and their
//! descriptions, credits, identifiers, related achievements, addresses,
//! person names, terms of use. Each class is a typed struct whose fields are
//! validated values, so what is stored and published was checked as the
//! specification types it; unknown members are refused
//! (`deny_unknown_fields`), never dropped. They are stored as one JSON
//! document per entity (the `details` column) and rendered as they are
//! serialized: every struct serializes to its OB 3.0 JSON shape, with empty
//! members left out.
//!
//! Strings are plain strings: the language maps the 1EdTech schemas also
//! allow are refused rather than half-kept.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::values::*;

fn invalid(message: impl Into<String>) -> InvalidValue {
    InvalidValue(message.into())
}

/// Deserializes a list given as an array or as one object (the OB 3.0
/// schemas allow both); it is always serialized as an array. A visitor
/// rather than an untagged enum, so that an item's own error (and its
/// path) comes through.
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Visitor<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of objects or one object")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|one| vec![one])
        }
    }

    deserializer.deserialize_any(Visitor(std::marker::PhantomData))
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `value`.
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                let check: fn(&str) -> Result<(), InvalidValue> = $check;
                check(&value)?;
                Ok(Self(value))
            }

            /// The value as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn is_lower(s: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase())
}

string_value!(
    /// A BCP 47 language code in the shape the OB 3.0 schema checks:
    /// `language[-Script][-REGION]`, e.g. `en`, `en-US`, `zh-Hant-TW`.
    LanguageTag,
    |value| {
        let shape = || invalid("must be a language code like en, en-US or zh-Hant-TW");
        let mut parts = value.split('-');
        if !parts.next().is_some_and(|lang| is_lower(lang, 2..=4)) {
            return Err(shape());
        }
        let mut rest: Vec<&str> = parts.collect();
        if let Some(script) = rest.first().copied() {
            let mut chars = script.chars();
            let is_script = script.len() == 4
                && chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_lowercase());
            if is_script {
                rest.remove(0);
            }
        }
        match rest.as_slice() {
            [] => Ok(()),
            [region]
                if (region.len() == 2 && region.chars().all(|c| c.is_ascii_uppercase()))
                    || (region.len() == 3 && region.chars().all(|c| c.is_ascii_digit())) =>
            {
                Ok(())
            }
            _ => Err(shape()),
        }
    }
);

string_value!(
    /// A calendar date, `YYYY-MM-DD` (OB 3.0 `Date`).
    Date,
    |value| {
        let ok = value.len() == 10
            && chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok();
        if ok {
            Ok(())
        } else {
            Err(invalid("must be a date like 2024-05-01"))
        }
    }
);

string_value!(
    /// An ISO 3166-1 alpha-2 country code: two capital letters.
    CountryCode,
    |value| {
        if value.len() == 2 && value.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(())
        } else {
            Err(invalid("must be an ISO 3166-1 alpha-2 country code like DE"))
        }
    }
);

string_value!(
    /// The `type` of a `credentialSchema`: a term the credential's contexts
    /// define (`1EdTechJsonSchemaValidator2019`, `JsonSchema`,
    /// `JsonSchemaCredential`) or an absolute IRI; anything else could not
    /// be signed.
    SchemaType,
    |value| {
        const TERMS: &[&str] = &[
            "1EdTechJsonSchemaValidator2019",
            "JsonSchema",
            "JsonSchemaCredential",
        ];
        if TERMS.contains(&value) || Iri::parse(value).is_ok() {
            Ok(())
        } else {
            Err(invalid(
                "must be 1EdTechJsonSchemaValidator2019, JsonSchema, JsonSchemaCredential or an absolute IRI",
            ))
        }
    }
);

/// An `ext:<term>` extension of an OB 3.0 vocabulary.
fn is_extension(value: &str) -> bool {
    value.strip_prefix("ext:").is_some_and(|term| {
        !term.is_empty()
            && term.len() <= 100
            && term
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '|'))
    })
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, extensible = $ext:expr, [$($term:literal),* $(,)?]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The terms of the vocabulary.
            pub const TERMS: &'static [&'static str] = &[$($term),*];

            /// Validates a term of the vocabulary (or `ext:<term>` where the
            /// vocabulary is extensible).
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                if Self::TERMS.contains(&value.as_str()) || ($ext && is_extension(&value)) {
                    Ok(Self(value))
                } else {
                    Err(invalid(format!(
                        "must be one of {}{}",
                        Self::TERMS.join(", "),
                        if $ext { ", or ext:<term>" } else { "" }
                    )))
                }
            }

            /// The term.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

vocabulary!(
    /// OB 3.0 `ResultStatusType`.
    ResultStatus,
    extensible = false,
    ["Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"]
);

vocabulary!(
    /// OB 3.0 `ResultType` (extensible with `ext:`).
    ResultType,
    extensible = true,
    [
        "GradePointAverage",
        "LetterGrade",
        "Percent",
        "PerformanceLevel",
        "PredictedScore",
        "RawScore",
        "Result",
        "RubricCriterion",
        "RubricCriterionLevel",
        "RubricScore",
        "ScaledScore",
        "Status",
    ]
);

vocabulary!(
    /// OB 3.0 `IdentifierTypeEnum` (extensible with `ext:`).
    IdentifierType,
    extensible = true,
    [
        "name",
        "sourcedId",
        "systemId",
        "productId",
        "userName",
        "accountId",
        "emailAddress",
        "nationalIdentityNumber",
        "isbn",
        "issn",
        "lisSourcedId",
        "oneRosterSourcedId",
        "sisSourcedId",
        "ltiContextId",
        "ltiDeploymentId",
        "ltiToolId",
        "ltiPlatformId",
        "ltiUserId",
        "identifier",
    ]
);

vocabulary!(
    /// OB 3.0 `AlignmentTargetType` (extensible with `ext:`).
    AlignmentTargetType,
    extensible = true,
    [
        "ceasn:Competency",
        "ceterms:Credential",
        "CFItem",
        "CFRubric",
        "CFRubricCriterion",
        "CFRubricCriterionLevel",
        "CTDL",
    ]
);

/// A JSON number (OB 3.0 `Float`), kept as given: serde_json numbers are
/// always finite, and keeping the number (not an `f64`) keeps `Eq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Decimal(serde_json::Number);

impl Decimal {
    /// The number.
    pub fn as_number(&self) -> &serde_json::Number {
        &self.0
    }

    /// Wraps a number.
    pub fn new(value: serde_json::Number) -> Self {
        Self(value)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Number(number) => Ok(Self(number)),
            _ => Err(serde::de::Error::custom("must be a number")),
        }
    }
}

/// The `type` member of a class, which the schemas require: always written;
/// on input it may be left out, or given as the class name or an array
/// holding only it.
macro_rules! class_marker {
    ($(#[$doc:meta])* $name:ident, $class:literal, array = $array:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if $array {
                    [$class].serialize(serializer)
                } else {
                    $class.serialize(serializer)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                match serde_json::Value::deserialize(deserializer)? {
                    serde_json::Value::String(s) if s == $class => Ok(Self),
                    serde_json::Value::Array(items)
                        if items.len() == 1 && items[0] == $class =>
                    {
                        Ok(Self)
                    }
                    _ => Err(serde::de::Error::custom(concat!(
                        "must be \"",
                        $class,
                        "\" or [\"",
                        $class,
                        "\"]"
                    ))),
                }
            }
        }
    };
}

class_marker!(
    /// `type: ["Result"]`.
    ResultClass, "Result", array = true
);
class_marker!(
    /// `type: ["ResultDescription"]`.
    ResultDescriptionClass, "ResultDescription", array = true
);
class_marker!(
    /// `type: ["RubricCriterionLevel"]`.
    RubricCriterionLevelClass, "RubricCriterionLevel", array = true
);
class_marker!(
    /// `type: "IdentifierEntry"` (a single IRI in the schema).
    IdentifierEntryClass, "IdentifierEntry", array = false
);
class_marker!(
    /// `type: ["Related"]`.
    RelatedClass, "Related", array = true
);
class_marker!(
    /// `type: ["Address"]`.
    AddressClass, "Address", array = true
);
class_marker!(
    /// `type: "GeoCoordinates"` (a single IRI in the schema).
    GeoCoordinatesClass, "GeoCoordinates", array = false
);
class_marker!(
    /// `type: ["Profile"]`.
    ProfileClass, "Profile", array = true
);
class_marker!(
    /// `type: "Image"` (a single IRI in the schema).
    ImageClass, "Image", array = false
);
class_marker!(
    /// `type: ["Alignment"]`.
    AlignmentClass, "Alignment", array = true
);

/// An image object (OB 3.0 `Image`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageObject {
    /// The image: a URL or a `data:` URI.
    pub id: Iri,
    /// Always `"Image"`.
    #[serde(rename = "type", default)]
    pub kind: ImageClass,
    /// Its caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<Text>,
}

/// An alignment inside a result, result description or rubric level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlignmentEntry {
    /// Always `["Alignment"]`.
    #[serde(rename = "type", default)]
    pub kind: AlignmentClass,
    /// Name of the aligned node.
    pub target_name: Name,
    /// URL of the aligned node.
    pub target_url: Iri,
    /// Short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_description: Option<Text>,
    /// Framework the node belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_framework: Option<Name>,
    /// Code of the node in its framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_code: Option<Label>,
    /// Kind of node, e.g. `ceasn:Competency` or `ext:...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<AlignmentTargetType>,
}

/// A result the recipient achieved (OB 3.0 `Result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AchievementResult {
    /// Always `["Result"]`.
    #[serde(rename = "type", default)]
    pub kind: ResultClass,
    /// The rubric level achieved (a `RubricCriterionLevel` id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achieved_level: Option<Iri>,
    /// Alignments of the result.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alignment: Vec<AlignmentEntry>,
    /// The `ResultDescription` (its id) this result is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_description: Option<Iri>,
    /// Completed, InProgress, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ResultStatus>,
    /// The value: a grade, a score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Name>,
}

/// A level of a rubric criterion (OB 3.0 `RubricCriterionLevel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RubricCriterionLevel {
    /// Its id, which a result's `achievedLevel` names.
    pub id: Iri,
    /// Always `["RubricCriterionLevel"]`.
    #[serde(rename = "type", default)]
    pub kind: RubricCriterionLevelClass,
    /// Alignments of the level.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alignment: Vec<AlignmentEntry>,
    /// What the level means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// The level's label, e.g. `Mastered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Name>,
    /// Its name.
    pub name: Name,
    /// Points for the level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Name>,
}

/// How results of an achievement are described (OB 3.0 `ResultDescription`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultDescription {
    /// Its id, which a result's `resultDescription` names.
    pub id: Iri,
    /// Always `["ResultDescription"]`.
    #[serde(rename = "type", default)]
    pub kind: ResultDescriptionClass,
    /// Alignments.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alignment: Vec<AlignmentEntry>,
    /// Allowed values, low to high.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_value: Vec<Name>,
    /// Its name.
    pub name: Name,
    /// The rubric level required to earn the achievement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_level: Option<Iri>,
    /// The value required to earn the achievement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_value: Option<Name>,
    /// What kind of result: LetterGrade, Percent, ...
    pub result_type: ResultType,
    /// The rubric's levels.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rubric_criterion_level: Vec<RubricCriterionLevel>,
    /// Highest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_max: Option<Name>,
    /// Lowest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_min: Option<Name>,
}

/// Another identifier of an entity (OB 3.0 `IdentifierEntry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentifierEntry {
    /// Always `"IdentifierEntry"`.
    #[serde(rename = "type", default)]
    pub kind: IdentifierEntryClass,
    /// The identifier.
    pub identifier: Name,
    /// What kind of identifier.
    pub identifier_type: IdentifierType,
}

/// A related achievement: another language or version (OB 3.0 `Related`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Related {
    /// The related achievement.
    pub id: Iri,
    /// Always `["Related"]`.
    #[serde(rename = "type", default)]
    pub kind: RelatedClass,
    /// Its language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_language: Option<LanguageTag>,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Label>,
}

/// A point on Earth (OB 3.0 `GeoCoordinates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeoCoordinates {
    /// Always `"GeoCoordinates"`.
    #[serde(rename = "type", default)]
    pub kind: GeoCoordinatesClass,
    /// Latitude.
    pub latitude: Decimal,
    /// Longitude.
    pub longitude: Decimal,
}

/// A postal address (OB 3.0 `Address`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    /// Always `["Address"]`.
    #[serde(rename = "type", default)]
    pub kind: AddressClass,
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_country: Option<Name>,
    /// Country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_country_code: Option<CountryCode>,
    /// Region (state, province).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_region: Option<Name>,
    /// Locality (city).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_locality: Option<Name>,
    /// Street and number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<Name>,
    /// PO box.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_office_box_number: Option<Label>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<Label>,
    /// Coordinates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoCoordinates>,
}

/// Terms of use of a credential (VC `termsOfUse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TermsOfUse {
    /// Where the terms are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Iri>,
    /// The kind of terms, as an absolute IRI: no context the credential
    /// names defines a vocabulary of terms of use, and a signature can only
    /// cover defined terms or IRIs.
    #[serde(rename = "type")]
    pub kind: Iri,
}

/// A schema the credential conforms to (VC `credentialSchema`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialSchema {
    /// The schema.
    pub id: Iri,
    /// How it validates, e.g. `1EdTechJsonSchemaValidator2019`.
    #[serde(rename = "type")]
    pub kind: SchemaType,
}

impl CredentialSchema {
    /// The 1EdTech JSON Schema of OB 3.0 achievement credentials, named
    /// when the client names none.
    pub fn ob3_default() -> Self {
        Self {
            id: Iri::parse(
                "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
            )
            .expect("a constant IRI"),
            kind: SchemaType::parse("1EdTechJsonSchemaValidator2019").expect("a constant term"),
        }
    }
}

/// A profile named from inside another (a `source`, a `parentOrg`): its id,
/// with the other Profile members optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileReference {
    /// The profile.
    pub id: Iri,
    /// Always `["Profile"]`.
    #[serde(rename = "type", default)]
    pub kind: ProfileClass,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// Its home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Iri>,
    /// Its e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// Its phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Label>,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// The OB 3.0 Achievement properties beyond the core columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AchievementDetails {
    /// Credits the achievement is worth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_available: Option<Decimal>,
    /// Field of study.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_of_study: Option<Name>,
    /// Code shown to people, e.g. `CS101`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_code: Option<Label>,
    /// Language of the achievement's texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_language: Option<LanguageTag>,
    /// Other identifiers.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub other_identifier: Vec<IdentifierEntry>,
    /// Related achievements (other languages, versions).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub related: Vec<Related>,
    /// How results are described.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub result_description: Vec<ResultDescription>,
    /// Specialization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialization: Option<Name>,
}

impl AchievementDetails {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// The OB 3.0 Profile properties beyond the core columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileDetails {
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Label>,
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Who is entitled to act for the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official: Option<Name>,
    /// The parent organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_org: Option<ProfileReference>,
    /// Other identifiers.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub other_identifier: Vec<IdentifierEntry>,
    /// Family name (of a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<Name>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<Name>,
    /// Additional (middle) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_name: Option<Name>,
    /// Patronymic name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patronymic_name: Option<Name>,
    /// Honorific prefix, e.g. `Dr.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<Name>,
    /// Honorific suffix, e.g. `PhD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<Name>,
    /// Family name prefix, e.g. `van`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name_prefix: Option<Name>,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Date>,
}

impl ProfileDetails {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// The OB 3.0 AchievementSubject properties beyond the core columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubjectDetails {
    /// Results achieved.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub result: Vec<AchievementResult>,
    /// Credits earned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_earned: Option<Decimal>,
    /// When the activity started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_start_date: Option<Timestamp>,
    /// When the activity ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_end_date: Option<Timestamp>,
    /// License number (for a license).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_number: Option<Label>,
    /// The role the recipient played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Name>,
    /// The organization that assessed the recipient, if not the issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ProfileReference>,
    /// The academic term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<Name>,
    /// An image of the recipient's achievement (the credential's own
    /// image is the award's `image` column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageObject>,
}

impl SubjectDetails {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// The OB 3.0 credential properties beyond the core columns (its image,
/// evidence and validUntil have columns of their own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialDetails {
    /// The credential's own name; the achievement's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// The credential's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// When the achievement was awarded (may differ from validFrom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awarded_date: Option<Timestamp>,
    /// Terms of use.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub terms_of_use: Vec<TermsOfUse>,
    /// Schemas the credential conforms to; the 1EdTech schema when empty.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub credential_schema: Vec<CredentialSchema>,
}

impl CredentialDetails {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// An award's details: those of its credential subject and those of the
/// credential itself, stored as `{"subject": ..., "credential": ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwardDetails {
    /// The credentialSubject's.
    #[serde(default, skip_serializing_if = "SubjectDetails::is_empty")]
    pub subject: SubjectDetails,
    /// The credential's.
    #[serde(default, skip_serializing_if = "CredentialDetails::is_empty")]
    pub credential: CredentialDetails,
}

impl AwardDetails {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Details held only when set, boxed: most awards have none, and a batch
/// holds ten thousand awards and their drafts at once, where details held
/// inline took 440 bytes of each even when empty. Reads as the details
/// (empty ones when none are held); writing through it holds them.
#[derive(Clone, Default)]
pub struct Sparse<T>(Option<Box<T>>);

/// Details types with a shared empty value, what [`Sparse`] reads as when
/// it holds none.
pub trait Empty: Default + PartialEq + 'static {
    /// The empty value.
    fn empty() -> &'static Self;
}

impl Empty for AwardDetails {
    fn empty() -> &'static Self {
        static EMPTY: std::sync::LazyLock<AwardDetails> =
            std::sync::LazyLock::new(AwardDetails::default);
        &EMPTY
    }
}

impl<T: Empty> From<T> for Sparse<T> {
    fn from(details: T) -> Self {
        Self((details != T::default()).then(|| Box::new(details)))
    }
}

impl<T: Empty> std::ops::Deref for Sparse<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.0 {
            Some(details) => details,
            None => T::empty(),
        }
    }
}

impl<T: Empty> std::ops::DerefMut for Sparse<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T: Empty> PartialEq for Sparse<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Empty + Eq> Eq for Sparse<T> {}

impl<T: Empty + fmt::Debug> fmt::Debug for Sparse<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: Empty + Serialize> Serialize for Sparse<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de, T: Empty + Deserialize<'de>> Deserialize<'de> for Sparse<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self::from)
    }
}

/// The details as stored: `None` when empty, so that rows without details
/// stay `NULL`.
pub fn encode_details<T: Serialize>(details: &T, empty: bool) -> Option<String> {
    (!empty).then(|| {
        serde_json::to_string(details).expect("details serialize: their map keys are strings")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_award_details_take_one_word_and_read_as_empty() {
        // The point of `Sparse`: an award without details carries a null
        // pointer, not 440 bytes.
        assert_eq!(
            std::mem::size_of::<Sparse<AwardDetails>>(),
            std::mem::size_of::<usize>()
        );
        let none = Sparse::<AwardDetails>::default();
        assert!(none.is_empty());
        assert_eq!(none, Sparse::from(AwardDetails::default()));
        assert!(Sparse::from(AwardDetails::default()).0.is_none());
        assert_eq!(serde_json::to_value(&none).unwrap(), json!({}));

        let mut set = Sparse::<AwardDetails>::default();
        set.credential.name = Some(Name::parse("Distinction").unwrap());
        assert!(set.0.is_some());
        assert_ne!(set, none);
        let text = serde_json::to_string(&set).unwrap();
        assert_eq!(text, r#"{"credential":{"name":"Distinction"}}"#);
        let read: Sparse<AwardDetails> = serde_json::from_str(&text).unwrap();
        assert_eq!(read, set);
        let empty: Sparse<AwardDetails> = serde_json::from_str("{}").unwrap();
        assert!(empty.0.is_none());
    }

    #[test]
    fn language_tags_dates_and_codes() {
        for good in ["en", "en-US", "zh-Hant-TW", "es-419", "deu"] {
            assert!(LanguageTag::parse(good).is_ok(), "{good}");
        }
        for bad in ["EN", "en_US", "en-us", "english-language", "", "en-US-x"] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad}");
        }
        assert!(Date::parse("2000-02-29").is_ok());
        assert!(Date::parse("2001-02-29").is_err());
        assert!(Date::parse("2001-2-3").is_err());
        assert!(CountryCode::parse("DE").is_ok());
        assert!(CountryCode::parse("de").is_err());
    }

    #[test]
    fn vocabularies_and_extensions() {
        assert!(ResultStatus::parse("Completed").is_ok());
        assert!(ResultStatus::parse("ext:Done").is_err());
        assert!(ResultType::parse("ext:Stars").is_ok());
        assert!(ResultType::parse("Stars").is_err());
        assert!(IdentifierType::parse("isbn").is_ok());
    }

    #[test]
    fn class_types_are_checked_and_always_written() {
        for given in [
            json!({"type": "Result", "status": "Completed"}),
            json!({"type": ["Result"], "status": "Completed"}),
            json!({"status": "Completed"}),
        ] {
            let result: AchievementResult = serde_json::from_value(given).unwrap();
            assert_eq!(
                serde_json::to_value(&result).unwrap(),
                json!({"type": ["Result"], "status": "Completed"})
            );
        }
        for bad in [
            json!({"type": ["Result", "Other"]}),
            json!({"type": "Other"}),
            json!({"type": "Result", "bogus": 1}),
            json!({"type": "Result", "status": "Done"}),
        ] {
            assert!(
                serde_json::from_value::<AchievementResult>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn numbers_stay_numbers() {
        let details: SubjectDetails =
            serde_json::from_value(json!({"creditsEarned": 2.5})).unwrap();
        assert_eq!(
            serde_json::to_value(&details).unwrap(),
            json!({"creditsEarned": 2.5})
        );
        assert!(serde_json::from_value::<SubjectDetails>(json!({"creditsEarned": "2.5"})).is_err());
    }

    #[test]
    fn empty_details_are_not_stored() {
        assert_eq!(encode_details(&AwardDetails::default(), true), None);
        let details = AwardDetails::default();
        assert_eq!(serde_json::to_value(&details).unwrap(), json!({}));
    }
}
