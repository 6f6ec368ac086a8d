//! Opening and migrating: the troubleshooting cases of the database guide
//! that can be produced inside a test process, and migrations being
//! idempotent.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore, StartupError, StartupFailure};
use tempfile::TempDir;

fn options(file: &Path) -> SqliteOptions {
    let mut options = SqliteOptions::new(file);
    // Short, so the lock tests fail fast; long enough for an idle machine.
    options.busy_timeout = Duration::from_millis(200);
    options
}

fn open_and_migrate(options: &SqliteOptions) -> Result<SqliteStore, StartupError> {
    let store = SqliteStore::open(options)?;
    store.migrate()?;
    Ok(store)
}

fn raw_connection(file: &Path) -> SqliteConnection {
    SqliteConnection::establish(file.to_str().expect("utf-8 temp path")).expect("raw connection")
}

#[test]
fn migrating_twice_applies_nothing_the_second_time() {
    let dir = TempDir::new().expect("temp dir");
    let store = SqliteStore::open(&options(&dir.path().join("db.sqlite"))).expect("open");

    let pending = store.pending_migrations().expect("pending before");
    assert!(!pending.is_empty(), "no embedded migrations");
    assert_eq!(store.migrate().expect("first migrate"), pending);
    assert_eq!(
        store.migrate().expect("second migrate"),
        Vec::<String>::new()
    );
    assert_eq!(
        store.pending_migrations().expect("pending after"),
        Vec::<String>::new()
    );

    // A second store on the same file sees the schema as current too.
    let again = SqliteStore::open(&options(&dir.path().join("db.sqlite"))).expect("reopen");
    assert_eq!(
        again.migrate().expect("migrate reopened"),
        Vec::<String>::new()
    );
}

#[test]
fn missing_directory_is_reported_with_its_path() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("not-there").join("db.sqlite");
    let err = SqliteStore::open(&options(&file)).expect_err("opened in a missing directory");
    assert_eq!(err.kind, StartupFailure::DirectoryMissing, "{}", err.detail);
    assert!(
        err.detail
            .contains(&dir.path().join("not-there").display().to_string()),
        "{}",
        err.detail
    );
    assert!(
        !file.parent().expect("parent").exists(),
        "directory was created"
    );
}

#[test]
fn exclusive_lock_held_elsewhere_is_locked() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("db.sqlite");
    let mut holder = raw_connection(&file);
    holder
        .batch_execute("BEGIN EXCLUSIVE")
        .expect("take the lock");

    let err = open_and_migrate(&options(&file)).expect_err("opened a locked database");
    assert_eq!(err.kind, StartupFailure::Locked, "{}", err.detail);
    assert!(
        err.detail.contains(&file.display().to_string()),
        "{}",
        err.detail
    );
    assert!(
        err.detail.contains("busy timeout (200 ms)"),
        "{}",
        err.detail
    );

    // The same file opens once the lock is released: it was the lock.
    holder.batch_execute("ROLLBACK").expect("release the lock");
    open_and_migrate(&options(&file)).expect("open after release");
}

#[test]
fn migration_waiting_on_a_writer_is_locked() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("db.sqlite");
    let store = SqliteStore::open(&options(&file)).expect("open");
    // The store switched the file to WAL, where readers go on and only
    // writers wait: a migration is a writer.
    let mut holder = raw_connection(&file);
    holder
        .batch_execute("BEGIN IMMEDIATE")
        .expect("take the write lock");

    let err = store.migrate().expect_err("migrated under a write lock");
    assert_eq!(err.kind, StartupFailure::Locked, "{}", err.detail);

    holder.batch_execute("ROLLBACK").expect("release the lock");
    assert!(!store.migrate().expect("migrate after release").is_empty());
}

#[test]
fn conflicting_schema_fails_the_migration_and_changes_nothing() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("db.sqlite");
    raw_connection(&file)
        .batch_execute("CREATE TABLE issuers (something_else TEXT)")
        .expect("conflicting table");

    let store = SqliteStore::open(&options(&file)).expect("open");
    let pending = store.pending_migrations().expect("pending");
    let err = store
        .migrate()
        .expect_err("migrated over a conflicting table");
    assert_eq!(err.kind, StartupFailure::MigrationFailed, "{}", err.detail);
    assert!(err.detail.contains("issuers"), "{}", err.detail);
    assert_eq!(
        store.pending_migrations().expect("pending after failure"),
        pending,
        "a failed migration must roll back whole"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_other() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("db.sqlite");
    std::fs::write(&file, "not a database\n".repeat(300)).expect("write junk");
    let err = open_and_migrate(&options(&file)).expect_err("opened junk");
    assert_eq!(err.kind, StartupFailure::Other, "{}", err.detail);
    assert!(
        err.detail.contains("not a SQLite database"),
        "{}",
        err.detail
    );
}

#[test]
fn a_directory_in_place_of_the_file_is_other() {
    let dir = TempDir::new().expect("temp dir");
    let err = open_and_migrate(&options(dir.path())).expect_err("opened a directory");
    assert_eq!(err.kind, StartupFailure::Other, "{}", err.detail);
    assert!(err.detail.contains("is a directory"), "{}", err.detail);
}

/// Mode bits stop only unprivileged processes; as root (CAP_DAC_OVERRIDE,
/// which is how CI runs) the test re-runs itself as `nobody` so the check
/// still happens. `setpriv` switches the user but keeps root's capabilities
/// until its `execve`, so the test binary is reached wherever the checkout
/// lives (a clone under `/root` is 0700, which `runuser`'s `nobody` cannot
/// enter); the process it becomes has no capability left (none inheritable,
/// hence none ambient either).
#[cfg(unix)]
#[test]
fn read_only_directory_or_file_is_not_writable() {
    use std::fs::{self, Permissions};
    use std::os::unix::fs::PermissionsExt;

    let dir = TempDir::new().expect("temp dir");
    let locked_dir = dir.path().join("read-only");
    fs::create_dir(&locked_dir).expect("create dir");
    fs::set_permissions(&locked_dir, Permissions::from_mode(0o555)).expect("chmod dir");
    if fs::write(locked_dir.join("probe"), b"").is_ok() {
        assert!(
            std::env::var_os("OB_TEST_UNPRIVILEGED").is_none(),
            "mode bits ignored even as an unprivileged user"
        );
        let run = std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
            ])
            .arg(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "read_only_directory_or_file_is_not_writable",
                "--nocapture",
            ])
            .env("OB_TEST_UNPRIVILEGED", "1")
            .env("TMPDIR", "/tmp")
            // The checkout, cargo's working directory, may be out of reach.
            .current_dir("/")
            .output()
            .expect("setpriv (util-linux) runs the test as nobody (uid/gid 65534)");
        // A filter that matched nothing would pass as well.
        assert!(
            run.status.success() && String::from_utf8_lossy(&run.stdout).contains("1 passed"),
            "the unprivileged run failed:\n{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        return;
    }
    let err = open_and_migrate(&options(&locked_dir.join("db.sqlite")))
        .expect_err("opened in a read-only directory");
    assert_eq!(err.kind, StartupFailure::NotWritable, "{}", err.detail);

    let file = dir.path().join("read-only.sqlite");
    fs::write(&file, b"").expect("create file");
    fs::set_permissions(&file, Permissions::from_mode(0o444)).expect("chmod file");
    let err = open_and_migrate(&options(&file)).expect_err("opened a read-only file");
    assert_eq!(err.kind, StartupFailure::NotWritable, "{}", err.detail);

    fs::set_permissions(&locked_dir, Permissions::from_mode(0o755)).expect("restore mode");
}
