//! Operations on both backends: readiness (`/health/ready`), Prometheus
//! metrics (`/metrics`), request ids and the access log, JSON logs, and
//! graceful shutdown on SIGTERM and SIGINT.

use std::net::TcpStream;
use std::thread::sleep;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use openbadges_e2e::{
    award_body, issuer_body, on_both_backends, Backend, Caller, Launch, Response, Server, Storage,
};
use serde_json::{json, Value};

on_both_backends!(
    readiness_follows_the_database_schema,
    metrics_count_requests_by_route_and_issued_credentials,
    request_ids_are_echoed_on_every_answer_and_logged,
    json_logs_are_one_object_a_line,
    sigterm_lets_the_request_in_flight_finish,
    sigint_stops_an_idle_server,
);

/// How long a stopping server may take when nothing is in flight.
const QUICK_EXIT: Duration = Duration::from_secs(15);

/// A launch without authentication or rate limit: these scenarios are about
/// operations, not access control.
fn open_launch(storage: &Storage) -> Launch {
    storage
        .launch()
        .env("AUTH_ENABLED", "false")
        .env("RATE_LIMIT_PER_MINUTE", "0")
}

/// Runs `sql` (one or more statements) on the storage's database, beside
/// the server.
fn execute(storage: &Storage, sql: &str) {
    match storage.backend() {
        Backend::Postgres => storage.database().expect("a database").execute(sql),
        Backend::Sqlite => {
            let file = storage.sqlite_file().expect("a SQLite file");
            let mut conn =
                SqliteConnection::establish(&file.to_string_lossy()).expect("open the database");
            conn.batch_execute(&format!("PRAGMA busy_timeout = 10000; {sql}"))
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}

/// An issuer and one of its achievements: their UUIDs.
#[track_caller]
fn issuer_with_badge(server: &Server) -> (String, String) {
    server.issuer_with_badge(&Caller::Anonymous, "Observed issuer", "Observed badge")
}

/// `{"credentials": [...]}` awarding `badge` to `count` recipients.
fn batch_body(badge: &str, count: usize) -> Value {
    let credentials: Vec<Value> = (0..count)
        .map(|i| award_body(badge, &format!("learner{i}@example.org")))
        .collect();
    json!({ "credentials": credentials })
}

/// The value of the sample `series` (name and labels exactly as exposed)
/// in a Prometheus text exposition.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[track_caller]
fn metrics(server: &Server) -> String {
    let response = server.fetch("/metrics");
    response.assert_status(200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    response.text
}

/// Saves the last applied migration aside and removes it from diesel's
/// bookkeeping, as if the database were restored from a backup taken
/// before the last upgrade; [`RESTORE_MIGRATION`] puts it back.
const FORGET_MIGRATION: &str = "CREATE TABLE saved_migration AS SELECT * FROM __diesel_schema_migrations
        WHERE version = (SELECT MAX(version) FROM __diesel_schema_migrations);
     DELETE FROM __diesel_schema_migrations WHERE version IN (SELECT version FROM saved_migration);";
const RESTORE_MIGRATION: &str =
    "INSERT INTO __diesel_schema_migrations SELECT * FROM saved_migration;
     DROP TABLE saved_migration;";

/// Ready on a migrated database; 503 naming the pending migration when the
/// schema is behind, while liveness stays up; ready again once current.
fn readiness_follows_the_database_schema(storage: &Storage) {
    let server = storage.launch().start();
    let backend = storage.backend().name();
    let ready = server.fetch("/health/ready");
    ready.assert_status(200);
    assert_eq!(
        ready.body,
        json!({"status": "ready", "backend": backend, "database": "up", "pendingMigrations": 0})
    );
    assert_eq!(ready.header("cache-control"), Some("no-store"));

    execute(storage, FORGET_MIGRATION);
    let not_ready = server.fetch("/health/ready");
    not_ready.assert_status(503);
    assert_eq!(not_ready.body["status"], "not ready", "{}", not_ready.text);
    assert_eq!(not_ready.body["database"], "up");
    assert_eq!(not_ready.body["pendingMigrations"], 1);
    assert_eq!(
        not_ready.body["reason"],
        "1 database migration is pending: run `openbadges-server migrate`"
    );
    server.assert_healthy(backend);
    assert!(
        server
            .output()
            .contains("not ready: 1 database migration is pending"),
        "{}",
        server.output()
    );

    execute(storage, RESTORE_MIGRATION);
    server.fetch("/health/ready").assert_status(200);
}

/// On PostgreSQL, a database that stops taking connections makes the
/// server not ready (and not healthy), and ready again once it is back.
/// (An SQLite file stays open in the server, so it cannot go away
/// underneath it the same way.)
#[test]
fn a_database_that_goes_away_makes_the_server_not_ready() {
    let storage = Storage::create(Backend::Postgres);
    let database = storage.database().expect("a database");
    let server = storage.launch().start();
    server.fetch("/health/ready").assert_status(200);

    database.execute_on_server(&format!(
        "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false;
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{name}' AND pid <> pg_backend_pid();",
        name = database.name()
    ));
    let down = server.fetch("/health/ready");
    down.assert_status(503);
    assert_eq!(
        down.body,
        json!({"status": "not ready", "backend": "postgresql", "database": "down",
               "pendingMigrations": null, "reason": "the database does not answer"})
    );
    server.fetch("/health").assert_status(503);

    database.execute_on_server(&format!(
        "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS true",
        database.name()
    ));
    // The pool retries a refused connection with a back-off of at most
    // half the connect timeout (2.5 s by default), and a request during an
    // outage waits 1 s for it: the first probe after the database is back
    // may still find it down. A readiness probe polls, so does this.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let ready = server.fetch("/health/ready");
        if ready.status == 200 || std::time::Instant::now() > deadline {
            ready.assert_status(200);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Requests are counted by route pattern and status (never by the path
/// sent), latency by route, credentials as issued; the pool is shown; and
/// `METRICS_ENABLED=false` hides it all.
fn metrics_count_requests_by_route_and_issued_credentials(storage: &Storage) {
    let server = open_launch(storage).start();
    let unknown = uuid::Uuid::new_v4().to_string();
    server
        .fetch(&format!("/issuers/{unknown}"))
        .assert_status(404);
    server
        .fetch(&format!("/v2/issuers/{unknown}"))
        .assert_status(404);
    server.fetch("/no/such/route").assert_status(404);
    let (_, badge) = issuer_with_badge(&server);
    server
        .post("/credentials", &award_body(&badge, "one@example.org"))
        .assert_status(201);
    let batch = server.post("/credentials/batch", &batch_body(&badge, 3));
    batch.assert_status(201);
    assert_eq!(batch.body.as_array().map(Vec::len), Some(3));

    let text = metrics(&server);
    for (series, expected) in [
        (
            r#"openbadges_http_requests_total{method="GET",route="/issuers/{id}",status="404"}"#,
            1.0,
        ),
        (
            r#"openbadges_http_requests_total{method="GET",route="/v2/issuers/{id}",status="404"}"#,
            1.0,
        ),
        (
            r#"openbadges_http_requests_total{method="GET",route="unmatched",status="404"}"#,
            1.0,
        ),
        (
            r#"openbadges_http_requests_total{method="POST",route="/issuers",status="201"}"#,
            1.0,
        ),
        (
            r#"openbadges_http_requests_total{method="POST",route="/credentials/batch",status="201"}"#,
            1.0,
        ),
        (
            r#"openbadges_http_request_duration_seconds_count{method="POST",route="/credentials/batch"}"#,
            1.0,
        ),
        ("openbadges_credentials_issued_total", 4.0),
    ] {
        assert_eq!(sample(&text, series), Some(expected), "{series} in\n{text}");
    }
    assert!(
        !text.contains(&unknown) && !text.contains("/no/such/route"),
        "raw paths leak into the labels:\n{text}"
    );
    let backend = storage.backend().name();
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"openbadges_build_info{{version="{}",backend="{backend}"}}"#,
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0),
        "{text}"
    );
    let connections = sample(&text, "openbadges_db_pool_connections").expect("connections");
    let idle = sample(&text, "openbadges_db_pool_idle_connections").expect("idle");
    let max = sample(&text, "openbadges_db_pool_max_connections").expect("max");
    assert!(
        idle <= connections && connections <= max && max >= 1.0,
        "{text}"
    );
    assert!(sample(&text, "openbadges_db_pool_checkouts_total").is_some_and(|n| n >= 5.0));
    assert!(sample(&text, "openbadges_db_pool_checkout_wait_seconds_total").is_some());
    assert_eq!(
        sample(&text, "openbadges_db_pool_checkout_timeouts_total"),
        Some(0.0)
    );
    // The scrape itself is in flight while it is rendered.
    assert_eq!(
        sample(&text, "openbadges_http_requests_in_flight"),
        Some(1.0)
    );
    // A second scrape counts the first.
    assert_eq!(
        sample(
            &metrics(&server),
            r#"openbadges_http_requests_total{method="GET",route="/metrics",status="200"}"#
        ),
        Some(1.0)
    );
    drop(server);

    let hidden = open_launch(storage).env("METRICS_ENABLED", "false").start();
    let response = hidden.fetch("/metrics");
    response.assert_status(404);
    assert_eq!(response.body["error"], "Not Found");
}

/// Holds the lock that `POST /issuers` needs until dropped.
enum WriteLock {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl WriteLock {
    fn take(storage: &Storage) -> Self {
        match storage.backend() {
            Backend::Sqlite => {
                let file = storage.sqlite_file().expect("a SQLite file");
                let mut conn = SqliteConnection::establish(&file.to_string_lossy())
                    .expect("open the database");
                conn.batch_execute("BEGIN EXCLUSIVE").expect("lock");
                Self::Sqlite(conn)
            }
            Backend::Postgres => {
                let url = storage.database().expect("a database").url();
                let mut conn = PgConnection::establish(url).expect("connect");
                conn.batch_execute("BEGIN; LOCK TABLE issuers IN EXCLUSIVE MODE")
                    .expect("lock");
                Self::Postgres(conn)
            }
        }
    }

    fn release(self) {
        match self {
            Self::Sqlite(mut conn) => conn.batch_execute("COMMIT"),
            Self::Postgres(mut conn) => conn.batch_execute("COMMIT"),
        }
        .expect("release the lock");
    }
}

#[track_caller]
fn assert_echoed(response: &Response, id: &str) {
    assert_eq!(
        response.header("x-request-id"),
        Some(id),
        "{}: {:?}",
        response.request,
        response.headers
    );
}

/// A sane client id is echoed and logged; a missing or insane one is
/// replaced by a UUID; every answer carries it, errors included (a 404, a
/// 400, and a 503 of the time limit, which no handler answers); the access
/// line has no query string.
fn request_ids_are_echoed_on_every_answer_and_logged(storage: &Storage) {
    let server = open_launch(storage)
        .env("REQUEST_TIMEOUT_SECONDS", "1")
        .env("SQLITE_BUSY_TIMEOUT", "20000")
        .start();
    let given = server.fetch_with(
        "/issuers?limit=5&token=s3cr3t-query",
        &[("X-Request-Id", "trace-me-42")],
    );
    given.assert_status(200);
    assert_echoed(&given, "trace-me-42");

    let generated = server.fetch("/issuers");
    let id = generated.expect_header("x-request-id").to_owned();
    uuid::Uuid::parse_str(&id).unwrap_or_else(|e| panic!("{id} is not a UUID: {e}"));
    let again = server.fetch("/issuers");
    assert_ne!(again.header("x-request-id"), Some(id.as_str()));

    let too_long = "x".repeat(129);
    for insane in [too_long.as_str(), "has spaces in it"] {
        let replaced = server.fetch_with("/issuers", &[("X-Request-Id", insane)]);
        let echoed = replaced.expect_header("x-request-id");
        assert!(
            uuid::Uuid::parse_str(echoed).is_ok(),
            "{insane:?} became {echoed:?}"
        );
    }
    let longest = "y".repeat(128);
    assert_echoed(
        &server.fetch_with("/issuers", &[("X-Request-Id", longest.as_str())]),
        &longest,
    );

    let missing = server.fetch_with("/no/such/route", &[("X-Request-Id", "err-404")]);
    missing.assert_status(404);
    assert_echoed(&missing, "err-404");
    let invalid = server.send(
        "POST",
        "/issuers",
        &[("X-Request-Id", "err-400")],
        Some("{}"),
    );
    invalid.assert_status(400);
    assert_echoed(&invalid, "err-400");
    let lock = WriteLock::take(storage);
    let stuck = server.send(
        "POST",
        "/issuers",
        &[("X-Request-Id", "err-503")],
        Some(&issuer_body("Stuck").to_string()),
    );
    lock.release();
    stuck.assert_status(503);
    assert_echoed(&stuck, "err-503");

    let output = server.output();
    let access_line = |id: &str| {
        output
            .lines()
            .find(|line| {
                line.contains("openbadges::access") && line.contains(&format!("request_id={id}"))
            })
            .unwrap_or_else(|| panic!("no access line for {id}:\n{output}"))
            .to_owned()
    };
    let line = access_line("trace-me-42");
    assert!(line.contains("GET /issuers 200 "), "{line}");
    assert!(line.contains(" ms "), "{line}");
    assert!(line.contains("route=/issuers"), "{line}");
    assert!(
        !output.contains("s3cr3t-query"),
        "the query string is logged:\n{output}"
    );
    assert!(access_line(&id).contains("GET /issuers 200 "));
    assert!(access_line("err-404").contains("GET /no/such/route 404 "));
    assert!(access_line("err-503").contains("POST /issuers 503 "));
    // Successful probes are logged at debug level, below the default info.
    server.fetch("/health").assert_status(200);
    assert!(
        !server.output().contains("GET /health 200"),
        "{}",
        server.output()
    );
}

/// Stops `server` with SIGTERM and returns everything it wrote, once it
/// has exited with 0.
fn stop(mut server: Server) -> String {
    server.signal("TERM");
    let status = server
        .wait_for_exit(QUICK_EXIT)
        .unwrap_or_else(|| panic!("still running after SIGTERM:\n{}", server.output()));
    assert_eq!(status.code(), Some(0), "{}", server.output());
    server.output()
}

/// `LOG_FORMAT=json`: every line is a JSON object with time, level, target
/// and message, and the access log's fields are keys of their own;
/// `LOG_LEVEL` still applies (debug shows the probes).
fn json_logs_are_one_object_a_line(storage: &Storage) {
    let server = open_launch(storage)
        .env("LOG_FORMAT", "json")
        .env("LOG_LEVEL", "debug")
        .env("DB_QUERY_LOGGING", "true")
        .start();
    server
        .fetch_with("/issuers", &[("X-Request-Id", "json-line-1")])
        .assert_status(200);
    let output = stop(server);

    let lines: Vec<Value> = output
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for line in &lines {
        for key in ["timestamp", "level", "target", "message"] {
            assert!(line[key].is_string(), "{key} in {line}");
        }
    }
    let access = lines
        .iter()
        .find(|line| line["request_id"] == "json-line-1")
        .unwrap_or_else(|| panic!("no access line:\n{output}"));
    assert_eq!(access["target"], "openbadges::access");
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["path"], "/issuers");
    assert_eq!(access["route"], "/issuers");
    assert_eq!(access["status"], 200);
    assert!(access["duration_ms"].is_number(), "{access}");
    assert!(
        lines
            .iter()
            .any(|line| line["level"] == "DEBUG" && line["path"] == "/health"),
        "LOG_LEVEL=debug shows the probes:\n{output}"
    );
    assert!(
        lines.iter().any(|line| line["target"] == "openbadges::sql"
            && line["message"].as_str().is_some_and(|m| m.contains(" ms"))),
        "DB_QUERY_LOGGING writes statements with their duration:\n{output}"
    );
    assert!(lines
        .iter()
        .any(|line| line["message"] == "closed the database pool"));
}

/// Whether nothing listens on the server's port any more.
fn refuses_connections(server: &Server) -> bool {
    TcpStream::connect(("127.0.0.1", server.port())).is_err()
}

/// Polls `condition` every 50 ms for up to `timeout`.
fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        sleep(Duration::from_millis(50));
    }
}

/// SIGTERM while a large signed batch is being issued: the listener closes
/// at once, the batch still completes with 201, and the process exits 0.
fn sigterm_lets_the_request_in_flight_finish(storage: &Storage) {
    const BATCH: usize = 200;
    let mut server = open_launch(storage)
        .env("SHUTDOWN_TIMEOUT", "120")
        .env("REQUEST_TIMEOUT_SECONDS", "300")
        .start();
    let (_, badge) = issuer_with_badge(&server);
    let body = batch_body(&badge, BATCH);

    let batch = std::thread::scope(|scope| {
        let request = scope.spawn(|| server.post("/credentials/batch", &body));
        let in_flight = eventually(Duration::from_secs(30), || {
            request.is_finished()
                || sample(&metrics(&server), "openbadges_http_requests_in_flight")
                    .is_some_and(|n| n >= 2.0)
        });
        assert!(
            in_flight && !request.is_finished(),
            "the batch was never seen in flight"
        );
        server.signal("TERM");
        assert!(
            eventually(Duration::from_secs(10), || refuses_connections(&server)),
            "still accepting connections after SIGTERM:\n{}",
            server.output()
        );
        assert!(
            !request.is_finished(),
            "the batch finished before it could be tested"
        );
        request.join().expect("the batch request")
    });
    batch.assert_status(201);
    assert_eq!(batch.body.as_array().map(Vec::len), Some(BATCH));

    let status = server
        .wait_for_exit(Duration::from_secs(120))
        .unwrap_or_else(|| panic!("still running:\n{}", server.output()));
    assert_eq!(status.code(), Some(0), "{}", server.output());
    let output = server.output();
    for part in [
        "SIGTERM received: shutting down",
        "POST /credentials/batch 201 ",
        "HTTP server stopped",
        "closed the database pool",
    ] {
        assert!(output.contains(part), "{part:?} in:\n{output}");
    }
    assert!(refuses_connections(&server));
}

/// SIGINT (Ctrl-C) stops gracefully too, at once when nothing is in flight.
fn sigint_stops_an_idle_server(storage: &Storage) {
    let mut server = storage.launch().start();
    server.fetch("/health").assert_status(200);
    let started = Instant::now();
    server.signal("INT");
    let status = server
        .wait_for_exit(QUICK_EXIT)
        .unwrap_or_else(|| panic!("still running after SIGINT:\n{}", server.output()));
    assert_eq!(status.code(), Some(0), "{}", server.output());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(server.output().contains("SIGINT received: shutting down"));
}

/// A request still running when `SHUTDOWN_TIMEOUT` passes is cut off, and
/// the server exits 0 all the same, soon after the timeout. The request is
/// an upload that stalls half way (a batch whose body never ends): it runs
/// for as long as the server lets it, whatever the speed of the machine or
/// of signing.
#[test]
fn a_request_over_the_shutdown_timeout_is_cut_off() {
    use std::io::{Read, Write};

    let storage = Storage::create(Backend::Sqlite);
    let mut server = open_launch(&storage)
        .env("SHUTDOWN_TIMEOUT", "1")
        .env("REQUEST_TIMEOUT_SECONDS", "300")
        .start();
    let mut upload = std::net::TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    write!(
        upload,
        "POST /credentials/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n\
         {{\"credentials\": ["
    )
    .expect("send the start of the upload");
    upload.flush().expect("flush");
    assert!(
        eventually(Duration::from_secs(30), || {
            sample(&metrics(&server), "openbadges_http_requests_in_flight")
                .is_some_and(|n| n >= 2.0)
        }),
        "the upload was never seen in flight"
    );
    let stopping = Instant::now();
    server.signal("TERM");
    let status = server
        .wait_for_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("still running:\n{}", server.output()));
    assert_eq!(status.code(), Some(0), "{}", server.output());
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "took {:?}",
        stopping.elapsed()
    );
    // The connection was closed without an answer.
    upload
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut answer = String::new();
    let read = upload.read_to_string(&mut answer);
    assert!(
        read.is_err() || !answer.starts_with("HTTP/1.1 2"),
        "the upload was answered: {answer}"
    );
}
