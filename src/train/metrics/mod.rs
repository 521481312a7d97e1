//! Evaluation metrics computed from plain slices of predictions and targets.
//!
//! These do not touch tensors: the training loop gathers predictions on the host and
//! hands them over, so the same code serves every backend and the CLI's `evaluate`.

mod classification;
mod regression;
mod roc_auc;

pub use classification::ConfusionMatrix;
pub use regression::{RegressionReport, regression_report};
pub use roc_auc::roc_auc;
