//! Kullback-Leibler divergence of the model's softmax from a target distribution.

use burn::nn::loss::{KLDivLossConfig, Reduction};
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

/// `KL(q ‖ p)` where `p = softmax(logits)` is the student's distribution and `q` the
/// target's, summed over classes and averaged over the batch, using Burn's `KLDivLoss`
/// (PyTorch's `kl_div(log_softmax(x), q, reduction="batchmean")`).
///
/// ```text
/// loss = 1/N Σ_n Σ_k q_nk · (log q_nk - log softmax(x_n)_k)      (0·log 0 = 0)
/// ```
///
/// It differs from the soft-target cross-entropy by the targets' entropy, a constant for
/// the model, so both give the same gradients; KL is 0 when the distributions agree.
///
/// # Shapes
/// - `logits_p_student`, `target_probs`: `[batch, classes]`
/// - returns `[1]`
pub fn kl_divergence(logits_p_student: Tensor<2>, target_probs: Tensor<2>) -> Tensor<1> {
    KLDivLossConfig::new().init().forward(
        log_softmax(logits_p_student, 1),
        target_probs,
        Reduction::BatchMean,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::soft_target_cross_entropy;
    use crate::losses::test_util::{assert_close, scalar, t2};
    use burn::tensor::activation::softmax;

    #[test]
    fn kl_matches_numpy_with_a_zero_target() {
        // (lsm as in sparse_categorical_cross_entropy.rs)
        // p = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        // q = np.array([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]])
        // k = np.where(q > 0, q * (np.log(q) - lsm(p)), 0.0)
        // print(k.sum(axis=1).mean())  -> 0.24170902924398568
        let logits = t2([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]);
        let q = t2([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]]);
        assert_close(
            scalar(kl_divergence(logits, q)),
            0.241_709_029_243_985_68,
            1e-5,
        );
    }

    #[test]
    fn kl_of_a_distribution_from_itself_is_zero() {
        let logits = t2([[0.3, -1.2, 2.0], [5.0, 5.0, -5.0]]);
        let q = softmax(logits.clone(), 1);
        assert_close(scalar(kl_divergence(logits, q)), 0.0, 1e-6);
    }

    #[test]
    fn kl_is_cross_entropy_minus_target_entropy() {
        // q = [0.5, 0.5]: H(q) = ln 2
        let logits = t2([[2.0, -1.0]]);
        let q = t2([[0.5, 0.5]]);
        let kl = scalar(kl_divergence(logits.clone(), q.clone()));
        let ce = scalar(soft_target_cross_entropy(logits, q));
        assert_close(kl, ce - std::f64::consts::LN_2, 1e-6);
    }
}
