//! Residual block (He et al. 2016; seed 001 9.4): `act(x + f(x))`, with a projection on the
//! skip path when `f` changes the shape.

use burn::module::Module;
use burn::tensor::Device;

use super::activation::{Activation, ActivationKind};
use super::conv2d::{Conv2d, Conv2dSpec, Padding};
use super::dense::Dense;
use super::features::Features;
use super::initializer::InitKind;
use super::layer::{Layer, LayerConfig};
use crate::{Error, Result};

/// Whether a 1x1 "same" convolution (images) or a dense map (vectors) can take the skip path
/// from `input` to `output`.
pub fn projectable(input: &[usize], output: &[usize]) -> bool {
    match (input, output) {
        ([_, h, w], [_, oh, ow]) => {
            let (sh, sw) = (h.div_ceil(*oh), w.div_ceil(*ow));
            *oh > 0 && *ow > 0 && h.div_ceil(sh) == *oh && w.div_ceil(sw) == *ow
        }
        ([_], [_]) => true,
        _ => false,
    }
}

/// A skip connection around a stack of layers.
#[derive(Module, Debug)]
pub struct Residual {
    /// The layers of `f`.
    pub body: Vec<Layer>,
    /// Maps `x` to `f(x)`'s shape when they differ.
    pub projection: Option<Projection>,
    /// Applied after the sum.
    pub activation: Activation,
}

/// The skip path's shape-matching map.
#[derive(Module, Debug)]
pub enum Projection {
    /// 1x1 convolution with the body's overall stride, for images.
    Conv(Conv2d),
    /// Linear map, for vectors.
    Dense(Dense),
}

impl Residual {
    /// Builds the block for `input`; `index` is the block's position, for errors.
    pub fn build(
        index: usize,
        layers: &[LayerConfig],
        activation: ActivationKind,
        input: &[usize],
        device: &Device,
    ) -> Result<Self> {
        let mut body = Vec::with_capacity(layers.len());
        let mut shape = input.to_vec();
        for (i, cfg) in layers.iter().enumerate() {
            let (layer, out) = cfg.build(i, &shape, device).map_err(|e| Error::Shape {
                index,
                layer: "residual".into(),
                message: format!("inner layer {i}: {e}"),
            })?;
            body.push(layer);
            shape = out;
        }
        let projection = if shape == input {
            None
        } else {
            Some(match (input, shape.as_slice()) {
                ([c, h, w], [f, oh, ow]) => {
                    let stride = [h.div_ceil(*oh), w.div_ceil(*ow)];
                    Projection::Conv(
                        Conv2dSpec {
                            channels: *c,
                            filters: *f,
                            kernel: [1, 1],
                            stride,
                            padding: Padding::Same,
                            activation: ActivationKind::Linear,
                            init: InitKind::HeNormal,
                            bias: false,
                        }
                        .init(device),
                    )
                }
                ([d], [units]) => Projection::Dense(Dense::new(
                    *d,
                    *units,
                    ActivationKind::Linear,
                    InitKind::GlorotUniform,
                    false,
                    device,
                )),
                _ => {
                    return Err(Error::Shape {
                        index,
                        layer: "residual".into(),
                        message: format!(
                            "cannot project the skip path from {input:?} to {shape:?}"
                        ),
                    });
                }
            })
        };
        let channels = shape.first().copied().unwrap_or(1);
        Ok(Self {
            body,
            projection,
            activation: activation.init(channels, device),
        })
    }

    /// # Shapes
    /// - input: any; output: the body's output shape
    pub fn forward(&self, x: Features) -> Features {
        let skip = match &self.projection {
            None => x.clone(),
            Some(Projection::Conv(p)) => p.forward(x.clone()),
            Some(Projection::Dense(p)) => p.forward(x.clone()),
        };
        let mut y = x;
        for layer in &self.body {
            y = layer.forward(y, None);
        }
        self.activation.forward(y + skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    #[test]
    fn identity_body_doubles_the_input() {
        // f = a linear activation, so act(x + f(x)) = 2x
        let device = Device::flex();
        let layers = vec![LayerConfig::Activation {
            activation: ActivationKind::Linear,
        }];
        let block = Residual::build(0, &layers, ActivationKind::Linear, &[3], &device).unwrap();
        assert!(block.projection.is_none());
        let x = Features::Flat(Tensor::<1>::from_floats([1.0, -2.0, 3.0], &device).reshape([1, 3]));
        let y: Vec<f32> = block
            .forward(x)
            .into_flat()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(y, vec![2.0, -4.0, 6.0]);
    }

    #[test]
    fn valid_padding_bodies_that_the_skip_path_cannot_match_are_rejected() {
        assert!(projectable(&[4, 14, 14], &[8, 7, 7]));
        assert!(projectable(&[4, 15, 15], &[8, 8, 8]));
        assert!(!projectable(&[4, 8, 8], &[8, 6, 6]));
        let cfg: LayerConfig = toml::from_str(
            "type = \"residual\"\n[[layers]]\ntype = \"conv2d\"\nfilters = 8\nkernel = 3",
        )
        .unwrap();
        let err = cfg.output_shape(2, &[4, 8, 8]).unwrap_err().to_string();
        assert!(
            err.contains("layer 2 (residual)") && err.contains("same"),
            "{err}"
        );
    }

    #[test]
    fn strided_body_gets_a_projection() {
        let device = Device::flex();
        let layers: Vec<LayerConfig> = toml::from_str::<toml::Table>(
            "l = [{type = \"conv2d\", filters = 8, kernel = 3, stride = 2, padding = \"same\"}]",
        )
        .unwrap()["l"]
            .clone()
            .try_into()
            .unwrap();
        let block =
            Residual::build(0, &layers, ActivationKind::Relu, &[4, 14, 14], &device).unwrap();
        assert!(block.projection.is_some());
        let x = Features::Image(Tensor::zeros([2, 4, 14, 14], &device));
        assert_eq!(block.forward(x).dims(), vec![2, 8, 7, 7]);
    }
}
