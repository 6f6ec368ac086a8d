//! The server on SQLite: start with defaults, `migrate`, query logging, and
//! the guide's SQLite troubleshooting cases.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use openbadges_e2e::Launch;

/// Exit code of a database failure.
const DATABASE_FAILURE: i32 = 3;

fn sqlite_file(dir: &Path) -> String {
    dir.join("ob.sqlite").to_string_lossy().into_owned()
}

#[test]
fn starts_with_no_database_configuration_at_all() {
    let launch = Launch::new();
    let expected_file = launch.workdir().join("openbadges.sqlite");
    let server = launch.start();
    server.assert_healthy("sqlite");
    assert!(
        expected_file.is_file(),
        "./openbadges.sqlite is created in the working directory"
    );
    let output = server.output();
    assert!(output.contains(env!("CARGO_PKG_VERSION")), "{output}");
    assert!(output.contains("backend sqlite"), "{output}");
    assert!(output.contains("./openbadges.sqlite"), "{output}");
    assert!(
        output.contains("listening on http://127.0.0.1:"),
        "{output}"
    );
}

#[test]
fn unknown_routes_answer_the_json_404() {
    let server = Launch::new().start();
    let (status, body) = server.get("/no/such/route");
    assert_eq!(status, 404);
    assert_eq!(body["error"], "Not Found");
    assert_eq!(body["message"], "route GET /no/such/route not found");
}

#[test]
fn migrate_applies_once_then_reports_the_schema_current() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = sqlite_file(dir.path());
    let migrate = || {
        Launch::new()
            .arg("migrate")
            .env("DB_TYPE", "sqlite")
            .env("SQLITE_FILE", &file)
            .run()
    };

    let first = migrate();
    first.assert_success().assert_output_contains(&["applied"]);
    let second = migrate();
    second
        .assert_success()
        .assert_output_contains(&["schema is current"]);

    let server = Launch::new().env("SQLITE_FILE", &file).start();
    server.assert_healthy("sqlite");
    assert!(server.output().contains("schema is current"));
}

#[test]
fn missing_directory_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("missing").join("ob.sqlite");
    Launch::new()
        .env("SQLITE_FILE", file.to_string_lossy())
        .run()
        .assert_failure(
            DATABASE_FAILURE,
            &[
                &file.to_string_lossy(),
                "does not exist",
                "Create the directory or fix SQLITE_FILE",
            ],
        );
    assert!(!file.exists());
}

#[test]
fn unwritable_directory_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The unprivileged user must reach the directory, but not write in it.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let read_only = dir.path().join("read-only");
    fs::create_dir(&read_only).expect("mkdir");
    fs::set_permissions(&read_only, fs::Permissions::from_mode(0o555)).expect("chmod");

    // Root ignores mode bits, so the server then runs as `nobody`.
    Launch::new()
        .unprivileged()
        .env("SQLITE_FILE", sqlite_file(&read_only))
        .run()
        .assert_failure(
            DATABASE_FAILURE,
            &["cannot write", "Check file and directory permissions"],
        );
}

#[test]
fn locked_database_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = sqlite_file(dir.path());
    let mut holder = SqliteConnection::establish(&file).expect("open the SQLite file");
    holder
        .batch_execute("BEGIN EXCLUSIVE")
        .expect("take the exclusive lock");

    let outcome = Launch::new()
        .env("SQLITE_FILE", &file)
        .env("SQLITE_BUSY_TIMEOUT", "200")
        .run();
    outcome.assert_failure(
        DATABASE_FAILURE,
        &[
            "locked",
            "Increase SQLITE_BUSY_TIMEOUT (now 200 ms)",
            "no other process holds the database",
            "-journal/-wal",
        ],
    );
    holder.batch_execute("ROLLBACK").expect("release the lock");
}

#[test]
fn query_logging_shows_sql_at_debug() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Launch::new()
        .env("SQLITE_FILE", sqlite_file(dir.path()))
        .env("DB_QUERY_LOGGING", "true")
        .env("LOG_LEVEL", "debug")
        .start();
    server.assert_healthy("sqlite");
    let output = server.output();
    assert!(output.contains("openbadges::sql"), "{output}");
}

#[test]
fn query_logging_shows_sql_even_at_info() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Launch::new()
        .env("SQLITE_FILE", sqlite_file(dir.path()))
        .env("DB_QUERY_LOGGING", "1")
        .start();
    server.assert_healthy("sqlite");
    let output = server.output();
    assert!(output.contains("openbadges::sql"), "{output}");
    assert!(
        !output.contains(" DEBUG actix"),
        "only SQL is lowered: {output}"
    );
}

#[test]
fn no_sql_is_logged_by_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Launch::new()
        .env("SQLITE_FILE", sqlite_file(dir.path()))
        .env("LOG_LEVEL", "debug")
        .start();
    server.assert_healthy("sqlite");
    assert!(!server.output().contains("openbadges::sql"));
}
