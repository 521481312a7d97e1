//! A batch of activations whose rank depends on the layer: flat vectors, sequences or images.

use burn::tensor::Tensor;

/// Activations flowing between layers of a [`Sequential`](super::Sequential).
///
/// The rank is known only when the model is built from a recipe, so layers pass this enum
/// rather than a fixed-rank tensor.
#[derive(Debug, Clone)]
pub enum Features {
    /// `[batch, features]`.
    Flat(Tensor<2>),
    /// `[batch, time, features]`.
    Sequence(Tensor<3>),
    /// `[batch, channels, height, width]`.
    Image(Tensor<4>),
}

impl Features {
    /// The full shape, batch dimension first.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            Features::Flat(x) => x.dims().to_vec(),
            Features::Sequence(x) => x.dims().to_vec(),
            Features::Image(x) => x.dims().to_vec(),
        }
    }

    /// The flat tensor; panics on another rank (shapes are checked when the model is built).
    pub fn into_flat(self) -> Tensor<2> {
        match self {
            Features::Flat(x) => x,
            other => panic!("expected flat features, got shape {:?}", other.dims()),
        }
    }

    /// The image tensor; panics on another rank (shapes are checked when the model is built).
    pub fn into_image(self) -> Tensor<4> {
        match self {
            Features::Image(x) => x,
            other => panic!("expected image features, got shape {:?}", other.dims()),
        }
    }

    /// Flattens everything but the batch dimension.
    pub fn flatten(self) -> Tensor<2> {
        match self {
            Features::Flat(x) => x,
            Features::Sequence(x) => x.flatten(1, 2),
            Features::Image(x) => x.flatten(1, 3),
        }
    }

    /// Applies `f` to the tensor whatever its rank.
    pub fn map(self, f: impl TensorFn) -> Features {
        match self {
            Features::Flat(x) => Features::Flat(f.apply(x)),
            Features::Sequence(x) => Features::Sequence(f.apply(x)),
            Features::Image(x) => Features::Image(f.apply(x)),
        }
    }
}

impl std::ops::Add for Features {
    type Output = Features;

    /// Element-wise sum of two activations of the same shape (skip connections).
    fn add(self, other: Features) -> Features {
        match (self, other) {
            (Features::Flat(a), Features::Flat(b)) => Features::Flat(a + b),
            (Features::Sequence(a), Features::Sequence(b)) => Features::Sequence(a + b),
            (Features::Image(a), Features::Image(b)) => Features::Image(a + b),
            (a, b) => panic!("cannot add shapes {:?} and {:?}", a.dims(), b.dims()),
        }
    }
}

/// A rank-generic tensor function, so one closure-like value works on every variant.
pub trait TensorFn {
    /// Applies the function.
    fn apply<const D: usize>(&self, x: Tensor<D>) -> Tensor<D>;
}
