//! Sign → verify behaviour, tamper detection, and the refusals that keep
//! signatures meaningful and verification bounded.
// Helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::small_credential;
use openbadges_credentials::{
    did_key_verification_method, DataIntegrity, Ed25519KeyPair, Error, Limits,
};
use serde_json::{json, Value};

const CREATED: &str = "2024-05-01T12:00:00Z";

fn signer() -> DataIntegrity {
    DataIntegrity::new().unwrap()
}

#[test]
fn sign_then_verify_with_did_key() {
    let signer = signer();
    let key = Ed25519KeyPair::generate().unwrap();
    let method = did_key_verification_method(&key.verifying_key());
    let signed = signer
        .sign(&small_credential(), &key, &method, CREATED)
        .unwrap();

    let proof = &signed["proof"];
    assert_eq!(proof["type"], "DataIntegrityProof");
    assert_eq!(proof["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(proof["proofPurpose"], "assertionMethod");
    assert_eq!(proof["verificationMethod"], method.as_str());
    assert_eq!(proof["created"], CREATED);
    assert!(proof["proofValue"].as_str().unwrap().starts_with('z'));

    let check = signer.verify(&signed, |_| None).unwrap();
    assert_eq!(check.key, key.verifying_key());
    assert_eq!(check.created.as_deref(), Some(CREATED));
}

#[test]
fn verify_uses_the_resolver_and_rejects_a_wrong_key() {
    let signer = signer();
    let key = Ed25519KeyPair::from_seed(&[3; 32]);
    let method = "https://example.edu/issuers/565049#key-1";
    let signed = signer
        .sign(&small_credential(), &key, method, CREATED)
        .unwrap();

    let right = key.verifying_key();
    assert!(signer
        .verify(&signed, |m| (m == method).then_some(right))
        .is_ok());

    let wrong = Ed25519KeyPair::from_seed(&[4; 32]).verifying_key();
    assert!(matches!(
        signer.verify(&signed, |_| Some(wrong)),
        Err(Error::SignatureMismatch { .. })
    ));
    assert!(matches!(
        signer.verify(&signed, |_| None),
        Err(Error::UnresolvedVerificationMethod(m)) if m == method
    ));
}

/// Every JSON pointer to a scalar in `value`.
fn leaf_pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                leaf_pointers(item, format!("{prefix}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                leaf_pointers(item, format!("{prefix}/{i}"), out);
            }
        }
        _ => out.push(prefix),
    }
}

#[test]
fn tampering_with_any_field_fails_verification() {
    let signer = signer();
    let key = Ed25519KeyPair::from_seed(&[5; 32]);
    let method = did_key_verification_method(&key.verifying_key());
    let signed = signer
        .sign(&small_credential(), &key, &method, CREATED)
        .unwrap();
    assert!(signer.verify(&signed, |_| None).is_ok());

    let mut pointers = Vec::new();
    leaf_pointers(&signed, String::new(), &mut pointers);
    assert!(pointers.len() > 15);
    for pointer in pointers {
        let mut tampered = signed.clone();
        let field = tampered.pointer_mut(&pointer).unwrap();
        *field = match field {
            Value::String(s) => Value::String(format!("{s}x")),
            Value::Number(n) => json!(n.as_f64().unwrap() + 1.0),
            Value::Bool(b) => Value::Bool(!*b),
            Value::Null => json!("x"),
            _ => unreachable!(),
        };
        let error = signer
            .verify(&tampered, |_| None)
            .expect_err(&format!("changing {pointer} must break verification"));
        assert!(!error.to_string().is_empty());
        // Plain data fields have nothing to reject but the signature.
        if pointer.ends_with("/name") || pointer.ends_with("/narrative") || pointer == "/id" {
            assert!(
                matches!(error, Error::SignatureMismatch { .. }),
                "{pointer}: {error}"
            );
        }
    }

    let mut removed = signed.clone();
    removed["credentialSubject"]["achievement"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    assert!(matches!(
        signer.verify(&removed, |_| None),
        Err(Error::SignatureMismatch { .. })
    ));

    let mut added = signed.clone();
    added["description"] = json!("added after signing");
    assert!(matches!(
        signer.verify(&added, |_| None),
        Err(Error::SignatureMismatch { .. })
    ));

    let mut later = signed.clone();
    later["proof"]["created"] = json!("2024-05-01T12:00:01Z");
    assert!(matches!(
        signer.verify(&later, |_| None),
        Err(Error::SignatureMismatch { .. })
    ));
}

#[test]
fn proof_shape_is_checked() {
    let signer = signer();
    let key = Ed25519KeyPair::from_seed(&[6; 32]);
    let method = did_key_verification_method(&key.verifying_key());
    let signed = signer
        .sign(&small_credential(), &key, &method, CREATED)
        .unwrap();
    for (field, value) in [
        ("type", "Ed25519Signature2020"),
        ("cryptosuite", "ecdsa-rdfc-2019"),
        ("proofPurpose", "authentication"),
    ] {
        let mut changed = signed.clone();
        changed["proof"][field] = json!(value);
        let error = signer.verify(&changed, |_| None).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidProof(m) if m.contains(field)),
            "{field}: {error}"
        );
    }
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    assert!(matches!(
        signer.verify(&unsigned, |_| None),
        Err(Error::InvalidProof(_))
    ));
    assert!(matches!(
        signer.sign(&signed, &key, &method, CREATED),
        Err(Error::InvalidDocument(_))
    ));
    assert!(matches!(
        signer.sign(&small_credential(), &key, &method, "yesterday"),
        Err(Error::InvalidProof(_))
    ));
}

#[test]
fn undefined_terms_are_rejected() {
    let signer = signer();
    let mut credential = small_credential();
    credential["credentialSubject"]["favouriteColour"] = json!("blue");
    let error = signer.canonicalize(&credential).unwrap_err();
    assert!(
        matches!(&error, Error::UndefinedTerm(term) if term == "favouriteColour"),
        "{error}"
    );
    assert!(error.to_string().contains("favouriteColour"));

    let key = Ed25519KeyPair::from_seed(&[7; 32]);
    assert!(matches!(
        signer.sign(&credential, &key, "did:example:issuer#key", CREATED),
        Err(Error::UndefinedTerm(_))
    ));
}

#[test]
fn keyword_lookalikes_are_rejected() {
    // JSON-LD ignores `@something` keys that are not keywords.
    let signer = signer();
    let mut credential = small_credential();
    credential["credentialSubject"]["@comment"] = json!("not covered by a signature");
    assert!(matches!(
        signer.canonicalize(&credential),
        Err(Error::UndefinedTerm(term)) if term == "@comment"
    ));
}

#[test]
fn blank_node_properties_are_rejected() {
    // RDF has no blank-node predicates, so JSON-LD drops such properties.
    let mut credential = small_credential();
    credential["credentialSubject"]["_:secret"] = json!("not covered by a signature");
    assert!(matches!(
        signer().canonicalize(&credential),
        Err(Error::UndefinedTerm(term)) if term == "_:secret"
    ));
}

#[test]
fn language_tags_are_lowercased_like_jsonld_js() {
    let mut credential = small_credential();
    credential["name"] = json!({"@value": "Teamwork", "@language": "EN-US"});
    let canonical = signer().canonicalize(&credential).unwrap();
    assert!(
        canonical.contains(r#"<https://schema.org/name> "Teamwork"@en-us ."#),
        "{canonical}"
    );
}

#[test]
fn unresolvable_references_are_rejected() {
    let signer = signer();
    let mut credential = small_credential();
    credential["type"] = json!(["VerifiableCredential", "OpenBadgeCredental"]);
    let error = signer.canonicalize(&credential).unwrap_err();
    assert!(
        matches!(&error, Error::RelativeReference(r) if r == "OpenBadgeCredental"),
        "{error}"
    );

    let mut credential = small_credential();
    credential["id"] = json!("credentials/3527");
    assert!(matches!(
        signer.canonicalize(&credential),
        Err(Error::RelativeReference(_))
    ));
}

#[test]
fn contexts_that_are_not_bundled_are_rejected() {
    let signer = signer();
    let mut credential = small_credential();
    credential["@context"] = json!([
        "https://www.w3.org/ns/credentials/v2",
        "https://example.com/contexts/unknown.jsonld"
    ]);
    let error = signer.canonicalize(&credential).unwrap_err();
    assert!(
        matches!(&error, Error::UnknownContext(iri) if iri == "https://example.com/contexts/unknown.jsonld"),
        "{error}"
    );
    assert!(error
        .to_string()
        .contains("https://example.com/contexts/unknown.jsonld"));

    // Also when the reference is nested inside the document.
    let mut credential = small_credential();
    credential["credentialSubject"]["@context"] = json!("https://example.com/nested.jsonld");
    assert!(matches!(
        signer.canonicalize(&credential),
        Err(Error::UnknownContext(iri)) if iri == "https://example.com/nested.jsonld"
    ));
}

#[test]
fn every_bundled_context_is_usable() {
    let signer = signer();
    for context in openbadges_credentials::contexts::BUNDLED {
        let document = json!({
            "@context": [context.iri, {"ex": "https://example.org/vocab#"}],
            "@id": "https://example.org/thing",
            "ex:p": "v"
        });
        signer
            .canonicalize(&document)
            .unwrap_or_else(|e| panic!("{}: {e}", context.iri));
    }
}

/// A graph of `n` blank nodes, each linked to every other one: every node
/// looks the same to the canonicalization algorithm, whose work then grows
/// factorially.
fn symmetric_blank_node_graph(n: usize) -> Value {
    let nodes: Vec<Value> = (0..n)
        .map(|i| {
            let others: Vec<String> = (0..n)
                .filter(|&j| j != i)
                .map(|j| format!("_:n{j}"))
                .collect();
            json!({"@id": format!("_:n{i}"), "knows": others})
        })
        .collect();
    json!({
        "@context": {"knows": {"@id": "https://example.org/knows", "@type": "@id"}},
        "@graph": nodes
    })
}

#[test]
fn pathological_blank_node_graphs_are_refused_quickly() {
    let signer = signer();
    let started = Instant::now();
    let error = signer
        .canonicalize(&symmetric_blank_node_graph(12))
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, Error::Canonicalization(_)), "{error}");
    assert!(
        elapsed < Duration::from_secs(10),
        "refusing took {elapsed:?}"
    );
    // Small symmetric graphs are ordinary and still canonicalize.
    signer.canonicalize(&symmetric_blank_node_graph(3)).unwrap();
}

#[test]
fn default_limits_accept_a_credential_with_thirty_endorsements() {
    let Some(shared) = common::shared() else {
        return;
    };
    let mut credential =
        common::read_json(&shared.join("spec/canon-fixtures/ob_fullOpenBadge.json"));
    let endorsement = credential["endorsement"][0].clone();
    credential["endorsement"] = (0..30)
        .map(|i| {
            let mut copy = endorsement.clone();
            copy["id"] = json!(format!("{}-{i}", endorsement["id"].as_str().unwrap()));
            copy["name"] = json!(format!("Endorsement {i}"));
            copy
        })
        .collect();
    let key = Ed25519KeyPair::from_seed(&[9; 32]);
    let method = did_key_verification_method(&key.verifying_key());
    let signed = signer().sign(&credential, &key, &method, CREATED).unwrap();
    signer().verify(&signed, |_| None).unwrap();
}

#[test]
fn oversized_and_deeply_nested_input_is_refused() {
    let small = DataIntegrity::builder()
        .limits(Limits {
            max_input_bytes: 4_096,
            ..Limits::default()
        })
        .build()
        .unwrap();
    let mut credential = small_credential();
    credential["description"] = json!("x".repeat(5_000));
    assert!(matches!(
        small.canonicalize(&credential),
        Err(Error::LimitExceeded(_))
    ));

    let mut nested = json!("leaf");
    for _ in 0..200 {
        nested = json!([nested]);
    }
    let mut credential = small_credential();
    credential["description"] = nested;
    assert!(matches!(
        signer().canonicalize(&credential),
        Err(Error::LimitExceeded(_))
    ));
}

#[test]
fn nesting_up_to_the_limit_does_not_exhaust_the_stack() {
    // The JSON-LD algorithms recurse per level with large frames; a test
    // thread has a 2 MiB stack, as do Tokio's blocking threads.
    let depth = Limits::default().max_depth - 2;
    let mut nested = json!({"@id": "urn:example:leaf"});
    for level in 0..depth {
        nested = json!({"@id": format!("urn:example:{level}"), "next": nested});
    }
    nested["@context"] = json!({"next": {"@id": "https://example.org/next"}});
    let canonical = signer().canonicalize(&nested).unwrap();
    assert_eq!(canonical.lines().count(), depth);
}

#[test]
fn repeating_context_references_is_refused() {
    let signer = signer();
    let mut achievement = small_credential()["credentialSubject"]["achievement"].clone();
    achievement["@context"] = json!("https://www.w3.org/ns/credentials/v2");
    let mut credential = small_credential();
    credential["credentialSubject"]["achievement"] = Value::Array(vec![achievement; 1000]);
    let started = Instant::now();
    let result = signer.canonicalize(&credential);
    assert!(matches!(result, Err(Error::LimitExceeded(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // The same context named many times at the top is processed once.
    let mut credential = small_credential();
    let mut context = vec![json!("https://www.w3.org/ns/credentials/v2"); 1000];
    context.push(json!(
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
    ));
    credential["@context"] = Value::Array(context);
    let started = Instant::now();
    signer.canonicalize(&credential).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn not_json_ld_documents_are_errors_not_panics() {
    let signer = signer();
    for document in [
        json!(null),
        json!([]),
        json!("text"),
        json!({"id": "urn:x"}),
        json!({"@context": 5}),
        json!({"@context": [null, {"@version": 2.0}]}),
    ] {
        assert!(signer.canonicalize(&document).is_err(), "{document}");
        assert!(signer.verify(&document, |_| None).is_err(), "{document}");
    }
}

#[test]
fn many_threads_share_one_signer() {
    let signer = signer();
    let key = Ed25519KeyPair::from_seed(&[8; 32]);
    let method = did_key_verification_method(&key.verifying_key());
    let expected = signer
        .sign(&small_credential(), &key, &method, CREATED)
        .unwrap();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..5 {
                    let signed = signer
                        .sign(&small_credential(), &key, &method, CREATED)
                        .unwrap();
                    assert_eq!(signed, expected);
                    signer.verify(&signed, |_| None).unwrap();
                }
            });
        }
    });
}
