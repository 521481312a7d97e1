//! Prototypical networks (Snell, Swersky & Zemel 2017; SPEC T4): a class is the mean of its
//! support embeddings, and a query is classified by a softmax over minus its squared distances
//! to those prototypes.

use burn::tensor::{Int, Tensor, TensorData};

use crate::losses::sparse_categorical_cross_entropy;

/// The episode loss and the number of queries classified correctly.
///
/// `emb` is `[ways * (shots + queries), dims]`, class by class, each class's `shots` support
/// embeddings before its `queries` query embeddings (the layout of
/// [`ClassBalancedSampler`](crate::data::ClassBalancedSampler)).
pub fn prototypical_loss(
    emb: Tensor<2>,
    ways: usize,
    shots: usize,
    queries: usize,
) -> (Tensor<1>, usize) {
    let [_, d] = emb.dims();
    let per = shots + queries;
    let x = emb.reshape([ways, per, d]);
    let prototypes = x
        .clone()
        .slice([0..ways, 0..shots, 0..d])
        .mean_dim(1)
        .reshape([1, ways, d]);
    let q = x
        .slice([0..ways, shots..per, 0..d])
        .reshape([ways * queries, 1, d]);
    let logits = (q - prototypes)
        .powi_scalar(2)
        .sum_dim(2)
        .reshape([ways * queries, ways])
        .neg();
    let truth: Vec<i64> = (0..ways as i64)
        .flat_map(|k| std::iter::repeat_n(k, queries))
        .collect();
    let device = logits.device();
    let labels = Tensor::<1, Int>::from_data(TensorData::new(truth, [ways * queries]), &device);
    let correct = logits
        .clone()
        .argmax(1)
        .reshape([ways * queries])
        .equal(labels.clone())
        .int()
        .sum()
        .into_scalar::<i64>() as usize;
    (sparse_categorical_cross_entropy(logits, labels), correct)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn hand_computed_episode() {
        // 2 ways, 1 shot, 1 query, 1-D: prototypes 0 and 2; queries 0.5 (class 0) and 3 (class 1).
        // Query 0.5: logits -(0.25), -(2.25) -> loss ln(1 + e^-2). Query 3: -9, -1 -> ln(1 + e^-8).
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![0.0f32, 0.5, 2.0, 3.0], [4, 1]),
            &Device::flex(),
        );
        let (loss, correct) = prototypical_loss(x, 2, 1, 1);
        let want = ((1.0 + (-2.0f64).exp()).ln() + (1.0 + (-8.0f64).exp()).ln()) / 2.0;
        assert!((loss.into_scalar::<f32>() as f64 - want).abs() < 1e-6);
        assert_eq!(correct, 2);
    }
}
