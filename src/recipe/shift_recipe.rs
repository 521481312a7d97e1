//! Shift recipes (`manabi shift`, SPEC D1): two samples of image data, the reference (what a
//! model was trained on) and the new data, and how to compare them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{DatasetName, PreprocessConfig};
use crate::{Error, Result};

/// Which split of a built-in dataset a side reads.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// The training file.
    Train,
    /// The test file.
    Test,
}

/// One side of the comparison: a slice of a built-in dataset, preprocessed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShiftSide {
    /// A built-in image dataset (mnist, fashion_mnist, usps, digits).
    pub dataset: DatasetName,
    /// Its training or test file.
    pub split: Split,
    /// Preprocessing: `scale` and `resize` only, steps that learn nothing from the data (a
    /// step fitted on each side would remove the very shift being measured). With a run, give
    /// the steps the run was trained with.
    #[serde(default)]
    pub preprocess: Vec<PreprocessConfig>,
    /// Skip the first N samples (so two sides of one file do not overlap).
    #[serde(default)]
    pub skip: usize,
    /// Use at most N samples (after `skip`), at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Resample this side to these class shares (without replacement): a label-shift
    /// experiment with known true priors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priors: Option<Vec<f64>>,
}

fn default_samples() -> usize {
    1000
}
fn default_permutations() -> usize {
    200
}
fn default_alpha() -> f64 {
    0.01
}
fn default_epochs() -> usize {
    20
}

/// `[shift]`: how the two sides are compared.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShiftSection {
    /// Samples drawn from each side for the domain classifier (half trains it, half measures
    /// its AUC) and for the MMD test (the measuring halves).
    #[serde(default = "default_samples")]
    pub samples: usize,
    /// Permutations of the MMD test.
    #[serde(default = "default_permutations")]
    pub permutations: usize,
    /// Significance level of the verdicts.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Epochs of the domain classifier (one hidden layer of 64 ReLU units, Adam 1e-3).
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// A trained classifier run: compare its features instead of raw inputs, estimate the new
    /// class priors (BBSE) and measure its accuracy on labelled new samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<PathBuf>,
    /// Features after this many layers of the run's model (default: all but the output layer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<usize>,
    /// New samples whose labels are read to measure concept shift (the model's accuracy on
    /// them against its accuracy on the reference); 0 turns it off.
    #[serde(default)]
    pub labelled: usize,
}

/// A `manabi shift` recipe.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShiftRecipe {
    /// Name (the default output folder is `runs/<name>`).
    pub name: String,
    /// What it compares.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Seed of every draw.
    #[serde(default)]
    pub seed: u64,
    /// `[reference]`: labelled data of the domain a model was trained on, held out from its
    /// training (BBSE's confusion matrix and the reference accuracy need unseen samples).
    pub reference: ShiftSide,
    /// `[new]`: the data to check.
    pub new: ShiftSide,
    /// `[shift]`: the comparison.
    #[serde(default = "default_section")]
    pub shift: ShiftSection,
}

/// Whether a recipe's text is a shift recipe (it has a `[reference]` table).
pub(crate) fn is_shift(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("reference"))
}

fn default_section() -> ShiftSection {
    toml::from_str("").expect("every key has a default")
}

impl ShiftRecipe {
    /// Parses and checks a recipe; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self> {
        let wrap = |message: String| Error::Recipe {
            source_name: source_name.to_string(),
            message,
        };
        let recipe: ShiftRecipe = toml::from_str(text).map_err(|e| wrap(e.to_string()))?;
        recipe.validate().map_err(|e| wrap(e.to_string()))?;
        Ok(recipe)
    }

    /// Reads and checks a recipe file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<()> {
        for (key, side) in [("reference", &self.reference), ("new", &self.new)] {
            if side.limit == Some(0) {
                return Err(Error::invalid(
                    format!("{key}.limit"),
                    "must be at least 1 (or left out for every sample after skip)",
                ));
            }
            if let Some(step) = side.preprocess.iter().find(|p| {
                !matches!(
                    p,
                    PreprocessConfig::Scale { .. } | PreprocessConfig::Resize { .. }
                )
            }) {
                return Err(Error::invalid(
                    format!("{key}.preprocess"),
                    format!(
                        "{step:?} learns from the data it is fitted on, which would hide the shift: use scale and resize only"
                    ),
                ));
            }
            if matches!(side.dataset, DatasetName::Imdb | DatasetName::Diabetes) {
                return Err(Error::invalid(
                    format!("{key}.dataset"),
                    "`manabi shift` compares image datasets with classes (mnist, fashion_mnist, usps, digits)",
                ));
            }
            if let Some(p) = &side.priors {
                let total: f64 = p.iter().sum();
                if p.iter().any(|v| !(v.is_finite() && *v >= 0.0)) || (total - 1.0).abs() > 1e-6 {
                    return Err(Error::invalid(
                        format!("{key}.priors"),
                        format!("class shares must be >= 0 and sum to 1, they sum to {total}"),
                    ));
                }
            }
        }
        let s = &self.shift;
        if s.samples < 8 {
            return Err(Error::invalid(
                "shift.samples",
                "must be at least 8 per side (half train the domain classifier, half test it)",
            ));
        }
        if !(s.alpha > 0.0 && s.alpha < 0.5) {
            return Err(Error::invalid(
                "shift.alpha",
                format!("must be in (0, 0.5), got {}", s.alpha),
            ));
        }
        let needed = (1.0 / s.alpha).ceil() as usize;
        if s.permutations < needed {
            return Err(Error::invalid(
                "shift.permutations",
                format!(
                    "{} permutations cannot give a p-value below alpha = {}: use at least {needed}",
                    s.permutations, s.alpha
                ),
            ));
        }
        if s.epochs == 0 {
            return Err(Error::invalid("shift.epochs", "must be at least 1"));
        }
        if s.run.is_none() && (s.layers.is_some() || s.labelled > 0) {
            return Err(Error::invalid(
                "shift.run",
                "shift.layers and shift.labelled read a trained model: name its run folder in shift.run",
            ));
        }
        if s.run.is_none() && self.new.priors.is_some() {
            return Err(Error::invalid(
                "shift.run",
                "estimating the new priors (new.priors) needs a trained classifier: name its run folder in shift.run",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "s"
[reference]
dataset = "digits"
split = "train"
[new]
dataset = "digits"
split = "test"
"#;

    #[test]
    fn parses_with_defaults_and_rejects_bad_values() {
        let r = ShiftRecipe::parse(MINIMAL, "t").unwrap();
        assert_eq!(r.shift.samples, 1000);
        assert_eq!(r.shift.alpha, 0.01);
        let bad = format!("{MINIMAL}priors = [0.5, 0.4]\n");
        let err = ShiftRecipe::parse(&bad, "t").unwrap_err().to_string();
        assert!(err.contains("new.priors") && err.contains("0.9"), "{err}");
        let unknown = format!("{MINIMAL}colour = 1\n");
        assert!(ShiftRecipe::parse(&unknown, "t").is_err());
        let few = format!("{MINIMAL}[shift]\npermutations = 50\n");
        let err = ShiftRecipe::parse(&few, "t").unwrap_err().to_string();
        assert!(err.contains("at least 100"), "{err}");
        let fitted = MINIMAL.replace(
            "split = \"test\"",
            "split = \"test\"\npreprocess = [{ kind = \"standardize\" }]",
        );
        let err = ShiftRecipe::parse(&fitted, "t").unwrap_err().to_string();
        assert!(err.contains("new.preprocess"), "{err}");
        let no_run = format!("{MINIMAL}[shift]\nlabelled = 10\n");
        let err = ShiftRecipe::parse(&no_run, "t").unwrap_err().to_string();
        assert!(err.contains("shift.run"), "{err}");
    }
}
