//! The input-output mutual-information regulariser (Bridle et al. 1992; seed 003 19.3.2.2;
//! SS3): confident predictions per sample (low conditional entropy) that are spread over the
//! classes on the whole (high entropy of the mean prediction).
//!
//! ```text
//! loss_u = 1/|U| Σ_u H(f(u)) - H(1/|U| Σ_u f(u))      (= -I(x; y) on the batch)
//! ```

use burn::tensor::Tensor;

use super::step::{SemiBatch, StepContext, StepLoss, split_rows, supervised_loss};
use super::targets::{entropy_of_mean, mean_entropy};

/// One mutual-information step.
pub fn mutual_info_step(ctx: &StepContext, batch: SemiBatch) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let weak = batch.weak.into_iter().next().expect("one weak view");
    let logits = ctx.logits(Tensor::cat(vec![batch.labelled, weak], 0));
    let (labelled, unlabelled) = split_rows(logits, b);
    StepLoss {
        supervised: supervised_loss(labelled, batch.labels),
        unsupervised: Some(mean_entropy(unlabelled.clone()) - entropy_of_mean(unlabelled)),
        pseudo: None,
    }
}
