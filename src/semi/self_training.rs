//! Offline self-training (seed 003 19.3.1, seed 002; SS1): the model trained so far labels the
//! whole unlabelled set at the start of every round; the predictions at or above the threshold
//! join training as a second, pseudo-labelled pool for the next round (hard labels). The loop
//! keeps the pool ([`crate::train::fit_semi`]); a step sees a batch of it beside the labelled
//! batch.
//!
//! ```text
//! round r:  P_r = {(u, argmax f(u)) : max f(u) ≥ τ}        (f: the model after round r - 1,
//!                                                           its raw weights, not the EMA)
//! loss = CE(labelled) + λ · CE(batch of P_r)               (the first round: labelled only)
//! ```

use burn::tensor::{Int, Tensor, TensorData};

use super::step::{SemiBatch, StepContext, StepLoss, split_rows, supervised_loss};

/// One self-training step; `batch.weak` holds the pool's batch (empty in the first round) and
/// `batch.pool_labels` its pseudo-labels.
pub fn self_training_step(ctx: &StepContext, batch: SemiBatch) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let Some(pool) = batch.weak.into_iter().next() else {
        return StepLoss {
            supervised: supervised_loss(ctx.logits(batch.labelled), batch.labels),
            unsupervised: None,
            pseudo: None,
        };
    };
    let n = pool.dims()[0];
    let device = pool.device();
    let labels: Vec<i64> = batch.pool_labels.iter().map(|&l| l as i64).collect();
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [n]), &device);
    let logits = ctx.logits(Tensor::cat(vec![batch.labelled, pool], 0));
    let (labelled, pooled) = split_rows(logits, b);
    StepLoss {
        supervised: supervised_loss(labelled, batch.labels),
        unsupervised: Some(supervised_loss(pooled, labels)),
        pseudo: None,
    }
}
