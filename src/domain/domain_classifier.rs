//! Covariate shift by classification: a small network learns to tell the reference samples
//! from the new ones, and its ROC AUC on held-out samples says how far apart they are (0.5:
//! indistinguishable).

use burn::tensor::Device;

use super::{AucTest, auc_test};
use crate::data::{Dataset, PreprocessConfig, Targets};
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
    let side_data = |rows: [&[f32]; 2]| -> Result<Dataset> {
        let labels: Vec<u32> = (0..2)
            .flat_map(|k| std::iter::repeat_n(k as u32, rows[k].len() / d))
            .collect();
        Dataset::new(
            rows.concat(),
            vec![d],
            Targets::Classes {
                labels,
                num_classes: 2,
            },
        )
    };
    let (mut train, mut held) = (side_data(fit_rows)?, side_data(held_rows)?);
    let standardize = PreprocessConfig::Standardize {}.fit(&train)?;
    standardize.transform(&mut train)?;
    standardize.transform(&mut held)?;
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
