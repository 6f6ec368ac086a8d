//! The binary's command line. Having an integration test here also makes
//! `cargo test` build `target/debug/openbadges-server`, which the end-to-end
//! tests in `tests/` run.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openbadges-server"))
        .args(args)
        .env_clear()
        .output()
        .expect("run openbadges-server")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn long_help_lists_commands_flags_and_every_variable() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let help = stdout(&output);
    for part in [
        "serve",
        "migrate",
        "--config <FILE>",
        "--version",
        "CONFIG_FILE",
    ] {
        assert!(help.contains(part), "{part} missing from:\n{help}");
    }
    for variable in openbadges_server::config::VARIABLES {
        assert!(
            help.contains(variable.name),
            "{} missing from:\n{help}",
            variable.name
        );
    }
}

#[test]
fn short_help_points_to_the_long_one() {
    let output = run(&["-h"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("`--help` lists them"));
}

#[test]
fn version_is_the_package_version() {
    let output = run(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        stdout(&output).trim(),
        concat!("openbadges-server ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn config_flag_is_accepted_after_the_command() {
    let output = run(&["migrate", "--config", "/nonexistent/openbadges.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/openbadges.toml"), "{stderr}");
}
