//! Activation functions (SPEC F2): ReLU, PReLU, LeakyReLU, sigmoid, tanh, softmax, GELU.
//! Maxout has weights of its own and lives in [`super::maxout`].

use burn::module::Module;
use burn::nn::{PRelu, PReluConfig};
use burn::tensor::{Device, Tensor, activation};
use serde::{Deserialize, Serialize};

use super::features::{Features, TensorFn};

/// Which activation a layer applies (recipe name in snake case, e.g. `"relu"`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ActivationKind {
    /// Identity.
    #[default]
    Linear,
    /// `max(0, x)`.
    Relu,
    /// `x` if `x > 0` else `0.01 x` (Keras 3's default slope is 0.2; ours follows PyTorch).
    LeakyRelu,
    /// `x` if `x > 0` else `a x` with `a` learned per channel (He et al. 2015; seed 004).
    Prelu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `exp(x_i) / sum_j exp(x_j)` over the last axis.
    Softmax,
    /// `x * Phi(x)` (exact, erf-based).
    Gelu,
}

/// An activation as a module (only PReLU carries weights).
#[derive(Module, Debug)]
pub enum Activation {
    /// Parameter-free activation.
    Fixed(FixedActivation),
    /// Parametric ReLU.
    Prelu(PRelu),
}

/// A parameter-free activation.
#[derive(Module, Debug)]
pub struct FixedActivation {
    #[module(skip)]
    kind: ActivationKind,
}

impl ActivationKind {
    /// Builds the module; `channels` sizes PReLU's slopes (one per channel or unit).
    pub fn init(self, channels: usize, device: &Device) -> Activation {
        match self {
            ActivationKind::Prelu => Activation::Prelu(
                PReluConfig::new()
                    .with_num_parameters(channels)
                    .init(device),
            ),
            kind => Activation::Fixed(FixedActivation { kind }),
        }
    }

    /// Number of learned parameters for `channels` channels.
    pub fn num_params(self, channels: usize) -> usize {
        match self {
            ActivationKind::Prelu => channels,
            _ => 0,
        }
    }
}

impl TensorFn for ActivationKind {
    fn apply<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            ActivationKind::Linear | ActivationKind::Prelu => x,
            ActivationKind::Relu => activation::relu(x),
            ActivationKind::LeakyRelu => activation::leaky_relu(x, 0.01),
            ActivationKind::Sigmoid => activation::sigmoid(x),
            ActivationKind::Tanh => activation::tanh(x),
            ActivationKind::Softmax => activation::softmax(x, D - 1),
            ActivationKind::Gelu => activation::gelu(x),
        }
    }
}

impl Activation {
    /// Applies the activation.
    ///
    /// # Shapes
    /// - input and output: any rank, channels on axis 1 for PReLU.
    pub fn forward(&self, x: Features) -> Features {
        match self {
            Activation::Fixed(f) => x.map(f.kind),
            Activation::Prelu(p) => x.map(PreluFn(p)),
        }
    }

    /// The kind this module applies.
    pub fn kind(&self) -> ActivationKind {
        match self {
            Activation::Fixed(f) => f.kind,
            Activation::Prelu(_) => ActivationKind::Prelu,
        }
    }
}

struct PreluFn<'a>(&'a PRelu);

impl TensorFn for PreluFn<'_> {
    fn apply<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.0.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: ActivationKind, xs: [f32; 4]) -> Vec<f32> {
        let device = Device::flex();
        let x = Features::Flat(Tensor::<1>::from_floats(xs, &device).reshape([1, 4]));
        kind.init(4, &device)
            .forward(x)
            .into_flat()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    fn close(a: &[f32], b: &[f32]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn values_match_definitions() {
        let xs = [-2.0, -0.5, 0.0, 1.5];
        close(&run(ActivationKind::Relu, xs), &[0.0, 0.0, 0.0, 1.5]);
        close(
            &run(ActivationKind::LeakyRelu, xs),
            &[-0.02, -0.005, 0.0, 1.5],
        );
        // PReLU starts at slope 0.25.
        close(&run(ActivationKind::Prelu, xs), &[-0.5, -0.125, 0.0, 1.5]);
        close(
            &run(ActivationKind::Sigmoid, xs),
            &[0.119_202_92, 0.377_540_67, 0.5, 0.817_574_5],
        );
        close(
            &run(ActivationKind::Tanh, xs),
            &[-0.964_027_6, -0.462_117_16, 0.0, 0.905_148_25],
        );
        // torch.nn.functional.gelu(torch.tensor([-2., -.5, 0., 1.5]))
        close(
            &run(ActivationKind::Gelu, xs),
            &[-0.045_500_26, -0.154_268_77, 0.0, 1.399_782_5],
        );
        let sm = run(ActivationKind::Softmax, xs);
        close(&[sm.iter().sum::<f32>()], &[1.0]);
        // exp(x) / sum(exp(x)) for the largest entry
        let denom: f32 = xs.iter().map(|x| x.exp()).sum();
        close(&[sm[3]], &[1.5f32.exp() / denom]);
    }

    #[test]
    fn recipe_names_round_trip() {
        #[derive(Serialize, Deserialize)]
        struct W {
            a: ActivationKind,
        }
        let w: W = toml::from_str("a = \"leaky_relu\"").unwrap();
        assert_eq!(w.a, ActivationKind::LeakyRelu);
        assert!(toml::from_str::<W>("a = \"swish3\"").is_err());
    }
}
