//! Normalisation layers (SPEC F1; seed 004): batch norm over channels, layer norm over features.

use burn::module::Module;
use burn::nn::{BatchNorm as BurnBatchNorm, LayerNorm as BurnLayerNorm};

use super::features::Features;

/// Batch normalisation over axis 1 (features of a flat input, channels of an image).
/// Uses batch statistics in training and running averages in evaluation.
#[derive(Module, Debug)]
pub struct BatchNorm {
    /// Burn's layer (gamma, beta, running mean and variance).
    pub inner: BurnBatchNorm,
}

impl BatchNorm {
    /// # Shapes
    /// - input and output: `[batch, c, ...]`
    pub fn forward(&self, x: Features) -> Features {
        match x {
            Features::Flat(x) => Features::Flat(self.inner.forward(x)),
            Features::Sequence { values, mask } => Features::Sequence {
                values: self.inner.forward(values),
                mask,
            },
            Features::Image(x) => Features::Image(self.inner.forward(x)),
        }
    }
}

/// Layer normalisation over the last axis.
#[derive(Module, Debug)]
pub struct LayerNorm {
    /// Burn's layer.
    pub inner: BurnLayerNorm,
}

impl LayerNorm {
    /// # Shapes
    /// - input and output: `[batch, ..., d]`
    pub fn forward(&self, x: Features) -> Features {
        match x {
            Features::Flat(x) => Features::Flat(self.inner.forward(x)),
            Features::Sequence { values, mask } => Features::Sequence {
                values: self.inner.forward(values),
                mask,
            },
            Features::Image(x) => Features::Image(self.inner.forward(x)),
        }
    }
}
