//! `DB_QUERY_LOGGING`: statements are logged with their duration, bind
//! values never. One test in this binary, because the logger is global.

use std::sync::Mutex;

use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore};
use openbadges_domain::ports::Store;
use openbadges_domain::testkit::sample_user;
use openbadges_domain::Role;
use tempfile::TempDir;

struct Capture {
    records: Mutex<Vec<String>>,
}

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "openbadges::sql"
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) && record.level() == log::Level::Debug {
            self.records
                .lock()
                .expect("capture lock")
                .push(record.args().to_string());
        }
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture {
    records: Mutex::new(Vec::new()),
};

fn take_records() -> Vec<String> {
    std::mem::take(&mut *CAPTURE.records.lock().expect("capture lock"))
}

async fn exercise(query_logging: bool) -> (String, String) {
    let dir = TempDir::new().expect("temp dir");
    let mut options = SqliteOptions::new(dir.path().join("db.sqlite"));
    options.query_logging = query_logging;
    let store = SqliteStore::open(&options).expect("open");
    store.migrate().expect("migrate");
    let user = sample_user(Role::Admin);
    store.users().create(&user).await.expect("create");
    let found = store
        .users()
        .find_by_username(user.username.as_str())
        .await
        .expect("find");
    assert_eq!(found, Some(user.clone()));
    (
        user.username.as_str().to_owned(),
        user.password_hash.as_str().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_logged_without_bind_values_only_when_asked() {
    log::set_logger(&CAPTURE).expect("install logger");
    log::set_max_level(log::LevelFilter::Debug);

    let (username, password_hash) = exercise(true).await;
    let records = take_records();
    assert!(
        records.iter().any(|r| r.starts_with("PRAGMA busy_timeout")),
        "connection setup not logged: {records:#?}"
    );
    let lookup = records
        .iter()
        .find(|r| r.starts_with("SELECT") && r.contains("FROM `users`"))
        .unwrap_or_else(|| panic!("user lookup not logged: {records:#?}"));
    assert!(lookup.ends_with(" ms)"), "no duration: {lookup}");
    assert!(
        records.iter().any(|r| r.starts_with("INSERT INTO `users`")),
        "insert not logged: {records:#?}"
    );
    for record in &records {
        assert!(!record.contains("binds"), "bind marker leaked: {record}");
        assert!(!record.contains(&username), "username leaked: {record}");
        assert!(
            !record.contains(&password_hash),
            "password hash leaked: {record}"
        );
    }

    exercise(false).await;
    let records = take_records();
    assert!(
        records.is_empty(),
        "logged without DB_QUERY_LOGGING: {records:#?}"
    );
}
