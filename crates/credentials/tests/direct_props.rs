//! Property tests: the direct canonicalization route produces exactly the
//! bytes of the general route (JSON-LD expansion + RDFC-1.0).
//!
//! The generators build documents in every shape this server signs (see
//! `crates/domain/src/documents.rs` and `endorsements.rs`): OB 3.0
//! `OpenBadgeCredential`s with every optional member present or absent,
//! lists of one or many, recipients by id or by identity object, all
//! profile, achievement, result, alignment, identifier, evidence, status
//! and schema members; `EndorsementCredential`s; Bitstring Status List
//! credentials; and the `eddsa-rdfc-2022` proof configurations. Strings
//! range over all of Unicode, control characters and N-Quads escapes
//! included; numbers over integers and doubles.
//!
//! Three properties:
//! - every generated document is supported by the direct route, and its
//!   output equals the general route's;
//! - documents altered in ways the server never writes (undefined terms,
//!   relative or malformed IRIs, nulls, nested arrays, embedded contexts,
//!   unknown types, other context lists...) are either refused by the
//!   direct route or canonicalized exactly as the general route does; the
//!   direct route never succeeds where the general route fails;
//! - a proof made with the direct route verifies with the general route
//!   and the reverse, and both make the same `proofValue`.
//!
//! The seed is fixed, so a run in CI checks the same cases every time;
//! `PROPTEST_RNG_SEED=<n> PROPTEST_CASES=<n>` explore further.
#![allow(clippy::unwrap_used)]

use openbadges_credentials::{DataIntegrity, Ed25519KeyPair};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::{json, Map, Value};

type S = BoxedStrategy<Value>;
type Field = (&'static str, BoxedStrategy<Option<Value>>);

const VC2: &str = "https://www.w3.org/ns/credentials/v2";
const OB3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
const EXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";

/// A fixed seed, so that every run (CI's included) checks the same cases;
/// `PROPTEST_RNG_SEED` and `PROPTEST_CASES` explore others locally.
fn config(cases: u32) -> ProptestConfig {
    fn from_env<T: std::str::FromStr>(name: &str) -> Option<T> {
        std::env::var(name).ok().and_then(|v| v.parse().ok())
    }
    ProptestConfig {
        cases: from_env("PROPTEST_CASES").unwrap_or(cases),
        rng_seed: RngSeed::Fixed(from_env("PROPTEST_RNG_SEED").unwrap_or(17)),
        ..ProptestConfig::default()
    }
}

/// An object with the fields that are present.
fn obj(fields: Vec<Field>) -> S {
    let entries: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
        .into_iter()
        .map(|(key, value)| {
            value
                .prop_map(move |v| v.map(|v| (key.to_owned(), v)))
                .boxed()
        })
        .collect();
    entries
        .prop_map(|entries| Value::Object(entries.into_iter().flatten().collect::<Map<_, _>>()))
        .boxed()
}

fn req(value: S) -> BoxedStrategy<Option<Value>> {
    value.prop_map(Some).boxed()
}

fn opt(value: S) -> BoxedStrategy<Option<Value>> {
    proptest::option::of(value).boxed()
}

fn lit(value: Value) -> S {
    Just(value).boxed()
}

/// A list of one to three.
fn many(item: S) -> S {
    proptest::collection::vec(item, 1..4)
        .prop_map(Value::Array)
        .boxed()
}

/// Either one value or a list (the schemas allow both for these members).
fn one_or_many(item: S) -> S {
    prop_oneof![item.clone(), many(item)].boxed()
}

/// Text: plain words, printable ASCII (quotes and backslashes), and any
/// Unicode scalar values (control characters, astral planes).
fn text() -> S {
    prop_oneof![
        "[A-Za-z0-9 ]{1,24}",
        "[ -~]{0,16}",
        "(?s).{0,12}",
        Just("tab\there \"quoted\" back\\slash\nline\r\u{7f}\u{0}\u{1f}\u{8}\u{c}".to_owned()),
        Just("Ünïcödé – 中文 – 😀".to_owned()),
    ]
    .prop_map(Value::from)
    .boxed()
}

/// Absolute IRIs of the forms the server writes and accepts.
fn iri() -> S {
    prop_oneof![
        "https://[a-z]{1,8}\\.example/[a-z0-9/._-]{0,16}",
        "http://[a-z]{1,8}\\.example(:[0-9]{2,4})?/[a-z0-9]{0,8}(\\?[a-z]=[0-9])?(#[a-z0-9]{1,4})?",
        "urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        "did:web:[a-z]{1,8}\\.example(%3A[0-9]{4})?:issuers:[0-9a-f]{8}",
        "did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{20}",
        "mailto:[a-z]{1,8}@[a-z]{1,8}\\.example",
        "https://例え\\.jp/ü[a-z]{0,3}",
        Just("data:image/png;base64,iVBORw0KGgo=".to_owned()),
    ]
    .prop_map(Value::from)
    .boxed()
}

fn timestamp() -> S {
    "20[0-9]{2}-(0[1-9]|1[0-2])-[0-2][1-9]T[01][0-9]:[0-5][0-9]:[0-5][0-9](Z|[+-]0[0-9]:00|\\.[0-9]{1,6}Z)"
        .prop_map(Value::from)
        .boxed()
}

fn date() -> S {
    "(19|20)[0-9]{2}-(0[1-9]|1[0-2])-[0-2][1-9]"
        .prop_map(Value::from)
        .boxed()
}

/// Numbers as credentials carry them (credits, coordinates): integers up
/// to 2^53, decimals of up to fifteen digits, integral doubles.
fn number() -> S {
    prop_oneof![
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(Value::from),
        (0u64..1000).prop_map(Value::from),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n) / 4.0)),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n))),
        (-9_999_999i64..9_999_999, "[0-9]{1,7}").prop_map(|(integer, fraction)| {
            serde_json::from_str::<Value>(&format!("{integer}.{fraction}")).unwrap()
        }),
        Just(json!(0.1)),
        Just(json!(1e21)),
        Just(json!(-0.0)),
        Just(json!(1.5e-7)),
    ]
    .boxed()
}

/// Any JSON number: integers of any size, any finite double, and doubles
/// of up to 16 digits at every scale (around the direct route's bound).
fn any_number() -> S {
    prop_oneof![
        number(),
        (1u64..10_000_000_000_000_000, -30i32..30).prop_map(|(mantissa, power)| {
            let value: f64 = format!("{mantissa}e{power}").parse().unwrap();
            Value::from(value)
        }),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
    ]
    .boxed()
}

fn term_or_text(terms: &'static [&'static str]) -> S {
    prop_oneof![
        proptest::sample::select(terms).prop_map(Value::from),
        "ext:[A-Za-z]{1,8}".prop_map(Value::from),
        text(),
    ]
    .boxed()
}

fn image() -> S {
    obj(vec![
        ("id", req(iri())),
        ("type", req(lit(json!("Image")))),
        ("caption", opt(text())),
    ])
}

fn alignment() -> S {
    obj(vec![
        ("targetName", req(text())),
        ("targetUrl", req(iri())),
        ("targetDescription", opt(text())),
        ("targetFramework", opt(text())),
        ("targetCode", opt(text())),
        (
            "targetType",
            opt(term_or_text(&["ceasn:Competency", "CFItem", "CTDL"])),
        ),
        ("type", req(lit(json!(["Alignment"])))),
    ])
}

fn identifier_entry() -> S {
    obj(vec![
        ("type", req(lit(json!("IdentifierEntry")))),
        ("identifier", req(text())),
        (
            "identifierType",
            req(term_or_text(&[
                "sourcedId",
                "systemId",
                "emailAddress",
                "isbn",
            ])),
        ),
    ])
}

fn profile_reference() -> S {
    obj(vec![
        ("id", req(iri())),
        ("type", req(lit(json!(["Profile"])))),
        ("name", opt(text())),
        ("url", opt(iri())),
        ("email", opt(text())),
        ("phone", opt(text())),
        ("description", opt(text())),
    ])
}

fn address() -> S {
    obj(vec![
        ("type", req(lit(json!(["Address"])))),
        ("addressCountry", opt(text())),
        (
            "addressCountryCode",
            opt("[A-Z]{2}".prop_map(Value::from).boxed()),
        ),
        ("addressRegion", opt(text())),
        ("addressLocality", opt(text())),
        ("streetAddress", opt(text())),
        ("postOfficeBoxNumber", opt(text())),
        ("postalCode", opt(text())),
        (
            "geo",
            opt(obj(vec![
                ("type", req(lit(json!("GeoCoordinates")))),
                ("latitude", req(number())),
                ("longitude", req(number())),
            ])),
        ),
    ])
}

/// An issuer profile: `ob3::profile_object` with the profile details.
fn profile() -> S {
    obj(vec![
        ("id", req(iri())),
        ("type", req(lit(json!(["Profile"])))),
        ("name", req(text())),
        ("url", req(iri())),
        ("email", opt(text())),
        ("description", opt(text())),
        ("image", opt(image())),
        ("phone", opt(text())),
        ("address", opt(address())),
        ("official", opt(text())),
        ("parentOrg", opt(profile_reference())),
        ("otherIdentifier", opt(one_or_many(identifier_entry()))),
        ("familyName", opt(text())),
        ("givenName", opt(text())),
        ("additionalName", opt(text())),
        ("patronymicName", opt(text())),
        ("honorificPrefix", opt(text())),
        ("honorificSuffix", opt(text())),
        ("familyNamePrefix", opt(text())),
        ("dateOfBirth", opt(date())),
    ])
}

fn rubric_level() -> S {
    obj(vec![
        ("id", req(iri())),
        ("type", req(lit(json!(["RubricCriterionLevel"])))),
        ("alignment", opt(one_or_many(alignment()))),
        ("description", opt(text())),
        ("level", opt(text())),
        ("name", req(text())),
        ("points", opt(text())),
    ])
}

fn result_description() -> S {
    obj(vec![
        ("id", req(iri())),
        ("type", req(lit(json!(["ResultDescription"])))),
        ("alignment", opt(one_or_many(alignment()))),
        (
            "allowedValue",
            opt(proptest::collection::vec(text(), 0..4)
                .prop_map(Value::Array)
                .boxed()),
        ),
        ("name", req(text())),
        ("requiredLevel", opt(iri())),
        ("requiredValue", opt(text())),
        (
            "resultType",
            req(term_or_text(&[
                "LetterGrade",
                "Percent",
                "RubricCriterionLevel",
            ])),
        ),
        ("rubricCriterionLevel", opt(one_or_many(rubric_level()))),
        ("valueMax", opt(text())),
        ("valueMin", opt(text())),
    ])
}

fn achievement() -> S {
    obj(vec![
        ("id", req(iri())),
        (
            "type",
            req(prop_oneof![lit(json!(["Achievement"])), lit(json!("Achievement"))].boxed()),
        ),
        ("name", req(text())),
        ("description", req(text())),
        (
            "criteria",
            req(prop_oneof![
                obj(vec![("id", req(iri())), ("narrative", opt(text()))]),
                obj(vec![("id", opt(iri())), ("narrative", req(text()))]),
            ]
            .boxed()),
        ),
        ("image", opt(image())),
        (
            "achievementType",
            opt(term_or_text(&["Badge", "Certificate", "Course"])),
        ),
        ("tag", opt(one_or_many(text()))),
        ("alignment", opt(one_or_many(alignment()))),
        ("version", opt(text())),
        ("creditsAvailable", opt(number())),
        ("fieldOfStudy", opt(text())),
        ("humanCode", opt(text())),
        (
            "inLanguage",
            opt("[a-z]{2}(-[A-Z]{2})?".prop_map(Value::from).boxed()),
        ),
        ("otherIdentifier", opt(one_or_many(identifier_entry()))),
        (
            "related",
            opt(one_or_many(obj(vec![
                ("id", req(iri())),
                ("type", req(lit(json!(["Related"])))),
                ("inLanguage", opt("[a-z]{2}".prop_map(Value::from).boxed())),
                ("version", opt(text())),
            ]))),
        ),
        ("resultDescription", opt(one_or_many(result_description()))),
        ("specialization", opt(text())),
        (
            "creator",
            req(obj(vec![
                ("id", req(iri())),
                ("type", req(lit(json!(["Profile"])))),
            ])),
        ),
    ])
}

fn identity_object() -> S {
    obj(vec![
        ("type", req(lit(json!("IdentityObject")))),
        (
            "identityType",
            req(term_or_text(&[
                "emailAddress",
                "identifier",
                "ext:telephone",
            ])),
        ),
        ("hashed", req(any::<bool>().prop_map(Value::from).boxed())),
        ("identityHash", req(text())),
        ("salt", opt(text())),
    ])
}

fn achievement_result() -> S {
    obj(vec![
        ("type", req(lit(json!(["Result"])))),
        ("achievedLevel", opt(iri())),
        ("alignment", opt(one_or_many(alignment()))),
        ("resultDescription", opt(iri())),
        (
            "status",
            opt(term_or_text(&["Completed", "InProgress", "Withdrew"])),
        ),
        ("value", opt(text())),
    ])
}

fn subject() -> S {
    let details: Vec<Field> = vec![
        ("achievement", req(achievement())),
        ("narrative", opt(text())),
        ("result", opt(one_or_many(achievement_result()))),
        ("creditsEarned", opt(number())),
        ("activityStartDate", opt(timestamp())),
        ("activityEndDate", opt(timestamp())),
        ("licenseNumber", opt(text())),
        ("role", opt(text())),
        ("source", opt(profile_reference())),
        ("term", opt(text())),
        ("image", opt(image())),
    ];
    (
        prop_oneof![
            iri().prop_map(|id| json!({ "id": id })),
            many(identity_object()).prop_map(|ids| json!({ "identifier": ids })),
        ],
        obj(details),
    )
        .prop_map(|(recipient, details)| {
            let mut subject = json!({ "type": ["AchievementSubject"] });
            let object = subject.as_object_mut().unwrap();
            object.extend(recipient.as_object().unwrap().clone());
            object.extend(details.as_object().unwrap().clone());
            subject
        })
        .boxed()
}

/// The URL of a status list (no fragment: entries add theirs).
fn status_list_url() -> S {
    "https://[a-z]{1,8}\\.example(:[0-9]{4})?/status-lists/[0-9a-f]{8}(/suspension)?"
        .prop_map(Value::from)
        .boxed()
}

fn status_entry() -> S {
    ("[0-9]{1,6}", status_list_url())
        .prop_map(|(index, list)| {
            let list = list.as_str().unwrap().to_owned();
            json!({
                "id": format!("{list}#{index}"),
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": index,
                "statusListCredential": list,
            })
        })
        .boxed()
}

fn schema() -> S {
    obj(vec![
        ("id", req(iri())),
        (
            "type",
            req(prop_oneof![
                lit(json!("1EdTechJsonSchemaValidator2019")),
                lit(json!("JsonSchema")),
                lit(json!("JsonSchemaCredential")),
                iri(),
            ]
            .boxed()),
        ),
    ])
}

/// An `OpenBadgeCredential` as `ob3::credential` builds it.
fn credential() -> S {
    obj(vec![
        (
            "@context",
            req(prop_oneof![lit(json!([VC2, OB3, EXT])), lit(json!([VC2, OB3])),].boxed()),
        ),
        ("id", req(iri())),
        (
            "type",
            req(prop_oneof![
                lit(json!(["VerifiableCredential", "OpenBadgeCredential"])),
                lit(json!(["VerifiableCredential", "AchievementCredential"])),
            ]
            .boxed()),
        ),
        ("name", req(text())),
        ("issuer", req(profile())),
        ("validFrom", req(timestamp())),
        ("description", opt(text())),
        ("image", opt(image())),
        ("awardedDate", opt(timestamp())),
        ("validUntil", opt(timestamp())),
        ("credentialSubject", req(subject())),
        ("credentialStatus", opt(status_entry())),
        (
            "evidence",
            opt(many(obj(vec![
                ("id", opt(iri())),
                ("type", req(lit(json!(["Evidence"])))),
                ("narrative", opt(text())),
                ("name", opt(text())),
                ("description", opt(text())),
                ("genre", opt(text())),
                ("audience", opt(text())),
            ]))),
        ),
        (
            "termsOfUse",
            opt(many(obj(vec![("id", opt(iri())), ("type", req(iri()))]))),
        ),
        ("credentialSchema", req(many(schema()))),
    ])
    // `credentialSchema` of an unusual type needs the extensions context
    // only for 1EdTech's validator; keep the documents valid.
    .prop_map(|mut doc| {
        let uses_validator = doc["credentialSchema"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["type"] == "1EdTechJsonSchemaValidator2019");
        if uses_validator {
            doc["@context"] = json!([VC2, OB3, EXT]);
        }
        doc
    })
    .boxed()
}

/// An `EndorsementCredential` as `endorsements::endorsement_credential`
/// builds it.
fn endorsement() -> S {
    obj(vec![
        ("@context", req(lit(json!([VC2, OB3, EXT])))),
        ("id", req(iri())),
        (
            "type",
            req(lit(json!([
                "VerifiableCredential",
                "EndorsementCredential"
            ]))),
        ),
        ("name", req(text())),
        (
            "issuer",
            req(obj(vec![
                ("id", req(iri())),
                ("type", req(lit(json!(["Profile"])))),
                ("name", req(text())),
                ("url", req(iri())),
                ("email", opt(text())),
            ])),
        ),
        ("validFrom", req(timestamp())),
        (
            "credentialSubject",
            req(obj(vec![
                ("id", req(iri())),
                ("type", req(lit(json!(["EndorsementSubject"])))),
                ("endorsementComment", opt(text())),
            ])),
        ),
        (
            "credentialSchema",
            req(lit(json!([{
                "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json",
                "type": "1EdTechJsonSchemaValidator2019",
            }]))),
        ),
        ("credentialStatus", opt(status_entry())),
    ])
}

/// A `BitstringStatusListCredential` as `ob3::status_list_credential`
/// builds it.
fn status_list() -> S {
    (
        status_list_url(),
        iri(),
        timestamp(),
        "u[A-Za-z0-9_-]{8,64}",
        prop_oneof![Just("revocation"), Just("suspension")],
    )
        .prop_map(|(id, issuer, valid_from, encoded, purpose)| {
            let id = id.as_str().unwrap().to_owned();
            json!({
                "@context": [VC2],
                "id": id,
                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": issuer,
                "validFrom": valid_from,
                "credentialSubject": {
                    "id": format!("{id}#list"),
                    "type": "BitstringStatusList",
                    "statusPurpose": purpose,
                    "encodedList": encoded,
                },
            })
        })
        .boxed()
}

/// An `eddsa-rdfc-2022` proof configuration under one of the contexts.
fn proof_configuration() -> S {
    (
        prop_oneof![
            lit(json!([VC2, OB3, EXT])),
            lit(json!([VC2, OB3])),
            lit(json!([VC2])),
        ],
        timestamp(),
        iri(),
    )
        .prop_map(|(context, created, method)| {
            json!({
                "@context": context,
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "created": created,
                "verificationMethod": method,
                "proofPurpose": "assertionMethod",
            })
        })
        .boxed()
}

fn document() -> S {
    prop_oneof![
        4 => credential(),
        1 => endorsement(),
        1 => status_list(),
        1 => proof_configuration(),
    ]
    .boxed()
}

/// Fails with the lines only one side has.
fn same(direct: &str, general: &str, doc: &Value) -> Result<(), TestCaseError> {
    if direct == general {
        return Ok(());
    }
    let only = |a: &str, b: &str| -> Vec<String> {
        a.lines()
            .filter(|line| !b.lines().any(|other| other == *line))
            .map(str::to_owned)
            .collect()
    };
    Err(TestCaseError::fail(format!(
        "the routes differ\nonly direct: {:#?}\nonly general: {:#?}\n{doc:#}",
        only(direct, general),
        only(general, direct)
    )))
}

fn signer() -> &'static DataIntegrity {
    static SIGNER: std::sync::OnceLock<DataIntegrity> = std::sync::OnceLock::new();
    SIGNER.get_or_init(|| DataIntegrity::new().unwrap())
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn the_direct_route_equals_the_general_route(doc in document()) {
        let signer = signer();
        let general = signer.canonicalize_general(&doc);
        let general = general.map_err(|e| TestCaseError::fail(format!("general route: {e}\n{doc:#}")))?;
        let direct = signer.canonicalize_direct(&doc).unwrap();
        prop_assert!(direct.is_some(), "the direct route does not support\n{doc:#}");
        same(&direct.unwrap(), &general, &doc)?;
    }
}

/// Ways to alter a document into something the server never writes.
#[derive(Debug, Clone, Copy)]
enum Alteration {
    UndefinedTerm,
    RelativeId,
    BlankNodeId,
    IdWithSpace,
    Null,
    NestedArray,
    EmbeddedContext,
    UnknownType,
    TypeAsIri,
    KeywordKey,
    NumberForText,
    BoolForText,
    EmptyObject,
    IdOnly,
    EmptyArray,
    ContextOrder,
    ContextV1,
    UnknownContext,
    JsonSchema,
    DuplicateValues,
    CompactIri,
}

fn alteration() -> impl Strategy<Value = Alteration> {
    use Alteration::*;
    proptest::sample::select(vec![
        UndefinedTerm,
        RelativeId,
        BlankNodeId,
        IdWithSpace,
        Null,
        NestedArray,
        EmbeddedContext,
        UnknownType,
        TypeAsIri,
        KeywordKey,
        NumberForText,
        BoolForText,
        EmptyObject,
        IdOnly,
        EmptyArray,
        ContextOrder,
        ContextV1,
        UnknownContext,
        JsonSchema,
        DuplicateValues,
        CompactIri,
    ])
}

/// JSON pointers of every object in `value`.
fn objects(value: &Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            out.push(path.clone());
            for (k, v) in map {
                objects(
                    v,
                    format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                objects(v, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn alter(mut doc: Value, how: Alteration, at: prop::sample::Index) -> Value {
    use Alteration::*;
    let mut paths = Vec::new();
    objects(&doc, String::new(), &mut paths);
    let path = at.get(&paths).clone();
    let target = doc.pointer_mut(&path).unwrap().as_object_mut().unwrap();
    let first_text = target
        .iter()
        .find(|(k, v)| v.is_string() && *k != "id" && *k != "type" && !k.starts_with('@'))
        .map(|(k, _)| k.clone());
    match how {
        UndefinedTerm => {
            target.insert("notDefinedAnywhere".into(), json!("x"));
        }
        RelativeId => {
            target.insert("id".into(), json!("relative/path"));
        }
        BlankNodeId => {
            target.insert("id".into(), json!("_:b0"));
        }
        IdWithSpace => {
            target.insert("id".into(), json!("https://example.org/a b"));
        }
        Null => {
            if let Some(k) = first_text {
                target.insert(k, Value::Null);
            }
        }
        NestedArray => {
            if let Some(k) = first_text {
                let v = target[&k].clone();
                target.insert(k, json!([[v]]));
            }
        }
        EmbeddedContext => {
            target.insert("@context".into(), json!([VC2, OB3]));
        }
        UnknownType => {
            target.insert("type".into(), json!(["NoSuchType"]));
        }
        TypeAsIri => {
            target.insert(
                "type".into(),
                json!(["https://example.org/Type", "Profile"]),
            );
        }
        KeywordKey => {
            target.insert("@id".into(), json!("https://example.org/k"));
        }
        NumberForText => {
            if let Some(k) = first_text {
                target.insert(k, json!(12.5));
            }
        }
        BoolForText => {
            if let Some(k) = first_text {
                target.insert(k, json!(true));
            }
        }
        EmptyObject => {
            if let Some(k) = first_text {
                target.insert(k, json!({}));
            }
        }
        IdOnly => {
            if let Some(k) = first_text {
                target.insert(k, json!({"id": "https://example.org/only"}));
            }
        }
        EmptyArray => {
            if let Some(k) = first_text {
                target.insert(k, json!([]));
            }
        }
        ContextOrder => {
            doc["@context"] = json!([OB3, VC2]);
        }
        ContextV1 => {
            doc["@context"] = json!(["https://www.w3.org/2018/credentials/v1", OB3]);
        }
        UnknownContext => {
            doc["@context"] = json!([VC2, "https://example.org/context.json"]);
        }
        JsonSchema => {
            target.insert("type".into(), json!("JsonSchema"));
            target.insert("jsonSchema".into(), json!({"b": [1, 2.5], "a": null}));
        }
        DuplicateValues => {
            if let Some(k) = first_text {
                let v = target[&k].clone();
                target.insert(k, json!([v.clone(), v]));
            }
        }
        CompactIri => {
            target.insert("id".into(), json!("type:thing"));
        }
    }
    doc
}

proptest! {
    #![proptest_config(config(192))]

    #[test]
    fn the_direct_route_never_differs_on_unusual_documents(
        doc in document(),
        how in alteration(),
        at in any::<prop::sample::Index>(),
    ) {
        let doc = alter(doc, how, at);
        let signer = signer();
        let general = signer.canonicalize_general(&doc);
        match signer.canonicalize_direct(&doc) {
            Ok(Some(direct)) => match &general {
                Ok(general) => same(&direct, general, &doc).map_err(|e| TestCaseError::fail(format!("{how:?}: {e}")))?,
                Err(e) => prop_assert!(false, "{how:?}: the direct route succeeded where the general one fails ({e})\n{doc:#}"),
            },
            Ok(None) => {}
            Err(e) => prop_assert!(general.is_err(), "{how:?}: only the direct route fails: {e}\n{doc:#}"),
        }
        // What the signer uses: the same result as the general route.
        match (signer.canonicalize(&doc), general) {
            (Ok(auto), Ok(general)) => prop_assert_eq!(auto, general),
            (Err(_), Err(_)) => {}
            (auto, general) => prop_assert!(false, "{how:?}: {auto:?} / {general:?}"),
        }
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// Numbers in every property type that takes them. The direct route
    /// handles the numbers credentials carry (see `number`) and leaves the
    /// others (integers beyond 2^53, doubles of 16 or 17 digits) to the
    /// general route; whatever it handles, it writes as the general route.
    #[test]
    fn numbers_equal_the_general_route(
        (n, usual) in prop_oneof![number().prop_map(|n| (n, true)), any_number().prop_map(|n| (n, false))],
        property in prop_oneof![
            Just("creditsEarned"), Just("creditsAvailable"), Just("latitude"), Just("name"),
        ],
    ) {
        let node = match property {
            "creditsAvailable" => json!({"type": "Achievement", property: n}),
            "latitude" => json!({"type": "GeoCoordinates", property: n}),
            _ => json!({"type": "AchievementSubject", property: n}),
        };
        let doc = json!({
            "@context": [VC2, OB3],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "credentialSubject": node,
        });
        let signer = signer();
        let general = signer.canonicalize_general(&doc).unwrap();
        match signer.canonicalize_direct(&doc).unwrap() {
            Some(direct) => same(&direct, &general, &doc)?,
            None => prop_assert!(!usual, "the direct route does not support\n{doc:#}"),
        }
    }
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn proofs_agree_across_routes(doc in prop_oneof![credential(), endorsement()], created in timestamp()) {
        let direct = signer();
        let general = DataIntegrity::builder().direct_canonicalization(false).build().unwrap();
        let key = Ed25519KeyPair::from_seed(&[7; 32]);
        let method = "did:web:issuer.example:issuers:1#key-1";
        let created = created.as_str().unwrap();
        let by_direct = direct.sign(&doc, &key, method, created).unwrap();
        let by_general = general.sign(&doc, &key, method, created).unwrap();
        prop_assert_eq!(&by_direct, &by_general);
        let public = key.verifying_key();
        general.verify(&by_direct, |_| Some(public)).unwrap();
        direct.verify(&by_general, |_| Some(public)).unwrap();
    }
}
