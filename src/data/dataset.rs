//! An in-memory dataset: features as one flat `f32` buffer plus typed targets.

use crate::{Error, Result};

/// What a sample's target is.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Class indices in `0..num_classes`.
    Classes {
        /// One label per sample.
        labels: Vec<u32>,
        /// Number of classes.
        num_classes: usize,
    },
    /// Real-valued targets, `dims` per sample (row-major).
    Regression {
        /// `len * dims` values.
        values: Vec<f32>,
        /// Values per sample.
        dims: usize,
    },
}

impl Targets {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes { labels, .. } => labels.len(),
            Targets::Regression { values, dims } => values.len() / (*dims).max(1),
        }
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets of the samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Classes {
                labels,
                num_classes,
            } => Targets::Classes {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                num_classes: *num_classes,
            },
            Targets::Regression { values, dims } => Targets::Regression {
                values: indices
                    .iter()
                    .flat_map(|&i| values[i * dims..(i + 1) * dims].iter().copied())
                    .collect(),
                dims: *dims,
            },
        }
    }
}

/// Samples with a common shape and their targets.
///
/// Images are stored channels-first (`[channels, height, width]`), tabular rows as `[features]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `len * sample_len()` values, sample after sample.
    pub features: Vec<f32>,
    /// Shape of one sample, e.g. `[1, 28, 28]` or `[10]`.
    pub sample_shape: Vec<usize>,
    /// One target per sample.
    pub targets: Targets,
    /// Optional human-readable class names (classification only).
    pub class_names: Option<Vec<String>>,
}

impl Dataset {
    /// Builds a dataset, checking that features and targets agree in count.
    pub fn new(features: Vec<f32>, sample_shape: Vec<usize>, targets: Targets) -> Result<Self> {
        let sample_len: usize = sample_shape.iter().product();
        if sample_len == 0 || !features.len().is_multiple_of(sample_len) {
            return Err(Error::invalid(
                "dataset",
                format!(
                    "{} feature values do not divide into samples of shape {:?}",
                    features.len(),
                    sample_shape
                ),
            ));
        }
        let n = features.len() / sample_len;
        if n != targets.len() {
            return Err(Error::invalid(
                "dataset",
                format!("{n} samples but {} targets", targets.len()),
            ));
        }
        Ok(Self {
            features,
            sample_shape,
            targets,
            class_names: None,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per sample.
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// Number of classes, or `None` for regression.
    pub fn num_classes(&self) -> Option<usize> {
        match &self.targets {
            Targets::Classes { num_classes, .. } => Some(*num_classes),
            Targets::Regression { .. } => None,
        }
    }

    /// The features of sample `i`.
    pub fn sample(&self, i: usize) -> &[f32] {
        let d = self.sample_len();
        &self.features[i * d..(i + 1) * d]
    }

    /// A new dataset with the samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let d = self.sample_len();
        let mut features = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            features.extend_from_slice(self.sample(i));
        }
        Dataset {
            features,
            sample_shape: self.sample_shape.clone(),
            targets: self.targets.select(indices),
            class_names: self.class_names.clone(),
        }
    }

    /// The first `n` samples (all if fewer).
    pub fn take(&self, n: usize) -> Dataset {
        let idx: Vec<usize> = (0..n.min(self.len())).collect();
        self.subset(&idx)
    }
}
