//! Tests that need the pool itself: what every pooled connection is set to.

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl, SqliteConnection};
use tempfile::TempDir;

use std::path::Path;

use super::*;

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = BigInt)]
    timeout: i64,
}

#[derive(QueryableByName)]
struct Synchronous {
    #[diesel(sql_type = BigInt)]
    synchronous: i64,
}

#[derive(QueryableByName)]
struct CacheSize {
    #[diesel(sql_type = BigInt)]
    cache_size: i64,
}

#[derive(QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = BigInt)]
    foreign_keys: i64,
}

/// What the connection reports, in the order of `SqliteOptions`.
#[derive(Debug, PartialEq, Eq)]
struct Settings {
    journal_mode: String,
    busy_timeout_ms: i64,
    synchronous: i64,
    cache_size: i64,
    foreign_keys: i64,
}

fn settings(conn: &mut SqliteConnection) -> Settings {
    let journal: JournalMode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(conn)
        .expect("journal_mode");
    let busy: BusyTimeout = diesel::sql_query("PRAGMA busy_timeout")
        .get_result(conn)
        .expect("busy_timeout");
    let sync: Synchronous = diesel::sql_query("PRAGMA synchronous")
        .get_result(conn)
        .expect("synchronous");
    let cache: CacheSize = diesel::sql_query("PRAGMA cache_size")
        .get_result(conn)
        .expect("cache_size");
    let keys: ForeignKeys = diesel::sql_query("PRAGMA foreign_keys")
        .get_result(conn)
        .expect("foreign_keys");
    Settings {
        journal_mode: journal.journal_mode,
        busy_timeout_ms: busy.timeout,
        synchronous: sync.synchronous,
        cache_size: cache.cache_size,
        foreign_keys: keys.foreign_keys,
    }
}

#[test]
fn every_pooled_connection_gets_the_configured_pragmas() {
    // `PRAGMA synchronous` reads back as a number.
    for (mode, number) in [
        (SyncMode::Off, 0),
        (SyncMode::Normal, 1),
        (SyncMode::Full, 2),
        (SyncMode::Extra, 3),
    ] {
        let dir = TempDir::new().expect("temp dir");
        let mut options = SqliteOptions::new(dir.path().join("pragmas.sqlite"));
        options.busy_timeout = Duration::from_millis(1234);
        options.sync_mode = mode;
        options.cache_size = -2000;
        options.pool_max = 3;
        let store = SqliteStore::open(&options).expect("open");

        // Hold every connection at once, so each one of the pool is checked,
        // not the same one three times.
        let mut held: Vec<_> = (0..options.pool_max)
            .map(|_| store.database().checkout().expect("checkout"))
            .collect();
        for conn in &mut held {
            assert_eq!(
                settings(conn),
                Settings {
                    journal_mode: "wal".to_owned(),
                    busy_timeout_ms: 1234,
                    synchronous: number,
                    // The pool's 2,000 KiB shared by its 3 connections.
                    cache_size: -666,
                    foreign_keys: 1,
                },
                "sync mode {mode}"
            );
        }
    }
}

#[test]
fn sync_mode_parses_in_any_case() {
    for (text, mode) in [
        ("OFF", SyncMode::Off),
        ("normal", SyncMode::Normal),
        ("Full", SyncMode::Full),
        ("extra", SyncMode::Extra),
    ] {
        assert_eq!(text.parse::<SyncMode>(), Ok(mode));
        assert_eq!(mode.as_str(), text.to_ascii_uppercase());
    }
    let err = "fast"
        .parse::<SyncMode>()
        .expect_err("unknown mode accepted");
    for allowed in ["OFF", "NORMAL", "FULL", "EXTRA"] {
        assert!(err.contains(allowed), "{err}");
    }
}

#[test]
fn defaults_follow_the_database_guide() {
    let options = SqliteOptions::new("db.sqlite");
    assert_eq!(options.busy_timeout, Duration::from_millis(5000));
    assert_eq!(options.sync_mode, SyncMode::Normal);
    assert_eq!(options.cache_size, 4_000);
    assert_eq!(options.pool_max, 8);
    assert!(!options.query_logging);
}

#[test]
fn relative_paths_always_name_files() {
    for (given, expected) in [
        ("db.sqlite", "./db.sqlite"),
        (":memory:", "./:memory:"),
        ("file:db.sqlite?mode=ro", "./file:db.sqlite?mode=ro"),
        ("./db.sqlite", "./db.sqlite"),
        ("/data/db.sqlite", "/data/db.sqlite"),
    ] {
        let context = StartupContext {
            file: Path::new(given),
            busy_timeout: Duration::from_millis(5000),
        };
        assert_eq!(database_url(&context).expect("url"), expected);
    }
}

#[derive(QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// A status list request reads the few flagged awards of the list through
/// their partial index, not every award of the list: with 10,000 awards on
/// a list, the other plan (the slot index, in bit order) made a request
/// take tens of milliseconds and 32 concurrent ones seconds.
#[test]
fn the_set_bits_of_a_list_are_read_through_the_flagged_index() {
    let dir = TempDir::new().expect("temp dir");
    let store =
        SqliteStore::open(&SqliteOptions::new(dir.path().join("plan.sqlite"))).expect("open");
    store.migrate().expect("migrate");
    let mut conn = store.database().checkout().expect("checkout");
    let query = crate::repositories::status_lists::flagged_bits("list".to_owned(), "revoked");
    let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&query).to_string();
    // The statement without its bind list: unbound parameters are NULL,
    // which does not change the plan.
    let statement = sql.split(" -- binds").next().expect("the statement");
    let plan: Vec<PlanStep> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {statement}"))
        .load(&mut conn)
        .expect("explain");
    let plan: Vec<&str> = plan.iter().map(|step| step.detail.as_str()).collect();
    assert!(
        plan.len() == 1 && plan[0].contains("assertions_status_flagged_idx"),
        "{statement}: {plan:?}"
    );
}
