//! `manabi shift` (SPEC D1): compares a reference sample with new data for covariate shift (a
//! domain classifier's held-out ROC AUC, and MMD with a permutation test), label shift (BBSE's
//! estimate of the new class priors from a trained classifier) and concept shift (the
//! classifier's accuracy on a few labelled new samples against its accuracy on the reference),
//! and plots both samples' features.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::files::write_atomic;
use super::train_run::load_trained_model;
use crate::data::{Dataset, Targets, load_builtin, pca_2d};
use crate::domain::{
    ConceptShift, MmdTest, bbse_priors, class_priors, domain_classifier_auc, mmd_test,
    resample_to_priors,
};
use crate::losses::LossConfig;
use crate::model::Sequential;
use crate::plot::plot_groups_2d;
use crate::recipe::{ShiftRecipe, ShiftSide, Split};
use crate::train::{backbone_features, predict, predicted_classes};
use crate::{Error, Result};

/// The MMD test's sample size per side (its kernel matrix grows as the square).
const MMD_SAMPLES: usize = 500;

/// What `manabi shift` found.
#[derive(Debug, Clone, Serialize)]
pub struct ShiftReport {
    /// The output folder (report, recipe, plot).
    pub dir: PathBuf,
    /// Samples on each side after slicing and resampling.
    pub sizes: [usize; 2],
    /// What was compared: `"inputs"` or the run's features after N layers.
    pub features: String,
    /// Covariate shift by a domain classifier.
    pub domain_auc: AucReport,
    /// Covariate shift by MMD.
    pub mmd: MmdReport,
    /// Whether either covariate test rejects "no shift" at `alpha`.
    pub covariate_shift: bool,
    /// Label shift (with a run).
    pub label_shift: Option<LabelShiftReport>,
    /// Concept shift (with a run and `labelled > 0`).
    pub concept_shift: Option<ConceptShift>,
    /// Significance level of the verdicts.
    pub alpha: f64,
}

/// The domain classifier's AUC on held-out samples.
#[derive(Debug, Clone, Serialize)]
pub struct AucReport {
    /// AUC of "new" against "reference".
    pub auc: f64,
    /// 95% interval.
    pub interval: [f64; 2],
    /// One-sided p-value of AUC = 0.5.
    pub p_value: f64,
    /// Held-out samples per side.
    pub held_out: usize,
}

/// The MMD two-sample test.
#[derive(Debug, Clone, Serialize)]
pub struct MmdReport {
    /// Unbiased MMD².
    pub mmd2: f64,
    /// Permutation p-value.
    pub p_value: f64,
    /// Samples per side.
    pub samples: usize,
    /// Permutations.
    pub permutations: usize,
}

/// Black-box shift estimation of the new class priors.
#[derive(Debug, Clone, Serialize)]
pub struct LabelShiftReport {
    /// The reference's class shares.
    pub reference_priors: Vec<f64>,
    /// BBSE's estimate of the new data's class shares.
    pub estimated_priors: Vec<f64>,
    /// The shares of the model's predictions on the new data (the naive estimate).
    pub predicted_shares: Vec<f64>,
    /// The new data's true class shares (read only to check the estimate).
    pub true_priors: Vec<f64>,
    /// Largest per-class gap between the estimate and the truth.
    pub max_error: f64,
}

/// Runs the comparison `recipe` describes and writes `shift.json`, the recipe and
/// `shift_features.png` into `out`. `device` has no autodiff.
pub fn shift_recipe(
    recipe: &ShiftRecipe,
    out: &Path,
    data_dir: Option<&Path>,
    device: &Device,
) -> Result<ShiftReport> {
    let s = &recipe.shift;
    let reference = load_side(&recipe.reference, "reference", data_dir, recipe.seed)?;
    let new = load_side(&recipe.new, "new", data_dir, recipe.seed ^ 1)?;
    if reference.sample_shape != new.sample_shape {
        return Err(Error::invalid(
            "new.preprocess",
            format!(
                "new samples have shape {:?}, reference samples {:?}: resize one side (e.g. {{ kind = \"resize\", height = 28, width = 28 }})",
                new.sample_shape, reference.sample_shape
            ),
        ));
    }
    let model = match &s.run {
        Some(dir) => Some(load_model(dir, s.layers, &reference, device)?),
        None => None,
    };
    std::fs::create_dir_all(out).map_err(|e| Error::io("creating", out, e))?;
    let features = |data: &Dataset| match &model {
        Some((m, layers)) => backbone_features(m, *layers, data, device),
        None => (data.features.clone(), data.sample_len()),
    };
    let (ref_x, d) = features(&reference);
    let (new_x, _) = features(&new);
    let mut rng = ChaCha8Rng::seed_from_u64(recipe.seed);
    let n = s.samples.min(reference.len()).min(new.len());
    let ref_draw = draw(reference.len(), n, &mut rng);
    let new_draw = draw(new.len(), n, &mut rng);
    let half = n / 2;
    let rows = |x: &[f32], idx: &[usize]| -> Vec<f32> {
        idx.iter()
            .flat_map(|&i| x[i * d..(i + 1) * d].iter().copied())
            .collect()
    };
    let (ref_fit, ref_held) = (
        rows(&ref_x, &ref_draw[..half]),
        rows(&ref_x, &ref_draw[half..]),
    );
    let (new_fit, new_held) = (
        rows(&new_x, &new_draw[..half]),
        rows(&new_x, &new_draw[half..]),
    );
    let auc = domain_classifier_auc(
        [&ref_fit, &new_fit],
        [&ref_held, &new_held],
        d,
        s.epochs,
        recipe.seed,
        device,
    )?;
    let held = n - half;
    let m = held.min(MMD_SAMPLES);
    let mmd: MmdTest = mmd_test(
        &ref_held[..m * d],
        &new_held[..m * d],
        d,
        s.permutations,
        recipe.seed,
    );
    let plot_points: Vec<f32> = ref_held.iter().chain(&new_held).copied().collect();
    let groups: Vec<u32> = (0..2 * held).map(|i| u32::from(i >= held)).collect();
    let title = format!(
        "{} vs {}: domain AUC {:.3}",
        recipe.reference.dataset, recipe.new.dataset, auc.auc
    );
    plot_groups_2d(
        &pca_2d(&plot_points, d),
        &groups,
        &["reference", "new"],
        &out.join("shift_features.png"),
        &title,
    )?;
    let (label_shift, concept_shift) = match &model {
        Some((m, _)) => {
            let labels = model_shift(m, &reference, &new, s.labelled, recipe.seed, device)?;
            (Some(labels.0), labels.1)
        }
        None => (None, None),
    };
    let report = ShiftReport {
        dir: out.to_path_buf(),
        sizes: [reference.len(), new.len()],
        features: match &model {
            Some((_, layers)) => format!("the run's features after {layers} layers"),
            None => "inputs".into(),
        },
        covariate_shift: auc.p_value < s.alpha || mmd.p_value < s.alpha,
        domain_auc: AucReport {
            auc: auc.auc,
            interval: [auc.low, auc.high],
            p_value: auc.p_value,
            held_out: held,
        },
        mmd: MmdReport {
            mmd2: mmd.mmd2,
            p_value: mmd.p_value,
            samples: m,
            permutations: s.permutations,
        },
        label_shift,
        concept_shift,
        alpha: s.alpha,
    };
    let json = serde_json::to_vec_pretty(&report).expect("the report serialises");
    write_atomic(&out.join("shift.json"), &json)?;
    let text = toml::to_string(recipe).expect("the recipe serialises");
    write_atomic(&out.join("recipe.toml"), text.as_bytes())?;
    Ok(report)
}

/// A side's samples: its slice of the dataset, preprocessed, resampled to its priors.
fn load_side(side: &ShiftSide, key: &str, data_dir: Option<&Path>, seed: u64) -> Result<Dataset> {
    let splits = load_builtin(side.dataset, data_dir)?;
    let mut data = match side.split {
        Split::Train => splits.train,
        Split::Test => splits.test,
    };
    let end = side
        .limit
        .map_or(data.len(), |l| side.skip.saturating_add(l))
        .min(data.len());
    if side.skip >= end {
        return Err(Error::invalid(
            format!("{key}.skip"),
            format!(
                "skips {} of the {} samples of {} ({:?}): none is left",
                side.skip,
                data.len(),
                side.dataset,
                side.split
            ),
        ));
    }
    data = data.subset(&(side.skip..end).collect::<Vec<_>>());
    for cfg in &side.preprocess {
        let p = cfg.fit(&data)?;
        p.transform(&mut data)?;
    }
    if let Some(priors) = &side.priors {
        let Targets::Classes {
            labels,
            num_classes,
        } = &data.targets
        else {
            unreachable!("shift sides are image datasets with classes")
        };
        if priors.len() != *num_classes {
            return Err(Error::invalid(
                format!("{key}.priors"),
                format!(
                    "gives {} class shares, {} has {num_classes} classes",
                    priors.len(),
                    side.dataset
                ),
            ));
        }
        let idx = resample_to_priors(labels, priors, usize::MAX, seed).ok_or_else(|| {
            Error::invalid(
                format!("{key}.priors"),
                "a class with a positive share has no sample",
            )
        })?;
        data = data.subset(&idx);
    }
    if data.len() < 8 {
        return Err(Error::invalid(
            key,
            format!("{} samples; the comparison needs at least 8", data.len()),
        ));
    }
    Ok(data)
}

/// The run's model and the layers whose output is compared, checked against the data.
fn load_model(
    dir: &Path,
    layers: Option<usize>,
    reference: &Dataset,
    device: &Device,
) -> Result<(Sequential, usize)> {
    let run = load_trained_model(dir, device)?;
    let model = run.model;
    if model.input_shape() != reference.sample_shape.as_slice() {
        return Err(Error::invalid(
            "shift.run",
            format!(
                "{} reads inputs of shape {:?}, the samples have shape {:?}",
                dir.display(),
                model.input_shape(),
                reference.sample_shape
            ),
        ));
    }
    if let Targets::Classes { num_classes, .. } = reference.targets {
        let probe = burn::tensor::Tensor::<2>::zeros([1, reference.sample_len()], device);
        let width = model.forward_logits(model.reshape_input(probe)).dims()[1];
        if width != num_classes {
            return Err(Error::invalid(
                "shift.run",
                format!(
                    "{} predicts {width} classes, the samples have {num_classes}: compare data of the run's classes (a run trained on some classes only does not fit)",
                    dir.display()
                ),
            ));
        }
    }
    let total = model.layers.len();
    let layers = layers.unwrap_or(total.saturating_sub(1).max(1));
    if layers == 0 || layers > total {
        return Err(Error::invalid(
            "shift.layers",
            format!("the run's model has layers 1..={total}, got {layers}"),
        ));
    }
    Ok((model, layers))
}

/// `n` distinct indices of `0..len`, in random order.
fn draw(len: usize, n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..len).collect();
    idx.shuffle(rng);
    idx.truncate(n);
    idx
}

/// Label shift by BBSE and, with `labelled > 0`, concept shift (on that many new samples drawn
/// with `seed`), from the run's predictions.
fn model_shift(
    model: &Sequential,
    reference: &Dataset,
    new: &Dataset,
    labelled: usize,
    seed: u64,
    device: &Device,
) -> Result<(LabelShiftReport, Option<ConceptShift>)> {
    let loss = LossConfig::SparseCategoricalCrossentropy;
    let classes_of = |data: &Dataset| -> Result<(Vec<u32>, Vec<u32>, usize)> {
        let probs = predict(model, loss, data, 512, device);
        let width = probs.len() / data.len().max(1);
        let Targets::Classes {
            labels,
            num_classes,
        } = &data.targets
        else {
            unreachable!("shift sides have classes")
        };
        if width != *num_classes {
            return Err(Error::invalid(
                "shift.run",
                format!("the run's model predicts {width} classes, the data have {num_classes}"),
            ));
        }
        Ok((predicted_classes(&probs, width), labels.clone(), width))
    };
    let (ref_pred, ref_true, classes) = classes_of(reference)?;
    let (new_pred, new_true, _) = classes_of(new)?;
    let estimated = bbse_priors(&ref_pred, &ref_true, &new_pred, classes);
    let truth = class_priors(&new_true, classes);
    let max_error = estimated
        .iter()
        .zip(&truth)
        .map(|(e, t)| (e - t).abs())
        .fold(0.0, f64::max);
    let labels = LabelShiftReport {
        reference_priors: class_priors(&ref_true, classes),
        estimated_priors: estimated,
        predicted_shares: class_priors(&new_pred, classes),
        true_priors: truth,
        max_error,
    };
    let concept = (labelled > 0).then(|| {
        let k = labelled.min(new.len());
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xC0C0);
        let picked = draw(new.len(), k, &mut rng);
        let (pred, truth): (Vec<u32>, Vec<u32>) =
            picked.iter().map(|&i| (new_pred[i], new_true[i])).unzip();
        ConceptShift::measure(
            (&ref_pred, &ref_true),
            &labels.estimated_priors,
            (&pred, &truth),
        )
    });
    Ok((labels, concept))
}
