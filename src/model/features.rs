//! A batch of activations whose rank depends on the layer: flat vectors, sequences or images.

use burn::tensor::Tensor;

/// Activations flowing between layers of a [`Sequential`](super::Sequential).
///
/// The rank is known only when the model is built from a recipe, so layers pass this enum
/// rather than a fixed-rank tensor.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // moved by value once per layer; boxing buys nothing
pub enum Features {
    /// `[batch, features]`.
    Flat(Tensor<2>),
    /// `[batch, time, features]`, with an optional padding mask.
    Sequence {
        /// `[batch, time, features]`.
        values: Tensor<3>,
        /// `[batch, time]`: 1.0 for a real step, 0.0 for padding (Keras' `mask_zero`).
        /// Layers that only look at one step at a time pass it on unchanged; recurrent
        /// layers, time pooling and attention honour it.
        mask: Option<Tensor<2>>,
    },
    /// `[batch, channels, height, width]`.
    Image(Tensor<4>),
}

impl Features {
    /// A sequence without a mask (every step is real).
    pub fn sequence(values: Tensor<3>) -> Self {
        Features::Sequence { values, mask: None }
    }

    /// The full shape, batch dimension first.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            Features::Flat(x) => x.dims().to_vec(),
            Features::Sequence { values, .. } => values.dims().to_vec(),
            Features::Image(x) => x.dims().to_vec(),
        }
    }

    /// The padding mask of a sequence, if it has one.
    pub fn mask(&self) -> Option<&Tensor<2>> {
        match self {
            Features::Sequence { mask, .. } => mask.as_ref(),
            _ => None,
        }
    }

    /// The flat tensor; panics on another rank (shapes are checked when the model is built).
    pub fn into_flat(self) -> Tensor<2> {
        match self {
            Features::Flat(x) => x,
            other => panic!("expected flat features, got shape {:?}", other.dims()),
        }
    }

    /// The sequence and its mask; panics on another rank (shapes are checked when the model
    /// is built).
    pub fn into_sequence(self) -> (Tensor<3>, Option<Tensor<2>>) {
        match self {
            Features::Sequence { values, mask } => (values, mask),
            other => panic!("expected sequence features, got shape {:?}", other.dims()),
        }
    }

    /// The image tensor; panics on another rank (shapes are checked when the model is built).
    pub fn into_image(self) -> Tensor<4> {
        match self {
            Features::Image(x) => x,
            other => panic!("expected image features, got shape {:?}", other.dims()),
        }
    }

    /// Flattens everything but the batch dimension (a sequence's mask is dropped).
    pub fn flatten(self) -> Tensor<2> {
        match self {
            Features::Flat(x) => x,
            Features::Sequence { values, .. } => values.flatten(1, 2),
            Features::Image(x) => x.flatten(1, 3),
        }
    }

    /// Applies `f` to the tensor whatever its rank; a sequence keeps its mask.
    pub fn map(self, f: impl TensorFn) -> Features {
        match self {
            Features::Flat(x) => Features::Flat(f.apply(x)),
            Features::Sequence { values, mask } => Features::Sequence {
                values: f.apply(values),
                mask,
            },
            Features::Image(x) => Features::Image(f.apply(x)),
        }
    }
}

impl std::ops::Add for Features {
    type Output = Features;

    /// Element-wise sum of two activations of the same shape (skip connections); a sequence
    /// keeps the left operand's mask (or the right one's if the left has none).
    fn add(self, other: Features) -> Features {
        match (self, other) {
            (Features::Flat(a), Features::Flat(b)) => Features::Flat(a + b),
            (
                Features::Sequence {
                    values: a,
                    mask: ma,
                },
                Features::Sequence {
                    values: b,
                    mask: mb,
                },
            ) => Features::Sequence {
                values: a + b,
                mask: ma.or(mb),
            },
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
