//! DANN's network (Ganin & Lempitsky 2015): the model's first `trunk` layers extract features,
//! its remaining layers classify them, and a domain classifier reads the same features through
//! the gradient reversal layer.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::gradient_reversal;
use crate::model::{Sequential, SequentialConfig, TensorFn};
use crate::{Error, Result};

/// The classifier being adapted and its domain classifier.
#[derive(Module, Debug)]
pub struct DannModel {
    /// Feature extractor + class head: the run's model, saved and used on its own.
    pub net: Sequential,
    /// Source-or-target classifier on the feature extractor's output.
    pub domain: Sequential,
    #[module(skip)]
    trunk: usize,
}

/// The gradient reversal layer as a rank-generic function.
struct Reverse(f64);

impl TensorFn for Reverse {
    fn apply<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        gradient_reversal(x, self.0)
    }
}

/// The shape of the features the domain classifier `head` reads: the output of the first
/// `trunk` layers of `net_config` for samples of `input_shape`. Checks that a class head
/// remains above the trunk and that `head` fits the features and ends in two values.
pub fn dann_features(
    net_config: &SequentialConfig,
    input_shape: &[usize],
    trunk: usize,
    head: &SequentialConfig,
) -> Result<Vec<usize>> {
    let shapes = net_config.check(input_shape)?;
    let features = shapes
        .get(trunk.wrapping_sub(1))
        .filter(|_| trunk < shapes.len())
        .ok_or_else(|| {
            Error::invalid(
                "method.trunk",
                format!(
                    "must be in 1..{}: the feature extractor's layers, leaving the class head",
                    shapes.len()
                ),
            )
        })?;
    let head_shapes = head.check(features).map_err(|e| {
        Error::invalid(
            "method.domain_layers",
            format!("the domain classifier does not fit the features of shape {features:?}: {e}"),
        )
    })?;
    if head_shapes.last().map(|s| s.iter().product::<usize>()) != Some(2) {
        return Err(Error::invalid(
            "method.domain_layers",
            format!(
                "the domain classifier's last layer must output 2 values (source, target), it outputs {:?}",
                head_shapes.last()
            ),
        ));
    }
    Ok(features.clone())
}

impl DannModel {
    /// Builds the domain classifier `head` on the output of `net`'s first `trunk` layers;
    /// `net_config` is `net`'s configuration (for that output's shape). The head must end in two
    /// units (source, target).
    pub fn new(
        net: Sequential,
        net_config: &SequentialConfig,
        trunk: usize,
        head: &SequentialConfig,
        device: &Device,
    ) -> Result<Self> {
        let features = dann_features(net_config, net.input_shape(), trunk, head)?;
        let domain = head.build(&features, device)?;
        Ok(Self { net, domain, trunk })
    }

    /// Class logits and domain logits of the flat batch `x`; gradients from the domain logits
    /// reach the feature extractor multiplied by `-lambda`.
    pub fn forward(&self, x: Tensor<2>, lambda: f64) -> (Tensor<2>, Tensor<2>) {
        let features = self
            .net
            .forward_prefix(self.net.reshape_input(x), self.trunk);
        let domain = self
            .domain
            .forward_logits(features.clone().map(Reverse(lambda)));
        (self.net.forward_from(features, self.trunk), domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActivationKind, LayerConfig};
    use burn::tensor::Distribution;

    fn mlp() -> SequentialConfig {
        SequentialConfig::new()
            .add(LayerConfig::dense(6, ActivationKind::Relu))
            .add(LayerConfig::dense(3, ActivationKind::Softmax))
    }

    fn head(units: usize) -> SequentialConfig {
        SequentialConfig::new()
            .add(LayerConfig::dense(5, ActivationKind::Relu))
            .add(LayerConfig::dense(units, ActivationKind::Softmax))
    }

    #[test]
    fn the_domain_loss_pushes_the_features_against_the_domain_classifier() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let net = mlp().build(&[4], &device).unwrap();
        let model = DannModel::new(net, &mlp(), 1, &head(2), &device).unwrap();
        let x = Tensor::<2>::random([8, 4], Distribution::Normal(0.0, 1.0), &device);
        let (class, domain) = model.forward(x.clone(), 0.5);
        assert_eq!(class.dims(), [8, 3]);
        assert_eq!(domain.dims(), [8, 2]);
        // The input's gradient from the domain loss alone is -λ times what it is without the
        // reversal (λ = -1 makes the layer the identity in both directions).
        let grad_of = |lambda: f64| -> Vec<f32> {
            let x = x.clone().require_grad();
            let (_, d) = model.forward(x.clone(), lambda);
            let grads = (d * Tensor::<2>::from_floats([[1.0, -2.0]], &device))
                .sum()
                .backward();
            x.grad(&grads).unwrap().into_data().iter::<f32>().collect()
        };
        let (reversed, plain) = (grad_of(0.5), grad_of(-1.0));
        assert!(plain.iter().any(|g| g.abs() > 1e-6));
        for (r, p) in reversed.iter().zip(&plain) {
            assert!((r + 0.5 * p).abs() < 1e-5, "{r} vs {}", -0.5 * p);
        }
        // The class logits do not pass through the reversal.
        let xg = x.clone().require_grad();
        let (c, _) = model.forward(xg.clone(), 0.5);
        let with = c.sum().backward();
        let xg2 = x.clone().require_grad();
        let (c2, _) = model.forward(xg2.clone(), -1.0);
        let without = c2.sum().backward();
        let a: Vec<f32> = xg.grad(&with).unwrap().into_data().iter::<f32>().collect();
        let b: Vec<f32> = xg2
            .grad(&without)
            .unwrap()
            .into_data()
            .iter::<f32>()
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn a_domain_head_without_two_outputs_or_a_trunk_out_of_range_is_refused() {
        let device = Device::flex();
        let build = || mlp().build(&[4], &device).unwrap();
        let err = DannModel::new(build(), &mlp(), 1, &head(3), &device)
            .unwrap_err()
            .to_string();
        assert!(err.contains("method.domain_layers"), "{err}");
        let err = DannModel::new(build(), &mlp(), 2, &head(2), &device)
            .unwrap_err()
            .to_string();
        assert!(err.contains("method.trunk"), "{err}");
    }
}
