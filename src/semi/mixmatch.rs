//! MixMatch (Berthelot et al. 2019; SS9): guess each unlabelled image's label from the mean of
//! K augmentations, sharpen it, then MixUp the labelled and unlabelled samples together and
//! fit the mixed targets (cross-entropy on the labelled part, squared error on the rest).
//!
//! ```text
//! q = sharpen(1/K Σ_k f(weak_k(u)), T)                          (no gradient)
//! W = shuffle(X ∪ U);  λ ~ Beta(α, α), λ ← max(λ, 1 - λ)
//! X' = λ X + (1 - λ) W[:|X|],  U' = λ U + (1 - λ) W[|X|:]      (inputs and targets)
//! loss = CE(y_X', f(X')) + λ_u · ||q_U' - f(U')||²
//! ```

use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::step::{SemiBatch, StepContext, StepLoss, split_rows};
use super::targets::{mix, mixmatch_lambda, sharpen};
use crate::losses::{mse, soft_target_cross_entropy};

/// One MixMatch step with sharpening temperature `temperature` and MixUp's `alpha`.
pub fn mixmatch_step(
    ctx: &StepContext,
    batch: SemiBatch,
    temperature: f64,
    alpha: f64,
) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let device = batch.labelled.device();
    let views = batch.weak.len();
    let guess = batch
        .weak
        .iter()
        .map(|w| ctx.frozen_probs(w.clone()))
        .reduce(|a, p| a + p)
        .expect("MixMatch draws at least one weak view")
        .div_scalar(views as f64);
    let q = sharpen(guess, temperature);
    let mut targets = vec![one_hot(&batch.label_values, batch.classes, &device)];
    targets.extend(std::iter::repeat_n(q, views));
    let mut inputs = vec![batch.labelled];
    inputs.extend(batch.weak);
    let (x, y) = (Tensor::cat(inputs, 0), Tensor::cat(targets, 0));
    let n = x.dims()[0];
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed);
    let mut order: Vec<i64> = (0..n as i64).collect();
    order.shuffle(&mut rng);
    let order = Tensor::<1, Int>::from_data(TensorData::new(order, [n]), &device);
    let lambda = mixmatch_lambda(alpha, &mut rng);
    let mixed_x = mix(x.clone(), x.select(0, order.clone()), lambda);
    let mixed_y = mix(y.clone(), y.select(0, order), lambda);
    let (logits_x, logits_u) = split_rows(ctx.logits(mixed_x), b);
    let (y_x, y_u) = split_rows(mixed_y, b);
    StepLoss {
        supervised: soft_target_cross_entropy(logits_x, y_x),
        unsupervised: Some(mse(softmax(logits_u, 1), y_u)),
        pseudo: None,
    }
}

/// One-hot rows `[labels.len(), classes]`.
fn one_hot(labels: &[u32], classes: usize, device: &burn::tensor::Device) -> Tensor<2> {
    let mut v = vec![0f32; labels.len() * classes];
    for (i, &l) in labels.iter().enumerate() {
        v[i * classes + l as usize] = 1.0;
    }
    Tensor::from_data(TensorData::new(v, [labels.len(), classes]), device)
}
