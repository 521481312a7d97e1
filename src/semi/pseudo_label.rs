//! Online pseudo-labelling (Lee 2013; seed 003 19.3.1; SS1): each unlabelled sample's own
//! confident prediction is its hard label for this step.
//!
//! ```text
//! q = softmax(f(weak(u)))               (the same forward, detached)
//! loss_u = 1/|U| Σ_u 1[max q ≥ τ] · CE(argmax q, f(weak(u)))
//! ```

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;

use super::step::{SemiBatch, StepContext, StepLoss, host_values, split_rows, supervised_loss};
use super::targets::{PseudoLabels, masked_cross_entropy};

/// One pseudo-label step with confidence threshold `threshold`.
pub fn pseudo_label_step(ctx: &StepContext, batch: SemiBatch, threshold: f64) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let weak = batch
        .weak
        .into_iter()
        .next()
        .expect("pseudo-labelling draws one weak view");
    let logits = ctx.logits(Tensor::cat(vec![batch.labelled, weak], 0));
    let (labelled, unlabelled) = split_rows(logits, b);
    let q = softmax(unlabelled.clone().detach(), 1);
    let [_, classes] = q.dims();
    let pseudo = PseudoLabels::confident(&host_values(&q), classes, threshold);
    let (labels, mask) = pseudo.tensors(&unlabelled.device());
    StepLoss {
        supervised: supervised_loss(labelled, batch.labels),
        unsupervised: Some(masked_cross_entropy(unlabelled, labels, mask)),
        pseudo: Some(pseudo),
    }
}
