//! GPU devices (Burn's CubeCL backends, in a build with `--features vulkan` or `wgpu`) and the
//! kernel caches that make a second run start at once.
//!
//! CubeCL compiles every kernel the first time a process launches it and autotunes matmuls,
//! convolutions and fused kernels for each new shape: over 100 s before the first training
//! step of the seed CNN on an H100. manabi keeps both results on disk, in one folder per
//! user, so later runs of any command reuse them:
//!
//! ```text
//! $MANABI_KERNEL_CACHE            if set ("off" keeps nothing on disk)
//! $XDG_CACHE_HOME/manabi/kernels  else
//! ~/.cache/manabi/kernels         else
//! ```
//!
//! A `cubecl.toml` in the working directory (or above it) still sets CubeCL's other options;
//! manabi only switches the compiled-kernel store on and points the cache folder at its own.

use std::path::PathBuf;

use anyhow::{Result, bail};
use burn::tensor::Device;

/// Where compiled kernels and autotune results are kept, or `None` when `MANABI_KERNEL_CACHE`
/// is `off` (or no home folder is known).
pub fn kernel_cache_dir() -> Option<PathBuf> {
    match std::env::var_os("MANABI_KERNEL_CACHE") {
        Some(v) if v == "off" || v == "0" => None,
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|base| base.join("manabi").join("kernels")),
    }
}

/// Whether `device` runs on a GPU backend (anything but Flex and the remote client).
pub fn is_gpu(device: &Device) -> bool {
    #[cfg(any(feature = "vulkan", feature = "wgpu", feature = "cuda"))]
    if let burn::backend::DispatchDevice::Cube(_) = device.clone().without_autodiff().as_dispatch()
    {
        return true;
    }
    let _ = device;
    false
}

/// A local device by name: `cpu`, or a GPU backend compiled in: `vulkan`, `vulkan:N`, `wgpu`,
/// `wgpu:N` (the N-th discrete GPU; without N the backend's default adapter), `cuda:N`.
pub fn device_named(name: &str) -> Result<Device> {
    let (backend, index) = match name.split_once(':') {
        Some((b, i)) => {
            let index = i.parse::<usize>().map_err(|_| {
                anyhow::anyhow!(
                    "device '{name}': the part after ':' must be a GPU index, e.g. {b}:0"
                )
            })?;
            (b, Some(index))
        }
        None => (name, None),
    };
    match (backend, index) {
        ("cpu" | "flex", None) => Ok(Device::flex()),
        _ => device(backend, index),
    }
}

/// The GPU device `backend` (`vulkan`, `wgpu` or `cuda`), `index`-th discrete GPU or the
/// backend's default adapter, with the kernel caches set up first.
pub fn device(backend: &str, index: Option<usize>) -> Result<Device> {
    configure_caches();
    #[cfg(any(feature = "vulkan", feature = "wgpu"))]
    let kind = match index {
        Some(i) => burn::tensor::DeviceKind::DiscreteGpu(i),
        None => burn::tensor::DeviceKind::DefaultDevice,
    };
    match backend {
        #[cfg(feature = "vulkan")]
        "vulkan" => Ok(Device::vulkan(kind)),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(Device::wgpu(kind)),
        #[cfg(feature = "cuda")]
        "cuda" => Ok(Device::cuda(index.unwrap_or(0))),
        _ => {
            let name = match index {
                Some(i) => format!("{backend}:{i}"),
                None => backend.to_string(),
            };
            bail!(
                "unknown device '{name}': this build supports {}",
                supported()
            )
        }
    }
}

/// The device names this build accepts, for error messages.
fn supported() -> String {
    let mut names = vec!["cpu"];
    for (on, name) in [
        (cfg!(feature = "remote"), "remote://HOST:PORT"),
        (cfg!(feature = "vulkan"), "vulkan[:N]"),
        (cfg!(feature = "wgpu"), "wgpu[:N]"),
        (cfg!(feature = "cuda"), "cuda:N"),
    ] {
        if on {
            names.push(name);
        }
    }
    let hint = if cfg!(any(feature = "vulkan", feature = "wgpu", feature = "cuda")) {
        ""
    } else {
        " (GPU devices need a build with --features vulkan or wgpu)"
    };
    format!("{}{hint}", names.join(", "))
}

/// Sets CubeCL's configuration before the first GPU device exists: compiled kernels are
/// stored, and the store and autotune results live in [`kernel_cache_dir`]. Does nothing when
/// the configuration was already read (a device was created before) or in a CPU-only build.
pub fn configure_caches() {
    #[cfg(any(feature = "vulkan", feature = "wgpu", feature = "cuda"))]
    {
        use burn::cubecl::config::RuntimeConfig;
        use burn::cubecl::config::{CubeClRuntimeConfig, cache::CacheConfig};

        let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
        match kernel_cache_dir() {
            Some(dir) => {
                config.compilation.cache = true;
                config.environment.path = CacheConfig::Directory(dir);
            }
            None => config.autotune.disable_cache = true,
        }
        let _ = CubeClRuntimeConfig::try_set(config);
    }
}

/// One line for people waiting on the first steps of a GPU run.
pub fn first_run_note() -> String {
    match kernel_cache_dir() {
        Some(dir) => format!(
            "the first steps compile and tune GPU kernels; they are kept in {} for later runs",
            dir.display()
        ),
        None => "the first steps compile and tune GPU kernels (MANABI_KERNEL_CACHE=off: nothing is kept)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_is_not_a_gpu() {
        assert!(!is_gpu(&Device::flex()));
        assert!(!is_gpu(&Device::flex().autodiff()));
    }

    #[test]
    fn devices_are_read_by_name() {
        // The command line's own test (cli::tests) covers unknown names and bad indices.
        assert!(!is_gpu(&device_named("cpu").unwrap()));
        if !cfg!(feature = "cuda") {
            let err = device_named("cuda:0").unwrap_err().to_string();
            assert!(err.contains("unknown device 'cuda:0'"), "{err}");
        }
    }
}
