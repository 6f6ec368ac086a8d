//! Access to the reference vectors in `../shared` beside the repository.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::Write;
use std::path::{Path, PathBuf};

use openbadges_credentials::DataIntegrity;
use serde_json::Value;

/// `../shared` relative to the workspace root.
pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

/// The shared folder, or `None` after printing why the calling test skips.
pub fn shared() -> Option<PathBuf> {
    let path = Path::new(SHARED);
    if path.join("spec").is_dir() {
        Some(path.to_path_buf())
    } else {
        // Straight to the stderr handle: the test harness captures
        // `println!`/`eprintln!` of passing tests, and this must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: reference vectors are missing: {} does not exist (they live in ../shared beside the repository)",
            path.join("spec").display()
        );
        None
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// The W3C test vectors use two contexts the server does not bundle (they
/// are not Open Badges contexts): the VC examples context and the
/// citizenship vocabulary. These fixtures define the terms the vectors use,
/// mapped as the published contexts map them.
pub fn w3c_signer() -> DataIntegrity {
    DataIntegrity::builder()
        .context(
            "https://www.w3.org/ns/credentials/examples/v2",
            include_str!("../fixtures/credentials-examples-v2.jsonld"),
        )
        .context(
            "https://w3id.org/citizenship/v4rc1",
            include_str!("../fixtures/citizenship-v4rc1-subset.jsonld"),
        )
        .build()
        .expect("signer with test contexts")
}

/// A small Open Badges 3.0 credential (the 1EdTech signing example).
pub fn small_credential() -> Value {
    serde_json::from_str(include_str!("../fixtures/ob_small_credential.json")).expect("fixture")
}
