//! How database trouble after startup reaches callers of the ports.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{Connection, RunQueryDsl, SqliteConnection};
use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore};
use openbadges_domain::ports::{IssuerFilter, Store};
use openbadges_domain::testkit::{sample_issuer, sample_user};
use openbadges_domain::{DomainError, PageRequest, Role};
use tempfile::TempDir;

fn migrated_store(dir: &TempDir) -> (SqliteStore, SqliteConnection) {
    let file = dir.path().join("db.sqlite");
    let mut options = SqliteOptions::new(&file);
    options.busy_timeout = Duration::from_millis(200);
    let store = SqliteStore::open(&options).expect("open");
    store.migrate().expect("migrate");
    let raw = SqliteConnection::establish(file.to_str().expect("utf-8 temp path"))
        .expect("raw connection");
    (store, raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_blocked_past_busy_timeout_is_unavailable() {
    let dir = TempDir::new().expect("temp dir");
    let (store, mut holder) = migrated_store(&dir);
    holder
        .batch_execute("BEGIN IMMEDIATE")
        .expect("take the write lock");

    let user = sample_user(Role::Viewer);
    match store.users().create(&user).await {
        Err(DomainError::Unavailable(message)) => {
            assert!(message.contains("locked"), "{message}")
        }
        other => panic!("write under a held lock: expected Unavailable, got {other:?}"),
    }
    // Readers are not blocked by a writer in WAL mode.
    store
        .ping()
        .await
        .expect("ping while a writer holds the lock");

    holder.batch_execute("ROLLBACK").expect("release the lock");
    store
        .users()
        .create(&user)
        .await
        .expect("write after release");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_value_that_does_not_parse_is_internal_naming_the_column() {
    let dir = TempDir::new().expect("temp dir");
    let (store, mut raw) = migrated_store(&dir);
    let issuer = sample_issuer(None);
    store.issuers().create(&issuer).await.expect("create");

    diesel::sql_query("UPDATE issuers SET url = 'not a url' WHERE id = ?")
        .bind::<Text, _>(issuer.id.to_string())
        .execute(&mut raw)
        .expect("corrupt the row");

    match store.issuers().get(issuer.id).await {
        Err(DomainError::Internal(message)) => {
            assert!(message.contains("issuers.url"), "{message}");
            assert!(!message.contains("not a url"), "{message}");
        }
        other => panic!("corrupt row: expected Internal, got {other:?}"),
    }
    match store
        .issuers()
        .list(&IssuerFilter::default(), PageRequest::default())
        .await
    {
        Err(DomainError::Internal(message)) => {
            assert!(message.contains("issuers.url"), "{message}")
        }
        other => panic!("corrupt row in a list: expected Internal, got {other:?}"),
    }

    diesel::sql_query("UPDATE issuers SET url = ?, created_at = 'last tuesday' WHERE id = ?")
        .bind::<Text, _>(issuer.url.as_str())
        .bind::<Text, _>(issuer.id.to_string())
        .execute(&mut raw)
        .expect("corrupt the timestamp");
    match store.issuers().get(issuer.id).await {
        Err(DomainError::Internal(message)) => {
            assert!(message.contains("issuers.created_at"), "{message}")
        }
        other => panic!("corrupt timestamp: expected Internal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_are_stored_as_sortable_utc_text() {
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = Text)]
        created_at: String,
    }
    let dir = TempDir::new().expect("temp dir");
    let (store, mut raw) = migrated_store(&dir);
    let mut issuer = sample_issuer(None);
    issuer.created_at =
        openbadges_domain::Timestamp::parse("2024-05-01T14:00:00+02:00").expect("timestamp");
    store.issuers().create(&issuer).await.expect("create");

    let stored: Stored = diesel::sql_query("SELECT created_at FROM issuers WHERE id = ?")
        .bind::<Text, _>(issuer.id.to_string())
        .get_result(&mut raw)
        .expect("read raw");
    assert_eq!(stored.created_at, "2024-05-01T12:00:00.000000Z");
}
