//! `[embedding_eval]`: a trained run's embedding measured as a metric space (SPEC M3, T4) —
//! retrieval and kNN accuracy on the test images of the trained classes, open-set retrieval and
//! verification on held-out classes, N-way K-shot episodes on those classes, and a PNG of the
//! 2-D PCA projection coloured by class.

use std::path::Path;

use burn::tensor::Device;

use super::files::RunFiles;
use super::prepare::{PreparedData, load_unseen_test};
use super::probe_run::backbone_features;
use crate::data::{Dataset, Targets, pca_2d};
use crate::metric::{
    Episodes, equal_error_rate, few_shot_accuracy, mean_average_precision, recall_at_k, roc_curve,
};
use crate::model::Sequential;
use crate::plot::{plot_embedding_2d, plot_roc};
use crate::recipe::{EmbeddingEvalSection, Recipe};
use crate::train::metrics::ConfusionMatrix;
use crate::transfer::knn_predict;
use crate::{Error, Result};

/// Points drawn per class in the embedding plot (more would hide each other).
const PLOT_PER_CLASS: usize = 300;

/// The file name of the embedding plot in the run folder.
pub const EMBEDDING_PLOT: &str = "embedding_2d.png";

/// The file name of the verification ROC plot (unseen classes) in the run folder.
pub const ROC_PLOT: &str = "roc_unseen.png";

fn labels_of(data: &Dataset) -> Result<&[u32]> {
    match &data.targets {
        Targets::Classes { labels, .. } => Ok(labels),
        Targets::Regression { .. } => Err(Error::invalid(
            "embedding_eval",
            "an embedding is measured with class labels; the data has regression targets",
        )),
    }
}

/// The run whose embedding is measured: its recipe, prepared data, data folder and run folder.
pub(crate) struct EmbeddingRun<'a> {
    pub recipe: &'a Recipe,
    pub data: &'a PreparedData,
    pub data_dir: Option<&'a Path>,
    pub files: &'a RunFiles,
}

/// Measures `model`'s embedding as `section` asks; returns named metrics (written by the caller
/// into `metrics.json`) and writes the plots into the run folder.
pub(crate) fn evaluate_embedding(
    model: &Sequential,
    section: &EmbeddingEvalSection,
    run: &EmbeddingRun,
    device: &Device,
) -> Result<Vec<(String, f64)>> {
    let EmbeddingRun {
        recipe,
        data,
        data_dir,
        files,
    } = *run;
    let layers = section.layers.unwrap_or(model.layers.len());
    let (train_x, d) = backbone_features(model, layers, &data.train, device);
    let (test_x, _) = backbone_features(model, layers, &data.test, device);
    let (train_y, test_y) = (labels_of(&data.train)?, labels_of(&data.test)?);
    let mut out = vec![("embedding_dims".to_string(), d as f64)];
    let pred = knn_predict(&train_x, train_y, &test_x, d, section.neighbours);
    let classes = data.test.num_classes().unwrap_or(0);
    let knn = ConfusionMatrix::from_predictions(test_y, &pred, classes).accuracy();
    out.push(("seen_knn_accuracy".into(), knn));
    out.push((
        "seen_recall_at_1".into(),
        recall_at_k(&test_x, d, test_y, 1),
    ));
    out.push((
        "seen_map".into(),
        mean_average_precision(&test_x, d, test_y),
    ));

    let mut plot_x = Vec::new();
    let mut plot_y = Vec::new();
    take_for_plot(&test_x, d, test_y, 0, &mut plot_x, &mut plot_y);
    if !section.unseen_classes.is_empty() {
        let unseen = load_unseen_test(
            &recipe.data,
            data_dir,
            &section.unseen_classes,
            &data.preprocessors,
        )?;
        let (x, _) = backbone_features(model, layers, &unseen, device);
        let y = labels_of(&unseen)?;
        out.push(("unseen_recall_at_1".into(), recall_at_k(&x, d, y, 1)));
        out.push(("unseen_map".into(), mean_average_precision(&x, d, y)));
        out.push(("unseen_eer".into(), equal_error_rate(&x, d, y)));
        if let Some(roc) = roc_curve(&x, d, y) {
            out.push(("unseen_roc_auc".into(), roc.auc));
            if section.plot {
                let label = format!("unseen classes (AUC {:.3})", roc.auc);
                let title = format!("{}: verification ROC, unseen classes", recipe.name);
                plot_roc(&[(label, roc.points)], &files.dir.join(ROC_PLOT), &title)?;
            }
        }
        let shots_list = if section.episodes > 0 {
            section.shots.as_slice()
        } else {
            &[]
        };
        for &shots in shots_list {
            let spec = Episodes {
                ways: section.ways,
                shots,
                queries: section.queries,
                count: section.episodes,
            };
            let r = few_shot_accuracy(&x, d, y, spec, recipe.seed ^ shots as u64)?;
            let name = format!("fewshot_{}way_{}shot", section.ways, shots);
            out.push((format!("{name}_ci95"), r.ci95));
            out.push((name, r.mean));
        }
        take_for_plot(&x, d, y, classes as u32, &mut plot_x, &mut plot_y);
    }
    if section.plot && d >= 2 {
        let points = pca_2d(&plot_x, d);
        let title = match section.unseen_classes.is_empty() {
            true => format!("{}: test embeddings (PCA)", recipe.name),
            false => format!(
                "{}: test embeddings (PCA); classes {}.. unseen",
                recipe.name, classes
            ),
        };
        plot_embedding_2d(&points, &plot_y, &files.dir.join(EMBEDDING_PLOT), &title)?;
    }
    Ok(out)
}

/// Appends up to [`PLOT_PER_CLASS`] samples of each class, labels shifted by `offset`.
fn take_for_plot(
    x: &[f32],
    d: usize,
    labels: &[u32],
    offset: u32,
    px: &mut Vec<f32>,
    py: &mut Vec<u32>,
) {
    let mut taken = std::collections::HashMap::new();
    for (row, &l) in x.chunks(d).zip(labels) {
        let n = taken.entry(l).or_insert(0usize);
        if *n < PLOT_PER_CLASS {
            *n += 1;
            px.extend_from_slice(row);
            py.push(l + offset);
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use crate::recipe::Recipe;
    use crate::run::{RunOptions, train_recipe};
    use crate::train::{History, Silent};

    /// Digits classes 0-4 (embedded data), a small MLP embedding, held-out classes 5-9.
    fn recipe(head: &str, method: &str, eval: &str) -> Recipe {
        let text = format!(
            r#"
name = "embedding_test"
seed = 5
[data]
dataset = "digits"
classes = [0, 1, 2, 3, 4]
preprocess = [{{ kind = "scale", divide_by = 16.0 }}]
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
units = 32
activation = "relu"
{head}
[optimizer]
kind = "adam"
lr = 0.003
[training]
loss = "sparse_categorical_crossentropy"
epochs = 4
batch_size = 32
checkpoint_steps = 0
{method}
[embedding_eval]
unseen_classes = [5, 6, 7, 8, 9]
episodes = 60
shots = [1, 5]
{eval}"#
        );
        Recipe::parse(&text, "embedding_test").unwrap()
    }

    fn run(recipe: &Recipe, dir: &std::path::Path) -> (Vec<(String, f64)>, History) {
        let opts = RunOptions {
            data_dir: None,
            out: dir.to_path_buf(),
            resume: false,
        };
        let report = train_recipe(recipe, &opts, &Device::flex(), &mut Silent).unwrap();
        (report.test.metrics, report.history)
    }

    fn get(metrics: &[(String, f64)], name: &str) -> f64 {
        metrics
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name} in {metrics:?}"))
            .1
    }

    const EMBED: &str =
        "[[model.layers]]\ntype = \"dense\"\nunits = 16\n[[model.layers]]\ntype = \"l2_normalize\"";

    #[test]
    fn metric_learning_trains_the_embedding_and_measures_seen_and_unseen_classes() {
        let dir = tempfile::tempdir().unwrap();
        let method = "[method]\nkind = \"metric\"\nloss = \"triplet\"\nminer = \"batch_hard\"\nmargin = 0.2\nper_class = 8";
        let (m, history) = run(&recipe(EMBED, method, ""), dir.path());
        let loss = history.series("loss").unwrap();
        assert!(loss[3] < loss[0], "the triplet loss fell: {loss:?}");
        assert!(
            loss[3] < 0.2,
            "below the margin, so not collapsed: {loss:?}"
        );
        for name in [
            "seen_knn_accuracy",
            "seen_recall_at_1",
            "unseen_recall_at_1",
            "unseen_map",
        ] {
            let v = get(&m, name);
            assert!((0.0..=1.0).contains(&v), "{name} {v}");
        }
        assert!(get(&m, "seen_knn_accuracy") > 0.9, "{m:?}");
        // Unseen digits: far better than chance (0.2) and more shots help.
        let (one, five) = (get(&m, "fewshot_5way_1shot"), get(&m, "fewshot_5way_5shot"));
        assert!(one > 0.5 && five > one, "{one} {five}");
        assert!(get(&m, "unseen_eer") < 0.4, "{m:?}");
        assert!(dir.path().join(super::EMBEDDING_PLOT).is_file());
        assert!(dir.path().join(super::ROC_PLOT).is_file());
        assert!(get(&m, "unseen_roc_auc") > 0.6, "{m:?}");
    }

    #[test]
    fn prototypical_episodes_learn_and_a_softmax_run_can_be_measured_too() {
        let dir = tempfile::tempdir().unwrap();
        let method = "[method]\nkind = \"prototypical\"\nways = 5\nshots = 3\nqueries = 5\nepisodes_per_epoch = 30";
        let head = "[[model.layers]]\ntype = \"dense\"\nunits = 16";
        let (m, history) = run(&recipe(head, method, "plot = false"), &dir.path().join("p"));
        let acc = history.series("query_accuracy").unwrap();
        assert!(acc[3] > acc[0] && acc[3] > 0.9, "{acc:?}");
        let (one, five) = (get(&m, "fewshot_5way_1shot"), get(&m, "fewshot_5way_5shot"));
        assert!(one > 0.35 && five > one + 0.1, "{m:?}");
        assert!(!dir.path().join("p").join(super::EMBEDDING_PLOT).exists());

        let softmax = "[[model.layers]]\ntype = \"dense\"\nunits = 5\nactivation = \"softmax\"";
        let (m, _) = run(&recipe(softmax, "", "layers = 2"), &dir.path().join("s"));
        assert!(
            get(&m, "accuracy") > 0.9,
            "the classifier is still tested: {m:?}"
        );
        assert_eq!(
            get(&m, "embedding_dims"),
            32.0,
            "layer 2's output is measured"
        );
    }

    #[test]
    fn bad_sections_are_named() {
        let bad = |text: &str| Recipe::parse(text, "r.toml").unwrap_err().to_string();
        let base = recipe(EMBED, "", "").to_toml();
        let err = bad(&base.replace("[embedding_eval]", "[embedding_eval]\nlayers = 9"));
        assert!(err.contains("embedding_eval.layers"), "{err}");
        let err = bad(&format!(
            "{base}\n[method]\nkind = \"metric\"\nloss = \"contrastive\"\nminer = \"semi_hard\"\n"
        ));
        assert!(err.contains("method.miner"), "{err}");
        let err = bad(&base.replace("ways = 5", "ways = 6"));
        assert!(err.contains("embedding_eval.ways"), "{err}");
    }
}
