//! Node.js projects the tests run (`tests/interop`, `tests/pages`): their
//! `node_modules` installed with `npm ci` from the lock file, once per test
//! run, when missing or older than the lock file.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

/// When a file was last modified, if it exists.
fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// `program --version`, or why it cannot run.
pub fn version_of(program: &str) -> Result<String, String> {
    let output = Command::new(program)
        .arg("--version")
        .output()
        .map_err(|e| format!("`{program}` cannot run ({e})"))?;
    if !output.status.success() {
        return Err(format!(
            "`{program} --version` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Checks that Node.js 18 or later runs and installs the project in `dir`
/// when its `node_modules` is missing or older than `package-lock.json`.
/// `help` says how to get Node.js, for the error.
pub fn npm_ci(dir: &Path, help: &str) -> Result<(), String> {
    let node = version_of("node").map_err(|e| format!("Node.js is required: {e}; {help}"))?;
    let major: u32 = node
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 18 {
        return Err(format!(
            "Node.js 18 or later is required, found {node}; {help}"
        ));
    }
    let lock = dir.join("package-lock.json");
    let lock_time = modified(&lock).ok_or_else(|| format!("{} is missing", lock.display()))?;
    // npm writes node_modules/.package-lock.json at the end of every install.
    let installed = modified(&dir.join("node_modules").join(".package-lock.json"));
    if installed.is_some_and(|time| time >= lock_time) {
        return Ok(());
    }
    version_of("npm").map_err(|e| format!("npm is required: {e}; {help}"))?;
    let output = Command::new("npm")
        .args(["ci", "--prefix"])
        .arg(dir)
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        .env("npm_config_update_notifier", "false")
        .output()
        .map_err(|e| format!("`npm ci` cannot run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`npm ci --prefix {}` failed ({}):\n{}{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}
