//! Knowledge distillation (Hinton, Vinyals & Dean 2015; seed 003 19.3.7; K1): a trained
//! teacher's softened predictions train the student.
//!
//! ```text
//! q_T(x) = softmax(teacher(x) / T)                    (a constant)
//! soft(x) = -T² Σ_y q_T(y|x) log softmax(student(x) / T)_y
//! loss_l = α · soft(labelled) + (1 - α) · CE(student(labelled), y)
//! loss_u = soft(unlabelled)                           (when the recipe gives unlabelled data)
//! ```
//!
//! `soft` differs from T² · KL(q_T ‖ p_T) by the teacher's entropy, a constant: the gradients
//! are the same. The T² keeps them the size of a hard-label loss's whatever T is.

use burn::tensor::Tensor;

use super::step::{SemiBatch, StepContext, StepLoss, split_rows, supervised_loss};
use crate::losses::soft_target_cross_entropy_t;

/// One distillation step at temperature `temperature`, with `alpha` the soft term's share on
/// the labelled batch; the teacher is `ctx.distill_from`.
pub fn distillation_step(
    ctx: &StepContext,
    batch: SemiBatch,
    temperature: f64,
    alpha: f64,
) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let mut inputs = vec![batch.labelled];
    inputs.extend(batch.weak.into_iter().take(1));
    let x = Tensor::cat(inputs, 0);
    let teacher = ctx.distill_logits(x.clone());
    let student = ctx.logits(x);
    let (labelled, unlabelled) = split_rows(student, b);
    let (teacher_l, teacher_u) = split_rows(teacher, b);
    let mut supervised = supervised_loss(labelled.clone(), batch.labels).mul_scalar(1.0 - alpha);
    if alpha > 0.0 {
        let soft = soft_target_cross_entropy_t(labelled, teacher_l, temperature);
        supervised = supervised + soft.mul_scalar(alpha);
    }
    let unsupervised = (unlabelled.dims()[0] > 0)
        .then(|| soft_target_cross_entropy_t(unlabelled, teacher_u, temperature));
    StepLoss {
        supervised,
        unsupervised,
        pseudo: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActivationKind, LayerConfig, Sequential, SequentialConfig};
    use burn::module::Module;
    use burn::tensor::activation::log_softmax;
    use burn::tensor::{Device, Distribution, Int};

    fn net(device: &Device, seed: u64) -> Sequential {
        device.seed(seed);
        SequentialConfig::new()
            .add(LayerConfig::dense(6, ActivationKind::Tanh))
            .add(LayerConfig::dense(3, ActivationKind::Softmax))
            .build(&[4], device)
            .unwrap()
    }

    fn values(x: Tensor<2>) -> Vec<f32> {
        x.into_data().iter::<f32>().collect()
    }

    /// `-T² Σ q_T log p_T`, averaged over rows, by hand from the two models' logits.
    fn soft_by_hand(student: &[f32], teacher: &[f32], t: f32) -> f32 {
        let rows = student.len() / 3;
        let lsm = |z: &[f32]| {
            let m = z.iter().copied().fold(f32::MIN, f32::max);
            let s: f32 = z.iter().map(|v| (v - m).exp()).sum();
            z.iter().map(|v| v - m - s.ln()).collect::<Vec<f32>>()
        };
        let mut total = 0.0;
        for r in 0..rows {
            let zs: Vec<f32> = student[r * 3..r * 3 + 3].iter().map(|v| v / t).collect();
            let zt: Vec<f32> = teacher[r * 3..r * 3 + 3].iter().map(|v| v / t).collect();
            let (ls, lt) = (lsm(&zs), lsm(&zt));
            total -= (0..3).map(|k| lt[k].exp() * ls[k]).sum::<f32>();
        }
        t * t * total / rows as f32
    }

    #[test]
    fn the_loss_is_the_hand_computed_mix_with_t_squared_scaling() {
        let device = Device::flex().autodiff();
        let student = net(&device, 1);
        let teacher = net(&device, 2).valid();
        let xl = Tensor::<2>::random([5, 4], Distribution::Normal(0.0, 2.0), &device);
        let xu = Tensor::<2>::random([7, 4], Distribution::Normal(0.0, 2.0), &device);
        let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 1, 0], &device);
        let logits =
            |m: &Sequential, x: &Tensor<2>| values(m.forward_logits(m.reshape_input(x.clone())));
        let tl = |x: &Tensor<2>| {
            values(
                teacher
                    .forward_logits(teacher.reshape_input(x.clone().inner()))
                    .autodiff(),
            )
        };
        let (sl, su) = (logits(&student, &xl), logits(&student, &xu));
        let ce: f32 = {
            let lsm = values(log_softmax(
                student.forward_logits(student.reshape_input(xl.clone())),
                1,
            ));
            -[0usize, 1, 2, 1, 0]
                .iter()
                .enumerate()
                .map(|(r, &y)| lsm[r * 3 + y])
                .sum::<f32>()
                / 5.0
        };
        for (t, alpha) in [(1.0f32, 0.5f64), (4.0, 0.9), (2.0, 0.0)] {
            let batch = SemiBatch {
                labelled: xl.clone(),
                labels: labels.clone(),
                label_values: vec![0, 1, 2, 1, 0],
                classes: 3,
                weak: vec![xu.clone()],
                strong: None,
                pool_labels: Vec::new(),
            };
            let ctx = StepContext {
                model: &student,
                teacher: None,
                distill_from: Some(&teacher),
                seed: 1,
            };
            let out = distillation_step(&ctx, batch, t as f64, alpha);
            let sup = out.supervised.into_scalar::<f32>();
            let expected =
                alpha as f32 * soft_by_hand(&sl, &tl(&xl), t) + (1.0 - alpha as f32) * ce;
            assert!((sup - expected).abs() < 1e-4, "T {t}: {sup} vs {expected}");
            let unsup = out.unsupervised.unwrap().into_scalar::<f32>();
            let expected = soft_by_hand(&su, &tl(&xu), t);
            assert!(
                (unsup - expected).abs() < 1e-4,
                "T {t}: {unsup} vs {expected}"
            );
        }
    }
}
