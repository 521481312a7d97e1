//! FixMatch (Sohn et al. 2020; SS9): the weak view's confident prediction becomes the hard
//! label of the strong view.
//!
//! ```text
//! q = softmax(f(weak(u)))               (no gradient)
//! loss_u = 1/|U| Σ_u 1[max q ≥ τ] · CE(argmax q, f(strong(u)))
//! ```
//!
//! With batch norm or dropout in the model, the weak view goes through the same training-mode
//! forward as the labelled and strong views (as USB does): its targets then see the batch's
//! statistics, not the running averages, which lag far behind early in training. Without such
//! layers both forwards give the same targets, and the cheaper one without a graph is used.

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;

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
    let (q, labelled, unlabelled) = if ctx.model.trains_differently() {
        let n_u = weak.dims()[0];
        let logits = ctx.logits(Tensor::cat(vec![batch.labelled, weak, strong], 0));
        let (labelled, rest) = split_rows(logits, b);
        let (weak, strong) = split_rows(rest, n_u);
        (softmax(weak.detach(), 1), labelled, strong)
    } else {
        let q = ctx.frozen_probs(weak);
        let logits = ctx.logits(Tensor::cat(vec![batch.labelled, strong], 0));
        let (labelled, strong) = split_rows(logits, b);
        (q, labelled, strong)
    };
    let [_, classes] = q.dims();
    let pseudo = PseudoLabels::confident(&host_values(&q), classes, threshold);
    let (labels, mask) = pseudo.tensors(&unlabelled.device());
    StepLoss {
        supervised: supervised_loss(labelled, batch.labels),
        unsupervised: Some(masked_cross_entropy(unlabelled, labels, mask)),
        pseudo: Some(pseudo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActivationKind, LayerConfig, Sequential, SequentialConfig};
    use burn::module::Module;
    use burn::tensor::{Device, Distribution, Int};

    fn step_on(model: &Sequential, x: &[Tensor<2>; 3]) -> Vec<u32> {
        let device = x[0].device();
        let batch = SemiBatch {
            labelled: x[0].clone(),
            labels: Tensor::<1, Int>::from_ints([0, 1, 2, 0], &device),
            label_values: vec![0, 1, 2, 0],
            classes: 3,
            weak: vec![x[1].clone()],
            strong: Some(x[2].clone()),
            pool_labels: Vec::new(),
        };
        let ctx = StepContext {
            model,
            teacher: None,
            distill_from: None,
            seed: 1,
        };
        let out = fixmatch_step(&ctx, batch, 1e-6);
        assert!(out.unsupervised.unwrap().into_scalar::<f32>().is_finite());
        out.pseudo.unwrap().labels
    }

    fn argmax(x: Tensor<2>) -> Vec<u32> {
        x.argmax(1)
            .into_data()
            .iter::<i64>()
            .map(|c| c as u32)
            .collect()
    }

    #[test]
    fn with_batch_norm_the_weak_targets_come_from_the_joint_training_forward() {
        let device = Device::flex().autodiff();
        device.seed(5);
        let config = SequentialConfig::new()
            .add(LayerConfig::dense(8, ActivationKind::Relu))
            .add(LayerConfig::batch_norm())
            .add(LayerConfig::dense(3, ActivationKind::Softmax));
        let model = config.build(&[5], &device).unwrap();
        assert!(model.trains_differently());
        let rand = |n| Tensor::<2>::random([n, 5], Distribution::Normal(2.0, 3.0), &device);
        let x = [rand(4), rand(6), rand(6)];
        let joint = model.forward_logits(model.reshape_input(Tensor::cat(x.to_vec(), 0)));
        let expected = argmax(joint.clone().slice([4..10, 0..3]));
        assert_eq!(step_on(&model, &x), expected);
        // Evaluation mode (running statistics at their start) scores these samples otherwise.
        let valid = model.valid();
        let alone = valid.forward_logits(valid.reshape_input(x[1].clone().inner()));
        let gap = (alone.autodiff() - joint.slice([4..10, 0..3]))
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(gap > 0.1, "{gap}");
    }

    #[test]
    fn without_such_layers_the_cheaper_frozen_forward_gives_the_same_targets() {
        let device = Device::flex().autodiff();
        device.seed(6);
        let model = SequentialConfig::new()
            .add(LayerConfig::dense(8, ActivationKind::Relu))
            .add(LayerConfig::dense(3, ActivationKind::Softmax))
            .build(&[5], &device)
            .unwrap();
        assert!(!model.trains_differently());
        let rand = |n| Tensor::<2>::random([n, 5], Distribution::Normal(0.0, 1.0), &device);
        let x = [rand(4), rand(6), rand(6)];
        let expected = argmax(model.forward_logits(model.reshape_input(x[1].clone())));
        assert_eq!(step_on(&model, &x), expected);
    }
}
