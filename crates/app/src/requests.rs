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

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
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
/// It remembers which keys were read, so that a reader can refuse every
/// key it did not read ([`Body::refuse_unknown`]): a property the server
/// does not keep is a 400 naming it, never dropped in silence.
pub(crate) struct Body<'v> {
    object: &'v Map<String, Value>,
    prefix: String,
    read: RefCell<BTreeSet<&'v str>>,
    /// Keys given beside another name of the same member (`tag` beside
    /// `tags`): not read, reported by [`Body::refuse_unknown`] as such.
    repeated: RefCell<BTreeMap<&'v str, &'static str>>,
}

/// The message for a key no reader took.
pub(crate) const NOT_KEPT: &str = "is not a property this server keeps";

impl<'v> Body<'v> {
    pub(crate) fn root(value: &'v Value, errors: &mut Errors) -> Option<Self> {
        Self::nested(value, String::new(), errors)
    }

    pub(crate) fn nested(value: &'v Value, prefix: String, errors: &mut Errors) -> Option<Self> {
        match value {
            Value::Object(object) => Some(Self {
                object,
                prefix,
                read: RefCell::default(),
                repeated: RefCell::default(),
            }),
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

    /// The first present (non-null) key of `keys`, with its name. A null
    /// key counts as read (it says "none"); another present key of `keys`
    /// does not: it is reported as a repetition, not dropped.
    pub(crate) fn get(&self, keys: &[&'static str]) -> Option<(&'static str, &'v Value)> {
        let mut found: Option<(&'static str, &'v Value)> = None;
        for key in keys {
            match self.object.get_key_value(*key) {
                None => {}
                Some((name, Value::Null)) => {
                    self.read.borrow_mut().insert(name.as_str());
                }
                Some((name, value)) => match found {
                    None => {
                        self.read.borrow_mut().insert(name.as_str());
                        found = Some((*key, value));
                    }
                    Some((first, _)) => {
                        self.repeated.borrow_mut().insert(name.as_str(), first);
                    }
                },
            }
        }
        found
    }

    /// Counts `keys` as read without reading them: for keys a reader
    /// accepts and checks itself, or accepts without keeping (say why
    /// where it is called).
    pub(crate) fn accept(&self, keys: &[&str]) {
        let mut read = self.read.borrow_mut();
        for key in keys {
            if let Some((name, _)) = self.object.get_key_value(*key) {
                read.insert(name.as_str());
            }
        }
    }

    /// Refuses a document's endorsement lists (`endorsement`,
    /// `endorsementJwt`) with where endorsements are made instead: they are
    /// issued, attached and revoked through `route`, never through the
    /// document's body. (An update that sends the fetched document back
    /// whole has its unchanged lists dropped before it is read.)
    pub(crate) fn refuse_endorsements(&self, route: &str, errors: &mut Errors) {
        for key in ["endorsement", "endorsementJwt"] {
            if self.get(&[key]).is_some() {
                errors.add(
                    self.path(key),
                    format!(
                        "endorsements are issued or attached with POST {route}, and revoked \
                         there; not in the document"
                    ),
                );
            }
        }
    }

    /// Reports each key no reader took as a field error.
    pub(crate) fn refuse_unknown(&self, errors: &mut Errors) {
        let read = self.read.borrow();
        let repeated = self.repeated.borrow();
        for key in self.object.keys() {
            if read.contains(key.as_str()) {
                continue;
            }
            match repeated.get(key.as_str()) {
                Some(first) => errors.add(
                    self.path(key),
                    format!("repeats {first}: give one of the two"),
                ),
                None => errors.add(self.path(key), NOT_KEPT),
            }
        }
    }

    /// The member `key`, read as a typed value; its errors are named by
    /// their path under `key` (`result[0].status`).
    pub(crate) fn typed<T: DeserializeOwned>(
        &self,
        key: &'static str,
        errors: &mut Errors,
    ) -> Option<T> {
        let (key, value) = self.get(&[key])?;
        serde_path_to_error::deserialize(value)
            .map_err(|error| typed_error(&self.path(key), error, errors))
            .ok()
    }

    /// Those of `keys` that are present, read together as one typed value
    /// (a details struct whose members sit at this level of the body).
    pub(crate) fn members<T: DeserializeOwned + Default>(
        &self,
        keys: &[&'static str],
        errors: &mut Errors,
    ) -> T {
        self.accept(keys);
        let present: Map<String, Value> = keys
            .iter()
            .filter_map(|key| match self.object.get(*key) {
                None | Some(Value::Null) => None,
                Some(value) => Some(((*key).to_owned(), value.clone())),
            })
            .collect();
        if present.is_empty() {
            return T::default();
        }
        // Each member alone first: serde stops at the first error, and
        // every bad member is to be named in one answer.
        let mut failed = false;
        for (key, value) in &present {
            // A list item by item, each as a list of one, its index put
            // back into the path.
            let items: Vec<(Option<usize>, Value)> = match value {
                Value::Array(items) if items.len() > 1 => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (Some(i), Value::Array(vec![item.clone()])))
                    .collect(),
                other => vec![(None, other.clone())],
            };
            for (index, item) in items {
                let one = Value::Object(Map::from_iter([(key.clone(), item)]));
                if let Err(error) = serde_path_to_error::deserialize::<_, T>(&one) {
                    let mut item_errors = Errors::default();
                    typed_error(&self.prefix, error, &mut item_errors);
                    for mut error in item_errors.0 {
                        if let Some(i) = index {
                            let first = format!("{}[0]", self.path(key));
                            if let Some(rest) = error.field.strip_prefix(&first) {
                                error.field = format!("{}[{i}]{rest}", self.path(key));
                            }
                        }
                        errors.0.push(error);
                    }
                    failed = true;
                }
            }
        }
        if failed {
            return T::default();
        }
        serde_path_to_error::deserialize(&Value::Object(present))
            .map_err(|error| typed_error(&self.prefix, error, errors))
            .unwrap_or_default()
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

    /// An image: its IRI, or an OB 3.0 `Image` object `{id, type}` (a
    /// `caption` is not kept, so it is refused).
    pub(crate) fn image(&self, required: bool, errors: &mut Errors) -> Option<Iri> {
        if let Some((key, value @ Value::Object(_))) = self.get(&["image"]) {
            let image = Body::nested(value, self.path(key), errors)?;
            image.class_type(&["Image"], errors);
            image.get(&["id"]);
            image.refuse_unknown(errors);
        }
        let (field, raw) = self.iri_or_object(&["image"], required, errors)?;
        Iri::parse(raw).map_err(|e| errors.add(field, e.0)).ok()
    }

    /// `@context` and `type`, accepted and not kept: the server writes its
    /// own. `type` must name one of `classes` (as a string or an array of
    /// them), so that a document of another kind is not taken for this one.
    pub(crate) fn class_type(&self, classes: &[&str], errors: &mut Errors) {
        // Any context is accepted: documents are published with ours.
        self.accept(&["@context"]);
        let names = match self.get(&["type"]) {
            None => return,
            Some((_, Value::String(name))) => vec![Some(name.as_str())],
            Some((_, Value::Array(items))) => items.iter().map(Value::as_str).collect(),
            Some(_) => vec![None],
        };
        if names.is_empty()
            || names
                .iter()
                .any(|n| !n.is_some_and(|n| classes.contains(&n)))
        {
            errors.add(
                self.path("type"),
                format!(
                    "must be one of {} (or an array of them)",
                    classes.join(", ")
                ),
            );
        }
    }

    /// The `id` of a document sent back: accepted and not kept (the server
    /// assigns ids), when it is one of ours of `kind`, and, when the body
    /// replaces `target`, that one.
    pub(crate) fn own_id(
        &self,
        kind: Reference,
        target: Option<Uuid>,
        urls: &Urls,
        errors: &mut Errors,
    ) {
        let Some((key, raw)) = self.string(&["id"], false, errors) else {
            return;
        };
        match (urls.reference(raw, kind), target) {
            (Ok(id), Some(target)) if id != target => errors.add(
                self.path(key),
                "is not this resource's id: leave it out or send the id it was published with",
            ),
            (Ok(_), _) => {}
            (Err(e), _) => errors.add(self.path(key), e.0),
        }
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

/// Names a typed value's error by its path under `prefix`, in this API's
/// words for the two errors serde words its own way (an unknown member, a
/// missing one).
fn typed_error(
    prefix: &str,
    error: serde_path_to_error::Error<serde_json::Error>,
    errors: &mut Errors,
) {
    let path = error.path().to_string();
    let mut field = match (prefix.is_empty(), path.as_str()) {
        (_, ".") => prefix.to_owned(),
        (true, path) => path.to_owned(),
        (false, path) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, path) => format!("{prefix}.{path}"),
    };
    let message = error.into_inner().to_string();
    let named = |marker: &str| {
        message
            .strip_prefix(marker)
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name.to_owned())
    };
    let join = |field: &str, name: &str| {
        if field.is_empty() {
            name.to_owned()
        } else {
            format!("{field}.{name}")
        }
    };
    let message = if let Some(name) = named("unknown field `") {
        // The path may or may not end with the unknown key already.
        if !(field == name || field.ends_with(&format!(".{name}"))) {
            field = join(&field, &name);
        }
        NOT_KEPT.to_owned()
    } else if let Some(name) = named("missing field `") {
        field = join(&field, &name);
        "is required".to_owned()
    } else {
        message
    };
    errors.add(
        if field.is_empty() {
            "body".to_owned()
        } else {
            field
        },
        message,
    );
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
