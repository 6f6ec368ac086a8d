//! The container image, built from the project's Dockerfile and started as
//! a container runtime would start it (scripts/image.sh: a Debian base made
//! with mmdebstrap, `podman build --isolation=chroot` of the Dockerfile's
//! runtime stage with the server binary these tests run, the image's
//! filesystem exported and its entrypoint run under chroot as its user).
//!
//! On each backend: `migrate` inside the image succeeds, and the server
//! inside it runs as the image's non-root user, answers `/health` on that
//! backend, and (on SQLite, the image's default) keeps its database in
//! `/data`.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

use openbadges_e2e::{free_port, on_both_backends, server_binary, Storage};

on_both_backends!(the_image_migrates_and_serves_as_its_own_user);

/// The uid the Dockerfile gives the `openbadges` user.
const IMAGE_UID: u32 = 10001;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scripts")
        .join("image.sh")
}

fn checked(output: Output, what: &str) -> Output {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Builds the image once per test process (both backends use it).
fn image_built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let output = Command::new("bash")
            .arg(script())
            .arg("build")
            .arg(server_binary())
            .output()
            .expect("run scripts/image.sh build");
        checked(output, "scripts/image.sh build");
    });
}

/// The image's filesystem, unpacked; removed on drop (through sudo when
/// not root: the files belong to root and to the image's user).
struct Rootfs(tempfile::TempDir);

impl Drop for Rootfs {
    fn drop(&mut self) {
        if !openbadges_e2e::running_as_root() {
            let _ = Command::new("sudo")
                .args(["-n", "rm", "-rf", "--one-file-system"])
                .arg(self.0.path())
                .status();
        }
    }
}

impl Rootfs {
    fn export() -> Self {
        image_built();
        let dir = tempfile::tempdir().expect("a directory for the image");
        let output = Command::new("bash")
            .arg(script())
            .arg("export")
            .arg(dir.path())
            .output()
            .expect("run scripts/image.sh export");
        checked(output, "scripts/image.sh export");
        Self(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn command(&self, env: &[(&str, String)], args: &[&str]) -> Command {
        let lines: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut command = Command::new("bash");
        command
            .arg(script())
            .arg("run")
            .arg(self.path())
            .args(args)
            .env("IMAGE_ENV", lines.join("\n"));
        command
    }
}

/// A server started inside the image; stopped on drop.
struct Running {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Running {
    fn get(&self, path: &str) -> Result<(u16, serde_json::Value), String> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        match ureq::get(&url).timeout(Duration::from_secs(5)).call() {
            Ok(response) => Ok((
                response.status(),
                response.into_json().map_err(|e| e.to_string())?,
            )),
            Err(ureq::Error::Status(code, response)) => {
                Ok((code, response.into_json().unwrap_or_default()))
            }
            Err(error) => Err(error.to_string()),
        }
    }

    fn wait_healthy(&mut self) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            // Another process may have taken the port first: then what
            // answers is not this server, which says so once it listens.
            let output = fs::read_to_string(&self.log).unwrap_or_default();
            if openbadges_e2e::listens_on(&output, self.port) {
                if let Ok((200, body)) = self.get("/health") {
                    return body;
                }
            }
            if let Some(status) = self.child.try_wait().expect("poll the image's server") {
                panic!(
                    "the server in the image exited with {status} before it was healthy:\n{}",
                    fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the server in the image did not answer /health within 120 s:\n{}",
                fs::read_to_string(&self.log).unwrap_or_default()
            );
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // SIGTERM to the script's `unshare`, which passes it on to the
        // server (--kill-child=SIGTERM), then wait for both.
        let mut kill = if openbadges_e2e::running_as_root() {
            Command::new("kill")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "kill"]);
            sudo
        };
        let _ = kill.arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The processes running inside the image (their root directory is
/// `rootfs`), as (name, real uid), from scripts/image.sh ps.
fn processes_inside(rootfs: &Path) -> Vec<(String, u32)> {
    let output = Command::new("bash")
        .arg(script())
        .arg("ps")
        .arg(rootfs)
        .output()
        .expect("run scripts/image.sh ps");
    let output = checked(output, "scripts/image.sh ps");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (name, uid) = line.rsplit_once(' ')?;
            Some((name.to_owned(), uid.parse().ok()?))
        })
        .collect()
}

fn the_image_migrates_and_serves_as_its_own_user(storage: &Storage) {
    let rootfs = Rootfs::export();
    // The database settings as `docker run -e` would give them: none on
    // SQLite (the image's default file in /data), the URL on PostgreSQL.
    let mut env: Vec<(&str, String)> = vec![("LOG_LEVEL", "info".to_owned())];
    if let Some(database) = storage.database() {
        env.push(("DB_TYPE", "postgresql".to_owned()));
        env.push(("DATABASE_URL", database.url().to_owned()));
    }

    let migrated = rootfs
        .command(&env, &["migrate"])
        .output()
        .expect("run migrate in the image");
    let migrated = checked(migrated, "migrate in the image");
    let said = String::from_utf8_lossy(&migrated.stdout).to_string()
        + &String::from_utf8_lossy(&migrated.stderr);
    assert!(
        said.contains("applied") && said.contains(storage.backend().name()),
        "migrate reports the migrations it applied: {said}"
    );
    if storage.database().is_none() {
        let file = rootfs.path().join("data").join("openbadges.sqlite");
        let meta = fs::metadata(&file).expect("migrate made the database in /data");
        assert_eq!(meta.uid(), IMAGE_UID, "the image's user owns its database");
    }

    let port = free_port();
    env.push(("PORT", port.to_string()));
    let log = tempfile::NamedTempFile::new().expect("a file for the server's log");
    let child = rootfs
        .command(&env, &[])
        .stdout(Stdio::null())
        .stderr(log.reopen().expect("open the log"))
        .spawn()
        .expect("start the image's entrypoint");
    let mut running = Running {
        child,
        port,
        log: log.path().to_owned(),
    };
    let health = running.wait_healthy();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["database"], "up", "{health}");
    assert_eq!(health["backend"], storage.backend().name(), "{health}");

    let inside = processes_inside(rootfs.path());
    let server: Vec<_> = inside
        .iter()
        .filter(|(name, _)| name.starts_with("openbadges"))
        .collect();
    assert!(
        !server.is_empty(),
        "the server runs inside the image: {inside:?}"
    );
    for (name, uid) in &server {
        assert_eq!(*uid, IMAGE_UID, "{name} runs as the image's user");
    }

    drop(running);
}
