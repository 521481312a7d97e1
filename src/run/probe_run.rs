//! A run whose classifier is not trained by gradient descent: a linear SVM or nearest
//! neighbours fitted on the features of another run's backbone (`[transfer] head`).

use std::time::Instant;

use burn::tensor::Device;

use super::files::{RunFiles, write_atomic};
use super::prepare::PreparedData;
use super::train_run::RunReport;
use crate::data::Targets;
use crate::model::Summary;
use crate::plot::plot_confusion;
use crate::recipe::{HeadKind, Recipe, TransferSection};
use crate::train::metrics::ConfusionMatrix;
use crate::train::{Evaluation, History, backbone_features};
use crate::transfer::{LinearSvm, knn_predict, load_source};
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
    std::fs::create_dir_all(&files.dir).map_err(|e| Error::io("creating", &files.dir, e))?;
    write_atomic(&files.recipe(), recipe.to_toml().as_bytes())?;
    write_atomic(&files.summary(), summary.to_string().as_bytes())?;
    let started = Instant::now();
    let (train_x, d) = backbone_features(&source, section.backbone, &data.train, device);
    let (test_x, _) = backbone_features(&source, section.backbone, &data.test, device);
    let pred = match section.head {
        HeadKind::LinearSvm => LinearSvm::fit(
            &train_x,
            d,
            labels,
            *num_classes,
            section.svm_c,
            recipe.seed,
        )
        .predict(&test_x),
        HeadKind::NearestNeighbour => knn_predict(&train_x, labels, &test_x, d, section.neighbours),
        HeadKind::Layers => unreachable!("layer heads train with fit"),
    };
    let train_seconds = started.elapsed().as_secs_f64();
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
