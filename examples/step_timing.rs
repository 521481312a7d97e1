//! Times the parts of one training step of a recipe's model on synthetic data of the real
//! shape: forward, backward, optimiser step; and inference.
//!
//! ```text
//! cargo run --release --example step_timing -- recipes/fashion_mnist_cnn.toml 200 10
//! ```

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use manabi::recipe::Recipe;

fn main() -> anyhow::Result<()> {
    manabi::kernels::tune_allocator();
    let mut args = std::env::args().skip(1);
    let recipe = Recipe::load(std::path::Path::new(
        &args
            .next()
            .unwrap_or("recipes/fashion_mnist_cnn.toml".into()),
    ))?;
    let batch: usize = args.next().map_or(Ok(200), |s| s.parse())?;
    let steps: usize = args.next().map_or(Ok(10), |s| s.parse())?;
    let shape: Vec<usize> = match &recipe.data.text {
        Some(t) => vec![t.maxlen],
        None => vec![1, 28, 28],
    };
    let device = Device::flex().autodiff();
    device.seed(1);
    let mut model = recipe.model.build(&shape, &device)?;
    let mut optim = recipe.optimizer.build(None);
    let len: usize = shape.iter().product();
    let values: Vec<f32> = (0..batch * len)
        .map(|i| {
            if recipe.data.text.is_some() {
                ((i * 7919) % 9000) as f32 + 3.0
            } else {
                ((i * 31) % 255) as f32 / 255.0
            }
        })
        .collect();
    let x = || Tensor::<2>::from_data(TensorData::new(values.clone(), [batch, len]), &device);
    let (mut fwd, mut bwd, mut opt) = (0.0, 0.0, 0.0);
    for step in 0..steps + 2 {
        let t0 = Instant::now();
        let out = model.forward_logits(model.reshape_input(x()));
        let loss = out.powi_scalar(2).mean();
        let _ = loss.clone().into_scalar::<f32>();
        let t1 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t2 = Instant::now();
        model = optim.step(1e-3, model, grads);
        let t3 = Instant::now();
        if step >= 2 {
            fwd += (t1 - t0).as_secs_f64();
            bwd += (t2 - t1).as_secs_f64();
            opt += (t3 - t2).as_secs_f64();
        }
    }
    let n = steps as f64;
    println!(
        "train step (batch {batch}): forward {:.1} ms, backward {:.1} ms, optimiser {:.1} ms, total {:.1} ms",
        1e3 * fwd / n,
        1e3 * bwd / n,
        1e3 * opt / n,
        1e3 * (fwd + bwd + opt) / n
    );
    let valid = model.valid();
    let inf = Device::flex();
    let xi = Tensor::<2>::from_data(TensorData::new(values.clone(), [batch, len]), &inf);
    let t0 = Instant::now();
    for _ in 0..steps {
        let out = valid.forward_logits(valid.reshape_input(xi.clone()));
        let _ = out.sum().into_scalar::<f32>();
    }
    println!(
        "inference (batch {batch}): {:.1} ms",
        1e3 * t0.elapsed().as_secs_f64() / n
    );
    Ok(())
}
