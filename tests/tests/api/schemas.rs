//! The official OB 3.0 JSON Schemas (draft 2019-09), read from
//! `../shared/spec/ob3/schemas` beside the workspace. Where that folder is
//! absent the schema checks are skipped with a message, except under CI
//! (`CI` set), which always has it: there its absence fails.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

/// The compiled validators.
pub struct Schemas {
    credential: jsonschema::Validator,
    profile: jsonschema::Validator,
}

/// Which schema a document is checked against.
#[derive(Clone, Copy, Debug)]
pub enum Schema {
    /// `ob_v3p0_achievementcredential_schema.json`.
    AchievementCredential,
    /// `ob_v3p0_profile_schema.json`.
    Profile,
}

/// `<workspace>/../shared/spec/ob3/schemas`.
pub fn schema_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace")
        .to_path_buf();
    workspace.join("../shared/spec/ob3/schemas")
}

fn compile(file: &str) -> jsonschema::Validator {
    let path = schema_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    jsonschema::draft201909::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{} does not compile: {e}", path.display()))
}

fn load() -> Option<Schemas> {
    let dir = schema_dir();
    if !dir.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing, and CI always has ../shared: the OB 3.0 schema checks cannot run",
            dir.display()
        );
        eprintln!(
            "OB 3.0 JSON Schema checks skipped: {} does not exist (../shared is not beside this checkout)",
            dir.display()
        );
        return None;
    }
    Some(Schemas {
        credential: compile("ob_v3p0_achievementcredential_schema.json"),
        profile: compile("ob_v3p0_profile_schema.json"),
    })
}

/// The schemas, or `None` (after saying why) when they are not available.
pub fn schemas() -> Option<&'static Schemas> {
    static SCHEMAS: OnceLock<Option<Schemas>> = OnceLock::new();
    if let Some(loaded) = SCHEMAS.get() {
        return loaded.as_ref();
    }
    let loaded = load();
    SCHEMAS.get_or_init(|| loaded).as_ref()
}

impl Schemas {
    /// Every violation of `schema` by `doc`, described.
    pub fn violations(&self, schema: Schema, doc: &Value) -> Vec<String> {
        let validator = match schema {
            Schema::AchievementCredential => &self.credential,
            Schema::Profile => &self.profile,
        };
        validator
            .iter_errors(doc)
            .map(|error| format!("at {:?}: {error}", error.instance_path().to_string()))
            .collect()
    }
}

/// Asserts that `doc` validates against `schema` when the schemas are
/// available; returns whether it was checked.
#[track_caller]
pub fn assert_valid(schema: Schema, doc: &Value) -> bool {
    let Some(schemas) = schemas() else {
        return false;
    };
    let violations = schemas.violations(schema, doc);
    assert!(
        violations.is_empty(),
        "the document does not validate against the {schema:?} schema:\n  {}\ndocument: {doc:#}",
        violations.join("\n  ")
    );
    true
}
