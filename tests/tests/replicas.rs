//! PostgreSQL read replicas (`DATABASE_REPLICA_URLS`), against a real
//! streaming standby that each test starts ([`ReplicatedCluster`]): public
//! reads are served by the replica, writes by the primary; a replica
//! stopped under load fails no request and is used again once back; a
//! lagging replica is skipped; a revocation is seen through the replica
//! within `REPLICA_MAX_LAG_MS`. Replicas are a PostgreSQL feature: with
//! SQLite they are refused at start.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openbadges_e2e::replication::{wait_until, ReplicatedCluster};
use openbadges_e2e::{award_body, uuid_of, Caller, Launch, Server};
use serde_json::Value;

/// The lag bound the servers run with.
const MAX_LAG_MS: u64 = 1000;
/// How long a replica may take to change state (checks, reconnects,
/// replay on a busy machine): generous on purpose.
const STATE_TIMEOUT: Duration = Duration::from_secs(60);
/// A password in the replica's URL: the cluster trusts 127.0.0.1 and never
/// asks for it, so it only shows whether the server reveals it.
const REPLICA_PASSWORD: &str = "replica-hunter2";
/// The database the server uses on the test's own cluster.
const DATABASE: &str = "postgres";
/// Exit code of a refused configuration.
const CONFIG_REFUSED: i32 = 2;

/// A server on the cluster's primary with its standby as replica 0, its
/// document cache on (`cache`) or off (for the tests that count where
/// reads go: then every GET reads).
fn serve(cluster: &ReplicatedCluster, cache: bool) -> Server {
    let replica = cluster.standby_url(DATABASE).replacen(
        "postgres@",
        &format!("postgres:{REPLICA_PASSWORD}@"),
        1,
    );
    Launch::new()
        .env("DB_TYPE", "postgresql")
        .env("DATABASE_URL", cluster.primary_url(DATABASE))
        .env("DATABASE_REPLICA_URLS", replica)
        .env("REPLICA_MAX_LAG_MS", MAX_LAG_MS.to_string())
        .env("DOCUMENT_CACHE_MB", if cache { "32" } else { "0" })
        .env("AUTH_ENABLED", "false")
        .env("RATE_LIMIT_PER_MINUTE", "0")
        .base_url_at_own_address()
        .start()
}

/// A new credential's UUID.
#[track_caller]
fn award(server: &Server, badge: &str, email: &str) -> String {
    let response = server.post("/credentials", &award_body(badge, email));
    response.assert_status(201);
    uuid_of(&response.body)
}

/// An issuer, an achievement and a credential of it: (badge, credential).
#[track_caller]
fn credential(server: &Server) -> (String, String) {
    let (_, badge) = server.issuer_with_badge(&Caller::Anonymous, "Replicated", "Replicated badge");
    let credential = award(server, &badge, "learner@example.org");
    (badge, credential)
}

/// Replica 0 as `/health/ready` shows it.
#[track_caller]
fn replica_readiness(server: &Server) -> Value {
    let response = server.fetch("/health/ready");
    response.assert_status(200);
    assert_eq!(response.body["database"], "up", "{}", response.text);
    response.body["replicas"][0].clone()
}

/// Replica 0's state in `/health/ready`: serving, lagging or down.
fn replica_state(server: &Server) -> String {
    replica_readiness(server)["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[track_caller]
fn wait_for_state(server: &Server, state: &str) {
    wait_until(&format!("replica 0 is {state}"), STATE_TIMEOUT, || {
        replica_state(server) == state
    });
}

/// The value of the sample of `/metrics` whose line starts with `series`
/// (a name, and the first labels if any).
#[track_caller]
fn metric(server: &Server, series: &str) -> f64 {
    let response = server.fetch("/metrics");
    response.assert_status(200);
    response
        .text
        .lines()
        .filter(|line| line.starts_with(series))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in:\n{}", response.text))
}

/// Reads routed to replica 0 so far.
fn replica_queries(server: &Server) -> f64 {
    metric(server, "openbadges_db_replica_queries_total{replica=\"0\"")
}

/// Reads the primary answered for want of a serving replica.
fn primary_reads(server: &Server) -> f64 {
    metric(server, "openbadges_db_replica_primary_reads_total")
}

/// A server on a fresh cluster, with one credential readable through
/// the replica: (cluster, server, badge, credential).
fn replicated_setup(cache: bool) -> (ReplicatedCluster, Server, String, String) {
    let cluster = ReplicatedCluster::start();
    let server = serve(&cluster, cache);
    let (badge, credential) = credential(&server);
    wait_for_state(&server, "serving");
    // Within the bound the replica may not have the credential yet.
    wait_until("the replica has the credential", STATE_TIMEOUT, || {
        cluster.standby_caught_up(DATABASE)
    });
    server
        .fetch(&format!("/credentials/{credential}"))
        .assert_status(200);
    (cluster, server, badge, credential)
}

#[test]
fn public_reads_go_to_the_replica_and_writes_to_the_primary() {
    let (cluster, server, badge, credential) = replicated_setup(false);

    // Writes, and the reads of requests that write, never touch it.
    let before = replica_queries(&server);
    for i in 0..5 {
        award(&server, &badge, &format!("writer{i}@example.org"));
    }
    assert_eq!(
        replica_queries(&server),
        before,
        "a write read from the replica"
    );

    // Public GETs are served there: the server counts them, and the
    // standby's own statistics count the scans they made.
    let scans = cluster.standby_scans(DATABASE, "assertions");
    let before = replica_queries(&server);
    const READS: usize = 100;
    for _ in 0..READS {
        server
            .fetch(&format!("/credentials/{credential}"))
            .assert_status(200);
    }
    let routed = replica_queries(&server) - before;
    assert!(
        routed >= READS as f64,
        "only {routed} of {READS} reads reached the replica"
    );
    wait_until(
        "the standby counts the reads it served",
        STATE_TIMEOUT,
        || cluster.standby_scans(DATABASE, "assertions") - scans >= READS as i64,
    );
    // Other public documents too.
    let before = replica_queries(&server);
    server
        .fetch(&format!("/achievements/{badge}"))
        .assert_status(200);
    server.fetch("/issuers").assert_status(200);
    assert!(replica_queries(&server) >= before + 2.0);

    // Readiness and metrics show the replica, never its password.
    let replica = replica_readiness(&server);
    assert_eq!(replica["replica"], 0);
    assert_eq!(replica["state"], "serving");
    assert!(
        replica["lagMs"]
            .as_u64()
            .is_some_and(|lag| lag <= MAX_LAG_MS),
        "{replica}"
    );
    let url = replica["url"].as_str().expect("a URL");
    assert!(url.contains(":***@127.0.0.1:"), "{url}");
    let metrics = server.fetch("/metrics").text;
    assert!(
        metrics.contains("openbadges_db_replica_state{replica=\"0\""),
        "{metrics}"
    );
    assert!(metrics.contains("openbadges_db_replica_lag_seconds{replica=\"0\""));
    assert!(
        server
            .output()
            .contains("read replica 0: postgres://postgres:***@127.0.0.1:"),
        "the start-up log names the replica, redacted:\n{}",
        server.output()
    );
    for shown in [server.fetch("/health/ready").text, metrics, server.output()] {
        assert!(!shown.contains(REPLICA_PASSWORD), "{shown}");
    }
}

#[test]
fn a_replica_stopped_under_load_fails_no_request_and_is_used_again() {
    let (cluster, server, _, credential) = replicated_setup(false);
    let path = format!("/credentials/{credential}");
    let stop = AtomicBool::new(false);
    let answered = AtomicU64::new(0);
    let failures = Mutex::new(Vec::new());

    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while !stop.load(Ordering::Acquire) {
                    let response = server.fetch(&path);
                    if response.status != 200 {
                        failures
                            .lock()
                            .expect("failures")
                            .push(format!("{}: {}", response.status, response.text));
                    }
                    answered.fetch_add(1, Ordering::AcqRel);
                }
            });
        }
        // Let the load stop waiting for anything else if an assertion
        // below panics.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let at_least = |count: u64| {
                let target = answered.load(Ordering::Acquire) + count;
                wait_until("the load goes on", STATE_TIMEOUT, || {
                    answered.load(Ordering::Acquire) >= target
                });
            };
            at_least(50);
            cluster.stop_standby();
            wait_for_state(&server, "down");
            at_least(100);

            cluster.restart_standby();
            wait_for_state(&server, "serving");
            let back = replica_queries(&server);
            wait_until("reads reach the replica again", STATE_TIMEOUT, || {
                replica_queries(&server) > back + 20.0
            });
        }));
        stop.store(true, Ordering::Release);
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    });

    let failures = failures.into_inner().expect("failures");
    assert!(
        failures.is_empty(),
        "{} of {} requests failed while the replica went away: {:?}",
        failures.len(),
        answered.load(Ordering::Acquire),
        &failures[..failures.len().min(5)]
    );
    let fallbacks = metric(
        &server,
        "openbadges_db_replica_fallbacks_total{replica=\"0\"",
    );
    let on_primary = primary_reads(&server);
    assert!(
        fallbacks + on_primary > 0.0,
        "the primary answered nothing while the replica was down"
    );
}

#[test]
fn a_lagging_replica_is_skipped_until_it_catches_up() {
    let (cluster, server, badge, _) = replicated_setup(false);
    cluster.standby_execute(DATABASE, "SELECT pg_wal_replay_pause()");
    // A pause takes effect at the next record replayed: write one.
    cluster.primary_execute(
        DATABASE,
        "SELECT pg_logical_emit_message(false, 'replicas-test', 'pause')",
    );
    wait_until("replay is paused", STATE_TIMEOUT, || {
        cluster.standby_replay_paused(DATABASE)
    });
    // Only the primary has this one.
    let fresh = award(&server, &badge, "after-pause@example.org");
    wait_for_state(&server, "lagging");
    let lag = replica_readiness(&server)["lagMs"].as_u64().expect("a lag");
    assert!(lag > MAX_LAG_MS, "lagging with a lag of {lag} ms");

    let (queries, on_primary) = (replica_queries(&server), primary_reads(&server));
    for _ in 0..20 {
        server
            .fetch(&format!("/credentials/{fresh}"))
            .assert_status(200);
    }
    assert_eq!(
        replica_queries(&server),
        queries,
        "a lagging replica got reads"
    );
    assert!(primary_reads(&server) >= on_primary + 20.0);

    cluster.standby_execute(DATABASE, "SELECT pg_wal_replay_resume()");
    wait_for_state(&server, "serving");
    server
        .fetch(&format!("/credentials/{fresh}"))
        .assert_status(200);
    assert!(
        replica_queries(&server) > queries,
        "the replica is used again"
    );
}

#[test]
fn a_revocation_is_seen_through_the_replica_within_the_bound() {
    // With the document cache on: it keeps nothing a replica may have read
    // stale.
    let (_cluster, server, _, credential) = replicated_setup(true);
    let path = format!("/credentials/{credential}");
    let queries = replica_queries(&server);

    server
        .post(
            &format!("{path}/revoke"),
            &serde_json::json!({"reason": "test"}),
        )
        .assert_status(200);
    let revoked_at = Instant::now();
    let bound = Duration::from_millis(MAX_LAG_MS);
    // Reads that start once the bound has passed must all see it; earlier
    // ones may or may not. Checked over several reads past the bound.
    let mut seen_after_bound = 0;
    let deadline = revoked_at + STATE_TIMEOUT;
    while seen_after_bound < 20 {
        assert!(
            Instant::now() < deadline,
            "still reading after {STATE_TIMEOUT:?}"
        );
        let started = Instant::now();
        let response = server.fetch(&path);
        if started.duration_since(revoked_at) > bound {
            assert_eq!(
                response.status,
                410,
                "a read {:?} after the revocation still served it: {}",
                started.duration_since(revoked_at),
                response.text
            );
            seen_after_bound += 1;
        } else {
            assert!(matches!(response.status, 200 | 410), "{}", response.text);
        }
    }
    assert!(
        replica_queries(&server) > queries,
        "the reads did not go through the replica"
    );
}

#[test]
fn replicas_with_sqlite_are_refused_at_start() {
    Launch::new()
        .env("DB_TYPE", "sqlite")
        .env(
            "DATABASE_REPLICA_URLS",
            "postgres://ob:hunter2@replica/badges",
        )
        .run()
        .assert_failure(
            CONFIG_REFUSED,
            &["DATABASE_REPLICA_URLS", "DB_TYPE=postgresql"],
        )
        .assert_hidden("hunter2");
}
