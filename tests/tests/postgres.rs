//! The server on PostgreSQL: start, `migrate`, the guide's minimal grants,
//! and its PostgreSQL troubleshooting cases. Each test has its own fresh
//! database on `TEST_DATABASE_URL`.

use openbadges_e2e::{free_port, server_url, Launch, Outcome, TestDatabase};
use url::Url;

/// Exit code of a database failure.
const DATABASE_FAILURE: i32 = 3;

/// A password that must never be printed; local connections are trusted,
/// so giving it changes nothing but what the server could leak.
fn secret() -> String {
    format!("pw-{}", uuid::Uuid::new_v4().simple())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn on_postgres(url: &str) -> Launch {
    Launch::new()
        .env("DB_TYPE", "postgresql")
        .env("DATABASE_URL", url)
}

fn migrate(url: &str) -> Outcome {
    on_postgres(url).arg("migrate").run()
}

fn with_password(url: &str, password: &str) -> String {
    let mut url = Url::parse(url).expect("a database URL");
    url.set_password(Some(password))
        .expect("URL takes a password");
    url.to_string()
}

/// The guide's minimal permissions for a read-write user.
fn grant_minimal(db: &TestDatabase, role: &str) {
    db.execute(&format!(
        "GRANT CONNECT ON DATABASE \"{database}\" TO \"{role}\";
         GRANT USAGE ON SCHEMA public TO \"{role}\";
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{role}\";
         GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \"{role}\";",
        database = db.name()
    ));
}

#[test]
fn starts_on_a_fresh_database_and_migrates_it() {
    let db = TestDatabase::create();
    let server = on_postgres(db.url()).start();
    server.assert_healthy("postgresql");
    let output = server.output();
    assert!(output.contains("backend postgresql"), "{output}");
    assert!(output.contains("applied"), "{output}");
}

#[test]
fn starts_from_the_pg_parts() {
    let db = TestDatabase::create();
    let url = Url::parse(db.url()).expect("a database URL");
    let password = secret();
    let server = Launch::new()
        .env("DB_TYPE", "postgres")
        .env("PG_HOST", url.host_str().expect("a host"))
        .env("PG_PORT", url.port().unwrap_or(5432).to_string())
        .env("PG_USER", url.username())
        .env("PG_PASSWORD", &password)
        .env("PG_DATABASE", db.name())
        .start();
    server.assert_healthy("postgresql");
    assert!(!server.output().contains(&password));
}

#[test]
fn migrate_applies_once_then_reports_the_schema_current() {
    let db = TestDatabase::create();
    migrate(db.url())
        .assert_success()
        .assert_output_contains(&["applied"]);
    migrate(db.url())
        .assert_success()
        .assert_output_contains(&["schema is current"]);
    let server = on_postgres(db.url()).start();
    server.assert_healthy("postgresql");
    assert!(server.output().contains("schema is current"));
}

#[test]
fn runs_with_only_the_minimal_grants_after_migration() {
    let db = TestDatabase::create();
    migrate(db.url()).assert_success();
    let role = db.create_role("app");
    grant_minimal(&db, &role);

    let password = secret();
    let server = on_postgres(&db.url_for_role(&role, Some(&password))).start();
    server.assert_healthy("postgresql");
    let output = server.output();
    assert!(output.contains("schema is current"), "{output}");
    assert!(!output.contains(&password), "{output}");
}

#[test]
fn pending_migration_without_create_is_permission_denied() {
    let db = TestDatabase::create();
    // PostgreSQL 15 no longer grants CREATE on public to everyone; older
    // servers do, so take it away explicitly.
    db.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    let role = db.create_role("nocreate");
    db.execute(&format!(
        "GRANT CONNECT ON DATABASE \"{}\" TO \"{role}\"; GRANT USAGE ON SCHEMA public TO \"{role}\";",
        db.name()
    ));
    let password = secret();
    let url = db.url_for_role(&role, Some(&password));
    let grant_advice = format!("GRANT CREATE ON SCHEMA public TO {role}");
    let expected = [
        "permission denied",
        "lacks CREATE needed for a pending migration",
        "run `openbadges-server migrate` as the schema owner",
        grant_advice.as_str(),
    ];

    on_postgres(&url)
        .run()
        .assert_failure(DATABASE_FAILURE, &expected)
        .assert_hidden(&password);
    migrate(&url)
        .assert_failure(DATABASE_FAILURE, &expected)
        .assert_hidden(&password);
}

#[test]
fn connection_refused_is_reported() {
    let port = free_port();
    let password = secret();
    let url = format!("postgres://openbadges:{password}@127.0.0.1:{port}/openbadges");
    let endpoint = format!("cannot connect to PostgreSQL at 127.0.0.1:{port}");
    on_postgres(&url)
        .run()
        .assert_failure(
            DATABASE_FAILURE,
            &[
                endpoint.as_str(),
                "Is PostgreSQL running",
                "firewall",
                "listen_addresses",
            ],
        )
        .assert_hidden(&password);
}

/// The local test server trusts local connections, so a wrong password is
/// accepted; a role that does not exist is how to make it refuse.
#[test]
fn authentication_failure_for_a_missing_role_is_reported() {
    let db = TestDatabase::create();
    let password = secret();
    let url = db.url_for_role(&unique("ob_no_such_role"), Some(&password));
    on_postgres(&url)
        .run()
        .assert_failure(
            DATABASE_FAILURE,
            &[
                "authentication failed",
                "Check the username/password (PG_USER/PG_PASSWORD or DATABASE_URL)",
                "pg_hba.conf",
            ],
        )
        .assert_hidden(&password);
}

#[test]
fn missing_database_is_reported() {
    let mut url = Url::parse(&server_url()).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&unique("ob_missing"));
    let password = secret();
    let url = with_password(url.as_str(), &password);
    on_postgres(&url)
        .run()
        .assert_failure(
            DATABASE_FAILURE,
            &["does not exist", "Create the database or fix the name"],
        )
        .assert_hidden(&password);
}

#[test]
fn url_password_never_appears_even_when_logging_everything() {
    let db = TestDatabase::create();
    let password = secret();
    // libpq parameters in the query pass through untouched.
    let url = format!(
        "{}?application_name=openbadges_e2e",
        with_password(db.url(), &password)
    );

    let migrated = on_postgres(&url)
        .arg("migrate")
        .env("DB_QUERY_LOGGING", "true")
        .env("LOG_LEVEL", "trace")
        .run();
    migrated.assert_success().assert_hidden(&password);

    let server = on_postgres(&url)
        .env("DB_QUERY_LOGGING", "true")
        .env("LOG_LEVEL", "debug")
        .start();
    server.assert_healthy("postgresql");
    server.assert_healthy("postgresql");
    let output = server.output();
    assert!(output.contains("openbadges::sql"), "{output}");
    assert!(
        output.contains(":***@"),
        "the redacted URL is logged: {output}"
    );
    assert!(!output.contains(&password), "{output}");
}
