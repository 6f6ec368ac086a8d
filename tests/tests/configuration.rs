//! Configuration as an operator meets it: refused values (exit code 2) and
//! the configuration file. Help and version are tested next to the binary,
//! in crates/app/tests/cli.rs.

use std::fs;
use std::net::TcpListener;

use openbadges_e2e::{Backend, Launch, Storage};

/// Exit code of a refused configuration.
const CONFIG_REFUSED: i32 = 2;
/// Exit code when the server cannot listen.
const SERVE_FAILURE: i32 = 1;

#[test]
fn unknown_command_is_a_usage_error() {
    Launch::new()
        .arg("frobnicate")
        .run()
        .assert_failure(CONFIG_REFUSED, &["frobnicate"]);
}

#[test]
fn unknown_db_type_is_refused() {
    let launch = Launch::new().env("DB_TYPE", "mysql");
    let workdir = launch.workdir().to_path_buf();
    launch.run().assert_failure(
        CONFIG_REFUSED,
        &["DB_TYPE", "mysql", "postgresql", "sqlite"],
    );
    assert!(
        !workdir.join("openbadges.sqlite").exists(),
        "nothing is opened before the configuration is valid"
    );
}

#[test]
fn non_numeric_port_is_refused() {
    Launch::new()
        .env("PORT", "abc")
        .run()
        .assert_failure(CONFIG_REFUSED, &["PORT", "abc", "1-65535"]);
}

#[test]
fn unknown_sqlite_sync_mode_is_refused() {
    Launch::new()
        .env("SQLITE_SYNC_MODE", "sometimes")
        .run()
        .assert_failure(
            CONFIG_REFUSED,
            &["SQLITE_SYNC_MODE", "sometimes", "OFF, NORMAL, FULL, EXTRA"],
        );
}

#[test]
fn non_postgres_database_url_is_refused_without_its_password() {
    Launch::new()
        .env("DB_TYPE", "postgresql")
        .env("DATABASE_URL", "mysql://root:hunter2-e2e@db/badges")
        .run()
        .assert_failure(CONFIG_REFUSED, &["DATABASE_URL", "root:***@db"])
        .assert_hidden("hunter2-e2e");
}

#[test]
fn config_file_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("from-file.sqlite");
    let config = dir.path().join("openbadges.toml");
    fs::write(
        &config,
        format!(
            "db_type = \"sqlite\"\nsqlite_file = {:?}\nlog_level = \"verbose\"\n",
            database.to_string_lossy()
        ),
    )
    .expect("write the config file");

    Launch::new()
        .arg("--config")
        .arg(config.to_string_lossy())
        .run()
        .assert_failure(CONFIG_REFUSED, &["LOG_LEVEL", "verbose"]);

    let server = Launch::new()
        .env("CONFIG_FILE", config.to_string_lossy())
        .env("LOG_LEVEL", "info")
        .start();
    server.assert_healthy("sqlite");
    assert!(database.is_file(), "SQLITE_FILE comes from the file");
}

#[test]
fn missing_config_file_is_refused() {
    Launch::new()
        .arg("--config")
        .arg("/nonexistent/openbadges.toml")
        .run()
        .assert_failure(CONFIG_REFUSED, &["/nonexistent/openbadges.toml"]);
}

#[test]
fn a_port_in_use_is_reported_with_what_to_do() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().expect("its address").port();
    Launch::new()
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .run()
        .assert_failure(
            SERVE_FAILURE,
            &[
                &format!("cannot listen on 127.0.0.1:{port}"),
                "Choose another HOST/PORT",
            ],
        );
}

/// What the tests' own start-up relies on: a port another server took
/// between the check that it was free and the bind is not mistaken for
/// this server's (its `/health` answers too), and this one is started on
/// another port.
#[test]
fn a_server_whose_port_was_taken_is_not_mistaken_for_the_one_there() {
    let first = Launch::new().start();
    first.assert_healthy("sqlite");
    // On the other backend, so that each /health tells which answers.
    let storage = Storage::create(Backend::Postgres);
    let second = storage.launch().start_on(first.port());
    assert_ne!(second.port(), first.port());
    second.assert_healthy("postgresql");
    first.assert_healthy("sqlite");
}
