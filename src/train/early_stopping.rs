//! Early stopping (Keras' `EarlyStopping`): stop after `patience` epochs without improvement.

use serde::{Deserialize, Serialize};

use crate::recipe::EarlyStoppingConfig;

/// What to do after an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopDecision {
    /// The monitored value improved: this epoch is the best so far.
    Improved,
    /// No improvement yet, keep going.
    Continue,
    /// Patience exhausted.
    Stop,
}

/// Progress of early stopping, saved in checkpoints.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct EarlyStoppingState {
    /// Best value seen.
    pub best: Option<f64>,
    /// Epoch of the best value (1-based).
    pub best_epoch: usize,
    /// Epochs since the best.
    pub wait: usize,
}

impl EarlyStoppingState {
    /// Updates with the monitored `value` of `epoch`.
    pub fn update(&mut self, cfg: &EarlyStoppingConfig, epoch: usize, value: f64) -> StopDecision {
        let better = match self.best {
            None => value.is_finite(),
            Some(best) => cfg.mode().improves(value, best, cfg.min_delta),
        };
        if better {
            self.best = Some(value);
            self.best_epoch = epoch;
            self.wait = 0;
            return StopDecision::Improved;
        }
        self.wait += 1;
        if self.wait >= cfg.patience {
            StopDecision::Stop
        } else {
            StopDecision::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::MonitorMode;

    #[test]
    fn stops_after_patience_epochs_without_improvement() {
        let cfg = EarlyStoppingConfig {
            monitor: "val_loss".into(),
            mode: Some(MonitorMode::Min),
            patience: 2,
            min_delta: 0.01,
            restore_best_weights: true,
        };
        let mut s = EarlyStoppingState::default();
        assert_eq!(s.update(&cfg, 1, 1.0), StopDecision::Improved);
        assert_eq!(s.update(&cfg, 2, 0.5), StopDecision::Improved);
        // 0.495 is within min_delta: not an improvement
        assert_eq!(s.update(&cfg, 3, 0.495), StopDecision::Continue);
        assert_eq!(s.update(&cfg, 4, 0.7), StopDecision::Stop);
        assert_eq!(s.best_epoch, 2);
    }

    #[test]
    fn max_mode_for_accuracy() {
        let cfg = EarlyStoppingConfig {
            monitor: "val_accuracy".into(),
            mode: None, // inferred: max for accuracy
            patience: 1,
            min_delta: 0.0,
            restore_best_weights: false,
        };
        let mut s = EarlyStoppingState::default();
        s.update(&cfg, 1, 0.8);
        assert_eq!(s.update(&cfg, 2, 0.9), StopDecision::Improved);
        assert_eq!(s.update(&cfg, 3, 0.85), StopDecision::Stop);
    }
}
