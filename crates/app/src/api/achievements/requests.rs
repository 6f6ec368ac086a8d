//! The achievement reader: a request body in, a validated badge class
//! draft out, in the OB 2.0 or the OB 3.0 style.

use openbadges_domain::documents::Urls;
use openbadges_domain::service::BadgeClassDraft;
use openbadges_domain::*;
use serde_json::Value;

use crate::requests::{Body, Errors};
use openbadges_domain::documents::Reference;

/// The OB 3.0 `achievementType` vocabulary; `ext:` terms extend it.
const ACHIEVEMENT_TYPES: &[&str] = &[
    "Achievement",
    "ApprenticeshipCertificate",
    "Assessment",
    "Assignment",
    "AssociateDegree",
    "Award",
    "Badge",
    "BachelorDegree",
    "Certificate",
    "CertificateOfCompletion",
    "Certification",
    "CommunityService",
    "Competency",
    "Course",
    "CoCurricular",
    "Degree",
    "Diploma",
    "DoctoralDegree",
    "Fieldwork",
    "GeneralEducationDevelopment",
    "JourneymanCertificate",
    "LearningProgram",
    "License",
    "Membership",
    "ProfessionalDoctorate",
    "QualityAssuranceCredential",
    "MasterCertificate",
    "MasterDegree",
    "MicroCredential",
    "ResearchDoctorate",
    "SecondarySchoolDiploma",
];

fn criteria(b: &Body<'_>, errors: &mut Errors) -> Option<Criteria> {
    match b.get(&["criteria"]) {
        None => {
            errors.add(b.path("criteria"), "is required: a URL or {narrative, id}");
            None
        }
        Some((_, Value::String(url))) => match Iri::parse(url.as_str()) {
            Ok(url) => Criteria::new(Some(url), None).ok(),
            Err(e) => {
                errors.add(b.path("criteria"), e.0);
                None
            }
        },
        Some((_, value @ Value::Object(_))) => {
            let c = Body::nested(value, b.path("criteria"), errors)?;
            let id = c.parse(&["id"], false, errors, Iri::parse);
            let narrative = c.parse(&["narrative"], false, errors, Text::parse);
            Criteria::new(id, narrative)
                .map_err(|e| errors.add(b.path("criteria"), e.0))
                .ok()
        }
        Some(_) => {
            errors.add(b.path("criteria"), "must be a URL or an object");
            None
        }
    }
}

fn tags(b: &Body<'_>, errors: &mut Errors) -> Vec<Label> {
    match b.get(&["tags", "tag"]) {
        None => Vec::new(),
        Some((key, Value::Array(items))) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let field = format!("{}[{i}]", b.path(key));
                match item.as_str().map(Label::parse) {
                    Some(Ok(tag)) => Some(tag),
                    Some(Err(e)) => {
                        errors.add(field, e.0);
                        None
                    }
                    None => {
                        errors.add(field, "must be a string");
                        None
                    }
                }
            })
            .collect(),
        Some((key, _)) => {
            errors.add(b.path(key), "must be an array of strings");
            Vec::new()
        }
    }
}

fn alignments(b: &Body<'_>, errors: &mut Errors) -> Vec<Alignment> {
    b.list(&["alignment", "alignments"], errors)
        .into_iter()
        .filter_map(|(path, item)| {
            let a = Body::nested(item, path, errors)?;
            let target_name = a.parse(&["targetName"], true, errors, Name::parse);
            let target_url = a.parse(&["targetUrl"], true, errors, Iri::parse);
            let target_description = a.parse(&["targetDescription"], false, errors, Text::parse);
            let target_framework = a.parse(&["targetFramework"], false, errors, Name::parse);
            let target_code = a.parse(&["targetCode"], false, errors, Label::parse);
            Some(Alignment {
                target_name: target_name?,
                target_url: target_url?,
                target_description,
                target_framework,
                target_code,
            })
        })
        .collect()
}

fn achievement_type(raw: &str) -> Result<Label, InvalidValue> {
    let known = ACHIEVEMENT_TYPES.contains(&raw)
        || raw.strip_prefix("ext:").is_some_and(|term| {
            !term.is_empty()
                && term
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        });
    if known {
        Label::parse(raw)
    } else {
        Err(InvalidValue(
            "must be an OB 3.0 achievement type (Badge, Certificate, Course, ...) or ext:<term>"
                .to_owned(),
        ))
    }
}

/// An achievement / badge class body: `name`, `description`, `criteria`,
/// `issuer` required; `image`, `tags`/`tag`, `alignment`, `version`,
/// `achievementType`.
pub fn badge_class_draft(body: &Value, urls: &Urls) -> Result<BadgeClassDraft, DomainError> {
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    let issuer_id = b
        .iri_or_object(&["issuer", "issuerId"], true, &mut errors)
        .and_then(|(field, raw)| {
            urls.reference(raw, Reference::Issuer)
                .map_err(|e| errors.add(field, e.0))
                .ok()
        });
    let name = b.parse(&["name"], true, &mut errors, Name::parse);
    let description = b.parse(&["description"], true, &mut errors, Text::parse);
    // OB 2.0 requires a BadgeClass image.
    let image = b.image(true, &mut errors);
    let criteria = criteria(&b, &mut errors);
    let tags = tags(&b, &mut errors);
    let alignments = alignments(&b, &mut errors);
    let version = b.parse(&["version"], false, &mut errors, Label::parse);
    let achievement_type = b.parse(&["achievementType"], false, &mut errors, achievement_type);
    let notify_recipients = crate::mail::requests::notify_recipients(&b, &mut errors);
    errors.finish(|| {
        Some(BadgeClassDraft {
            issuer_id: issuer_id?.into(),
            name: name?,
            description: description?,
            image,
            criteria: criteria?,
            tags,
            alignments,
            version,
            achievement_type,
            notify_recipients,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::tests::{fields, urls};
    use serde_json::json;
    use uuid::Uuid;

    #[test]
    fn badge_class_accepts_both_styles() {
        let issuer = format!("urn:uuid:{}", Uuid::new_v4());
        let ob2 = json!({"issuer": issuer, "name": "N", "description": "D", "image": "https://x.org/i.png",
                         "criteria": "https://x.org/c", "tags": ["a"], "alignment": [{"targetName": "T", "targetUrl": "https://x.org/t"}]});
        assert!(badge_class_draft(&ob2, &urls()).is_ok());
        let ob3 = json!({"issuer": {"id": issuer}, "name": "N", "description": "D", "image": {"id": "https://x.org/i.png", "type": "Image"},
                         "criteria": {"narrative": "Do it"}, "tag": ["a"], "achievementType": "Badge"});
        assert!(badge_class_draft(&ob3, &urls()).is_ok());
        let bad = json!({"issuer": issuer, "name": "N", "description": "D", "criteria": {}, "achievementType": "Trophy"});
        assert_eq!(
            fields(badge_class_draft(&bad, &urls()).unwrap_err()),
            ["image", "criteria", "achievementType"]
        );
    }
}
