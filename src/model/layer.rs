//! One layer of a [`Sequential`](super::Sequential): its recipe form ([`LayerConfig`]), its
//! module ([`Layer`]) and the shape check that connects the two.

use burn::module::Module;
use burn::nn::{BatchNormConfig, Dropout, DropoutConfig, LayerNormConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::activation::{Activation, ActivationKind};
use super::bidirectional::{Bidirectional, Merge};
use super::conv2d::{Conv2d, Conv2dSpec, Padding};
use super::dense::Dense;
use super::embedding::Embedding;
use super::features::Features;
use super::gru::Gru;
use super::initializer::InitKind;
use super::l2_normalize::L2Normalize;
use super::lstm::Lstm;
use super::maxout::Maxout;
use super::norm::{BatchNorm, LayerNorm};
use super::pool::{Flatten, GlobalAvgPool, Pool2d, PoolKind};
use super::pool1d::{GlobalAvgPool1d, GlobalMaxPool1d, LastToken};
use super::positional_encoding::{PositionKind, PositionalEncoding};
use super::recurrent::Recurrent;
use super::residual::Residual;
use super::reverse_embedding::ReverseEmbedding;
use super::simple_rnn::SimpleRnn;
use super::transformer_encoder::{EncoderShape, TransformerEncoder};
use crate::{Error, Result};

/// A size given as one number (square) or `[height, width]`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum Size2 {
    /// The same value for height and width.
    Square(usize),
    /// `[height, width]`.
    Pair([usize; 2]),
}

impl Size2 {
    /// `[height, width]`.
    pub fn pair(self) -> [usize; 2] {
        match self {
            Size2::Square(n) => [n, n],
            Size2::Pair(p) => p,
        }
    }
}

fn one() -> Size2 {
    Size2::Square(1)
}

fn yes() -> bool {
    true
}

fn bn_momentum() -> f64 {
    0.99
}

fn bn_epsilon() -> f64 {
    1e-3
}

fn ln_epsilon() -> f64 {
    1e-5
}

fn tanh() -> ActivationKind {
    ActivationKind::Tanh
}

fn max_len() -> usize {
    512
}

fn one_layer() -> usize {
    1
}

fn transformer_dropout() -> f64 {
    0.1
}

/// A layer as written in a recipe (`type = "conv2d"`, ...). Names and defaults follow Keras.
///
/// In a recipe the type is a key of the layer's table (`type = "dense"`); its other keys are
/// checked against that type, and a misspelt key or a value of the wrong type is an error
/// that names the key.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerConfig {
    /// Fully connected layer on the last axis.
    Dense {
        /// Output size.
        units: usize,
        /// Activation after the affine map.
        #[serde(default)]
        activation: ActivationKind,
        /// Weight initialiser.
        #[serde(default)]
        init: InitKind,
        /// Whether to learn a bias.
        #[serde(default = "yes")]
        bias: bool,
    },
    /// 2-D convolution.
    Conv2d {
        /// Output channels.
        filters: usize,
        /// Kernel size.
        kernel: Size2,
        /// Stride.
        #[serde(default = "one")]
        stride: Size2,
        /// `valid` or `same`.
        #[serde(default)]
        padding: Padding,
        /// Activation after the convolution.
        #[serde(default)]
        activation: ActivationKind,
        /// Weight initialiser.
        #[serde(default)]
        init: InitKind,
        /// Whether to learn a bias.
        #[serde(default = "yes")]
        bias: bool,
    },
    /// Max pooling (valid padding).
    MaxPool2d {
        /// Window.
        pool: Size2,
        /// Stride (defaults to the window).
        #[serde(default)]
        stride: Option<Size2>,
    },
    /// Average pooling (valid padding).
    AvgPool2d {
        /// Window.
        pool: Size2,
        /// Stride (defaults to the window).
        #[serde(default)]
        stride: Option<Size2>,
    },
    /// Mean over all spatial positions.
    GlobalAvgPool {},
    /// Flattens all but the batch axis.
    Flatten {},
    /// Scales each sample's vector to unit length (an embedding on the unit sphere).
    L2Normalize {},
    /// Zeroes a fraction `rate` of the activations in training (scaled by `1/(1-rate)`).
    Dropout {
        /// Drop probability in `[0, 1)`.
        rate: f64,
    },
    /// Batch normalisation over channels (axis 1).
    BatchNorm {
        /// Running-average momentum, Keras' convention (`0.99` keeps 99% of the old value).
        #[serde(default = "bn_momentum")]
        momentum: f64,
        /// Added to the variance.
        #[serde(default = "bn_epsilon")]
        epsilon: f64,
    },
    /// Layer normalisation over the last axis.
    LayerNorm {
        /// Added to the variance.
        #[serde(default = "ln_epsilon")]
        epsilon: f64,
    },
    /// A stand-alone activation.
    Activation {
        /// Which one.
        activation: ActivationKind,
    },
    /// Maxout: `units` outputs, each the max of `pieces` affine maps.
    Maxout {
        /// Outputs.
        units: usize,
        /// Affine maps per output.
        pieces: usize,
        /// Weight initialiser.
        #[serde(default)]
        init: InitKind,
    },
    /// `act(x + f(x))`: the inner layers plus a skip connection. When `f` changes the shape,
    /// the skip path gets a 1x1 convolution (images) or a dense map (vectors) to match.
    Residual {
        /// The layers of `f`.
        layers: Vec<LayerConfig>,
        /// Applied after the sum.
        #[serde(default)]
        activation: ActivationKind,
    },
    /// Token ids `[time]` (as floats) to vectors `[time, output_dim]`; Keras' `Embedding`.
    /// Ids outside `[0, input_dim)` are clamped into range.
    Embedding {
        /// Vocabulary size: ids run over `0..input_dim`.
        input_dim: usize,
        /// Size of each vector.
        output_dim: usize,
        /// Treat id 0 as padding: later layers get the mask `id != 0`.
        #[serde(default)]
        mask_zero: bool,
    },
    /// Fully connected recurrent layer on `[time, d]`; Keras' `SimpleRNN`.
    SimpleRnn {
        /// Size of the hidden state.
        units: usize,
        /// Applied to the pre-activation (any parameter-free activation).
        #[serde(default = "tanh")]
        activation: ActivationKind,
        /// Output every step `[time, units]` instead of the last `[units]`.
        #[serde(default)]
        return_sequences: bool,
    },
    /// LSTM on `[time, d]` (gate order i, f, c, o; forget bias 1); Keras' `LSTM`.
    Lstm {
        /// Size of the hidden and cell state.
        units: usize,
        /// Output every step `[time, units]` instead of the last `[units]`.
        #[serde(default)]
        return_sequences: bool,
    },
    /// GRU on `[time, d]` (Keras' default `reset_after = true`, two biases); Keras' `GRU`.
    Gru {
        /// Size of the hidden state.
        units: usize,
        /// Output every step `[time, units]` instead of the last `[units]`.
        #[serde(default)]
        return_sequences: bool,
    },
    /// A recurrent layer run forwards and backwards; Keras' `Bidirectional`.
    Bidirectional {
        /// How the directions are combined: `concat` (default), `sum`, `ave` or `mul`.
        #[serde(default)]
        merge: Merge,
        /// The wrapped layer: `simple_rnn`, `lstm` or `gru`.
        layer: Box<LayerConfig>,
    },
    /// Adds a position code to each step of `[time, d]`.
    PositionalEncoding {
        /// `sinusoidal` (default, Vaswani et al. 2017) or `learned`.
        #[serde(default)]
        kind: PositionKind,
        /// Longest sequence accepted (size of the learned table).
        #[serde(default = "max_len")]
        max_len: usize,
    },
    /// Self-attention encoder blocks on `[time, d]`, masking padded keys.
    TransformerEncoder {
        /// Attention heads; must divide `d`.
        heads: usize,
        /// Hidden size of the feed-forward part.
        ff_dim: usize,
        /// Number of blocks.
        #[serde(default = "one_layer")]
        layers: usize,
        /// Dropout in attention, feed-forward and residual paths.
        #[serde(default = "transformer_dropout")]
        dropout: f64,
        /// Layer norm before each sub-block instead of after.
        #[serde(default)]
        norm_first: bool,
        /// Causal attention: no position attends to a later one (a GPT-style decoder).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        causal: bool,
    },
    /// Mean over the real time steps: `[time, d] -> [d]`.
    GlobalAvgPool1d {},
    /// The vector of the last real time step (a causal model's summary of the whole text):
    /// `[time, d] -> [d]`.
    LastToken {},
    /// Maximum over the real time steps: `[time, d] -> [d]`.
    GlobalMaxPool1d {},
    /// Scores against the model's embedding table, `x E^T + b` (`[d] -> [units]`, or per step
    /// on a sequence): a language model's output head tied to its input embedding (KerasHub's
    /// `ReversibleEmbedding`). `units` must be the embedding's `input_dim` and the input size
    /// its `output_dim`.
    ReverseEmbedding {
        /// Vocabulary size (the embedding's `input_dim`).
        units: usize,
        /// Applied to the scores (`softmax` for a language model's output).
        #[serde(default)]
        activation: ActivationKind,
    },
}

/// A built layer.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Layer {
    /// See [`LayerConfig::Dense`].
    Dense(Dense),
    /// See [`LayerConfig::Conv2d`].
    Conv2d(Conv2d),
    /// Max or average pooling.
    Pool2d(Pool2d),
    /// See [`LayerConfig::GlobalAvgPool`].
    GlobalAvgPool(GlobalAvgPool),
    /// See [`LayerConfig::Flatten`].
    Flatten(Flatten),
    /// See [`LayerConfig::L2Normalize`].
    L2Normalize(L2Normalize),
    /// See [`LayerConfig::Dropout`].
    Dropout(Dropout),
    /// See [`LayerConfig::BatchNorm`].
    BatchNorm(BatchNorm),
    /// See [`LayerConfig::LayerNorm`].
    LayerNorm(LayerNorm),
    /// See [`LayerConfig::Activation`].
    Activation(Activation),
    /// See [`LayerConfig::Maxout`].
    Maxout(Maxout),
    /// See [`LayerConfig::Residual`].
    Residual(Residual),
    /// See [`LayerConfig::Embedding`].
    Embedding(Embedding),
    /// See [`LayerConfig::SimpleRnn`].
    SimpleRnn(SimpleRnn),
    /// See [`LayerConfig::Lstm`].
    Lstm(Lstm),
    /// See [`LayerConfig::Gru`].
    Gru(Gru),
    /// See [`LayerConfig::Bidirectional`].
    Bidirectional(Bidirectional),
    /// See [`LayerConfig::PositionalEncoding`].
    PositionalEncoding(PositionalEncoding),
    /// See [`LayerConfig::TransformerEncoder`].
    TransformerEncoder(TransformerEncoder),
    /// See [`LayerConfig::GlobalAvgPool1d`].
    GlobalAvgPool1d(GlobalAvgPool1d),
    /// See [`LayerConfig::GlobalMaxPool1d`].
    GlobalMaxPool1d(GlobalMaxPool1d),
    /// See [`LayerConfig::LastToken`].
    LastToken(LastToken),
    /// See [`LayerConfig::ReverseEmbedding`]; [`Sequential`](super::Sequential) runs it with
    /// the model's embedding table.
    ReverseEmbedding(ReverseEmbedding),
}

impl Layer {
    /// Whether the layer computes something else in training than in evaluation (batch
    /// statistics, dropout), so that a training-mode forward and an evaluation one differ.
    pub fn trains_differently(&self) -> bool {
        match self {
            Layer::Dropout(_) | Layer::BatchNorm(_) | Layer::TransformerEncoder(_) => true,
            Layer::Residual(r) => r.body.iter().any(Layer::trains_differently),
            _ => false,
        }
    }

    /// Applies the layer; `table` is the model's embedding table, which only a
    /// [`Layer::ReverseEmbedding`] reads (the model check makes sure it is there).
    pub fn forward(&self, x: Features, table: Option<Tensor<2>>) -> Features {
        match self {
            Layer::Dense(l) => l.forward(x),
            Layer::Conv2d(l) => l.forward(x),
            Layer::Pool2d(l) => l.forward(x),
            Layer::GlobalAvgPool(l) => l.forward(x),
            Layer::Flatten(l) => l.forward(x),
            Layer::L2Normalize(l) => l.forward(x),
            Layer::Dropout(l) => x.map(DropoutFn(l)),
            Layer::BatchNorm(l) => l.forward(x),
            Layer::LayerNorm(l) => l.forward(x),
            Layer::Activation(l) => l.forward(x),
            Layer::Maxout(l) => l.forward(x),
            Layer::Residual(l) => l.forward(x),
            Layer::Embedding(l) => l.forward(x),
            Layer::SimpleRnn(l) => l.forward(x),
            Layer::Lstm(l) => l.forward(x),
            Layer::Gru(l) => l.forward(x),
            Layer::Bidirectional(l) => l.forward(x),
            Layer::PositionalEncoding(l) => l.forward(x),
            Layer::TransformerEncoder(l) => l.forward(x),
            Layer::GlobalAvgPool1d(l) => l.forward(x),
            Layer::GlobalMaxPool1d(l) => l.forward(x),
            Layer::LastToken(l) => l.forward(x),
            Layer::ReverseEmbedding(l) => l.forward(
                x,
                table.expect("a reverse_embedding layer is only built after an embedding layer"),
            ),
        }
    }
}

struct DropoutFn<'a>(&'a Dropout);

impl super::features::TensorFn for DropoutFn<'_> {
    fn apply<const D: usize>(&self, x: burn::tensor::Tensor<D>) -> burn::tensor::Tensor<D> {
        self.0.forward(x)
    }
}

impl<'de> Deserialize<'de> for LayerConfig {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut table = toml::Table::deserialize(deserializer)?;
        let kind = match table.remove("type") {
            Some(toml::Value::String(s)) => s,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "layer key `type` must be a string, got {other}"
                )));
            }
            None => {
                return Err(D::Error::custom(
                    "a layer needs a `type` key, e.g. type = \"dense\"",
                ));
            }
        };
        let mut tagged = toml::Table::new();
        tagged.insert(kind.clone(), toml::Value::Table(table));
        LayerConfig::deserialize(toml::Value::Table(tagged))
            .map_err(|e| D::Error::custom(format!("layer type `{kind}`: {e}")))
    }
}

impl Serialize for LayerConfig {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let tagged = LayerConfig::serialize(self, serde_json::value::Serializer)
            .map_err(S::Error::custom)?;
        let mut flat = serde_json::Map::new();
        if let serde_json::Value::Object(outer) = tagged {
            for (kind, fields) in outer {
                flat.insert("type".into(), serde_json::Value::String(kind));
                if let serde_json::Value::Object(fields) = fields {
                    flat.extend(fields.into_iter().filter(|(_, v)| !v.is_null()));
                }
            }
        }
        flat.serialize(serializer)
    }
}

/// Keras-like constructors for building models in Rust.
impl LayerConfig {
    /// `Dense(units, activation)` with Glorot-uniform weights and a bias.
    pub fn dense(units: usize, activation: ActivationKind) -> Self {
        LayerConfig::Dense {
            units,
            activation,
            init: InitKind::default(),
            bias: true,
        }
    }

    /// `Conv2D(filters, (kernel, kernel), activation)` with stride 1 and valid padding.
    pub fn conv2d(filters: usize, kernel: usize, activation: ActivationKind) -> Self {
        LayerConfig::Conv2d {
            filters,
            kernel: Size2::Square(kernel),
            stride: Size2::Square(1),
            padding: Padding::Valid,
            activation,
            init: InitKind::default(),
            bias: true,
        }
    }

    /// `MaxPooling2D((pool, pool))`.
    pub fn max_pool2d(pool: usize) -> Self {
        LayerConfig::MaxPool2d {
            pool: Size2::Square(pool),
            stride: None,
        }
    }

    /// `Flatten()`.
    pub fn flatten() -> Self {
        LayerConfig::Flatten {}
    }

    /// `Dropout(rate)`.
    pub fn dropout(rate: f64) -> Self {
        LayerConfig::Dropout { rate }
    }

    /// `BatchNormalization()` with Keras' defaults.
    pub fn batch_norm() -> Self {
        LayerConfig::BatchNorm {
            momentum: bn_momentum(),
            epsilon: bn_epsilon(),
        }
    }

    /// `Embedding(input_dim, output_dim)` without a padding mask.
    pub fn embedding(input_dim: usize, output_dim: usize) -> Self {
        LayerConfig::Embedding {
            input_dim,
            output_dim,
            mask_zero: false,
        }
    }

    /// `SimpleRNN(units)` with tanh, returning the last state.
    pub fn simple_rnn(units: usize) -> Self {
        LayerConfig::SimpleRnn {
            units,
            activation: ActivationKind::Tanh,
            return_sequences: false,
        }
    }

    /// `LSTM(units)`, returning the last state.
    pub fn lstm(units: usize) -> Self {
        LayerConfig::Lstm {
            units,
            return_sequences: false,
        }
    }

    /// `GRU(units)`, returning the last state.
    pub fn gru(units: usize) -> Self {
        LayerConfig::Gru {
            units,
            return_sequences: false,
        }
    }

    /// `Bidirectional(layer)` with concatenated outputs.
    pub fn bidirectional(layer: LayerConfig) -> Self {
        LayerConfig::Bidirectional {
            merge: Merge::Concat,
            layer: Box::new(layer),
        }
    }

    /// This layer with `return_sequences` set, for recurrent layers (and a bidirectional
    /// wrapper around one); other layers are returned unchanged.
    pub fn with_return_sequences(mut self, value: bool) -> Self {
        match &mut self {
            LayerConfig::SimpleRnn {
                return_sequences, ..
            }
            | LayerConfig::Lstm {
                return_sequences, ..
            }
            | LayerConfig::Gru {
                return_sequences, ..
            } => *return_sequences = value,
            LayerConfig::Bidirectional { layer, .. } => {
                **layer = layer.as_ref().clone().with_return_sequences(value);
            }
            _ => {}
        }
        self
    }
}

impl LayerConfig {
    /// The recipe name of this layer's type, e.g. `"conv2d"`.
    pub fn kind(&self) -> &'static str {
        match self {
            LayerConfig::Dense { .. } => "dense",
            LayerConfig::Conv2d { .. } => "conv2d",
            LayerConfig::MaxPool2d { .. } => "max_pool2d",
            LayerConfig::AvgPool2d { .. } => "avg_pool2d",
            LayerConfig::GlobalAvgPool {} => "global_avg_pool",
            LayerConfig::Flatten {} => "flatten",
            LayerConfig::L2Normalize {} => "l2_normalize",
            LayerConfig::Dropout { .. } => "dropout",
            LayerConfig::BatchNorm { .. } => "batch_norm",
            LayerConfig::LayerNorm { .. } => "layer_norm",
            LayerConfig::Activation { .. } => "activation",
            LayerConfig::Maxout { .. } => "maxout",
            LayerConfig::Residual { .. } => "residual",
            LayerConfig::Embedding { .. } => "embedding",
            LayerConfig::SimpleRnn { .. } => "simple_rnn",
            LayerConfig::Lstm { .. } => "lstm",
            LayerConfig::Gru { .. } => "gru",
            LayerConfig::Bidirectional { .. } => "bidirectional",
            LayerConfig::PositionalEncoding { .. } => "positional_encoding",
            LayerConfig::TransformerEncoder { .. } => "transformer_encoder",
            LayerConfig::GlobalAvgPool1d {} => "global_avg_pool1d",
            LayerConfig::GlobalMaxPool1d {} => "global_max_pool1d",
            LayerConfig::LastToken {} => "last_token",
            LayerConfig::ReverseEmbedding { .. } => "reverse_embedding",
        }
    }

    /// The output shape (batch axis excluded) for an `input` shape, or an error naming the
    /// layer and both shapes.
    pub fn output_shape(&self, index: usize, input: &[usize]) -> Result<Vec<usize>> {
        let bad = |message: String| Error::Shape {
            index,
            layer: self.kind().to_string(),
            message,
        };
        match self {
            LayerConfig::Dense { units: 0, .. } | LayerConfig::Maxout { units: 0, .. } => {
                Err(bad("units must be at least 1".into()))
            }
            LayerConfig::Maxout { pieces: 0, .. } => Err(bad("pieces must be at least 1".into())),
            LayerConfig::Dense { units, .. } => match input {
                [_] => Ok(vec![*units]),
                [t, _] => Ok(vec![*t, *units]),
                _ => Err(bad(format!(
                    "expects a vector [features] (or a sequence), got input shape {input:?}; add a flatten layer before it"
                ))),
            },
            LayerConfig::Maxout { units, .. } => match input {
                [_] => Ok(vec![*units]),
                _ => Err(bad(format!(
                    "expects a vector [features], got input shape {input:?}; add a flatten layer before it"
                ))),
            },
            LayerConfig::Conv2d {
                filters,
                kernel,
                stride,
                padding,
                ..
            } => {
                let [_, h, w] = image_shape(input).map_err(bad)?;
                let [kh, kw] = kernel.pair();
                let [sh, sw] = stride.pair();
                if kh == 0 || kw == 0 || sh == 0 || sw == 0 || *filters == 0 {
                    return Err(bad("kernel, stride and filters must be positive".into()));
                }
                match (padding.output_len(h, kh, sh), padding.output_len(w, kw, sw)) {
                    (Some(oh), Some(ow)) => Ok(vec![*filters, oh, ow]),
                    _ => Err(bad(format!(
                        "kernel {:?} is larger than the input {input:?} with valid padding; use padding = \"same\" or a smaller kernel",
                        [kh, kw]
                    ))),
                }
            }
            LayerConfig::MaxPool2d { pool, stride } | LayerConfig::AvgPool2d { pool, stride } => {
                let [c, h, w] = image_shape(input).map_err(bad)?;
                let [ph, pw] = pool.pair();
                let [sh, sw] = stride.unwrap_or(*pool).pair();
                if ph == 0 || pw == 0 || sh == 0 || sw == 0 {
                    return Err(bad("pool size and stride must be positive".into()));
                }
                match (Pool2d::output_len(h, ph, sh), Pool2d::output_len(w, pw, sw)) {
                    (Some(oh), Some(ow)) => Ok(vec![c, oh, ow]),
                    _ => Err(bad(format!(
                        "pool window {:?} is larger than the input {input:?}",
                        [ph, pw]
                    ))),
                }
            }
            LayerConfig::GlobalAvgPool {} => {
                let [c, _, _] = image_shape(input).map_err(bad)?;
                Ok(vec![c])
            }
            LayerConfig::Flatten {} => Ok(vec![input.iter().product()]),
            LayerConfig::L2Normalize {} => match input {
                [_] => Ok(input.to_vec()),
                _ => Err(bad(format!(
                    "needs a flat input [features], got {input:?}; add a flatten layer before it"
                ))),
            },
            LayerConfig::Dropout { rate } => {
                if !(0.0..1.0).contains(rate) {
                    return Err(bad(format!("rate must be in [0, 1), got {rate}")));
                }
                Ok(input.to_vec())
            }
            LayerConfig::BatchNorm { momentum, epsilon } => {
                let epsilon_ok = epsilon.is_finite() && *epsilon > 0.0;
                if !(0.0..=1.0).contains(momentum) || !epsilon_ok {
                    return Err(bad(format!(
                        "momentum must be in [0, 1] and epsilon > 0, got {momentum} and {epsilon}"
                    )));
                }
                Ok(input.to_vec())
            }
            LayerConfig::LayerNorm { epsilon } if !(epsilon.is_finite() && *epsilon > 0.0) => Err(
                bad(format!("epsilon must be finite and > 0, got {epsilon}")),
            ),
            LayerConfig::LayerNorm { .. } | LayerConfig::Activation { .. } => Ok(input.to_vec()),
            LayerConfig::Residual { layers, .. } => {
                if layers
                    .iter()
                    .any(|l| matches!(l, LayerConfig::ReverseEmbedding { .. }))
                {
                    return Err(bad(
                        "a reverse_embedding reads the model's embedding table; it cannot sit inside a residual block".into(),
                    ));
                }
                let mut shape = input.to_vec();
                for (i, layer) in layers.iter().enumerate() {
                    shape = layer
                        .output_shape(i, &shape)
                        .map_err(|e| bad(format!("inner layer {i}: {e}")))?;
                }
                if shape != input && !super::residual::projectable(input, &shape) {
                    return Err(bad(format!(
                        "the inner layers map {input:?} to {shape:?}, which the skip path cannot match; use padding = \"same\" so that only the stride changes the size"
                    )));
                }
                Ok(shape)
            }
            LayerConfig::Embedding {
                input_dim,
                output_dim,
                ..
            } => {
                if *input_dim == 0 || *output_dim == 0 {
                    return Err(bad("input_dim and output_dim must be at least 1".into()));
                }
                match input {
                    [t] => Ok(vec![*t, *output_dim]),
                    _ => Err(bad(format!(
                        "expects token ids [maxlen], got input shape {input:?}"
                    ))),
                }
            }
            LayerConfig::SimpleRnn {
                activation: ActivationKind::Prelu,
                ..
            } => Err(bad(
                "activation prelu has weights of its own; use a parameter-free activation".into(),
            )),
            LayerConfig::SimpleRnn { units, .. }
            | LayerConfig::Lstm { units, .. }
            | LayerConfig::Gru { units, .. } => {
                let [t, _] = sequence_shape(input).map_err(bad)?;
                if *units == 0 {
                    return Err(bad("units must be at least 1".into()));
                }
                Ok(if self.returns_sequences() {
                    vec![t, *units]
                } else {
                    vec![*units]
                })
            }
            LayerConfig::Bidirectional { merge, layer } => {
                if !layer.is_recurrent() {
                    return Err(bad(format!(
                        "wraps a recurrent layer (simple_rnn, lstm or gru), got {}",
                        layer.kind()
                    )));
                }
                let mut shape = layer
                    .output_shape(index, input)
                    .map_err(|e| bad(format!("inner layer: {e}")))?;
                if let Some(units) = shape.last_mut() {
                    *units = merge.output_units(*units);
                }
                Ok(shape)
            }
            LayerConfig::PositionalEncoding { max_len, .. } => {
                let [t, _] = sequence_shape(input).map_err(bad)?;
                if t > *max_len {
                    return Err(bad(format!(
                        "sequences of {t} steps are longer than max_len = {max_len}"
                    )));
                }
                Ok(input.to_vec())
            }
            LayerConfig::TransformerEncoder {
                heads,
                ff_dim,
                layers,
                dropout,
                ..
            } => {
                let [_, d] = sequence_shape(input).map_err(bad)?;
                if *heads == 0 || *ff_dim == 0 || *layers == 0 {
                    return Err(bad("heads, ff_dim and layers must be at least 1".into()));
                }
                if d % heads != 0 {
                    return Err(bad(format!(
                        "the model size {d} (input shape {input:?}) is not divisible by heads = {heads}"
                    )));
                }
                if !(0.0..1.0).contains(dropout) {
                    return Err(bad(format!("dropout must be in [0, 1), got {dropout}")));
                }
                Ok(input.to_vec())
            }
            LayerConfig::GlobalAvgPool1d {}
            | LayerConfig::GlobalMaxPool1d {}
            | LayerConfig::LastToken {} => {
                let [_, d] = sequence_shape(input).map_err(bad)?;
                Ok(vec![d])
            }
            LayerConfig::ReverseEmbedding {
                activation: ActivationKind::Prelu,
                ..
            } => Err(bad(
                "activation prelu has weights of its own; use a parameter-free activation".into(),
            )),
            LayerConfig::ReverseEmbedding { units: 0, .. } => {
                Err(bad("units must be at least 1".into()))
            }
            LayerConfig::ReverseEmbedding { units, .. } => match input {
                [_] => Ok(vec![*units]),
                [t, _] => Ok(vec![*t, *units]),
                _ => Err(bad(format!(
                    "expects a vector [d] or a sequence [time, d], got input shape {input:?}"
                ))),
            },
        }
    }

    fn is_recurrent(&self) -> bool {
        matches!(
            self,
            LayerConfig::SimpleRnn { .. } | LayerConfig::Lstm { .. } | LayerConfig::Gru { .. }
        )
    }

    fn returns_sequences(&self) -> bool {
        match self {
            LayerConfig::SimpleRnn {
                return_sequences, ..
            }
            | LayerConfig::Lstm {
                return_sequences, ..
            }
            | LayerConfig::Gru {
                return_sequences, ..
            } => *return_sequences,
            _ => false,
        }
    }

    /// The recurrent module for inputs of size `d`, or `None` for other layers.
    fn recurrent(&self, d: usize, device: &Device) -> Option<Recurrent> {
        Some(match self {
            LayerConfig::SimpleRnn {
                units,
                activation,
                return_sequences,
            } => Recurrent::SimpleRnn(SimpleRnn::new(
                d,
                *units,
                *activation,
                *return_sequences,
                device,
            )),
            LayerConfig::Lstm {
                units,
                return_sequences,
            } => Recurrent::Lstm(Lstm::new(d, *units, *return_sequences, device)),
            LayerConfig::Gru {
                units,
                return_sequences,
            } => Recurrent::Gru(Gru::new(d, *units, *return_sequences, device)),
            _ => return None,
        })
    }

    /// Builds the layer for an `input` shape; returns it with its output shape.
    pub fn build(
        &self,
        index: usize,
        input: &[usize],
        device: &Device,
    ) -> Result<(Layer, Vec<usize>)> {
        let output = self.output_shape(index, input)?;
        let layer = match self {
            LayerConfig::Dense {
                units,
                activation,
                init,
                bias,
            } => Layer::Dense(Dense::new(
                *input.last().unwrap_or(&0),
                *units,
                *activation,
                *init,
                *bias,
                device,
            )),
            LayerConfig::Conv2d {
                filters,
                kernel,
                stride,
                padding,
                activation,
                init,
                bias,
            } => Layer::Conv2d(
                Conv2dSpec {
                    channels: input[0],
                    filters: *filters,
                    kernel: kernel.pair(),
                    stride: stride.pair(),
                    padding: *padding,
                    activation: *activation,
                    init: *init,
                    bias: *bias,
                }
                .init(device),
            ),
            LayerConfig::MaxPool2d { pool, stride } => Layer::Pool2d(Pool2d::new(
                PoolKind::Max,
                pool.pair(),
                stride.unwrap_or(*pool).pair(),
            )),
            LayerConfig::AvgPool2d { pool, stride } => Layer::Pool2d(Pool2d::new(
                PoolKind::Average,
                pool.pair(),
                stride.unwrap_or(*pool).pair(),
            )),
            LayerConfig::GlobalAvgPool {} => Layer::GlobalAvgPool(GlobalAvgPool),
            LayerConfig::Flatten {} => Layer::Flatten(Flatten),
            LayerConfig::L2Normalize {} => Layer::L2Normalize(L2Normalize),
            LayerConfig::Dropout { rate } => Layer::Dropout(DropoutConfig::new(*rate).init()),
            LayerConfig::BatchNorm { momentum, epsilon } => Layer::BatchNorm(BatchNorm {
                // Burn's momentum weighs the new batch; Keras' weighs the running value.
                inner: BatchNormConfig::new(input[0])
                    .with_momentum(1.0 - momentum)
                    .with_epsilon(*epsilon)
                    .init(device),
            }),
            LayerConfig::LayerNorm { epsilon } => Layer::LayerNorm(LayerNorm {
                inner: LayerNormConfig::new(*input.last().unwrap_or(&1))
                    .with_epsilon(*epsilon)
                    .init(device),
            }),
            LayerConfig::Activation { activation } => {
                Layer::Activation(activation.init(input[0], device))
            }
            LayerConfig::Maxout {
                units,
                pieces,
                init,
            } => Layer::Maxout(Maxout::new(input[0], *units, *pieces, *init, device)),
            LayerConfig::Residual { layers, activation } => {
                Layer::Residual(Residual::build(index, layers, *activation, input, device)?)
            }
            LayerConfig::Embedding {
                input_dim,
                output_dim,
                mask_zero,
            } => Layer::Embedding(Embedding::new(*input_dim, *output_dim, *mask_zero, device)),
            LayerConfig::SimpleRnn { .. } | LayerConfig::Lstm { .. } | LayerConfig::Gru { .. } => {
                match self.recurrent(input[1], device) {
                    Some(Recurrent::SimpleRnn(l)) => Layer::SimpleRnn(l),
                    Some(Recurrent::Lstm(l)) => Layer::Lstm(l),
                    Some(Recurrent::Gru(l)) => Layer::Gru(l),
                    None => unreachable!("a recurrent layer"),
                }
            }
            LayerConfig::Bidirectional { merge, layer } => {
                // Two independently initialised copies, as Keras' `Bidirectional`.
                let forward = layer.recurrent(input[1], device);
                let backward = layer.recurrent(input[1], device).map(Recurrent::reversed);
                match (forward, backward) {
                    (Some(f), Some(b)) => Layer::Bidirectional(Bidirectional::new(f, b, *merge)),
                    _ => unreachable!("checked by output_shape"),
                }
            }
            LayerConfig::PositionalEncoding { kind, max_len } => Layer::PositionalEncoding(
                PositionalEncoding::new(*kind, *max_len, input[1], device),
            ),
            LayerConfig::TransformerEncoder {
                heads,
                ff_dim,
                layers,
                dropout,
                norm_first,
                causal,
            } => Layer::TransformerEncoder(TransformerEncoder::new(
                input[1],
                &EncoderShape {
                    heads: *heads,
                    ff_dim: *ff_dim,
                    layers: *layers,
                    dropout: *dropout,
                    norm_first: *norm_first,
                    causal: *causal,
                },
                device,
            )),
            LayerConfig::GlobalAvgPool1d {} => Layer::GlobalAvgPool1d(GlobalAvgPool1d),
            LayerConfig::LastToken {} => Layer::LastToken(LastToken),
            LayerConfig::GlobalMaxPool1d {} => Layer::GlobalMaxPool1d(GlobalMaxPool1d),
            LayerConfig::ReverseEmbedding { units, activation } => {
                Layer::ReverseEmbedding(ReverseEmbedding::new(*units, *activation, device))
            }
        };
        Ok((layer, output))
    }
}

fn sequence_shape(input: &[usize]) -> std::result::Result<[usize; 2], String> {
    match input {
        [t, d] => Ok([*t, *d]),
        _ => Err(format!(
            "expects a sequence [time, features], got input shape {input:?}; put an embedding layer (token ids) or a recurrent layer with return_sequences = true before it"
        )),
    }
}

fn image_shape(input: &[usize]) -> std::result::Result<[usize; 3], String> {
    match input {
        [c, h, w] => Ok([*c, *h, *w]),
        _ => Err(format!(
            "expects an image [channels, height, width], got input shape {input:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> std::result::Result<LayerConfig, toml::de::Error> {
        toml::from_str(s)
    }

    #[test]
    fn parses_keras_like_layers_and_rejects_unknown_keys() {
        let l =
            parse("type = \"conv2d\"\nfilters = 16\nkernel = 3\nactivation = \"relu\"").unwrap();
        assert_eq!(l.output_shape(0, &[1, 28, 28]).unwrap(), vec![16, 26, 26]);
        let l = parse(
            "type = \"conv2d\"\nfilters = 8\nkernel = [3, 5]\nstride = 2\npadding = \"same\"",
        )
        .unwrap();
        assert_eq!(l.output_shape(0, &[1, 28, 28]).unwrap(), vec![8, 14, 14]);
        let err = parse("type = \"dense\"\nunits = 3\nunitz = 4").unwrap_err();
        assert!(err.to_string().contains("unitz"), "{err}");
        let err = parse("type = \"dense\"\nunits = \"three\"").unwrap_err();
        assert!(err.to_string().contains("`units`"), "{err}");
        let err = parse("units = 3").unwrap_err();
        assert!(err.to_string().contains("`type`"), "{err}");
        assert!(parse("type = \"dance\"\nunits = 3").is_err());
    }

    #[test]
    fn layers_round_trip_through_toml() {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct M {
            layers: Vec<LayerConfig>,
        }
        let src = r#"
            [[layers]]
            type = "flatten"
            [[layers]]
            type = "residual"
            activation = "relu"
            [[layers.layers]]
            type = "dense"
            units = 4
            [[layers]]
            type = "max_pool2d"
            pool = [2, 3]
        "#;
        let m: M = toml::from_str(src).unwrap();
        let back: M = toml::from_str(&toml::to_string(&m).unwrap()).unwrap();
        assert_eq!(m, back);
        assert_eq!(m.layers[0], LayerConfig::Flatten {});
    }

    #[test]
    fn every_layer_reports_its_output_shape() {
        let img = [16, 26, 26];
        let cases: Vec<(&str, Vec<usize>, Vec<usize>)> = vec![
            (
                "type = \"max_pool2d\"\npool = 2",
                img.to_vec(),
                vec![16, 13, 13],
            ),
            (
                "type = \"avg_pool2d\"\npool = 2\nstride = 1",
                img.to_vec(),
                vec![16, 25, 25],
            ),
            ("type = \"global_avg_pool\"", img.to_vec(), vec![16]),
            ("type = \"flatten\"", img.to_vec(), vec![16 * 26 * 26]),
            ("type = \"dropout\"\nrate = 0.5", vec![10], vec![10]),
            ("type = \"batch_norm\"", img.to_vec(), img.to_vec()),
            ("type = \"layer_norm\"", vec![7], vec![7]),
            (
                "type = \"activation\"\nactivation = \"prelu\"",
                img.to_vec(),
                img.to_vec(),
            ),
            ("type = \"maxout\"\nunits = 5\npieces = 3", vec![9], vec![5]),
            ("type = \"dense\"\nunits = 4", vec![9], vec![4]),
        ];
        let device = Device::flex();
        for (src, input, expected) in cases {
            let cfg = parse(src).unwrap();
            assert_eq!(cfg.output_shape(0, &input).unwrap(), expected, "{src}");
            // The built layer produces exactly that shape on a batch of 2.
            let (layer, out) = cfg.build(0, &input, &device).unwrap();
            assert_eq!(out, expected);
            let mut dims = vec![2];
            dims.extend(&input);
            let x = match dims.len() {
                2 => Features::Flat(burn::tensor::Tensor::zeros([dims[0], dims[1]], &device)),
                4 => Features::Image(burn::tensor::Tensor::zeros(
                    [dims[0], dims[1], dims[2], dims[3]],
                    &device,
                )),
                _ => unreachable!(),
            };
            let mut want = vec![2];
            want.extend(&expected);
            assert_eq!(layer.forward(x, None).dims(), want, "{src}");
        }
    }

    #[test]
    fn shape_errors_name_the_layer_and_the_shapes() {
        let dense = parse("type = \"dense\"\nunits = 4").unwrap();
        let err = dense.output_shape(3, &[16, 5, 5]).unwrap_err().to_string();
        assert!(
            err.contains("layer 3 (dense)") && err.contains("[16, 5, 5]"),
            "{err}"
        );
        let conv = parse("type = \"conv2d\"\nfilters = 4\nkernel = 5").unwrap();
        let err = conv.output_shape(1, &[1, 3, 3]).unwrap_err().to_string();
        assert!(
            err.contains("layer 1 (conv2d)") && err.contains("[1, 3, 3]"),
            "{err}"
        );
        let err = conv.output_shape(0, &[64]).unwrap_err().to_string();
        assert!(err.contains("[64]"), "{err}");
        let drop = parse("type = \"dropout\"\nrate = 1.5").unwrap();
        assert!(drop.output_shape(0, &[4]).is_err());
    }

    #[test]
    fn sequence_layers_parse_check_and_build() {
        let cases: Vec<(&str, Vec<usize>, Vec<usize>)> = vec![
            (
                "type = \"embedding\"\ninput_dim = 100\noutput_dim = 8\nmask_zero = true",
                vec![7],
                vec![7, 8],
            ),
            ("type = \"simple_rnn\"\nunits = 5", vec![7, 8], vec![5]),
            (
                "type = \"lstm\"\nunits = 5\nreturn_sequences = true",
                vec![7, 8],
                vec![7, 5],
            ),
            ("type = \"gru\"\nunits = 5", vec![7, 8], vec![5]),
            (
                "type = \"bidirectional\"\nmerge = \"sum\"\nlayer = { type = \"gru\", units = 5, return_sequences = true }",
                vec![7, 8],
                vec![7, 5],
            ),
            (
                "type = \"bidirectional\"\nlayer = { type = \"lstm\", units = 5 }",
                vec![7, 8],
                vec![10],
            ),
            (
                "type = \"positional_encoding\"\nkind = \"learned\"\nmax_len = 16",
                vec![7, 8],
                vec![7, 8],
            ),
            ("type = \"positional_encoding\"", vec![7, 8], vec![7, 8]),
            (
                "type = \"transformer_encoder\"\nheads = 2\nff_dim = 16\nlayers = 2\nnorm_first = true",
                vec![7, 8],
                vec![7, 8],
            ),
            ("type = \"global_avg_pool1d\"", vec![7, 8], vec![8]),
            ("type = \"global_max_pool1d\"", vec![7, 8], vec![8]),
            ("type = \"dense\"\nunits = 3", vec![7, 8], vec![7, 3]),
        ];
        let device = Device::flex();
        for (src, input, expected) in cases {
            let cfg = parse(src).unwrap();
            let back = parse(&toml::to_string(&cfg).unwrap()).unwrap();
            assert_eq!(cfg, back, "{src}");
            assert_eq!(cfg.output_shape(0, &input).unwrap(), expected, "{src}");
            let (layer, _) = cfg.build(0, &input, &device).unwrap();
            let x = match input.as_slice() {
                [t] => Features::Flat(burn::tensor::Tensor::ones([2, *t], &device)),
                [t, d] => Features::sequence(burn::tensor::Tensor::ones([2, *t, *d], &device)),
                _ => unreachable!(),
            };
            let mut want = vec![2];
            want.extend(&expected);
            assert_eq!(layer.forward(x, None).dims(), want, "{src}");
        }
    }

    #[test]
    fn sequence_shape_errors_name_the_layer() {
        let check = |src: &str, input: &[usize], needle: &str| {
            let err = parse(src)
                .unwrap()
                .output_shape(2, input)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
        };
        check(
            "type = \"transformer_encoder\"\nheads = 3\nff_dim = 8",
            &[5, 8],
            "layer 2 (transformer_encoder)",
        );
        check(
            "type = \"transformer_encoder\"\nheads = 3\nff_dim = 8",
            &[5, 8],
            "divisible",
        );
        check("type = \"lstm\"\nunits = 4", &[50], "layer 2 (lstm)");
        check("type = \"lstm\"\nunits = 4", &[50], "[50]");
        check(
            "type = \"embedding\"\ninput_dim = 9\noutput_dim = 2",
            &[5, 8],
            "layer 2 (embedding)",
        );
        check(
            "type = \"bidirectional\"\nlayer = { type = \"dense\", units = 4 }",
            &[5, 8],
            "recurrent",
        );
        check(
            "type = \"positional_encoding\"\nmax_len = 4",
            &[5, 8],
            "max_len",
        );
        check(
            "type = \"global_max_pool1d\"",
            &[1, 5, 5],
            "global_max_pool1d",
        );
        let err = parse("type = \"lstm\"\nunits = 4\nreturn_sequence = true").unwrap_err();
        assert!(err.to_string().contains("return_sequence"), "{err}");
    }
}
