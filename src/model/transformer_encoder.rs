//! Transformer encoder stack (Vaswani et al. 2017, arXiv:1706.03762; seed 001, Transformer):
//! Burn's `TransformerEncoder` with the sequence's padding mask as its key-padding mask, so no
//! position attends to padding.
//!
//! ```text
//! Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V      M = -inf at padded keys
//! block (post-norm):  x = LN(x + MHA(x));  x = LN(x + FFN(x))
//! block (pre-norm):   x = x + MHA(LN(x));  x = x + FFN(LN(x))
//! ```

use burn::module::Module;
use burn::nn::transformer::{
    TransformerEncoder as BurnEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::tensor::Device;

use super::features::Features;

/// A stack of self-attention + feed-forward blocks on `[batch, time, d]`.
#[derive(Module, Debug)]
pub struct TransformerEncoder {
    /// Burn's encoder.
    pub inner: BurnEncoder,
}

impl TransformerEncoder {
    /// `layers` blocks with `heads` heads (which must divide `d`) and a hidden feed-forward
    /// size `ff_dim`.
    pub fn new(
        d: usize,
        heads: usize,
        ff_dim: usize,
        layers: usize,
        dropout: f64,
        norm_first: bool,
        device: &Device,
    ) -> Self {
        Self {
            inner: TransformerEncoderConfig::new(d, ff_dim, heads, layers)
                .with_dropout(dropout)
                .with_norm_first(norm_first)
                .init(device),
        }
    }

    /// # Shapes
    /// - input and output: `[batch, time, d]` (the mask passes through)
    pub fn forward(&self, x: Features) -> Features {
        let (values, mask) = x.into_sequence();
        let mut input = TransformerEncoderInput::new(values);
        if let Some(m) = &mask {
            input = input.mask_pad(m.clone().equal_elem(0.0)); // true = padding
        }
        Features::Sequence {
            values: self.inner.forward(input),
            mask,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig};
    use burn::tensor::{Distribution, Tensor};

    #[test]
    fn attention_weights_sum_to_one_and_skip_masked_keys() {
        let device = Device::flex();
        device.seed(1);
        let mha = MultiHeadAttentionConfig::new(8, 2).init(&device);
        let x = Tensor::<3>::random([2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        // second sample: last two steps are padding
        let mask = Tensor::<2>::from_floats([[1., 1., 1., 1., 1.], [1., 1., 1., 0., 0.]], &device);
        let out = mha.forward(MhaInput::self_attn(x).mask_pad(mask.equal_elem(0.0)));
        let w: Vec<f32> = out.weights.into_data().try_to_vec().unwrap(); // [2, 2, 5, 5]
        for row in w.chunks(5) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        }
        for row in w[50..].chunks(5) {
            assert!(row[3] < 1e-12 && row[4] < 1e-12, "{row:?}");
        }
    }

    #[test]
    fn padding_values_do_not_reach_real_positions() {
        let device = Device::flex();
        device.seed(2);
        let enc = TransformerEncoder::new(8, 2, 16, 2, 0.1, false, &device);
        let mask = Tensor::<2>::from_floats([[1., 1., 1., 0.]], &device);
        let x = Tensor::<3>::random([1, 4, 8], Distribution::Normal(0.0, 1.0), &device);
        let noise = Tensor::<3>::random([1, 4, 8], Distribution::Normal(0.0, 1.0), &device);
        let keep = mask.clone().unsqueeze_dim::<3>(2); // [1, 4, 1]
        let y = x.clone() * keep.clone() + noise * (keep.neg() + 1.0);
        let run = |v: Tensor<3>| {
            let (out, _) = enc
                .forward(Features::Sequence {
                    values: v,
                    mask: Some(mask.clone()),
                })
                .into_sequence();
            out.slice([0..1, 0..3, 0..8])
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let (a, b) = (run(x), run(y));
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }
}
