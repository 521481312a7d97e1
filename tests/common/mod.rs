//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `manabi` binary in `cwd` without MANABI_DATA or RUST_BACKTRACE.
pub fn manabi(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_manabi"))
        .args(args)
        .current_dir(cwd)
        .env_remove("MANABI_DATA")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A failed run with a one-line error containing every needle and no panic.
pub fn assert_clean_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success; stderr:\n{err}"
    );
    assert!(err.contains("error: "), "no error line:\n{err}");
    for bad in [
        "panicked",
        "stack backtrace",
        "internal error",
        "RUST_BACKTRACE",
    ] {
        assert!(!err.contains(bad), "'{bad}' in stderr:\n{err}");
    }
    for n in needles {
        assert!(err.contains(n), "'{n}' missing from:\n{err}");
    }
}
