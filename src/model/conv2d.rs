//! 2-D convolution (SPEC F1) with stride and `valid`/`same` padding, as in Keras' `Conv2D`.

use burn::module::{Module, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d as BurnConv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::activation::{Activation, ActivationKind};
use super::features::Features;
use super::initializer::InitKind;
use crate::kernels;

/// Keras' padding modes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding: the output shrinks by `kernel - 1`.
    #[default]
    Valid,
    /// Zero padding so that `out = ceil(in / stride)`.
    Same,
}

impl Padding {
    /// Output length along one axis.
    ///
    /// ```text
    /// valid: floor((n - k) / s) + 1        same: ceil(n / s)
    /// ```
    pub fn output_len(self, n: usize, kernel: usize, stride: usize) -> Option<usize> {
        match self {
            Padding::Valid if n >= kernel => Some((n - kernel) / stride + 1),
            Padding::Valid => None,
            Padding::Same => Some(n.div_ceil(stride)),
        }
    }
}

/// A convolution followed by its activation.
#[derive(Module, Debug)]
pub struct Conv2d {
    /// Weights `[filters, channels, kh, kw]`, bias `[filters]`.
    pub conv: BurnConv2d,
    /// Applied after the convolution.
    pub activation: Activation,
}

/// Everything needed to build a [`Conv2d`].
#[derive(Debug, Clone, Copy)]
pub struct Conv2dSpec {
    /// Input channels.
    pub channels: usize,
    /// Output channels.
    pub filters: usize,
    /// Kernel `[height, width]`.
    pub kernel: [usize; 2],
    /// Stride `[height, width]`.
    pub stride: [usize; 2],
    /// Padding mode.
    pub padding: Padding,
    /// Activation after the convolution.
    pub activation: ActivationKind,
    /// Weight initialiser.
    pub init: InitKind,
    /// Whether to learn a bias.
    pub bias: bool,
}

impl Conv2dSpec {
    /// Builds the layer; the bias starts at zero.
    pub fn init(&self, device: &Device) -> Conv2d {
        let padding = match self.padding {
            Padding::Valid => PaddingConfig2d::Valid,
            Padding::Same => PaddingConfig2d::Same,
        };
        let mut conv = Conv2dConfig::new([self.channels, self.filters], self.kernel)
            .with_stride(self.stride)
            .with_padding(padding)
            .with_bias(self.bias)
            .with_initializer(self.init.to_burn())
            .init(device);
        if self.bias {
            conv.bias = Some(Param::from_tensor(Tensor::zeros([self.filters], device)));
        }
        Conv2d {
            conv,
            activation: self.activation.init(self.filters, device),
        }
    }
}

impl Conv2d {
    /// # Shapes
    /// - input: `[batch, channels, h, w]`
    /// - output: `[batch, filters, h', w']`
    pub fn forward(&self, x: Features) -> Features {
        let x = x.into_image();
        let conv = &self.conv;
        let y = match self.kernel_padding(&x) {
            Some(padding) => {
                let (w, b) = (conv.weight.val(), conv.bias.as_ref().map(|b| b.val()));
                if self.activation.kind() == ActivationKind::Relu {
                    return Features::Image(kernels::conv2d_relu(x, w, b, conv.stride, padding));
                }
                kernels::conv2d(x, w, b, conv.stride, padding)
            }
            None => conv.forward(x),
        };
        self.activation.forward(Features::Image(y))
    }

    /// Whether [`forward_max_pool2`](Self::forward_max_pool2) can fuse this layer with a
    /// following 2x2 / stride-2 max pooling: ReLU, valid or same padding, no dilation, one group.
    pub fn fuses_max_pool2(&self) -> bool {
        let conv = &self.conv;
        self.activation.kind() == ActivationKind::Relu
            && conv.dilation == [1, 1]
            && conv.groups == 1
            && !matches!(conv.padding, PaddingConfig2d::Explicit(..))
    }

    /// This layer, then 2x2 / stride-2 max pooling, as one fused op; only where
    /// [`fuses_max_pool2`](Self::fuses_max_pool2) holds.
    pub fn forward_max_pool2(&self, x: Features) -> Features {
        let x = x.into_image();
        let conv = &self.conv;
        let padding = self
            .kernel_padding(&x)
            .expect("forward_max_pool2 on a layer that does not fuse");
        let (w, b) = (conv.weight.val(), conv.bias.as_ref().map(|b| b.val()));
        Features::Image(kernels::conv2d_relu_max_pool2(
            x,
            w,
            b,
            conv.stride,
            padding,
        ))
    }

    /// The `[(top, bottom), (left, right)]` zero padding for manabi's kernels, or `None` where
    /// only Burn's convolution applies (explicit padding, dilation, groups).
    fn kernel_padding(&self, x: &Tensor<4>) -> Option<[(usize, usize); 2]> {
        let conv = &self.conv;
        let [_, _, h, w] = x.dims();
        let (k, st) = (conv.kernel_size, conv.stride);
        if conv.dilation != [1, 1] || conv.groups != 1 {
            return None;
        }
        match conv.padding {
            PaddingConfig2d::Valid => Some([(0, 0), (0, 0)]),
            PaddingConfig2d::Same => {
                Some([same_padding(h, k[0], st[0]), same_padding(w, k[1], st[1])])
            }
            PaddingConfig2d::Explicit(..) => None,
        }
    }
}

/// Leading and trailing zero padding along one axis, placed as Keras and Burn place it for
/// `same` (an odd total puts the extra row at the end).
fn same_padding(n: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let needed = (n.div_ceil(stride).max(1) - 1) * stride + kernel;
    let total = needed.saturating_sub(n);
    (total / 2, total - total / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lengths_follow_keras() {
        assert_eq!(Padding::Valid.output_len(28, 3, 1), Some(26));
        assert_eq!(Padding::Valid.output_len(13, 3, 1), Some(11));
        assert_eq!(Padding::Valid.output_len(14, 3, 2), Some(6));
        assert_eq!(Padding::Valid.output_len(2, 3, 1), None);
        assert_eq!(Padding::Same.output_len(28, 3, 1), Some(28));
        assert_eq!(Padding::Same.output_len(14, 3, 2), Some(7));
        assert_eq!(Padding::Same.output_len(15, 3, 2), Some(8));
    }

    #[test]
    fn same_padding_with_stride_runs_and_matches_shape() {
        let device = Device::flex();
        let spec = Conv2dSpec {
            channels: 2,
            filters: 4,
            kernel: [3, 3],
            stride: [2, 2],
            padding: Padding::Same,
            activation: ActivationKind::Relu,
            init: InitKind::HeNormal,
            bias: true,
        };
        let layer = spec.init(&device);
        let x = Features::Image(Tensor::zeros([3, 2, 15, 15], &device));
        assert_eq!(layer.forward(x).dims(), vec![3, 4, 8, 8]);
    }
}
