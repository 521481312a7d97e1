//! Transformer encoder stack (Vaswani et al. 2017, arXiv:1706.03762; seed 001, Transformer):
//! Burn's `TransformerEncoder` with the sequence's padding mask as its key-padding mask, so no
//! position attends to padding.
//!
//! ```text
//! Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V      M = -inf at padded keys
//! block (post-norm):  x = LN(x + MHA(x));  x = LN(x + FFN(x))
//! block (pre-norm):   x = x + MHA(LN(x));  x = x + FFN(LN(x))
//! causal:             M = -inf also where key position > query position (GPT, decoder only)
//! ```

use burn::module::Module;
use burn::nn::attention::{MultiHeadAttention, generate_autoregressive_mask};
use burn::nn::transformer::{
    TransformerEncoder as BurnEncoder, TransformerEncoderConfig, TransformerEncoderInput,
    TransformerEncoderLayer,
};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor};

use super::features::Features;
use super::tuning::{BlockTuning, TuningConfig, adapt, with_update};

/// The shape of an encoder stack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderShape {
    /// Attention heads (they must divide the model size).
    pub heads: usize,
    /// Hidden size of the feed-forward part.
    pub ff_dim: usize,
    /// Number of blocks.
    pub layers: usize,
    /// Dropout in attention, feed-forward and residual paths.
    pub dropout: f64,
    /// Layer norm before each sub-block instead of after.
    pub norm_first: bool,
    /// No position attends to a later one.
    pub causal: bool,
}

/// A stack of self-attention + feed-forward blocks on `[batch, time, d]`.
#[derive(Module, Debug)]
pub struct TransformerEncoder {
    /// Burn's encoder.
    pub inner: BurnEncoder,
    /// Adapters or low-rank updates, one entry per block (empty: none).
    pub tuning: Vec<BlockTuning>,
    /// Whether attention is causal.
    #[module(skip)]
    causal: bool,
}

impl TransformerEncoder {
    /// A stack of `shape.layers` blocks on vectors of size `d`.
    pub fn new(d: usize, shape: &EncoderShape, device: &Device) -> Self {
        Self {
            inner: TransformerEncoderConfig::new(d, shape.ff_dim, shape.heads, shape.layers)
                .with_dropout(shape.dropout)
                .with_norm_first(shape.norm_first)
                .init(device),
            causal: shape.causal,
            tuning: Vec::new(),
        }
    }

    /// This stack with fresh `tuning` modules in every block (the identity at start).
    pub fn with_tuning(mut self, tuning: &TuningConfig, device: &Device) -> Self {
        let d = self.inner.d_model;
        self.tuning = (0..self.inner.layers.len())
            .map(|_| tuning.block(d, device))
            .collect();
        self
    }

    /// # Shapes
    /// - input and output: `[batch, time, d]` (the mask passes through)
    pub fn forward(&self, x: Features) -> Features {
        let (values, mask) = x.into_sequence();
        let [b, t, _] = values.dims();
        let device = values.device();
        let pad = mask.as_ref().map(|m| m.clone().equal_elem(0.0)); // true = padding
        let attn = self
            .causal
            .then(|| generate_autoregressive_mask(b, t, &device));
        let values = if self.tuning.is_empty() {
            let mut input = TransformerEncoderInput::new(values);
            if let Some(p) = pad {
                input = input.mask_pad(p);
            }
            if let Some(a) = attn {
                input = input.mask_attn(a);
            }
            self.inner.forward(input)
        } else {
            let mut x = values;
            for (layer, tune) in self.inner.layers.iter().zip(&self.tuning) {
                x = tuned_block(layer, tune, x, pad.clone(), attn.clone());
            }
            x
        };
        Features::Sequence { values, mask }
    }
}

/// One of Burn's encoder blocks, computed as Burn does, with the block's tuning modules in
/// place.
fn tuned_block(
    layer: &TransformerEncoderLayer,
    tune: &BlockTuning,
    x: Tensor<3>,
    pad: Option<Tensor<2, Bool>>,
    attn: Option<Tensor<3, Bool>>,
) -> Tensor<3> {
    let residual = if layer.norm_first {
        layer.norm_2.forward(x.clone())
    } else {
        x.clone()
    };
    let context = adapt(
        &tune.attention,
        attention(&layer.mha, tune, residual, pad, attn),
    );
    let mut x = x + layer.dropout.forward(context);
    let residual = if layer.norm_first {
        layer.norm_1.forward(x.clone())
    } else {
        x = layer.norm_1.forward(x);
        x.clone()
    };
    let ff = adapt(&tune.feed_forward, layer.pwff.forward(residual));
    let mut x = x + layer.dropout.forward(ff);
    if !layer.norm_first {
        x = layer.norm_2.forward(x);
    }
    x
}

/// Multi-head self-attention as Burn computes it, with low-rank updates of the query and value
/// projections.
fn attention(
    mha: &MultiHeadAttention,
    tune: &BlockTuning,
    h: Tensor<3>,
    pad: Option<Tensor<2, Bool>>,
    attn: Option<Tensor<3, Bool>>,
) -> Tensor<3> {
    let [b, t, d] = h.dims();
    let (heads, dk) = (mha.n_heads, mha.d_k);
    let split = |y: Tensor<3>| y.reshape([b, t, heads, dk]).swap_dims(1, 2);
    let q = split(with_update(
        &tune.query,
        mha.query.forward(h.clone()),
        h.clone(),
    ));
    let k = split(mha.key.forward(h.clone()));
    let v = split(with_update(&tune.value, mha.value.forward(h.clone()), h));
    let mut scores = q.matmul(k.transpose()).div_scalar((dk as f32).sqrt());
    if let Some(p) = pad {
        scores = scores.mask_fill(p.reshape([b, 1, 1, t]), mha.min_float);
    }
    if let Some(a) = attn {
        scores = scores.mask_fill(a.reshape([b, 1, t, t]), mha.min_float);
    }
    let weights = mha.dropout.forward(softmax(scores, 3));
    let context = weights.matmul(v).swap_dims(1, 2).reshape([b, t, d]);
    mha.output.forward(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig};
    use burn::tensor::{Distribution, Tensor};

    fn shape(causal: bool) -> EncoderShape {
        EncoderShape {
            heads: 2,
            ff_dim: 16,
            layers: 2,
            dropout: 0.1,
            norm_first: false,
            causal,
        }
    }

    #[test]
    fn fresh_adapters_and_low_rank_updates_leave_the_outputs_unchanged() {
        let device = Device::flex();
        device.seed(6);
        for norm_first in [false, true] {
            for causal in [false, true] {
                let shape = EncoderShape {
                    dropout: 0.0,
                    norm_first,
                    ..shape(causal)
                };
                let plain = TransformerEncoder::new(8, &shape, &device);
                let x = Tensor::<3>::random([2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
                let mask =
                    Tensor::<2>::from_floats([[1., 1., 1., 1., 1.], [1., 1., 1., 0., 0.]], &device);
                let run = |enc: &TransformerEncoder| {
                    let (out, _) = enc
                        .forward(Features::Sequence {
                            values: x.clone(),
                            mask: Some(mask.clone()),
                        })
                        .into_sequence();
                    out.into_data().try_to_vec::<f32>().unwrap()
                };
                let base = run(&plain);
                for tuning in [
                    TuningConfig::Adapter { bottleneck: 3 },
                    TuningConfig::Lora {
                        rank: 2,
                        alpha: 4.0,
                    },
                ] {
                    let tuned = plain.clone().with_tuning(&tuning, &device);
                    assert_eq!(tuned.tuning.len(), 2);
                    let out = run(&tuned);
                    for (p, q) in base.iter().zip(&out) {
                        assert!((p - q).abs() < 1e-5, "{tuning:?} {norm_first} {causal}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_causal_stack_never_looks_ahead() {
        let device = Device::flex();
        device.seed(3);
        let enc = TransformerEncoder::new(8, &shape(true), &device);
        let x = Tensor::<3>::random([1, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let noise = Tensor::<3>::random([1, 2, 8], Distribution::Normal(0.0, 1.0), &device);
        // Perturbing the last two steps leaves the first three outputs unchanged ...
        let y = Tensor::cat(vec![x.clone().slice([0..1, 0..3, 0..8]), noise], 1);
        let run = |v: Tensor<3>| {
            let (out, _) = enc.forward(Features::sequence(v)).into_sequence();
            out.into_data().try_to_vec::<f32>().unwrap()
        };
        let (a, b) = (run(x.clone()), run(y));
        for (p, q) in a[..24].iter().zip(&b[..24]) {
            assert!((p - q).abs() < 1e-5, "{a:?} vs {b:?}");
        }
        // ... and changes the later ones; without the causal mask, the early ones change too.
        assert!(
            a[24..]
                .iter()
                .zip(&b[24..])
                .any(|(p, q)| (p - q).abs() > 1e-3)
        );
        let full = TransformerEncoder::new(8, &shape(false), &device);
        let noise = Tensor::<3>::random([1, 2, 8], Distribution::Normal(0.0, 1.0), &device);
        let z = Tensor::cat(vec![x.clone().slice([0..1, 0..3, 0..8]), noise], 1);
        let run_full = |v: Tensor<3>| {
            let (out, _) = full.forward(Features::sequence(v)).into_sequence();
            out.into_data().try_to_vec::<f32>().unwrap()
        };
        let (c, d) = (run_full(x), run_full(z));
        assert!(
            c[..24]
                .iter()
                .zip(&d[..24])
                .any(|(p, q)| (p - q).abs() > 1e-3)
        );
    }

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
        let enc = TransformerEncoder::new(8, &shape(false), &device);
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
