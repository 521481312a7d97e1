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
use burn::tensor::Device;
use manabi::data::{Dataset, Targets};
use manabi::losses::LossConfig;
use manabi::model::Sequential;
use manabi::optim::OptimizerConfig;
use manabi::recipe::Recipe;
use manabi::train::{FitConfig, Silent, fit};

/// The GPU, with manabi's kernel caches (as `--device vulkan` sets them up).
fn gpu() -> Device {
    let backend = if cfg!(feature = "vulkan") {
        "vulkan"
    } else {
        "wgpu"
    };
    manabi::gpu::device(backend, None).unwrap()
}

/// A recipe of this repository: from the source tree the test was built in, or, on a machine
/// the test binary was carried to, from the working directory (the repository root there).
fn recipe_path(relative: &str) -> std::path::PathBuf {
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if built.exists() {
        built
    } else {
        std::path::PathBuf::from(relative)
    }
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
    let recipe = Recipe::load(&recipe_path("recipes/fashion_mnist_cnn.toml")).unwrap();
    recipe
        .model
        .build(&[1, 28, 28], &Device::flex().autodiff())
        .unwrap()
}

/// A 64-bit linear congruential generator's high 31 bits, from `seed`.
fn lcg(seed: u64) -> impl FnMut() -> usize {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    }
}

/// 256 sequences of 30 token ids (0 = padding at the front of some), labelled by whether
/// token 7 occurs: a task a recurrent model learns.
fn token_sequences() -> Dataset {
    let (n, t) = (256usize, 30usize);
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut features = vec![0.0f32; n * t];
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let pad = next() % 10;
        let mut has = false;
        for j in pad..t {
            let token = 1 + next() % 60;
            has |= token == 7;
            features[i * t + j] = token as f32;
        }
        labels.push(u32::from(has));
    }
    let targets = Targets::Classes {
        labels,
        num_classes: 2,
    };
    Dataset::new(features, vec![t], targets).unwrap()
}

/// The seed BiLSTM of `recipes/imdb_bilstm.toml` (Embedding(10000, 128), Bidirectional(LSTM
/// 64), Dense(1, sigmoid)) for sequences of 30 tokens, initialised on the CPU.
fn seed_bilstm() -> Sequential {
    let recipe = Recipe::load(&recipe_path("recipes/imdb_bilstm.toml")).unwrap();
    recipe
        .model
        .build(&[30], &Device::flex().autodiff())
        .unwrap()
}

fn losses(
    model: Sequential,
    data: &Dataset,
    loss: LossConfig,
    batch: usize,
    device: &Device,
) -> Vec<f64> {
    let cfg = FitConfig::new(loss, OptimizerConfig::adam(1e-3), 3, batch);
    let model = model.fork(device);
    let out = fit(model, data, None, &cfg, device, &mut Silent).unwrap();
    out.history.series("loss").unwrap().to_vec()
}

/// Losses of three epochs on the CPU and on the GPU from the same start agree.
fn assert_same_training(start: Sequential, data: &Dataset, loss: LossConfig, batch: usize) {
    let cpu = losses(start.clone(), data, loss, batch, &Device::flex().autodiff());
    let gpu = losses(start, data, loss, batch, &gpu().autodiff());
    eprintln!("cpu {cpu:?}\ngpu {gpu:?}");
    assert!(cpu[2] < cpu[0], "the CPU run learns: {cpu:?}");
    for (c, g) in cpu.iter().zip(&gpu) {
        assert!(
            (c - g).abs() <= 1e-3 * (1.0 + c.abs()),
            "cpu {cpu:?}, gpu {gpu:?}"
        );
    }
}

#[test]
#[ignore = "needs a GPU: cargo test --release --features vulkan --test gpu -- --ignored"]
fn seed_cnn_training_on_the_gpu_matches_the_cpu() {
    let data = images();
    let loss = LossConfig::SparseCategoricalCrossentropy;
    assert_same_training(seed_cnn(), &data, loss, 64);
}

#[test]
#[ignore = "needs a GPU: cargo test --release --features vulkan --test gpu -- --ignored"]
fn seed_bilstm_training_on_the_gpu_matches_the_cpu() {
    let data = token_sequences();
    let loss = LossConfig::BinaryCrossentropy;
    assert_same_training(seed_bilstm(), &data, loss, 32);
}

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut next = lcg(seed);
    (0..n)
        .map(|_| (next() >> 7) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0)
        .collect()
}

/// Hidden states and input gradient of manabi's fused LSTM scan on `device`, for a weighted sum
/// of the states as the loss.
fn lstm_scan_run(device: &Device, backwards: bool) -> (Vec<f32>, Vec<f32>) {
    use burn::tensor::{Tensor, TensorData};
    let (b, t, u) = (3, 7, 5);
    let xproj = Tensor::<3>::from_data(
        TensorData::new(values(b * t * 4 * u, 1), [b, t, 4 * u]),
        device,
    )
    .require_grad();
    let recurrent =
        Tensor::<2>::from_data(TensorData::new(values(u * 4 * u, 2), [u, 4 * u]), device);
    let mut mask = vec![1.0f32; b * t];
    mask[0] = 0.0; // the first sequence starts with two padding steps
    mask[1] = 0.0;
    mask[t + 3] = 0.0; // and the second has one in the middle
    let mask = Tensor::<2>::from_data(TensorData::new(mask, [b, t]), device);
    let weights = Tensor::<3>::from_data(TensorData::new(values(b * t * u, 3), [b, t, u]), device);
    let hidden = manabi::kernels::lstm_scan(xproj.clone(), recurrent, Some(mask), backwards);
    let grads = (hidden.clone() * weights).sum().backward();
    let grad = xproj.grad(&grads).unwrap();
    let vec = |d: burn::tensor::TensorData| d.convert::<f32>().try_to_vec::<f32>().unwrap();
    (vec(hidden.inner().into_data()), vec(grad.into_data()))
}

#[test]
#[ignore = "needs a GPU: cargo test --release --features vulkan --test gpu -- --ignored"]
fn fused_lstm_scan_on_the_gpu_matches_the_cpu() {
    for backwards in [false, true] {
        let (h_cpu, g_cpu) = lstm_scan_run(&Device::flex().autodiff(), backwards);
        let (h_gpu, g_gpu) = lstm_scan_run(&gpu().autodiff(), backwards);
        for (name, a, b) in [("hidden", &h_cpu, &h_gpu), ("d xproj", &g_cpu, &g_gpu)] {
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            eprintln!("backwards {backwards}: {name} max |cpu - gpu| = {worst:e}");
            assert!(worst < 1e-4, "{name}: cpu {a:?}\ngpu {b:?}");
        }
    }
}
