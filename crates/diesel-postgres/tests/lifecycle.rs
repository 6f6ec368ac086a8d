//! Connecting, migrating and failing the way the database guide describes.

use std::time::Duration;

use openbadges_diesel_postgres::{PgOptions, PgStore, StartupFailure};
use openbadges_testdb::TestDatabase;

fn connect(url: &str) -> Result<PgStore, openbadges_diesel_postgres::StartupError> {
    let mut options = PgOptions::new(url);
    options.connect_timeout = Duration::from_secs(3);
    PgStore::connect(&options)
}

/// The migrations in `migrations-postgres/`, counted from the folder.
const MIGRATION_FOLDERS: usize = 12;

#[test]
fn migration_folders_are_counted_right() {
    let folders = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations-postgres"
    ))
    .expect("migrations folder")
    .filter(|entry| {
        entry
            .as_ref()
            .is_ok_and(|e| e.path().join("up.sql").exists())
    })
    .count();
    assert_eq!(folders, MIGRATION_FOLDERS, "update MIGRATION_FOLDERS");
}

#[test]
fn migrate_applies_once_then_is_a_no_op() {
    let db = TestDatabase::create();
    let store = connect(db.url()).expect("connect");
    let pending = store.pending_migrations().expect("pending");
    assert_eq!(pending.len(), MIGRATION_FOLDERS, "every folder is pending");
    let applied = store.migrate().expect("migrate");
    assert_eq!(applied, pending, "first run applies every migration");
    assert!(store.pending_migrations().expect("pending").is_empty());
    assert!(
        store.migrate().expect("again").is_empty(),
        "second run is a no-op"
    );
}

#[test]
fn concurrent_migrators_do_not_race() {
    let db = TestDatabase::create();
    let url = db.url().to_owned();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || connect(&url).expect("connect").migrate())
        })
        .collect();
    let applied: Vec<usize> = runs
        .into_iter()
        .map(|run| run.join().expect("thread").expect("migrate").len())
        .filter(|count| *count > 0)
        .collect();
    assert_eq!(
        applied,
        vec![MIGRATION_FOLDERS],
        "exactly one instance applies the migrations, all of them"
    );
}

#[test]
fn minimal_grants_suffice_once_the_schema_is_current() {
    let db = TestDatabase::create();
    connect(db.url())
        .expect("connect")
        .migrate()
        .expect("migrate");
    let role = db.create_role("minimal");
    db.execute(&format!(
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;
         GRANT CONNECT ON DATABASE \"{db}\" TO \"{role}\";
         GRANT USAGE ON SCHEMA public TO \"{role}\";
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{role}\";
         GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \"{role}\";",
        db = db.name()
    ));
    let limited = connect(&db.url_for_role(&role, None)).expect("connect as limited role");
    assert!(limited.pending_migrations().expect("pending").is_empty());
    assert!(limited.migrate().expect("migrate is a no-op").is_empty());
}

#[test]
fn pending_migration_without_create_is_permission_denied() {
    let db = TestDatabase::create();
    let role = db.create_role("nocreate");
    db.execute(&format!(
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;
         GRANT CONNECT ON DATABASE \"{db}\" TO \"{role}\";
         GRANT USAGE ON SCHEMA public TO \"{role}\";",
        db = db.name()
    ));
    let store = connect(&db.url_for_role(&role, None)).expect("connect");
    let error = store.migrate().expect_err("migrate must fail");
    assert_eq!(error.kind, StartupFailure::PermissionDenied, "{error}");
}

#[test]
fn connection_failures_are_classified() {
    let db = TestDatabase::create();
    let cases = [
        (
            "postgres://postgres:s3cret-pw@127.0.0.1:1/postgres".to_owned(),
            StartupFailure::ConnectionRefused,
        ),
        (
            db.url_for_role("no_such_role_here", Some("s3cret-pw")),
            StartupFailure::AuthenticationFailed,
        ),
        (
            db.url().replace(db.name(), "no_such_database_here"),
            StartupFailure::DatabaseMissing,
        ),
    ];
    for (url, expected) in cases {
        let error = connect(&url).err().expect("connect must fail");
        assert_eq!(error.kind, expected, "{url}: {error}");
        assert!(
            !error.detail.contains("s3cret-pw"),
            "password leaked: {error}"
        );
    }
}

#[test]
fn options_debug_hides_the_url() {
    let options = PgOptions::new("postgres://u:s3cret-pw@h/db");
    assert!(!format!("{options:?}").contains("s3cret-pw"));
}

/// Connections the server ends (a restart, a failover, an administrator)
/// are replaced without the requests noticing once they have sat idle, and
/// after at most one failed request when they die between two requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_ends_are_replaced() {
    use openbadges_domain::ports::Store;
    use openbadges_domain::{DomainError, IssuerId};

    let db = TestDatabase::create();
    let url = db.url().to_owned();
    let store = tokio::task::spawn_blocking(move || {
        let store = connect(&url).expect("connect");
        store.migrate().expect("migrate");
        store
    })
    .await
    .expect("connect task");
    let missing = IssuerId::generate();
    let read = || async {
        match store.issuers().get(missing).await {
            Err(DomainError::NotFound { .. }) => Ok(()),
            Err(other) => Err(other),
            Ok(_) => panic!("found an issuer in an empty database"),
        }
    };
    let end_connections = || {
        db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
    };
    read().await.expect("a first read");

    // Ended while idle: pinged before use, replaced, the read succeeds.
    end_connections();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    read()
        .await
        .expect("a read after the connection ended while idle");

    // Ended right after a request: the next read may fail (503), and
    // marks the connection; the one after it gets a new connection.
    end_connections();
    match read().await {
        Ok(()) | Err(DomainError::Unavailable(_)) => {}
        Err(other) => panic!("a dead connection must read as unavailable: {other}"),
    }
    read().await.expect("a read after one failure");
    read().await.expect("and the next");
}
