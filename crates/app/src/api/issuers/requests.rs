//! The issuer reader: a request body in, a validated issuer draft out.

use openbadges_domain::service::IssuerDraft;
use openbadges_domain::*;
use serde_json::Value;

use crate::requests::{Body, Errors};

/// An issuer body: `name`, `url` required; `email`, `description`, `image`.
pub fn issuer_draft(body: &Value) -> Result<IssuerDraft, DomainError> {
    issuer_draft_with(body, true)
}

/// An issuer body, `email` optional unless `email_required`: an issuer
/// stored without one (by the previous server) can still be renamed.
pub fn issuer_draft_with(body: &Value, email_required: bool) -> Result<IssuerDraft, DomainError> {
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    let name = b.parse(&["name"], true, &mut errors, Name::parse);
    let url = b.parse(&["url"], true, &mut errors, HttpUrl::parse);
    // OB 2.0 requires an issuer profile's email; the previous server did
    // not, and published profiles that OB 2.0 verifiers reject.
    let email = b.parse(&["email"], email_required, &mut errors, Email::parse);
    let description = b.parse(&["description"], false, &mut errors, Text::parse);
    let image = b.image(false, &mut errors);
    errors.finish(|| {
        Some(IssuerDraft {
            name: name?,
            url: url?,
            email: if email_required { Some(email?) } else { email },
            description,
            image,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::tests::fields;
    use serde_json::json;

    #[test]
    fn issuer_names_every_bad_field() {
        let error =
            issuer_draft(&json!({"url": "ftp://x", "email": "nope", "name": 7})).unwrap_err();
        assert_eq!(fields(error), ["name", "url", "email"]);
        assert_eq!(fields(issuer_draft(&json!([1])).unwrap_err()), ["body"]);
    }
}
