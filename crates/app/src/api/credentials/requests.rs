//! The credential readers: awards (one or a batch), revocation reasons
//! and status changes, in the OB 2.0 or the OB 3.0 style.

use openbadges_domain::documents::Urls;
use openbadges_domain::service::{AssertionDraft, StatusChange};
use openbadges_domain::*;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

use crate::requests::{json_depth, not_json, too_deep, Body, Errors};
use openbadges_domain::documents::Reference;

/// The most awards one batch request may carry.
pub const MAX_BATCH: usize = 10_000;

/// A fresh per-award salt: 128 random bits, hex.
fn new_salt() -> String {
    Uuid::new_v4().simple().to_string()
}

fn is_prehashed(identity: &str) -> bool {
    identity.starts_with("sha256$") || identity.starts_with("md5$")
}

/// OB 2.0 `recipient {type, identity, hashed, salt}`. An e-mail is hashed
/// with a fresh salt unless `hashed: false`; an identity already in
/// `sha256$...` form is kept as given.
fn ob2_recipient(b: &Body<'_>, errors: &mut Errors) -> Option<Recipient> {
    let kind = match b.string(&["type"], false, errors) {
        None => RecipientKind::Email,
        Some((_, raw)) => match RecipientKind::parse(raw) {
            Ok(kind) => kind,
            Err(e) => {
                errors.add(b.path("type"), e.0);
                return None;
            }
        },
    };
    let (_, identity) = b.string(&["identity"], true, errors)?;
    let hashed = b.boolean("hashed", errors);
    let salt = b.string(&["salt"], false, errors).map(|(_, s)| s);
    b.refuse_unknown(errors);
    let recipient = if is_prehashed(identity) {
        Recipient::prehashed(kind, identity, salt)
    } else if hashed.unwrap_or(true) {
        let salt = salt.map_or_else(new_salt, str::to_owned);
        Recipient::hashed(kind, identity, &salt)
    } else {
        Recipient::plain(kind, identity)
    };
    recipient
        .map_err(|e| errors.add(b.path("identity"), e.0))
        .ok()
}

/// OB 3.0 `credentialSubject`: `id` (a URL or DID) or
/// `identifier[0] {identityType, identityHash, hashed, salt}`.
fn ob3_recipient(subject: &Body<'_>, errors: &mut Errors) -> Option<Recipient> {
    if let Some((_, id)) = subject.string(&["id"], false, errors) {
        let kind = if id.starts_with("http://") || id.starts_with("https://") {
            RecipientKind::Url
        } else {
            RecipientKind::Did
        };
        return Recipient::plain(kind, id)
            .map_err(|e| errors.add(subject.path("id"), e.0))
            .ok();
    }
    let identifiers = subject.list(&["identifier"], errors);
    // One identity is kept: a second would be dropped unread.
    for (path, _) in identifiers.iter().skip(1) {
        errors.add(
            path.clone(),
            "is not kept: the recipient is identified by one IdentityObject",
        );
    }
    let Some((path, first)) = identifiers.into_iter().next() else {
        errors.add(
            subject.path("identifier"),
            "is required (or credentialSubject.id)",
        );
        return None;
    };
    let identifier = Body::nested(first, path, errors)?;
    identifier.class_type(&["IdentityObject"], errors);
    let kind = match identifier.string(&["identityType"], false, errors) {
        None | Some((_, "emailAddress")) => RecipientKind::Email,
        Some((_, "ext:telephone" | "phone")) => RecipientKind::Telephone,
        Some((_, "url")) => RecipientKind::Url,
        Some((_, "identifier")) => RecipientKind::Did,
        Some((_, _)) => {
            errors.add(
                identifier.path("identityType"),
                "must be emailAddress, ext:telephone, url or identifier",
            );
            return None;
        }
    };
    let (_, identity) = identifier.string(&["identityHash", "identity"], true, errors)?;
    let hashed = identifier.boolean("hashed", errors);
    let salt = identifier.string(&["salt"], false, errors).map(|(_, s)| s);
    identifier.refuse_unknown(errors);
    let recipient = if is_prehashed(identity) {
        Recipient::prehashed(kind, identity, salt)
    } else if hashed.unwrap_or(true) {
        let salt = salt.map_or_else(new_salt, str::to_owned);
        Recipient::hashed(kind, identity, &salt)
    } else {
        Recipient::plain(kind, identity)
    };
    recipient
        .map_err(|e| errors.add(identifier.path("identityHash"), e.0))
        .ok()
}

fn evidence(b: &Body<'_>, errors: &mut Errors) -> Vec<Evidence> {
    b.list(&["evidence"], errors)
        .into_iter()
        .filter_map(|(path, item)| {
            let e = Body::nested(item, path.clone(), errors)?;
            e.class_type(&["Evidence"], errors);
            let evidence = Evidence {
                id: e.parse(&["id"], false, errors, Iri::parse),
                narrative: e.parse(&["narrative"], false, errors, Text::parse),
                name: e.parse(&["name"], false, errors, Name::parse),
                description: e.parse(&["description"], false, errors, Text::parse),
                genre: e.parse(&["genre"], false, errors, Label::parse),
                audience: e.parse(&["audience"], false, errors, Name::parse),
            };
            e.refuse_unknown(errors);
            if evidence.id.is_none() && evidence.narrative.is_none() {
                errors.add(path, "needs an id (URL) or a narrative");
                return None;
            }
            Some(evidence)
        })
        .collect()
}

/// The OB 3.0 credential members kept in the award's details.
pub(crate) const CREDENTIAL_DETAILS: &[&str] = &[
    "name",
    "description",
    "awardedDate",
    "termsOfUse",
    "credentialSchema",
];

/// The OB 3.0 AchievementSubject members kept in the award's details.
pub(crate) const SUBJECT_DETAILS: &[&str] = &[
    "result",
    "creditsEarned",
    "activityStartDate",
    "activityEndDate",
    "licenseNumber",
    "role",
    "source",
    "term",
    "image",
];

/// A credential / assertion body in either style:
/// OB 2.0 `badge`, `recipient`, `issuedOn`, `expires`, `evidence`,
/// `narrative`, `image`; OB 3.0 `credentialSubject {id | identifier,
/// achievement, narrative, result, ...}` (or top-level `achievement`),
/// `validFrom`, `validUntil`, `name`, `description`, `awardedDate`,
/// `termsOfUse`, `credentialSchema`. A published credential can be sent
/// back (`target` is the credential a PUT replaces). Any member the server
/// does not keep or check is refused.
pub fn assertion_draft(
    body: &Value,
    urls: &Urls,
    target: Option<Uuid>,
) -> Result<AssertionDraft, DomainError> {
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    let draft = read_assertion(&b, urls, target, &mut errors);
    errors.finish(|| draft)
}

/// The issuer a credential sent back names (`issuer`: our did:web or one
/// of our issuer references, as a string or as the published profile
/// object). The profile's members are ours as published and are not
/// read: the issuer's own profile is what is published.
fn named_issuer(b: &Body<'_>, urls: &Urls, errors: &mut Errors) -> Option<IssuerId> {
    let (field, raw) = b.iri_or_object(&["issuer"], false, errors)?;
    if let Some(id) = urls.issuer_of_did(raw) {
        return Some(id);
    }
    urls.reference(raw, Reference::Issuer)
        .map(IssuerId::from)
        .map_err(|e| errors.add(field, e.0))
        .ok()
}

fn read_assertion(
    b: &Body<'_>,
    urls: &Urls,
    target: Option<Uuid>,
    errors: &mut Errors,
) -> Option<AssertionDraft> {
    b.class_type(
        &[
            "VerifiableCredential",
            "OpenBadgeCredential",
            "AchievementCredential",
            "Assertion",
        ],
        errors,
    );
    b.own_id(Reference::Credential, target, urls, errors);
    // The server assigns the status-list entry and signs every credential
    // anew: a published credential's `credentialStatus` and `proof` are
    // accepted and not kept.
    b.accept(&["credentialStatus", "proof"]);
    // Whether and where to e-mail the recipient: read on issue by
    // `mail::requests`, not part of the credential.
    b.accept(&["notify", "notifyEmail"]);
    let named_issuer = named_issuer(b, urls, errors);
    let subject = b
        .get(&["credentialSubject"])
        .and_then(|(key, value)| Body::nested(value, b.path(key), errors));
    if let Some(subject) = &subject {
        subject.class_type(&["AchievementSubject"], errors);
    }
    let badge_ref = match &subject {
        Some(subject) if subject.get(&["achievement"]).is_some() => {
            subject.iri_or_object(&["achievement"], true, errors)
        }
        _ => b.iri_or_object(&["badge", "badgeClass", "achievement"], true, errors),
    };
    let badge_class_id = badge_ref.and_then(|(field, raw)| {
        urls.reference(raw, Reference::Achievement)
            .map_err(|e| errors.add(field, e.0))
            .ok()
    });
    // With a credentialSubject, a `recipient` beside it is not read (and
    // so refused below).
    let recipient = match &subject {
        Some(subject) => ob3_recipient(subject, errors),
        None => match b.get(&["recipient"]) {
            Some((key, value)) => {
                let r = Body::nested(value, b.path(key), errors)?;
                ob2_recipient(&r, errors)
            }
            None => {
                errors.add(b.path("recipient"), "is required (or credentialSubject)");
                None
            }
        },
    };
    let issued_on = b.parse(&["issuedOn", "validFrom"], false, errors, Timestamp::parse);
    let expires = b.parse(&["expires", "validUntil"], false, errors, Timestamp::parse);
    if let Some(expires) = expires {
        // Named as the client named the fields.
        let expires_key = b
            .get(&["expires", "validUntil"])
            .map_or("expires", |(k, _)| k);
        let issued_key = b
            .get(&["issuedOn", "validFrom"])
            .map_or("issuedOn", |(k, _)| k);
        let start = issued_on.unwrap_or_else(Timestamp::now);
        if expires <= start {
            let message = if issued_on.is_some() {
                format!("must be later than {issued_key}")
            } else {
                "must be in the future".to_owned()
            };
            errors.add(b.path(expires_key), message);
        }
    }
    let narrative = match &subject {
        Some(subject) if subject.get(&["narrative"]).is_some() => {
            subject.parse(&["narrative"], false, errors, Text::parse)
        }
        _ => b.parse(&["narrative"], false, errors, Text::parse),
    };
    let evidence = evidence(b, errors);
    let image = b.image(false, errors);
    let credential: CredentialDetails = b.members(CREDENTIAL_DETAILS, errors);
    let subject_details: SubjectDetails = match &subject {
        Some(subject) => {
            let details = subject.members(SUBJECT_DETAILS, errors);
            // The embedded `achievement` object is the published one: only
            // its id is read (it names the badge), the rest is ours.
            subject.refuse_unknown(errors);
            details
        }
        None => SubjectDetails::default(),
    };
    b.refuse_unknown(errors);
    Some(AssertionDraft {
        badge_class_id: badge_class_id?.into(),
        recipient: recipient?,
        issued_on,
        expires,
        evidence,
        narrative,
        image,
        details: AwardDetails {
            subject: subject_details,
            credential,
        }
        .into(),
        named_issuer,
    })
}

/// A batch, read from its JSON text: an array of credential bodies, or
/// `{"credentials": [...]}` (`assertions` also accepted). At most
/// [`MAX_BATCH`] items, nothing nested deeper than `max_depth`.
///
/// Items are parsed one at a time, each dropped once read: the tree of a
/// whole batch takes over ten times the memory of its text.
pub fn batch_drafts(
    text: &[u8],
    urls: &Urls,
    max_depth: usize,
) -> Result<Vec<AssertionDraft>, DomainError> {
    let too_deep = || too_deep(max_depth);
    let body: &RawValue = serde_json::from_slice(text).map_err(not_json)?;
    // (key, the array's text, how deep its items sit in the body)
    let (key, items, nesting) = match body.get().trim_start().as_bytes().first() {
        Some(b'[') => ("credentials", body, 1),
        Some(b'{') => {
            let mut object: HashMap<String, &RawValue> =
                serde_json::from_str(body.get()).map_err(not_json)?;
            let credentials = object.remove("credentials");
            let assertions = object.remove("assertions");
            // Fields beside the items are ignored, but bounded like any body.
            for other in object.values() {
                let other: Value = serde_json::from_str(other.get()).map_err(not_json)?;
                if 1 + json_depth(&other) > max_depth {
                    return Err(too_deep());
                }
            }
            let (key, items) = match (credentials, assertions) {
                (Some(items), _) => ("credentials", items),
                (None, Some(items)) => ("assertions", items),
                (None, None) => {
                    return Err(DomainError::invalid("credentials", "must be an array"))
                }
            };
            (key, items, 2)
        }
        _ => {
            return Err(DomainError::invalid(
                "body",
                "must be an array of credentials or {\"credentials\": [...]}",
            ))
        }
    };
    if !items.get().trim_start().starts_with('[') {
        return Err(DomainError::invalid("credentials", "must be an array"));
    }
    let items: Vec<&RawValue> = serde_json::from_str(items.get()).map_err(not_json)?;
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(DomainError::invalid(
            key,
            format!("must hold between 1 and {MAX_BATCH} credentials"),
        ));
    }
    let mut errors = Errors::default();
    let mut drafts = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item: Value = serde_json::from_str(item.get()).map_err(not_json)?;
        if nesting + json_depth(&item) > max_depth {
            return Err(too_deep());
        }
        if let Some(b) = Body::nested(&item, format!("{key}[{i}]"), &mut errors) {
            drafts.extend(read_assertion(&b, urls, None, &mut errors));
        }
    }
    errors.finish(|| Some(drafts))
}

/// `{"reason": "..."}` of a revocation (the body and the reason are optional).
pub fn revocation_reason(body: Option<&Value>) -> Result<Option<Text>, DomainError> {
    let Some(body) = body else { return Ok(None) };
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    let reason = b.parse(
        &["reason", "revocationReason"],
        false,
        &mut errors,
        Text::parse,
    );
    errors.finish(|| Some(reason))
}

/// The previous server's status change, `{"status": "0" | "1", "purpose":
/// "revocation" | "suspension", "reason"?}`: set (1) or clear (0) the
/// award's bit in the list of that purpose. `status` may also be the number
/// 0 or 1, and `purpose` defaults to revocation.
pub fn status_change(body: &Value) -> Result<StatusChange, DomainError> {
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    let set = match b.get(&["status"]) {
        Some((_, Value::String(s))) if s == "1" => Some(true),
        Some((_, Value::String(s))) if s == "0" => Some(false),
        Some((_, Value::Number(n))) if n.as_u64() == Some(1) => Some(true),
        Some((_, Value::Number(n))) if n.as_u64() == Some(0) => Some(false),
        Some(_) => {
            errors.add("status", "must be \"1\" (set the bit) or \"0\" (clear it)");
            None
        }
        None => {
            errors.add("status", "is required");
            None
        }
    };
    let purpose = match b.string(&["purpose", "statusPurpose"], false, &mut errors) {
        None | Some((_, "revocation")) => Some(StatusPurpose::Revocation),
        Some((_, "suspension")) => Some(StatusPurpose::Suspension),
        Some((key, _)) => {
            errors.add(key, "must be revocation or suspension");
            None
        }
    };
    let reason = b.parse(&["reason"], false, &mut errors, Text::parse);
    if let (Some(false), Some(StatusPurpose::Revocation)) = (set, purpose) {
        errors.add(
            "status",
            "revocation is final: a revoked credential cannot be reinstated",
        );
    }
    errors.finish(|| {
        Some(match (set?, purpose?) {
            (true, StatusPurpose::Revocation) => StatusChange::Revoke(reason),
            (true, StatusPurpose::Suspension) => StatusChange::Suspend(reason),
            (false, _) => StatusChange::Reinstate,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::tests::{fields, urls};
    use serde_json::json;

    #[test]
    fn status_changes_of_the_previous_server() {
        let change = |body| status_change(&body);
        assert_eq!(
            change(json!({"status": "1", "purpose": "revocation", "reason": "fraud"})).unwrap(),
            StatusChange::Revoke(Some(Text::parse("fraud").unwrap()))
        );
        assert_eq!(
            change(json!({"status": 1, "purpose": "suspension"})).unwrap(),
            StatusChange::Suspend(None)
        );
        assert_eq!(
            change(json!({"status": "0", "purpose": "suspension"})).unwrap(),
            StatusChange::Reinstate
        );
        assert_eq!(
            change(json!({"status": "1"})).unwrap(),
            StatusChange::Revoke(None)
        );
        assert_eq!(
            fields(change(json!({"status": "0"})).unwrap_err()),
            ["status"]
        );
        assert_eq!(
            fields(change(json!({"status": "2", "purpose": "x"})).unwrap_err()),
            ["status", "purpose"]
        );
        assert_eq!(fields(change(json!({})).unwrap_err()), ["status"]);
    }

    #[test]
    fn ob2_email_is_hashed_with_a_fresh_salt_unless_asked_otherwise() {
        let badge = Uuid::new_v4();
        let body = json!({"badge": badge.to_string(), "recipient": {"type": "email", "identity": "ada@example.org"}});
        let a = assertion_draft(&body, &urls(), None).unwrap();
        let b = assertion_draft(&body, &urls(), None).unwrap();
        match (a.recipient.identity(), b.recipient.identity()) {
            (
                RecipientIdentity::Hashed {
                    hash: h1,
                    salt: Some(s1),
                },
                RecipientIdentity::Hashed {
                    hash: h2,
                    salt: Some(s2),
                },
            ) => {
                assert!(h1.starts_with("sha256$"));
                assert_ne!(s1, s2, "salt is per award");
                assert_ne!(h1, h2);
            }
            other => panic!("not hashed with salt: {other:?}"),
        }
        let plain = json!({"badge": badge.to_string(), "recipient": {"identity": "ada@example.org", "hashed": false}});
        assert_eq!(
            assertion_draft(&plain, &urls(), None)
                .unwrap()
                .recipient
                .identity(),
            &RecipientIdentity::Plain("ada@example.org".into())
        );
    }

    #[test]
    fn ob3_subject_with_did_or_identifier() {
        let badge = format!(
            "https://badges.example.org/v3/achievements/{}",
            Uuid::new_v4()
        );
        let with_id = json!({"credentialSubject": {"id": "did:example:123", "achievement": {"id": badge}},
                             "validFrom": "2024-01-01T00:00:00Z"});
        let draft = assertion_draft(&with_id, &urls(), None).unwrap();
        assert_eq!(draft.recipient.kind(), RecipientKind::Did);
        assert_eq!(
            draft.issued_on.unwrap().to_rfc3339(),
            "2024-01-01T00:00:00Z"
        );
        let with_identifier = json!({"achievement": badge, "credentialSubject": {"identifier": [
            {"type": "IdentityObject", "identityType": "emailAddress", "identityHash": "ada@example.org", "hashed": false}]}});
        let draft = assertion_draft(&with_identifier, &urls(), None).unwrap();
        assert_eq!(
            draft.recipient.identity(),
            &RecipientIdentity::Plain("ada@example.org".into())
        );
    }

    #[test]
    fn a_member_given_under_two_names_is_refused_not_dropped() {
        let badge = Uuid::new_v4().to_string();
        let body = json!({"badge": badge, "recipient": {"identity": "a@example.org"},
                          "issuedOn": "2024-01-01T00:00:00Z", "validFrom": "2024-02-01T00:00:00Z",
                          "credentialSubject": null});
        assert_eq!(
            fields(assertion_draft(&body, &urls(), None).unwrap_err()),
            ["validFrom"]
        );
        let both = json!({"badge": badge, "recipient": {"identity": "a@example.org"},
                          "credentialSubject": {"id": "did:example:1", "achievement": badge}});
        assert_eq!(
            fields(assertion_draft(&both, &urls(), None).unwrap_err()),
            ["badge", "recipient"]
        );
    }

    #[test]
    fn a_second_identity_object_is_refused_not_dropped() {
        let badge = Uuid::new_v4().to_string();
        let one = json!({"type": "IdentityObject", "identityType": "emailAddress",
                         "identityHash": "a@example.org", "hashed": false});
        let body = json!({"achievement": badge, "credentialSubject": {"identifier": [one, one]}});
        assert_eq!(
            fields(assertion_draft(&body, &urls(), None).unwrap_err()),
            ["credentialSubject.identifier[1]"]
        );
    }

    #[test]
    fn assertion_errors_name_each_field() {
        let body = json!({"badge": "not-a-ref", "recipient": {"identity": "not-an-email"},
                          "issuedOn": "yesterday", "expires": 5, "evidence": [{"name": "x"}]});
        assert_eq!(
            fields(assertion_draft(&body, &urls(), None).unwrap_err()),
            [
                "badge",
                "recipient.identity",
                "issuedOn",
                "expires",
                "evidence[0]"
            ]
        );
    }

    #[test]
    fn batch_prefixes_fields_with_the_item_index() {
        let badge = Uuid::new_v4().to_string();
        let body = json!({"credentials": [
            {"badge": badge, "recipient": {"identity": "a@example.org"}},
            {"badge": badge, "recipient": {"identity": "bad"}}]});
        assert_eq!(
            fields(batch_drafts(body.to_string().as_bytes(), &urls(), 32).unwrap_err()),
            ["credentials[1].recipient.identity"]
        );
        assert!(batch_drafts(b"[]", &urls(), 32).is_err());
    }

    #[test]
    fn batch_reads_each_body_form_and_refuses_the_rest() {
        let badge = Uuid::new_v4().to_string();
        let item = json!({"badge": badge, "recipient": {"identity": "a@example.org"}});
        let read =
            |body: &Value, depth: usize| batch_drafts(body.to_string().as_bytes(), &urls(), depth);
        for body in [
            json!([item, item]),
            json!({"credentials": [item, item]}),
            json!({"assertions": [item, item], "note": "ignored"}),
            json!({"credentials": [item, item], "assertions": "ignored"}),
        ] {
            assert_eq!(read(&body, 32).map(|d| d.len()).ok(), Some(2), "{body}");
        }
        assert_eq!(
            fields(batch_drafts(b"  {\"credentials\": [] }", &urls(), 32).unwrap_err()),
            ["credentials"]
        );
        assert_eq!(
            fields(read(&json!({"assertions": []}), 32).unwrap_err()),
            ["assertions"]
        );
        for bad in [
            json!({}),
            json!({"credentials": {"a": 1}}),
            json!({"assertions": "x"}),
        ] {
            assert_eq!(
                fields(read(&bad, 32).unwrap_err()),
                ["credentials"],
                "{bad}"
            );
        }
        assert_eq!(fields(read(&json!(42), 32).unwrap_err()), ["body"]);
        assert_eq!(
            fields(batch_drafts(b"[{", &urls(), 32).unwrap_err()),
            ["body"]
        );
        assert_eq!(
            fields(batch_drafts(b"[] x", &urls(), 32).unwrap_err()),
            ["body"]
        );
        // Items sit two levels deep in an object, one in a bare array; the
        // recipient object nests one more.
        assert!(read(&json!({"credentials": [item]}), 4).is_ok());
        assert_eq!(
            fields(read(&json!({"credentials": [item]}), 3).unwrap_err()),
            ["body"]
        );
        assert!(read(&json!([item]), 3).is_ok());
        assert!(read(&json!({"credentials": [item], "x": [[[]]]}), 4).is_ok());
        assert_eq!(
            fields(read(&json!({"credentials": [item], "x": [[[[]]]]}), 4).unwrap_err()),
            ["body"]
        );
    }
}
