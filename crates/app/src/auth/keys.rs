//! API keys: random, shown once, stored as SHA-256; and the keys configured
//! the previous server's way, `AUTH_API_KEY_<NAME>=<key>:<userId>:<description>`.

use openbadges_domain::{ApiKeyHash, Label};
use uuid::Uuid;

/// Prefix of every key this server makes, so leaked keys are easy to grep for.
pub const KEY_PREFIX: &str = "obk_";

/// A new key: `obk_` and 64 hex digits (244 random bits from two v4 UUIDs,
/// which come from the operating system's generator).
pub fn generate() -> String {
    format!(
        "{KEY_PREFIX}{}{}",
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    )
}

/// What lists show of a key: its first 12 characters.
pub fn display_prefix(key: &str) -> Label {
    let prefix: String = key.chars().take(12).collect();
    Label::parse(prefix).unwrap_or_else(|_| Label::parse("obk_").unwrap_or_else(|_| unreachable!()))
}

/// A key configured in the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfiguredKey {
    /// The `<NAME>` of `AUTH_API_KEY_<NAME>`.
    pub name: String,
    /// SHA-256 of the key.
    pub hash: ApiKeyHash,
    /// The `<userId>` part: a user id of ours acts as that user; anything
    /// else (the old server took free text) acts as an administrator.
    pub user: String,
    /// The `<description>` part.
    pub description: String,
}

impl std::fmt::Debug for ConfiguredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredKey")
            .field("name", &self.name)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Parses `AUTH_API_KEY_<NAME>` variables; `Err` names a malformed one
/// (without its value).
pub fn configured_keys<'a>(
    vars: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<ConfiguredKey>, String> {
    let mut keys = Vec::new();
    for (name, value) in vars {
        let Some(label) = name.strip_prefix("AUTH_API_KEY_") else {
            continue;
        };
        let mut parts = value.splitn(3, ':');
        let key = parts.next().unwrap_or_default();
        let user = parts.next().unwrap_or_default();
        let description = parts.next().unwrap_or_default();
        if key.len() < 16 {
            return Err(format!(
                "{name} must be <key>:<userId>:<description> with a key of at least 16 characters"
            ));
        }
        keys.push(ConfiguredKey {
            name: label.to_owned(),
            hash: ApiKeyHash::of_key(key),
            user: user.to_owned(),
            description: description.to_owned(),
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_distinct_and_prefixed() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX) && a.len() == 68);
        assert_eq!(display_prefix(&a).as_str(), &a[..12]);
    }

    #[test]
    fn configured_keys_parse_and_reject_short_ones() {
        let keys = configured_keys([
            (
                "AUTH_API_KEY_CI",
                "0123456789abcdef:ci-user:deploy bot: with colon",
            ),
            ("PATH", "/usr/bin"),
        ])
        .unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].name, "CI");
        assert_eq!(keys[0].hash, ApiKeyHash::of_key("0123456789abcdef"));
        assert_eq!(keys[0].description, "deploy bot: with colon");
        let error = configured_keys([("AUTH_API_KEY_X", "short:u:d")]).unwrap_err();
        assert!(!error.contains("short"), "the value is not echoed");
    }
}
