//! A PostgreSQL primary with a streaming standby, started by the test
//! itself: `initdb` (WAL for replication, a replication entry in
//! `pg_hba.conf`), the primary on a free port, `pg_basebackup -R` of it,
//! and the standby on another free port. Everything lives under
//! `target/pg-replicas/` and is stopped and removed when the
//! [`ReplicatedCluster`] is dropped, a panicking test included.
//!
//! As root, the PostgreSQL binaries run as the `postgres` system user
//! (created by Debian's `postgresql` package), as `scripts/with-postgres.sh`
//! does: `initdb` refuses to run as root.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

use crate::{free_port, running_as_root};

/// How long a server may take to start or stop.
const PG_CTL_TIMEOUT_SECONDS: &str = "60";

/// A primary and its streaming standby; both stopped and their files
/// removed on drop.
pub struct ReplicatedCluster {
    bin: PathBuf,
    dir: PathBuf,
    primary_port: u16,
    standby_port: u16,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    flag: bool,
}

/// The newest PostgreSQL server binaries (Debian's layout). Panics with
/// what to install when there are none: a replica test must not pass
/// without a replica.
fn server_binaries() -> PathBuf {
    let mut found: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("pg_basebackup").is_file() && bin.join("initdb").is_file())
        .collect();
    found.sort_by_key(|bin| {
        bin.parent()
            .and_then(Path::file_name)
            .and_then(|version| version.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server binaries (initdb, pg_basebackup) under /usr/lib/postgresql/*/bin: \
             run `make deps` (Debian package `postgresql`)"
        )
    })
}

/// `target/pg-replicas/`, where the clusters live.
fn base_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| workspace.join(dir))
        .unwrap_or_else(|| workspace.join("target"))
        .join("pg-replicas")
}

/// A command running `program` as the clusters' owner: the `postgres`
/// user when this process is root, else this process's user.
fn owner_command(program: &Path) -> Command {
    let mut command = if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    command
}

/// Runs `program` with `args` as the clusters' owner; panics with its
/// output when it fails.
fn run_as_owner(program: &Path, args: &[&str]) -> Output {
    let output = owner_command(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed ({}):\n{}{}",
        program.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The file naming the test process a cluster belongs to.
const OWNER_FILE: &str = "owner.pid";

/// Stops and removes the clusters of test processes that are gone (killed
/// before their drop ran), so that no PostgreSQL outlives its test run by
/// more than the next run's start.
fn remove_abandoned(bin: &Path, base: &Path) {
    for entry in fs::read_dir(base).into_iter().flatten().flatten() {
        let dir = entry.path();
        let owner = fs::read_to_string(dir.join(OWNER_FILE)).ok();
        let alive = owner
            .as_deref()
            .and_then(|pid| pid.trim().parse::<u32>().ok())
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if owner.is_none() || alive {
            // Being made right now, or still in use.
            continue;
        }
        for name in ["standby", "primary"] {
            if dir.join(name).join("postmaster.pid").exists() {
                let _ = owner_command(&bin.join("pg_ctl"))
                    .arg("-D")
                    .arg(dir.join(name))
                    .args(["-m", "immediate", "-w", "stop"])
                    .output();
            }
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

impl ReplicatedCluster {
    /// Makes and starts a primary and a standby streaming from it; returns
    /// once the standby accepts read-only connections.
    pub fn start() -> Self {
        let bin = server_binaries();
        let base = base_dir();
        fs::create_dir_all(&base).expect("create target/pg-replicas");
        remove_abandoned(&bin, &base);
        let dir = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(&base)
            .expect("create a cluster directory")
            .keep();
        // Written whole or not at all: another test's `remove_abandoned`
        // that read an empty file being written would take the directory
        // for an abandoned one and remove it under this test.
        let unfinished = dir.join(format!("{OWNER_FILE}.new"));
        fs::write(&unfinished, std::process::id().to_string()).expect("write the owner's pid");
        fs::rename(&unfinished, dir.join(OWNER_FILE)).expect("name the owner's pid file");
        if running_as_root() {
            let status = Command::new("chown")
                .args(["postgres:", &dir.to_string_lossy()])
                .status()
                .expect("run chown");
            assert!(status.success(), "chown postgres {}", dir.display());
        }
        let mut cluster = Self {
            bin,
            dir,
            primary_port: 0,
            standby_port: 0,
        };
        cluster.init_primary();
        cluster.primary_port = cluster.start_server("primary", None);
        cluster.base_backup();
        cluster.standby_port = cluster.start_server("standby", None);
        cluster
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    fn init_primary(&self) {
        run_as_owner(
            &self.tool("initdb"),
            &[
                "-D",
                &self.path("primary"),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        );
        // Trust over TCP from 127.0.0.1 for replication, explicitly: the
        // standby's connection and pg_basebackup need it.
        let hba = self.dir.join("primary").join("pg_hba.conf");
        let mut rules = fs::read_to_string(&hba).expect("read pg_hba.conf");
        rules.push_str("\nhost replication all 127.0.0.1/32 trust\n");
        fs::write(&hba, rules).expect("write pg_hba.conf");
    }

    fn base_backup(&self) {
        run_as_owner(
            &self.tool("pg_basebackup"),
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                &self.path("standby"),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
        );
    }

    /// Starts the server of `name` on `port` (a free one when `None`);
    /// returns the port. A port taken between the check and the start is
    /// replaced by another.
    fn start_server(&self, name: &str, port: Option<u16>) -> u16 {
        let mut last_error = String::new();
        for _ in 0..10 {
            let port = port.unwrap_or_else(free_port);
            let options = format!(
                "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' \
                 -c fsync=off -c full_page_writes=off -c max_connections=100 \
                 -c wal_level=replica -c max_wal_senders=10 -c hot_standby=on"
            );
            let output = owner_command(&self.tool("pg_ctl"))
                .args([
                    "-D",
                    &self.path(name),
                    "-l",
                    &self.path(&format!("{name}.log")),
                ])
                .args(["-w", "-t", PG_CTL_TIMEOUT_SECONDS, "-o", &options, "start"])
                .output()
                .expect("run pg_ctl");
            if output.status.success() {
                return port;
            }
            last_error = format!(
                "{}{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
            );
        }
        panic!("cannot start the {name} server:\n{last_error}");
    }

    fn stop_server(&self, name: &str) {
        if self.dir.join(name).join("postmaster.pid").exists() {
            run_as_owner(
                &self.tool("pg_ctl"),
                &[
                    "-D",
                    &self.path(name),
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    PG_CTL_TIMEOUT_SECONDS,
                    "stop",
                ],
            );
        }
    }

    /// A URL of database `database` on the primary.
    pub fn primary_url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            self.primary_port
        )
    }

    /// A URL of database `database` on the standby.
    pub fn standby_url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            self.standby_port
        )
    }

    /// Stops the standby at once (`pg_ctl stop -m immediate`): its
    /// connections are cut, as when its machine goes away.
    pub fn stop_standby(&self) {
        self.stop_server("standby");
    }

    /// Starts the stopped standby again, on the same port.
    pub fn restart_standby(&self) {
        self.start_server("standby", Some(self.standby_port));
    }

    /// Runs `sql` on the primary's database `database`.
    pub fn primary_execute(&self, database: &str, sql: &str) {
        execute(&self.primary_url(database), sql);
    }

    /// Runs `sql` on the standby's database `database`.
    pub fn standby_execute(&self, database: &str, sql: &str) {
        execute(&self.standby_url(database), sql);
    }

    /// Scans of `table` in `database` made on the standby so far
    /// (`pg_stat_user_tables`: index and sequential scans). Replay makes
    /// none, so they count the reads served there. Backends publish their
    /// counts within seconds, not at once: poll.
    pub fn standby_scans(&self, database: &str, table: &str) -> i64 {
        let mut conn = connect(&self.standby_url(database));
        diesel::sql_query(
            "SELECT (coalesce(idx_scan, 0) + coalesce(seq_scan, 0))::bigint AS count \
             FROM pg_stat_user_tables WHERE relname = $1",
        )
        .bind::<diesel::sql_types::Text, _>(table)
        .get_result::<Count>(&mut conn)
        .expect("read pg_stat_user_tables")
        .count
    }

    /// Whether the standby's replay is paused (`pg_wal_replay_pause()`
    /// only asks for a pause, which takes effect at the next WAL record).
    pub fn standby_replay_paused(&self, database: &str) -> bool {
        let mut standby = connect(&self.standby_url(database));
        diesel::sql_query("SELECT pg_get_wal_replay_pause_state() = 'paused' AS flag")
            .get_result::<Flag>(&mut standby)
            .expect("read the standby's pause state")
            .flag
    }

    /// Whether the standby has replayed everything the primary has written
    /// by now.
    pub fn standby_caught_up(&self, database: &str) -> bool {
        let mut primary = connect(&self.primary_url(database));
        let position: String = diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn")
            .get_result::<Lsn>(&mut primary)
            .expect("read the primary's position")
            .lsn;
        let mut standby = connect(&self.standby_url(database));
        diesel::sql_query(format!(
            "SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn AS flag"
        ))
        .get_result::<Flag>(&mut standby)
        .expect("read the standby's position")
        .flag
    }
}

#[derive(QueryableByName)]
struct Lsn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    lsn: String,
}

fn connect(url: &str) -> PgConnection {
    PgConnection::establish(url).unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

fn execute(url: &str, sql: &str) {
    connect(url)
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

impl Drop for ReplicatedCluster {
    fn drop(&mut self) {
        // The standby first: stopped after its primary it would only log
        // its lost connection.
        for name in ["standby", "primary"] {
            if self.dir.join(name).join("postmaster.pid").exists() {
                let _ = owner_command(&self.tool("pg_ctl"))
                    .args(["-D", &self.path(name), "-m", "immediate", "-w", "stop"])
                    .output();
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Polls `condition` every 50 ms until it holds; panics with `what` after
/// `timeout`.
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
