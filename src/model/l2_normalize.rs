//! Scales each sample's vector to unit Euclidean length: the last layer of an embedding
//! network whose distances should ignore scale (FaceNet's embeddings live on the unit sphere).

use burn::module::Module;

use super::Features;

/// Smallest norm divided by; keeps an all-zero vector finite.
const EPS: f32 = 1e-12;

/// `x / max(|x|, eps)` per sample.
#[derive(Module, Debug, Default)]
pub struct L2Normalize;

impl L2Normalize {
    /// # Shapes
    /// - input: `[batch, dims]`; output: `[batch, dims]`
    pub fn forward(&self, x: Features) -> Features {
        let x = x.into_flat();
        // Clamp before the root: sqrt's gradient at 0 is infinite (a ReLU can zero a row).
        let norm = x
            .clone()
            .powi_scalar(2)
            .sum_dim(1)
            .clamp_min(EPS * EPS)
            .sqrt();
        Features::Flat(x / norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Tensor, TensorData};

    #[test]
    fn rows_get_unit_length_and_zero_stays_zero() {
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![3.0f32, 4.0, 0.0, 0.0], [2, 2]),
            &Device::flex(),
        );
        let y: Vec<f32> = L2Normalize
            .forward(Features::Flat(x))
            .into_flat()
            .into_data()
            .iter::<f32>()
            .collect();
        assert_eq!(y, vec![0.6, 0.8, 0.0, 0.0]);
    }

    #[test]
    fn a_zero_row_has_a_finite_gradient() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![3.0f32, 4.0, 0.0, 0.0], [2, 2]),
            &device,
        )
        .require_grad();
        let y = L2Normalize.forward(Features::Flat(x.clone())).into_flat();
        let g = x.grad(&y.sum().backward()).unwrap();
        assert!(g.into_data().iter::<f32>().all(f32::is_finite));
    }
}
