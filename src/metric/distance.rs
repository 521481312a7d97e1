//! Pairwise distances between the rows of an embedding batch, differentiable.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// How far apart two embeddings are.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// Euclidean distance `|a - b|`.
    #[default]
    L2,
    /// Squared Euclidean distance `|a - b|^2` (FaceNet's triplet loss, seed 004).
    SquaredL2,
    /// `1 - cos(a, b)`.
    Cosine,
}

/// `[batch, batch]` distances between every pair of rows of `x` `[batch, dims]`.
pub fn pairwise_distances(x: Tensor<2>, kind: Distance) -> Tensor<2> {
    match kind {
        Distance::SquaredL2 => squared_l2(x),
        // The square root's gradient is infinite at 0 (every diagonal entry): clamp first.
        Distance::L2 => squared_l2(x).clamp_min(1e-12).sqrt(),
        Distance::Cosine => {
            let norm = x.clone().powi_scalar(2).sum_dim(1).clamp_min(1e-24).sqrt(); // [b, 1]
            let unit = x / norm;
            unit.clone().matmul(unit.transpose()).neg() + 1.0
        }
    }
}

/// `sum_k (a_k - b_k)^2` from the differences themselves: exact for near-identical rows, where
/// `|a|^2 + |b|^2 - 2 a.b` would leave rounding noise (1e-4 after the square root). Memory
/// `batch^2 x dims`, fine for the batches metric learning uses.
fn squared_l2(x: Tensor<2>) -> Tensor<2> {
    let [b, d] = x.dims();
    let diff = x.clone().reshape([b, 1, d]) - x.reshape([1, b, d]); // [b, b, d]
    diff.powi_scalar(2).sum_dim(2).reshape([b, b])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn rows(v: &[f32], n: usize) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(v.to_vec(), [n, v.len() / n]),
            &Device::flex(),
        )
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().iter::<f32>().collect()
    }

    #[test]
    fn hand_computed_distances() {
        let x = rows(&[0.0, 0.0, 3.0, 4.0, 0.0, 2.0], 3);
        let sq = values(pairwise_distances(x.clone(), Distance::SquaredL2));
        assert_eq!(sq, vec![0.0, 25.0, 4.0, 25.0, 0.0, 13.0, 4.0, 13.0, 0.0]);
        let l2 = values(pairwise_distances(x, Distance::L2));
        assert!((l2[1] - 5.0).abs() < 1e-5 && (l2[5] - 13f32.sqrt()).abs() < 1e-5);
        assert!(l2[0] < 1e-5);
        let c = values(pairwise_distances(
            rows(&[1.0, 0.0, 0.0, 2.0, -3.0, 0.0], 3),
            Distance::Cosine,
        ));
        let want = [0.0, 1.0, 2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0];
        for (a, b) in c.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{c:?}");
        }
    }

    #[test]
    fn l2_has_finite_gradients_on_the_diagonal() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 1.0, 2.0], [2, 2]),
            &device,
        )
        .require_grad();
        let g = pairwise_distances(x.clone(), Distance::L2).sum().backward();
        assert!(
            x.grad(&g)
                .unwrap()
                .into_data()
                .iter::<f32>()
                .all(f32::is_finite)
        );
    }
}
