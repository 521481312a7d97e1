//! The training loop (Keras' `fit`): minibatches, optimiser steps with a learning-rate
//! schedule, validation, early stopping, checkpoints and resume.

use std::time::Instant;

use burn::module::{Module, ParamGroup};
use burn::optim::lr_scheduler::module_lr_scheduler::{ModuleLearningRate, ModuleLrScheduler};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::batch::{batch_targets, training_inputs};
use super::checkpoint::{Checkpoint, TrainState, all_finite};
use super::early_stopping::StopDecision;
use super::evaluate::{batch_loss, evaluate};
use super::history::History;
use super::observer::Observer;
use crate::augment::Pipeline;
use crate::data::{Dataset, Targets, shuffled_batches};
use crate::losses::{LossConfig, Target};
use crate::model::Sequential;
use crate::optim::{LrSchedule, OptimizerConfig, ScheduleConfig, WeightAverage};
use crate::recipe::{AugmentSection, AverageConfig, TrainingSection};
use crate::{Error, Result};

/// How to train.
#[derive(Debug, Clone)]
pub struct FitConfig {
    /// Loss, epochs, batch size, clipping, early stopping, checkpoint interval.
    pub training: TrainingSection,
    /// The optimiser.
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule.
    pub schedule: ScheduleConfig,
    /// Seed for shuffling and dropout.
    pub seed: u64,
    /// Where checkpoints go (`None`: no checkpoints, no resume).
    pub checkpoint: Option<Checkpoint>,
    /// Continue from the checkpoint instead of starting afresh.
    pub resume: bool,
    /// Per layer, a factor on the learning rate (transfer learning's slower backbone); empty
    /// means 1.0 everywhere.
    pub layer_lr_scales: Vec<f64>,
    /// Augmentation pipelines (images only): supervised training passes every batch through
    /// the first; contrastive methods draw one view per pipeline.
    pub views: Vec<Pipeline>,
}

impl FitConfig {
    /// Keras' `compile(optimizer, loss)` + `fit(epochs, batch_size)`: shuffling on, no
    /// schedule, clipping, early stopping or checkpoints.
    pub fn new(
        loss: LossConfig,
        optimizer: OptimizerConfig,
        epochs: usize,
        batch_size: usize,
    ) -> Self {
        Self {
            training: TrainingSection {
                loss,
                epochs,
                batch_size,
                shuffle: true,
                clip: None,
                early_stopping: None,
                checkpoint_steps: 0,
                average: None,
            },
            optimizer,
            schedule: ScheduleConfig::default(),
            seed: 42,
            checkpoint: None,
            resume: false,
            layer_lr_scales: Vec::new(),
            views: Vec::new(),
        }
    }
}

/// What [`fit`] returns.
#[derive(Debug)]
pub struct FitOutcome {
    /// The trained model (the best epoch's when early stopping restores it).
    pub model: Sequential,
    /// One row per epoch.
    pub history: History,
    /// Epoch at which early stopping ended training.
    pub stopped_at: Option<usize>,
}

/// Trains `model` on `train`, validating on `val` after each epoch.
///
/// `device` must have autodiff enabled (`Device::flex().autodiff()`).
pub fn fit(
    model: Sequential,
    train: &Dataset,
    val: Option<&Dataset>,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    let t = &cfg.training;
    check_fit(cfg, train, val)?;
    let steps_per_epoch = train.len().div_ceil(t.batch_size);
    let mut schedule = cfg.schedule.build(
        cfg.optimizer.learning_rate(),
        t.epochs * steps_per_epoch,
        steps_per_epoch,
    );
    let mut optim = cfg.optimizer.build(t.clip);
    let lr_groups = LayerLr::new(&model, &cfg.layer_lr_scales);
    let mut model = model;
    let mut state = TrainState::default();
    let mut best: Option<Sequential> = None;
    let mut average = t
        .average
        .map(|a| WeightAverage::new(a.averaging()))
        .transpose()?;
    if cfg.resume {
        let ckpt = cfg.checkpoint.as_ref().ok_or_else(|| {
            Error::invalid("--resume", "resuming needs a run folder with a checkpoint")
        })?;
        let (m, o, s, b) = ckpt.load(model, optim)?;
        (model, optim, state, best) = (m, o, s, b);
        if let Some(config) = t.average
            && let Some(avg) = ckpt.load_average(model.clone())?
        {
            average = Some(WeightAverage::resume(
                config.averaging(),
                &avg,
                state.average_snapshots,
            )?);
        }
        if let Some(s) = state.schedule.clone() {
            schedule.restore(s);
        }
    }
    // Dropout masks follow the seed; a resumed run continues from a seed of its own.
    device.seed(cfg.seed.wrapping_add(state.global_step as u64));
    let eval_device = device.clone().without_autodiff();
    let mut stopped_at = state.stopped_at;
    let last_epoch = if stopped_at.is_some() { 0 } else { t.epochs };
    observer.on_train_begin(state.epochs_done + 1, t.epochs, steps_per_epoch);

    for epoch in state.epochs_done + 1..=last_epoch {
        let started = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed(cfg.seed, epoch));
        let batches = shuffled_batches(train.len(), t.batch_size, t.shuffle, &mut rng);
        observer.on_epoch_begin(epoch, state.step_in_epoch);
        for (step, idx) in batches.iter().enumerate().skip(state.step_in_epoch) {
            let lr = schedule.lr(state.global_step);
            let x = training_inputs(train, idx, cfg, state.global_step, device);
            let x = model.reshape_input(x);
            let logits = model.forward_logits(x);
            let target = batch_targets(train, idx, device);
            let loss = batch_loss(&model, t.loss, logits.clone(), &target)?;
            let loss_value = loss.clone().into_scalar::<f32>() as f64;
            if !loss_value.is_finite() {
                return Err(Error::NonFiniteLoss {
                    epoch,
                    step: step + 1,
                    value: format!("{loss_value}"),
                    checkpoint: cfg
                        .checkpoint
                        .as_ref()
                        .filter(|c| c.exists())
                        .map(|c| c.dir().display().to_string())
                        .unwrap_or_else(|| "no checkpoint was written before it".into()),
                });
            }
            if let Target::Classes(labels) = &target {
                state.running.correct += count_correct(logits, labels.clone());
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr_groups.at(lr), model, grads);
            if let (Some(avg), Some(AverageConfig::Ema { .. })) = (&mut average, t.average) {
                avg.update(&model);
            }

            state.running.loss_sum += loss_value * idx.len() as f64;
            state.running.seen += idx.len() as u64;
            state.step_in_epoch = step + 1;
            state.global_step += 1;
            observer.on_step(epoch, step + 1, &running_logs(train, &state, lr));
            let mid_epoch = state.step_in_epoch < batches.len();
            if let Some(ckpt) = &cfg.checkpoint
                && t.checkpoint_steps > 0
                && mid_epoch
                && state.step_in_epoch % t.checkpoint_steps == 0
            {
                state.schedule = Some(schedule.state().clone());
                let averaged = averaged_model(&model, average.as_ref(), &mut state);
                save_if_finite(
                    ckpt,
                    &model,
                    &optim,
                    &state,
                    (best.as_ref(), averaged.as_ref()),
                )?;
            }
        }
        if let (Some(avg), Some(AverageConfig::Swa { start_epoch })) = (&mut average, t.average)
            && epoch >= start_epoch
        {
            avg.update(&model);
        }
        // Validation, early stopping and the returned model use the averaged weights.
        let averaged = averaged_model(&model, average.as_ref(), &mut state);
        let judged = averaged.as_ref().unwrap_or(&model);

        let mut logs = running_logs(
            train,
            &state,
            schedule.lr(state.global_step.saturating_sub(1)),
        );
        if let Some(val) = val.filter(|v| !v.is_empty()) {
            let e = evaluate(judged, val, t.loss, t.batch_size.max(256), &eval_device)?;
            logs.push(("val_loss", e.loss));
            let key = match val.targets {
                Targets::Classes { .. } => ("val_accuracy", e.metric("accuracy")),
                Targets::Regression { .. } => ("val_rmse", e.metric("rmse")),
            };
            if let (name, Some(v)) = key {
                logs.push((name, v));
            }
        }
        logs.push(("seconds", started.elapsed().as_secs_f64()));
        state.history.push_epoch(epoch, &logs);
        observer.on_epoch_end(epoch, &logs);
        let lookup = |name: &str| logs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        schedule.on_epoch_end(epoch - 1, &lookup)?;

        let mut stop = false;
        if let Some(es) = &t.early_stopping {
            let value = lookup(&es.monitor).expect("monitor checked before training");
            match state.early.update(es, epoch, value) {
                StopDecision::Improved if es.restore_best_weights => {
                    best = Some(judged.clone());
                }
                StopDecision::Stop => stop = true,
                _ => {}
            }
        }
        state.epochs_done = epoch;
        state.step_in_epoch = 0;
        state.running = Default::default();
        state.schedule = Some(schedule.state().clone());
        if stop {
            stopped_at = Some(epoch);
            state.stopped_at = stopped_at;
        }
        if let Some(ckpt) = &cfg.checkpoint {
            save_if_finite(
                ckpt,
                &model,
                &optim,
                &state,
                (best.as_ref(), averaged.as_ref()),
            )?;
        }
        if stop {
            observer.on_early_stop(epoch, state.early.best_epoch);
            break;
        }
    }
    observer.on_train_end();
    let restore = t
        .early_stopping
        .as_ref()
        .is_some_and(|e| e.restore_best_weights);
    let model = match best {
        Some(b) if restore => b,
        _ => match &average {
            Some(avg) => avg.apply(model),
            None => model,
        },
    };
    Ok(FitOutcome {
        model,
        history: state.history,
        stopped_at,
    })
}

/// Learning rates per layer group: the schedule's rate times each layer's factor.
pub(super) struct LayerLr {
    groups: Vec<(ParamGroup, f64)>,
}

impl LayerLr {
    /// Groups the parameters of the layers whose factor is not 1.
    pub(super) fn new(model: &Sequential, scales: &[f64]) -> Self {
        let groups = model
            .layers
            .iter()
            .zip(scales)
            .filter(|(_, s)| **s != 1.0)
            .map(|(layer, s)| (ParamGroup::ids_from_module(layer.clone()), *s))
            .collect();
        Self { groups }
    }

    /// The rate of every parameter when the schedule gives `lr`.
    pub(super) fn at(&self, lr: f64) -> ModuleLearningRate {
        if self.groups.is_empty() {
            return lr.into();
        }
        let mut policy = ModuleLrScheduler::new(lr);
        for (group, scale) in &self.groups {
            policy = policy.with_group(group.clone(), lr * scale);
        }
        policy.step()
    }
}

/// The value of a method loop's loss, or the error that stops the run when it is NaN or
/// infinite; `hint` says what to change.
pub(super) fn finite_loss(loss: &Tensor<1>, epoch: usize, step: usize, hint: &str) -> Result<f64> {
    let value = loss.clone().into_scalar::<f32>() as f64;
    if value.is_finite() {
        return Ok(value);
    }
    Err(Error::NonFiniteLoss {
        epoch,
        step,
        value: format!("{value}"),
        checkpoint: format!(
            "the checkpoint of the last finished epoch, when the run writes one, is kept (resume with --resume after the change); {hint}"
        ),
    })
}

/// Records an epoch's `logs` of a method loop: history row, observer, and the schedule's
/// end-of-epoch step.
pub(super) fn end_epoch(
    epoch: usize,
    logs: &[(&str, f64)],
    history: &mut History,
    schedule: &mut LrSchedule,
    observer: &mut dyn Observer,
) -> Result<()> {
    history.push_epoch(epoch, logs);
    observer.on_epoch_end(epoch, logs);
    let lookup = |name: &str| logs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    schedule.on_epoch_end(epoch - 1, &lookup)
}

/// Where a method loop starts: when `cfg.resume`, the checkpoint's module, optimiser and
/// state (and the schedule restored); else the given ones and a fresh state.
pub(super) fn resume_epochs<M: Module>(
    cfg: &FitConfig,
    module: M,
    optim: ModuleOptimizer,
    schedule: &mut LrSchedule,
) -> Result<(M, ModuleOptimizer, TrainState)> {
    if !cfg.resume {
        return Ok((module, optim, TrainState::default()));
    }
    let ckpt = cfg.checkpoint.as_ref().ok_or_else(|| {
        Error::invalid("--resume", "resuming needs a run folder with a checkpoint")
    })?;
    let (module, optim, state, _) = ckpt.load(module, optim)?;
    if let Some(s) = state.schedule.clone() {
        schedule.restore(s);
    }
    Ok((module, optim, state))
}

/// Ends a method loop's epoch: logs it ([`end_epoch`]) and writes the checkpoint after it
/// (with `global_step` steps done), when the run has one.
pub(super) fn close_epoch<M: Module>(
    cfg: &FitConfig,
    (module, optim): (&M, &ModuleOptimizer),
    (epoch, global_step): (usize, usize),
    logs: &[(&str, f64)],
    history: &mut History,
    schedule: &mut LrSchedule,
    observer: &mut dyn Observer,
) -> Result<()> {
    end_epoch(epoch, logs, history, schedule, observer)?;
    let Some(ckpt) = &cfg.checkpoint else {
        return Ok(());
    };
    let state = TrainState {
        epochs_done: epoch,
        global_step,
        history: history.clone(),
        schedule: Some(schedule.state().clone()),
        ..TrainState::default()
    };
    ckpt.save(module, optim, &state, (None, None))
}

/// Appends `val_loss` and `val_accuracy` of `model` (without autodiff) on `val`, when there is
/// a non-empty validation split, to an epoch's log.
pub(super) fn log_validation(
    model: &Sequential,
    val: Option<&Dataset>,
    loss: LossConfig,
    device: &Device,
    logs: &mut Vec<(&'static str, f64)>,
) -> Result<()> {
    let Some(v) = val.filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let e = evaluate(model, v, loss, 512, device)?;
    logs.push(("val_loss", e.loss));
    if let Some((_, acc)) = e.metrics.iter().find(|(k, _)| k == "accuracy") {
        logs.push(("val_accuracy", *acc));
    }
    Ok(())
}

/// A distinct, reproducible shuffle seed per epoch.
pub(super) fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn running_logs(train: &Dataset, state: &TrainState, lr: f64) -> Vec<(&'static str, f64)> {
    let mut logs = vec![("loss", state.running.loss())];
    if matches!(train.targets, Targets::Classes { .. }) {
        logs.push(("accuracy", state.running.accuracy()));
    }
    logs.push(("lr", lr));
    logs
}

fn count_correct(logits: Tensor<2>, labels: Tensor<1, Int>) -> u64 {
    let [b, width] = logits.dims();
    let pred = if width == 1 {
        logits.greater_elem(0.0).int().reshape([b])
    } else {
        logits.argmax(1).reshape([b])
    };
    pred.equal(labels).int().sum().into_scalar::<i64>() as u64
}

/// Keeps the previous checkpoint when the weights are no longer finite: a checkpoint is
/// the last good state a failed run can resume from.
fn save_if_finite(
    ckpt: &Checkpoint,
    model: &Sequential,
    optim: &burn::optim::ModuleOptimizer,
    state: &TrainState,
    kept: (Option<&Sequential>, Option<&Sequential>),
) -> Result<()> {
    if all_finite(model) {
        ckpt.save(model, optim, state, kept)?;
    }
    Ok(())
}

/// `model` with the averaged weights, when the run averages and has snapshots; records the
/// snapshot count in `state` for the checkpoint.
fn averaged_model(
    model: &Sequential,
    average: Option<&WeightAverage>,
    state: &mut TrainState,
) -> Option<Sequential> {
    let avg = average.filter(|a| a.snapshots() > 0)?;
    state.average_snapshots = avg.snapshots();
    Some(avg.apply(model.clone()))
}

/// Checks that the augmentation suits the training data: image ops on images, text ops on
/// rows of token ids (the only one-axis samples the loops augment; recipes check earlier,
/// knowing which data are text).
pub(super) fn check_augment(cfg: &FitConfig, train: &Dataset) -> Result<()> {
    if cfg.views.is_empty() {
        return Ok(());
    }
    let section = AugmentSection {
        views: cfg.views.clone(),
    };
    section.check_kinds(&train.sample_shape, train.sample_shape.len() == 1)
}

/// Checks what `fit` needs before any work is done (and before a run folder is created):
/// the settings, a non-empty training set, and monitored metrics that the loop logs.
pub fn check_fit(cfg: &FitConfig, train: &Dataset, val: Option<&Dataset>) -> Result<()> {
    cfg.training.validate()?;
    cfg.optimizer.validate()?;
    cfg.schedule.validate()?;
    if train.is_empty() {
        return Err(Error::invalid("data", "the training set is empty"));
    }
    check_augment(cfg, train)?;
    let has_val = val.is_some_and(|v| !v.is_empty());
    let metric = match train.targets {
        Targets::Classes { .. } => "accuracy",
        Targets::Regression { .. } => "rmse",
    };
    let mut logged = vec!["loss".to_string(), "lr".to_string()];
    if metric == "accuracy" {
        logged.push("accuracy".into());
    }
    if has_val {
        logged.push("val_loss".into());
        logged.push(format!("val_{metric}"));
    }
    let monitors = cfg
        .training
        .early_stopping
        .as_ref()
        .map(|e| ("training.early_stopping.monitor", e.monitor.clone()))
        .into_iter()
        .chain(match &cfg.schedule {
            ScheduleConfig::ReduceOnPlateau { monitor, .. } => {
                Some(("schedule.monitor", monitor.clone()))
            }
            _ => None,
        });
    for (key, m) in monitors {
        if !logged.contains(&m) {
            let hint = if m.starts_with("val_") && !has_val {
                "; validation metrics need data.validation_split (e.g. 0.1)"
            } else {
                ""
            };
            return Err(Error::invalid(
                key,
                format!(
                    "'{m}' is not logged by this run; it logs {}{hint}",
                    logged.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::EarlyStoppingConfig;

    /// A softmax layer on the 8x8 digits.
    fn softmax_on_digits(device: &Device) -> Sequential {
        crate::model::SequentialConfig::new()
            .add(crate::model::LayerConfig::flatten())
            .add(crate::model::LayerConfig::dense(
                10,
                crate::model::ActivationKind::Softmax,
            ))
            .build(&[1, 8, 8], device)
            .unwrap()
    }

    fn digits() -> Dataset {
        crate::data::load_builtin(crate::data::DatasetName::Digits, None)
            .unwrap()
            .train
            .take(64)
    }

    #[test]
    fn layer_lr_scales_scale_each_layers_step() {
        // One plain-SGD step from the same weights and batch: a layer at factor 0.5 moves
        // exactly half as far as at factor 1, the others the same.
        let data = digits();
        let device = Device::flex().autodiff();
        let model_cfg: crate::model::SequentialConfig = toml::from_str(
            "[[layers]]\ntype = \"dense\"\nunits = 6\nactivation = \"relu\"\n\
             [[layers]]\ntype = \"dense\"\nunits = 10\nactivation = \"softmax\"",
        )
        .unwrap();
        device.seed(5);
        let start = model_cfg.build(&[64], &device).unwrap();
        let step = |scales: Vec<f64>| {
            let mut cfg = FitConfig::new(
                LossConfig::SparseCategoricalCrossentropy,
                OptimizerConfig::sgd(0.1, 0.0),
                1,
                64,
            );
            cfg.training.shuffle = false;
            cfg.layer_lr_scales = scales;
            let out = fit(
                start.clone(),
                &data,
                None,
                &cfg,
                &device,
                &mut super::super::Silent,
            );
            out.unwrap().model
        };
        let weights = |m: &Sequential, i: usize| -> Vec<f32> {
            let crate::model::Layer::Dense(d) = &m.layers[i] else {
                unreachable!()
            };
            d.linear.weight.val().into_data().iter::<f32>().collect()
        };
        let (full, half) = (step(vec![]), step(vec![0.5, 1.0]));
        for i in 0..2 {
            let w0 = weights(&start, i);
            let scale = if i == 0 { 0.5 } else { 1.0 };
            for ((a, b), w) in weights(&full, i).iter().zip(weights(&half, i)).zip(&w0) {
                assert!(((b - w) - scale * (a - w)).abs() < 1e-6, "layer {i}");
            }
        }
    }

    #[test]
    fn monitored_metrics_must_be_logged() {
        let mut cfg = FitConfig::new(
            LossConfig::SparseCategoricalCrossentropy,
            OptimizerConfig::adam(1e-3),
            1,
            8,
        );
        let data = digits();
        cfg.training.early_stopping = Some(EarlyStoppingConfig {
            monitor: "val_acc".into(),
            mode: None,
            patience: 2,
            min_delta: 0.0,
            restore_best_weights: true,
        });
        let err = check_fit(&cfg, &data, Some(&data)).unwrap_err().to_string();
        assert!(
            err.contains("val_acc") && err.contains("val_accuracy"),
            "{err}"
        );
        let err = check_fit(&cfg, &data, None).unwrap_err().to_string();
        assert!(err.contains("validation_split"), "{err}");
        cfg.training.early_stopping.as_mut().unwrap().monitor = "val_accuracy".into();
        check_fit(&cfg, &data, Some(&data)).unwrap();
        cfg.training.batch_size = 0;
        assert!(check_fit(&cfg, &data, Some(&data)).is_err());
    }

    #[test]
    fn library_fit_learns_and_is_reproducible() {
        let data = digits();
        let device = Device::flex().autodiff();
        let run = || {
            device.seed(3);
            let model = softmax_on_digits(&device);
            let cfg = FitConfig::new(
                LossConfig::SparseCategoricalCrossentropy,
                OptimizerConfig::adam(1e-2),
                5,
                16,
            );
            fit(model, &data, None, &cfg, &device, &mut super::super::Silent).unwrap()
        };
        let (a, b) = (run(), run());
        let losses = a.history.series("loss").unwrap();
        assert!(losses[4] < losses[0] * 0.5, "{losses:?}");
        assert_eq!(a.history.series("loss"), b.history.series("loss"));
    }

    #[test]
    fn weight_averages_are_validated_with_and_returned() {
        use crate::recipe::AverageConfig;
        let data = crate::data::load_builtin(crate::data::DatasetName::Digits, None)
            .unwrap()
            .train;
        let rest: Vec<usize> = (600..data.len()).collect();
        let (train, val) = (data.take(600), data.subset(&rest));
        let device = Device::flex().autodiff();
        let run = |average: Option<AverageConfig>| {
            device.seed(3);
            let model = softmax_on_digits(&device);
            let mut cfg = FitConfig::new(
                LossConfig::SparseCategoricalCrossentropy,
                OptimizerConfig::adam(1e-2),
                4,
                16,
            );
            cfg.training.average = average;
            fit(
                model,
                &train,
                Some(&val),
                &cfg,
                &device,
                &mut super::super::Silent,
            )
            .unwrap()
        };
        // The model's output on a fixed input stands for its weights.
        let weights = |m: &Sequential| {
            let x = Tensor::<2>::ones([1, 64], &device);
            m.forward(m.reshape_input(x))
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let plain = run(None);
        // EMA with decay 0 is the latest weights; SWA from the last epoch is one snapshot of
        // them: both give the plain run back exactly.
        for same in [
            AverageConfig::Ema { decay: 0.0 },
            AverageConfig::Swa { start_epoch: 4 },
        ] {
            let got = run(Some(same));
            assert_eq!(weights(&got.model), weights(&plain.model), "{same:?}");
            assert_eq!(
                got.history.series("val_loss"),
                plain.history.series("val_loss")
            );
        }
        // A real average differs, and the validation loss is the averaged model's.
        let swa = run(Some(AverageConfig::Swa { start_epoch: 2 }));
        assert_ne!(weights(&swa.model), weights(&plain.model));
        let (a, p) = (
            swa.history.series("val_loss").unwrap(),
            plain.history.series("val_loss").unwrap(),
        );
        assert_eq!(a[0], p[0], "epoch 1 is before the average starts");
        assert_ne!(a[3], p[3]);
        let e = evaluate(
            &swa.model,
            &val,
            LossConfig::SparseCategoricalCrossentropy,
            256,
            &device.clone().without_autodiff(),
        )
        .unwrap();
        assert!((e.loss - a[3]).abs() < 1e-6, "{} vs {}", e.loss, a[3]);

        // A run stopped after 2 epochs and resumed to 4 keeps its average: the same weights as
        // the run that never stopped.
        let dir = tempfile::tempdir().unwrap();
        let resumable = |epochs: usize, resume: bool| {
            device.seed(3);
            let model = softmax_on_digits(&device);
            let mut cfg = FitConfig::new(
                LossConfig::SparseCategoricalCrossentropy,
                OptimizerConfig::adam(1e-2),
                epochs,
                16,
            );
            cfg.training.average = Some(AverageConfig::Swa { start_epoch: 1 });
            cfg.checkpoint = Some(Checkpoint::new(dir.path().join("ckpt")));
            cfg.resume = resume;
            fit(
                model,
                &train,
                None,
                &cfg,
                &device,
                &mut super::super::Silent,
            )
            .unwrap()
        };
        resumable(2, false);
        let resumed = resumable(4, true);
        std::fs::remove_dir_all(dir.path().join("ckpt")).unwrap();
        let whole = resumable(4, false);
        assert_eq!(weights(&resumed.model), weights(&whole.model));
    }
}
