//! How far a prediction is from its target distribution (seed 003 19.3.5: the squared L2
//! distance of the probabilities, whose gradient vanishes on gross disagreements, or the KL
//! divergence, on the scale of the labelled cross-entropy).

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

use crate::losses::{kl_divergence, mse};

/// The consistency measure of the Pi-model and the mean teacher.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Consistency {
    /// Mean squared difference of the probabilities (over samples and classes).
    #[default]
    Mse,
    /// `KL(target || prediction)`, averaged over samples.
    Kl,
}

impl Consistency {
    /// The distance of `softmax(logits)` from `target` (probabilities, constants).
    ///
    /// # Shapes
    /// - `logits`, `target`: `[n, classes]`; returns `[1]`
    pub fn loss(self, logits: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
        match self {
            Self::Mse => mse(softmax(logits, 1), target),
            Self::Kl => kl_divergence(logits, target),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn both_measures_vanish_on_agreement_and_grow_with_disagreement() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(TensorData::new(vec![2.0f32, 0.0], [1, 2]), &device);
        let p = softmax(logits.clone(), 1);
        let flipped = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0], [1, 2]), &device);
        for c in [Consistency::Mse, Consistency::Kl] {
            let same = c.loss(logits.clone(), p.clone()).into_scalar::<f32>();
            let far = c.loss(logits.clone(), flipped.clone()).into_scalar::<f32>();
            assert!(same.abs() < 1e-6, "{c:?} {same}");
            assert!(far > 0.1, "{c:?} {far}");
        }
        // MSE by hand: p = (0.8808, 0.1192) against (0, 1): (0.8808^2 * 2) / 2.
        let p0 = 1.0 / (1.0 + (-2.0f32).exp());
        let got = Consistency::Mse.loss(logits, flipped).into_scalar::<f32>();
        assert!((got - p0 * p0).abs() < 1e-5, "{got}");
    }
}
