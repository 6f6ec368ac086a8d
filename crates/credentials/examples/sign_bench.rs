//! Signing throughput for Open Badges 3.0 credentials.
//!
//! ```text
//! cargo run --release -p openbadges-credentials --example sign_bench [-- ITERATIONS]
//! cargo run --release -p openbadges-credentials --features mimalloc --example sign_bench
//! ```
//!
//! Signs each credential ITERATIONS times (default 2000) on one thread, then
//! ITERATIONS times on each of all available cores, with one shared
//! [`DataIntegrity`] as the server uses it, and prints signatures per second:
//! once with canonicalization by JSON-LD expansion (the general route) and
//! once by the direct route the signer takes for documents it supports.
//!
//! Two credentials: the 1EdTech signing example (small), and one shaped as
//! this server issues them (issuer `did:web`, recipient by hashed e-mail,
//! status entry, schema, results, alignments, evidence).
//!
//! Two timestamp patterns are measured: `created` = the current second, as a
//! server stamps credentials (under load many share a second, so the signer's
//! proof-configuration cache hits), and a distinct `created` for every
//! signature (every proof configuration is canonicalized: the worst case).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use openbadges_credentials::{DataIntegrity, Ed25519KeyPair};
use serde_json::Value;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The 1EdTech signing example's credential.
const CREDENTIAL: &str = r#"{
  "@context": [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
  ],
  "id": "http://example.com/credentials/3527",
  "type": ["VerifiableCredential", "OpenBadgeCredential"],
  "issuer": {
    "id": "https://example.edu/issuers/565049",
    "type": ["Profile"],
    "url": "https://www.imsglobal.org",
    "name": "Example Corp"
  },
  "validFrom": "2010-01-01T00:00:00Z",
  "name": "Teamwork Badge",
  "credentialSubject": {
    "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
    "type": ["AchievementSubject"],
    "achievement": {
      "id": "https://example.com/achievements/21st-century-skills/teamwork",
      "type": ["Achievement"],
      "criteria": {
        "narrative": "Team members are nominated for this badge by their peers and recognized upon review by Example Corp management."
      },
      "description": "This badge recognizes the development of the capacity to collaborate within a group environment.",
      "name": "Teamwork"
    }
  }
}"#;

/// A credential shaped as the server issues them.
const SERVER_CREDENTIAL: &str = r#"{
  "@context": [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
  ],
  "id": "https://badges.example.org/v3/credentials/0b6e4c2e-6d0e-4c59-9d2a-0c1f4c3b2a10",
  "type": ["VerifiableCredential", "OpenBadgeCredential"],
  "name": "Data Literacy",
  "issuer": {
    "id": "did:web:badges.example.org:issuers:5d1c1f55-3a3e-4a3f-a4a6-6a1b0f2c9e77",
    "type": ["Profile"],
    "name": "Example University",
    "url": "https://example.edu",
    "email": "badges@example.edu"
  },
  "validFrom": "2026-05-01T12:00:00Z",
  "credentialSubject": {
    "type": ["AchievementSubject"],
    "identifier": [{
      "type": "IdentityObject",
      "identityType": "emailAddress",
      "hashed": true,
      "identityHash": "sha256$6e5bd0ee2d3fe5a1c6bd4b8e0fbf7c94a1b0b4e0e8a2a1a3d4c2b1f9e8d7c6b5",
      "salt": "f0a1"
    }],
    "achievement": {
      "id": "https://badges.example.org/v3/achievements/7f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
      "type": ["Achievement"],
      "name": "Data Literacy",
      "description": "Reads, questions and presents data.",
      "criteria": {"narrative": "Completed the four modules and the final project."},
      "image": {"id": "https://badges.example.org/images/data-literacy.png", "type": "Image"},
      "alignment": [{
        "targetName": "Data literacy",
        "targetUrl": "https://example.org/frameworks/data/1",
        "targetFramework": "Example Framework",
        "targetCode": "D1",
        "type": ["Alignment"]
      }],
      "creator": {
        "id": "https://badges.example.org/v3/issuers/5d1c1f55-3a3e-4a3f-a4a6-6a1b0f2c9e77",
        "type": ["Profile"]
      }
    },
    "result": [{"type": ["Result"], "status": "Completed", "value": "A"}]
  },
  "credentialStatus": {
    "id": "https://badges.example.org/status-lists/3c2b1a09-8f7e-4d6c-b5a4-938271605f4e#1041",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "1041",
    "statusListCredential": "https://badges.example.org/status-lists/3c2b1a09-8f7e-4d6c-b5a4-938271605f4e"
  },
  "evidence": [{"type": ["Evidence"], "narrative": "Final project: a survey of bus punctuality."}],
  "credentialSchema": [{
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019"
  }]
}"#;

const METHOD: &str = "https://example.edu/issuers/565049#key-1";

/// How each signature's `created` is chosen.
#[derive(Clone, Copy)]
enum Created {
    /// The current second.
    Now,
    /// A different second for every signature.
    Distinct,
}

/// Distinct timestamps across threads, so no two signatures share one.
static NEXT_DISTINCT: AtomicU64 = AtomicU64::new(1_000_000_000);

fn sign_many(
    signer: &DataIntegrity,
    key: &Ed25519KeyPair,
    credential: &Value,
    n: usize,
    created: Created,
) {
    for _ in 0..n {
        let seconds = match created {
            Created::Now => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Created::Distinct => NEXT_DISTINCT.fetch_add(1, Ordering::Relaxed),
        };
        if let Err(e) = signer.sign(credential, key, METHOD, &rfc3339(seconds)) {
            eprintln!("signing failed: {e}");
            std::process::exit(1);
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (days to civil
/// date after Howard Hinnant's algorithm).
fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let time = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        time / 3_600,
        time / 60 % 60,
        time % 60
    )
}

/// Signs `iterations` times on one thread, then on every core; returns the
/// elapsed times.
fn measure(
    signer: &DataIntegrity,
    key: &Ed25519KeyPair,
    credential: &Value,
    iterations: usize,
    cores: usize,
    created: Created,
) -> (Duration, Duration) {
    let started = Instant::now();
    sign_many(signer, key, credential, iterations, created);
    let single = started.elapsed();

    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..cores {
            scope.spawn(|| sign_many(signer, key, credential, iterations, created));
        }
    });
    (single, started.elapsed())
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn main() {
    let iterations: usize = match std::env::args().nth(1).map(|arg| arg.parse()) {
        None => 2000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: sign_bench [ITERATIONS]");
            std::process::exit(2);
        }
    };
    let credentials: Vec<(&str, Value)> = match (
        serde_json::from_str(CREDENTIAL),
        serde_json::from_str(SERVER_CREDENTIAL),
    ) {
        (Ok(small), Ok(server)) => vec![
            ("small OB 3.0 credential (1EdTech example)", small),
            ("credential as this server issues it", server),
        ],
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("embedded credential: {e}");
            std::process::exit(1);
        }
    };
    let key = match Ed25519KeyPair::generate() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("setup failed: {e}");
            std::process::exit(1);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let allocator = if cfg!(feature = "mimalloc") {
        "mimalloc"
    } else {
        "system"
    };
    println!("allocator: {allocator}; eddsa-rdfc-2022; {cores} cores");

    for (name, credential) in &credentials {
        // The comparison is only fair if both routes produce the same bytes
        // and the direct route covers the credential.
        if let Ok(signer) = DataIntegrity::new() {
            match (
                signer.canonicalize_direct(credential),
                signer.canonicalize_general(credential),
            ) {
                (Ok(Some(direct)), Ok(general)) if direct == general => {}
                (direct, general) => {
                    eprintln!("{name}: the routes disagree: {direct:?} / {general:?}");
                    std::process::exit(1);
                }
            }
        }
        for (direct, route) in [
            (false, "general route (JSON-LD expansion)"),
            (true, "direct route"),
        ] {
            let signer = match DataIntegrity::builder()
                .direct_canonicalization(direct)
                .build()
            {
                Ok(signer) => signer,
                Err(e) => {
                    eprintln!("setup failed: {e}");
                    std::process::exit(1);
                }
            };
            // Warm-up: processes and caches the @context, faults in the code.
            sign_many(&signer, &key, credential, 50, Created::Distinct);

            println!("{name}, {route}:");
            for (created, label) in [
                (Created::Now, "created = current second"),
                (Created::Distinct, "created distinct per signature"),
            ] {
                let (single, all) = measure(&signer, &key, credential, iterations, cores, created);
                println!(
                    "  {label}: 1 thread {:.0}/s ({:.3} ms each); {cores} threads {:.0}/s total, {:.0} per core",
                    per_second(iterations, single),
                    single.as_secs_f64() * 1000.0 / iterations as f64,
                    per_second(iterations * cores, all),
                    per_second(iterations * cores, all) / cores as f64
                );
            }
            // Verifying: the proof configuration and the document are
            // canonicalized again (distinct `created` values, so the
            // proof-configuration cache does not hit).
            let signed: Vec<Value> = (0..iterations.min(500))
                .filter_map(|i| {
                    let created = rfc3339(NEXT_DISTINCT.fetch_add(1, Ordering::Relaxed) + i as u64);
                    signer.sign(credential, &key, METHOD, &created).ok()
                })
                .collect();
            let public = key.verifying_key();
            let started = Instant::now();
            for document in &signed {
                if let Err(e) = signer.verify(document, |_| Some(public)) {
                    eprintln!("verification failed: {e}");
                    std::process::exit(1);
                }
            }
            let elapsed = started.elapsed();
            println!(
                "  verify: 1 thread {:.0}/s ({:.3} ms each)",
                per_second(signed.len(), elapsed),
                elapsed.as_secs_f64() * 1000.0 / signed.len() as f64
            );
        }
    }
}
