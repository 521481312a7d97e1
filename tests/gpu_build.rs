//! The GPU build stays buildable (issue 11). CI has no GPU and builds the CPU configuration, so
//! this test type-checks the `vulkan` one: `src/gpu.rs`, the fused LSTM kernel
//! (`src/kernels/lstm_gpu.rs`), `tests/gpu.rs` and the examples, with
//! `cargo check --release --features vulkan --all-targets` in `target/vulkan-check`. About 4
//! minutes the first time on 2 cores, seconds afterwards; `MANABI_SKIP_GPU_CHECK=1` skips it.

use std::path::Path;
use std::process::Command;

#[test]
fn the_vulkan_build_type_checks() {
    if std::env::var_os("MANABI_SKIP_GPU_CHECK").is_some() {
        eprintln!("MANABI_SKIP_GPU_CHECK is set: not checking the vulkan build");
        return;
    }
    if cfg!(feature = "vulkan") {
        return; // this very build is the vulkan one
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "check",
            "--release",
            "--features",
            "vulkan",
            "--all-targets",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", root.join("target").join("vulkan-check"))
        .current_dir(root)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo check --features vulkan failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
