//! Attention over encoder states with a source padding mask.
//!
//! ```text
//! additive (Bahdanau)  e_j = vᵀ tanh(W_q q + W_k k_j)
//! dot (Luong general)  e_j = qᵀ (W_k k_j)
//! α = softmax(e with padded positions at -∞),   context = Σ_j α_j k_j
//! ```

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor};

use super::config::AttentionKind;

/// Score given to padded positions before the softmax (its exponential is exactly 0).
const MASKED: f32 = -1.0e9;

/// Attention of a decoder state (the query) over encoder states (keys and values).
#[derive(Module, Debug)]
pub struct Attention {
    /// `W_k`: encoder states to the scoring space (`[d_enc, d_attn]`).
    pub key: Linear,
    /// `W_q` of additive attention (`[d_query, d_attn]`); absent for dot attention.
    pub query: Option<Linear>,
    /// `v` of additive attention (`[d_attn, 1]`); absent for dot attention.
    pub score: Option<Linear>,
}

impl Attention {
    /// Additive attention with `d_attn` hidden units, or dot attention (then the keys are
    /// projected to `d_query` and `d_attn` is unused).
    pub fn new(
        kind: AttentionKind,
        d_query: usize,
        d_enc: usize,
        d_attn: usize,
        device: &Device,
    ) -> Self {
        match kind {
            AttentionKind::Additive => Self {
                key: LinearConfig::new(d_enc, d_attn).init(device),
                query: Some(
                    LinearConfig::new(d_query, d_attn)
                        .with_bias(false)
                        .init(device),
                ),
                score: Some(LinearConfig::new(d_attn, 1).with_bias(false).init(device)),
            },
            AttentionKind::Dot => Self {
                key: LinearConfig::new(d_enc, d_query)
                    .with_bias(false)
                    .init(device),
                query: None,
                score: None,
            },
        }
    }

    /// `W_k k` for every encoder state, computed once per sequence: `[b, t, d] -> [b, t, a]`.
    pub fn keys(&self, encoder: Tensor<3>) -> Tensor<3> {
        self.key.forward(encoder)
    }

    /// Attends with `query` `[b, d_query]` over projected `keys` `[b, t, a]` (from
    /// [`keys`](Self::keys)) and `values` `[b, t, d_enc]`; `pad` `[b, t]` is true at
    /// padded source positions. Returns the context `[b, d_enc]` and the weights `[b, t]`,
    /// which sum to one over the unpadded positions and are zero on padded ones.
    pub fn forward(
        &self,
        query: Tensor<2>,
        keys: Tensor<3>,
        values: Tensor<3>,
        pad: Tensor<2, Bool>,
    ) -> (Tensor<2>, Tensor<2>) {
        let [b, t, _] = keys.dims();
        let scores = match (&self.query, &self.score) {
            (Some(wq), Some(v)) => {
                let q = wq.forward(query).unsqueeze_dim::<3>(1);
                v.forward((keys + q).tanh()).reshape([b, t])
            }
            _ => {
                // [b, 1, a] x [b, a, t] -> [b, 1, t]
                let q = query.unsqueeze_dim::<3>(1);
                q.matmul(keys.swap_dims(1, 2)).reshape([b, t])
            }
        };
        let weights = masked_softmax(scores, pad);
        let d = values.dims()[2];
        let context = weights
            .clone()
            .unsqueeze_dim::<3>(1)
            .matmul(values)
            .reshape([b, d]);
        (context, weights)
    }
}

/// Softmax over dimension 1 of `scores` `[b, t]`, with zero weight where `pad` is true.
pub fn masked_softmax(scores: Tensor<2>, pad: Tensor<2, Bool>) -> Tensor<2> {
    softmax(scores.mask_fill(pad, MASKED), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData};

    fn check(kind: AttentionKind) {
        let device = Device::flex();
        device.seed(1);
        let att = Attention::new(kind, 5, 6, 7, &device);
        let enc = Tensor::<3>::random([2, 4, 6], Distribution::Normal(0.0, 1.0), &device);
        let q = Tensor::<2>::random([2, 5], Distribution::Normal(0.0, 1.0), &device);
        let pad = Tensor::<2, Bool>::from_data(
            TensorData::from([[false, false, false, false], [false, false, true, true]]),
            &device,
        );
        let (context, weights) = att.forward(q, att.keys(enc.clone()), enc.clone(), pad);
        assert_eq!(context.dims(), [2, 6]);
        let w = weights.into_data().try_to_vec::<f32>().unwrap();
        for row in w.chunks(4) {
            let sum: f32 = row.iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "{row:?}");
            assert!(row.iter().all(|&x| x >= 0.0));
        }
        assert_eq!(&w[6..8], &[0.0, 0.0]);
        assert!(w[4] > 0.0 && w[5] > 0.0);
        // The context is the weighted sum of the values.
        let e = enc.into_data().try_to_vec::<f32>().unwrap();
        let c = context.into_data().try_to_vec::<f32>().unwrap();
        for k in 0..6 {
            let want: f32 = (0..4).map(|j| w[4 + j] * e[24 + j * 6 + k]).sum();
            assert!((c[6 + k] - want).abs() < 1e-5);
        }
    }

    #[test]
    fn additive_weights_sum_to_one_and_skip_padding() {
        check(AttentionKind::Additive);
    }

    #[test]
    fn dot_weights_sum_to_one_and_skip_padding() {
        check(AttentionKind::Dot);
    }
}
