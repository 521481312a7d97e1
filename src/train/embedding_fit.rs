//! The training loop of embedding methods (`[method]`): class-balanced batches instead of
//! shuffled ones, and a loss on the model's output as an embedding. Metric learning draws
//! `classes x per_class` images and mines pairs or triplets; prototypical networks draw
//! episodes and classify queries by their nearest prototype.

use std::time::Instant;

use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::batch::training_inputs;
use super::fit::{
    FitConfig, FitOutcome, LayerLr, check_augment, end_epoch, epoch_seed, finite_loss,
};
use super::history::History;
use super::observer::Observer;
use crate::data::{ClassBalancedSampler, Dataset, Targets};
use crate::metric::{MetricObjective, prototypical_loss};
use crate::model::Sequential;
use crate::recipe::MethodSection;
use crate::{Error, Result};

/// Per-step loss of a method, with a count to log (mined pairs/triplets, or correct queries).
enum StepLoss {
    Metric(MetricObjective),
    Prototypical {
        ways: usize,
        shots: usize,
        queries: usize,
    },
}

impl StepLoss {
    /// `None` for methods that do not train an embedding.
    fn new(method: &MethodSection) -> Option<Self> {
        Some(match *method {
            MethodSection::Multitask { .. }
            | MethodSection::Simclr { .. }
            | MethodSection::SupCon { .. }
            | MethodSection::Rotation { .. }
            | MethodSection::MaskedImage { .. }
            | MethodSection::Clip { .. }
            | MethodSection::Semi { .. }
            | MethodSection::Dann { .. }
            | MethodSection::MaskedLm { .. }
            | MethodSection::NextToken { .. } => return None,
            MethodSection::Metric {
                loss,
                miner,
                margin,
                soft_margin,
                distance,
                ..
            } => Self::Metric(MetricObjective {
                loss,
                miner,
                margin,
                soft_margin,
                distance,
            }),
            MethodSection::Prototypical {
                ways,
                shots,
                queries,
                ..
            } => Self::Prototypical {
                ways,
                shots,
                queries,
            },
        })
    }

    /// The name and value of the per-step count logged beside the loss.
    fn compute(&self, emb: Tensor<2>, labels: &[u32]) -> Option<(Tensor<1>, &'static str, f64)> {
        match *self {
            Self::Metric(objective) => objective
                .loss(emb, labels)
                .map(|(l, n)| (l, "mined", n as f64)),
            Self::Prototypical {
                ways,
                shots,
                queries,
            } => {
                let (loss, correct) = prototypical_loss(emb, ways, shots, queries);
                Some((
                    loss,
                    "query_accuracy",
                    correct as f64 / (ways * queries) as f64,
                ))
            }
        }
    }
}

/// Trains `model`'s output as an embedding with `method` on the labelled `train` set.
///
/// Epochs, optimiser, schedule, clipping and per-layer learning rates come from `cfg`; its loss
/// and batch size are not used. `device` must have autodiff enabled.
pub fn fit_embedding(
    model: Sequential,
    train: &Dataset,
    method: &MethodSection,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    check_augment(cfg, train)?;
    let Targets::Classes { labels, .. } = &train.targets else {
        return Err(Error::invalid(
            "method",
            "embedding methods need class labels",
        ));
    };
    let (Some(step_loss), Some((classes, per_class))) =
        (StepLoss::new(method), method.balanced_batch())
    else {
        return Err(Error::invalid(
            "method",
            "this method does not train an embedding",
        ));
    };
    let key = ("method.per_class", "the training data");
    let sampler = ClassBalancedSampler::new(labels, classes, per_class, key)?;
    let steps = match method {
        MethodSection::Prototypical {
            episodes_per_epoch, ..
        } => *episodes_per_epoch,
        _ => (train.len() / sampler.batch_len()).max(1),
    };
    let epochs = cfg.training.epochs;
    let mut schedule = cfg
        .schedule
        .build(cfg.optimizer.learning_rate(), epochs * steps, steps);
    let mut optim = cfg.optimizer.build(cfg.training.clip);
    let lr_groups = LayerLr::new(&model, &cfg.layer_lr_scales);
    let mut model = model;
    let mut history = History::default();
    let mut global_step = 0;
    device.seed(cfg.seed);
    observer.on_train_begin(1, epochs, steps);
    for epoch in 1..=epochs {
        let started = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed(cfg.seed, epoch));
        observer.on_epoch_begin(epoch, 0);
        let (mut loss_sum, mut count_sum, mut done) = (0.0, 0.0, 0usize);
        let mut count_name = "mined";
        for step in 1..=steps {
            let lr = schedule.lr(global_step);
            global_step += 1;
            let (idx, batch_labels) = sampler.batch(&mut rng);
            let x = training_inputs(train, &idx, cfg, global_step, device);
            let emb = model.forward_logits(model.reshape_input(x));
            let Some((loss, name, count)) = step_loss.compute(emb, &batch_labels) else {
                continue; // nothing mined: no gradient this step
            };
            count_name = name;
            let value = finite_loss(
                &loss,
                epoch,
                step,
                "lower optimizer.lr or add [training] clip",
            )?;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr_groups.at(lr), model, grads);
            loss_sum += value;
            count_sum += count;
            done += 1;
            let n = done as f64;
            observer.on_step(
                epoch,
                step,
                &[
                    ("loss", loss_sum / n),
                    (count_name, count_sum / n),
                    ("lr", lr),
                ],
            );
        }
        let n = done.max(1) as f64;
        let logs = [
            ("loss", loss_sum / n),
            (count_name, count_sum / n),
            ("lr", schedule.lr(global_step.saturating_sub(1))),
            ("seconds", started.elapsed().as_secs_f64()),
        ];
        end_epoch(epoch, &logs, &mut history, &mut schedule, observer)?;
    }
    observer.on_train_end();
    Ok(FitOutcome {
        model,
        history,
        stopped_at: None,
    })
}
