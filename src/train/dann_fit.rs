//! The training loop of domain-adversarial training (DANN; SPEC D2): each step one minibatch
//! of labelled source images and as many unlabelled target images go through the feature
//! extractor together (the source drawn in shuffled passes, the target likewise); the class loss reads the source half, the domain classifier both
//! halves through the gradient reversal layer, whose weight follows DANN's schedule over the
//! share of training done. The last model is returned: no target label selects it.

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::batch::{augmented_inputs, batch_targets};
use super::evaluate::batch_loss;
use super::fit::{
    FitConfig, FitOutcome, LayerLr, check_augment, close_epoch, epoch_seed, finite_loss,
    log_validation, resume_epochs,
};
use super::index_stream::IndexStream;
use super::observer::Observer;
use crate::data::{Dataset, Targets};
use crate::domain::{DannModel, dann_lambda};
use crate::losses::sparse_categorical_cross_entropy;
use crate::model::{Sequential, SequentialConfig};
use crate::recipe::DannSpec;
use crate::{Error, Result};

/// What a DANN run trains on.
#[derive(Clone, Copy, Debug)]
pub struct DannData<'a> {
    /// Labelled source samples (class targets).
    pub source: &'a Dataset,
    /// Target samples; their targets are never read.
    pub target: &'a Dataset,
    /// A labelled source validation split, when there is one (logged each epoch).
    pub val: Option<&'a Dataset>,
}

/// Checks that the source has classes and that both domains hold samples of one shape.
pub fn check_dann(data: &DannData) -> Result<()> {
    if !matches!(data.source.targets, Targets::Classes { num_classes, .. } if num_classes >= 2) {
        return Err(Error::invalid(
            "data",
            "DANN trains a classifier: the source needs labels of at least two classes",
        ));
    }
    if data.target.is_empty() {
        return Err(Error::invalid(
            "data.target",
            "the target domain has no training samples",
        ));
    }
    if data.target.sample_shape != data.source.sample_shape {
        return Err(Error::invalid(
            "data.target",
            format!(
                "target samples have shape {:?}, source samples {:?}: both domains feed the same model",
                data.target.sample_shape, data.source.sample_shape
            ),
        ));
    }
    Ok(())
}

/// Trains `model` (built from `model_config`) with DANN on `data` for `cfg.training.epochs`
/// epochs of `spec.steps_per_epoch` steps (default: a pass over the source); returns the
/// adapted classifier. `device` has autodiff.
pub fn fit_dann(
    model: Sequential,
    model_config: &SequentialConfig,
    data: DannData,
    spec: &DannSpec,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    check_dann(&data)?;
    check_augment(cfg, data.source)?;
    let DannData {
        source,
        target,
        val,
    } = data;
    let model = DannModel::new(model, model_config, spec.trunk, &spec.domain_head, device)?;
    let t = &cfg.training;
    let steps = spec
        .steps_per_epoch
        .unwrap_or_else(|| source.len().div_ceil(t.batch_size));
    let total = t.epochs * steps;
    let mut schedule = cfg
        .schedule
        .build(cfg.optimizer.learning_rate(), total, steps);
    let optim = cfg.optimizer.build(t.clip);
    let lr_groups = LayerLr::new(&model.net, &cfg.layer_lr_scales);
    let (mut model, mut optim, state) = resume_epochs(cfg, model, optim, &mut schedule)?;
    let mut history = state.history;
    let mut global_step = state.global_step;
    let eval_device = device.clone().without_autodiff();
    let view = cfg.views.first();
    device.seed(cfg.seed.wrapping_add(global_step as u64));
    observer.on_train_begin(state.epochs_done + 1, t.epochs, steps);
    for epoch in state.epochs_done + 1..=t.epochs {
        let started = Instant::now();
        let seed = epoch_seed(cfg.seed, epoch);
        let mut source_stream = IndexStream::new(source.len(), seed);
        let mut target_stream = IndexStream::new(target.len(), seed ^ 0x6A09_E667_F3BC_C909);
        let mut sums = Sums::default();
        observer.on_epoch_begin(epoch, 0);
        for step in 0..steps {
            let idx = &source_stream.take(t.batch_size.min(source.len()));
            let lr = schedule.lr(global_step);
            let lambda = spec.weight * dann_lambda(global_step as f64 / total as f64, spec.gamma);
            let step_seed = cfg.seed ^ (global_step as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
            global_step += 1;
            let b = idx.len();
            let tidx = target_stream.take(b);
            let x = Tensor::cat(
                vec![
                    augmented_inputs(source, idx, view, step_seed, device),
                    augmented_inputs(target, &tidx, view, step_seed ^ 1 << 40, device),
                ],
                0,
            );
            let (class_logits, domain_logits) = model.forward(x, lambda);
            let classes = class_logits.dims()[1];
            let source_logits = class_logits.slice([0..b, 0..classes]);
            let class_loss = batch_loss(
                &model.net,
                t.loss,
                source_logits.clone(),
                &batch_targets(source, idx, device),
            )?;
            let domains = domain_labels(b, device);
            let domain_loss = sparse_categorical_cross_entropy(domain_logits.clone(), domains);
            let class_value = finite_loss(&class_loss, epoch, step + 1, "lower optimizer.lr")?;
            let domain_value = finite_loss(
                &domain_loss,
                epoch,
                step + 1,
                "lower method.weight or optimizer.lr",
            )?;
            let loss = class_loss + domain_loss;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr_groups.at(lr), model, grads);
            sums.add(
                class_value,
                domain_value,
                domain_right(domain_logits.inner(), b),
                class_right(source_logits.inner(), source, idx),
                b,
                lambda,
            );
            observer.on_step(epoch, step + 1, &sums.logs(lr));
        }
        let mut logs = sums.logs(schedule.lr(global_step.saturating_sub(1)));
        log_validation(&model.net.valid(), val, t.loss, &eval_device, &mut logs)?;
        logs.push(("seconds", started.elapsed().as_secs_f64()));
        close_epoch(
            cfg,
            (&model, &optim),
            (epoch, global_step),
            &logs,
            &mut history,
            &mut schedule,
            observer,
        )?;
    }
    observer.on_train_end();
    Ok(FitOutcome {
        model: model.net,
        history,
        stopped_at: None,
    })
}

/// Domain classes of a batch of `b` source then `b` target samples: 0 then 1.
fn domain_labels(b: usize, device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = (0..2 * b).map(|i| (i >= b) as i64).collect();
    Tensor::from_data(TensorData::new(v, [2 * b]), device)
}

/// How many of the `2b` domain predictions are right.
fn domain_right(logits: Tensor<2>, b: usize) -> usize {
    let predicted: Vec<i64> = logits.argmax(1).into_data().iter::<i64>().collect();
    predicted
        .iter()
        .enumerate()
        .filter(|&(i, &p)| p == (i >= b) as i64)
        .count()
}

/// How many source predictions match their labels.
fn class_right(logits: Tensor<2>, source: &Dataset, idx: &[usize]) -> usize {
    let Targets::Classes { labels, .. } = &source.targets else {
        return 0;
    };
    let predicted: Vec<i64> = logits.argmax(1).into_data().iter::<i64>().collect();
    predicted
        .iter()
        .zip(idx)
        .filter(|&(&p, &i)| p == labels[i] as i64)
        .count()
}

/// An epoch's running sums for the log.
#[derive(Default)]
struct Sums {
    seen: usize,
    class_loss: f64,
    domain_loss: f64,
    domain_right: usize,
    class_right: usize,
    lambda: f64,
}

impl Sums {
    fn add(
        &mut self,
        class_loss: f64,
        domain_loss: f64,
        domain_right: usize,
        class_right: usize,
        b: usize,
        lambda: f64,
    ) {
        self.seen += b;
        self.class_loss += class_loss * b as f64;
        self.domain_loss += domain_loss * b as f64;
        self.domain_right += domain_right;
        self.class_right += class_right;
        self.lambda = lambda;
    }

    fn logs(&self, lr: f64) -> Vec<(&'static str, f64)> {
        let n = self.seen.max(1) as f64;
        vec![
            ("loss", self.class_loss / n),
            ("accuracy", self.class_right as f64 / n),
            ("domain_loss", self.domain_loss / n),
            ("domain_accuracy", self.domain_right as f64 / (2.0 * n)),
            ("lambda", self.lambda),
            ("lr", lr),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(n: usize, side: usize, classes: usize) -> Dataset {
        let labels = (0..n).map(|i| (i % classes) as u32).collect();
        Dataset::new(
            vec![0.5; n * side * side],
            vec![1, side, side],
            Targets::Classes {
                labels,
                num_classes: classes,
            },
        )
        .unwrap()
    }

    #[test]
    fn domains_of_other_shapes_or_an_empty_target_are_refused() {
        let source = images(6, 4, 2);
        let ok = images(3, 4, 2);
        let data = |target| DannData {
            source: &source,
            target,
            val: None,
        };
        check_dann(&data(&ok)).unwrap();
        let small = images(3, 3, 2);
        let err = check_dann(&data(&small)).unwrap_err().to_string();
        assert!(
            err.contains("data.target") && err.contains("[1, 3, 3]"),
            "{err}"
        );
        let empty = images(0, 4, 2);
        let err = check_dann(&data(&empty)).unwrap_err().to_string();
        assert!(err.contains("no training samples"), "{err}");
        let one_class = images(6, 4, 1);
        let err = check_dann(&DannData {
            source: &one_class,
            target: &ok,
            val: None,
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("two classes"), "{err}");
    }

    #[test]
    fn domain_labels_are_source_then_target() {
        let device = Device::flex();
        let v: Vec<i64> = domain_labels(2, &device)
            .into_data()
            .iter::<i64>()
            .collect();
        assert_eq!(v, [0, 0, 1, 1]);
        let logits =
            Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]], &device);
        assert_eq!(domain_right(logits, 2), 3);
    }
}
