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
            c.refuse_unknown(errors);
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
            a.class_type(&["Alignment", "AlignmentObject"], errors);
            let target_type = a.parse(&["targetType"], false, errors, |raw| {
                AlignmentTargetType::parse(raw).and_then(|_| Label::parse(raw))
            });
            let target_name = a.parse(&["targetName"], true, errors, Name::parse);
            let target_url = a.parse(&["targetUrl"], true, errors, Iri::parse);
            let target_description = a.parse(&["targetDescription"], false, errors, Text::parse);
            let target_framework = a.parse(&["targetFramework"], false, errors, Name::parse);
            let target_code = a.parse(&["targetCode"], false, errors, Label::parse);
            a.refuse_unknown(errors);
            Some(Alignment {
                target_name: target_name?,
                target_url: target_url?,
                target_description,
                target_framework,
                target_code,
                target_type,
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

/// The OB 3.0 Achievement members kept in the badge class's details.
pub(crate) const ACHIEVEMENT_DETAILS: &[&str] = &[
    "creditsAvailable",
    "fieldOfStudy",
    "humanCode",
    "inLanguage",
    "otherIdentifier",
    "related",
    "resultDescription",
    "specialization",
];

/// An achievement / badge class body: `name`, `description`, `criteria`,
/// `image`, and the issuer (`issuer`, `issuerId`, or OB 3.0 `creator`)
/// required; `tags`/`tag`, `alignment`, `version`, `achievementType` and
/// the OB 3.0 details (see [`ACHIEVEMENT_DETAILS`]). A published
/// achievement can be sent back: its `@context`, `type` and `id` (when it
/// is `target`'s, or ours on creation) are accepted and not kept. Any
/// other member is refused.
pub fn badge_class_draft(
    body: &Value,
    urls: &Urls,
    target: Option<uuid::Uuid>,
) -> Result<BadgeClassDraft, DomainError> {
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    b.class_type(&["Achievement", "BadgeClass"], &mut errors);
    b.own_id(Reference::Achievement, target, urls, &mut errors);
    if let Some((key, creator @ Value::Object(_))) = b.get(&["creator"]) {
        // The published `creator` is `{id, type: ["Profile"]}`: the issuer.
        if let Some(c) = Body::nested(creator, b.path(key), &mut errors) {
            c.class_type(&["Profile"], &mut errors);
            c.get(&["id"]);
            c.refuse_unknown(&mut errors);
        }
    }
    let issuer_id = b
        .iri_or_object(&["issuer", "issuerId", "creator"], true, &mut errors)
        .and_then(|(field, raw)| {
            urls.reference(raw, Reference::Issuer)
                .map_err(|e| errors.add(field, e.0))
                .ok()
        });
    // Several of the names given: they must name the same issuer, or one
    // of them would be dropped unread.
    let first = b
        .get(&["issuer", "issuerId", "creator"])
        .map(|(key, _)| key);
    for key in ["issuerId", "creator"] {
        if first == Some(key) {
            continue;
        }
        let Some((field, raw)) = b.iri_or_object(&[key], false, &mut errors) else {
            continue;
        };
        match (urls.reference(raw, Reference::Issuer), issuer_id) {
            (Ok(other), Some(first)) if other != first => {
                errors.add(field, "names another issuer than the one given first")
            }
            (Err(e), _) => errors.add(field, e.0),
            _ => {}
        }
    }
    let name = b.parse(&["name"], true, &mut errors, Name::parse);
    let description = b.parse(&["description"], true, &mut errors, Text::parse);
    // OB 2.0 requires a BadgeClass image.
    let image = b.image(true, &mut errors);
    let criteria = criteria(&b, &mut errors);
    let tags = tags(&b, &mut errors);
    let alignments = alignments(&b, &mut errors);
    let version = b.parse(&["version"], false, &mut errors, Label::parse);
    let achievement_type = b.parse(&["achievementType"], false, &mut errors, achievement_type);
    let details = b.members(ACHIEVEMENT_DETAILS, &mut errors);
    let notify_recipients = crate::mail::requests::notify_recipients(&b, &mut errors);
    b.refuse_endorsements("/achievements/{id}/endorsements", &mut errors);
    b.refuse_unknown(&mut errors);
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
            details,
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
        assert!(badge_class_draft(&ob2, &urls(), None).is_ok());
        let ob3 = json!({"issuer": {"id": issuer}, "name": "N", "description": "D", "image": {"id": "https://x.org/i.png", "type": "Image"},
                         "criteria": {"narrative": "Do it"}, "tag": ["a"], "achievementType": "Badge"});
        assert!(badge_class_draft(&ob3, &urls(), None).is_ok());
        let bad = json!({"issuer": issuer, "name": "N", "description": "D", "criteria": {}, "achievementType": "Trophy"});
        assert_eq!(
            fields(badge_class_draft(&bad, &urls(), None).unwrap_err()),
            ["image", "criteria", "achievementType"]
        );
    }

    #[test]
    fn issuer_and_creator_must_agree() {
        let issuer = Uuid::new_v4();
        let body = |creator: Uuid| {
            json!({"issuer": format!("urn:uuid:{issuer}"), "creator": {"id": format!("urn:uuid:{creator}"), "type": ["Profile"]},
                   "name": "N", "description": "D", "image": "https://x.org/i.png", "criteria": "https://x.org/c"})
        };
        assert!(badge_class_draft(&body(issuer), &urls(), None).is_ok());
        assert_eq!(
            fields(badge_class_draft(&body(Uuid::new_v4()), &urls(), None).unwrap_err()),
            ["creator.id"]
        );
    }

    #[test]
    fn badge_class_refuses_unknown_members_and_names_detail_paths() {
        let issuer = format!("urn:uuid:{}", Uuid::new_v4());
        let body = json!({"issuer": issuer, "name": "N", "description": "D", "image": "https://x.org/i.png",
                          "criteria": {"narrative": "n", "extra": 1}, "bogus": true,
                          "alignment": [{"targetName": "T", "targetUrl": "https://x.org/t"},
                                        {"targetName": "T", "targetUrl": "https://x.org/t", "foo": 1, "targetType": "Nope"}],
                          "creditsAvailable": "three", "inLanguage": "english",
                          "resultDescription": [{"id": "urn:x:1", "type": ["ResultDescription"], "name": "G", "resultType": "Stars"}],
                          "related": [{"type": ["Related"], "id": "not an iri"}]});
        let mut got = fields(badge_class_draft(&body, &urls(), None).unwrap_err());
        got.sort();
        assert_eq!(
            got,
            [
                "alignment[1].foo",
                "alignment[1].targetType",
                "bogus",
                "creditsAvailable",
                "criteria.extra",
                "inLanguage",
                "related[0].id",
                "resultDescription[0].resultType",
            ]
        );
    }
}
