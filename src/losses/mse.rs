//! Mean squared error, for regression heads.

use burn::nn::loss::{MseLoss, Reduction};
use burn::tensor::Tensor;

/// Mean squared error over every element, using Burn's [`MseLoss`].
///
/// ```text
/// mse = 1/(N·D) Σ_n Σ_d (pred[n,d] - target[n,d])²
/// ```
///
/// The seed's regression loss `E = ½ Σ_n ‖d_n - y_n‖²` differs only by the constant ½ and
/// the mean in place of the sum (seed 004, 出力層の設計と誤差関数); Keras and PyTorch use the
/// mean as here.
///
/// # Shapes
/// - `pred`, `target`: `[batch, dims]` (the same shape)
/// - returns `[1]`
pub fn mse(pred: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    MseLoss::new().forward(pred, target, Reduction::Mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_close, scalar, t2};

    #[test]
    fn mse_matches_hand_arithmetic() {
        // diffs: 1-0=1, 2-4=-2, -1-(-1)=0, 0.5-2=-1.5
        // squares 1 + 4 + 0 + 2.25 = 7.25, mean over 4 elements = 1.8125
        let pred = t2([[1.0, 2.0], [-1.0, 0.5]]);
        let target = t2([[0.0, 4.0], [-1.0, 2.0]]);
        assert_close(scalar(mse(pred, target)), 1.8125, 1e-6);
    }

    #[test]
    fn mse_of_identical_tensors_is_zero() {
        let x = t2([[0.3, -7.0, 2.5]]);
        assert_close(scalar(mse(x.clone(), x)), 0.0, 0.0);
    }
}
