//! End-to-end harness: runs the real `openbadges-server` binary, as an
//! operator would, with a given environment.
//!
//! - [`Launch::start`] serves on a free port and waits until `GET /health`
//!   answers 200; the returned [`Server`] is killed when dropped.
//! - [`Launch::run`] runs to completion (`migrate`, refusals, start-up
//!   failures) and returns the exit code and everything printed.
//!
//! - [`Server::fetch`], [`Server::post`], [`Server::put`],
//!   [`Server::delete`] and [`Server::send`] are a small JSON HTTP client
//!   returning a [`Response`] (status, headers, body) whatever the status.
//!
//! - [`Storage`] is a database on either backend that outlives servers (for
//!   restarts and command-line runs on the same data), and
//!   [`on_both_backends!`] runs a scenario once on each backend.
//! - [`Caller`] and the `*_as` methods of [`Server`] send requests with
//!   credentials; [`Server::send_raw`] speaks HTTP/1.1 over a bare socket
//!   for requests an HTTP library would refuse to send or would normalise.
//!
//! Every launch starts from an empty environment, so nothing of the machine
//! running the tests (a `DATABASE_URL`, say) leaks into a test, and runs in
//! its own temporary working directory, so a default `./openbadges.sqlite`
//! never lands in the checkout.

use std::fs::{self, File};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

mod accounts;
mod backends;
mod documents;
pub mod images;
pub mod node;
mod raw;
pub mod replication;
pub mod smtp;

pub use accounts::Caller;
pub use accounts::{ADMIN_PASSWORD, ADMIN_USERNAME, JWT_SECRET};
pub use backends::{Backend, OnBothBackends, Storage};
pub use documents::{
    achievement_body, award_body, full_achievement_body, full_credential_body, full_issuer_body,
    id_of, issuer_body, uuid_of,
};
pub use openbadges_testdb::{server_url, TestDatabase};
pub use raw::Framing;
use serde_json::Value;
use tempfile::TempDir;

/// How long a server may take to answer `/health` with 200.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How many ports [`Launch::start`] tries.
const START_ATTEMPTS: usize = 5;
/// How long a run to completion may take (PostgreSQL connect timeouts
/// included).
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one API request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The unprivileged user and group (`nobody`/`nogroup`) for permission tests.
const NOBODY: u32 = 65534;

/// The server binary: `OPENBADGES_BIN`, else `debug/openbadges-server` in
/// `CARGO_TARGET_DIR` or the workspace's `target/`.
pub fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("OPENBADGES_BIN") {
        return PathBuf::from(path);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace");
    // A relative CARGO_TARGET_DIR is relative to where cargo ran, which for
    // this workspace is its root.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| workspace.join(dir))
        .unwrap_or_else(|| workspace.join("target"));
    let binary = target.join("debug").join("openbadges-server");
    assert!(
        binary.is_file(),
        "{} does not exist: run `cargo build -p openbadges-server` first",
        binary.display()
    );
    binary
}

/// A TCP port on 127.0.0.1 where nothing listens at the moment of the call.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// Whether a server's `output` says that it listens on `port` (of any
/// address): only then is what answers on the port that server.
pub fn listens_on(output: &str, port: u16) -> bool {
    let port = port.to_string();
    output
        .lines()
        .filter_map(|line| line.split_once("listening on http://"))
        .filter_map(|(_, rest)| rest.split(' ').next()?.rsplit_once(':'))
        .any(|(_, listening)| listening == port)
}

/// Whether this process runs as root, whom file modes do not stop.
pub fn running_as_root() -> bool {
    // The second field of `Uid:` is the effective uid.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|id| id == "0"))
        })
        .unwrap_or(false)
}

/// How to launch the server: arguments, environment, working directory.
pub struct Launch {
    args: Vec<String>,
    envs: Vec<(String, String)>,
    workdir: TempDir,
    unprivileged: bool,
    own_base_url: bool,
    stdin: Option<String>,
}

impl Default for Launch {
    fn default() -> Self {
        Self::new()
    }
}

impl Launch {
    /// No arguments (= `serve`), an empty environment, a fresh working
    /// directory.
    pub fn new() -> Self {
        Self {
            args: Vec::new(),
            envs: Vec::new(),
            workdir: tempfile::tempdir().expect("create a working directory"),
            unprivileged: false,
            own_base_url: false,
            stdin: None,
        }
    }

    /// Adds a command-line argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds command-line arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// The fresh working directory the server will run in.
    pub fn workdir(&self) -> &Path {
        self.workdir.path()
    }

    /// Feeds `text` to the process's standard input (otherwise it reads
    /// nothing: stdin is `/dev/null`).
    pub fn stdin(mut self, text: impl Into<String>) -> Self {
        self.stdin = Some(text.into());
        self
    }

    /// Runs the server as an unprivileged user (uid/gid 65534) when the
    /// tests run as root, so that file permissions apply to it.
    pub fn unprivileged(mut self) -> Self {
        self.unprivileged = running_as_root();
        self
    }

    /// Sets `BASE_URL` to the address [`Launch::start`] serves on
    /// (`http://127.0.0.1:<port>`), so that every document id the server
    /// issues can be fetched back from it.
    pub fn base_url_at_own_address(mut self) -> Self {
        self.own_base_url = true;
        self
    }

    /// Starts serving on a free port of 127.0.0.1 and waits for `/health`
    /// to answer 200. Panics with the server's output if it exits or does
    /// not become healthy in time.
    ///
    /// A port found free can be bound by another server before
    /// this server binds it: then this server cannot listen, and is started
    /// again on another port.
    pub fn start(self) -> Server {
        self.start_on(free_port())
    }

    /// Starts serving as [`Launch::start`] does, on `port` if it can be
    /// bound, else on a free one.
    pub fn start_on(self, port: u16) -> Server {
        let own_base_url = self.own_base_url;
        let mut launch = self.env("HOST", "127.0.0.1");
        let mut port = port;
        for _ in 0..START_ATTEMPTS {
            // Later values of a variable win.
            launch = launch.env("PORT", port.to_string());
            if own_base_url {
                launch = launch.env("BASE_URL", format!("http://127.0.0.1:{port}"));
            }
            let (child, log) = launch.spawn();
            let mut server = Server {
                child,
                log,
                port,
                agent: ureq::AgentBuilder::new()
                    .timeout(REQUEST_TIMEOUT)
                    .redirects(0)
                    .build(),
                launch,
            };
            match server.wait_until_healthy() {
                Started::Healthy => return server,
                Started::PortTaken => launch = server.into_launch(),
            }
            port = free_port();
        }
        panic!("no free port could be bound in {START_ATTEMPTS} attempts");
    }

    /// Runs to completion and returns the exit code and the output.
    pub fn run(self) -> Outcome {
        let (mut child, log) = self.spawn();
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            match child.try_wait().expect("poll the server process") {
                Some(status) => break status,
                None if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "the server did not exit within {RUN_TIMEOUT:?}; output:\n{}",
                        read_log(&log)
                    );
                }
                None => sleep(Duration::from_millis(50)),
            }
        };
        Outcome {
            status,
            output: read_log(&log),
        }
    }

    fn spawn(&self) -> (Child, PathBuf) {
        let log = self.workdir.path().join("server-output.log");
        let out = File::create(&log).expect("create the output file");
        let err = out.try_clone().expect("share the output file");
        let binary = server_binary();
        let mut command = if self.unprivileged {
            // setpriv keeps root's capabilities until its execve, so the
            // binary is reached even in a checkout `nobody` cannot enter
            // (a 0700 home); the server it becomes has none (nothing
            // inheritable, hence nothing ambient either).
            let mut command = Command::new("setpriv");
            command
                .arg(format!("--reuid={NOBODY}"))
                .arg(format!("--regid={NOBODY}"))
                .arg("--clear-groups")
                .arg("--inh-caps=-all")
                .arg(&binary);
            command
        } else {
            Command::new(&binary)
        };
        command
            .args(&self.args)
            .env_clear()
            .envs(self.envs.iter().map(|(key, value)| (key, value)))
            .current_dir(self.workdir())
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(out)
            .stderr(err);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        if let (Some(text), Some(mut stdin)) = (&self.stdin, child.stdin.take()) {
            // A process that exits without reading closes the pipe: not our
            // failure to report, its exit status tells.
            let _ = stdin.write_all(text.as_bytes());
        }
        (child, log)
    }
}

fn read_log(log: &Path) -> String {
    fs::read_to_string(log).unwrap_or_default()
}

/// A server that ran to completion.
#[derive(Debug)]
pub struct Outcome {
    /// How it exited.
    pub status: ExitStatus,
    /// Everything it wrote to stdout and stderr, interleaved.
    pub output: String,
}

impl Outcome {
    /// The exit code; `None` when killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Asserts a zero exit code.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "expected success, got {:?}; output:\n{}",
            self.status,
            self.output
        );
        self
    }

    /// Asserts the exit code `code` and that the output contains each of
    /// `parts`.
    pub fn assert_failure(&self, code: i32, parts: &[&str]) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "unexpected exit status; output:\n{}",
            self.output
        );
        self.assert_output_contains(parts)
    }

    /// Asserts that the output contains each of `parts`.
    pub fn assert_output_contains(&self, parts: &[&str]) -> &Self {
        for part in parts {
            assert!(
                self.output.contains(part),
                "output should contain {part:?}:\n{}",
                self.output
            );
        }
        self
    }

    /// Asserts that `secret` appears nowhere in the output.
    pub fn assert_hidden(&self, secret: &str) -> &Self {
        assert!(
            !self.output.contains(secret),
            "output reveals {secret:?}:\n{}",
            self.output
        );
        self
    }
}

/// How a start ended, short of a failure.
enum Started {
    /// Listening on its port and healthy.
    Healthy,
    /// It exited: another process had taken its port.
    PortTaken,
}

/// A running server, killed when dropped.
pub struct Server {
    child: Child,
    log: PathBuf,
    port: u16,
    agent: ureq::Agent,
    // Keeps the working directory (and the output file) alive.
    launch: Launch,
}

impl Server {
    /// The launch of a server that has exited, to start it again.
    fn into_launch(mut self) -> Launch {
        std::mem::take(&mut self.launch)
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `http://127.0.0.1:<port>`, the address the server listens on (and
    /// its `BASE_URL` after [`Launch::base_url_at_own_address`]).
    pub fn base_url(&self) -> String {
        self.url("")
    }

    /// The URL of `target`: a path on this server, or an absolute URL as is.
    pub fn target_url(&self, target: &str) -> String {
        if target.starts_with("http://") || target.starts_with("https://") {
            target.to_owned()
        } else {
            self.url(target)
        }
    }

    /// Sends `method target` with `headers` and an optional raw `body`
    /// (sent as `application/json` unless `headers` give a
    /// `Content-Type`). Any status is returned; a transport
    /// failure panics with the server's output.
    pub fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        let url = self.target_url(target);
        let mut request = self.agent.request(method, &url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let typed = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        let result = match body {
            Some(body) if typed => request.send_string(body),
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {url}: {error}; server output:\n{}", self.output()),
        };
        Response::read(method, &url, response)
    }

    /// `GET target`.
    pub fn fetch(&self, target: &str) -> Response {
        self.send("GET", target, &[], None)
    }

    /// `GET target` with request headers.
    pub fn fetch_with(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        self.send("GET", target, headers, None)
    }

    /// `POST target` with a JSON body.
    pub fn post(&self, target: &str, body: &Value) -> Response {
        self.send("POST", target, &[], Some(&body.to_string()))
    }

    /// `PUT target` with a JSON body.
    pub fn put(&self, target: &str, body: &Value) -> Response {
        self.send("PUT", target, &[], Some(&body.to_string()))
    }

    /// `DELETE target`.
    pub fn delete(&self, target: &str) -> Response {
        self.send("DELETE", target, &[], None)
    }

    /// Everything the server has written so far.
    pub fn output(&self) -> String {
        read_log(&self.log)
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends the signal `name` (`TERM`, `INT`, ...) to the server process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed: {status}");
    }

    /// Waits up to `timeout` for the process to exit: how it exited, or
    /// `None` if it still runs.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait().expect("poll the server process") {
                Some(status) => return Some(status),
                None if Instant::now() > deadline => return None,
                None => sleep(Duration::from_millis(50)),
            }
        }
    }

    /// `GET path`: status and JSON body (`Null` when the body is not JSON).
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.try_get(path)
            .unwrap_or_else(|error| panic!("GET {path}: {error}; output:\n{}", self.output()))
    }

    /// Asserts that `/health` answers 200 `{"status":"ok","backend":backend,"database":"up"}`.
    pub fn assert_healthy(&self, backend: &str) {
        let (status, body) = self.get("/health");
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            serde_json::json!({"status": "ok", "backend": backend, "database": "up"})
        );
    }

    /// `GET path`; `Err` describes a transport failure (nothing answered).
    fn try_get(&self, path: &str) -> Result<(u16, Value), String> {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(5))
            .build();
        let response = match agent.get(&self.url(path)).call() {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => return Err(error.to_string()),
        };
        let status = response.status();
        Ok((status, response.into_json().unwrap_or(Value::Null)))
    }

    /// Waits until this server says it listens on its port and then
    /// answers `/health` with 200. Only once it has bound the port is what
    /// answers there this server: before, another test's server that took
    /// the port would answer, and the test would go on against it.
    fn wait_until_healthy(&mut self) -> Started {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if listens_on(&self.output(), self.port) {
                if let Ok((200, _)) = self.try_get("/health") {
                    return Started::Healthy;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                if self
                    .output()
                    .contains(&format!("cannot listen on 127.0.0.1:{}", self.port))
                {
                    return Started::PortTaken;
                }
                panic!(
                    "the server exited during start-up ({status}); output:\n{}",
                    self.output()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "/health did not answer 200 within {START_TIMEOUT:?}; output:\n{}",
                    self.output()
                );
            }
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer, read completely.
#[derive(Debug, Clone)]
pub struct Response {
    /// `METHOD url` of the request, for messages.
    pub request: String,
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub text: String,
    /// The body as JSON; `Null` when empty or not JSON.
    pub body: Value,
}

impl Response {
    fn read(method: &str, url: &str, response: ureq::Response) -> Self {
        let status = response.status();
        let mut headers = Vec::new();
        for name in response.headers_names() {
            for value in response.all(&name) {
                headers.push((name.to_ascii_lowercase(), value.to_owned()));
            }
        }
        let request = format!("{method} {url}");
        let text = response
            .into_string()
            .unwrap_or_else(|e| panic!("{request}: cannot read the body: {e}"));
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            request,
            status,
            headers,
            text,
            body,
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// Every value of header `name` (any case).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The value of header `name`; panics when it is absent.
    #[track_caller]
    pub fn expect_header(&self, name: &str) -> &str {
        self.header(name).unwrap_or_else(|| {
            panic!(
                "{}: no {name} header; headers: {:?}",
                self.request, self.headers
            )
        })
    }

    /// The media type of `Content-Type`, without parameters.
    pub fn media_type(&self) -> Option<&str> {
        self.header("content-type")
            .map(|value| value.split(';').next().unwrap_or(value).trim())
    }

    /// Asserts the status code; the message shows the request and body.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status, expected,
            "{} answered {} (expected {expected}): {}",
            self.request, self.status, self.text
        );
        self
    }
}
