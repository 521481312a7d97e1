//! Position information added to a sequence: fixed sinusoids (Vaswani et al. 2017,
//! "Attention Is All You Need", arXiv:1706.03762) or a learned table per position.
//!
//! ```text
//! PE(pos, 2i)   = sin(pos / 10000^(2i / d))
//! PE(pos, 2i+1) = cos(pos / 10000^(2i / d))
//! ```

use burn::module::{Initializer, Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::features::Features;

/// Which encoding a [`PositionalEncoding`] adds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PositionKind {
    /// Fixed sinusoids, no parameters.
    #[default]
    Sinusoidal,
    /// A learned vector per position, `[max_len, d]` parameters.
    Learned,
}

/// Adds a position code to each step of a sequence.
#[derive(Module, Debug)]
pub struct PositionalEncoding {
    /// The learned table `[max_len, d]`, uniform(-0.05, 0.05) as Keras' `Embedding`;
    /// `None` for sinusoids, computed for the sequence's length.
    pub table: Option<Param<Tensor<2>>>,
}

impl PositionalEncoding {
    /// An encoding for sequences of up to `max_len` steps of size `d`.
    pub fn new(kind: PositionKind, max_len: usize, d: usize, device: &Device) -> Self {
        let table = match kind {
            PositionKind::Sinusoidal => None,
            PositionKind::Learned => Some(
                Initializer::Uniform {
                    min: -0.05,
                    max: 0.05,
                }
                .init([max_len, d], device),
            ),
        };
        Self { table }
    }

    /// # Shapes
    /// - input and output: `[batch, time, d]` (the mask passes through)
    pub fn forward(&self, x: Features) -> Features {
        let (values, mask) = x.into_sequence();
        let [_, t, d] = values.dims();
        let code = match &self.table {
            None => sinusoids(t, d, &values.device()),
            Some(table) => table.val().slice([0..t, 0..d]),
        };
        Features::Sequence {
            values: values + code.unsqueeze::<3>(), // [batch, time, d]
            mask,
        }
    }
}

/// The `[len, d]` table of sinusoids.
pub fn sinusoids(len: usize, d: usize, device: &Device) -> Tensor<2> {
    let mut table = Vec::with_capacity(len * d);
    for pos in 0..len {
        for j in 0..d {
            let angle = pos as f64 / 10000f64.powf((j - j % 2) as f64 / d as f64);
            table.push(if j % 2 == 0 { angle.sin() } else { angle.cos() } as f32);
        }
    }
    Tensor::from_data(TensorData::new(table, [len, d]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinusoids_follow_the_formula() {
        let pe: Vec<f32> = sinusoids(3, 4, &Device::flex())
            .into_data()
            .try_to_vec()
            .unwrap();
        // pos 0: sin 0, cos 0, sin 0, cos 0
        assert_eq!(&pe[..4], &[0., 1., 0., 1.]);
        // pos 2, i = 1: angle 2 / 10000^(2/4) = 0.02
        assert!((pe[8 + 2] - 0.02f32.sin()).abs() < 1e-7);
        assert!((pe[8 + 3] - 0.02f32.cos()).abs() < 1e-7);
        assert!((pe[8] - 2f32.sin()).abs() < 1e-7);
    }

    #[test]
    fn adds_to_a_sequence_and_keeps_the_mask() {
        let device = Device::flex();
        let x = Features::Sequence {
            values: Tensor::zeros([2, 3, 4], &device),
            mask: Some(Tensor::ones([2, 3], &device)),
        };
        for kind in [PositionKind::Sinusoidal, PositionKind::Learned] {
            let y = PositionalEncoding::new(kind, 8, 4, &device).forward(x.clone());
            assert_eq!(y.dims(), vec![2, 3, 4]);
            assert!(y.mask().is_some());
        }
    }
}
