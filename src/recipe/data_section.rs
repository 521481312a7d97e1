//! The `[data]` section: which dataset, how to preprocess it, how to split it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::{CsvTask, DatasetName, PreprocessConfig};
use crate::{Error, Result};

/// CSV training and test files.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CsvFiles {
    /// Training rows (relative paths are taken from the data directory).
    pub train: PathBuf,
    /// Test rows.
    pub test: PathBuf,
    /// Header name of the target column.
    pub label_column: String,
    /// Classification or regression.
    pub task: CsvTask,
}

fn zero() -> f32 {
    0.0
}

/// `[data]`: the dataset, its preprocessing (fitted on the training part only) and the
/// validation split.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// A built-in dataset name: digits, mnist, fashion_mnist, usps, diabetes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetName>,
    /// Or user CSV files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvFiles>,
    /// Steps applied in order, e.g. `[{ kind = "scale", divide_by = 255.0 }]`.
    #[serde(default)]
    pub preprocess: Vec<PreprocessConfig>,
    /// Fraction of the training samples held out for validation, taken from the end as in
    /// Keras' `validation_split`.
    #[serde(default = "zero")]
    pub validation_split: f32,
    /// Use only the first N training samples (quick runs, few-label experiments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_limit: Option<usize>,
    /// Use only the first N test samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_limit: Option<usize>,
}

impl DataSection {
    /// Checks that exactly one source is given and the split is in range.
    pub fn validate(&self) -> Result<()> {
        match (&self.dataset, &self.csv) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "data",
                "give either `dataset` or `[data.csv]`, not both",
            )),
            (None, None) => Err(Error::invalid(
                "data",
                "no data source: set `dataset = \"digits\"` (or mnist, fashion_mnist, usps, diabetes) or a `[data.csv]` table",
            )),
            _ if !(0.0..1.0).contains(&self.validation_split) => Err(Error::invalid(
                "data.validation_split",
                format!("must be in [0, 1), got {}", self.validation_split),
            )),
            _ => Ok(()),
        }
    }

    /// Short name for messages and plots.
    pub fn source_name(&self) -> String {
        match (&self.dataset, &self.csv) {
            (Some(d), _) => d.to_string(),
            (_, Some(c)) => c.train.display().to_string(),
            _ => "?".into(),
        }
    }
}
