//! `[data.target]`: a second domain for domain adaptation (seed 002; SPEC D1-D3). Its training
//! images become the unlabelled data (labels hidden from training) and its test images the
//! run's test set; the source's own test set is still measured, as `source_accuracy`.

use serde::{Deserialize, Serialize};

use crate::data::{DatasetName, PreprocessConfig};
use crate::{Error, Result};

/// The target domain of a domain-adaptation recipe.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    /// A built-in image dataset: mnist, fashion_mnist, usps or digits.
    pub dataset: DatasetName,
    /// The target's own preprocessing, fitted on its training images (e.g. USPS resized to
    /// MNIST's 28x28); the samples must come out with the source's shape.
    #[serde(default)]
    pub preprocess: Vec<PreprocessConfig>,
    /// Keep only these classes, renumbered in this order (as `[data] classes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<u32>>,
    /// Use only the first N target training images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_limit: Option<usize>,
    /// Use only the first N target test images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_limit: Option<usize>,
}

impl TargetSection {
    /// Checks that the target is an image dataset with classes.
    pub fn validate(&self) -> Result<()> {
        if matches!(self.dataset, DatasetName::Imdb | DatasetName::Diabetes) {
            return Err(Error::invalid(
                "data.target.dataset",
                format!(
                    "'{}' cannot be a target domain: use an image dataset with classes (mnist, usps, fashion_mnist, digits)",
                    self.dataset
                ),
            ));
        }
        if self.classes.as_ref().is_some_and(|c| c.len() < 2) {
            return Err(Error::invalid(
                "data.target.classes",
                "list at least two classes to keep",
            ));
        }
        Ok(())
    }
}
