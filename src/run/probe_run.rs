//! A run whose classifier is not trained by gradient descent: a linear SVM or nearest
//! neighbours fitted on the features of another run's backbone, or label spreading /
//! propagation over a graph of the labelled, unlabelled and test samples (`[transfer] head`).

use std::time::Instant;

use burn::tensor::Device;

use super::files::{RunFiles, write_atomic};
use super::prepare::PreparedData;
use super::train_run::{RunReport, write_labelled};
use crate::data::Targets;
use crate::model::Sequential;
use crate::model::Summary;
use crate::plot::plot_confusion;
use crate::recipe::{HeadKind, Recipe, TransferSection};
use crate::semi::Propagation;
use crate::semi::cotrain::{CoTraining, SoftmaxRegression, TriTraining, argmax_rows};
use crate::train::metrics::ConfusionMatrix;
use crate::train::{Evaluation, History, backbone_features};
use crate::transfer::{LinearSvm, load_source};
use crate::{Error, Result};

/// Fits the head `section` names on the training features, tests it, and writes the run folder
/// (recipe, summary, metrics, confusion matrix).
pub(crate) fn probe_recipe(
    recipe: &Recipe,
    section: &TransferSection,
    data: &PreparedData,
    files: &RunFiles,
    summary: Summary,
    device: &Device,
) -> Result<RunReport> {
    let (
        Targets::Classes {
            labels,
            num_classes,
        },
        Targets::Classes { labels: truth, .. },
    ) = (&data.train.targets, &data.test.targets)
    else {
        return Err(Error::invalid(
            "transfer.head",
            "a linear SVM or nearest-neighbour head needs class labels",
        ));
    };
    let source = match section.init_from {
        Some(_) => load_source(section, &data.train.sample_shape, device)?.model,
        None => {
            // Random features: the recipe's own model, freshly initialised from its seed.
            device.seed(recipe.seed);
            recipe.model.build(&data.train.sample_shape, device)?
        }
    };
    let started = Instant::now();
    let (train_x, d) = backbone_features(&source, section.backbone, &data.train, device);
    let (test_x, _) = backbone_features(&source, section.backbone, &data.test, device);
    let mut extra = Vec::new();
    let pred = match section.head {
        head if head.is_disagreement() => {
            let labelled = (train_x.as_slice(), labels.as_slice());
            let (pred, measures) = disagreement_predict(
                section,
                labelled,
                &test_x,
                data,
                &source,
                recipe.seed,
                device,
            )?;
            extra = measures;
            pred
        }
        head if head.is_graph() => {
            let nodes = GraphNodes {
                train_x,
                labels,
                test_x,
                truth,
                classes: *num_classes,
            };
            let (pred, measures) = graph_predict(section, nodes, data, &source, device)?;
            extra = measures;
            pred
        }
        HeadKind::LinearSvm => LinearSvm::fit(
            &train_x,
            d,
            labels,
            *num_classes,
            section.svm_c,
            recipe.seed,
        )
        .predict(&test_x),
        HeadKind::NearestNeighbour => {
            section
                .search
                .classify(&train_x, labels, &test_x, d, section.neighbours)
        }
        HeadKind::Layers
        | HeadKind::LabelSpreading
        | HeadKind::LabelPropagation
        | HeadKind::CoTraining
        | HeadKind::TriTraining => {
            unreachable!("layer heads train with fit; the others are matched above")
        }
    };
    let train_seconds = started.elapsed().as_secs_f64();
    // The folder is written once the head has worked: a bad graph leaves nothing behind.
    std::fs::create_dir_all(&files.dir).map_err(|e| Error::io("creating", &files.dir, e))?;
    write_atomic(&files.recipe(), recipe.to_toml().as_bytes())?;
    write_atomic(&files.summary(), summary.to_string().as_bytes())?;
    write_labelled(recipe, data, files)?;
    let cm = ConfusionMatrix::from_predictions(truth, &pred, *num_classes);
    let test = Evaluation {
        loss: f64::NAN,
        metrics: vec![
            ("accuracy".into(), cm.accuracy()),
            ("precision".into(), cm.macro_precision()),
            ("recall".into(), cm.macro_recall()),
            ("f1".into(), cm.macro_f1()),
        ],
        confusion: None,
        regression: None,
    };
    let mut map = serde_json::Map::new();
    for (name, value) in &test.metrics {
        map.insert(format!("test_{name}"), (*value).into());
    }
    for (name, value) in extra {
        map.insert(name.into(), value.into());
    }
    map.insert("feature_dims".into(), d.into());
    map.insert("train_seconds".into(), train_seconds.into());
    let json = serde_json::to_vec_pretty(&serde_json::Value::Object(map)).expect("json");
    write_atomic(&files.metrics(), &json)?;
    plot_confusion(&cm, data.test.class_names.as_deref(), &files.confusion())?;
    Ok(RunReport {
        dir: files.dir.clone(),
        summary,
        history: History::default(),
        test: Evaluation {
            confusion: Some(cm),
            ..test
        },
        baseline_rmse: None,
        stopped_at: None,
        train_seconds,
    })
}

/// Named measures for metrics.json.
type Measures = Vec<(&'static str, f64)>;

/// The samples of a graph head: labelled training features and labels, test features and
/// their (hidden) labels.
struct GraphNodes<'a> {
    train_x: Vec<f32>,
    labels: &'a [u32],
    test_x: Vec<f32>,
    truth: &'a [u32],
    classes: usize,
}

/// Label spreading or propagation over the graph of the labelled, unlabelled (`[data]
/// unlabelled`) and test samples; returns the test nodes' labels and the measures:
/// `transductive_accuracy` (every node not labelled, as scikit-learn's `transduction_` is
/// scored), `unlabelled_accuracy` (the unlabelled training nodes) and the rounds run.
fn graph_predict(
    section: &TransferSection,
    nodes: GraphNodes,
    data: &PreparedData,
    source: &Sequential,
    device: &Device,
) -> Result<(Vec<u32>, Measures)> {
    let d = nodes.train_x.len() / nodes.labels.len().max(1);
    let mut points = nodes.train_x;
    let mut known: Vec<Option<u32>> = nodes.labels.iter().map(|&l| Some(l)).collect();
    let mut hidden: Vec<u32> = Vec::new();
    if let Some(u) = &data.unlabelled {
        let (ux, _) = backbone_features(source, section.backbone, u, device);
        points.extend(ux);
        known.extend(std::iter::repeat_n(None, u.len()));
        if let (Targets::Classes { labels, .. }, true) = (&u.targets, data.unlabelled_truth) {
            hidden = labels.clone();
        }
    }
    let test_start = known.len();
    points.extend(nodes.test_x);
    known.extend(std::iter::repeat_n(None, nodes.truth.len()));
    let graph = section.graph.build(&points, d)?;
    graph.check_connected("transfer.graph")?;
    let (update, rounds) = match section.head {
        HeadKind::LabelSpreading => (
            Propagation::Spread {
                alpha: section.alpha,
            },
            section.max_iter.unwrap_or(30),
        ),
        _ => (Propagation::Propagate, section.max_iter.unwrap_or(1000)),
    };
    let out = update.run(&graph, &known, nodes.classes, rounds, section.tol);
    let labels = out.labels();
    let mut measures = vec![("rounds", out.rounds as f64)];
    let unl = &labels[nodes.labels.len()..test_start];
    if !hidden.is_empty() {
        measures.push(("unlabelled_accuracy", accuracy(unl, &hidden, nodes.classes)));
    }
    let mut all_truth = hidden;
    all_truth.extend_from_slice(nodes.truth);
    if all_truth.len() == labels.len() - nodes.labels.len() {
        measures.push((
            "transductive_accuracy",
            accuracy(&labels[nodes.labels.len()..], &all_truth, nodes.classes),
        ));
    }
    Ok((labels[test_start..].to_vec(), measures))
}

/// Co-training or tri-training with the labelled and the unlabelled (`[data] unlabelled`)
/// features; returns the test predictions and the measures: `unlabelled_accuracy` (the final
/// classifiers on the unlabelled training samples, diagnosis), `labelled_only_test_accuracy`
/// (the same softmax regression fitted on the labelled samples alone: the baseline) and the
/// rounds or pseudo-labels added.
#[allow(clippy::too_many_arguments)]
fn disagreement_predict(
    section: &TransferSection,
    (train_x, labels): (&[f32], &[u32]),
    test_x: &[f32],
    data: &PreparedData,
    source: &Sequential,
    seed: u64,
    device: &Device,
) -> Result<(Vec<u32>, Measures)> {
    let unlabelled = data.unlabelled.as_ref().ok_or_else(|| {
        Error::invalid(
            "data.unlabelled",
            "co-training and tri-training learn from unlabelled data: set data.unlabelled = \"rest\" with data.train_per_class",
        )
    })?;
    let classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
    let d = train_x.len() / labels.len().max(1);
    let (ux, _) = backbone_features(source, section.backbone, unlabelled, device);
    let (pred_test, pred_unl, mut measures) = match section.head {
        HeadKind::CoTraining => {
            let run = CoTraining {
                rounds: section.rounds,
                per_round: section.per_round,
            };
            let trained = run.run((train_x, labels), &ux, d, classes);
            let added = ("pseudo_labelled", trained.added as f64);
            (trained.predict(test_x), trained.predict(&ux), vec![added])
        }
        _ => {
            let run = TriTraining {
                rounds: section.rounds,
                seed,
            };
            let trained = run.run((train_x, labels), &ux, d, classes);
            let rounds = ("rounds", trained.rounds as f64);
            (trained.predict(test_x), trained.predict(&ux), vec![rounds])
        }
    };
    if let Some(hidden) = data.unlabelled_set().and_then(|u| u.truth) {
        measures.push(("unlabelled_accuracy", accuracy(&pred_unl, hidden, classes)));
    }
    if let Targets::Classes { labels: truth, .. } = &data.test.targets {
        let alone = SoftmaxRegression::fit(train_x, d, labels, classes);
        let pred: Vec<u32> = argmax_rows(&alone.proba(test_x), classes)
            .iter()
            .map(|p| p.0)
            .collect();
        measures.push((
            "labelled_only_test_accuracy",
            accuracy(&pred, truth, classes),
        ));
    }
    Ok((pred_test, measures))
}

/// The share of `pred` equal to `truth`.
fn accuracy(pred: &[u32], truth: &[u32], classes: usize) -> f64 {
    ConfusionMatrix::from_predictions(truth, pred, classes).accuracy()
}
