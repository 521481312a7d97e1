//! Weight initialisers (SPEC F3): Xavier/Glorot and He, normal and uniform.

use burn::module::Initializer;
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Tensor};

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
}
