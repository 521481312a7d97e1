//! Multi-label binary cross-entropy: one independent sigmoid per label.

use burn::tensor::Tensor;

use super::binary_cross_entropy_with_logits;

/// Binary cross-entropy for multi-label targets (each sample may have several labels
/// switched on), averaged over labels and then over the batch.
///
/// ```text
/// loss = 1/N Σ_n 1/L Σ_l [max(x_nl, 0) - x_nl·y_nl + log(1 + exp(-|x_nl|))]
/// ```
///
/// With every sample having the same number of labels `L` this is the mean over all
/// elements, so it is [`binary_cross_entropy_with_logits`] applied to the whole
/// `[batch, labels]` matrix; it is a separate name because the recipe and the
/// prediction code treat the two cases differently (one label or many).
///
/// # Shapes
/// - `logits`, `target`: `[batch, labels]`, targets 0/1 (or soft values in `[0, 1]`)
/// - returns `[1]`
pub fn multilabel_bce(logits: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    binary_cross_entropy_with_logits(logits, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_close, scalar, t2};

    #[test]
    fn multilabel_bce_is_mean_of_per_sample_label_means() {
        // import numpy as np
        // x = np.array([[1.0, -2.0, 3.0], [0.0, 4.0, -1.5]])
        // y = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
        // l = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        // print(l.mean(axis=1).mean())  -> 0.7335812394325741
        let logits = t2([[1.0, -2.0, 3.0], [0.0, 4.0, -1.5]]);
        let target = t2([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]);
        let loss = scalar(multilabel_bce(logits, target));
        assert_close(loss, 0.733_581_239_432_574_1, 1e-6);
    }
}
