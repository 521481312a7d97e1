//! Mean teacher (Tarvainen & Valpola 2017; seed 003 19.3.5; SS7): the target is the prediction
//! of the exponential moving average of the student's weights, on another augmentation.
//!
//! ```text
//! θ'_t = α θ'_{t-1} + (1 - α) θ_t
//! loss_u = d(f_θ(weak_1(u)), f_θ'(weak_2(u)))
//! ```

use burn::tensor::Tensor;

use super::consistency::Consistency;
use super::step::{SemiBatch, StepContext, StepLoss, split_rows, supervised_loss};

/// One mean-teacher step; the teacher is `ctx.teacher` (the loop's weight average).
pub fn mean_teacher_step(
    ctx: &StepContext,
    batch: SemiBatch,
    consistency: Consistency,
) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let mut weak = batch.weak.into_iter();
    let (student, teacher) = (weak.next(), weak.next());
    let (student, teacher) = student
        .zip(teacher)
        .expect("the mean teacher draws two weak views");
    let target = ctx.teacher_probs(teacher);
    let logits = ctx.logits(Tensor::cat(vec![batch.labelled, student], 0));
    let (labelled, unlabelled) = split_rows(logits, b);
    StepLoss {
        supervised: supervised_loss(labelled, batch.labels),
        unsupervised: Some(consistency.loss(unlabelled, target)),
        pseudo: None,
    }
}
