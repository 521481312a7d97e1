//! The Pi-model (Laine & Aila 2017; seed 003 19.3.5; SS7): two random augmentations of the
//! same image should get the same prediction; the second is the target (detached).
//!
//! ```text
//! loss_u = d(f(weak_1(u)), stopgrad f(weak_2(u)))      d: squared L2 of probabilities or KL
//! ```

use burn::tensor::Tensor;

use super::consistency::Consistency;
use super::step::{SemiBatch, StepContext, StepLoss, split_rows, supervised_loss};

/// One Pi-model step.
pub fn pi_model_step(ctx: &StepContext, batch: SemiBatch, consistency: Consistency) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let mut weak = batch.weak.into_iter();
    let (first, second) = (weak.next(), weak.next());
    let (first, second) = first
        .zip(second)
        .expect("the Pi-model draws two weak views");
    let target = ctx.frozen_probs(second);
    let logits = ctx.logits(Tensor::cat(vec![batch.labelled, first], 0));
    let (labelled, unlabelled) = split_rows(logits, b);
    StepLoss {
        supervised: supervised_loss(labelled, batch.labels),
        unsupervised: Some(consistency.loss(unlabelled, target)),
        pseudo: None,
    }
}
