//! A real SMTP server for the e-mail tests: Python's `aiosmtpd`, from the
//! virtual environment scripts/python-tools.sh makes, writing each message
//! it receives, as parsed by Python's own e-mail library, to a directory
//! (tests/mail/smtp_sink.py).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

use crate::free_port;

/// The Python interpreter of scripts/python-tools.sh, made if need be.
fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new("bash")
        .arg(root.join("scripts/python-tools.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/python-tools.sh");
    assert!(
        output.status.success(),
        "scripts/python-tools.sh failed: it needs python3 with venv (make deps)"
    );
    PathBuf::from(String::from_utf8(output.stdout).expect("a path").trim())
}

/// The SMTP server of a test: aiosmtpd on 127.0.0.1:`port`, writing what
/// it receives to its directory. Stopped when dropped.
pub struct Sink {
    child: Child,
}

/// Where a test's SMTP servers write, and the port they listen on.
pub struct Mailbox {
    dir: TempDir,
    /// The port its servers listen on.
    pub port: u16,
}

impl Mailbox {
    /// A mailbox with a fresh directory and a free port.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a directory for received e-mail"),
            port: free_port(),
        }
    }

    /// Starts an SMTP server on the mailbox's port and waits until it
    /// listens.
    pub fn start(&self) -> Sink {
        self.start_with(&[])
    }

    /// Starts an SMTP server that takes mail only after the login `user`,
    /// `password`.
    pub fn start_with_login(&self, user: &str, password: &str) -> Sink {
        self.start_with(&[user, password])
    }

    fn start_with(&self, login: &[&str]) -> Sink {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("mail/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .args(login)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let stdout = child.stdout.take().expect("its output");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read from the SMTP server");
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Sink { child }
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Value> {
        let mut messages = Vec::new();
        for entry in fs::read_dir(self.dir.path()).expect("list received e-mail") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|ext| ext == "json") {
                let text = fs::read_to_string(&path).expect("read an e-mail");
                messages.push(serde_json::from_str(&text).expect("an e-mail as JSON"));
            }
        }
        messages
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
