//! Interoperability (issue 5, item 8): an independent verifier, the Digital
//! Bazaar JavaScript stack (`@digitalbazaar/vc`, `data-integrity`,
//! `eddsa-rdfc-2022-cryptosuite`) run by `tests/interop/verify.mjs`,
//! verifies the credentials our running server issues and rejects tampered
//! ones; the same credentials validate against the official OB 3.0 JSON
//! Schema. Their `credentialStatus` is checked by the same stack
//! (`@digitalbazaar/vc-bitstring-status-list`): a revoked credential and a
//! forged status list are rejected.
//!
//! One of the credentials verified is read out of the award's baked PNG
//! badge by pypng (`openbadges_e2e::images`), as a wallet would find it.
//!
//! The verifier fetches nothing: its document loader serves the contexts
//! under `crates/credentials/contexts` and the issuer's DID document,
//! verification method and status lists, which this test fetches from the
//! server (did:web) and hands over in a `documents.json`.
//!
//! `node_modules` is installed from `tests/interop/package-lock.json` with
//! `npm ci`, once per run, when missing or older than the lock file. Without
//! Node.js and npm (`make deps` installs them) these tests fail, unless
//! `OPENBADGES_SKIP_INTEROP=1` asks to skip them.
//!
//! The verifier runs with the stack's default proof purpose, which requires
//! the verification method's controller to be the credential's `issuer`:
//! our credentials name their issuer by its did:web, the controller of its
//! keys, as the OB 3.0 implementation guide asks ("Key provenance").
//! The same rule is our `/verify`'s issuer binding: a credential of ours
//! re-signed with a stranger's did:key is rejected by both.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use openbadges_credentials::{
    did_key_for, did_key_verification_method, DataIntegrity, Ed25519KeyPair,
};
use openbadges_e2e::{
    achievement_body, award_body, full_achievement_body, full_credential_body, full_issuer_body,
    id_of, issuer_body, uuid_of, Launch, Server,
};
use serde_json::{json, Map, Value};
use tempfile::TempDir;

/// The context verification methods are served with.
const MULTIKEY_V1: &str = "https://w3id.org/security/multikey/v1";
/// Set to `1` to skip these tests where Node.js is not available.
const SKIP_VARIABLE: &str = "OPENBADGES_SKIP_INTEROP";

/// `tests/interop`, the npm project of the verifier.
fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Checks Node.js and installs `node_modules` when it is missing or older
/// than `package-lock.json`.
fn install() -> Result<(), String> {
    let help = format!(
        "run `make deps` (scripts/install-deps.sh installs nodejs and npm), \
         or set {SKIP_VARIABLE}=1 to skip the interoperability tests"
    );
    openbadges_e2e::node::npm_ci(&interop_dir(), &help)
}

/// Whether the verifier can run: installs it once per test run. `false`
/// (after saying so) only when skipping was asked for; panics when Node.js
/// or npm is missing or the install fails.
fn verifier_ready() -> bool {
    if std::env::var(SKIP_VARIABLE).is_ok_and(|v| v == "1") {
        println!("skipped: {SKIP_VARIABLE}=1");
        return false;
    }
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(error) = INSTALLED.get_or_init(install) {
        panic!("the interoperability verifier cannot be set up: {error}");
    }
    true
}

/// One run of `verify.mjs`.
struct Verdict {
    what: String,
    output: Output,
}

impl Verdict {
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    fn describe(&self) -> String {
        format!(
            "{}: exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.what,
            self.code(),
            self.stdout(),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }

    /// Asserts exit 0 (verified).
    #[track_caller]
    fn assert_verified(&self) {
        assert_eq!(
            self.code(),
            Some(0),
            "expected verified; {}",
            self.describe()
        );
    }

    /// Asserts exit 1 (not verified) with `reason` in the report.
    #[track_caller]
    fn assert_rejected(&self, reason: &str) {
        assert_eq!(
            self.code(),
            Some(1),
            "expected rejected; {}",
            self.describe()
        );
        assert!(
            self.stdout().contains(reason),
            "the rejection should say {reason:?}; {}",
            self.describe()
        );
    }
}

/// The server, the credentials it issued and the documents the verifier
/// needs, written to a temporary directory.
struct Fixture {
    server: Server,
    dir: TempDir,
    credentials: Vec<(String, Value)>,
}

impl Fixture {
    /// A server on SQLite with `BASE_URL` at its own address and
    /// authentication off; an issuer, an achievement and credentials of
    /// several shapes; the issuer's DID document resolved from the did:web
    /// of the proofs.
    fn issue() -> Self {
        let server = Launch::new()
            .base_url_at_own_address()
            .env("AUTH_ENABLED", "false")
            .start();
        let created = |path: &str, body: &Value| {
            let response = server.post(path, body);
            response.assert_status(201);
            response.body
        };
        let issuer = uuid_of(&created("/issuers", &issuer_body("Interop issuer")));
        let badge = uuid_of(&created(
            "/achievements",
            &achievement_body(&issuer, "Interop badge"),
        ));

        let mut credentials = vec![
            (
                "OB 2.0 body, hashed e-mail".to_owned(),
                created("/credentials", &award_body(&badge, "ada@example.org")),
            ),
            (
                "OB 3.0 body, DID subject, evidence, validUntil".to_owned(),
                created(
                    "/credentials",
                    &json!({
                        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
                                              "achievement": {"id": badge}},
                        "validFrom": "2024-05-01T12:00:00.123Z",
                        "validUntil": "2099-01-01T00:00:00Z",
                        "evidence": [{"id": "https://work.example.org/1", "name": "Évidence 🎓",
                                      "description": "The work", "genre": "Code",
                                      "audience": "Reviewers", "narrative": "Wrote *it*"},
                                     {"narrative": "Presented it"}],
                    }),
                ),
            ),
        ];
        // Through /v2 the answer is an OB 2.0 assertion; its OB 3.0
        // rendering, as stored and served, is the signed credential.
        let assertion = created("/v2/credentials", &award_body(&badge, "v2@example.org"));
        let path = format!("/v3/credentials/{}", uuid_of(&assertion));
        let response = server.fetch(&path);
        response.assert_status(200);
        credentials.push((format!("issued through /v2, GET {path}"), response.body));

        // Every OB 3.0 property the server keeps, on the issuer, the
        // achievement and the credential: each term must be defined by the
        // contexts for the proof to cover it.
        let full_issuer = uuid_of(&created("/issuers", &full_issuer_body()));
        let full_badge = id_of(&created(
            "/v3/achievements",
            &full_achievement_body(&full_issuer),
        ));
        credentials.push((
            "every OB 3.0 property".to_owned(),
            created("/v3/credentials", &full_credential_body(&full_badge)),
        ));

        let batch = created(
            "/credentials/batch",
            &json!({"credentials": [
                award_body(&badge, "batch@example.org"),
                {"achievement": badge, "credentialSubject": {"id": "https://people.example.org/ada"},
                 "validFrom": "2024-05-02T00:00:00Z"},
            ]}),
        );
        let batch = batch.as_array().expect("the batch answers an array");
        assert_eq!(batch.len(), 2);
        for (index, credential) in batch.iter().enumerate() {
            credentials.push((format!("batch item {index}"), credential.clone()));
        }

        // The first award as a baked PNG badge (issue 15), its
        // `openbadgecredential` iTXt chunk read out by pypng, not by us:
        // what a holder's wallet would find in the image must verify too.
        let baked = uuid_of(&credentials[0].1);
        let png = server.send_binary("GET", &format!("/credentials/{baked}/image"), &[], None);
        assert_eq!(png.status, 200, "GET /credentials/{baked}/image");
        let file = tempfile::NamedTempFile::new().expect("a temporary file");
        std::fs::write(file.path(), &png.bytes).expect("write the PNG");
        let text = openbadges_e2e::images::pypng_itxt(file.path(), "openbadgecredential");
        let unbaked: Value = serde_json::from_str(&text).expect("the baked credential is JSON");
        assert_eq!(
            unbaked, credentials[0].1,
            "the baked credential is the one issued"
        );
        credentials.push(("unbaked by pypng from the PNG badge".to_owned(), unbaked));

        let dir = tempfile::tempdir().expect("create a temporary directory");
        let fixture = Self {
            server,
            dir,
            credentials,
        };
        fixture.write_documents();
        fixture
    }

    /// Resolves the did:web of every proof's verification method on the
    /// server and writes `documents.json`: each DID → its DID document, each
    /// verification method id → the method with the Multikey context.
    fn write_documents(&self) {
        let mut documents = Map::new();
        for (what, credential) in &self.credentials {
            let method = credential["proof"]["verificationMethod"]
                .as_str()
                .unwrap_or_else(|| panic!("{what}: no proof.verificationMethod: {credential:#}"));
            let (did, _) = method
                .split_once('#')
                .unwrap_or_else(|| panic!("{what}: {method} has no fragment"));
            if documents.contains_key(did) {
                continue;
            }
            let url = did_web_url(did, &self.server.base_url());
            let response = self.server.fetch(&url);
            response.assert_status(200);
            let document = response.body;
            assert_eq!(document["id"], json!(did), "{url}: {document:#}");
            let methods = document["verificationMethod"]
                .as_array()
                .unwrap_or_else(|| panic!("{url}: no verificationMethod: {document:#}"));
            for entry in methods {
                let mut entry = entry.as_object().expect("a method is an object").clone();
                entry.insert("@context".to_owned(), json!(MULTIKEY_V1));
                documents.insert(id_of(&Value::Object(entry.clone())), Value::Object(entry));
            }
            assert!(
                documents.contains_key(method),
                "{what}: {method} is not in the DID document at {url}: {document:#}"
            );
            documents.insert(did.to_owned(), document);
        }
        // The status lists the credentials name, as the server publishes
        // them now (a verifier fetches them at verification time).
        for (what, credential) in &self.credentials {
            let list = credential["credentialStatus"]["statusListCredential"]
                .as_str()
                .unwrap_or_else(|| panic!("{what}: no credentialStatus: {credential:#}"));
            if !documents.contains_key(list) {
                documents.insert(list.to_owned(), self.status_list(list));
            }
        }
        self.write("documents.json", &Value::Object(documents));
    }

    /// A status list credential of the server, by its URL.
    fn status_list(&self, url: &str) -> Value {
        let path = url
            .strip_prefix(&self.server.base_url())
            .unwrap_or_else(|| panic!("{url} is not on the server"));
        let response = self.server.fetch(path);
        response.assert_status(200);
        response.body
    }

    fn write(&self, name: &str, document: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, document.to_string())
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Runs the verifier on `credential` with `flags` and the documents
    /// (those of `documents.json`, or `documents` when given).
    fn verify(
        &self,
        what: &str,
        credential: &Value,
        flags: &[&str],
        documents: Option<&Value>,
    ) -> Verdict {
        let credential_path = self.write("credential.json", credential);
        let documents_path = match documents {
            Some(documents) => self.write("other-documents.json", documents),
            None => self.dir.path().join("documents.json"),
        };
        let output = Command::new("node")
            .arg(interop_dir().join("verify.mjs"))
            .args(flags)
            .arg(&credential_path)
            .arg(&documents_path)
            .output()
            .unwrap_or_else(|e| panic!("cannot run node: {e}"));
        Verdict {
            what: what.to_owned(),
            output,
        }
    }
}

/// The URL a did:web resolves to, with the server's scheme (the tests serve
/// plain HTTP): `did:web:host%3Aport:a:b` → `<scheme>://host:port/a/b/did.json`.
fn did_web_url(did: &str, base_url: &str) -> String {
    let rest = did
        .strip_prefix("did:web:")
        .unwrap_or_else(|| panic!("{did} is not a did:web"));
    let mut segments = rest.split(':');
    let host = segments
        .next()
        .unwrap_or_default()
        .replace("%3A", ":")
        .replace("%3a", ":");
    let path: Vec<&str> = segments.collect();
    let scheme = base_url.split("://").next().unwrap_or("http");
    let url = if path.is_empty() {
        format!("{scheme}://{host}/.well-known/did.json")
    } else {
        format!("{scheme}://{host}/{}/did.json", path.join("/"))
    };
    assert!(
        url.starts_with(base_url),
        "{did} resolves to {url}, not on the server at {base_url}"
    );
    url
}

/// `<workspace>/../shared/spec/ob3/schemas/ob_v3p0_achievementcredential_schema.json`.
fn credential_schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/spec/ob3/schemas/ob_v3p0_achievementcredential_schema.json")
}

/// The official AchievementCredential schema (draft 2019-09, formats
/// checked), or `None` (after saying so) where `../shared` is absent; under
/// CI, which always has it, its absence fails.
fn credential_schema() -> Option<jsonschema::Validator> {
    let path = credential_schema_path();
    if !path.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing, and CI always has ../shared",
            path.display()
        );
        println!(
            "OB 3.0 schema check skipped: {} does not exist",
            path.display()
        );
        return None;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    Some(
        jsonschema::draft201909::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{} does not compile: {e}", path.display())),
    )
}

/// Every credential the server issues, of every shape, verifies with the
/// Digital Bazaar stack and validates against the OB 3.0 schema; changing
/// the achievement's name, the signature or `validFrom` makes it fail on the
/// signature; and the verifier fetches nothing it was not given.
#[test]
fn the_reference_stack_verifies_our_credentials_and_rejects_tampered_ones() {
    if !verifier_ready() {
        return;
    }
    let fixture = Fixture::issue();
    let schema = credential_schema();

    for (what, credential) in &fixture.credentials {
        assert_eq!(
            credential["proof"]["cryptosuite"],
            json!("eddsa-rdfc-2022"),
            "{what}: {credential:#}"
        );
        fixture
            .verify(what, credential, &[], None)
            .assert_verified();
        if let Some(schema) = &schema {
            let violations: Vec<String> = schema
                .iter_errors(credential)
                .map(|e| format!("at {:?}: {e}", e.instance_path().to_string()))
                .collect();
            assert!(
                violations.is_empty(),
                "{what} does not validate against the AchievementCredential schema:\n  {}\n{credential:#}",
                violations.join("\n  ")
            );
        }
    }

    let (what, original) = &fixture.credentials[1];
    let mut renamed = original.clone();
    renamed["credentialSubject"]["achievement"]["name"] = json!("Interop badge, renamed");
    fixture
        .verify(&format!("{what}, achievement renamed"), &renamed, &[], None)
        .assert_rejected("Invalid signature.");

    let mut resigned = original.clone();
    let proof_value = original["proof"]["proofValue"]
        .as_str()
        .expect("a proofValue");
    // Another base58 digit keeps the signature's length.
    let last = if proof_value.ends_with('2') { '3' } else { '2' };
    resigned["proof"]["proofValue"] =
        json!(format!("{}{last}", &proof_value[..proof_value.len() - 1]));
    fixture
        .verify(&format!("{what}, proofValue changed"), &resigned, &[], None)
        .assert_rejected("Invalid signature.");

    let mut redated = original.clone();
    // Still in the past, so that only the signature can fail.
    redated["validFrom"] = json!("2024-05-01T12:00:01.123Z");
    assert_ne!(redated["validFrom"], original["validFrom"]);
    fixture
        .verify(&format!("{what}, validFrom changed"), &redated, &[], None)
        .assert_rejected("Invalid signature.");

    // Revocation reaches the independent verifier through the status list:
    // the revoked credential fails, the others of the same list still pass.
    let (revoked_what, revoked) = &fixture.credentials[0];
    let id = uuid_of(revoked);
    fixture
        .server
        .post(
            &format!("/credentials/{id}/revoke"),
            &json!({"reason": "interop"}),
        )
        .assert_status(200);
    fixture.write_documents();
    let verdict = fixture.verify(&format!("{revoked_what}, revoked"), revoked, &[], None);
    verdict.assert_rejected("\"statusSet\": true");
    fixture.verify(what, original, &[], None).assert_verified();

    // A status list changed in transit fails its own proof, and with it the
    // credential's status check.
    let list_url = original["credentialStatus"]["statusListCredential"]
        .as_str()
        .expect("a statusListCredential");
    let documents: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.dir.path().join("documents.json")).expect("documents"),
    )
    .expect("documents.json");
    let mut forged = documents.clone();
    forged[list_url]["credentialSubject"]["encodedList"] =
        fixture.status_list(list_url)["credentialSubject"]["encodedList"].clone();
    forged[list_url]["validFrom"] = json!("2024-01-01T00:00:00Z");
    fixture
        .verify(
            &format!("{what}, status list forged"),
            original,
            &[],
            Some(&forged),
        )
        .assert_rejected("BitstringStatusListCredential\\\" not verified");

    // The suspension list of the same bits is itself a credential the
    // reference stack verifies.
    let suspension = fixture.status_list(&format!("{list_url}/suspension"));
    assert_eq!(
        suspension["credentialSubject"]["statusPurpose"],
        "suspension"
    );
    fixture
        .verify("the suspension list", &suspension, &[], None)
        .assert_verified();

    // Without the DID documents, the loader refuses rather than fetching.
    let method = original["proof"]["verificationMethod"]
        .as_str()
        .expect("a verificationMethod");
    fixture
        .verify(
            &format!("{what}, no documents"),
            original,
            &[],
            Some(&json!({})),
        )
        .assert_rejected(&format!("refusing to fetch {method}"));
}

/// A credential of ours re-signed with a stranger's did:key: the reference
/// stack rejects it for the reason our `/verify` does (the key's controller
/// is not the credential's issuer), though it resolves the did:key; the
/// did:key issuer's own credential, signed with that key, passes both.
#[test]
fn the_reference_stack_agrees_that_a_strangers_did_key_cannot_sign_for_us() {
    if !verifier_ready() {
        return;
    }
    let fixture = Fixture::issue();
    let (what, original) = &fixture.credentials[1];
    let key = Ed25519KeyPair::generate().expect("a key");
    let public = key.verifying_key();
    let did = did_key_for(&public);
    let method = did_key_verification_method(&public);
    let sign = |unsigned: &Value| {
        DataIntegrity::new()
            .expect("the bundled contexts load")
            .sign(unsigned, &key, &method, "2024-05-01T12:00:00Z")
            .expect("sign")
    };
    let mut unsigned = original.clone();
    unsigned.as_object_mut().expect("an object").remove("proof");

    // The did:key's DID document, as a did:key resolver derives it, beside
    // ours: the reference stack resolves the stranger's key.
    let mut documents: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.dir.path().join("documents.json")).expect("documents"),
    )
    .expect("documents.json");
    let entry = json!({
        "id": method,
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": public.to_multibase(),
    });
    let mut with_context = entry.clone();
    with_context["@context"] = json!(MULTIKEY_V1);
    documents[&method] = with_context;
    documents[&did] = json!({
        "@context": ["https://www.w3.org/ns/did/v1", MULTIKEY_V1],
        "id": did,
        "verificationMethod": [entry],
        "assertionMethod": [method],
    });

    let forged = sign(&unsigned);
    fixture
        .verify(
            &format!("{what}, re-signed with a stranger's did:key"),
            &forged,
            &[],
            Some(&documents),
        )
        .assert_rejected("Credential issuer must match the verification method controller");
    let ours = fixture.server.post("/verify", &forged);
    ours.assert_status(200);
    assert_eq!(ours.body["errorCode"], "ISSUER_MISMATCH", "{:#}", ours.body);

    let mut theirs = unsigned.clone();
    theirs["issuer"]["id"] = json!(did);
    theirs["id"] = json!(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    theirs
        .as_object_mut()
        .expect("an object")
        .remove("credentialStatus");
    let theirs = sign(&theirs);
    fixture
        .verify(
            "the did:key issuer's own credential",
            &theirs,
            &[],
            Some(&documents),
        )
        .assert_verified();
    let ours = fixture.server.post("/verify", &theirs);
    ours.assert_status(200);
    assert_eq!(ours.body["isValid"], true, "{:#}", ours.body);
}

/// An `EndorsementCredential` our server issues (the previous server's
/// body: an issuer of ours endorses an achievement) validates against the
/// official EndorsementCredential schema and verifies with the Digital
/// Bazaar stack; a changed comment fails its signature; once revoked, the
/// same stack finds its bit set in the endorser's status list.
#[test]
fn the_reference_stack_verifies_our_endorsements_and_their_revocation() {
    if !verifier_ready() {
        return;
    }
    let server = Launch::new()
        .base_url_at_own_address()
        .env("AUTH_ENABLED", "false")
        .start();
    let created = |path: &str, body: &Value| {
        let response = server.post(path, body);
        response.assert_status(201);
        response.body
    };
    let issuer = uuid_of(&created("/issuers", &issuer_body("Endorsed issuer")));
    let badge = uuid_of(&created(
        "/achievements",
        &achievement_body(&issuer, "Endorsed badge"),
    ));
    let endorser = uuid_of(&created("/issuers", &issuer_body("Endorsing guild")));
    let endorsement = created(
        &format!("/achievements/{badge}/endorsements"),
        &json!({"issuer": endorser, "endorsementComment": "Meets the guild's standard"}),
    );
    let fixture = Fixture {
        server,
        dir: tempfile::tempdir().expect("create a temporary directory"),
        credentials: vec![("an endorsement".to_owned(), endorsement.clone())],
    };
    fixture.write_documents();

    let schema_path =
        credential_schema_path().with_file_name("ob_v3p0_endorsementcredential_schema.json");
    if schema_path.is_file() {
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(&schema_path).expect("read the schema"))
                .expect("the schema is JSON");
        let validator = jsonschema::draft201909::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles");
        let violations: Vec<String> = validator
            .iter_errors(&endorsement)
            .map(|e| format!("at {:?}: {e}", e.instance_path().to_string()))
            .collect();
        assert!(
            violations.is_empty(),
            "the endorsement does not validate against the EndorsementCredential schema:\n  {}\n{endorsement:#}",
            violations.join("\n  ")
        );
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing",
            schema_path.display()
        );
        println!(
            "EndorsementCredential schema check skipped: {}",
            schema_path.display()
        );
    }

    fixture
        .verify("an endorsement", &endorsement, &[], None)
        .assert_verified();
    let mut changed = endorsement.clone();
    changed["credentialSubject"]["endorsementComment"] = json!("Exceeds every standard");
    fixture
        .verify("an endorsement, comment changed", &changed, &[], None)
        .assert_rejected("Invalid signature.");

    let id = endorsement["id"].as_str().expect("an id");
    let path = id
        .strip_prefix(&fixture.server.base_url())
        .expect("its id is on the server");
    fixture
        .server
        .post(&format!("{path}/revoke"), &json!({"reason": "interop"}))
        .assert_status(200);
    fixture.write_documents();
    fixture
        .verify("an endorsement, revoked", &endorsement, &[], None)
        .assert_rejected("\"statusSet\": true");
}
