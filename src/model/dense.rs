//! Fully connected layer (SPEC F1): `y = act(x W + b)`.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::activation::{Activation, ActivationKind};
use super::features::Features;
use super::initializer::InitKind;

/// A dense layer with its activation.
#[derive(Module, Debug)]
pub struct Dense {
    /// Weights `[d_in, units]` and bias `[units]`.
    pub linear: Linear,
    /// Applied after the affine map.
    pub activation: Activation,
}

impl Dense {
    /// A new layer; weights follow `init`, the bias starts at zero (Keras' default).
    pub fn new(
        d_input: usize,
        units: usize,
        activation: ActivationKind,
        init: InitKind,
        bias: bool,
        device: &Device,
    ) -> Self {
        let mut linear = LinearConfig::new(d_input, units)
            .with_bias(bias)
            .with_initializer(init.to_burn())
            .init(device);
        if bias {
            linear.bias = Some(Param::from_tensor(Tensor::zeros([units], device)));
        }
        Self {
            linear,
            activation: activation.init(units, device),
        }
    }

    /// Applies the layer to the last axis.
    ///
    /// # Shapes
    /// - input: `[batch, d_in]` or `[batch, time, d_in]`
    /// - output: `[batch, units]` or `[batch, time, units]`
    pub fn forward(&self, x: Features) -> Features {
        let y = match x {
            Features::Flat(x) => Features::Flat(self.linear.forward(x)),
            Features::Sequence { values, mask } => Features::Sequence {
                values: self.linear.forward(values),
                mask,
            },
            Features::Image(_) => unreachable!("checked when the model is built"),
        };
        self.activation.forward(y)
    }
}
