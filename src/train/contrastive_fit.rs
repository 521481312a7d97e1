//! The training loop of contrastive methods (SimCLR, SupCon): every shuffled batch is drawn as
//! two augmented views, the model's output for both goes to NT-Xent (or SupCon with the
//! labels), and after each epoch a kNN monitor shows the encoder's features improving: 1-NN
//! accuracy of the validation split against labelled training images (no test labels).

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::features::backbone_features;
use super::fit::{
    FitConfig, FitOutcome, LayerLr, check_augment, end_epoch, epoch_seed, finite_loss,
};
use super::history::History;
use super::observer::Observer;
use crate::contrastive::{nt_xent, supervised_contrastive};
use crate::data::{Dataset, Targets, shuffled_batches};
use crate::model::Sequential;
use crate::train::metrics::ConfusionMatrix;
use crate::transfer::knn_predict;
use crate::{Error, Result};

/// What a contrastive method needs besides the fit's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContrastiveSpec {
    /// Softmax temperature of the loss.
    pub temperature: f64,
    /// Layers of the encoder (its output feeds the kNN monitor).
    pub encoder_layers: usize,
    /// Labelled training images the monitor compares against (0: no monitor).
    pub monitor_reference: usize,
    /// SupCon (positives share a label) instead of NT-Xent (positives share an image).
    pub supervised: bool,
}

/// Trains `model` contrastively on `train` with the two pipelines of `cfg.views`; `val` (when
/// given and labelled) is the kNN monitor's query set. `device` has autodiff.
pub fn fit_contrastive(
    model: Sequential,
    train: &Dataset,
    val: Option<&Dataset>,
    spec: &ContrastiveSpec,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    check_augment(cfg, train)?;
    let (Some(view1), Some(view2), &[c, h, w]) = (
        cfg.views.first(),
        cfg.views.get(1),
        train.sample_shape.as_slice(),
    ) else {
        return Err(Error::invalid(
            "augment",
            "a contrastive method needs two [[augment.views]] of image data",
        ));
    };
    let labels = match (&train.targets, spec.supervised) {
        (Targets::Classes { labels, .. }, _) => Some(labels),
        (_, false) => None,
        (_, true) => {
            return Err(Error::invalid(
                "method",
                "supervised contrastive learning needs class labels",
            ));
        }
    };
    let t = &cfg.training;
    let steps = train.len().div_ceil(t.batch_size);
    let mut schedule = cfg
        .schedule
        .build(cfg.optimizer.learning_rate(), t.epochs * steps, steps);
    let mut optim = cfg.optimizer.build(t.clip);
    let lr_groups = LayerLr::new(&model, &cfg.layer_lr_scales);
    let mut model = model;
    let mut history = History::default();
    let mut global_step = 0usize;
    device.seed(cfg.seed);
    observer.on_train_begin(1, t.epochs, steps);
    for epoch in 1..=t.epochs {
        let started = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed(cfg.seed, epoch));
        observer.on_epoch_begin(epoch, 0);
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        for (step, idx) in shuffled_batches(train.len(), t.batch_size, t.shuffle, &mut rng)
            .iter()
            .enumerate()
        {
            let lr = schedule.lr(global_step);
            global_step += 1;
            if idx.len() < 2 {
                continue; // one image has no negatives
            }
            let mut values = Vec::with_capacity(idx.len() * c * h * w);
            for &i in idx {
                values.extend_from_slice(train.sample(i));
            }
            let seed = cfg.seed ^ (global_step as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
            let mut both = view1.apply_batch(&values, [c, h, w], seed);
            both.extend(view2.apply_batch(&values, [c, h, w], seed ^ 0x5851_F42D_4C95_7F2D));
            let x =
                Tensor::<2>::from_data(TensorData::new(both, [2 * idx.len(), c * h * w]), device);
            let z = model.forward_logits(model.reshape_input(x)); // [2B, projection]
            let loss = match labels {
                Some(l) if spec.supervised => {
                    let batch: Vec<u32> = idx.iter().chain(idx).map(|&i| l[i]).collect();
                    supervised_contrastive(z, &batch, spec.temperature)?
                }
                _ => nt_xent(z, spec.temperature)?,
            };
            let value = finite_loss(
                &loss,
                epoch,
                step + 1,
                "lower optimizer.lr or raise method.temperature",
            )?;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr_groups.at(lr), model, grads);
            loss_sum += value * idx.len() as f64;
            seen += idx.len();
            observer.on_step(
                epoch,
                step + 1,
                &[("loss", loss_sum / seen as f64), ("lr", lr)],
            );
        }
        let mut logs = vec![
            ("loss", loss_sum / seen.max(1) as f64),
            ("lr", schedule.lr(global_step.saturating_sub(1))),
        ];
        if let Some(acc) = knn_monitor(&model, train, val, spec, device) {
            logs.push(("val_knn_accuracy", acc));
        }
        logs.push(("seconds", started.elapsed().as_secs_f64()));
        end_epoch(epoch, &logs, &mut history, &mut schedule, observer)?;
    }
    observer.on_train_end();
    Ok(FitOutcome {
        model,
        history,
        stopped_at: None,
    })
}

/// 1-NN accuracy of the encoder's features: the validation images against the first
/// `monitor_reference` training images; `None` without labels, a validation split or a
/// reference.
fn knn_monitor(
    model: &Sequential,
    train: &Dataset,
    val: Option<&Dataset>,
    spec: &ContrastiveSpec,
    device: &Device,
) -> Option<f64> {
    let val = val.filter(|v| !v.is_empty())?;
    let (
        Targets::Classes {
            labels,
            num_classes,
        },
        Targets::Classes { labels: truth, .. },
    ) = (&train.targets, &val.targets)
    else {
        return None;
    };
    if spec.monitor_reference == 0 {
        return None;
    }
    let reference = train.take(spec.monitor_reference.min(train.len()));
    let plain = model.valid();
    let eval = device.clone().without_autodiff();
    let (r, d) = backbone_features(&plain, spec.encoder_layers, &reference, &eval);
    let (q, _) = backbone_features(&plain, spec.encoder_layers, val, &eval);
    let pred = knn_predict(&r, &labels[..reference.len()], &q, d, 1);
    Some(ConfusionMatrix::from_predictions(truth, &pred, *num_classes).accuracy())
}
