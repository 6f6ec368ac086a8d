//! The embedded contexts are exactly the files `scripts/fetch-contexts.sh`
//! pinned in `contexts/SHA256SUMS`, and every pinned file is embedded.
// Helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use openbadges_credentials::contexts::{self, BUNDLED, SHA256SUMS};
use sha2::{Digest, Sha256};

fn pinned() -> BTreeMap<&'static str, &'static str> {
    SHA256SUMS
        .lines()
        .map(|line| {
            let (hash, file) = line
                .split_once("  ")
                .unwrap_or_else(|| panic!("malformed SHA256SUMS line: {line}"));
            (file, hash)
        })
        .collect()
}

#[test]
fn embedded_contexts_match_sha256sums() {
    let pinned = pinned();
    for context in BUNDLED {
        let expected = pinned
            .get(context.file)
            .unwrap_or_else(|| panic!("{} is embedded but not in SHA256SUMS", context.file));
        assert_eq!(
            hex::encode(Sha256::digest(context.document.as_bytes())),
            *expected,
            "{} differs from the bytes pinned in SHA256SUMS; rerun scripts/fetch-contexts.sh",
            context.file
        );
    }
    for file in pinned.keys() {
        assert!(
            BUNDLED.iter().any(|context| context.file == *file),
            "{file} is in SHA256SUMS but not embedded"
        );
    }
}

#[test]
fn files_on_disk_match_sha256sums() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/contexts");
    for (file, hash) in pinned() {
        let bytes = std::fs::read(format!("{dir}/{file}")).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), hash, "{file}");
    }
}

#[test]
fn each_iri_maps_to_one_valid_json_document() {
    let mut seen = std::collections::HashSet::new();
    for context in BUNDLED {
        assert!(seen.insert(context.iri), "{} listed twice", context.iri);
        let json: serde_json::Value = serde_json::from_str(context.document)
            .unwrap_or_else(|e| panic!("{}: {e}", context.file));
        assert!(json.get("@context").is_some(), "{}", context.file);
        assert_eq!(contexts::bundled(context.iri), Some(context));
    }
    assert_eq!(contexts::bundled("https://example.com/unknown"), None);
}

#[test]
fn ob_3_0_3_is_the_published_document() {
    let Some(shared) = common::shared() else {
        return;
    };
    let reference = common::read(&shared.join("spec/ob3/context-3.0.3.json"));
    let bundled = contexts::bundled(contexts::OB_V3P0_3_0_3).unwrap();
    assert_eq!(bundled.document, reference);
}
