//! [`Seq2SeqConfig`]: the `[seq2seq]` table of a recipe.

use serde::{Deserialize, Serialize};

use crate::data::DatesConfig;
use crate::{Error, Result};

/// Which encoder-decoder.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Seq2SeqArch {
    /// Bidirectional recurrent encoder, recurrent decoder attending at every step.
    RnnAttention,
    /// Transformer encoder and decoder.
    Transformer,
}

/// How the recurrent decoder scores encoder states.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    /// Bahdanau: `vᵀ tanh(W_q q + W_k k)`.
    #[default]
    Additive,
    /// Luong ("general"): `qᵀ W k`.
    Dot,
}

/// Recurrent cell of the RNN architecture.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum CellKind {
    /// Gated recurrent unit (PyTorch's form, reset applied after the hidden product).
    #[default]
    Gru,
    /// Long short-term memory.
    Lstm,
}

/// Positional information of the Transformer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PositionalKind {
    /// Fixed sines and cosines (Vaswani et al. 2017).
    #[default]
    Sinusoidal,
    /// A learned embedding per position.
    Learned,
}

/// A sequence-to-sequence model, its training and its data.
///
/// ```toml
/// [seq2seq]
/// arch = "rnn_attention"
/// attention = "additive"
/// epochs = 8
/// ```
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Seq2SeqConfig {
    /// Encoder-decoder kind.
    pub arch: Seq2SeqArch,
    /// Attention of the RNN decoder (ignored by the Transformer).
    #[serde(default)]
    pub attention: AttentionKind,
    /// Recurrent cell (ignored by the Transformer).
    #[serde(default)]
    pub cell: CellKind,
    /// Character embedding size (the Transformer's `d_model`).
    #[serde(default = "default_embed_dim")]
    pub embed_dim: usize,
    /// Hidden size of each recurrent direction and of the decoder.
    #[serde(default = "default_hidden")]
    pub hidden: usize,
    /// Attention heads of the Transformer.
    #[serde(default = "default_heads")]
    pub heads: usize,
    /// Transformer layers, in the encoder and in the decoder each.
    #[serde(default = "default_layers")]
    pub layers: usize,
    /// Transformer feed-forward width.
    #[serde(default = "default_ff_dim")]
    pub ff_dim: usize,
    /// Dropout probability.
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// Transformer positional encodings.
    #[serde(default)]
    pub positional: PositionalKind,
    /// Passes over the training pairs.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Pairs per optimiser step.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// The date pairs.
    #[serde(default)]
    pub data: DatesConfig,
}

fn default_embed_dim() -> usize {
    64
}
fn default_hidden() -> usize {
    64
}
fn default_heads() -> usize {
    2
}
fn default_layers() -> usize {
    2
}
fn default_ff_dim() -> usize {
    128
}
fn default_dropout() -> f64 {
    0.1
}
fn default_epochs() -> usize {
    10
}
fn default_batch_size() -> usize {
    64
}
fn default_lr() -> f64 {
    1e-3
}

impl Seq2SeqConfig {
    /// The defaults for `arch`.
    pub fn new(arch: Seq2SeqArch) -> Self {
        Self {
            arch,
            attention: AttentionKind::default(),
            cell: CellKind::default(),
            embed_dim: default_embed_dim(),
            hidden: default_hidden(),
            heads: default_heads(),
            layers: default_layers(),
            ff_dim: default_ff_dim(),
            dropout: default_dropout(),
            positional: PositionalKind::default(),
            epochs: default_epochs(),
            batch_size: default_batch_size(),
            lr: default_lr(),
            data: DatesConfig::default(),
        }
    }

    /// Checks sizes and ranges; errors name the key.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("embed_dim", self.embed_dim),
            ("hidden", self.hidden),
            ("heads", self.heads),
            ("layers", self.layers),
            ("ff_dim", self.ff_dim),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("data.train", self.data.train),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(Error::invalid(
                    format!("seq2seq.{key}"),
                    "must be at least 1",
                ));
            }
        }
        if self.arch == Seq2SeqArch::Transformer && !self.embed_dim.is_multiple_of(self.heads) {
            return Err(Error::invalid(
                "seq2seq.embed_dim",
                format!(
                    "the Transformer's d_model ({}) must be a multiple of heads ({})",
                    self.embed_dim, self.heads
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::invalid("seq2seq.dropout", "must be in [0, 1)"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::invalid("seq2seq.lr", "must be a positive number"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Recipe {
        #[allow(dead_code)]
        name: String,
        #[allow(dead_code)]
        seed: u64,
        seq2seq: Seq2SeqConfig,
    }

    fn recipe(file: &str) -> Seq2SeqConfig {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("recipes")
            .join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let r: Recipe = toml::from_str(&text).unwrap();
        r.seq2seq.validate().unwrap();
        r.seq2seq
    }

    #[test]
    fn recipes_parse() {
        let rnn = recipe("seq2seq_attention.toml");
        assert_eq!(rnn.arch, Seq2SeqArch::RnnAttention);
        let tf = recipe("seq2seq_transformer.toml");
        assert_eq!(tf.arch, Seq2SeqArch::Transformer);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = toml::from_str::<Seq2SeqConfig>("arch = \"transformer\"\nhiden = 3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("hiden"), "{err}");
        let err = toml::from_str::<Seq2SeqConfig>("arch = \"transformer\"\n[data]\ntrian = 3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("trian"), "{err}");
        let cfg: Seq2SeqConfig = toml::from_str("arch = \"rnn_attention\"").unwrap();
        assert_eq!(cfg, Seq2SeqConfig::new(Seq2SeqArch::RnnAttention));
    }

    #[test]
    fn validation_names_the_key() {
        let mut cfg = Seq2SeqConfig::new(Seq2SeqArch::Transformer);
        cfg.heads = 3;
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("embed_dim"), "{err}");
    }
}
