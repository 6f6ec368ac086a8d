//! Faults (issue 6): the database going away under load, and the server
//! dying mid-write.
//!
//! - PostgreSQL unreachable while awards are being issued: every request
//!   answers (201 or 503, never a hang, a 500 or a dropped connection),
//!   `/health` says 503, the server recovers by itself when the database is
//!   back, and every award acknowledged with 201 is there afterwards. The
//!   outage is made by a TCP proxy between the server and PostgreSQL that
//!   the test cuts (closing every connection and refusing new ones), so the
//!   shared PostgreSQL of the other tests is never stopped.
//! - The server killed with SIGKILL while writing to SQLite: the file
//!   passes `PRAGMA integrity_check`, holds every acknowledged award, and a
//!   new server serves them.
//! - A batch whose signed credentials cannot be kept aside (the temporary
//!   directory is not writable): 500, nothing stored, and the start-up log
//!   warned of it; small batches, kept in memory, still work.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use openbadges_e2e::{
    award_body, on_both_backends, uuid_of, Backend, Caller, Server, Storage, TestDatabase,
};
use serde_json::Value;

const KEY: &str = "e2e-faults-admin-key-0123456789abc";

/// What one issuance attempt came to.
#[derive(Debug, Clone)]
enum Outcome {
    /// 201: the award's UUID.
    Acknowledged(String),
    /// Another status, with the time it took to answer.
    Refused(u16, Duration),
    /// No HTTP answer at all.
    Dropped(String),
}

/// Issues `badge` to a fresh address on `base` (no panics: the caller
/// judges the outcome).
fn try_issue(agent: &ureq::Agent, base: &str, badge: &str, n: usize) -> Outcome {
    let started = Instant::now();
    let body = award_body(badge, &format!("fault{n}@example.org")).to_string();
    match agent
        .post(&format!("{base}/credentials?sign=false"))
        .set("X-API-Key", KEY)
        .set("Content-Type", "application/json")
        .send_string(&body)
    {
        Ok(response) if response.status() == 201 => {
            let body: Value = response.into_json().expect("a JSON credential");
            Outcome::Acknowledged(uuid_of(&body))
        }
        Ok(response) => Outcome::Refused(response.status(), started.elapsed()),
        Err(ureq::Error::Status(status, _)) => Outcome::Refused(status, started.elapsed()),
        Err(other) => Outcome::Dropped(other.to_string()),
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}

fn seed(server: &Server) -> String {
    let caller = openbadges_e2e::Caller::Key(KEY.to_owned());
    server
        .issuer_with_badge(&caller, "Faulty issuer", "Fault badge")
        .1
}

/// Issues from `writers` threads until `stop`; every outcome, in order.
fn issue_until(
    base: &str,
    badge: &str,
    writers: usize,
    stop: &AtomicBool,
) -> Vec<(Instant, Outcome)> {
    let outcomes = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for writer in 0..writers {
            let outcomes = &outcomes;
            scope.spawn(move || {
                let agent = agent();
                let mut n = writer * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let outcome = try_issue(&agent, base, badge, n);
                    let dropped = matches!(outcome, Outcome::Dropped(_));
                    outcomes
                        .lock()
                        .expect("outcomes")
                        .push((Instant::now(), outcome));
                    if dropped {
                        // The server is gone (the SIGKILL test); stop.
                        break;
                    }
                    n += 1;
                }
            });
        }
    });
    outcomes.into_inner().expect("outcomes")
}

fn acknowledged(outcomes: &[(Instant, Outcome)]) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Acknowledged(id) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// A TCP proxy to PostgreSQL that can be cut.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    closed: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let port = listener.local_addr().expect("proxy address").port();
        let up = Arc::new(AtomicBool::new(true));
        let open = Arc::new(Mutex::new(Vec::<TcpStream>::new()));
        let closed = Arc::new(AtomicBool::new(false));
        let (up2, open2, closed2) = (Arc::clone(&up), Arc::clone(&open), Arc::clone(&closed));
        thread::spawn(move || {
            while !closed2.load(Ordering::Relaxed) {
                let client = match listener.accept() {
                    Ok((client, _)) => client,
                    Err(_) => {
                        thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                if !up2.load(Ordering::Relaxed) {
                    // Down: the connection is closed at once, as by a
                    // database that is not there.
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                for stream in [&client, &server] {
                    if let Ok(copy) = stream.try_clone() {
                        open2.lock().expect("open").push(copy);
                    }
                }
                pipe(
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                pipe(server, client);
            }
        });
        Self {
            port,
            up,
            open,
            closed,
        }
    }

    /// Cuts every connection and refuses new ones.
    fn down(&self) {
        self.up.store(false, Ordering::Relaxed);
        for stream in self.open.lock().expect("open").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::Relaxed);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Relaxed);
        self.down();
    }
}

/// Copies `from` to `to` on a thread until either side closes.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// `postgres://user@host:port/db...` with the port replaced.
fn through(url: &str, port: u16) -> String {
    let mut parsed = url::Url::parse(url).expect("a database URL");
    parsed.set_port(Some(port)).expect("a port can be set");
    parsed.to_string()
}

#[test]
fn a_postgresql_outage_fails_fast_and_heals_without_losing_awards() {
    let database = TestDatabase::create();
    let upstream = {
        let parsed = url::Url::parse(database.url()).expect("URL");
        format!(
            "{}:{}",
            parsed.host_str().unwrap_or("127.0.0.1"),
            parsed.port().unwrap_or(5432)
        )
    };
    let proxy = Proxy::start(upstream);
    let server = openbadges_e2e::Launch::new()
        .env("DB_TYPE", "postgresql")
        .env("DATABASE_URL", through(database.url(), proxy.port))
        .env("AUTH_API_KEY_FAULTS", format!("{KEY}:admin:faults"))
        .env("RATE_LIMIT_PER_MINUTE", "0")
        .start();
    let badge = seed(&server);
    let base = server.base_url();

    let stop = AtomicBool::new(false);
    let mut outage = None;
    let mut health_during = None;
    let outcomes = thread::scope(|scope| {
        let writers = scope.spawn(|| issue_until(&base, &badge, 4, &stop));
        thread::sleep(Duration::from_millis(1500));
        let cut = Instant::now();
        proxy.down();
        thread::sleep(Duration::from_secs(3));
        health_during = Some(server.fetch("/health").status);
        thread::sleep(Duration::from_secs(4));
        proxy.restore();
        outage = Some((cut, Instant::now()));
        // The server heals by itself: no restart, no operator.
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.fetch("/health").status != 200 {
            assert!(Instant::now() < deadline, "no recovery within 20 s");
            thread::sleep(Duration::from_millis(100));
        }
        thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
        writers.join().expect("writers")
    });
    let (cut, restored) = outage.expect("the outage happened");
    assert_eq!(
        health_during,
        Some(503),
        "/health while the database is down"
    );

    let mut refused = Vec::new();
    for (_, outcome) in &outcomes {
        match outcome {
            Outcome::Acknowledged(_) => {}
            Outcome::Refused(503, took) => {
                // At most the connect timeout (5 s), for requests caught
                // as the connections broke.
                assert!(
                    *took < Duration::from_secs(7),
                    "a 503 took {took:?}: not failing fast"
                );
                refused.push(*took);
            }
            Outcome::Refused(status, _) => {
                panic!("an issuance answered {status}; only 201 or 503 are acceptable")
            }
            Outcome::Dropped(error) => panic!("a request got no answer: {error}"),
        }
    }
    assert!(!refused.is_empty(), "the outage was not noticed");
    refused.sort();
    let median = refused[refused.len() / 2];
    eprintln!(
        "outage: {} acknowledged, {} answered 503 (median {median:?}, slowest {:?})",
        acknowledged(&outcomes).len(),
        refused.len(),
        refused[refused.len() - 1]
    );
    // Once the pool has no connection left, a request waits at most 1 s.
    assert!(
        median < Duration::from_millis(1500),
        "503s are not fast: median {median:?}"
    );
    let after: Vec<&Outcome> = outcomes
        .iter()
        .filter(|(at, _)| *at > restored + Duration::from_secs(1))
        .map(|(_, o)| o)
        .collect();
    assert!(
        after.iter().any(|o| matches!(o, Outcome::Acknowledged(_))),
        "nothing was issued after the database came back"
    );
    let before = outcomes
        .iter()
        .filter(|(at, o)| *at < cut && matches!(o, Outcome::Acknowledged(_)))
        .count();
    assert!(before > 0, "nothing was issued before the outage");

    for id in acknowledged(&outcomes) {
        server
            .fetch(&format!("/v3/credentials/{id}"))
            .assert_status(200);
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    value: String,
}

#[test]
fn sqlite_killed_mid_write_keeps_every_acknowledged_award() {
    let storage = Storage::create(Backend::Sqlite);
    let launch = || {
        storage
            .launch()
            .env("AUTH_API_KEY_FAULTS", format!("{KEY}:admin:faults"))
            .env("RATE_LIMIT_PER_MINUTE", "0")
    };
    let server = launch().start();
    let badge = seed(&server);
    let base = server.base_url();

    let stop = AtomicBool::new(false);
    let outcomes = thread::scope(|scope| {
        let writers = scope.spawn(|| issue_until(&base, &badge, 4, &stop));
        thread::sleep(Duration::from_millis(2000));
        // SIGKILL while the writers are mid-request.
        drop(server);
        let outcomes = writers.join().expect("writers");
        stop.store(true, Ordering::Relaxed);
        outcomes
    });
    let acknowledged = acknowledged(&outcomes);
    assert!(
        acknowledged.len() > 10,
        "too few writes to judge: {}",
        acknowledged.len()
    );
    assert!(
        outcomes
            .iter()
            .any(|(_, o)| matches!(o, Outcome::Dropped(_))),
        "the kill did not interrupt a request"
    );

    let file = storage.sqlite_file().expect("a SQLite file");
    let mut conn = SqliteConnection::establish(&file.to_string_lossy()).expect("open the database");
    let check: Vec<Line> =
        diesel::sql_query("SELECT integrity_check AS value FROM pragma_integrity_check")
            .load(&mut conn)
            .expect("integrity check");
    assert_eq!(
        check.iter().map(|l| l.value.as_str()).collect::<Vec<_>>(),
        ["ok"]
    );
    let stored: std::collections::HashSet<String> =
        diesel::sql_query("SELECT id AS value FROM assertions")
            .load::<Line>(&mut conn)
            .expect("read the awards")
            .into_iter()
            .map(|l| l.value)
            .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged awards lost: {lost:?}");
    drop(conn);

    let restarted = launch().start();
    for id in acknowledged.iter().take(50) {
        restarted
            .fetch(&format!("/v3/credentials/{id}"))
            .assert_status(200);
    }
}

on_both_backends!(a_batch_that_cannot_spill_stores_nothing);

fn a_batch_that_cannot_spill_stores_nothing(storage: &Storage) {
    let missing =
        std::env::temp_dir().join(format!("openbadges-e2e-none-{}", uuid::Uuid::new_v4()));
    let server = storage
        .launch()
        .env("AUTH_API_KEY_FAULTS", format!("{KEY}:admin:faults"))
        .env("TMPDIR", missing.to_string_lossy())
        .start();
    assert!(
        server.output().contains(&format!(
            "the temporary directory {} cannot hold a file",
            missing.display()
        )),
        "no start-up warning:\n{}",
        server.output()
    );
    let caller = Caller::Key(KEY.to_owned());
    let badge = seed(&server);
    let items = |count: usize| {
        let items: Vec<Value> = (0..count)
            .map(|i| award_body(&badge, &format!("spill{i}@example.org")))
            .collect();
        Value::from(items)
    };
    // 700 signed credentials are more than the 1 MiB kept in memory.
    let refused = server.post_as(&caller, "/credentials/batch", &items(700));
    refused.assert_status(500);
    assert_eq!(
        refused.body,
        serde_json::json!({"error": "Internal Server Error"})
    );
    assert!(server
        .output()
        .contains("a batch's signed credentials could not be kept aside"));
    assert_eq!(
        server.total_as(&caller, "/credentials"),
        0,
        "nothing stored"
    );
    server
        .post_as(&caller, "/credentials/batch", &items(20))
        .assert_status(201);
    assert_eq!(server.total_as(&caller, "/credentials"), 20);
}
