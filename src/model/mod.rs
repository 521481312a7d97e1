//! Models (SPEC F1-F3): layers, activations, initialisers and the Keras-like [`Sequential`].

mod activation;
mod conv2d;
mod dense;
mod features;
mod initializer;
mod layer;
mod maxout;
mod norm;
mod pool;
mod residual;
mod sequential;
mod summary;

pub use activation::{Activation, ActivationKind};
pub use conv2d::{Conv2d, Conv2dSpec, Padding};
pub use dense::Dense;
pub use features::{Features, TensorFn};
pub use initializer::InitKind;
pub use layer::{Layer, LayerConfig, Size2};
pub use maxout::Maxout;
pub use norm::{BatchNorm, LayerNorm};
pub use pool::{Flatten, GlobalAvgPool, Pool2d, PoolKind};
pub use residual::{Projection, Residual};
pub use sequential::{Sequential, SequentialConfig};
pub use summary::{LayerSummary, Summary};
