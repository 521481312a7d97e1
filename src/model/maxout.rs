//! Maxout (Goodfellow et al. 2013; seed 004): `units` outputs, each the maximum of `pieces`
//! affine maps of the input.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::features::Features;
use super::initializer::InitKind;

/// ```text
/// h_i(x) = max_{j in 1..k} (x W_ij + b_ij)
/// ```
#[derive(Module, Debug)]
pub struct Maxout {
    /// One affine map to `units * pieces` values.
    pub linear: Linear,
    /// Outputs.
    pub units: usize,
    /// Affine pieces per output (`k`).
    pub pieces: usize,
}

impl Maxout {
    /// A new maxout layer.
    pub fn new(
        d_input: usize,
        units: usize,
        pieces: usize,
        init: InitKind,
        device: &Device,
    ) -> Self {
        let mut linear = LinearConfig::new(d_input, units * pieces)
            .with_initializer(init.to_burn())
            .init(device);
        linear.bias = Some(Param::from_tensor(Tensor::zeros([units * pieces], device)));
        Self {
            linear,
            units,
            pieces,
        }
    }

    /// # Shapes
    /// - input: `[batch, d_in]`; output: `[batch, units]`
    pub fn forward(&self, x: Features) -> Features {
        let z = self.linear.forward(x.into_flat());
        let [b, _] = z.dims();
        // [batch, units, pieces] -> max over pieces
        let y = z.reshape([b, self.units, self.pieces]).max_dim(2);
        Features::Flat(y.reshape([b, self.units]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_max_of_each_group_of_pieces() {
        let device = Device::flex();
        let mut m = Maxout::new(2, 2, 3, InitKind::GlorotUniform, &device);
        // identity-like weights: piece values are chosen so each max is known
        let w =
            Tensor::<1>::from_floats([1., 2., 3., -1., -2., -3., 0., 0., 0., 0., 0., 0.], &device)
                .reshape([2, 6]);
        m.linear.weight = Param::from_tensor(w);
        let x = Features::Flat(Tensor::<1>::from_floats([1.0, 5.0], &device).reshape([1, 2]));
        let y: Vec<f32> = m
            .forward(x)
            .into_flat()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // pieces for unit 0: [1,2,3] -> 3 ; unit 1: [-1,-2,-3] -> -1
        assert_eq!(y, vec![3.0, -1.0]);
    }
}
