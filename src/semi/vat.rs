//! Virtual adversarial training (Miyato et al. 2018; seed 003 19.3.5; SS8): the perturbation
//! of norm ε that changes the prediction most, found by one power iteration from a random
//! direction, and the prediction's consistency under it.
//!
//! ```text
//! d ~ N(0, I), d ← d / ||d||
//! g = ∇_r KL(p(x) || p(x + r)) at r = ξ d
//! r_adv = ε g / ||g||
//! loss_u = KL(p(x) || p(x + r_adv)) + w_H · H(p(x))         (p(x) detached in the KL)
//! ```

use burn::tensor::{Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::step::{SemiBatch, StepContext, StepLoss, host_values, split_rows, supervised_loss};
use super::targets::mean_entropy;
use crate::losses::kl_divergence;
use crate::model::Sequential;

/// VAT's settings.
#[derive(Debug, Clone, Copy)]
pub struct VatParams {
    /// Norm of the adversarial perturbation, per sample.
    pub epsilon: f64,
    /// Norm of the probe perturbation of the power iteration.
    pub xi: f64,
    /// Weight of the entropy of the unlabelled predictions added to the VAT term.
    pub entropy_weight: f64,
}

/// One VAT step.
pub fn vat_step(ctx: &StepContext, batch: SemiBatch, params: VatParams) -> StepLoss {
    let b = batch.labelled.dims()[0];
    let x = batch
        .weak
        .into_iter()
        .next()
        .expect("VAT draws one weak view");
    let target = ctx.frozen_probs(x.clone());
    let r_adv = adversarial_perturbation(ctx.model, x.clone(), target.clone(), params, ctx.seed);
    let logits = ctx.logits(Tensor::cat(vec![batch.labelled, x.clone()], 0));
    let (labelled, unlabelled) = split_rows(logits, b);
    let adversarial = kl_divergence(ctx.logits(x + r_adv), target);
    let entropy = mean_entropy(unlabelled).mul_scalar(params.entropy_weight);
    StepLoss {
        supervised: supervised_loss(labelled, batch.labels),
        unsupervised: Some(adversarial + entropy),
        pseudo: None,
    }
}

/// The perturbation `r_adv` of every row of `x` (a constant of norm `epsilon` per row; zero
/// where the probe's gradient vanishes), given the model's detached probabilities `target`.
pub fn adversarial_perturbation(
    model: &Sequential,
    x: Tensor<2>,
    target: Tensor<2>,
    params: VatParams,
    seed: u64,
) -> Tensor<2> {
    let [n, d] = x.dims();
    let device = x.device();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise: Vec<f32> = (0..n * d)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let probe = scale_rows(noise, d, params.xi);
    let r = Tensor::<2>::from_data(TensorData::new(probe, [n, d]), &device).require_grad();
    let logits = model.forward_logits(model.reshape_input(x.detach() + r.clone()));
    let grads = kl_divergence(logits, target).backward();
    let g = r
        .grad(&grads)
        .expect("the probe perturbation requires its gradient");
    let adv = scale_rows(host_values(&g), d, params.epsilon);
    Tensor::from_data(TensorData::new(adv, [n, d]), &device)
}

/// Every row of `values` (rows of `d`) rescaled to L2 norm `norm`; all-zero rows stay zero.
fn scale_rows(mut values: Vec<f32>, d: usize, norm: f64) -> Vec<f32> {
    for row in values.chunks_mut(d) {
        let len = row.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
        let factor = if len > 0.0 { norm / len } else { 0.0 };
        row.iter_mut()
            .for_each(|v| *v = (*v as f64 * factor) as f32);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActivationKind, LayerConfig, SequentialConfig};
    use burn::tensor::Device;
    use burn::tensor::activation::softmax;

    #[test]
    fn the_adversarial_perturbation_has_norm_epsilon_and_raises_the_divergence() {
        let device = Device::flex().autodiff();
        device.seed(2);
        let model = SequentialConfig::new()
            .add(LayerConfig::dense(16, ActivationKind::Tanh))
            .add(LayerConfig::dense(3, ActivationKind::Softmax))
            .build(&[5], &device)
            .unwrap();
        let x = Tensor::<2>::random([4, 5], burn::tensor::Distribution::Default, &device);
        let target = softmax(model.forward_logits(model.reshape_input(x.clone())), 1).detach();
        let params = VatParams {
            epsilon: 0.5,
            xi: 1e-3,
            entropy_weight: 0.0,
        };
        let r = adversarial_perturbation(&model, x.clone(), target.clone(), params, 7);
        let values = host_values(&r);
        for row in values.chunks(5) {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 0.5).abs() < 1e-5, "{norm}");
        }
        // The found direction moves the prediction more than random ones of the same norm.
        let kl = |r: Tensor<2>| {
            let logits = model.forward_logits(model.reshape_input(x.clone() + r));
            kl_divergence(logits, target.clone()).into_scalar::<f32>()
        };
        let adversarial = kl(r);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..5 {
            let noise: Vec<f32> = (0..20).map(|_| StandardNormal.sample(&mut rng)).collect();
            let random =
                Tensor::from_data(TensorData::new(scale_rows(noise, 5, 0.5), [4, 5]), &device);
            assert!(adversarial > kl(random), "{adversarial}");
        }
    }
}
