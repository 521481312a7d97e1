//! Binary cross-entropy from logits, in the numerically stable form.

use burn::tensor::Tensor;

/// Binary cross-entropy of sigmoid outputs, computed from the logits `x` with targets `y`
/// in `[0, 1]`, averaged over every element.
///
/// ```text
/// bce(x, y) = -[y·log σ(x) + (1-y)·log(1-σ(x))]
///           = max(x, 0) - x·y + log(1 + exp(-|x|))
/// ```
///
/// The second form never evaluates `exp` of a positive number, so logits of ±100 give a
/// finite loss and gradient (it is the form of PyTorch's `BCEWithLogitsLoss` and
/// TensorFlow's `sigmoid_cross_entropy_with_logits`). Burn's `BinaryCrossEntropyLoss`
/// takes integer targets only, so soft targets (label smoothing, pseudo-labels) need this
/// function.
///
/// # Shapes
/// - `logits`, `target`: `[batch, outputs]` (the same shape; usually `outputs = 1`)
/// - returns `[1]`
pub fn binary_cross_entropy_with_logits(logits: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    let positive_part = logits.clone().clamp_min(0.0);
    let softplus_of_neg_abs = logits.clone().abs().neg().exp().log1p();
    (positive_part - logits * target + softplus_of_neg_abs).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_close, scalar, t2};

    #[test]
    fn bce_matches_numpy() {
        // import numpy as np
        // x = np.array([[2.0], [-1.0], [0.0], [0.5]]); y = np.array([[1.0], [0.0], [1.0], [0.3]])
        // p = 1 / (1 + np.exp(-x))
        // print(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
        // -> 0.4893534658253118
        let logits = t2([[2.0], [-1.0], [0.0], [0.5]]);
        let target = t2([[1.0], [0.0], [1.0], [0.3]]);
        let loss = scalar(binary_cross_entropy_with_logits(logits, target));
        assert_close(loss, 0.489_353_465_825_311_8, 1e-6);
    }

    #[test]
    fn bce_at_zero_logit_is_ln_2() {
        // σ(0) = ½ whatever the target: -log ½ = ln 2
        let loss = binary_cross_entropy_with_logits(t2([[0.0, 0.0]]), t2([[1.0, 0.0]]));
        assert_close(scalar(loss), std::f64::consts::LN_2, 1e-6);
    }

    #[test]
    fn bce_is_finite_for_large_logits() {
        // right with confidence: ≈ 0; wrong with confidence: ≈ 100 per element
        let right = binary_cross_entropy_with_logits(t2([[100.0, -100.0]]), t2([[1.0, 0.0]]));
        let wrong = binary_cross_entropy_with_logits(t2([[100.0, -100.0]]), t2([[0.0, 1.0]]));
        assert_close(scalar(right), 0.0, 1e-6);
        assert_close(scalar(wrong), 100.0, 1e-4);
    }
}
