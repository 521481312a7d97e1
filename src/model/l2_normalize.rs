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
        let norm = x.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(EPS);
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
}
