//! Covariate shift by classification: a small network learns to tell the reference samples
//! from the new ones, and its ROC AUC on held-out samples says how far apart they are (0.5:
//! indistinguishable).

use burn::tensor::Device;

use super::{AucTest, auc_test};
use crate::data::{Dataset, Targets};
use crate::losses::LossConfig;
use crate::model::{ActivationKind, LayerConfig, SequentialConfig};
use crate::optim::OptimizerConfig;
use crate::train::metrics::roc_auc;
use crate::train::{FitConfig, Silent, fit, predict};
use crate::{Error, Result};

/// Trains a small classifier (inputs standardised on the training rows, dense 64 ReLU, dense 2,
/// Adam 1e-3, batch 64, `epochs`) to tell the `fit` rows of the reference (`[0]`) from those of
/// the new data (`[1]`), and measures its AUC on the `held` rows; rows have `d` values.
pub fn domain_classifier_auc(
    fit_rows: [&[f32]; 2],
    held_rows: [&[f32]; 2],
    d: usize,
    epochs: usize,
    seed: u64,
    device: &Device,
) -> Result<AucTest> {
    let pooled: Vec<f32> = fit_rows.concat();
    let (mean, scale) = standardiser(&pooled, d);
    let side_data = |rows: [&[f32]; 2]| -> Result<Dataset> {
        let features: Vec<f32> = rows
            .concat()
            .chunks(d)
            .flat_map(|r| {
                r.iter()
                    .zip(&mean)
                    .zip(&scale)
                    .map(|((v, m), s)| (v - m) / s)
            })
            .collect();
        let labels: Vec<u32> = (0..2)
            .flat_map(|k| std::iter::repeat_n(k as u32, rows[k].len() / d))
            .collect();
        Dataset::new(
            features,
            vec![d],
            Targets::Classes {
                labels,
                num_classes: 2,
            },
        )
    };
    let (train, held) = (side_data(fit_rows)?, side_data(held_rows)?);
    let config = SequentialConfig::new()
        .add(LayerConfig::dense(64, ActivationKind::Relu))
        .add(LayerConfig::dense(2, ActivationKind::Softmax));
    let train_device = device.clone().autodiff();
    train_device.seed(seed);
    let model = config.build(&[d], &train_device)?;
    let adam = OptimizerConfig::adam(1e-3);
    let loss = LossConfig::SparseCategoricalCrossentropy;
    let mut cfg = FitConfig::new(loss, adam, epochs, 64);
    cfg.seed = seed;
    let trained = fit(model, &train, None, &cfg, &train_device, &mut Silent)?.model;
    let probs = predict(&trained, loss, &held, 512, device);
    let scores: Vec<f32> = probs.chunks(2).map(|p| p[1]).collect();
    let Targets::Classes { labels, .. } = &held.targets else {
        unreachable!("built with classes")
    };
    let positives: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
    let auc = roc_auc(&scores, &positives).ok_or_else(|| {
        Error::invalid(
            "shift",
            "the domain classifier's scores are not finite: the features hold NaN or infinite values",
        )
    })?;
    let n_new = positives.iter().filter(|&&p| p).count();
    Ok(auc_test(auc, n_new, positives.len() - n_new))
}

/// Per-feature mean and standard deviation (1 where a feature is constant).
fn standardiser(rows: &[f32], d: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (rows.len() / d).max(1) as f64;
    let mut mean = vec![0.0f64; d];
    let mut sq = vec![0.0f64; d];
    for r in rows.chunks(d) {
        for (j, &v) in r.iter().enumerate() {
            mean[j] += v as f64 / n;
            sq[j] += (v as f64) * (v as f64) / n;
        }
    }
    let scale = sq
        .iter()
        .zip(&mean)
        .map(|(s, m)| {
            let sd = (s - m * m).max(0.0).sqrt();
            if sd > 1e-6 { sd as f32 } else { 1.0 }
        })
        .collect();
    (mean.iter().map(|&m| m as f32).collect(), scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    fn gaussian(n: usize, d: usize, mean: f32, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(mean, 1.0).unwrap();
        (0..n * d).map(|_| normal.sample(&mut rng)).collect()
    }

    #[test]
    fn shifted_samples_are_told_apart_and_alike_ones_are_not() {
        let device = Device::flex();
        let (n, d) = (150, 4);
        let alike = domain_classifier_auc(
            [&gaussian(n, d, 0.0, 1), &gaussian(n, d, 0.0, 2)],
            [&gaussian(n, d, 0.0, 3), &gaussian(n, d, 0.0, 4)],
            d,
            10,
            1,
            &device,
        )
        .unwrap();
        assert!(alike.low < 0.5 && alike.high > 0.5, "{alike:?}");
        let shifted = domain_classifier_auc(
            [&gaussian(n, d, 0.0, 1), &gaussian(n, d, 1.0, 2)],
            [&gaussian(n, d, 0.0, 3), &gaussian(n, d, 1.0, 4)],
            d,
            10,
            1,
            &device,
        )
        .unwrap();
        // Mean shift 1 in 4 dimensions: the best AUC is Φ(2 / √2) ≈ 0.92.
        assert!(shifted.auc > 0.85 && shifted.p_value < 1e-6, "{shifted:?}");
    }
}
