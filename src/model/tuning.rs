//! Parameter-efficient fine-tuning of a frozen Transformer (seed 003 19.2.2; issue 10):
//! bottleneck adapters (Houlsby et al. 2019) after each block's attention and feed-forward
//! parts, or low-rank updates (LoRA, Hu et al. 2022) of the attention's query and value
//! projections. Both start as the identity, so the tuned model begins exactly where the
//! pre-trained one ends.
//!
//! ```text
//! adapter:  h -> h + W_up gelu(W_down h)          W_down: d x r, W_up: r x d, W_up = 0 at start
//! LoRA:     W x -> W x + (alpha / r) B A x        A: r x d (random), B: d x r, B = 0 at start
//! ```

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Distribution, Tensor};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Which parameter-efficient modules go into every block (`[transfer] tuning`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TuningConfig {
    /// Bottleneck adapters of `bottleneck` units after attention and feed-forward.
    Adapter {
        /// Width of the bottleneck.
        bottleneck: usize,
    },
    /// Rank-`rank` updates of the query and value projections, scaled by `alpha / rank`.
    Lora {
        /// Rank of the update.
        rank: usize,
        /// Scale numerator (the update is multiplied by `alpha / rank`).
        #[serde(default = "default_alpha")]
        alpha: f64,
    },
}

fn default_alpha() -> f64 {
    16.0
}

impl TuningConfig {
    /// Checks the sizes against a model width `d`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `transfer.tuning`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Self::Adapter { bottleneck: 0 } => Err(Error::invalid(
                "transfer.tuning.bottleneck",
                "must be at least 1",
            )),
            Self::Lora { rank: 0, .. } => {
                Err(Error::invalid("transfer.tuning.rank", "must be at least 1"))
            }
            Self::Lora { alpha, .. } if !(alpha > 0.0 && alpha.is_finite()) => Err(Error::invalid(
                "transfer.tuning.alpha",
                format!("must be positive, got {alpha}"),
            )),
            _ => Ok(()),
        }
    }

    /// The modules of one block of width `d`.
    pub fn block(&self, d: usize, device: &Device) -> BlockTuning {
        match *self {
            Self::Adapter { bottleneck } => BlockTuning {
                attention: Some(Adapter::new(d, bottleneck, device)),
                feed_forward: Some(Adapter::new(d, bottleneck, device)),
                query: None,
                value: None,
            },
            Self::Lora { rank, alpha } => BlockTuning {
                attention: None,
                feed_forward: None,
                query: Some(LowRank::new(d, rank, alpha, device)),
                value: Some(LowRank::new(d, rank, alpha, device)),
            },
        }
    }
}

/// `h + W_up gelu(W_down h)`, the identity at start.
#[derive(Module, Debug)]
pub struct Adapter {
    down: Linear,
    up: Linear,
}

impl Adapter {
    fn new(d: usize, bottleneck: usize, device: &Device) -> Self {
        let mut up = LinearConfig::new(bottleneck, d).init(device);
        up.weight = Param::from_tensor(Tensor::zeros([bottleneck, d], device));
        up.bias = Some(Param::from_tensor(Tensor::zeros([d], device)));
        Self {
            down: LinearConfig::new(d, bottleneck).init(device),
            up,
        }
    }

    /// # Shapes
    /// - input and output: `[batch, time, d]`
    pub fn forward(&self, h: Tensor<3>) -> Tensor<3> {
        h.clone() + self.up.forward(gelu(self.down.forward(h)))
    }
}

/// The low-rank update `(alpha / r) x A^T B^T` of a `d x d` projection, zero at start.
#[derive(Module, Debug)]
pub struct LowRank {
    a: Param<Tensor<2>>,
    b: Param<Tensor<2>>,
    #[module(skip)]
    scale: f64,
}

impl LowRank {
    fn new(d: usize, rank: usize, alpha: f64, device: &Device) -> Self {
        let bound = 1.0 / (d as f64).sqrt();
        Self {
            a: Param::from_tensor(Tensor::random(
                [d, rank],
                Distribution::Uniform(-bound, bound),
                device,
            )),
            b: Param::from_tensor(Tensor::zeros([rank, d], device)),
            scale: alpha / rank as f64,
        }
    }

    /// The update for `x`.
    ///
    /// # Shapes
    /// - input and output: `[batch, time, d]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, d] = x.dims();
        let low = x.reshape([b * t, d]).matmul(self.a.val());
        (low.matmul(self.b.val()) * self.scale).reshape([b, t, d])
    }
}

/// The tuning modules of one Transformer block (those of the chosen kind are `Some`).
#[derive(Module, Debug)]
pub struct BlockTuning {
    /// Adapter after the attention part.
    pub attention: Option<Adapter>,
    /// Adapter after the feed-forward part.
    pub feed_forward: Option<Adapter>,
    /// Update of the query projection.
    pub query: Option<LowRank>,
    /// Update of the value projection.
    pub value: Option<LowRank>,
}

/// Applies an optional adapter.
pub(crate) fn adapt(adapter: &Option<Adapter>, h: Tensor<3>) -> Tensor<3> {
    match adapter {
        Some(a) => a.forward(h),
        None => h,
    }
}

/// `base + update(x)` for an optional low-rank update.
pub(crate) fn with_update(update: &Option<LowRank>, base: Tensor<3>, x: Tensor<3>) -> Tensor<3> {
    match update {
        Some(u) => base + u.forward(x),
        None => base,
    }
}
