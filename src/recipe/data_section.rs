//! The `[data]` section: which dataset, how to preprocess it, how to split it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{TargetSection, TextSection};
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

/// Where a semi-supervised recipe's unlabelled samples come from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnlabelledSource {
    /// The training samples that `train_per_class` did not draw as labelled; their labels are
    /// hidden from training (kept only to report the accuracy of pseudo-labels).
    Rest,
    /// IMDB's 50,000 unlabelled reviews (`imdb/aclImdb_v1_unsup.tar.gz`), encoded like the
    /// labelled ones; `dataset = "imdb"` only.
    ImdbUnsup,
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
    /// Text as id sequences: needed for `dataset = "imdb"`, or names the user's own
    /// labelled texts with `train` and `test`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextSection>,
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
    /// Keep only these classes, renumbered in this order (`[5, 6, 7, 8, 9]` -> 0..5), in the
    /// training and the test data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<u32>>,
    /// Keep only N labelled training samples per class, drawn with `subset_seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_per_class: Option<usize>,
    /// Seed of the `train_per_class` draw (independent of the recipe's seed, so that runs with
    /// different seeds can share one labelled subset).
    #[serde(default)]
    pub subset_seed: u64,
    /// Unlabelled data for semi-supervised methods: `"rest"` (needs `train_per_class`), or
    /// `"imdb_unsup"` (IMDB's unlabelled archive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlabelled: Option<UnlabelledSource>,
    /// Or an uncompressed IDX image file of unlabelled images, read from disk a batch at a
    /// time (bounded memory, any size; relative paths are looked up in the data folder too).
    /// Online semi-supervised methods only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlabelled_idx: Option<PathBuf>,
    /// Or a folder of unlabelled image files (PNG, JPEG, BMP, searched recursively, all of one
    /// size), decoded a batch at a time. Online semi-supervised methods only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlabelled_folder: Option<PathBuf>,
    /// Use only the first N test samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_limit: Option<usize>,
    /// A target domain (domain adaptation): its training images are the unlabelled data and
    /// its test images the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetSection>,
}

impl DataSection {
    /// Checks that exactly one source is given and the split is in range.
    pub fn validate(&self) -> Result<()> {
        let text_files = self.text.as_ref().filter(|t| t.has_files());
        let sources = [
            self.dataset.is_some(),
            self.csv.is_some(),
            text_files.is_some(),
        ];
        match sources.iter().filter(|&&s| s).count() {
            0 => {
                return Err(Error::invalid(
                    "data",
                    "no data source: set `dataset = \"digits\"` (or mnist, fashion_mnist, usps, diabetes, imdb), a `[data.csv]` table, or `train` and `test` in `[data.text]`",
                ));
            }
            1 => {}
            _ => {
                return Err(Error::invalid(
                    "data",
                    "give one data source: `dataset`, `[data.csv]`, or `train`/`test` in `[data.text]`",
                ));
            }
        }
        if let Some(t) = text_files
            && (t.train.is_none() || t.test.is_none())
        {
            return Err(Error::invalid(
                "data.text",
                "your own texts need both `train` and `test` (a .csv file or a folder of class subfolders each)",
            ));
        }
        if self.dataset == Some(DatasetName::Imdb) && self.text.is_none() {
            return Err(Error::invalid("data.text", crate::data::IMDB_NEEDS_TEXT));
        }
        if self.text.is_some() && self.dataset.is_some_and(|d| d != DatasetName::Imdb) {
            return Err(Error::invalid(
                "data.text",
                format!(
                    "'{}' is not a text dataset; [data.text] goes with dataset = \"imdb\" or your own texts",
                    self.source_name()
                ),
            ));
        }
        if let Some(t) = &self.text {
            t.validate()?;
            if !self.preprocess.is_empty() {
                return Err(Error::invalid(
                    "data.preprocess",
                    "text data are word ids: remove the preprocess steps",
                ));
            }
        }
        if self.classes.as_ref().is_some_and(|c| c.len() < 2) {
            return Err(Error::invalid(
                "data.classes",
                "list at least two classes to keep",
            ));
        }
        if self.unlabelled == Some(UnlabelledSource::Rest) && self.train_per_class.is_none() {
            return Err(Error::invalid(
                "data.unlabelled",
                "\"rest\" means the training samples not drawn as labelled: set data.train_per_class (e.g. 4) to draw the labelled ones",
            ));
        }
        if self.unlabelled == Some(UnlabelledSource::ImdbUnsup)
            && !(self.dataset == Some(DatasetName::Imdb) && self.text.is_some())
        {
            return Err(Error::invalid(
                "data.unlabelled",
                "\"imdb_unsup\" is IMDB's unlabelled archive: it needs dataset = \"imdb\" with a [data.text] section",
            ));
        }
        let given = [
            self.unlabelled.is_some(),
            self.unlabelled_idx.is_some(),
            self.unlabelled_folder.is_some(),
            self.target.is_some(),
        ];
        if given.iter().filter(|&&g| g).count() > 1 {
            return Err(Error::invalid(
                "data.unlabelled",
                "give the unlabelled data once: data.unlabelled, data.unlabelled_idx, data.unlabelled_folder or [data.target]",
            ));
        }
        if let Some(target) = &self.target {
            target.validate()?;
            if self.unlabelled.is_some() {
                return Err(Error::invalid(
                    "data.unlabelled",
                    "[data.target] already gives the unlabelled data (the target's training images): remove data.unlabelled",
                ));
            }
            let image_source = matches!(
                self.dataset,
                Some(
                    DatasetName::Mnist
                        | DatasetName::FashionMnist
                        | DatasetName::Usps
                        | DatasetName::Digits
                )
            );
            if !image_source || self.text.is_some() || self.csv.is_some() {
                return Err(Error::invalid(
                    "data.target",
                    "domain adaptation works on built-in image datasets: the source (data.dataset) must be mnist, fashion_mnist, usps or digits too",
                ));
            }
        }
        if self.train_per_class == Some(0) {
            return Err(Error::invalid("data.train_per_class", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.validation_split) {
            return Err(Error::invalid(
                "data.validation_split",
                format!("must be in [0, 1), got {}", self.validation_split),
            ));
        }
        Ok(())
    }

    /// The recipe key of the streamed unlabelled images, when it names some.
    pub fn stream_key(&self) -> Option<&'static str> {
        match (&self.unlabelled_idx, &self.unlabelled_folder) {
            (Some(_), _) => Some("data.unlabelled_idx"),
            (_, Some(_)) => Some("data.unlabelled_folder"),
            _ => None,
        }
    }

    /// Short name for messages and plots.
    pub fn source_name(&self) -> String {
        match (&self.dataset, &self.csv, &self.text) {
            (Some(d), _, _) => d.to_string(),
            (_, Some(c), _) => c.train.display().to_string(),
            (_, _, Some(TextSection { train: Some(p), .. })) => p.display().to_string(),
            _ => "?".into(),
        }
    }
}
