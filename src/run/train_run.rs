//! Training a recipe into a run folder, and evaluating a finished run.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;

use super::clip_run::{ClipParts, finish_clip, train_clip};
use super::embedding_eval_run::{EmbeddingRun, evaluate_embedding, plan_embedding_eval};
use super::files::{RunFiles, write_atomic};
use super::lm_run::{
    check_language_model, check_vocabulary, evaluate_language_model, train_language_model,
};
use super::multitask_run::{check_tasks, evaluate_tasks, save_heads, train_multitask};
use super::prepare::{PreparedData, TEXT_ENCODING, prepare_data};
use super::probe_run::probe_recipe;
use super::seq2seq_run::load_run_recipe;
use crate::data::{ClassBalancedSampler, Preprocessor, Targets, TextEncoding};
use crate::model::{MultiHead, Sequential, Summary};
use crate::plot::{plot_confusion, plot_curves};
use crate::recipe::{AnyRecipe, MethodSection, Recipe, SemiSpec};
use crate::recipe::{HeadKind, TrainPart};
use crate::train::{
    Checkpoint, DannData, Evaluation, FitConfig, FitOutcome, History, Observer, SemiData,
    check_fit, check_semi, check_stream, check_teacher, evaluate, fit, fit_dann, fit_embedding,
    fit_pretext, fit_semi, load_record, save_record,
};
use crate::transfer::init_from_run;
use crate::{Error, Result};

/// A finished run, loaded for prediction or evaluation.
#[derive(Debug)]
pub struct TrainedRun {
    /// The recipe it was trained with.
    pub recipe: Recipe,
    /// The trained model.
    pub model: Sequential,
    /// The fitted preprocessing steps.
    pub preprocessors: Vec<Preprocessor>,
    /// How raw text is encoded, for text runs.
    pub text: Option<TextEncoding>,
}

/// Where a run reads data and writes its folder.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Folder holding the datasets (`None`: only embedded data works).
    pub data_dir: Option<PathBuf>,
    /// The run folder.
    pub out: PathBuf,
    /// Continue the run in `out` from its checkpoint.
    pub resume: bool,
}

/// What a finished run measured.
#[derive(Debug)]
pub struct RunReport {
    /// The run folder.
    pub dir: PathBuf,
    /// The model's layers and parameter counts.
    pub summary: Summary,
    /// Per-epoch log.
    pub history: History,
    /// Metrics on the test set.
    pub test: Evaluation,
    /// RMSE of always predicting the training mean (regression only).
    pub baseline_rmse: Option<f64>,
    /// Epoch at which early stopping ended training.
    pub stopped_at: Option<usize>,
    /// Wall time of training (this invocation).
    pub train_seconds: f64,
}

/// Trains `recipe` into `opts.out`: recipe, weights, history, metrics and plots.
///
/// `device` is the compute device without autodiff (e.g. `Device::flex()`).
pub fn train_recipe(
    recipe: &Recipe,
    opts: &RunOptions,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<RunReport> {
    let files = RunFiles::new(&opts.out);
    // Everything that can fail on bad input is checked before the run folder is created.
    let data = prepare_data(&recipe.data, opts.data_dir.as_deref())?;
    let input_shape = data.train.sample_shape.clone();
    let embedding_method = recipe
        .method
        .as_ref()
        .is_some_and(MethodSection::trains_embedding);
    let teacher = check_method(recipe, &data, opts.resume, device)?;
    let embedding_plan = plan_embedding_eval(recipe, &data, opts.data_dir.as_deref())?;
    let summary = recipe.model.summary(&recipe.name, &input_shape)?;
    if let Some(section) = recipe
        .transfer
        .as_ref()
        .filter(|t| t.head != HeadKind::Layers)
    {
        return probe_recipe(recipe, section, &data, &files, summary, device);
    }
    let language_model = recipe
        .method
        .as_ref()
        .and_then(MethodSection::language_model);
    let train_device = device.clone().autodiff();
    train_device.seed(recipe.seed);
    let model = match language_model {
        Some(_) => recipe
            .model
            .build_token_model(&input_shape, &train_device)?,
        None => recipe.model.build(&input_shape, &train_device)?,
    };
    let (model, layer_lr_scales) = match &recipe.transfer {
        Some(section) => {
            let t = init_from_run(model, &recipe.model, &input_shape, section, &train_device)?;
            (t.model, t.lr_scales)
        }
        None => (model, Vec::new()),
    };
    let cfg = FitConfig {
        training: recipe.training.clone(),
        optimizer: recipe.optimizer.clone(),
        schedule: recipe.schedule.clone(),
        seed: recipe.seed,
        checkpoint: Some(Checkpoint::new(files.checkpoint())),
        resume: opts.resume,
        layer_lr_scales,
        views: recipe
            .augment
            .as_ref()
            .map(|a| a.views.clone())
            .unwrap_or_default(),
    };
    check_fit(&cfg, &data.train, data.val.as_ref())?;
    start_folder(recipe, &files, opts.resume)?;
    write_atomic(&files.summary(), summary.to_string().as_bytes())?;
    save_preprocessors(&files, &data.preprocessors)?;
    if let Some(text) = &data.text {
        write_atomic(&files.dir.join(TEXT_ENCODING), &text.to_json())?;
    }
    if let Some(names) = &data.train.class_names {
        let json = serde_json::to_vec(names).expect("names serialise");
        write_atomic(&files.dir.join("classes.json"), &json)?;
    }
    write_labelled(recipe, &data, &files)?;

    // Counted before training: a loop that hands back a moving average returns a copy
    // whose parameters take no gradient.
    let trainable = model.trainable_parameters();
    let started = Instant::now();
    let evaluate_only = recipe
        .transfer
        .as_ref()
        .is_some_and(|t| t.train == TrainPart::None);
    let (outcome, extra) = if evaluate_only {
        // `[transfer] train = "none"`: the run's model as it is ("source only").
        let outcome = FitOutcome {
            model,
            history: History::default(),
            stopped_at: None,
        };
        (outcome, MethodParts::None)
    } else {
        let teacher = teacher.as_ref();
        train_by_method(model, recipe, &data, teacher, &cfg, &train_device, observer)?
    };
    let train_seconds = started.elapsed().as_secs_f64();

    let model = outcome.model.valid();
    match recipe.transfer.as_ref().filter(|t| t.tuning.is_some()) {
        // Only what trained: the base run's frozen weights stay in the base run.
        Some(section) => save_tuned(&model, section.backbone, &files)?,
        None => save_model(&model, &files.model())?,
    }
    outcome.history.write_csv(files.history())?;
    if !outcome.history.is_empty() {
        plot_curves(&outcome.history, &files.curves())?;
    }

    let mut test = match (embedding_method, &language_model) {
        (_, Some(spec)) => evaluate_language_model(&model, &data, spec, device)?,
        (false, None) => evaluate(&model, &data.test, recipe.training.loss, 512, device)?,
        // An embedding has no loss or accuracy of its own: it is measured below.
        (true, None) => Evaluation {
            loss: f64::NAN,
            metrics: Vec::new(),
            confusion: None,
            regression: None,
        },
    };
    match (&extra, &recipe.method) {
        (MethodParts::Heads(m), Some(MethodSection::Multitask { tasks, .. })) => {
            save_heads(m, tasks, &files)?;
            test.metrics
                .extend(evaluate_tasks(m, tasks, &data.test, device)?);
        }
        (MethodParts::Clip(parts), _) => {
            test.metrics
                .extend(finish_clip(parts, &files, &data, recipe.seed, device)?);
        }
        _ => {}
    }
    if !embedding_method && language_model.is_none() {
        // With [data.target] the test set is the target's; the source's is measured too.
        let source = source_accuracy(&model, &data, recipe.training.loss, device)?;
        test.metrics.extend(source);
    }
    if let Some(plan) = &embedding_plan {
        let run = EmbeddingRun {
            recipe,
            data: &data,
            files: &files,
        };
        test.metrics
            .extend(evaluate_embedding(&model, plan, &run, device)?);
    }
    let baseline_rmse = mean_baseline_rmse(&data);
    write_metrics(
        &files,
        &test,
        baseline_rmse,
        &outcome.history,
        (train_seconds, trainable),
    )?;
    if let Some(cm) = &test.confusion {
        plot_confusion(cm, data.test.class_names.as_deref(), &files.confusion())?;
    }
    Ok(RunReport {
        dir: files.dir.clone(),
        summary,
        history: outcome.history,
        test,
        baseline_rmse,
        stopped_at: outcome.stopped_at,
        train_seconds,
    })
}

/// Checks, before any run folder exists, what the recipe's `[method]` and `[augment]` need of
/// the data: outputs matching the classes (supervised and multitask), task mappings, image
/// sizes of the views, enough images per class for class-balanced batches, pretext heads and
/// class labels; and no `--resume` for methods that write no checkpoint. Returns
/// distillation's teacher, loaded on `device` to be checked and kept for training.
fn check_method(
    recipe: &Recipe,
    data: &PreparedData,
    resume: bool,
    device: &Device,
) -> Result<Option<Sequential>> {
    let method = recipe.method.as_ref();
    let mut teacher = None;
    check_vocabulary(recipe, data)?;
    match method.and_then(MethodSection::language_model) {
        Some(spec) => check_language_model(recipe, data, &spec)?,
        None if !method.is_some_and(MethodSection::trains_embedding) => {
            check_outputs(recipe, data)?
        }
        None => {}
    }
    if let Some(MethodSection::Multitask { tasks, .. }) = method {
        check_tasks(tasks, &data.train)?;
    }
    if let (Some((classes, per_class)), Targets::Classes { labels, .. }) = (
        method.and_then(MethodSection::balanced_batch),
        &data.train.targets,
    ) {
        let key = ("method.per_class", "the training data");
        ClassBalancedSampler::new(labels, classes, per_class, key)?;
    }
    if let Some(augment) = &recipe.augment {
        augment.check_shape(&data.train.sample_shape, data.text.is_some())?;
    }
    if let Some(spec) = method.and_then(MethodSection::pretext) {
        let shapes = recipe.model.check(&data.train.sample_shape)?;
        let units = shapes.last().map_or(0, |s| s.iter().product());
        spec.objective.check(&data.train.sample_shape, units)?;
    }
    if method.is_some_and(|m| m.dann().is_some()) && recipe.data.target.is_none() {
        return Err(Error::invalid(
            "data.target",
            "DANN adapts to a target domain: add a [data.target] section (e.g. dataset = \"usps\" with its preprocess)",
        ));
    }
    if method.is_some_and(|m| m.dann().is_none() && m.semi().is_none())
        && recipe.data.target.is_some()
    {
        return Err(Error::invalid(
            "data.target",
            "[data.target] serves plain training (source only), DANN and the semi-supervised methods: remove it, or set [method] kind = \"dann\" or \"semi\"",
        ));
    }
    if let Some(spec) = method.and_then(MethodSection::dann) {
        spec.check(&recipe.model, &data.train.sample_shape)?;
    }
    if let Some(spec) = method.and_then(MethodSection::semi) {
        let views = recipe
            .augment
            .as_ref()
            .map(|a| a.views.clone())
            .unwrap_or_default();
        let probe = data.stream().map(|s| check_stream(&spec, s)).transpose()?;
        let unlabelled = data.unlabelled.as_ref().or(probe.as_ref());
        check_semi(&spec, &data.train, unlabelled, &views)?;
        teacher = load_teacher(&spec, data, device)?;
        check_teacher(&spec, teacher.as_ref(), &data.train)?;
    }
    let classes = data.train.num_classes().unwrap_or(0);
    let needs_classes = match method {
        Some(MethodSection::Clip { .. }) => Some("CLIP draws each image's caption from its class"),
        Some(m) if m.pretext().is_some_and(|p| p.objective.needs_labels()) => {
            Some("supervised contrastive learning takes its positives from the classes")
        }
        _ => None,
    };
    if let Some(why) = needs_classes
        && classes < 2
    {
        return Err(Error::invalid(
            "data",
            format!("{why}: the data needs class labels of at least two classes"),
        ));
    }
    let checkpoints = |m: &MethodSection| {
        m.pretext().is_some()
            || m.language_model().is_some()
            || matches!(
                m,
                MethodSection::Clip { .. }
                    | MethodSection::Semi { .. }
                    | MethodSection::Dann { .. }
            )
    };
    if method.is_some_and(|m| !checkpoints(m)) && resume {
        return Err(Error::invalid(
            "--resume",
            "this [method] writes no checkpoint to resume from (plain training, the self-supervised and semi-supervised methods, DANN and CLIP do); start the run again",
        ));
    }
    Ok(teacher)
}

/// What a method trains besides the run's model.
enum MethodParts {
    None,
    /// The extra heads of a multitask run.
    Heads(MultiHead),
    /// CLIP's text side.
    Clip(ClipParts),
}

/// Trains `model` as the recipe's `[method]` says: supervised minibatches ([`fit`]), an
/// embedding from class-balanced batches or a pretext task, several tasks on a shared trunk
/// (with the extra heads), or CLIP's image tower (with the text side).
fn train_by_method(
    model: Sequential,
    recipe: &Recipe,
    data: &PreparedData,
    teacher: Option<&Sequential>,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<(FitOutcome, MethodParts)> {
    match &recipe.method {
        None => Ok((
            fit(model, &data.train, data.val.as_ref(), cfg, device, observer)?,
            MethodParts::None,
        )),
        Some(MethodSection::Clip {
            text_units,
            temperature,
        }) => {
            let tower = (*text_units, *temperature);
            let (outcome, parts) = train_clip(model, tower, recipe, data, cfg, device, observer)?;
            Ok((outcome, MethodParts::Clip(parts)))
        }
        Some(MethodSection::Multitask {
            trunk,
            main_weight,
            tasks,
        }) => {
            let shared = (*trunk, *main_weight, tasks.as_slice());
            let (outcome, multi) =
                train_multitask(model, recipe, shared, &data.train, cfg, device, observer)?;
            Ok((outcome, MethodParts::Heads(multi)))
        }
        Some(method @ MethodSection::Semi { .. }) => {
            let spec = method.semi().expect("a semi-supervised method");
            let data = SemiData {
                labelled: &data.train,
                unlabelled: data.unlabelled_set(),
                stream: data.stream(),
                val: data.val.as_ref(),
                teacher,
            };
            let outcome = fit_semi(model, data, &spec, cfg, device, observer)?;
            Ok((outcome, MethodParts::None))
        }
        Some(method @ MethodSection::Dann { .. }) => {
            let spec = method.dann().expect("DANN");
            let target = data
                .unlabelled
                .as_ref()
                .expect("check_method requires [data.target]");
            let data = DannData {
                source: &data.train,
                target,
                val: data.val.as_ref(),
            };
            let outcome = fit_dann(model, &recipe.model, data, &spec, cfg, device, observer)?;
            Ok((outcome, MethodParts::None))
        }
        Some(method) if method.language_model().is_some() => {
            let spec = method.language_model().expect("a language model");
            let outcome = train_language_model(model, data, &spec, cfg, device, observer)?;
            Ok((outcome, MethodParts::None))
        }
        Some(method) => match method.pretext() {
            Some(spec) => {
                let val = data.val.as_ref();
                let outcome = fit_pretext(model, &data.train, val, &spec, cfg, device, observer)?;
                Ok((outcome, MethodParts::None))
            }
            None => Ok((
                fit_embedding(model, &data.train, method, cfg, device, observer)?,
                MethodParts::None,
            )),
        },
    }
}

/// Re-evaluates a finished run on its test set.
pub fn evaluate_run(dir: &Path, data_dir: Option<&Path>, device: &Device) -> Result<Evaluation> {
    let run = load_trained_model(dir, device)?;
    if run
        .recipe
        .method
        .as_ref()
        .is_some_and(MethodSection::trains_embedding)
    {
        return Err(Error::invalid(
            "run folder",
            format!(
                "{} trained an embedding, not a classifier: its measures are in metrics.json; probe it with a [transfer] recipe (init_from)",
                dir.display()
            ),
        ));
    }
    // Subword text is cut with the run's own vocabulary, not one learned again.
    let mut section = run.recipe.data.clone();
    if let (Some(text), Some(_)) = (
        section.text.as_mut(),
        run.text.as_ref().and_then(TextEncoding::subword),
    ) {
        text.vocab = Some(dir.to_path_buf());
    }
    let data = prepare_data(&section, data_dir)?;
    if let Some(spec) = run
        .recipe
        .method
        .as_ref()
        .and_then(MethodSection::language_model)
    {
        return evaluate_language_model(&run.model, &data, &spec, device);
    }
    let mut e = evaluate(
        &run.model,
        &data.test,
        run.recipe.training.loss,
        512,
        device,
    )?;
    e.metrics.extend(source_accuracy(
        &run.model,
        &data,
        run.recipe.training.loss,
        device,
    )?);
    Ok(e)
}

/// With `[data.target]`: the model's accuracy on the source's own test set (the run's test set
/// is the target's), as `("source_accuracy", value)`.
fn source_accuracy(
    model: &Sequential,
    data: &PreparedData,
    loss: crate::losses::LossConfig,
    device: &Device,
) -> Result<Option<(String, f64)>> {
    let Some(source_test) = &data.source_test else {
        return Ok(None);
    };
    let e = evaluate(model, source_test, loss, 512, device)?;
    Ok(e.metrics
        .iter()
        .find(|(k, _)| k == "accuracy")
        .map(|(_, acc)| ("source_accuracy".to_string(), *acc)))
}

/// Distillation's teacher run (`[method.algorithm] teacher`), loaded on `device` and checked to
/// preprocess its inputs as the student's data are.
fn load_teacher(
    spec: &SemiSpec,
    data: &PreparedData,
    device: &Device,
) -> Result<Option<Sequential>> {
    let Some(dir) = spec.algorithm.teacher() else {
        return Ok(None);
    };
    let key = "method.algorithm.teacher";
    if !dir.join("recipe.toml").is_file() {
        return Err(Error::invalid(
            key,
            format!(
                "{} is not a finished run folder (no recipe.toml); train the teacher first, e.g. `manabi train TEACHER.toml --out {}`",
                dir.display(),
                dir.display()
            ),
        ));
    }
    let teacher = load_trained_model(dir, device)
        .map_err(|e| Error::invalid(key, format!("{}: {e}", dir.display())))?;
    if teacher.preprocessors != data.preprocessors || teacher.text.is_some() != data.text.is_some()
    {
        return Err(Error::invalid(
            key,
            format!(
                "{} preprocessed its inputs otherwise than this recipe does ({:?} against {:?}): give the student the teacher's [data] preprocess and text settings",
                dir.display(),
                teacher.preprocessors,
                data.preprocessors
            ),
        ));
    }
    Ok(Some(teacher.model))
}

/// The recipe, trained model, preprocessing and text encoding of a finished run.
pub fn load_trained_model(dir: &Path, device: &Device) -> Result<TrainedRun> {
    let files = RunFiles::new(dir);
    let recipe = match load_run_recipe(dir)? {
        AnyRecipe::Supervised(r) => *r,
        AnyRecipe::Seq2Seq(_) => {
            return Err(Error::invalid(
                "run folder",
                format!(
                    "{} is a sequence-to-sequence run: use `manabi predict` to translate with it",
                    dir.display()
                ),
            ));
        }
    };
    let pre_path = files.preprocess();
    let text = fs::read(&pre_path).map_err(|e| Error::io("reading", &pre_path, e))?;
    let preprocessors: Vec<Preprocessor> =
        serde_json::from_slice(&text).map_err(|e| Error::data(&pre_path, e.to_string()))?;
    let shape_path = dir.join("input_shape.json");
    let text = fs::read(&shape_path).map_err(|e| Error::io("reading", &shape_path, e))?;
    let input_shape: Vec<usize> =
        serde_json::from_slice(&text).map_err(|e| Error::data(&shape_path, e.to_string()))?;
    let model_path = match recipe.transfer.as_ref().filter(|t| t.tuning.is_some()) {
        Some(_) => dir.join(TUNED),
        None => files.model(),
    };
    if !model_path.is_file() {
        return Err(Error::invalid(
            "run folder",
            format!(
                "{} has no trained weights (model.bpk): the run did not finish; continue it with `manabi train {} --out {} --resume`",
                dir.display(),
                files.recipe().display(),
                dir.display()
            ),
        ));
    }
    let built = match recipe
        .method
        .as_ref()
        .and_then(MethodSection::language_model)
    {
        Some(_) => recipe.model.build_token_model(&input_shape, device)?,
        None => recipe.model.build(&input_shape, device)?,
    };
    let model = match recipe.transfer.as_ref().filter(|t| t.tuning.is_some()) {
        Some(section) => load_tuned(built, section, dir, device)?,
        None => load_record(built, &model_path)?,
    };
    let text_path = dir.join(TEXT_ENCODING);
    let text = match recipe.data.text {
        Some(_) => Some(TextEncoding::load(&text_path)?),
        None => None,
    };
    Ok(TrainedRun {
        recipe,
        model,
        preprocessors,
        text,
    })
}

/// Writes `labelled.json` (the labelled draw of `train_per_class`, as indices into the training
/// data, and for IMDB reviews their paths in the archive) when the run has one, so that bench/
/// references train on the same labels.
pub(crate) fn write_labelled(recipe: &Recipe, data: &PreparedData, files: &RunFiles) -> Result<()> {
    if let Some(indices) = &data.labelled_indices {
        let mut json = serde_json::json!({
            "dataset": recipe.data.source_name(),
            "subset_seed": recipe.data.subset_seed,
            "indices": indices,
        });
        if let Some(names) = &data.labelled_names {
            json["names"] = serde_json::json!(names);
        }
        write_atomic(
            &files.dir.join("labelled.json"),
            json.to_string().as_bytes(),
        )?;
    }
    Ok(())
}

fn start_folder(recipe: &Recipe, files: &RunFiles, resume: bool) -> Result<()> {
    let dir = &files.dir;
    if resume {
        if !files.recipe().is_file() {
            return Err(Error::invalid(
                "--resume",
                format!("{} holds no run to resume (no recipe.toml)", dir.display()),
            ));
        }
        let saved = Recipe::load(&files.recipe())?;
        if &saved != recipe {
            return Err(Error::invalid(
                "--resume",
                format!(
                    "the recipe differs from the one saved in {}; resume with the same recipe and --set values",
                    files.recipe().display()
                ),
            ));
        }
        if !Checkpoint::new(files.checkpoint()).exists() {
            return Err(Error::invalid(
                "--resume",
                format!("{} has no checkpoint yet", dir.display()),
            ));
        }
        return Ok(());
    }
    if files.recipe().exists() {
        return Err(Error::invalid(
            "--out",
            format!(
                "{} already holds a run; continue it with --resume or choose another --out",
                dir.display()
            ),
        ));
    }
    fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    write_atomic(&files.recipe(), recipe.to_toml().as_bytes())
}

fn check_outputs(recipe: &Recipe, data: &PreparedData) -> Result<()> {
    let shapes = recipe.model.check(&data.train.sample_shape)?;
    let outputs = shapes.last().map(|s| s[0]).unwrap_or(0);
    let expected = match &data.train.targets {
        Targets::Classes { num_classes, .. }
            if outputs == 1
                && *num_classes == 2
                && recipe.training.loss == crate::losses::LossConfig::BinaryCrossentropy =>
        {
            1
        }
        Targets::Classes { num_classes, .. } => *num_classes,
        Targets::Regression { dims, .. } => *dims,
    };
    if outputs != expected {
        let last = recipe.model.layers.len() - 1;
        return Err(Error::Shape {
            index: last,
            layer: recipe.model.layers[last].kind().into(),
            message: format!(
                "the model outputs {outputs} values per sample but the data '{}' needs {expected}",
                recipe.data.source_name()
            ),
        });
    }
    Ok(())
}

fn save_preprocessors(files: &RunFiles, pre: &[Preprocessor]) -> Result<()> {
    let json = serde_json::to_vec(pre).expect("preprocessors serialise");
    write_atomic(&files.preprocess(), &json)
}

/// The run file holding a tuned run's adapters (or low-rank updates) and head.
const TUNED: &str = "tuned.bpk";

fn save_tuned(model: &Sequential, backbone: usize, files: &RunFiles) -> Result<()> {
    let path = files.dir.join(TUNED);
    let tmp = path.with_extension("bpk.tmp");
    save_record(&crate::transfer::tuned_parts(model, backbone), &tmp)?;
    fs::rename(&tmp, &path).map_err(|e| Error::io("renaming", &tmp, e))?;
    let shape = serde_json::to_vec(model.input_shape()).expect("shape serialises");
    write_atomic(&files.dir.join("input_shape.json"), &shape)
}

/// A tuned run's model: the base run's backbone, the tuning modules and head of `tuned.bpk`.
fn load_tuned(
    built: Sequential,
    section: &crate::recipe::TransferSection,
    dir: &Path,
    device: &Device,
) -> Result<Sequential> {
    let base = crate::transfer::load_source(section, built.input_shape(), device)?;
    let mut model = built;
    for (i, layer) in base
        .model
        .layers
        .into_iter()
        .take(section.backbone)
        .enumerate()
    {
        model.layers[i] = layer;
    }
    let model = crate::transfer::attach_tuning(model, section, device)?;
    let skeleton = crate::transfer::tuned_parts(&model, section.backbone);
    let parts = load_record(skeleton, &dir.join(TUNED))?;
    Ok(crate::transfer::with_tuned_parts(model, parts))
}

fn save_model(model: &Sequential, path: &Path) -> Result<()> {
    let tmp = path.with_extension("bpk.tmp");
    save_record(model, &tmp)?;
    fs::rename(&tmp, path).map_err(|e| Error::io("renaming", &tmp, e))?;
    let shape = serde_json::to_vec(model.input_shape()).expect("shape serialises");
    write_atomic(&path.with_file_name("input_shape.json"), &shape)
}

fn mean_baseline_rmse(data: &PreparedData) -> Option<f64> {
    let (Targets::Regression { values: train, .. }, Targets::Regression { values: test, .. }) =
        (&data.train.targets, &data.test.targets)
    else {
        return None;
    };
    let mean = train.iter().map(|&v| v as f64).sum::<f64>() / train.len().max(1) as f64;
    let mse =
        test.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / test.len().max(1) as f64;
    Some(mse.sqrt())
}

fn write_metrics(
    files: &RunFiles,
    test: &Evaluation,
    baseline_rmse: Option<f64>,
    history: &History,
    (train_seconds, trainable): (f64, usize),
) -> Result<()> {
    let mut map = serde_json::Map::new();
    map.insert("trainable_parameters".into(), trainable.into());
    map.insert("test_loss".into(), test.loss.into());
    for (name, value) in &test.metrics {
        map.insert(format!("test_{name}"), (*value).into());
    }
    if let Some(b) = baseline_rmse {
        map.insert("baseline_mean_rmse".into(), b.into());
    }
    map.insert("epochs".into(), history.len().into());
    map.insert("train_seconds".into(), train_seconds.into());
    let json = serde_json::to_vec_pretty(&serde_json::Value::Object(map)).expect("json");
    write_atomic(&files.metrics(), &json)
}
