//! Cross-entropy with integer class labels.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Int, Tensor};

/// Softmax cross-entropy between logits and integer class labels, averaged over the
/// batch, using Burn's `CrossEntropyLoss` (which takes logits and applies `log_softmax`,
/// so large logits stay finite).
///
/// ```text
/// loss = -1/N Σ_n log softmax(x_n)[label_n]
/// ∂loss/∂x_n = (softmax(x_n) - onehot(label_n)) / N
/// ```
///
/// This is the seed's `E = -Σ_n Σ_k d_nk log y_k` with 1-of-K targets `d` (seed 004,
/// ソフトマックスと交差エントロピー), divided by the batch size.
///
/// # Shapes
/// - `logits`: `[batch, classes]`
/// - `labels`: `[batch]`, values in `0..classes`
/// - returns `[1]`
///
/// # Panics
/// When `labels` is not `[batch]` (Burn's assertion); [`LossConfig::compute`] checks the
/// shapes first and returns an error instead.
///
/// [`LossConfig::compute`]: super::LossConfig::compute
pub fn sparse_categorical_cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_close, device, labels, scalar, t2};
    use burn::tensor::activation::softmax;

    // import numpy as np
    // def lsm(x):
    //     m = x.max(axis=1, keepdims=True)
    //     return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    // x = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]); lab = np.array([0, 2])
    // print(-lsm(x)[np.arange(2), lab].mean())        -> 2.035104111700061
    // print((np.exp(lsm(x)) - np.eye(3)[lab]) / 2)    -> GRAD below
    const LOGITS: [[f32; 3]; 2] = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]];
    const GRAD: [[f64; 3]; 2] = [
        [
            -0.170_499_430_557_016,
            0.121_216_485_352_357,
            0.049_282_945_204_659,
        ],
        [
            0.058_057_267_337_071,
            0.428_988_405_304_229,
            -0.487_045_672_641_299,
        ],
    ];

    #[test]
    fn sparse_ce_matches_numpy() {
        let loss = sparse_categorical_cross_entropy(t2(LOGITS), labels(&[0, 2]));
        assert_close(scalar(loss), 2.035_104_111_700_061, 1e-5);
    }

    #[test]
    fn sparse_ce_is_finite_for_large_logits() {
        // sample 1: right by a margin of 200 -> ≈ 0; sample 2: wrong by 200 -> ≈ 200
        let logits = t2([[100.0, -100.0], [-100.0, 100.0]]);
        let loss = scalar(sparse_categorical_cross_entropy(logits, labels(&[0, 0])));
        assert!(loss.is_finite());
        assert_close(loss, 100.0, 1e-3);
    }

    #[test]
    fn sparse_ce_gradient_is_softmax_minus_onehot_over_batch() {
        let ad = device().autodiff();
        let logits = Tensor::<2>::from_floats(LOGITS, &ad).require_grad();
        let labels = Tensor::<1, Int>::from_ints([0, 2], &ad);
        let grads = sparse_categorical_cross_entropy(logits.clone(), labels).backward();
        let grad = logits.grad(&grads).expect("logits are tracked");
        let grad = grad
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32 gradient");
        let expected = GRAD.iter().flatten();
        for (g, e) in grad.iter().zip(expected) {
            assert_close(f64::from(*g), *e, 1e-6);
        }
        // and the closed form computed with Burn itself
        let onehot = Tensor::<2>::from_floats([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], &device());
        let closed = (softmax(t2(LOGITS), 1) - onehot).div_scalar(2.0);
        let closed = closed.into_data().try_into_vec::<f32>().expect("f32");
        for (g, c) in grad.iter().zip(closed) {
            assert_close(f64::from(*g), f64::from(c), 1e-6);
        }
    }
}
