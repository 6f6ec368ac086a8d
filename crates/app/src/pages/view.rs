//! What a page shows, read from the OB 3.0 document it stands for.
//!
//! Pages are built from the same JSON the API serves (for a credential:
//! the signed credential as issued), not from the stored rows: a page can
//! never show something the credential does not say, and every property
//! the document carries is there to show.

use serde_json::Value;

/// A string member at `path` (object keys), trimmed; `None` when absent,
/// empty or not a string.
pub(crate) fn text(value: &Value, path: &[&str]) -> Option<String> {
    let mut node = value;
    for key in path {
        node = node.get(key)?;
    }
    node.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// An array member at `key`; a single object counts as a one-item array
/// (OB 2.0 allowed both), absence as none.
pub(crate) fn items<'v>(value: &'v Value, key: &str) -> Vec<&'v Value> {
    match value.get(key) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    }
}

/// The id of a member that is an IRI string or an object with an `id`
/// (an OB 3.0 `Image`, a referenced profile).
pub(crate) fn iri(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => text(value, &[key, "id"]),
        _ => None,
    }
}

/// A number or string member as text (`creditsEarned`, a result's value).
pub(crate) fn scalar(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An RFC 3339 date-time as a reader writes it: `7 December 2026`. A
/// value that does not parse is shown as given.
pub(crate) fn human_date(raw: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.format("%-d %B %Y").to_string())
        .unwrap_or_else(|_| raw.to_owned())
}

/// A link: where it goes and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub href: String,
    pub label: String,
}

/// An alignment to a framework, as a line of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AlignmentView {
    pub name: String,
    pub url: Option<String>,
    pub framework: Option<String>,
    pub code: Option<String>,
    pub description: Option<String>,
}

/// What a badge is and how it is earned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AchievementView {
    pub name: String,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub criteria: Option<String>,
    pub criteria_url: Option<String>,
    pub alignments: Vec<AlignmentView>,
    pub tags: Vec<String>,
    pub credits: Option<String>,
    pub field_of_study: Option<String>,
    pub specialization: Option<String>,
    pub human_code: Option<String>,
}

impl AchievementView {
    /// Reads an OB 3.0 `Achievement`.
    pub(crate) fn of(achievement: &Value) -> Self {
        let alignments = items(achievement, "alignment")
            .into_iter()
            .filter_map(|a| {
                Some(AlignmentView {
                    name: text(a, &["targetName"])?,
                    url: text(a, &["targetUrl"]),
                    framework: text(a, &["targetFramework"]),
                    code: text(a, &["targetCode"]),
                    description: text(a, &["targetDescription"]),
                })
            })
            .collect();
        let tags = items(achievement, "tag")
            .into_iter()
            .chain(match achievement.get("tag") {
                Some(tag @ Value::String(_)) => vec![tag],
                _ => Vec::new(),
            })
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        Self {
            name: text(achievement, &["name"]).unwrap_or_else(|| "Unnamed badge".to_owned()),
            description: text(achievement, &["description"]),
            kind: text(achievement, &["achievementType"]).map(|t| spaced(&t)),
            criteria: text(achievement, &["criteria", "narrative"]),
            criteria_url: text(achievement, &["criteria", "id"]),
            alignments,
            tags,
            credits: scalar(achievement, "creditsAvailable"),
            field_of_study: text(achievement, &["fieldOfStudy"]),
            specialization: text(achievement, &["specialization"]),
            human_code: text(achievement, &["humanCode"]),
        }
    }
}

/// `BachelorDegree` → `Bachelor degree`; `ext:Foo` → `Foo`.
fn spaced(term: &str) -> String {
    let term = term.strip_prefix("ext:").unwrap_or(term);
    let mut out = String::with_capacity(term.len() + 4);
    for (i, c) in term.chars().enumerate() {
        if i > 0 && c.is_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Who issued a badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuerView {
    pub name: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
}

impl IssuerView {
    /// Reads an OB 3.0 `Profile`.
    pub(crate) fn of(profile: &Value) -> Self {
        Self {
            name: text(profile, &["name"]).unwrap_or_else(|| "Unnamed issuer".to_owned()),
            url: text(profile, &["url"]),
            email: text(profile, &["email"]),
            description: text(profile, &["description"]),
        }
    }
}

/// One result of an assessment (`credentialSubject.result`), with the
/// name of what it measures and of the level reached, when the
/// achievement's `resultDescription` gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResultView {
    pub label: String,
    pub value: String,
}

/// The results of `subject`, named after the achievement's result
/// descriptions.
pub(crate) fn results(subject: &Value, achievement: &Value) -> Vec<ResultView> {
    let descriptions = items(achievement, "resultDescription");
    let described = |id: &str| {
        descriptions
            .iter()
            .find(|d| text(d, &["id"]).as_deref() == Some(id))
            .copied()
    };
    items(subject, "result")
        .into_iter()
        .filter_map(|result| {
            let description = text(result, &["resultDescription"])
                .as_deref()
                .and_then(described);
            let label = description
                .and_then(|d| text(d, &["name"]))
                .unwrap_or_else(|| "Result".to_owned());
            let level = text(result, &["achievedLevel"]).and_then(|level| {
                description
                    .map(|d| items(d, "rubricCriterionLevel"))
                    .unwrap_or_default()
                    .into_iter()
                    .find(|l| text(l, &["id"]).as_deref() == Some(level.as_str()))
                    .and_then(|l| text(l, &["name"]))
            });
            let status = text(result, &["status"]).map(|s| spaced(&s));
            let value = [scalar(result, "value"), level, status]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            (!value.is_empty()).then_some(ResultView { label, value })
        })
        .collect()
}

/// Who received an award, as far as the credential discloses it: a URL or
/// DID, or an identity given in the clear. A hashed identity stays hidden:
/// the page is public, and the hash of an e-mail address can be guessed.
pub(crate) fn recipient(subject: &Value) -> Option<String> {
    if let Some(id) = text(subject, &["id"]) {
        return Some(id);
    }
    items(subject, "identifier").into_iter().find_map(|entry| {
        let hashed = entry.get("hashed").and_then(Value::as_bool).unwrap_or(true);
        (!hashed).then(|| text(entry, &["identityHash"])).flatten()
    })
}

/// A piece of evidence, as a line of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EvidenceView {
    pub name: String,
    pub url: Option<String>,
    pub narrative: Option<String>,
}

/// The credential's evidence.
pub(crate) fn evidence(credential: &Value) -> Vec<EvidenceView> {
    items(credential, "evidence")
        .into_iter()
        .map(|e| EvidenceView {
            name: text(e, &["name"]).unwrap_or_else(|| "Evidence".to_owned()),
            url: text(e, &["id"]),
            narrative: text(e, &["narrative"]).or_else(|| text(e, &["description"])),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_hashed_identity_is_never_disclosed() {
        let hashed = json!({"identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
            "hashed": true, "identityHash": "sha256$abc", "salt": "s"}]});
        assert_eq!(recipient(&hashed), None);
        let clear = json!({"identifier": [{"hashed": false, "identityHash": "ada@example.org"}]});
        assert_eq!(recipient(&clear).as_deref(), Some("ada@example.org"));
        let did = json!({"id": "did:example:ada"});
        assert_eq!(recipient(&did).as_deref(), Some("did:example:ada"));
        assert_eq!(recipient(&json!({})), None);
    }

    #[test]
    fn results_are_named_after_their_descriptions() {
        let achievement = json!({"resultDescription": [{
            "id": "urn:rd:1", "name": "Final exam", "rubricCriterionLevel": [
                {"id": "urn:lvl:a", "name": "Excellent"}]}]});
        let subject = json!({"result": [
            {"resultDescription": "urn:rd:1", "value": "92", "achievedLevel": "urn:lvl:a"},
            {"status": "Completed"},
            {"type": ["Result"]}]});
        assert_eq!(
            results(&subject, &achievement),
            [
                ResultView {
                    label: "Final exam".into(),
                    value: "92 · Excellent".into()
                },
                ResultView {
                    label: "Result".into(),
                    value: "Completed".into()
                },
            ]
        );
    }

    #[test]
    fn achievement_types_read_as_words() {
        assert_eq!(spaced("BachelorDegree"), "Bachelor degree");
        assert_eq!(spaced("ext:Workshop"), "Workshop");
        assert_eq!(human_date("2026-12-07T10:00:00Z"), "7 December 2026");
        assert_eq!(human_date("soon"), "soon");
    }
}
