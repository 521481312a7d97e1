//! Transformer encoder-decoder (Vaswani et al. 2017) on Burn's `TransformerEncoder` and
//! `TransformerDecoder` (pre-norm layers, a final layer norm on each side).
//!
//! Characters are embedded, positions added (fixed sinusoids or a learned embedding per
//! position), the encoder attends over unpadded source positions and the decoder
//! attends causally over its own prefix and over the unpadded encoder states.

use burn::module::Module;
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::transformer::{
    TransformerDecoder, TransformerDecoderConfig, TransformerDecoderInput, TransformerEncoder,
    TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear,
    LinearConfig, PositionalEncoding, PositionalEncodingConfig,
};
use burn::tensor::{Bool, Device, Int, Tensor};

use super::config::{PositionalKind, Seq2SeqConfig};

/// Longest sequence (source or target) the positional encodings cover.
pub const MAX_POSITIONS: usize = 64;

/// Adds positions to embedded sequences.
// Two per model; the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Positions {
    /// Fixed sines and cosines.
    Sinusoidal(PositionalEncoding),
    /// A learned vector per position.
    Learned(Embedding),
}

impl Positions {
    fn new(kind: PositionalKind, d_model: usize, device: &Device) -> Self {
        match kind {
            PositionalKind::Sinusoidal => Self::Sinusoidal(
                PositionalEncodingConfig::new(d_model)
                    .with_max_sequence_size(MAX_POSITIONS)
                    .init(device),
            ),
            PositionalKind::Learned => Self::Learned(
                EmbeddingConfig::new(MAX_POSITIONS, d_model)
                    .with_initializer(burn::nn::Initializer::Normal {
                        mean: 0.0,
                        std: 0.1,
                    })
                    .init(device),
            ),
        }
    }

    /// `x` `[b, t, d]` plus the encodings of positions `0..t`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Sinusoidal(p) => p.forward(x),
            Self::Learned(e) => {
                let [_, t, _] = x.dims();
                let ids = Tensor::<1, Int>::arange(0..t as i64, &x.device()).reshape([1, t]);
                x + e.forward(ids)
            }
        }
    }
}

/// The Transformer encoder-decoder.
#[derive(Module, Debug)]
pub struct TransformerSeq2Seq {
    /// Source character embedding.
    pub src_embed: Embedding,
    /// Target character embedding.
    pub tgt_embed: Embedding,
    /// Source positions.
    pub src_pos: Positions,
    /// Target positions.
    pub tgt_pos: Positions,
    /// Encoder layers.
    pub encoder: TransformerEncoder,
    /// Final norm of the encoder.
    pub encoder_norm: LayerNorm,
    /// Decoder layers.
    pub decoder: TransformerDecoder,
    /// Final norm of the decoder.
    pub decoder_norm: LayerNorm,
    /// Decoder states to target logits.
    pub output: Linear,
    /// Dropout on the embedded inputs.
    pub dropout: Dropout,
    /// Embeddings are multiplied by `√d_model`.
    #[module(skip)]
    pub scale: f64,
}

impl TransformerSeq2Seq {
    /// A new model: `d_model = embed_dim`.
    pub fn new(cfg: &Seq2SeqConfig, src_vocab: usize, tgt_vocab: usize, device: &Device) -> Self {
        let d = cfg.embed_dim;
        let embed = |n: usize| {
            EmbeddingConfig::new(n, d)
                .with_initializer(burn::nn::Initializer::Normal {
                    mean: 0.0,
                    std: (d as f64).powf(-0.5),
                })
                .init(device)
        };
        Self {
            src_embed: embed(src_vocab),
            tgt_embed: embed(tgt_vocab),
            src_pos: Positions::new(cfg.positional, d, device),
            tgt_pos: Positions::new(cfg.positional, d, device),
            encoder: TransformerEncoderConfig::new(d, cfg.ff_dim, cfg.heads, cfg.layers)
                .with_dropout(cfg.dropout)
                .with_norm_first(true)
                .init(device),
            encoder_norm: LayerNormConfig::new(d).init(device),
            decoder: TransformerDecoderConfig::new(d, cfg.ff_dim, cfg.heads, cfg.layers)
                .with_dropout(cfg.dropout)
                .with_norm_first(true)
                .init(device),
            decoder_norm: LayerNormConfig::new(d).init(device),
            output: LinearConfig::new(d, tgt_vocab).init(device),
            dropout: DropoutConfig::new(cfg.dropout).init(),
            scale: (d as f64).sqrt(),
        }
    }

    /// Encoder states `[b, t, d]` of `src` (`pad` true at padding).
    pub fn encode(&self, src: Tensor<2, Int>, pad: Tensor<2, Bool>) -> Tensor<3> {
        let x = self.src_embed.forward(src).mul_scalar(self.scale);
        let x = self.dropout.forward(self.src_pos.forward(x));
        let h = self
            .encoder
            .forward(TransformerEncoderInput::new(x).mask_pad(pad));
        self.encoder_norm.forward(h)
    }

    /// Logits `[b, T, V]` for every prefix of `tgt_in` `[b, T]`, with a causal mask.
    pub fn decode(
        &self,
        memory: Tensor<3>,
        src_pad: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
        tgt_pad: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let [b, t] = tgt_in.dims();
        let device = tgt_in.device();
        let y = self.tgt_embed.forward(tgt_in).mul_scalar(self.scale);
        let y = self.dropout.forward(self.tgt_pos.forward(y));
        let mut input = TransformerDecoderInput::new(y, memory)
            .memory_mask_pad(src_pad)
            .target_mask_attn(generate_autoregressive_mask(b, t, &device));
        if let Some(p) = tgt_pad {
            input = input.target_mask_pad(p);
        }
        let h = self.decoder_norm.forward(self.decoder.forward(input));
        self.output.forward(h)
    }

    /// Teacher forcing: logits `[b, T, V]` for decoder inputs `tgt_in` (`pad_id` pads).
    pub fn forward(
        &self,
        src: Tensor<2, Int>,
        pad: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
        pad_id: usize,
    ) -> Tensor<3> {
        let memory = self.encode(src, pad.clone());
        let tgt_pad = tgt_in.clone().equal_elem(pad_id as i64);
        self.decode(memory, pad, tgt_in, Some(tgt_pad))
    }

    /// Greedy decoding: each sequence's ids up to and including `end` (or `max_len`
    /// ids). The whole prefix is decoded again at each step (the sequences are short).
    pub fn greedy(
        &self,
        src: Tensor<2, Int>,
        pad: Tensor<2, Bool>,
        start: usize,
        end: usize,
        max_len: usize,
    ) -> Vec<Vec<usize>> {
        let [b, _] = src.dims();
        let device = src.device();
        let memory = self.encode(src, pad.clone());
        let mut prefix = Tensor::<2, Int>::full([b, 1], start as i64, &device);
        let mut ids = vec![Vec::new(); b];
        for step in 0..max_len.min(MAX_POSITIONS - 1) {
            let logits = self.decode(memory.clone(), pad.clone(), prefix.clone(), None);
            let [_, _, v] = logits.dims();
            let last = logits.narrow(1, step, 1).reshape([b, v]);
            let next = last.argmax(1);
            let chosen = super::model::int_values(next.clone().reshape([b]));
            prefix = Tensor::cat(vec![prefix, next], 1);
            for (k, &id) in chosen.iter().enumerate() {
                if ids[k].last() != Some(&end) {
                    ids[k].push(id);
                }
            }
            if ids.iter().all(|s| s.last() == Some(&end)) {
                break;
            }
        }
        ids
    }
}
