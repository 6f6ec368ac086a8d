//! The direct canonicalization route against the published vectors and
//! the shared fixtures: wherever it supports a document, its output is the
//! expected canonical N-Quads byte for byte (and equal to the general
//! route's); the documents this server builds must be supported.
#![allow(clippy::unwrap_used)]

mod common;

use common::{read, read_json, shared, w3c_signer};
use openbadges_credentials::DataIntegrity;

/// Compares the direct route with `expected` for every `(name, document)`;
/// returns the names it supported.
fn check(signer: &DataIntegrity, cases: &[(String, serde_json::Value, String)]) -> Vec<String> {
    let mut supported = Vec::new();
    for (name, document, expected) in cases {
        let general = signer.canonicalize_general(document).unwrap();
        assert_eq!(&general, expected, "{name}: the general route");
        match signer.canonicalize_direct(document).unwrap() {
            Some(direct) => {
                assert_eq!(&direct, expected, "{name}: the direct route");
                supported.push(name.clone());
            }
            None => eprintln!("{name}: not supported by the direct route"),
        }
        assert_eq!(&signer.canonicalize(document).unwrap(), expected);
    }
    supported
}

#[test]
fn shared_canon_fixtures() {
    let Some(shared) = shared() else { return };
    let signer = DataIntegrity::new().unwrap();
    let dir = shared.join("spec/canon-fixtures");
    let mut cases = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".canon.nq"))
        else {
            continue;
        };
        cases.push((
            name.to_owned(),
            read_json(&dir.join(format!("{name}.json"))),
            read(&path),
        ));
    }
    let vectors = shared.join("spec/ob3/impl/test-vectors/obv3p0");
    cases.push((
        "1EdTech document".into(),
        read_json(&dir.join("ob_unsigned.json")),
        read(&vectors.join("document-canon.txt")),
    ));
    cases.push((
        "1EdTech proof configuration".into(),
        read_json(&dir.join("ob_proof_config.json")),
        read(&vectors.join("proof-canon.txt")),
    ));
    let supported = check(&signer, &cases);
    eprintln!(
        "direct route: {} of {}: {supported:?}",
        supported.len(),
        cases.len()
    );
    // Everything but the fixtures with `@json` values (a `JsonSchema`'s
    // `jsonSchema`), which the direct route leaves to the general one.
    for name in [
        "ob_basicOpenBadgeCredential",
        "ob_endorsement",
        "ob_escapes",
        "ob_fullOpenBadge",
        "ob_full_nonum",
        "ob_numbers",
        "1EdTech document",
        "1EdTech proof configuration",
    ] {
        assert!(
            supported.iter().any(|s| s == name),
            "{name} should take the direct route"
        );
    }
}

#[test]
fn w3c_vectors() {
    let Some(shared) = shared() else { return };
    let signer = w3c_signer();
    let vectors = shared.join("spec/vc-di-eddsa/TestVectors");
    let mut cases = Vec::new();
    for (dir, unsigned) in [
        ("eddsa-rdfc-2022", "unsigned.json"),
        ("eddsa-rdfc-2022/employ", "employmentAuth.json"),
    ] {
        let d = vectors.join(dir);
        cases.push((
            format!("{dir} document"),
            read_json(&vectors.join(unsigned)),
            read(&d.join("canonDocDataInt.txt")),
        ));
        cases.push((
            format!("{dir} proof configuration"),
            read_json(&d.join("proofConfigDataInt.json")),
            read(&d.join("proofCanonDataInt.txt")),
        ));
    }
    let supported = check(&signer, &cases);
    eprintln!(
        "direct route: {} of {}: {supported:?}",
        supported.len(),
        cases.len()
    );
    // The alumni credential's examples context has an `@vocab`, which the
    // direct route does not handle; the employment authorization's
    // contexts it does.
    assert_eq!(
        supported,
        [
            "eddsa-rdfc-2022/employ document",
            "eddsa-rdfc-2022/employ proof configuration"
        ]
    );
}
