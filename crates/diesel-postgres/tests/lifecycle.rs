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
const MIGRATION_FOLDERS: usize = 13;

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

/// Migration 12 turns each stored credential into packed bytes, in the
/// migrations' transaction. Awards stored before it are read afterwards
/// with the text they were read with before (the text PostgreSQL gave for
/// the `jsonb`), byte for byte, by a GET and in lists; an unsigned award
/// stays unsigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compaction_migration_keeps_every_credential_byte_for_byte() {
    use diesel::migration::MigrationSource;
    use diesel::sql_types::{Nullable, Text};
    use diesel::{Connection, PgConnection, RunQueryDsl};
    use diesel_migrations::MigrationHarness;
    use openbadges_diesel_postgres::MIGRATIONS;
    use openbadges_domain::ports::{AssertionFilter, Store};
    use openbadges_domain::{AssertionId, PageRequest};

    const COMPACT: &str = "20261207000012";
    #[derive(diesel::QueryableByName)]
    struct Served {
        #[diesel(sql_type = Text)]
        text: String,
    }

    let db = TestDatabase::create();
    let ids = [
        "00000000-0000-4000-8000-000000000005",
        "00000000-0000-4000-8000-000000000006",
    ];
    let unsigned = "00000000-0000-4000-8000-000000000007";
    let mut conn = PgConnection::establish(db.url()).expect("connect");
    let all = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).expect("migrations");
    for _ in all
        .iter()
        .filter(|m| m.name().version().to_string().as_str() < COMPACT)
    {
        conn.run_next_migration(MIGRATIONS)
            .expect("older migration");
    }
    db.execute(
        "INSERT INTO issuers (id, name, url, created_at, updated_at) VALUES \
         ('00000000-0000-4000-8000-000000000002', 'I', 'https://i.example.org', now(), now()); \
         INSERT INTO badge_classes (id, issuer_id, name, description, criteria_narrative, \
             created_at, updated_at) VALUES \
         ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000002', \
             'B', 'd', 'n', now(), now());",
    );
    let texts = [
        signed_text(ids[0], "Zertifikat für Straße"),
        signed_text(ids[1], "Second \"award\" 😀"),
    ];
    let awards = ids
        .iter()
        .zip(&texts)
        .map(|(id, text)| (*id, Some(text.as_str())))
        .chain([(unsigned, None)]);
    for (n, (id, text)) in awards.enumerate() {
        diesel::sql_query(
            "INSERT INTO assertions (id, badge_class_id, issuer_id, recipient_type, \
                 recipient_identity, recipient_hashed, recipient_key, issued_on, created_at, \
                 updated_at, issued_credential) VALUES \
             ($1::uuid, '00000000-0000-4000-8000-000000000004', \
              '00000000-0000-4000-8000-000000000002', 'email', 'r@example.org', false, 'k', \
              now(), now() + $2 * interval '1 second', now(), $3::jsonb)",
        )
        .bind::<Text, _>(id)
        .bind::<diesel::sql_types::Integer, _>(i32::try_from(n).expect("few"))
        .bind::<Nullable<Text>, _>(text)
        .execute(&mut conn)
        .expect("an award from before");
    }
    // What the server read and served before: PostgreSQL's text of the
    // jsonb (its own key order and spacing).
    let before: Vec<String> = ids
        .iter()
        .map(|id| {
            diesel::sql_query(format!(
                "SELECT issued_credential::text AS text FROM assertions WHERE id = '{id}'"
            ))
            .get_result::<Served>(&mut conn)
            .expect("served before")
            .text
        })
        .collect();

    let url = db.url().to_owned();
    let store = tokio::task::spawn_blocking(move || {
        let store = connect(&url).expect("connect");
        let applied = store.migrate().expect("migrate");
        // Migration 12 and the later ones.
        assert_eq!(
            applied.first().map(String::as_str),
            Some(COMPACT),
            "migration 12 applied first"
        );
        store
    })
    .await
    .expect("migrate task");

    for (id, text) in ids.iter().zip(&before) {
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
        vec![Some(before[0].as_str()), Some(before[1].as_str()), None]
    );

    // Stored packed: less than half the text.
    for (id, text) in ids.iter().zip(&before) {
        let packed: Vec<Served> = diesel::sql_query(format!(
            "SELECT id::text AS text FROM assertions WHERE id = '{id}' \
             AND octet_length(issued_credential) * 2 < {}",
            text.len()
        ))
        .load(&mut conn)
        .expect("stored size");
        assert_eq!(packed.len(), 1, "{id} is not packed");
    }
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
