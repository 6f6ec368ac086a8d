//! Signing throughput for a small Open Badges 3.0 credential.
//!
//! ```text
//! cargo run --release -p openbadges-credentials --example sign_bench [-- ITERATIONS]
//! cargo run --release -p openbadges-credentials --features mimalloc --example sign_bench
//! ```
//!
//! Signs the credential ITERATIONS times (default 2000) on one thread, then
//! ITERATIONS times on each of all available cores, with one shared
//! [`DataIntegrity`] as the server uses it, and prints signatures per second.
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
    let credential: Value = match serde_json::from_str(CREDENTIAL) {
        Ok(credential) => credential,
        Err(e) => {
            eprintln!("embedded credential: {e}");
            std::process::exit(1);
        }
    };
    let (signer, key) = match (DataIntegrity::new(), Ed25519KeyPair::generate()) {
        (Ok(signer), Ok(key)) => (signer, key),
        (Err(e), _) | (_, Err(e)) => {
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

    // Warm-up: processes and caches the @context, faults in the code.
    sign_many(&signer, &key, &credential, 50, Created::Distinct);

    println!("allocator: {allocator}; small OB 3.0 credential, eddsa-rdfc-2022");
    for (created, label) in [
        (Created::Now, "created = current second"),
        (Created::Distinct, "created distinct per signature"),
    ] {
        let (single, all) = measure(&signer, &key, &credential, iterations, cores, created);
        println!("{label}:");
        println!(
            "  1 thread:  {iterations} signatures in {single:.2?}: {:.0} signatures/s ({:.3} ms each)",
            per_second(iterations, single),
            single.as_secs_f64() * 1000.0 / iterations as f64
        );
        println!(
            "  {cores} threads: {} signatures in {all:.2?}: {:.0} signatures/s total, {:.0} per core",
            iterations * cores,
            per_second(iterations * cores, all),
            per_second(iterations * cores, all) / cores as f64
        );
    }
}
