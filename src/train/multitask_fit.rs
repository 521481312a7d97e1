//! The training loop of multitask learning (SPEC T3): one shuffled minibatch feeds the shared
//! trunk once, every head scores it, and the weighted sum of the tasks' losses trains all.

use std::time::Instant;

use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::batch::{batch_targets, training_inputs};
use super::evaluate::batch_loss;
use super::fit::{FitConfig, LayerLr, check_augment, end_epoch, epoch_seed, finite_loss};
use super::history::History;
use super::observer::Observer;
use crate::Result;
use crate::data::{Dataset, shuffled_batches};
use crate::losses::{LossConfig, Target};
use crate::model::MultiHead;

/// An extra task during training: its name, loss weight and one label per training sample.
#[derive(Debug, Clone)]
pub struct TaskLabels {
    /// Name used in the logs (`<name>_loss`, `<name>_accuracy`).
    pub name: String,
    /// Weight of its loss.
    pub weight: f64,
    /// Its label of every training sample.
    pub labels: Vec<u32>,
}

/// Trains `model` on `train` (main task: `cfg.training.loss`, weight `main_weight`) and the
/// extra `tasks` (sparse categorical cross-entropy on their heads). `device` has autodiff.
pub fn fit_multitask(
    model: MultiHead,
    train: &Dataset,
    main_weight: f64,
    tasks: &[TaskLabels],
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<(MultiHead, History)> {
    check_augment(cfg, train)?;
    let t = &cfg.training;
    let steps = train.len().div_ceil(t.batch_size);
    let mut schedule = cfg
        .schedule
        .build(cfg.optimizer.learning_rate(), t.epochs * steps, steps);
    let mut optim = cfg.optimizer.build(t.clip);
    let lr_groups = LayerLr::new(&model.main, &cfg.layer_lr_scales);
    let mut model = model;
    let mut history = History::default();
    let mut global_step = 0;
    device.seed(cfg.seed);
    observer.on_train_begin(1, t.epochs, steps);
    let names: Vec<String> = std::iter::once("loss".to_string())
        .chain(tasks.iter().map(|task| format!("{}_loss", task.name)))
        .collect();
    for epoch in 1..=t.epochs {
        let started = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed(cfg.seed, epoch));
        observer.on_epoch_begin(epoch, 0);
        let mut sums = vec![0.0f64; names.len()];
        let mut seen = 0usize;
        for (step, idx) in shuffled_batches(train.len(), t.batch_size, t.shuffle, &mut rng)
            .iter()
            .enumerate()
        {
            let lr = schedule.lr(global_step);
            global_step += 1;
            let x = training_inputs(train, idx, cfg, global_step, device);
            let (main_logits, head_logits) = model.forward_logits(x);
            let target = batch_targets(train, idx, device);
            let mut loss = batch_loss(&model.main, t.loss, main_logits, &target)? * main_weight;
            let mut parts = Vec::with_capacity(tasks.len());
            for ((task, logits), head) in tasks.iter().zip(head_logits).zip(&model.heads) {
                let labels = class_tensor(&task.labels, idx, device);
                let part = batch_loss(
                    head,
                    LossConfig::SparseCategoricalCrossentropy,
                    logits,
                    &Target::Classes(labels),
                )?;
                parts.push(part.clone().into_scalar::<f32>() as f64);
                loss = loss + part * task.weight;
            }
            let value = finite_loss(
                &loss,
                epoch,
                step + 1,
                "lower optimizer.lr or add [training] clip",
            )?;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr_groups.at(lr), model, grads);
            let n = idx.len() as f64;
            sums[0] += value * n;
            for (s, p) in sums[1..].iter_mut().zip(&parts) {
                *s += p * n;
            }
            seen += idx.len();
            let logs: Vec<(&str, f64)> = names
                .iter()
                .zip(&sums)
                .map(|(k, s)| (k.as_str(), s / seen as f64))
                .chain([("lr", lr)])
                .collect();
            observer.on_step(epoch, step + 1, &logs);
        }
        let mut logs: Vec<(&str, f64)> = names
            .iter()
            .zip(&sums)
            .map(|(k, s)| (k.as_str(), s / seen.max(1) as f64))
            .collect();
        logs.push(("lr", schedule.lr(global_step.saturating_sub(1))));
        logs.push(("seconds", started.elapsed().as_secs_f64()));
        end_epoch(epoch, &logs, &mut history, &mut schedule, observer)?;
    }
    observer.on_train_end();
    Ok((model, history))
}

fn class_tensor(labels: &[u32], idx: &[usize], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = idx.iter().map(|&i| labels[i] as i64).collect();
    Tensor::from_data(TensorData::new(v, [idx.len()]), device)
}
