//! Entropy minimisation (Grandvalet & Bengio 2005; seed 003 19.3.2; SS2): push the unlabelled
//! predictions towards confident ones, either by their entropy or (with a temperature) by the
//! cross-entropy to their own sharpened, detached copy (soft self-training; a temperature near 0
//! gives hard labels).
//!
//! ```text
//! loss_u = 1/|U| Σ_u H(f(u))                                  (no temperature)
//! loss_u = 1/|U| Σ_u CE(sharpen(f(u), T), f(u))               (temperature T)
//! ```

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;

use super::step::{SemiBatch, StepContext, StepLoss, split_rows, supervised_loss};
use super::targets::{mean_entropy, sharpen};
use crate::losses::soft_target_cross_entropy;

/// One entropy-minimisation step.
pub fn entropy_min_step(ctx: &StepContext, batch: SemiBatch, temperature: Option<f64>) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let weak = batch.weak.into_iter().next().expect("one weak view");
    let logits = ctx.logits(Tensor::cat(vec![batch.labelled, weak], 0));
    let (labelled, unlabelled) = split_rows(logits, b);
    let unsupervised = match temperature {
        None => mean_entropy(unlabelled),
        Some(t) => {
            let target = sharpen(softmax(unlabelled.clone().detach(), 1), t);
            soft_target_cross_entropy(unlabelled, target)
        }
    };
    StepLoss {
        supervised: supervised_loss(labelled, batch.labels),
        unsupervised: Some(unsupervised),
        pseudo: None,
    }
}
