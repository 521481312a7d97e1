//! GPU checks (issue 11), for a machine with a GPU; built only with a GPU feature and ignored
//! by default, so CI (no GPU) never runs them:
//!
//! ```text
//! cargo test --release --features vulkan --test gpu -- --ignored
//! ```
//!
//! The same model, weights and batches train on the CPU and on the GPU; the losses must agree
//! within float tolerance.
#![cfg(any(feature = "vulkan", feature = "wgpu"))]

use burn::module::Module;
use burn::tensor::{Device, DeviceKind};
use manabi::data::{Dataset, Targets};
use manabi::losses::LossConfig;
use manabi::model::Sequential;
use manabi::optim::OptimizerConfig;
use manabi::recipe::Recipe;
use manabi::train::{FitConfig, Silent, fit};

fn gpu() -> Device {
    #[cfg(feature = "vulkan")]
    return Device::vulkan(DeviceKind::DefaultDevice);
    #[cfg(not(feature = "vulkan"))]
    return Device::wgpu(DeviceKind::DefaultDevice);
}

/// 512 synthetic 28x28 images of 10 classes: a bright square whose place is the class.
fn images() -> Dataset {
    let (n, side) = (512usize, 28usize);
    let mut features = vec![0.0f32; n * side * side];
    let labels: Vec<u32> = (0..n).map(|i| (i % 10) as u32).collect();
    for (i, &c) in labels.iter().enumerate() {
        let (r0, c0) = (2 + 2 * c as usize, 3 + (i % 7));
        for r in r0..r0 + 6 {
            for col in c0..c0 + 6 {
                features[i * side * side + r * side + col] = 1.0;
            }
        }
    }
    let targets = Targets::Classes {
        labels,
        num_classes: 10,
    };
    Dataset::new(features, vec![1, side, side], targets).unwrap()
}

/// The seed CNN of `recipes/fashion_mnist_cnn.toml`, initialised on the CPU.
fn seed_cnn() -> Sequential {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/fashion_mnist_cnn.toml");
    let recipe = Recipe::load(&path).unwrap();
    recipe.model.build(&[1, 28, 28], &Device::flex()).unwrap()
}

fn losses(model: Sequential, device: &Device) -> Vec<f64> {
    let cfg = FitConfig::new(
        LossConfig::SparseCategoricalCrossentropy,
        OptimizerConfig::adam(1e-3),
        3,
        64,
    );
    let model = model.fork(device);
    let out = fit(model, &images(), None, &cfg, device, &mut Silent).unwrap();
    out.history.series("loss").unwrap().to_vec()
}

#[test]
#[ignore = "needs a GPU: cargo test --release --features vulkan --test gpu -- --ignored"]
fn seed_cnn_training_on_the_gpu_matches_the_cpu() {
    let start = seed_cnn();
    let cpu = losses(start.clone(), &Device::flex().autodiff());
    let gpu = losses(start, &gpu().autodiff());
    eprintln!("cpu {cpu:?}\ngpu {gpu:?}");
    assert!(cpu[2] < cpu[0], "the CPU run learns: {cpu:?}");
    for (c, g) in cpu.iter().zip(&gpu) {
        assert!(
            (c - g).abs() <= 1e-3 * (1.0 + c.abs()),
            "cpu {cpu:?}, gpu {gpu:?}"
        );
    }
}
