//! The semi-supervised training loop shared by every deep method of [`crate::semi`]: a
//! labelled and an unlabelled stream zipped by iteration, the weak and strong views drawn per
//! batch, `supervised + λ(t) · unsupervised` with λ ramped up, an exponential moving average of
//! the weights that is evaluated and returned, and a log of the unsupervised loss, the mask
//! rate and (for diagnosis only) the accuracy of the pseudo-labels against the hidden labels.
//!
//! Model selection never sees test labels: the returned model is the average after the last
//! iteration; a labelled validation split, when the recipe holds one out, is only logged.

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::batch::augmented_inputs;
use super::checkpoint::TrainState;
use super::evaluate::predict;
use super::fit::{
    FitConfig, FitOutcome, LayerLr, check_augment, end_epoch, epoch_seed, finite_loss,
    log_validation, resume_epochs,
};
use super::index_stream::IndexStream;
use super::observer::Observer;
use crate::augment::Pipeline;
use crate::data::{Dataset, ImageStream, Prefetch, Preprocessor, Targets};
use crate::losses::LossConfig;
use crate::model::Sequential;
use crate::optim::{Averaging, WeightAverage};
use crate::recipe::SemiSpec;
use crate::semi::{PseudoLabels, SemiAlgorithm, SemiBatch, StepContext, Views, sigmoid_ramp};
use crate::{Error, Result};

/// Checks what the semi-supervised loop needs of its data and views: labelled classes,
/// unlabelled samples of the same shape when the method learns from them, and the `[augment]`
/// views it draws (the strong one for FixMatch), keeping the image size.
pub fn check_semi(
    spec: &SemiSpec,
    labelled: &Dataset,
    unlabelled: Option<&Dataset>,
    views: &[Pipeline],
) -> Result<()> {
    let Targets::Classes { num_classes, .. } = labelled.targets else {
        return Err(Error::invalid(
            "data",
            "semi-supervised methods train classifiers: the data needs class labels",
        ));
    };
    if num_classes < 2 {
        return Err(Error::invalid(
            "data",
            "the labelled data holds fewer than two classes",
        ));
    }
    if spec.algorithm.reads_unlabelled() {
        match unlabelled {
            None if spec.algorithm.uses_unlabelled() => {
                return Err(Error::invalid(
                    "data.unlabelled",
                    format!(
                        "{} learns from unlabelled data, and the recipe gives none: set data.unlabelled = \"rest\" with data.train_per_class (or \"imdb_unsup\" for IMDB)",
                        spec.algorithm.name()
                    ),
                ));
            }
            None => {}
            Some(u) if u.is_empty() => {
                return Err(Error::invalid(
                    "data.unlabelled",
                    "the unlabelled set is empty",
                ));
            }
            Some(u) if u.sample_shape != labelled.sample_shape => {
                return Err(Error::invalid(
                    "data.unlabelled",
                    format!(
                        "unlabelled samples have shape {:?}, labelled ones {:?}",
                        u.sample_shape, labelled.sample_shape
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    let needed = spec.algorithm.views();
    if needed.strong && views.len() < 2 {
        return Err(Error::invalid(
            "augment",
            "FixMatch needs two [[augment.views]]: the weak view first, the strong one second",
        ));
    }
    if let &[c, h, w] = labelled.sample_shape.as_slice() {
        for (i, v) in views.iter().enumerate() {
            if v.output_shape([c, h, w]) != [c, h, w] {
                return Err(Error::invalid(
                    format!("augment.views[{i}]"),
                    "semi-supervised views must keep the image size (the same model reads labelled and unlabelled views)",
                ));
            }
        }
    }
    Ok(())
}

/// Checks that `spec` can learn from streamed unlabelled images and returns the first one,
/// preprocessed, for [`check_semi`]'s shape checks. Offline self-training labels the whole
/// unlabelled set each round and needs it in memory.
pub fn check_stream(spec: &SemiSpec, stream: UnlabelledStream) -> Result<Dataset> {
    let key = "data.unlabelled_idx / unlabelled_folder";
    if matches!(spec.algorithm, SemiAlgorithm::SelfTraining { .. }) {
        return Err(Error::invalid(
            key,
            "offline self-training relabels the whole unlabelled set each round and needs it in memory: use data.unlabelled, or an online method (e.g. pseudo_label, fixmatch) with a streamed set",
        ));
    }
    if !spec.algorithm.reads_unlabelled() {
        return Err(Error::invalid(
            key,
            format!(
                "{} does not read unlabelled data: remove the streamed set",
                spec.algorithm.name()
            ),
        ));
    }
    stream.probe()
}

/// Checks that distillation has a teacher that reads the labelled samples' shape and predicts
/// their classes.
pub fn check_teacher(
    spec: &SemiSpec,
    teacher: Option<&Sequential>,
    labelled: &Dataset,
) -> Result<()> {
    let Some(path) = spec.algorithm.teacher() else {
        return Ok(());
    };
    let key = "method.algorithm.teacher";
    let Some(teacher) = teacher else {
        return Err(Error::invalid(
            key,
            format!("the teacher run {} is not loaded", path.display()),
        ));
    };
    if teacher.input_shape() != labelled.sample_shape.as_slice() {
        return Err(Error::invalid(
            key,
            format!(
                "{} reads inputs of shape {:?}, the student's data have shape {:?}",
                path.display(),
                teacher.input_shape(),
                labelled.sample_shape
            ),
        ));
    }
    let Targets::Classes { num_classes, .. } = labelled.targets else {
        return Ok(()); // check_semi refuses these
    };
    let device = teacher
        .devices()
        .into_iter()
        .next()
        .unwrap_or_else(Device::flex);
    let probe = Tensor::<2>::zeros([1, labelled.sample_len()], &device);
    let outputs = teacher.forward_logits(teacher.reshape_input(probe)).dims()[1];
    if outputs != num_classes {
        return Err(Error::invalid(
            key,
            format!(
                "{} predicts {outputs} classes, the student's data have {num_classes}",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// The unlabelled samples a semi-supervised method learns from.
#[derive(Clone, Copy, Debug)]
pub struct Unlabelled<'a> {
    /// The samples (their targets are not read for training).
    pub samples: &'a Dataset,
    /// Their true classes where known (hidden labels of a labelled set, not IMDB's unsup
    /// reviews): only the pseudo-label accuracy in the log reads them, for diagnosis.
    pub truth: Option<&'a [u32]>,
}

/// Unlabelled images read from disk a batch at a time (`[data] unlabelled_idx`).
#[derive(Clone, Copy, Debug)]
pub struct UnlabelledStream<'a> {
    /// The file.
    pub images: &'a ImageStream,
    /// The run's fitted preprocessing, applied to each batch as it is read.
    pub preprocessors: &'a [Preprocessor],
}

impl UnlabelledStream<'_> {
    /// The file's first image through the preprocessing: what the checks look at.
    pub fn probe(&self) -> Result<Dataset> {
        let mut first = self.images.read(&[0])?;
        for p in self.preprocessors {
            p.transform(&mut first)?;
        }
        Ok(first)
    }
}

/// What a semi-supervised run trains on.
#[derive(Clone, Copy, Debug)]
pub struct SemiData<'a> {
    /// The labelled samples (class targets).
    pub labelled: &'a Dataset,
    /// The unlabelled ones, when the recipe gives some in memory.
    pub unlabelled: Option<Unlabelled<'a>>,
    /// Or the unlabelled images streamed from disk.
    pub stream: Option<UnlabelledStream<'a>>,
    /// The validation split, when there is one.
    pub val: Option<&'a Dataset>,
    /// Distillation's teacher: a trained classifier, without autodiff.
    pub teacher: Option<&'a Sequential>,
}

/// Trains `model` on `data`'s labelled classes and unlabelled samples with `spec`'s
/// algorithm for `cfg.training.epochs x spec.steps_per_epoch` iterations; returns the moving
/// average of the weights. `device` has autodiff.
pub fn fit_semi(
    model: Sequential,
    data: SemiData,
    spec: &SemiSpec,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    let SemiData {
        labelled,
        unlabelled,
        stream,
        val,
        teacher: distill_from,
    } = data;
    check_augment(cfg, labelled)?;
    let hidden = unlabelled.and_then(|u| u.truth);
    let unlabelled = unlabelled.map(|u| u.samples);
    let probe = stream.map(|s| check_stream(spec, s)).transpose()?;
    check_semi(spec, labelled, unlabelled.or(probe.as_ref()), &cfg.views)?;
    check_teacher(spec, distill_from, labelled)?;
    let Targets::Classes {
        labels,
        num_classes,
    } = &labelled.targets
    else {
        unreachable!("checked by check_semi")
    };
    let algorithm = &spec.algorithm;
    let t = &cfg.training;
    let steps = spec.steps_per_epoch;
    let total = t.epochs * steps;
    let (weight, ramp_share) = algorithm.weighting();
    let ramp_steps = (ramp_share * total as f64).round() as usize;
    let mut schedule = cfg
        .schedule
        .build(cfg.optimizer.learning_rate(), total, steps);
    let optim = cfg.optimizer.build(t.clip);
    let lr_groups = LayerLr::new(&model, &cfg.layer_lr_scales);
    let averaging = Averaging::Ema {
        decay: spec.ema_decay,
    };
    let ckpt_model = model.clone();
    let (mut model, mut optim, mut state) = resume_epochs(cfg, model, optim, &mut schedule)?;
    let mut average = WeightAverage::new(averaging)?;
    if let Some(ckpt) = cfg.checkpoint.as_ref().filter(|_| cfg.resume)
        && let Some(avg) = ckpt.load_average(ckpt_model)?
    {
        average = WeightAverage::resume(averaging, &avg, state.average_snapshots)?;
    }
    let mut history = std::mem::take(&mut state.history);
    let mut global_step = state.global_step;
    let mut pool = Pool::new(algorithm, total, std::mem::take(&mut state.pseudo_pool));
    let draw = ViewDraw { views: &cfg.views };
    let views = algorithm.views();
    let mut feed = stream.filter(|_| algorithm.reads_unlabelled()).map(|s| {
        let size = t.batch_size * spec.unlabelled_ratio;
        let seed = cfg.seed ^ 0x3C6E_F372_FE94_F82B;
        Prefetch::start(
            s.images.clone(),
            s.preprocessors.to_vec(),
            size,
            seed,
            global_step as u64,
        )
    });
    let eval_device = device.clone().without_autodiff();
    device.seed(cfg.seed.wrapping_add(global_step as u64));
    observer.on_train_begin(state.epochs_done + 1, t.epochs, steps);
    for epoch in state.epochs_done + 1..=t.epochs {
        let started = Instant::now();
        let seed = epoch_seed(cfg.seed, epoch);
        let mut labelled_stream = IndexStream::new(labelled.len(), seed);
        let mut unlabelled_stream =
            unlabelled.map(|u| IndexStream::new(u.len(), seed ^ 0x6A09_E667_F3BC_C909));
        pool.restart(seed);
        let mut sums = EpochSums::default();
        observer.on_epoch_begin(epoch, 0);
        for step in 1..=steps {
            let lr = schedule.lr(global_step);
            let lambda = weight * sigmoid_ramp(global_step, ramp_steps);
            let step_seed = cfg.seed ^ (global_step as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
            global_step += 1;
            if let Some(u) = unlabelled
                && pool.relabels_at(global_step - 1)
            {
                // The model as trained so far (the moving average lags a round of a few hundred
                // steps behind and labels too little).
                pool.relabel(&model.valid(), u, t.loss, &eval_device, step_seed);
            }
            let idx = labelled_stream.take(t.batch_size);
            let label_values: Vec<u32> = idx.iter().map(|&i| labels[i]).collect();
            let mut pool_labels = Vec::new();
            let sources = (unlabelled, unlabelled_stream.as_mut(), feed.as_mut());
            let (unl_idx, weak, strong) = match sources {
                (_, _, Some(feed)) => {
                    // Streamed from disk: the batch is the draw (no hidden labels to score).
                    let batch = feed.next_batch()?;
                    let all: Vec<usize> = (0..batch.len()).collect();
                    let (weak, strong) = draw.unlabelled(views, &batch, &all, step_seed, device);
                    (Vec::new(), weak, strong)
                }
                (Some(u), Some(_), None) if pool.active => {
                    let (unl_idx, labels) = pool.take(t.batch_size * spec.unlabelled_ratio);
                    pool_labels = labels;
                    let weak = match unl_idx.is_empty() {
                        true => Vec::new(),
                        false => vec![draw.view(0, u, &unl_idx, step_seed ^ 2 << 40, device)],
                    };
                    (unl_idx, weak, None)
                }
                (Some(u), Some(stream), None) if algorithm.reads_unlabelled() => {
                    let unl_idx = stream.take(t.batch_size * spec.unlabelled_ratio);
                    let (weak, strong) = draw.unlabelled(views, u, &unl_idx, step_seed, device);
                    (unl_idx, weak, strong)
                }
                _ => (Vec::new(), Vec::new(), None),
            };
            let batch = SemiBatch {
                labelled: draw.view(0, labelled, &idx, step_seed, device),
                labels: class_tensor(&label_values, device),
                label_values,
                classes: *num_classes,
                weak,
                strong,
                pool_labels,
            };
            let teacher = matches!(algorithm, SemiAlgorithm::MeanTeacher { .. })
                .then(|| average.apply(model.valid()));
            let ctx = StepContext {
                model: &model,
                teacher: teacher.as_ref(),
                distill_from,
                seed: step_seed ^ 0x2545_F491_4F6C_DD1D,
            };
            let out = algorithm.step(&ctx, batch);
            let supervised = finite_loss(&out.supervised, epoch, step, "lower optimizer.lr")?;
            let (loss, unsupervised) = match out.unsupervised {
                Some(u) => {
                    let value = finite_loss(
                        &u,
                        epoch,
                        step,
                        "lower method.algorithm.weight or optimizer.lr",
                    )?;
                    (out.supervised + u.mul_scalar(lambda), value)
                }
                None => (out.supervised, 0.0),
            };
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr_groups.at(lr), model, grads);
            average.update(&model);
            sums.add(supervised, unsupervised, lambda);
            if let Some(p) = &out.pseudo {
                sums.mask += p.mask_rate();
                sums.pseudo_steps += 1;
                if let Some(truth) = hidden {
                    let truth: Vec<u32> = unl_idx.iter().map(|&i| truth[i]).collect();
                    let (kept, right) = p.kept_and_right(&truth);
                    sums.pseudo_kept += kept;
                    sums.pseudo_right += right;
                }
            }
            observer.on_step(epoch, step, &sums.running(lr));
        }
        let mut logs = sums.logs(schedule.lr(global_step.saturating_sub(1)));
        pool.log(&mut logs, hidden);
        if val.is_some_and(|v| !v.is_empty()) {
            let averaged = average.apply(model.valid());
            log_validation(&averaged, val, t.loss, &eval_device, &mut logs)?;
        }
        logs.push(("seconds", started.elapsed().as_secs_f64()));
        end_epoch(epoch, &logs, &mut history, &mut schedule, observer)?;
        if let Some(ckpt) = &cfg.checkpoint {
            let state = TrainState {
                epochs_done: epoch,
                global_step,
                history: history.clone(),
                schedule: Some(schedule.state().clone()),
                average_snapshots: average.snapshots(),
                pseudo_pool: pool.entries.clone(),
                ..TrainState::default()
            };
            let averaged = average.apply(model.clone());
            ckpt.save(&model, &optim, &state, (None, Some(&averaged)))?;
        }
    }
    observer.on_train_end();
    Ok(FitOutcome {
        model: average.apply(model),
        history,
        stopped_at: None,
    })
}

/// Offline self-training's pseudo-labelled pool (inactive for the other algorithms).
struct Pool {
    active: bool,
    /// Iterations per round.
    round: usize,
    threshold: f64,
    /// (unlabelled index, pseudo-label) of the confident predictions of the last relabelling.
    entries: Vec<(usize, u32)>,
    /// Share of the unlabelled set in the pool.
    share: f64,
    stream: IndexStream,
}

impl Pool {
    fn new(algorithm: &SemiAlgorithm, total: usize, entries: Vec<(usize, u32)>) -> Self {
        let (active, rounds, threshold) = match *algorithm {
            SemiAlgorithm::SelfTraining {
                rounds, threshold, ..
            } => (true, rounds, threshold),
            _ => (false, 1, 1.0),
        };
        Self {
            active,
            round: total.div_ceil(rounds).max(1),
            threshold,
            stream: IndexStream::new(entries.len(), 0),
            entries,
            share: 0.0,
        }
    }

    /// Whether a round starts after `done` iterations (not the first: it trains on labels only).
    fn relabels_at(&self, done: usize) -> bool {
        self.active && done > 0 && done.is_multiple_of(self.round)
    }

    /// A fresh order of the pool (each epoch, and after each relabelling).
    fn restart(&mut self, seed: u64) {
        self.stream = IndexStream::new(self.entries.len(), seed ^ 0xBB67_AE85_84CA_A73B);
    }

    /// Labels every unlabelled sample with `model` and keeps the confident ones.
    fn relabel(
        &mut self,
        model: &Sequential,
        unlabelled: &Dataset,
        loss: LossConfig,
        device: &Device,
        seed: u64,
    ) {
        let probs = predict(model, loss, unlabelled, 512, device);
        let classes = probs.len() / unlabelled.len().max(1);
        let p = PseudoLabels::confident(&probs, classes, self.threshold);
        self.entries = (0..unlabelled.len())
            .filter(|&i| p.mask[i] > 0.0)
            .map(|i| (i, p.labels[i]))
            .collect();
        self.share = self.entries.len() as f64 / unlabelled.len().max(1) as f64;
        self.restart(seed);
    }

    /// `k` pool entries (none while the pool is empty).
    fn take(&mut self, k: usize) -> (Vec<usize>, Vec<u32>) {
        if self.entries.is_empty() {
            return (Vec::new(), Vec::new());
        }
        self.stream
            .take(k)
            .into_iter()
            .map(|j| self.entries[j])
            .unzip()
    }

    /// The pool's share of the unlabelled set and (diagnosis only) its accuracy.
    fn log(&self, logs: &mut Vec<(&'static str, f64)>, hidden: Option<&[u32]>) {
        if !self.active {
            return;
        }
        logs.push(("pool_share", self.share));
        if let (Some(truth), false) = (hidden, self.entries.is_empty()) {
            let right = self.entries.iter().filter(|&&(i, l)| truth[i] == l).count();
            logs.push(("pseudo_accuracy", right as f64 / self.entries.len() as f64));
        }
    }
}

fn class_tensor(labels: &[u32], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(v, [labels.len()]), device)
}

/// Draws batches through the `[augment]` views: view 0 is the weak one (the raw images when
/// there is none), view 1 the strong one.
struct ViewDraw<'a> {
    views: &'a [Pipeline],
}

impl ViewDraw<'_> {
    fn view(
        &self,
        which: usize,
        data: &Dataset,
        idx: &[usize],
        seed: u64,
        device: &Device,
    ) -> Tensor<2> {
        augmented_inputs(data, idx, self.views.get(which), seed, device)
    }

    /// The weak views (as many as the method reads) and the strong one (when it reads one) of
    /// the unlabelled samples `idx` of `data`.
    fn unlabelled(
        &self,
        views: Views,
        data: &Dataset,
        idx: &[usize],
        step_seed: u64,
        device: &Device,
    ) -> (Vec<Tensor<2>>, Option<Tensor<2>>) {
        let weak = (0..views.weak)
            .map(|k| self.view(0, data, idx, step_seed ^ (k as u64 + 2) << 40, device))
            .collect();
        let strong = views
            .strong
            .then(|| self.view(1, data, idx, step_seed ^ 0xFF << 48, device));
        (weak, strong)
    }
}

/// An epoch's running sums for the log.
#[derive(Default)]
struct EpochSums {
    steps: usize,
    total: f64,
    supervised: f64,
    unsupervised: f64,
    lambda: f64,
    mask: f64,
    pseudo_steps: usize,
    pseudo_right: usize,
    pseudo_kept: usize,
}

impl EpochSums {
    fn add(&mut self, supervised: f64, unsupervised: f64, lambda: f64) {
        self.steps += 1;
        self.total += supervised + lambda * unsupervised;
        self.supervised += supervised;
        self.unsupervised += unsupervised;
        self.lambda = lambda;
    }

    fn mean(&self, sum: f64) -> f64 {
        sum / self.steps.max(1) as f64
    }

    fn running(&self, lr: f64) -> Vec<(&'static str, f64)> {
        let mut logs = vec![
            ("loss", self.mean(self.total)),
            ("sup_loss", self.mean(self.supervised)),
            ("unsup_loss", self.mean(self.unsupervised)),
        ];
        if self.pseudo_steps > 0 {
            logs.push(("mask_rate", self.mask / self.pseudo_steps as f64));
        }
        logs.push(("lr", lr));
        logs
    }

    /// The epoch's row: the mean losses, λ at the end, the mask rate and the pseudo-labels'
    /// accuracy (over all kept pseudo-labels of the epoch) where the method makes them.
    fn logs(&self, lr: f64) -> Vec<(&'static str, f64)> {
        let mut logs = vec![
            ("loss", self.mean(self.total)),
            ("sup_loss", self.mean(self.supervised)),
            ("unsup_loss", self.mean(self.unsupervised)),
            ("lambda", self.lambda),
        ];
        if self.pseudo_steps > 0 {
            logs.push(("mask_rate", self.mask / self.pseudo_steps as f64));
            if self.pseudo_kept > 0 {
                let accuracy = self.pseudo_right as f64 / self.pseudo_kept as f64;
                logs.push(("pseudo_accuracy", accuracy));
            }
        }
        logs.push(("lr", lr));
        logs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::AugmentOp;
    use crate::data::{DatasetName, load_builtin, per_class_indices};
    use crate::losses::LossConfig;
    use crate::model::{ActivationKind, LayerConfig, SequentialConfig};
    use crate::optim::OptimizerConfig;
    use crate::train::{Checkpoint, Silent};
    use burn::tensor::activation::softmax;

    /// `samples` with their hidden labels.
    fn with_truth(samples: &Dataset) -> Unlabelled<'_> {
        let Targets::Classes { labels, .. } = &samples.targets else {
            unreachable!("digits have classes")
        };
        Unlabelled {
            samples,
            truth: Some(labels),
        }
    }

    /// 3 labelled digits per class and the rest of the training digits unlabelled.
    fn digits() -> (Dataset, Dataset) {
        let train = load_builtin(DatasetName::Digits, None).unwrap().train;
        let chosen = per_class_indices(&train, 3, 1).unwrap();
        let rest: Vec<usize> = (0..train.len()).filter(|i| !chosen.contains(i)).collect();
        (train.subset(&chosen), train.subset(&rest))
    }

    fn model(device: &Device) -> Sequential {
        SequentialConfig::new()
            .add(LayerConfig::flatten())
            .add(LayerConfig::dense(32, ActivationKind::Relu))
            .add(LayerConfig::dense(10, ActivationKind::Softmax))
            .build(&[1, 8, 8], device)
            .unwrap()
    }

    fn spec(algorithm: &str) -> SemiSpec {
        SemiSpec {
            algorithm: toml::from_str(&format!("kind = \"{algorithm}\"")).unwrap(),
            steps_per_epoch: 5,
            unlabelled_ratio: 3,
            ema_decay: 0.9,
        }
    }

    fn cfg(epochs: usize) -> FitConfig {
        let mut cfg = FitConfig::new(
            LossConfig::SparseCategoricalCrossentropy,
            OptimizerConfig::sgd(0.05, 0.9),
            epochs,
            16,
        );
        let shift = |extra: Vec<AugmentOp>| {
            let mut ops = vec![AugmentOp::Translate { fraction: 0.125 }];
            ops.extend(extra);
            Pipeline {
                ops: ops
                    .into_iter()
                    .map(|op| crate::augment::Step { op, p: 1.0 })
                    .collect(),
            }
        };
        cfg.views = vec![shift(vec![]), shift(vec![AugmentOp::Cutout { size: 0.5 }])];
        cfg
    }

    fn output(model: &Sequential, device: &Device) -> Vec<f32> {
        let x = Tensor::<2>::ones([1, 64], device);
        model
            .forward(model.reshape_input(x))
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn every_algorithm_trains_and_logs_its_terms() {
        let (labelled, unlabelled) = digits();
        let device = Device::flex().autodiff();
        for name in [
            "supervised",
            "pseudo_label",
            "entropy_min",
            "mutual_information",
            "pi_model",
            "mean_teacher",
            "vat",
            "mixmatch",
            "fixmatch",
            "self_training",
        ] {
            device.seed(1);
            let mut s = spec(name);
            if let SemiAlgorithm::PseudoLabel { threshold, .. }
            | SemiAlgorithm::FixMatch { threshold, .. }
            | SemiAlgorithm::SelfTraining { threshold, .. } = &mut s.algorithm
            {
                *threshold = 0.3; // a young model's labels pass it, so the term is not empty
            }
            let data = SemiData {
                stream: None,
                labelled: &labelled,
                unlabelled: Some(with_truth(&unlabelled)),
                val: Some(&labelled),
                teacher: None,
            };
            let out = fit_semi(model(&device), data, &s, &cfg(2), &device, &mut Silent)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let h = &out.history;
            assert_eq!(h.len(), 2, "{name}");
            let unsup = h.series("unsup_loss").unwrap();
            let makes_labels = matches!(name, "pseudo_label" | "fixmatch");
            assert_eq!(h.series("mask_rate").is_some(), makes_labels, "{name}");
            match name {
                "supervised" => assert!(unsup.iter().all(|&u| u == 0.0)),
                // The mutual-information term is an entropy difference: it may be negative.
                "mutual_information" => assert!(unsup.iter().all(|u| u.is_finite() && *u != 0.0)),
                _ => assert!(
                    unsup.iter().all(|&u| u.is_finite() && u > 0.0),
                    "{name}: {unsup:?}"
                ),
            }
            assert!(h.series("val_accuracy").is_some(), "{name}");
            // Self-training relabels after every 3 of the 10 steps (4 rounds).
            assert_eq!(h.series("pool_share").is_some(), name == "self_training");
            // λ reaches its full weight by the end (the ramp takes 40% of the steps).
            let (weight, ramp) = s.algorithm.weighting();
            let lambda = h.last("lambda").unwrap();
            assert!(ramp <= 0.4 && (lambda - weight).abs() < 1e-12, "{name}");
        }
    }

    #[test]
    fn distillation_pulls_the_student_toward_its_teacher_and_refuses_a_mismatched_one() {
        let (labelled, unlabelled) = digits();
        let device = Device::flex().autodiff();
        device.seed(8);
        let teacher = model(&device);
        let student = model(&device);
        let plain_teacher = teacher.valid();
        let mut s = spec("supervised");
        s.algorithm = toml::from_str(
            "kind = \"distillation\"\nteacher = \"runs/teacher\"\ntemperature = 2.0\nalpha = 1.0",
        )
        .unwrap();
        // Mean KL(teacher || student) of the predictions on the unlabelled digits.
        let divergence = |m: &Sequential| {
            let x = Tensor::<2>::from_data(
                TensorData::new(unlabelled.features.clone(), [unlabelled.len(), 64]),
                &device,
            );
            let q = softmax(teacher.forward_logits(teacher.reshape_input(x.clone())), 1);
            let p = softmax(m.forward_logits(m.reshape_input(x)), 1);
            let kl = (q.clone() * (q.log() - p.log())).sum_dim(1).mean();
            kl.into_scalar::<f32>()
        };
        let before = divergence(&student);
        let data = SemiData {
            stream: None,
            labelled: &labelled,
            unlabelled: Some(Unlabelled {
                samples: &unlabelled,
                truth: None,
            }),
            val: None,
            teacher: Some(&plain_teacher),
        };
        let out = fit_semi(student, data, &s, &cfg(6), &device, &mut Silent).unwrap();
        let after = divergence(&out.model);
        assert!(after < 0.2 * before, "{before} -> {after}");
        // No teacher loaded, a teacher of other classes, a teacher of other inputs.
        let err = check_teacher(&s, None, &labelled).unwrap_err().to_string();
        assert!(err.contains("method.algorithm.teacher"), "{err}");
        let three = SequentialConfig::new()
            .add(LayerConfig::flatten())
            .add(LayerConfig::dense(3, ActivationKind::Softmax))
            .build(&[1, 8, 8], &device)
            .unwrap()
            .valid();
        let err = check_teacher(&s, Some(&three), &labelled)
            .unwrap_err()
            .to_string();
        assert!(err.contains("3 classes") && err.contains("10"), "{err}");
        let wide = SequentialConfig::new()
            .add(LayerConfig::flatten())
            .add(LayerConfig::dense(10, ActivationKind::Softmax))
            .build(&[1, 28, 28], &device)
            .unwrap()
            .valid();
        let err = check_teacher(&s, Some(&wide), &labelled)
            .unwrap_err()
            .to_string();
        assert!(err.contains("shape"), "{err}");
    }

    #[test]
    fn a_stopped_semi_run_resumes_where_it_stopped() {
        let (labelled, unlabelled) = digits();
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        // One initial model for all three runs: the device's random stream is shared with
        // tests running in parallel.
        device.seed(4);
        let start = model(&device);
        let run = |epochs: usize, resume: bool| {
            let mut cfg = cfg(epochs);
            // No ramp-up: its length depends on the planned epochs, which differ here.
            let mut spec = spec("mean_teacher");
            spec.algorithm = toml::from_str("kind = \"mean_teacher\"\nramp_up = 0.0").unwrap();
            cfg.checkpoint = Some(Checkpoint::new(dir.path().join("ckpt")));
            cfg.resume = resume;
            let data = SemiData {
                stream: None,
                labelled: &labelled,
                unlabelled: Some(with_truth(&unlabelled)),
                val: None,
                teacher: None,
            };
            let out = fit_semi(start.clone(), data, &spec, &cfg, &device, &mut Silent).unwrap();
            (output(&out.model, &device), out.history)
        };
        run(2, false);
        let (resumed, history) = run(3, true);
        assert_eq!(history.len(), 3);
        std::fs::remove_dir_all(dir.path().join("ckpt")).unwrap();
        let (whole, _) = run(3, false);
        assert_eq!(
            resumed, whole,
            "the teacher (moving average) is restored too"
        );
    }

    #[test]
    fn missing_unlabelled_data_or_views_are_clear_errors() {
        let (labelled, unlabelled) = digits();
        let err = check_semi(&spec("fixmatch"), &labelled, None, &cfg(1).views)
            .unwrap_err()
            .to_string();
        assert!(err.contains("data.unlabelled"), "{err}");
        check_semi(&spec("supervised"), &labelled, None, &[]).unwrap();
        let err = check_semi(
            &spec("fixmatch"),
            &labelled,
            Some(&unlabelled),
            &cfg(1).views[..1],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("strong"), "{err}");
        let empty = unlabelled.take(0);
        assert!(check_semi(&spec("vat"), &labelled, Some(&empty), &[]).is_err());
        // Distillation reads unlabelled data only when given, and an empty set is still refused.
        let mut distil = spec("supervised");
        distil.algorithm = toml::from_str("kind = \"distillation\"\nteacher = \"t\"").unwrap();
        check_semi(&distil, &labelled, None, &[]).unwrap();
        let err = check_semi(&distil, &labelled, Some(&empty), &[]).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
