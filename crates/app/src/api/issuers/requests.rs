//! The issuer reader: a request body in, a validated issuer draft out.

use openbadges_domain::documents::{Reference, Urls};
use openbadges_domain::service::IssuerDraft;
use openbadges_domain::*;
use serde_json::Value;
use uuid::Uuid;

use crate::requests::{Body, Errors};

/// The OB 3.0 Profile members kept in the issuer's details.
pub(crate) const PROFILE_DETAILS: &[&str] = &[
    "phone",
    "address",
    "official",
    "parentOrg",
    "otherIdentifier",
    "familyName",
    "givenName",
    "additionalName",
    "patronymicName",
    "honorificPrefix",
    "honorificSuffix",
    "familyNamePrefix",
    "dateOfBirth",
];

/// An issuer body: `name`, `url`, `email` required; `description`,
/// `image` and the OB 3.0 Profile details (see [`PROFILE_DETAILS`]).
/// A published profile can be sent back: its `@context`, `type` and `id`
/// (when it is `target`'s, or ours on creation) are accepted and not kept.
/// Any other member is refused.
pub fn issuer_draft(
    body: &Value,
    urls: &Urls,
    target: Option<Uuid>,
) -> Result<IssuerDraft, DomainError> {
    issuer_draft_with(body, urls, target, true)
}

/// An issuer body, `email` optional unless `email_required`: an issuer
/// stored without one (by the previous server) can still be renamed.
pub fn issuer_draft_with(
    body: &Value,
    urls: &Urls,
    target: Option<Uuid>,
    email_required: bool,
) -> Result<IssuerDraft, DomainError> {
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    b.class_type(&["Profile", "Issuer"], &mut errors);
    b.own_id(Reference::Issuer, target, urls, &mut errors);
    let name = b.parse(&["name"], true, &mut errors, Name::parse);
    let url = b.parse(&["url"], true, &mut errors, HttpUrl::parse);
    // OB 2.0 requires an issuer profile's email; the previous server did
    // not, and published profiles that OB 2.0 verifiers reject.
    let email = b.parse(&["email"], email_required, &mut errors, Email::parse);
    let description = b.parse(&["description"], false, &mut errors, Text::parse);
    let image = b.image(false, &mut errors);
    let details = b.members(PROFILE_DETAILS, &mut errors);
    b.refuse_endorsements("/issuers/{id}/endorsements", &mut errors);
    b.refuse_unknown(&mut errors);
    errors.finish(|| {
        Some(IssuerDraft {
            name: name?,
            url: url?,
            email: if email_required { Some(email?) } else { email },
            description,
            image,
            details,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::tests::{fields, urls};
    use serde_json::json;

    #[test]
    fn issuer_names_every_bad_field() {
        let error = issuer_draft(
            &json!({"url": "ftp://x", "email": "nope", "name": 7}),
            &urls(),
            None,
        )
        .unwrap_err();
        assert_eq!(fields(error), ["name", "url", "email"]);
        assert_eq!(
            fields(issuer_draft(&json!([1]), &urls(), None).unwrap_err()),
            ["body"]
        );
    }

    #[test]
    fn issuer_refuses_what_it_does_not_keep_and_checks_details() {
        let body = json!({"name": "N", "url": "https://x.org", "email": "a@x.org", "bogus": 1,
                          "type": "Profile", "@context": ["x"],
                          "address": {"type": ["Address"], "geo": {"type": "GeoCoordinates", "latitude": "north", "longitude": 1}},
                          "dateOfBirth": "1990-13-01",
                          "otherIdentifier": [{"type": "IdentifierEntry", "identifier": "x", "identifierType": "nope"}],
                          "image": {"id": "https://x.org/i.png", "type": "Image", "caption": "c"}});
        let mut got = fields(issuer_draft(&body, &urls(), None).unwrap_err());
        got.sort();
        assert_eq!(
            got,
            [
                "address.geo.latitude",
                "bogus",
                "dateOfBirth",
                "image.caption",
                "otherIdentifier[0].identifierType"
            ]
        );
        let ok = json!({"name": "N", "url": "https://x.org", "email": "a@x.org",
                        "phone": "+1 555", "givenName": "Ada", "dateOfBirth": "1990-12-01"});
        let draft = issuer_draft(&ok, &urls(), None).unwrap();
        assert_eq!(draft.details.given_name.unwrap().as_str(), "Ada");
    }
}
