//! The training loop of self-supervised methods (SimCLR, SupCon, rotation prediction,
//! masked-image imputation): every shuffled batch is drawn through the `[augment]` views, the
//! method's objective turns it into a loss, and after each epoch a kNN monitor shows the
//! encoder's features improving: 1-NN accuracy of the validation split against labelled
//! training images (no test labels).

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::features::backbone_features;
use super::fit::{
    FitConfig, FitOutcome, LayerLr, check_augment, close_epoch, epoch_seed, finite_loss,
    resume_epochs,
};
use super::observer::Observer;
use crate::augment::Pipeline;
use crate::data::{Dataset, Targets, shuffled_batches};
use crate::model::Sequential;
use crate::ssl::PretextSpec;
use crate::train::metrics::ConfusionMatrix;
use crate::transfer::knn_predict;
use crate::{Error, Result};

/// Trains `model` with the self-supervised objective of `spec` on `train`, drawing each batch
/// through the pipelines of `cfg.views` (the raw images when there are none and the objective
/// needs one view); `val` (when given and labelled) is the kNN monitor's query set. `device`
/// has autodiff.
pub fn fit_pretext(
    model: Sequential,
    train: &Dataset,
    val: Option<&Dataset>,
    spec: &PretextSpec,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    check_augment(cfg, train)?;
    let objective = spec.objective;
    let &[c, h, w] = train.sample_shape.as_slice() else {
        return Err(Error::invalid(
            "data",
            "self-supervised pre-training needs image data ([channels, height, width] samples)",
        ));
    };
    let views = objective.views();
    if cfg.views.len() != views && !(views == 1 && cfg.views.is_empty()) {
        return Err(Error::invalid(
            "augment",
            format!(
                "this method draws {views} view(s) of each image; [augment] lists {}",
                cfg.views.len()
            ),
        ));
    }
    let labels = match &train.targets {
        Targets::Classes { labels, .. } => Some(labels.as_slice()),
        _ if objective.needs_labels() => {
            return Err(Error::invalid(
                "method",
                "supervised contrastive learning needs class labels",
            ));
        }
        _ => None,
    };
    let t = &cfg.training;
    let steps = train.len().div_ceil(t.batch_size);
    let mut schedule = cfg
        .schedule
        .build(cfg.optimizer.learning_rate(), t.epochs * steps, steps);
    let optim = cfg.optimizer.build(t.clip);
    let lr_groups = LayerLr::new(&model, &cfg.layer_lr_scales);
    // Checkpoints at epoch ends: a resumed run goes on from the last finished epoch.
    let (mut model, mut optim, mut state) = resume_epochs(cfg, model, optim, &mut schedule)?;
    let mut history = std::mem::take(&mut state.history);
    let mut global_step = state.global_step;
    device.seed(cfg.seed.wrapping_add(global_step as u64));
    observer.on_train_begin(state.epochs_done + 1, t.epochs, steps);
    for epoch in state.epochs_done + 1..=t.epochs {
        let started = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed(cfg.seed, epoch));
        observer.on_epoch_begin(epoch, 0);
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        let mut augment_seconds = 0.0f64;
        for (step, idx) in shuffled_batches(train.len(), t.batch_size, t.shuffle, &mut rng)
            .iter()
            .enumerate()
        {
            let lr = schedule.lr(global_step);
            global_step += 1;
            if idx.len() < 2 && views == 2 {
                continue; // one image has no negatives
            }
            let mut values = Vec::with_capacity(idx.len() * c * h * w);
            for &i in idx {
                values.extend_from_slice(train.sample(i));
            }
            let seed = cfg.seed ^ (global_step as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
            let augment_started = Instant::now();
            let drawn = draw_views(&cfg.views, values, [c, h, w], seed);
            augment_seconds += augment_started.elapsed().as_secs_f64();
            let batch_labels: Option<Vec<u32>> =
                labels.map(|l| idx.iter().map(|&i| l[i]).collect());
            let loss = objective.loss(
                &model,
                drawn,
                batch_labels.as_deref(),
                [c, h, w],
                seed ^ 0x2545_F491_4F6C_DD1D,
                device,
            )?;
            let value = finite_loss(
                &loss,
                epoch,
                step + 1,
                "lower optimizer.lr (or raise method.temperature)",
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
        // The share of the epoch spent drawing augmented views (issue 7 asks for it).
        logs.push(("augment_seconds", augment_seconds));
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
        model,
        history,
        stopped_at: None,
    })
}

/// The batch `values` drawn through each pipeline, view after view (each view seeded apart);
/// the batch itself when there is no pipeline.
fn draw_views(pipelines: &[Pipeline], values: Vec<f32>, shape: [usize; 3], seed: u64) -> Vec<f32> {
    if pipelines.is_empty() {
        return values;
    }
    let mut drawn = Vec::with_capacity(pipelines.len() * values.len());
    for (v, view) in pipelines.iter().enumerate() {
        let view_seed = seed ^ (v as u64).wrapping_mul(0x5851_F42D_4C95_7F2D);
        drawn.extend(view.apply_batch(&values, shape, view_seed));
    }
    drawn
}

/// 1-NN accuracy of the encoder's features: the validation images against the first
/// `monitor_reference` training images; `None` without labels, a validation split or a
/// reference.
fn knn_monitor(
    model: &Sequential,
    train: &Dataset,
    val: Option<&Dataset>,
    spec: &PretextSpec,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::LossConfig;
    use crate::optim::OptimizerConfig;
    use crate::ssl::Pretext;
    use crate::train::Checkpoint;
    use burn::tensor::Tensor;

    #[test]
    fn a_stopped_pretext_run_resumes_where_it_stopped() {
        let data = crate::data::load_builtin(crate::data::DatasetName::Digits, None)
            .unwrap()
            .train
            .take(200);
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        let spec = PretextSpec {
            objective: Pretext::Rotation,
            encoder_layers: 2,
            monitor_reference: 0,
        };
        let run = |epochs: usize, resume: bool| {
            device.seed(4);
            let model = crate::model::SequentialConfig::new()
                .add(crate::model::LayerConfig::flatten())
                .add(crate::model::LayerConfig::dense(
                    16,
                    crate::model::ActivationKind::Relu,
                ))
                .add(crate::model::LayerConfig::dense(
                    4,
                    crate::model::ActivationKind::Softmax,
                ))
                .build(&[1, 8, 8], &device)
                .unwrap();
            let mut cfg = FitConfig::new(
                LossConfig::SparseCategoricalCrossentropy,
                OptimizerConfig::adam(1e-2),
                epochs,
                32,
            );
            cfg.checkpoint = Some(Checkpoint::new(dir.path().join("ckpt")));
            cfg.resume = resume;
            let out = fit_pretext(
                model,
                &data,
                None,
                &spec,
                &cfg,
                &device,
                &mut super::super::Silent,
            )
            .unwrap();
            let x = Tensor::<2>::ones([1, 64], &device);
            let y = out.model.forward(out.model.reshape_input(x));
            (
                y.into_data().convert::<f32>().try_to_vec::<f32>().unwrap(),
                out.history,
            )
        };
        run(2, false);
        let (resumed, history) = run(3, true);
        assert_eq!(
            history.len(),
            3,
            "the first two epochs come from the checkpoint"
        );
        std::fs::remove_dir_all(dir.path().join("ckpt")).unwrap();
        let (whole, whole_history) = run(3, false);
        assert_eq!(resumed, whole);
        // The saved history went through JSON: equal up to the last digit.
        let (a, b) = (
            history.series("loss").unwrap(),
            whole_history.series("loss").unwrap(),
        );
        assert!(
            a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() < 1e-12),
            "{a:?} {b:?}"
        );
    }
}
