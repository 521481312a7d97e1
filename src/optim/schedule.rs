//! Learning-rate schedules: [`ScheduleConfig`] in the recipe, [`LrSchedule`] at run time.
//!
//! The rate is a function of the global step (0-based, counted over all epochs), so
//! cosine, linear decay and warm-up change smoothly within an epoch, and resuming at a
//! step needs no state; only `reduce_on_plateau` reacts to metrics, once per epoch, and
//! keeps a [`ScheduleState`] to save beside the checkpoint.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A learning-rate schedule, with an optional linear warm-up, as written in a recipe:
///
/// ```toml
/// [schedule]
/// kind = "cosine"
/// warmup_epochs = 1
/// ```
///
/// `warmup_epochs` is a key of every kind (rather than a flattened wrapper struct,
/// which would stop serde from rejecting unknown keys). Unknown keys are errors.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleConfig {
    /// The base learning rate throughout.
    Constant {
        /// Epochs of linear warm-up.
        #[serde(default)]
        warmup_epochs: usize,
    },
    /// Multiply the rate by `gamma` at each milestone epoch (PyTorch's `MultiStepLR`):
    ///
    /// ```text
    /// lr = base · gamma^#{m ∈ milestones : epoch ≥ m}      (epoch 0-based)
    /// ```
    Step {
        /// Epochs (0-based, increasing) at whose start the rate drops.
        milestones: Vec<usize>,
        /// Factor applied at each milestone; 0.1.
        #[serde(default = "default_gamma")]
        gamma: f64,
        /// Epochs of linear warm-up.
        #[serde(default)]
        warmup_epochs: usize,
    },
    /// Linear decay over the steps after warm-up (PyTorch's `LinearLR` from 1):
    ///
    /// ```text
    /// lr = base · (1 + (end_factor - 1) · t/T)   t = step - warm-up, T = total - warm-up
    /// ```
    Linear {
        /// Fraction of the base rate reached at the end; 0.
        #[serde(default)]
        end_factor: f64,
        /// Epochs of linear warm-up.
        #[serde(default)]
        warmup_epochs: usize,
    },
    /// Cosine annealing over the steps after warm-up (Loshchilov & Hutter 2017,
    /// arXiv:1608.03983, without restarts; Burn's `CosineAnnealingLrScheduler`):
    ///
    /// ```text
    /// lr = min_lr + (base - min_lr) · (1 + cos(π t/T)) / 2
    /// ```
    Cosine {
        /// Rate at the end; 0.
        #[serde(default)]
        min_lr: f64,
        /// Epochs of linear warm-up.
        #[serde(default)]
        warmup_epochs: usize,
    },
    /// Keras's `ReduceLROnPlateau`: multiply the rate by `factor` when `monitor` has not
    /// improved by more than `min_delta` for `patience` epochs, then wait `cooldown`
    /// epochs before counting again; never go below `min_lr`.
    ReduceOnPlateau {
        /// Factor in `(0, 1)`; 0.1.
        #[serde(default = "default_factor")]
        factor: f64,
        /// Epochs without improvement before reducing; 10.
        #[serde(default = "default_patience")]
        patience: usize,
        /// Floor of the rate; 0.
        #[serde(default)]
        min_lr: f64,
        /// Metric watched, as named in the history; `"val_loss"`.
        #[serde(default = "default_monitor")]
        monitor: String,
        /// Whether the metric should go down (`min`, a loss) or up (`max`, an accuracy).
        #[serde(default)]
        mode: PlateauMode,
        /// Smallest change counted as an improvement; 1e-4.
        #[serde(default = "default_min_delta")]
        min_delta: f64,
        /// Epochs to wait after a reduction before counting again; 0.
        #[serde(default)]
        cooldown: usize,
        /// Epochs of linear warm-up.
        #[serde(default)]
        warmup_epochs: usize,
    },
}

/// Which direction of the monitored metric counts as an improvement.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PlateauMode {
    /// Lower is better (losses).
    #[default]
    Min,
    /// Higher is better (accuracies).
    Max,
}

fn default_gamma() -> f64 {
    0.1
}
fn default_factor() -> f64 {
    0.1
}
fn default_patience() -> usize {
    10
}
fn default_monitor() -> String {
    "val_loss".to_owned()
}
fn default_min_delta() -> f64 {
    1e-4
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig::Constant { warmup_epochs: 0 }
    }
}

impl ScheduleConfig {
    /// Epochs of linear warm-up, whatever the kind.
    pub fn warmup_epochs(&self) -> usize {
        match self {
            ScheduleConfig::Constant { warmup_epochs }
            | ScheduleConfig::Step { warmup_epochs, .. }
            | ScheduleConfig::Linear { warmup_epochs, .. }
            | ScheduleConfig::Cosine { warmup_epochs, .. }
            | ScheduleConfig::ReduceOnPlateau { warmup_epochs, .. } => *warmup_epochs,
        }
    }

    /// Checks every value's range, naming the key (`schedule.gamma`) on error.
    pub fn validate(&self) -> Result<()> {
        match self {
            ScheduleConfig::Constant { .. } => Ok(()),
            ScheduleConfig::Step {
                milestones, gamma, ..
            } => {
                if milestones.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(Error::invalid(
                        "schedule.milestones",
                        format!("epochs must be strictly increasing, got {milestones:?}"),
                    ));
                }
                check(*gamma > 0.0 && gamma.is_finite(), "gamma", "> 0", *gamma)
            }
            ScheduleConfig::Linear { end_factor, .. } => check(
                *end_factor >= 0.0 && end_factor.is_finite(),
                "end_factor",
                ">= 0",
                *end_factor,
            ),
            ScheduleConfig::Cosine { min_lr, .. } => check(
                *min_lr >= 0.0 && min_lr.is_finite(),
                "min_lr",
                ">= 0",
                *min_lr,
            ),
            ScheduleConfig::ReduceOnPlateau {
                factor,
                min_lr,
                monitor,
                min_delta,
                ..
            } => {
                check(
                    *factor > 0.0 && *factor < 1.0,
                    "factor",
                    "in (0, 1)",
                    *factor,
                )?;
                check(
                    *min_lr >= 0.0 && min_lr.is_finite(),
                    "min_lr",
                    ">= 0",
                    *min_lr,
                )?;
                check(*min_delta >= 0.0, "min_delta", ">= 0", *min_delta)?;
                if monitor.is_empty() {
                    return Err(Error::invalid(
                        "schedule.monitor",
                        "name the metric to watch, e.g. \"val_loss\"",
                    ));
                }
                Ok(())
            }
        }
    }

    /// The run-time schedule for a run of `total_steps` optimiser steps of
    /// `steps_per_epoch` each, starting from `base_lr` (the optimiser's rate).
    pub fn build(&self, base_lr: f64, total_steps: usize, steps_per_epoch: usize) -> LrSchedule {
        let steps_per_epoch = steps_per_epoch.max(1);
        LrSchedule {
            config: self.clone(),
            base_lr,
            total_steps: total_steps.max(1),
            steps_per_epoch,
            warmup_steps: self.warmup_epochs() * steps_per_epoch,
            state: ScheduleState::new(base_lr),
        }
    }
}

fn check(ok: bool, key: &str, allowed: &str, value: f64) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("schedule.{key}"),
            format!("must be {allowed}, got {value}"),
        ))
    }
}

/// What a schedule has learnt from the metrics so far (only `reduce_on_plateau` learns
/// anything); saved with a checkpoint and restored on resume.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ScheduleState {
    /// The plateau schedule's current rate, before warm-up scaling.
    pub plateau_lr: f64,
    /// Best value of the monitored metric seen so far.
    pub best: Option<f64>,
    /// Epochs since the last improvement.
    pub wait: usize,
    /// Epochs of cooldown left.
    pub cooldown_counter: usize,
    /// The last epoch (0-based) reported to [`LrSchedule::on_epoch_end`].
    pub last_epoch: Option<usize>,
}

impl ScheduleState {
    fn new(base_lr: f64) -> Self {
        ScheduleState {
            plateau_lr: base_lr,
            best: None,
            wait: 0,
            cooldown_counter: 0,
            last_epoch: None,
        }
    }
}

/// A learning-rate schedule at run time; see [`ScheduleConfig`].
#[derive(Clone, Debug)]
pub struct LrSchedule {
    config: ScheduleConfig,
    base_lr: f64,
    total_steps: usize,
    steps_per_epoch: usize,
    warmup_steps: usize,
    state: ScheduleState,
}

impl LrSchedule {
    /// The learning rate for global step `step` (0-based).
    ///
    /// During the first `W = warmup_epochs · steps_per_epoch` steps the scheduled rate is
    /// scaled by a linear ramp that reaches 1 on the last warm-up step (so the first step
    /// already moves the weights); linear and cosine decay run over the steps after it:
    ///
    /// ```text
    /// warm(step) = (step + 1) / W    for step < W, else 1
    /// ```
    pub fn lr(&self, step: usize) -> f64 {
        let warm = if step < self.warmup_steps {
            (step + 1) as f64 / self.warmup_steps as f64
        } else {
            1.0
        };
        warm * self.scheduled(step)
    }

    fn scheduled(&self, step: usize) -> f64 {
        let base = self.base_lr;
        // progress through the decay phase, in [0, 1]
        let progress = || {
            let span = self.total_steps.saturating_sub(self.warmup_steps).max(1);
            (step.saturating_sub(self.warmup_steps) as f64 / span as f64).min(1.0)
        };
        match &self.config {
            ScheduleConfig::Constant { .. } => base,
            ScheduleConfig::Step {
                milestones, gamma, ..
            } => {
                let epoch = step / self.steps_per_epoch;
                let passed = milestones.iter().filter(|&&m| epoch >= m).count();
                base * gamma.powi(passed as i32)
            }
            ScheduleConfig::Linear { end_factor, .. } => {
                base * (1.0 + (end_factor - 1.0) * progress())
            }
            ScheduleConfig::Cosine { min_lr, .. } => {
                let cos = (std::f64::consts::PI * progress()).cos();
                min_lr + (base - min_lr) * 0.5 * (1.0 + cos)
            }
            ScheduleConfig::ReduceOnPlateau { .. } => self.state.plateau_lr,
        }
    }

    /// Number of warm-up steps.
    pub fn warmup_steps(&self) -> usize {
        self.warmup_steps
    }

    /// Tells the schedule that `epoch` (0-based) has ended; `metrics` looks a metric up by
    /// its history name. Only `reduce_on_plateau` uses it, with Keras's rules:
    ///
    /// ```text
    /// improved = value < best - min_delta   (mode min; max: value > best + min_delta)
    /// if cooldown_counter > 0: cooldown_counter -= 1, wait = 0
    /// if improved: best = value, wait = 0
    /// else if cooldown_counter == 0:
    ///     wait += 1
    ///     if wait >= patience and lr > min_lr:
    ///         lr = max(lr · factor, min_lr), cooldown_counter = cooldown, wait = 0
    /// ```
    ///
    /// Returns [`Error::Invalid`] when the monitored metric was not reported, rather than
    /// silently never reducing.
    pub fn on_epoch_end(
        &mut self,
        epoch: usize,
        metrics: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<()> {
        let ScheduleConfig::ReduceOnPlateau {
            factor,
            patience,
            min_lr,
            monitor,
            mode,
            min_delta,
            cooldown,
            ..
        } = &self.config
        else {
            self.state.last_epoch = Some(epoch);
            return Ok(());
        };
        let value = metrics(monitor).ok_or_else(|| {
            Error::invalid(
                "schedule.monitor",
                format!(
                    "reduce_on_plateau watches '{monitor}', which was not reported at the end \
                     of epoch {epoch}; monitor a metric the run computes (val_* needs validation data)"
                ),
            )
        })?;
        let state = &mut self.state;
        state.last_epoch = Some(epoch);
        let improved = match (state.best, mode) {
            (None, _) => !value.is_nan(),
            (Some(best), PlateauMode::Min) => value < best - min_delta,
            (Some(best), PlateauMode::Max) => value > best + min_delta,
        };
        if state.cooldown_counter > 0 {
            state.cooldown_counter -= 1;
            state.wait = 0;
        }
        if improved {
            state.best = Some(value);
            state.wait = 0;
        } else if state.cooldown_counter == 0 {
            state.wait += 1;
            if state.wait >= *patience && state.plateau_lr > *min_lr {
                state.plateau_lr = (state.plateau_lr * factor).max(*min_lr);
                state.cooldown_counter = *cooldown;
                state.wait = 0;
            }
        }
        Ok(())
    }

    /// The state to save with a checkpoint.
    pub fn state(&self) -> &ScheduleState {
        &self.state
    }

    /// Restores a state saved by [`Self::state`] (on resume).
    pub fn restore(&mut self, state: ScheduleState) {
        self.state = state;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "expected {b}, got {a}");
    }

    #[test]
    fn constant_with_warmup_ramps_linearly_to_the_base_rate() {
        // 2 warm-up epochs of 5 steps: W = 10, lr(s) = 0.1 · (s+1)/10
        let schedule = ScheduleConfig::Constant { warmup_epochs: 2 }.build(0.1, 100, 5);
        assert_eq!(schedule.warmup_steps(), 10);
        close(schedule.lr(0), 0.01);
        close(schedule.lr(4), 0.05);
        close(schedule.lr(9), 0.1);
        close(schedule.lr(10), 0.1);
        close(schedule.lr(99), 0.1);
        let ramp: Vec<f64> = (0..10).map(|s| schedule.lr(s)).collect();
        assert!(ramp.windows(2).all(|w| (w[1] - w[0] - 0.01).abs() < 1e-12));
    }

    #[test]
    fn step_drops_at_milestone_epochs() {
        // 10 steps per epoch, milestones at epochs 2 and 4, gamma 0.5
        let config = ScheduleConfig::Step {
            milestones: vec![2, 4],
            gamma: 0.5,
            warmup_epochs: 0,
        };
        let schedule = config.build(1.0, 60, 10);
        close(schedule.lr(0), 1.0);
        close(schedule.lr(19), 1.0); // epoch 1
        close(schedule.lr(20), 0.5); // epoch 2
        close(schedule.lr(39), 0.5);
        close(schedule.lr(40), 0.25); // epoch 4
        close(schedule.lr(59), 0.25);
    }

    #[test]
    fn linear_decays_to_end_factor_after_warmup() {
        // W = 10, T = 110 - 10 = 100, lr = 0.2 · (1 - 0.9 · t/100)
        let config = ScheduleConfig::Linear {
            end_factor: 0.1,
            warmup_epochs: 1,
        };
        let schedule = config.build(0.2, 110, 10);
        close(schedule.lr(9), 0.2); // last warm-up step
        close(schedule.lr(10), 0.2); // t = 0
        close(schedule.lr(60), 0.2 * (1.0 - 0.9 * 0.5)); // t = 50 -> 0.11
        close(schedule.lr(110), 0.02); // t = T
        close(schedule.lr(500), 0.02); // past the end: stays at the end value
    }

    #[test]
    fn cosine_hand_values() {
        // T = 100, min 0.01: t = 0 -> 0.1; t = 50 -> 0.01 + 0.09·½ = 0.055;
        // t = 25 -> 0.01 + 0.09·(1 + cos(π/4))/2 = 0.01 + 0.09·0.853553.. = 0.0868198..
        let config = ScheduleConfig::Cosine {
            min_lr: 0.01,
            warmup_epochs: 0,
        };
        let schedule = config.build(0.1, 100, 10);
        close(schedule.lr(0), 0.1);
        close(schedule.lr(50), 0.055);
        close(
            schedule.lr(25),
            0.01 + 0.09 * (1.0 + std::f64::consts::FRAC_1_SQRT_2) / 2.0,
        );
        close(schedule.lr(100), 0.01);
    }

    #[test]
    fn cosine_matches_burns_scheduler() {
        use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
        let mut burn = CosineAnnealingLrSchedulerConfig::new(0.1, 40)
            .with_min_lr(0.001)
            .init()
            .expect("valid");
        let config = ScheduleConfig::Cosine {
            min_lr: 0.001,
            warmup_epochs: 0,
        };
        let ours = config.build(0.1, 40, 8);
        for step in 0..40 {
            let theirs = burn.step().base();
            assert!((ours.lr(step) - theirs).abs() < 1e-9, "step {step}");
        }
    }

    #[test]
    fn cosine_with_warmup_starts_decay_after_warmup() {
        // W = 4, T = 20 - 4 = 16
        let config = ScheduleConfig::Cosine {
            min_lr: 0.0,
            warmup_epochs: 1,
        };
        let schedule = config.build(1.0, 20, 4);
        close(schedule.lr(0), 0.25);
        close(schedule.lr(3), 1.0);
        close(schedule.lr(4), 1.0);
        close(schedule.lr(12), 0.5); // t = 8 = T/2
    }

    fn plateau(patience: usize, cooldown: usize, mode: PlateauMode) -> ScheduleConfig {
        ScheduleConfig::ReduceOnPlateau {
            factor: 0.5,
            patience,
            min_lr: 0.0,
            monitor: "val_loss".into(),
            mode,
            min_delta: 1e-4,
            cooldown,
            warmup_epochs: 0,
        }
    }

    /// Feeds one value per epoch and returns the rate after each.
    fn run(schedule: &mut LrSchedule, values: &[f64]) -> Vec<f64> {
        values
            .iter()
            .enumerate()
            .map(|(epoch, &v)| {
                schedule
                    .on_epoch_end(epoch, &|name| (name == "val_loss").then_some(v))
                    .expect("metric reported");
                schedule.lr(0)
            })
            .collect()
    }

    #[test]
    fn plateau_reduces_after_patience_epochs_without_improvement() {
        let mut schedule = plateau(2, 0, PlateauMode::Min).build(1.0, 100, 10);
        // epoch 0 sets best = 1.0; epoch 1 improves; 2 and 3 do not (0.95 is within
        // min_delta of itself, 0.96 is worse) -> reduce at the end of epoch 3;
        // epochs 4, 5 do not improve on 0.95 -> reduce again at epoch 5
        let lrs = run(&mut schedule, &[1.0, 0.95, 0.95, 0.96, 0.95, 0.97]);
        assert_eq!(lrs, [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]);
    }

    #[test]
    fn plateau_improvement_smaller_than_min_delta_does_not_count() {
        let mut schedule = plateau(1, 0, PlateauMode::Min).build(1.0, 100, 10);
        let lrs = run(&mut schedule, &[1.0, 0.99995]);
        assert_eq!(lrs, [1.0, 0.5]);
    }

    #[test]
    fn plateau_max_mode_and_cooldown() {
        // patience 1, cooldown 2: reduce at epoch 1 (counter = 2); epoch 2 counts it down
        // to 1 and is skipped; epoch 3 counts it down to 0 and, as in Keras, counts the
        // epoch in the same call (wait 1 -> reduce, counter = 2); epoch 4 is skipped
        let mut schedule = plateau(1, 2, PlateauMode::Max).build(1.0, 100, 10);
        let lrs = run(&mut schedule, &[0.5, 0.4, 0.4, 0.4, 0.4]);
        assert_eq!(lrs, [1.0, 0.5, 0.5, 0.25, 0.25]);
    }

    #[test]
    fn plateau_never_goes_below_min_lr() {
        let mut config = plateau(1, 0, PlateauMode::Min);
        if let ScheduleConfig::ReduceOnPlateau { min_lr, .. } = &mut config {
            *min_lr = 0.3;
        }
        let mut schedule = config.build(1.0, 100, 10);
        let lrs = run(&mut schedule, &[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(lrs, [1.0, 0.5, 0.3, 0.3]);
    }

    #[test]
    fn plateau_missing_metric_is_an_error() {
        let mut schedule = plateau(1, 0, PlateauMode::Min).build(1.0, 100, 10);
        let err = schedule.on_epoch_end(0, &|_| None).unwrap_err().to_string();
        assert!(err.contains("val_loss") && err.contains("epoch 0"), "{err}");
        // other schedules ignore metrics
        let mut constant = ScheduleConfig::default().build(1.0, 100, 10);
        assert!(constant.on_epoch_end(0, &|_| None).is_ok());
    }

    #[test]
    fn plateau_state_survives_a_json_round_trip() {
        let config = plateau(2, 0, PlateauMode::Min);
        let mut original = config.build(1.0, 100, 10);
        run(&mut original, &[1.0, 1.0]);
        let saved = serde_json::to_string(original.state()).expect("serialises");
        let mut resumed = config.build(1.0, 100, 10);
        resumed.restore(serde_json::from_str(&saved).expect("parses"));
        assert_eq!(resumed.state(), original.state());
        // one more bad epoch reduces in both (wait was 1 of 2)
        let next = |s: &mut LrSchedule| {
            s.on_epoch_end(2, &|_| Some(1.0)).expect("ok");
            s.lr(0)
        };
        assert_eq!(next(&mut original), 0.5);
        assert_eq!(next(&mut resumed), 0.5);
    }

    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    struct Recipe {
        schedule: ScheduleConfig,
    }

    #[test]
    fn recipe_shape_with_warmup_and_defaults() {
        let recipe: Recipe =
            toml::from_str("[schedule]\nkind = \"cosine\"\nwarmup_epochs = 1\n").expect("parses");
        assert_eq!(
            recipe.schedule,
            ScheduleConfig::Cosine {
                min_lr: 0.0,
                warmup_epochs: 1
            }
        );
        let recipe: Recipe =
            toml::from_str("[schedule]\nkind = \"reduce_on_plateau\"\n").expect("parses");
        assert_eq!(recipe.schedule, plateau_defaults());
        let recipe: Recipe = toml::from_str(
            "[schedule]\nkind = \"reduce_on_plateau\"\nmonitor = \"val_accuracy\"\nmode = \"max\"\n",
        )
        .expect("parses");
        assert!(matches!(
            recipe.schedule,
            ScheduleConfig::ReduceOnPlateau {
                mode: PlateauMode::Max,
                ..
            }
        ));
    }

    fn plateau_defaults() -> ScheduleConfig {
        ScheduleConfig::ReduceOnPlateau {
            factor: 0.1,
            patience: 10,
            min_lr: 0.0,
            monitor: "val_loss".into(),
            mode: PlateauMode::Min,
            min_delta: 1e-4,
            cooldown: 0,
            warmup_epochs: 0,
        }
    }

    #[test]
    fn every_schedule_round_trips_through_toml() {
        let all = [
            ScheduleConfig::Constant { warmup_epochs: 3 },
            ScheduleConfig::Step {
                milestones: vec![30, 60],
                gamma: 0.1,
                warmup_epochs: 0,
            },
            ScheduleConfig::Linear {
                end_factor: 0.0,
                warmup_epochs: 1,
            },
            ScheduleConfig::Cosine {
                min_lr: 1e-5,
                warmup_epochs: 2,
            },
            plateau_defaults(),
        ];
        for schedule in all {
            let recipe = Recipe { schedule };
            let text = toml::to_string(&recipe).expect("serialises");
            assert_eq!(toml::from_str::<Recipe>(&text).expect("parses"), recipe);
        }
    }

    #[test]
    fn unknown_keys_are_rejected_naming_the_key() {
        let parse = |text: &str| toml::from_str::<Recipe>(text).unwrap_err().to_string();
        let err = parse("[schedule]\nkind = \"cosine\"\nwarmup_steps = 100\n");
        assert!(err.contains("unknown field `warmup_steps`"), "{err}");
        let err = parse("[schedule]\nkind = \"cosine\"\ngamma = 0.5\n");
        assert!(err.contains("unknown field `gamma`"), "{err}");
        let err = parse("[schedule]\nkind = \"step\"\n");
        assert!(err.contains("milestones"), "{err}");
        let err = parse("[schedule]\nkind = \"exponential\"\n");
        assert!(err.contains("exponential"), "{err}");
    }

    #[test]
    fn validation_names_the_bad_value() {
        let config = ScheduleConfig::Step {
            milestones: vec![5, 3],
            gamma: 0.1,
            warmup_epochs: 0,
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("schedule.milestones"), "{err}");
        let mut config = plateau_defaults();
        if let ScheduleConfig::ReduceOnPlateau { factor, .. } = &mut config {
            *factor = 1.5;
        }
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("schedule.factor"), "{err}");
        assert!(plateau_defaults().validate().is_ok());
    }
}
