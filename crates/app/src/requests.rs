//! Request bodies in, validated domain drafts out. Bodies are read as JSON
//! values, not derived structs, so that every bad field can be named in one
//! 400 answer (a derived struct stops at the first error and names it in
//! serde's words). Both the OB 2.0 style the old server took and the
//! OB 3.0 style are accepted; references may be the id URL we return,
//! `urn:uuid:<uuid>` or the bare UUID.
//!
//! This module holds what every reader shares (the body walker, the field
//! errors, references, JSON limits); each resource's own reader sits beside
//! its handlers, in `api::<resource>::requests`.

use openbadges_domain::documents::{Reference, Urls};
use openbadges_domain::*;

use serde_json::{Map, Value};
use uuid::Uuid;

/// Collects every field error of one request.
#[derive(Default)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub(crate) fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, DomainError> {
        if self.0.is_empty() {
            value().ok_or_else(|| DomainError::invalid("body", "is invalid"))
        } else {
            Err(DomainError::Validation(self.0))
        }
    }
}

/// A JSON object being read, with the path of its fields for messages.
pub(crate) struct Body<'v> {
    object: &'v Map<String, Value>,
    prefix: String,
}

impl<'v> Body<'v> {
    pub(crate) fn root(value: &'v Value, errors: &mut Errors) -> Option<Self> {
        Self::nested(value, String::new(), errors)
    }

    pub(crate) fn nested(value: &'v Value, prefix: String, errors: &mut Errors) -> Option<Self> {
        match value {
            Value::Object(object) => Some(Self { object, prefix }),
            _ => {
                let field = if prefix.is_empty() {
                    "body".to_owned()
                } else {
                    prefix
                };
                errors.add(field, "must be a JSON object");
                None
            }
        }
    }

    pub(crate) fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    /// The first present (non-null) key of `keys`, with its name.
    pub(crate) fn get(&self, keys: &[&'static str]) -> Option<(&'static str, &'v Value)> {
        keys.iter().find_map(|key| match self.object.get(*key) {
            None | Some(Value::Null) => None,
            Some(value) => Some((*key, value)),
        })
    }

    pub(crate) fn string(
        &self,
        keys: &[&'static str],
        required: bool,
        errors: &mut Errors,
    ) -> Option<(&'static str, &'v str)> {
        match self.get(keys) {
            None => {
                if required {
                    errors.add(self.path(keys[0]), "is required");
                }
                None
            }
            Some((key, Value::String(s))) => Some((key, s.as_str())),
            Some((key, _)) => {
                errors.add(self.path(key), "must be a string");
                None
            }
        }
    }

    /// A string field parsed into a value type.
    pub(crate) fn parse<T>(
        &self,
        keys: &[&'static str],
        required: bool,
        errors: &mut Errors,
        parse: impl FnOnce(&'v str) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        let (key, raw) = self.string(keys, required, errors)?;
        parse(raw).map_err(|e| errors.add(self.path(key), e.0)).ok()
    }

    pub(crate) fn boolean(&self, key: &'static str, errors: &mut Errors) -> Option<bool> {
        match self.get(&[key]) {
            None => None,
            Some((_, Value::Bool(b))) => Some(*b),
            Some(_) => {
                errors.add(self.path(key), "must be true or false");
                None
            }
        }
    }

    /// A field that may be an IRI string or an object with an `id` (OB 3.0
    /// `Image`, a referenced entity).
    pub(crate) fn iri_or_object(
        &self,
        keys: &[&'static str],
        required: bool,
        errors: &mut Errors,
    ) -> Option<(String, &'v str)> {
        match self.get(keys) {
            None => {
                if required {
                    errors.add(self.path(keys[0]), "is required");
                }
                None
            }
            Some((key, Value::String(s))) => Some((self.path(key), s.as_str())),
            Some((key, Value::Object(object))) => match object.get("id") {
                Some(Value::String(s)) => Some((format!("{}.id", self.path(key)), s.as_str())),
                _ => {
                    errors.add(format!("{}.id", self.path(key)), "is required");
                    None
                }
            },
            Some((key, _)) => {
                errors.add(self.path(key), "must be a string or an object with an id");
                None
            }
        }
    }

    pub(crate) fn image(&self, required: bool, errors: &mut Errors) -> Option<Iri> {
        let (field, raw) = self.iri_or_object(&["image"], required, errors)?;
        Iri::parse(raw).map_err(|e| errors.add(field, e.0)).ok()
    }

    /// An array field; a single object is taken as a one-item array (OB 2.0
    /// allows both for evidence).
    pub(crate) fn list(
        &self,
        keys: &[&'static str],
        errors: &mut Errors,
    ) -> Vec<(String, &'v Value)> {
        match self.get(keys) {
            None => Vec::new(),
            Some((key, Value::Array(items))) => items
                .iter()
                .enumerate()
                .map(|(i, item)| (format!("{}[{i}]", self.path(key)), item))
                .collect(),
            Some((key, item @ Value::Object(_))) => vec![(self.path(key), item)],
            Some((key, _)) => {
                errors.add(self.path(key), "must be an array");
                Vec::new()
            }
        }
    }
}

/// An issuer reference (query parameter or body value) in any accepted form.
pub fn issuer_reference(raw: &str, urls: &Urls) -> Result<Uuid, InvalidValue> {
    urls.reference(raw, Reference::Issuer)
}

/// An achievement reference in any accepted form.
pub fn achievement_reference(raw: &str, urls: &Urls) -> Result<Uuid, InvalidValue> {
    urls.reference(raw, Reference::Achievement)
}

/// `error` with its field `from` named `to` instead: a use case names the
/// field of an unknown reference in OB 2.0 words (`badge`), the answer as
/// the body named it (`credentialSubject.achievement`).
pub fn renamed_field(error: DomainError, from: &str, to: &str) -> DomainError {
    match error {
        DomainError::Validation(fields) => DomainError::Validation(
            fields
                .into_iter()
                .map(|f| {
                    if f.field == from {
                        FieldError::new(to, f.message)
                    } else {
                        f
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

/// The first of `paths` (keys from the root) present in `body`, joined
/// with dots, or `fallback`.
pub fn named_field(body: &Value, paths: &[&[&str]], fallback: &str) -> String {
    paths
        .iter()
        .find(|path| {
            let mut value = body;
            path.iter().all(|key| match value.get(*key) {
                Some(Value::Null) | None => false,
                Some(inner) => {
                    value = inner;
                    true
                }
            })
        })
        .map_or_else(|| fallback.to_owned(), |path| path.join("."))
}

/// A body that does not parse as JSON.
pub fn not_json(error: impl std::fmt::Display) -> DomainError {
    DomainError::invalid("body", format!("is not valid JSON: {error}"))
}

/// A body longer than `MAX_BODY_BYTES` allows.
pub fn too_large(limit: usize) -> DomainError {
    DomainError::invalid("body", format!("is larger than {limit} bytes"))
}

/// A body nested deeper than `MAX_JSON_DEPTH` allows.
pub fn too_deep(max_depth: usize) -> DomainError {
    DomainError::invalid(
        "body",
        format!("nests arrays and objects deeper than {max_depth} levels"),
    )
}

/// How deeply `value` nests arrays and objects (a scalar is 0). serde_json
/// stops parsing at 128 levels, so this recursion is bounded.
pub fn json_depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(fields) => 1 + fields.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn urls() -> Urls {
        Urls::new("https://badges.example.org").unwrap()
    }

    pub(crate) fn fields(error: DomainError) -> Vec<String> {
        match error {
            DomainError::Validation(fields) => fields.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn references_in_every_accepted_form() {
        let id = Uuid::new_v4();
        for raw in [
            id.to_string(),
            format!("urn:uuid:{id}"),
            format!("https://badges.example.org/v3/issuers/{id}"),
            format!("https://badges.example.org/v2/issuers/{id}"),
            format!("https://badges.example.org/issuers/{id}"),
        ] {
            assert_eq!(issuer_reference(&raw, &urls()).unwrap(), id, "{raw}");
        }
        for bad in [
            format!("https://elsewhere.example.org/issuers/{id}"),
            format!("https://badges.example.org/achievements/{id}"),
            "urn:uuid:xyz".to_owned(),
        ] {
            assert!(issuer_reference(&bad, &urls()).is_err(), "{bad}");
        }
    }
}
