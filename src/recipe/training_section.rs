//! The `[training]` section: loss, epochs, batches, clipping, early stopping, checkpoints.

use serde::{Deserialize, Serialize};

use crate::losses::LossConfig;
use crate::optim::{Averaging, GradClip};
use crate::{Error, Result};

fn yes() -> bool {
    true
}

/// Whether a monitored value should go down or up.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum MonitorMode {
    /// Lower is better (losses).
    #[default]
    Min,
    /// Higher is better (accuracy).
    Max,
}

impl MonitorMode {
    /// Whether `new` improves on `best` by more than `min_delta`.
    pub fn improves(self, new: f64, best: f64, min_delta: f64) -> bool {
        match self {
            MonitorMode::Min => new < best - min_delta,
            MonitorMode::Max => new > best + min_delta,
        }
    }
}

fn val_loss() -> String {
    "val_loss".into()
}

fn patience() -> usize {
    5
}

/// Stop when a monitored metric stops improving (Keras' `EarlyStopping`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EarlyStoppingConfig {
    /// History column to watch, e.g. `val_loss` or `val_accuracy`.
    #[serde(default = "val_loss")]
    pub monitor: String,
    /// Direction of improvement (default: `max` for accuracy-like names, else `min`, like
    /// Keras' `mode="auto"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MonitorMode>,
    /// Epochs without improvement before stopping.
    #[serde(default = "patience")]
    pub patience: usize,
    /// Smallest change that counts as an improvement.
    #[serde(default)]
    pub min_delta: f64,
    /// Keep the weights of the best epoch rather than the last.
    #[serde(default = "yes")]
    pub restore_best_weights: bool,
}

impl EarlyStoppingConfig {
    /// The direction of improvement, inferred from the name when not given.
    pub fn mode(&self) -> MonitorMode {
        self.mode.unwrap_or(
            if self.monitor.contains("acc") || self.monitor.contains("auc") {
                MonitorMode::Max
            } else {
                MonitorMode::Min
            },
        )
    }
}

/// `[training] average`: keep an average of the weights, validate with it and return it as the
/// trained model (SPEC SS10).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AverageConfig {
    /// Exponential moving average, updated after every step: `avg <- decay avg + (1 - decay) w`.
    Ema {
        /// Weight of the average, in `[0, 1)` (e.g. 0.999).
        decay: f64,
    },
    /// Stochastic weight averaging: the mean of the weights at the end of every epoch from
    /// `start_epoch` on (BatchNorm statistics are the last epoch's, not recomputed).
    Swa {
        /// The first epoch whose weights enter the mean (1-based).
        start_epoch: usize,
    },
}

impl AverageConfig {
    /// The averaging rule.
    pub fn averaging(&self) -> Averaging {
        match *self {
            Self::Ema { decay } => Averaging::Ema { decay },
            Self::Swa { .. } => Averaging::Mean,
        }
    }
}

/// `[training]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainingSection {
    /// The loss to minimise.
    pub loss: LossConfig,
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// Reshuffle the training data every epoch.
    #[serde(default = "yes")]
    pub shuffle: bool,
    /// Gradient clipping: `{ norm = 1.0 }` or `{ value = 0.5 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<GradClip>,
    /// Early stopping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingConfig>,
    /// Also checkpoint every N steps inside an epoch (0: only at epoch ends), so a killed run
    /// loses at most N steps.
    #[serde(default)]
    pub checkpoint_steps: usize,
    /// Weight averaging: `{ kind = "ema", decay = 0.999 }` or `{ kind = "swa", start_epoch = 8 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average: Option<AverageConfig>,
}

impl TrainingSection {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::invalid("training.epochs", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("training.batch_size", "must be at least 1"));
        }
        if let Some(clip) = &self.clip {
            clip.validate()?;
        }
        match self.average {
            Some(AverageConfig::Ema { decay }) if !(0.0..1.0).contains(&decay) => {
                return Err(Error::invalid(
                    "training.average.decay",
                    format!("must be in [0, 1), got {decay}"),
                ));
            }
            Some(AverageConfig::Swa { start_epoch })
                if !(1..=self.epochs).contains(&start_epoch) =>
            {
                return Err(Error::invalid(
                    "training.average.start_epoch",
                    format!(
                        "must be in 1..={} (the epochs), got {start_epoch}",
                        self.epochs
                    ),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}
