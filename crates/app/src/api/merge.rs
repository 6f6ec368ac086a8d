//! Partial updates: `PUT` and `PATCH` keep what the body leaves out.
//!
//! The previous server's `PUT` changed only the fields a body named, and
//! its clients send just those (`{"name": "New name"}`). So an update
//! starts from the stored entity rendered as its OB 3.0 document, applies
//! the body to it as a JSON merge patch (RFC 7396: objects merge member by
//! member, `null` removes a member, anything else replaces), and hands the
//! result to the resource's ordinary reader, which validates it whole.
//!
//! A body may use the OB 2.0 name of a field (`issuedOn`) where the
//! document has the OB 3.0 one (`validFrom`): the readers take either, the
//! first present winning. So before merging, every field of the document
//! that the body names under another name is dropped: the body's value,
//! under whatever name, is then the only one.

use openbadges_domain::DomainError;
use serde_json::{Map, Value};

use crate::requests::renamed_field;

/// Where a member sits: the keys from the document's root.
type Path = &'static [&'static str];

/// Names of one field: a body naming any of them replaces the others.
type Aliases = &'static [Path];

/// An achievement's fields with two names.
const ACHIEVEMENT: &[Aliases] = &[
    &[&["tags"], &["tag"]],
    &[&["alignments"], &["alignment"]],
    // The OB 3.0 document names its issuer as `creator`.
    &[&["issuer"], &["issuerId"], &["creator"]],
];

/// A credential's fields with two names (OB 2.0 assertion, OB 3.0
/// credential), as the credential reader accepts them.
const CREDENTIAL: &[Aliases] = &[
    &[
        &["badge"],
        &["badgeClass"],
        &["achievement"],
        &["credentialSubject", "achievement"],
    ],
    &[
        &["recipient"],
        &["credentialSubject", "id"],
        &["credentialSubject", "identifier"],
    ],
    &[&["issuedOn"], &["validFrom"]],
    &[&["expires"], &["validUntil"]],
    &[&["narrative"], &["credentialSubject", "narrative"]],
];

/// The issuer profile `current` updated by `patch`.
pub(crate) fn issuer(current: Value, patch: &Value) -> Value {
    merge(current, patch, &[])
}

/// The achievement `current` updated by `patch`, its issuer named as
/// `issuer` (what the reader takes) when only `creator` names it.
pub(crate) fn achievement(current: Value, patch: &Value) -> Value {
    let mut merged = merge(current, patch, ACHIEVEMENT);
    if let Value::Object(doc) = &mut merged {
        if !doc.contains_key("issuer") && !doc.contains_key("issuerId") {
            if let Some(creator) = doc.get("creator").cloned() {
                doc.insert("issuer".to_owned(), creator);
            }
        }
    }
    merged
}

/// The credential `current` updated by `patch`. An OB 2.0 `recipient` in
/// the patch is moved to where the OB 3.0 document has it
/// (`credentialSubject.identifier`, or `credentialSubject.id` for a URL or
/// DID given in the clear): the reader takes a recipient in one place only,
/// and the merged document has a `credentialSubject`.
pub(crate) fn credential(current: Value, patch: &Value) -> Value {
    let mut merged = merge(current, patch, CREDENTIAL);
    if let Value::Object(doc) = &mut merged {
        recipient_into_subject(doc);
    }
    merged
}

/// `error` of reading a merged credential, its fields named as `patch`
/// named them: an OB 2.0 `recipient` moved into the subject by
/// [`credential`] is reported as `recipient.identity`, not as where it was
/// moved to.
pub(crate) fn as_patch_named(error: DomainError, patch: &Value) -> DomainError {
    if !patch.get("recipient").is_some_and(Value::is_object) {
        return error;
    }
    [
        ("identityHash", "recipient.identity"),
        ("identityType", "recipient.type"),
        ("hashed", "recipient.hashed"),
        ("salt", "recipient.salt"),
    ]
    .into_iter()
    .fold(error, |error, (member, named)| {
        renamed_field(
            error,
            &format!("credentialSubject.identifier[0].{member}"),
            named,
        )
    })
}

/// The members of an OB 2.0 `recipient` IdentityObject.
const RECIPIENT_MEMBERS: &[&str] = &["type", "identity", "hashed", "salt"];

/// Moves `recipient` into `credentialSubject` as an OB 3.0 IdentityObject.
/// A `recipient` that is not an IdentityObject made only of its members is
/// left where it is, for the reader to refuse by name.
fn recipient_into_subject(doc: &mut Map<String, Value>) {
    let Some(Value::Object(recipient)) = doc.get("recipient") else {
        return;
    };
    if recipient
        .keys()
        .any(|key| !RECIPIENT_MEMBERS.contains(&key.as_str()))
    {
        return;
    }
    let identity_type = match recipient.get("type") {
        None | Some(Value::Null) => "emailAddress",
        Some(Value::String(kind)) => match kind.as_str() {
            "email" | "emailAddress" => "emailAddress",
            "url" => "url",
            "telephone" | "phone" => "ext:telephone",
            "id" | "did" => "identifier",
            // An unknown kind stays an OB 2.0 `recipient.type`, refused
            // by name.
            _ => return,
        },
        // So does a `type` that is not a string.
        Some(_) => return,
    };
    let mut entry = Map::new();
    entry.insert("type".to_owned(), Value::from("IdentityObject"));
    entry.insert("identityType".to_owned(), Value::from(identity_type));
    for (from, to) in [
        ("identity", "identityHash"),
        ("hashed", "hashed"),
        ("salt", "salt"),
    ] {
        if let Some(value) = recipient.get(from) {
            entry.insert(to.to_owned(), value.clone());
        }
    }
    doc.remove("recipient");
    let subject = doc
        .entry("credentialSubject")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(subject) = subject {
        subject.insert(
            "identifier".to_owned(),
            Value::Array(vec![Value::Object(entry)]),
        );
    }
}

/// Whether `patch` names a credential's recipient, under any of its names.
/// When it does not, the stored recipient is kept as it is: its rendering
/// does not tell every kind apart (a hashed URL and a hashed DID are both
/// an `identifier`), so reading it back could change it.
pub(crate) fn names_recipient(patch: &Value) -> bool {
    CREDENTIAL[1].iter().any(|path| present(patch, path))
}

/// `base` with `patch` applied (RFC 7396), after dropping every member of
/// `base` that `patch` gives under another of its names.
fn merge(mut base: Value, patch: &Value, aliases: &[Aliases]) -> Value {
    for names in aliases {
        for given in names.iter().filter(|path| present(patch, path)) {
            for other in names.iter().filter(|path| *path != given) {
                remove(&mut base, other);
            }
        }
    }
    merge_patch(&mut base, patch);
    base
}

/// RFC 7396 section 2, `MergePatch(Target, Patch)`.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in members {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Whether `value` has a member at `path` (`null` counts: it removes).
fn present(value: &Value, path: &[&str]) -> bool {
    match path.split_first() {
        None => true,
        Some((key, rest)) => value
            .as_object()
            .and_then(|object| object.get(*key))
            .is_some_and(|member| present(member, rest)),
    }
}

/// Removes the member at `path`, if any.
fn remove(value: &mut Value, path: &[&str]) {
    match path {
        [] => {}
        [key] => {
            if let Value::Object(object) = value {
                object.remove(*key);
            }
        }
        [key, rest @ ..] => {
            if let Some(member) = value.as_object_mut().and_then(|o| o.get_mut(*key)) {
                remove(member, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // The examples of RFC 7396 appendix A.
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"a": "foo"}), json!("bar"), json!("bar")),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (target, patch, want) in cases {
            assert_eq!(
                merge(target.clone(), &patch, &[]),
                want,
                "{target} + {patch}"
            );
        }
    }

    #[test]
    fn an_issuer_keeps_what_the_body_leaves_out() {
        let current = json!({"id": "x", "name": "Old", "url": "https://a.org", "email": "a@a.org",
                             "description": "D"});
        let merged = issuer(current, &json!({"name": "New", "description": null}));
        assert_eq!(
            merged,
            json!({"id": "x", "name": "New", "url": "https://a.org", "email": "a@a.org"})
        );
    }

    #[test]
    fn an_ob2_name_in_the_body_replaces_the_ob3_field() {
        let current = json!({"name": "N", "tag": ["a"], "alignment": [{"targetName": "T"}],
                             "creator": {"id": "https://h/v3/issuers/1"}});
        let merged = achievement(current, &json!({"tags": ["b"]}));
        assert_eq!(
            merged,
            json!({"name": "N", "tags": ["b"], "alignment": [{"targetName": "T"}],
                   "creator": {"id": "https://h/v3/issuers/1"},
                   "issuer": {"id": "https://h/v3/issuers/1"}})
        );
        let merged = achievement(
            json!({"tag": ["a"], "creator": {"id": "c"}}),
            &json!({"issuerId": "i"}),
        );
        assert_eq!(merged, json!({"tag": ["a"], "issuerId": "i"}));
    }

    #[test]
    fn a_credential_takes_ob2_fields_over_its_ob3_ones() {
        let current = json!({
            "validFrom": "2024-01-01T00:00:00Z",
            "validUntil": "2030-01-01T00:00:00Z",
            "credentialSubject": {
                "identifier": [{"identityHash": "sha256$x"}],
                "achievement": {"id": "https://h/v3/achievements/1"},
                "narrative": "old",
                "image": {"id": "https://h/i.png", "type": "Image"},
            },
        });
        let patch = json!({"recipient": {"identity": "b@b.org"}, "issuedOn": "2025-01-01T00:00:00Z",
                           "expires": null, "narrative": "new"});
        let merged = credential(current.clone(), &patch);
        assert_eq!(
            merged,
            json!({
                "issuedOn": "2025-01-01T00:00:00Z",
                "credentialSubject": {
                    "achievement": {"id": "https://h/v3/achievements/1"},
                    "image": {"id": "https://h/i.png", "type": "Image"},
                    "identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
                                    "identityHash": "b@b.org"}],
                },
                "narrative": "new",
            })
        );
        // A recipient with a member it does not have, or a type that is not
        // a kind, stays, to be refused.
        for odd in [
            json!({"recipient": {"identity": "b@b.org", "type": 5}}),
            json!({"recipient": {"identity": "b@b.org", "type": "pager"}}),
        ] {
            assert!(
                credential(current.clone(), &odd).get("recipient").is_some(),
                "{odd}"
            );
        }
        let odd = json!({"recipient": {"identity": "b@b.org", "nickname": "b"}});
        assert_eq!(
            credential(current.clone(), &odd)["recipient"]["nickname"],
            "b"
        );
        // An OB 3.0 body merges into the document as it is.
        let merged = credential(current, &json!({"credentialSubject": {"narrative": "ob3"}}));
        assert_eq!(merged["credentialSubject"]["narrative"], "ob3");
        assert_eq!(merged["validUntil"], "2030-01-01T00:00:00Z");
        assert_eq!(
            merged["credentialSubject"]["identifier"][0]["identityHash"],
            "sha256$x"
        );
    }

    #[test]
    fn a_recipient_is_named_under_any_of_its_names() {
        assert!(names_recipient(
            &json!({"recipient": {"identity": "a@b.org"}})
        ));
        assert!(names_recipient(
            &json!({"credentialSubject": {"id": "did:example:1"}})
        ));
        assert!(names_recipient(
            &json!({"credentialSubject": {"identifier": null}})
        ));
        assert!(!names_recipient(
            &json!({"credentialSubject": {"narrative": "n"}})
        ));
        assert!(!names_recipient(&json!({"narrative": "n"})));
    }

    #[test]
    fn a_body_that_is_not_an_object_replaces_everything() {
        assert_eq!(issuer(json!({"name": "N"}), &json!([1])), json!([1]));
    }
}
