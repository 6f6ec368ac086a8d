//! Valid request bodies and reading ids out of documents.

use serde_json::{json, Value};

/// The UUID at the end of a document's `id` URL.
pub fn uuid_of(doc: &Value) -> String {
    let id = id_of(doc);
    let uuid = id.rsplit('/').next().unwrap_or_default();
    uuid::Uuid::parse_str(uuid).unwrap_or_else(|e| panic!("{id} does not end in a UUID: {e}"));
    uuid.to_owned()
}

/// A document's `id`.
pub fn id_of(doc: &Value) -> String {
    doc["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no string id in {doc}"))
        .to_owned()
}

/// A valid issuer body.
pub fn issuer_body(name: &str) -> Value {
    json!({
        "name": name,
        "url": "https://issuer.example.org",
        "email": "badges@issuer.example.org",
        "description": "Issues badges in the end-to-end tests",
        "image": "https://issuer.example.org/logo.png",
    })
}

/// A valid OB 2.0 badge class body for `issuer`.
pub fn achievement_body(issuer: &str, name: &str) -> Value {
    json!({
        "issuer": issuer,
        "name": name,
        "description": "Awarded in the end-to-end tests",
        "image": "https://issuer.example.org/badge.png",
        "criteria": {"narrative": "Pass the end-to-end tests"},
    })
}

/// A valid OB 2.0 assertion body: `badge` awarded to `email` (hashed by
/// default).
pub fn award_body(badge: &str, email: &str) -> Value {
    json!({
        "badge": badge,
        "recipient": {"type": "email", "identity": email},
        "issuedOn": "2024-05-01T12:00:00Z",
    })
}
