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

#[derive(QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = Text)]
    compile_options: String,
}

/// The bundled SQLite is built with the query planner stability guarantee
/// (`.cargo/config.toml`). Without it, SQLite 3.50 plans a statement with
/// the values bound to it (a `LIMIT ?`, which every diesel `.first()`
/// writes, is one) and marks it to be prepared again whenever they change:
/// every read was parsed and planned anew, about a quarter of the CPU of a
/// `/verify` and a sixth of a signed issuance.
#[test]
fn statements_are_planned_once_whatever_is_bound() {
    let dir = TempDir::new().expect("temp dir");
    let store =
        SqliteStore::open(&SqliteOptions::new(dir.path().join("qpsg.sqlite"))).expect("open");
    let mut conn = store.database().checkout().expect("checkout");
    let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
        .load::<CompileOption>(&mut conn)
        .expect("compile options")
        .into_iter()
        .map(|option| option.compile_options)
        .collect();
    assert!(
        options.iter().any(|option| option == "ENABLE_QPSG"),
        "{options:?}"
    );
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
        .n
}

/// The learners migration rebuilds `users` and `mail_outbox` (SQLite
/// cannot alter a CHECK constraint). A database with data from before it
/// keeps every row, its indexes, and the foreign keys of the tables that
/// refer to the rebuilt ones; the migration does not cascade into them, and
/// foreign keys are enforced again afterwards.
#[test]
fn the_learners_migration_keeps_data_indexes_and_foreign_keys() {
    const LEARNERS: &str = "20261207000010";
    use diesel::connection::SimpleConnection;
    use diesel::migration::MigrationSource;
    use diesel::Connection;

    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("before.sqlite");
    {
        let mut conn =
            SqliteConnection::establish(file.to_str().expect("utf-8 path")).expect("open");
        conn.batch_execute("PRAGMA foreign_keys = ON")
            .expect("pragma");
        let all =
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&MIGRATIONS).expect("migrations");
        // Every migration before the learners one (later ones exist too).
        let before = all
            .iter()
            .filter(|m| m.name().version().to_string().as_str() < LEARNERS)
            .count();
        for _ in 0..before {
            conn.run_next_migration(MIGRATIONS)
                .expect("older migration");
        }
        conn.batch_execute(
            "INSERT INTO users (id, username, email, password_hash, role, created_at, updated_at, \
                 session_generation) VALUES \
             ('00000000-0000-4000-8000-000000000001', 'ada', 'ada@example.org', 'h', 'issuer', \
                 '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', 3); \
             INSERT INTO issuers (id, name, url, owner_id, created_at, updated_at) VALUES \
             ('00000000-0000-4000-8000-000000000002', 'I', 'https://i.example.org', \
                 '00000000-0000-4000-8000-000000000001', \
                 '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'); \
             INSERT INTO api_keys (id, user_id, name, key_hash, prefix, created_at) VALUES \
             ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', \
                 'k', 'hash', 'p', '2026-01-01T00:00:00.000000Z'); \
             INSERT INTO badge_classes (id, issuer_id, name, description, criteria_narrative, \
                 created_at, updated_at) VALUES \
             ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000002', \
                 'B', 'd', 'n', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'); \
             INSERT INTO assertions (id, badge_class_id, issuer_id, recipient_type, \
                 recipient_identity, recipient_hashed, recipient_key, issued_on, created_at, \
                 updated_at) VALUES \
             ('00000000-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000004', \
                 '00000000-0000-4000-8000-000000000002', 'email', 'r@example.org', 0, 'k', \
                 '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', \
                 '2026-01-01T00:00:00.000000Z'); \
             INSERT INTO mail_outbox (id, assertion_id, recipient, state, attempts, \
                 next_attempt_at, last_error, created_at) VALUES \
             ('00000000-0000-4000-8000-000000000006', '00000000-0000-4000-8000-000000000005', \
                 'r@example.org', 'pending', 2, '2026-01-01T00:00:00.000000Z', '451 later', \
                 '2026-01-01T00:00:00.000000Z');",
        )
        .expect("data from before");
    }

    let store = SqliteStore::open(&SqliteOptions::new(&file)).expect("open");
    let applied = store.migrate().expect("migrate");
    assert_eq!(
        applied.first().map(String::as_str),
        Some(LEARNERS),
        "the learners migration is the first one applied: {applied:?}"
    );
    let mut conn = store.database().checkout().expect("checkout");
    assert_eq!(settings(&mut conn).foreign_keys, 1, "enforced again");
    // Every row kept, with its values.
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM users WHERE username = 'ada' AND role = 'issuer' \
             AND session_generation = 3 AND email = 'ada@example.org'"
        ),
        1
    );
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM api_keys"),
        1,
        "no cascade"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM issuers WHERE owner_id IS NOT NULL"
        ),
        1,
        "no SET NULL"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM mail_outbox WHERE kind = 'award' AND attempts = 2 \
             AND last_error = '451 later' AND learner_email_id IS NULL"
        ),
        1
    );
    // The indexes and constraints of the rebuilt tables.
    for index in [
        "users_created_idx",
        "mail_outbox_due_idx",
        "mail_outbox_assertion_idx",
    ] {
        assert_eq!(
            count(
                &mut conn,
                &format!(
                    "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' \
                     AND name = '{index}'"
                )
            ),
            1,
            "{index}"
        );
    }
    assert!(
        conn.batch_execute(
            "INSERT INTO users (id, username, password_hash, role, created_at, updated_at) \
             VALUES ('x', 'ada', 'h', 'viewer', 't', 't')"
        )
        .is_err(),
        "usernames are still unique"
    );
    assert!(
        conn.batch_execute("UPDATE users SET role = 'pirate' WHERE username = 'ada'")
            .is_err(),
        "the role is still checked"
    );
    conn.batch_execute("UPDATE users SET role = 'learner' WHERE username = 'ada'")
        .expect("learners are a role now");
    // The tables referring to `users` refer to the new table: deleting the
    // user cascades into its keys and clears its issuers' owner.
    conn.batch_execute("DELETE FROM users WHERE username = 'ada'")
        .expect("delete user");
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM api_keys"), 0);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM issuers WHERE owner_id IS NOT NULL"
        ),
        0
    );
    // And the outbox row still goes with its award.
    conn.batch_execute("DELETE FROM assertions WHERE id = '00000000-0000-4000-8000-000000000005'")
        .expect("delete award");
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM mail_outbox"), 0);
}

/// A credential as the server signs them (keys in order, no spaces), with
/// text that is not ASCII and escapes.
fn signed_text(id: &str, name: &str) -> String {
    serde_json::to_string(&serde_json::json!({
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": format!("https://badges.example.org/v3/credentials/{id}"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": {"id": "did:web:badges.example.org:issuers:00000000-0000-4000-8000-000000000002",
                   "type": ["Profile"], "name": "Universität \"Ω\"", "url": "https://u.example.org"},
        "validFrom": "2026-01-01T00:00:00.000000Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": "https://badges.example.org/v3/achievements/00000000-0000-4000-8000-000000000004",
            "type": ["Achievement"], "name": name, "description": "Zeilen\nund\ttabs ✓",
            "criteria": {"narrative": "Straße"}}},
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                  "created": "2026-01-01T00:00:00Z", "proofPurpose": "assertionMethod",
                  "proofValue": "z4emVUohKoA41wQEgMFeNkBgMaY3CmGS7Hsv5SdjKqag67fNr4fbWeDj7EPkDH14RwnbJsYAm5sMpeBiqDSqr2XZY",
                  "verificationMethod": "did:web:badges.example.org:issuers:00000000-0000-4000-8000-000000000002#key-1"}
    }))
    .expect("JSON")
}

/// Migration 12 turns each stored credential into packed bytes, in the
/// migrations' transaction. Awards stored before it are read afterwards
/// with the same text, byte for byte, by a GET and in lists; an unsigned
/// award stays unsigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compaction_migration_keeps_every_credential_byte_for_byte() {
    const COMPACT: &str = "20261207000012";
    use diesel::connection::SimpleConnection;
    use diesel::migration::MigrationSource;
    use diesel::Connection;
    use openbadges_domain::ports::{AssertionFilter, Store};
    use openbadges_domain::{AssertionId, PageRequest};

    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("before.sqlite");
    let signed = [
        (
            "00000000-0000-4000-8000-000000000005",
            signed_text("5", "Zertifikat für Straße"),
        ),
        (
            "00000000-0000-4000-8000-000000000006",
            signed_text("6", "Second \"award\" 😀"),
        ),
    ];
    {
        let mut conn =
            SqliteConnection::establish(file.to_str().expect("utf-8 path")).expect("open");
        let all =
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&MIGRATIONS).expect("migrations");
        for _ in all
            .iter()
            .filter(|m| m.name().version().to_string().as_str() < COMPACT)
        {
            conn.run_next_migration(MIGRATIONS)
                .expect("older migration");
        }
        conn.batch_execute(
            "INSERT INTO issuers (id, name, url, created_at, updated_at) VALUES \
             ('00000000-0000-4000-8000-000000000002', 'I', 'https://i.example.org', \
                 '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'); \
             INSERT INTO badge_classes (id, issuer_id, name, description, criteria_narrative, \
                 created_at, updated_at) VALUES \
             ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000002', \
                 'B', 'd', 'n', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');",
        )
        .expect("issuer and badge class");
        let unsigned = "00000000-0000-4000-8000-000000000007";
        let awards = signed
            .iter()
            .map(|(id, text)| (*id, Some(text.as_str())))
            .chain([(unsigned, None)]);
        for (n, (id, text)) in awards.enumerate() {
            diesel::sql_query(
                "INSERT INTO assertions (id, badge_class_id, issuer_id, recipient_type, \
                     recipient_identity, recipient_hashed, recipient_key, issued_on, created_at, \
                     updated_at, issued_credential) VALUES \
                 (?, '00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000002', \
                  'email', 'r@example.org', 0, 'k', '2026-01-01T00:00:00.000000Z', ?, \
                  '2026-01-01T00:00:00.000000Z', ?)",
            )
            .bind::<Text, _>(id)
            .bind::<Text, _>(format!("2026-01-01T00:00:0{n}.000000Z"))
            .bind::<diesel::sql_types::Nullable<Text>, _>(text)
            .execute(&mut conn)
            .expect("an award from before");
        }
    }

    let store = tokio::task::spawn_blocking(move || {
        let store = SqliteStore::open(&SqliteOptions::new(&file)).expect("open");
        let applied = store.migrate().expect("migrate");
        assert_eq!(
            applied.first().map(String::as_str),
            Some(COMPACT),
            "the compaction migration is the first one applied: {applied:?}"
        );
        store
    })
    .await
    .expect("migrate task");

    for (id, text) in &signed {
        let award = store
            .assertions()
            .get(AssertionId::from(uuid::Uuid::parse_str(id).expect("uuid")))
            .await
            .expect("get");
        assert_eq!(
            award.issued_credential.as_ref().map(|c| c.json()),
            Some(text.as_str()),
            "{id}"
        );
    }
    let listed = store
        .assertions()
        .list(
            &AssertionFilter::default(),
            PageRequest::new(10, 0).expect("page"),
        )
        .await
        .expect("list");
    let listed: Vec<Option<&str>> = listed
        .items
        .iter()
        .map(|award| award.issued_credential.as_ref().map(|c| c.json()))
        .collect();
    assert_eq!(
        listed,
        vec![Some(signed[0].1.as_str()), Some(signed[1].1.as_str()), None]
    );

    // Stored packed: bytes, less than half the text.
    let mut conn = store.database().checkout().expect("checkout");
    for (id, text) in &signed {
        let packed = count(
            &mut conn,
            &format!(
                "SELECT COUNT(*) AS n FROM assertions WHERE id = '{id}' \
                 AND typeof(issued_credential) = 'blob' \
                 AND length(issued_credential) * 2 < {}",
                text.len()
            ),
        );
        assert_eq!(packed, 1, "{id} is not packed");
    }
}
