//! Cross-entropy with one-hot or probability targets.

use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

/// Softmax cross-entropy between logits and a target distribution per sample (one-hot
/// rows, label-smoothed rows or any probabilities summing to 1), averaged over the batch.
///
/// ```text
/// loss = -1/N Σ_n Σ_k q_nk · log softmax(x_n)_k
/// ```
///
/// The seed's `E = -Σ_n Σ_k d_nk log y_k` (seed 004) divided by the batch size. Burn's
/// `CrossEntropyLoss` only takes integer labels, so the dense form is written here with
/// `log_softmax` (stable for large logits).
///
/// # Shapes
/// - `logits`, `target_probs`: `[batch, classes]`
/// - returns `[1]`
pub fn categorical_cross_entropy(logits: Tensor<2>, target_probs: Tensor<2>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let per_sample = (target_probs * log_softmax(logits, 1)).sum_dim(1); // [batch, 1]
    per_sample.sum().neg().div_scalar(batch as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::sparse_categorical_cross_entropy;
    use crate::losses::test_util::{assert_close, labels, scalar, t2};

    const LOGITS: [[f32; 3]; 2] = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]];

    #[test]
    fn categorical_ce_with_probabilities_matches_numpy() {
        // (lsm as in sparse_categorical_cross_entropy.rs)
        // q = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
        // print(-(q * lsm(x)).sum(axis=1).mean())  -> 1.6301041117000608
        let q = t2([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]);
        let loss = categorical_cross_entropy(t2(LOGITS), q);
        assert_close(scalar(loss), 1.630_104_111_700_060_8, 1e-5);
    }

    #[test]
    fn one_hot_targets_give_sparse_ce() {
        let onehot = t2([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        let dense = scalar(categorical_cross_entropy(t2(LOGITS), onehot));
        let sparse = scalar(sparse_categorical_cross_entropy(
            t2(LOGITS),
            labels(&[0, 2]),
        ));
        assert_close(dense, sparse, 1e-6);
    }

    #[test]
    fn categorical_ce_is_finite_for_large_logits() {
        let loss = categorical_cross_entropy(
            t2([[100.0, -100.0], [-100.0, 100.0]]),
            t2([[1.0, 0.0], [1.0, 0.0]]),
        );
        assert_close(scalar(loss), 100.0, 1e-3);
    }
}
