//! What `POST /<resource>/{id}/endorsements` reads: either the endorser and
//! a comment, for an endorsement this server issues and signs, or a
//! complete `EndorsementCredential` signed elsewhere, to verify and attach.

use openbadges_domain::documents::Urls;
use openbadges_domain::*;
use serde_json::Value;

use crate::requests::{issuer_reference, Body, Errors};

/// A credential signed elsewhere, as it was posted.
pub(super) enum Signed {
    /// An `EndorsementCredential` with an embedded proof.
    Json(Value),
    /// A VC-JWT carrying one.
    Jwt(String),
}

/// What the body asks for.
pub(super) enum EndorsementRequest {
    /// Issue and sign an endorsement here.
    Issue {
        /// The endorsing issuer (one of ours).
        endorser: IssuerId,
        /// The `endorsementComment`.
        comment: Option<Text>,
    },
    /// Verify and attach one signed elsewhere.
    Attach(Signed),
}

/// Whether `value` is a complete credential rather than a request to issue
/// one: it carries a proof, or names the `EndorsementCredential` type.
fn is_credential(value: &Value) -> bool {
    let typed = match value.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .any(|t| t.as_str() == Some("EndorsementCredential")),
        Some(Value::String(t)) => t == "EndorsementCredential",
        _ => false,
    };
    value.is_object() && (value.get("proof").is_some() || typed)
}

/// Reads the body: a JSON string or `{"endorsementJwt": ...}` is a VC-JWT;
/// a credential (with `proof`, or typed `EndorsementCredential`), bare or
/// as `{"credential": ...}`, is one signed elsewhere; anything else is
/// `{"issuer": <our issuer, any id form>, "endorsementComment": ...}`.
pub(super) fn endorsement_request(
    body: &Value,
    urls: &Urls,
) -> Result<EndorsementRequest, DomainError> {
    if let Value::String(token) = body {
        return Ok(EndorsementRequest::Attach(Signed::Jwt(
            token.trim().to_owned(),
        )));
    }
    if let Some(token) = body.get("endorsementJwt") {
        return match token {
            Value::String(token) => Ok(EndorsementRequest::Attach(Signed::Jwt(
                token.trim().to_owned(),
            ))),
            _ => Err(DomainError::invalid(
                "endorsementJwt",
                "must be a compact VC-JWT string",
            )),
        };
    }
    if is_credential(body) {
        return Ok(EndorsementRequest::Attach(Signed::Json(body.clone())));
    }
    if let Some(inner) = body.get("credential").filter(|c| is_credential(c)) {
        return Ok(EndorsementRequest::Attach(Signed::Json(inner.clone())));
    }
    let mut errors = Errors::default();
    let Some(fields) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    let endorser = fields
        .iri_or_object(&["issuer", "endorser"], true, &mut errors)
        .and_then(|(field, raw)| {
            issuer_reference(raw, urls)
                .map(IssuerId::from)
                .map_err(|e| errors.add(field, e.0))
                .ok()
        });
    let comment = fields.parse(
        &["endorsementComment", "comment"],
        false,
        &mut errors,
        Text::parse,
    );
    errors.finish(|| {
        Some(EndorsementRequest::Issue {
            endorser: endorser?,
            comment,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::tests::{fields, urls};
    use serde_json::json;

    #[test]
    fn the_old_servers_body_issues_with_any_id_form() {
        let id = IssuerId::generate();
        let urls = urls();
        for raw in [
            id.to_string(),
            format!("urn:uuid:{id}"),
            format!("{}/v3/issuers/{id}", urls.base()),
        ] {
            let body = json!({"issuer": raw, "endorsementComment": "Solid work"});
            match endorsement_request(&body, &urls).unwrap() {
                EndorsementRequest::Issue { endorser, comment } => {
                    assert_eq!(endorser, id);
                    assert_eq!(comment.unwrap().as_str(), "Solid work");
                }
                EndorsementRequest::Attach(_) => panic!("read as a credential"),
            }
        }
    }

    #[test]
    fn bad_fields_are_named() {
        let error = endorsement_request(&json!({"endorsementComment": 3}), &urls()).err();
        assert_eq!(
            fields(error.unwrap()),
            vec!["issuer".to_owned(), "endorsementComment".to_owned()]
        );
        let error = endorsement_request(&json!({"issuer": "nope"}), &urls()).err();
        assert_eq!(fields(error.unwrap()), vec!["issuer".to_owned()]);
    }

    #[test]
    fn credentials_and_tokens_are_attached() {
        let credential = json!({"type": ["VerifiableCredential", "EndorsementCredential"]});
        assert!(matches!(
            endorsement_request(&credential, &urls()),
            Ok(EndorsementRequest::Attach(Signed::Json(_)))
        ));
        assert!(matches!(
            endorsement_request(&json!({"credential": credential}), &urls()),
            Ok(EndorsementRequest::Attach(Signed::Json(_)))
        ));
        assert!(matches!(
            endorsement_request(&json!({"endorsementJwt": "a.b.c"}), &urls()),
            Ok(EndorsementRequest::Attach(Signed::Jwt(_)))
        ));
    }
}
