//! Token embedding (Keras' `Embedding`): a lookup table from integer ids to vectors.
//!
//! Ids arrive as a flat batch of f32 values (`[batch, maxlen]`, as a dataset stores them)
//! and are cast to integers. Data is only seen after the model is built, so an id outside
//! `[0, input_dim)` cannot be rejected up front; rather than letting the lookup panic mid
//! training, ids are clamped into range (a negative id reads row 0, an id `>= input_dim`
//! reads the last row). Keep the vocabulary within `input_dim`, e.g. with Keras'
//! `num_words`.

use burn::module::{Initializer, Module};
use burn::nn::{Embedding as BurnEmbedding, EmbeddingConfig};
use burn::tensor::Device;

use super::features::Features;

/// Keras' default embedding initialiser, `uniform(-0.05, 0.05)`.
const INIT: Initializer = Initializer::Uniform {
    min: -0.05,
    max: 0.05,
};

/// An embedding table `[input_dim, output_dim]`.
#[derive(Module, Debug)]
pub struct Embedding {
    /// Burn's table.
    pub inner: BurnEmbedding,
    /// Whether id 0 is padding: the output sequence then carries the mask `id != 0`.
    pub mask_zero: bool,
}

impl Embedding {
    /// A table of `input_dim` vectors of size `output_dim`.
    pub fn new(input_dim: usize, output_dim: usize, mask_zero: bool, device: &Device) -> Self {
        Self {
            inner: EmbeddingConfig::new(input_dim, output_dim)
                .with_initializer(INIT)
                .init(device),
            mask_zero,
        }
    }

    /// # Shapes
    /// - input: `[batch, time]` ids (as floats)
    /// - output: `[batch, time, output_dim]`, with the mask `[batch, time]` if `mask_zero`
    pub fn forward(&self, x: Features) -> Features {
        let ids = x.into_flat();
        let last = self.inner.weight.dims()[0].saturating_sub(1) as f32;
        let mask = self
            .mask_zero
            .then(|| ids.clone().not_equal_elem(0.0).float());
        let values = self.inner.forward(ids.clamp(0.0, last).int());
        Features::Sequence { values, mask }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Tensor, TensorData};

    fn ids(v: &[f32], device: &Device) -> Features {
        Features::Flat(Tensor::from_data(
            TensorData::new(v.to_vec(), [1, v.len()]),
            device,
        ))
    }

    #[test]
    fn looks_up_rows_and_masks_zero() {
        let device = Device::flex();
        let emb = Embedding::new(5, 3, true, &device);
        let table: Vec<f32> = emb.inner.weight.val().into_data().try_to_vec().unwrap();
        assert!(table.iter().all(|w| w.abs() <= 0.05));
        let (values, mask) = emb.forward(ids(&[0., 2., 4.], &device)).into_sequence();
        assert_eq!(values.dims(), [1, 3, 3]);
        let got: Vec<f32> = values.into_data().try_to_vec().unwrap();
        assert_eq!(&got[3..6], &table[6..9]);
        let mask: Vec<f32> = mask.unwrap().into_data().try_to_vec().unwrap();
        assert_eq!(mask, vec![0., 1., 1.]);
    }

    #[test]
    fn out_of_range_ids_are_clamped() {
        let device = Device::flex();
        let emb = Embedding::new(4, 2, false, &device);
        let table: Vec<f32> = emb.inner.weight.val().into_data().try_to_vec().unwrap();
        let (values, mask) = emb.forward(ids(&[-3., 99.], &device)).into_sequence();
        assert!(mask.is_none());
        let got: Vec<f32> = values.into_data().try_to_vec().unwrap();
        assert_eq!(&got[..2], &table[..2]);
        assert_eq!(&got[2..], &table[6..]);
    }
}
