//! Weight initialisers (SPEC F3): Xavier/Glorot and He, normal and uniform.

use burn::module::Initializer;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// How a layer's weights are drawn. Biases always start at zero, as in Keras.
///
/// ```text
/// Glorot/Xavier (seed 004):  Var[w] = 2 / (fan_in + fan_out)
///   uniform: U(-sqrt(6/(fan_in+fan_out)), +sqrt(6/(fan_in+fan_out)))
/// He/Kaiming (seed 004):     Var[w] = 2 / fan_in
///   uniform: U(-sqrt(6/fan_in), +sqrt(6/fan_in))
/// ```
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum InitKind {
    /// Glorot/Xavier uniform (Keras' default).
    #[default]
    GlorotUniform,
    /// Glorot/Xavier normal.
    GlorotNormal,
    /// He/Kaiming uniform, for ReLU networks.
    HeUniform,
    /// He/Kaiming normal, for ReLU networks.
    HeNormal,
    /// All zeros.
    Zeros,
}

impl InitKind {
    /// Burn's initializer that draws with this rule.
    pub fn to_burn(self) -> Initializer {
        let he_gain = 2.0f64.sqrt();
        match self {
            InitKind::GlorotUniform => Initializer::XavierUniform { gain: 1.0 },
            InitKind::GlorotNormal => Initializer::XavierNormal { gain: 1.0 },
            InitKind::HeUniform => Initializer::KaimingUniform {
                gain: he_gain,
                fan_out_only: false,
            },
            InitKind::HeNormal => Initializer::KaimingNormal {
                gain: he_gain,
                fan_out_only: false,
            },
            InitKind::Zeros => Initializer::Zeros,
        }
    }
}

/// Keras' `Orthogonal` initialiser, for recurrent kernels: a `[rows, cols]` matrix with
/// orthonormal rows (if `rows <= cols`) or columns, drawn from the device's seeded RNG.
///
/// ```text
/// A ~ N(0, 1) of shape [max(r, c), min(r, c)];  A = Q R  (QR decomposition)
/// Q <- Q diag(sign(diag(R)))    (makes the draw uniform over orthogonal matrices)
/// W = Q, transposed when r < c
/// ```
pub fn orthogonal(rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    let (tall, short) = (rows.max(cols), rows.min(cols));
    let a: Vec<f32> = Tensor::<2>::random([tall, short], Distribution::Normal(0.0, 1.0), device)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap_or_default();
    let a = nalgebra::DMatrix::from_row_iterator(tall, short, a.into_iter().map(f64::from));
    let qr = a.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for j in 0..short {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    let q = if rows < cols { q.transpose() } else { q };
    let values: Vec<f32> = (0..rows)
        .flat_map(|i| (0..cols).map(move |j| (i, j)))
        .map(|(i, j)| q[(i, j)] as f32)
        .collect();
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variance(t: Tensor<2>) -> f64 {
        let v: Vec<f32> = t.into_data().try_to_vec::<f32>().unwrap();
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n
    }

    fn draw(kind: InitKind, fan_in: usize, fan_out: usize) -> Tensor<2> {
        let device = Device::flex();
        kind.to_burn()
            .init_with([fan_in, fan_out], Some(fan_in), Some(fan_out), &device)
            .val()
    }

    #[test]
    fn glorot_variance_is_two_over_fan_sum() {
        for kind in [InitKind::GlorotUniform, InitKind::GlorotNormal] {
            let var = variance(draw(kind, 300, 100));
            let expected = 2.0 / 400.0;
            assert!((var - expected).abs() < 0.1 * expected, "{kind:?}: {var}");
        }
    }

    #[test]
    fn he_variance_is_two_over_fan_in() {
        for kind in [InitKind::HeUniform, InitKind::HeNormal] {
            let var = variance(draw(kind, 200, 300));
            let expected = 2.0 / 200.0;
            assert!((var - expected).abs() < 0.1 * expected, "{kind:?}: {var}");
        }
    }

    #[test]
    fn orthogonal_rows_are_orthonormal() {
        let device = Device::flex();
        // [units, 4 units], as for an LSTM's recurrent kernel: W W^T = I.
        let w = orthogonal(3, 12, &device);
        let wwt: Vec<f32> = w
            .clone()
            .matmul(w.transpose())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (k, v) in wwt.iter().enumerate() {
            let want = if k % 4 == 0 { 1.0 } else { 0.0 };
            assert!((v - want).abs() < 1e-5, "{wwt:?}");
        }
    }
}
