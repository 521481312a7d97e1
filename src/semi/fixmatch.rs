//! FixMatch (Sohn et al. 2020; SS9): the weak view's confident prediction becomes the hard
//! label of the strong view.
//!
//! ```text
//! q = softmax(f(weak(u)))               (no gradient)
//! loss_u = 1/|U| Σ_u 1[max q ≥ τ] · CE(argmax q, f(strong(u)))
//! ```

use burn::tensor::Tensor;

use super::step::{SemiBatch, StepContext, StepLoss, host_values, split_rows, supervised_loss};
use super::targets::{PseudoLabels, masked_cross_entropy};

/// One FixMatch step with confidence threshold `threshold`.
pub fn fixmatch_step(ctx: &StepContext, batch: SemiBatch, threshold: f64) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let weak = batch
        .weak
        .into_iter()
        .next()
        .expect("FixMatch draws one weak view");
    let strong = batch.strong.expect("FixMatch draws the strong view");
    let q = ctx.frozen_probs(weak);
    let [_, classes] = q.dims();
    let pseudo = PseudoLabels::confident(&host_values(&q), classes, threshold);
    let logits = ctx.logits(Tensor::cat(vec![batch.labelled, strong], 0));
    let (labelled, unlabelled) = split_rows(logits, b);
    let (labels, mask) = pseudo.tensors(&unlabelled.device());
    StepLoss {
        supervised: supervised_loss(labelled, batch.labels),
        unsupervised: Some(masked_cross_entropy(unlabelled, labels, mask)),
        pseudo: Some(pseudo),
    }
}
