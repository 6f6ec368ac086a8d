//! Reproduces published test vectors byte for byte: the W3C
//! eddsa-rdfc-2022 vectors, the 1EdTech Open Badges 3.0 canonicalization
//! vectors and signing example, and the canonical N-Quads that jsonld.js +
//! rdf-canonize (what most verifiers run) produce for Open Badges documents.
// Helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{read, read_json, shared, w3c_signer, SHARED};
use openbadges_credentials::{DataIntegrity, Ed25519KeyPair, VerifyingKey};
use sha2::{Digest, Sha256};

/// CI has `../shared`; make sure the vector tests can never be skipped
/// there without anyone noticing.
#[test]
fn vectors_are_present_in_ci() {
    if std::env::var_os("CI").is_some() {
        assert!(
            Path::new(SHARED).join("spec").is_dir(),
            "CI is set but the reference vectors at {SHARED}/spec are missing; the vector tests would be skipped"
        );
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn first_line(path: &Path) -> String {
    read(path).trim().to_owned()
}

/// Runs one W3C eddsa-rdfc-2022 vector directory against `unsigned`.
fn check_w3c_vector(vectors: &Path, dir: &str, unsigned: &str) {
    let signer = w3c_signer();
    let unsigned = &read_json(&vectors.join(unsigned));
    let key_pair = read_json(&vectors.join("keyPair.json"));
    let dir = &vectors.join(dir);
    let key =
        Ed25519KeyPair::from_secret_multibase(key_pair["privateKeyMultibase"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        key.public_key_multibase(),
        key_pair["publicKeyMultibase"].as_str().unwrap()
    );
    assert_eq!(
        key.secret_key_multibase().as_str(),
        key_pair["privateKeyMultibase"].as_str().unwrap()
    );

    let canonical_document = signer.canonicalize(unsigned).unwrap();
    assert_eq!(canonical_document, read(&dir.join("canonDocDataInt.txt")));
    assert_eq!(
        sha256_hex(&canonical_document),
        first_line(&dir.join("docHashDataInt.txt"))
    );

    let proof_config = read_json(&dir.join("proofConfigDataInt.json"));
    let canonical_proof = signer.canonicalize(&proof_config).unwrap();
    assert_eq!(canonical_proof, read(&dir.join("proofCanonDataInt.txt")));
    assert_eq!(
        sha256_hex(&canonical_proof),
        first_line(&dir.join("proofHashDataInt.txt"))
    );
    assert_eq!(
        format!(
            "{}{}",
            sha256_hex(&canonical_proof),
            sha256_hex(&canonical_document)
        ),
        first_line(&dir.join("combinedHashDataInt.txt"))
    );

    let signed = signer
        .sign(
            unsigned,
            &key,
            proof_config["verificationMethod"].as_str().unwrap(),
            proof_config["created"].as_str().unwrap(),
        )
        .unwrap();
    let proof_value = signed["proof"]["proofValue"].as_str().unwrap();
    assert_eq!(proof_value, first_line(&dir.join("sigBTC58DataInt.txt")));
    assert_eq!(
        hex::encode(bs58::decode(&proof_value[1..]).into_vec().unwrap()),
        first_line(&dir.join("sigHexDataInt.txt"))
    );
    assert_eq!(signed, read_json(&dir.join("signedDataInt.json")));

    let check = signer
        .verify(&read_json(&dir.join("signedDataInt.json")), |_| None)
        .unwrap();
    assert_eq!(check.key, key.verifying_key());
}

#[test]
fn w3c_eddsa_rdfc_2022_alumni_credential() {
    let Some(shared) = shared() else { return };
    let vectors = shared.join("spec/vc-di-eddsa/TestVectors");
    check_w3c_vector(&vectors, "eddsa-rdfc-2022", "unsigned.json");
}

#[test]
fn w3c_eddsa_rdfc_2022_employment_authorization() {
    let Some(shared) = shared() else { return };
    let vectors = shared.join("spec/vc-di-eddsa/TestVectors");
    check_w3c_vector(&vectors, "eddsa-rdfc-2022/employ", "employmentAuth.json");
}

#[test]
fn one_edtech_canonicalization_vectors() {
    let Some(shared) = shared() else { return };
    let signer = DataIntegrity::new().unwrap();
    let fixtures = shared.join("spec/canon-fixtures");
    let vectors = shared.join("spec/ob3/impl/test-vectors/obv3p0");
    assert_eq!(
        signer
            .canonicalize(&read_json(&fixtures.join("ob_unsigned.json")))
            .unwrap(),
        read(&vectors.join("document-canon.txt"))
    );
    assert_eq!(
        signer
            .canonicalize(&read_json(&fixtures.join("ob_proof_config.json")))
            .unwrap(),
        read(&vectors.join("proof-canon.txt"))
    );
}

#[test]
fn every_canon_fixture_matches_jsonld_js() {
    let Some(shared) = shared() else { return };
    let signer = DataIntegrity::new().unwrap();
    let dir = shared.join("spec/canon-fixtures");
    let mut checked = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for expected_path in entries {
        let Some(name) = expected_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".canon.nq"))
        else {
            continue;
        };
        let input = read_json(&dir.join(format!("{name}.json")));
        let actual = signer
            .canonicalize(&input)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            actual,
            read(&expected_path),
            "{name}.json does not canonicalize to {name}.canon.nq"
        );
        checked.push(name.to_owned());
    }
    println!(
        "canonicalized {} fixtures: {}",
        checked.len(),
        checked.join(", ")
    );
    assert!(
        checked.len() >= 8,
        "expected the eight fixtures, found {checked:?}"
    );
}

#[test]
fn one_edtech_signing_example() {
    let Some(shared) = shared() else { return };
    let signer = DataIntegrity::new().unwrap();
    let dir = shared.join("spec/canon-fixtures");
    let expected = read_json(&dir.join("ob_key.json"));
    let key =
        Ed25519KeyPair::from_secret_multibase(expected["secretKeyMultibase"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        key.public_key_multibase(),
        expected["publicKeyMultibase"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(key.verifying_key().to_bytes()),
        expected["publicKeyHex"].as_str().unwrap()
    );

    let unsigned = read_json(&dir.join("ob_unsigned.json"));
    let proof_config = read_json(&dir.join("ob_proof_config.json"));
    assert_eq!(
        sha256_hex(&signer.canonicalize(&unsigned).unwrap()),
        expected["docHash"].as_str().unwrap()
    );
    assert_eq!(
        sha256_hex(&signer.canonicalize(&proof_config).unwrap()),
        expected["proofHash"].as_str().unwrap()
    );

    let verification_method = proof_config["verificationMethod"].as_str().unwrap();
    let signed = signer
        .sign(
            &unsigned,
            &key,
            verification_method,
            proof_config["created"].as_str().unwrap(),
        )
        .unwrap();
    let proof_value = signed["proof"]["proofValue"].as_str().unwrap();
    assert_eq!(proof_value, expected["proofValue"].as_str().unwrap());
    assert_eq!(
        hex::encode(bs58::decode(&proof_value[1..]).into_vec().unwrap()),
        expected["sigHex"].as_str().unwrap()
    );
    let published = read_json(&dir.join("ob_signed.json"));
    assert_eq!(
        proof_value,
        published["proof"]["proofValue"].as_str().unwrap()
    );
    assert_eq!(signed, published);

    let public =
        VerifyingKey::from_multibase(expected["publicKeyMultibase"].as_str().unwrap()).unwrap();
    let check = signer
        .verify(&published, |method| {
            (method == verification_method).then_some(public)
        })
        .unwrap();
    assert_eq!(check.verification_method, verification_method);
    assert_eq!(check.created.as_deref(), Some("2010-01-01T19:23:24Z"));
}
