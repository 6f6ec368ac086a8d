//! Fresh PostgreSQL databases for tests, in the style of crates.io's test-db
//! crate: each [`TestDatabase`] is created on the server named by
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! a superuser) and dropped when the value is dropped. Tests therefore never
//! see each other's data or leftovers of earlier runs.
//!
//! Databases are named `ob_test_<pid>_<random>`; ones whose process is gone
//! (a run that was killed, or a database held in a `static`) are dropped the
//! next time a database is created.

use std::path::Path;

use std::sync::Mutex;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use url::Url;

/// The server tests use when `TEST_DATABASE_URL` is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

const PREFIX: &str = "ob_test_";

/// A database that exists for as long as this value lives.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    server: Url,
    url: String,
    roles: Mutex<Vec<String>>,
}

#[derive(QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

/// The server URL tests use: `TEST_DATABASE_URL` or [`DEFAULT_URL`].
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

fn connect(url: &str) -> PgConnection {
    PgConnection::establish(url).unwrap_or_else(|e| {
        panic!(
            "cannot connect to the test PostgreSQL server ({e}); start it or set \
             TEST_DATABASE_URL (make test starts a throwaway server when none answers)"
        )
    })
}

fn run(conn: &mut PgConnection, sql: &str) {
    conn.batch_execute(sql)
        .unwrap_or_else(|e| panic!("test database SQL failed: {sql}: {e}"));
}

fn drop_stale(conn: &mut PgConnection) {
    let names: Vec<DatabaseName> = diesel::sql_query(format!(
        "SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"
    ))
    .load(conn)
    .unwrap_or_default();
    for DatabaseName { datname } in names {
        let pid = datname
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            // Best effort: another run may be dropping the same one.
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"
            ))
            .execute(conn);
        }
    }
}

impl TestDatabase {
    /// Creates a fresh, empty database. Panics with a clear message if the
    /// server does not answer: a test that needs PostgreSQL must not pass
    /// without it.
    pub fn create() -> Self {
        let server = Url::parse(&server_url()).expect("TEST_DATABASE_URL must be a URL");
        let mut conn = connect(server.as_str());
        drop_stale(&mut conn);
        let name = format!(
            "{PREFIX}{}_{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        run(&mut conn, &format!("CREATE DATABASE \"{name}\""));
        let mut url = server.clone();
        url.set_path(&name);
        Self {
            name,
            server,
            url: url.to_string(),
            roles: Mutex::new(Vec::new()),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A superuser URL to this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A URL to this database as `role` (with `password`, if any).
    pub fn url_for_role(&self, role: &str, password: Option<&str>) -> String {
        let mut url = Url::parse(&self.url).expect("own URL");
        url.set_username(role).expect("URL takes a username");
        url.set_password(password).expect("URL takes a password");
        url.to_string()
    }

    /// Runs SQL as superuser in this database.
    pub fn execute(&self, sql: &str) {
        run(&mut connect(&self.url), sql);
    }

    /// Creates a login role without privileges, named after this database
    /// and `label`; it is dropped with the database.
    pub fn create_role(&self, label: &str) -> String {
        let role = format!("{}_{label}", self.name);
        self.execute_on_server(&format!("CREATE ROLE \"{role}\" LOGIN"));
        self.roles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(role.clone());
        role
    }

    /// Runs SQL as superuser on the server's maintenance database (for
    /// `CREATE ROLE` and other cluster-wide statements).
    pub fn execute_on_server(&self, sql: &str) {
        run(&mut connect(self.server.as_str()), sql);
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(self.server.as_str()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
            let roles = self.roles.lock().unwrap_or_else(|p| p.into_inner());
            for role in roles.iter() {
                let _ =
                    diesel::sql_query(format!("DROP ROLE IF EXISTS \"{role}\"")).execute(&mut conn);
            }
        }
    }
}
