//! `[embedding_eval]`: a trained run's embedding measured as a metric space (SPEC M3, T4) —
//! retrieval and kNN accuracy on the test images of the trained classes, open-set retrieval and
//! verification on held-out classes, N-way K-shot episodes on those classes, and a PNG of the
//! 2-D PCA projection coloured by class.

use std::path::Path;

use burn::tensor::Device;

use super::files::RunFiles;
use super::prepare::{PreparedData, load_unseen_test};
use crate::data::{ClassBalancedSampler, Dataset, Targets, pca_2d};
use crate::metric::{Episodes, few_shot_accuracy, mean_average_precision, recall_at_k, roc_curve};
use crate::model::Sequential;
use crate::plot::{plot_embedding_2d, plot_roc};
use crate::recipe::{EmbeddingEvalSection, MethodSection, Recipe};
use crate::train::backbone_features;
use crate::train::metrics::ConfusionMatrix;
use crate::transfer::{NeighbourSearch, knn_predict, query_recall, vote_neighbours};
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

/// The run whose embedding is measured: its recipe, prepared data and run folder.
pub(crate) struct EmbeddingRun<'a> {
    pub recipe: &'a Recipe,
    pub data: &'a PreparedData,
    pub files: &'a RunFiles,
}

/// What a run's embedding will be measured with, checked before training.
pub(crate) struct EmbeddingPlan {
    /// The measures (the recipe's `[embedding_eval]`, or the defaults of an embedding method).
    pub section: EmbeddingEvalSection,
    /// The test images of the unseen classes, through the run's preprocessing.
    pub unseen: Option<Dataset>,
}

/// The recipe's embedding measures, with the unseen classes' test images loaded and the
/// episodes checked against them, or `None` when the run is not measured as an embedding.
pub(crate) fn plan_embedding_eval(
    recipe: &Recipe,
    data: &PreparedData,
    data_dir: Option<&Path>,
) -> Result<Option<EmbeddingPlan>> {
    let method = recipe.method.as_ref();
    let mut section = match (&recipe.embedding_eval, method) {
        (Some(section), _) => section.clone(),
        (None, Some(m)) if m.trains_embedding() => EmbeddingEvalSection::default(),
        _ => return Ok(None),
    };
    // Self-supervised runs: by default the encoder's output, not the projection head's.
    if section.layers.is_none() {
        section.layers = method
            .and_then(MethodSection::pretext)
            .map(|p| p.encoder_layers);
    }
    labels_of(&data.train)?;
    let unseen = match section.unseen_classes.is_empty() {
        true => None,
        false => {
            let classes = &section.unseen_classes;
            let unseen = load_unseen_test(&recipe.data, data_dir, classes, &data.preprocessors)
                .map_err(|e| Error::invalid("embedding_eval.unseen_classes", e.to_string()))?;
            if section.episodes > 0 {
                let labels = labels_of(&unseen)?;
                for &shots in &section.shots {
                    let what = "the unseen classes' test images";
                    let key = ("embedding_eval.shots", what);
                    ClassBalancedSampler::new(labels, section.ways, shots + section.queries, key)?;
                }
            }
            Some(unseen)
        }
    };
    Ok(Some(EmbeddingPlan { section, unseen }))
}

/// Measures `model`'s embedding as `plan` says; returns named metrics (written by the caller
/// into `metrics.json`) and writes the plots into the run folder.
pub(crate) fn evaluate_embedding(
    model: &Sequential,
    plan: &EmbeddingPlan,
    run: &EmbeddingRun,
    device: &Device,
) -> Result<Vec<(String, f64)>> {
    let EmbeddingRun {
        recipe,
        data,
        files,
    } = *run;
    let section = &plan.section;
    let layers = section.layers.unwrap_or(model.layers.len());
    let (train_x, d) = backbone_features(model, layers, &data.train, device);
    let (test_x, _) = backbone_features(model, layers, &data.test, device);
    let (train_y, test_y) = (labels_of(&data.train)?, labels_of(&data.test)?);
    let mut out = vec![("embedding_dims".to_string(), d as f64)];
    let pred = match section.search {
        NeighbourSearch::Exact => knn_predict(&train_x, train_y, &test_x, d, section.neighbours),
        hnsw => {
            let k = section.neighbours;
            let found = hnsw.query(&train_x, &test_x, d, k);
            let recall = query_recall(&found, &train_x, &test_x, d, 500, 0);
            out.push(("seen_knn_search_recall".into(), recall));
            vote_neighbours(&found, train_y)
        }
    };
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
    if let Some(unseen) = &plan.unseen {
        let (x, _) = backbone_features(model, layers, unseen, device);
        let y = labels_of(unseen)?;
        out.push(("unseen_recall_at_1".into(), recall_at_k(&x, d, y, 1)));
        out.push(("unseen_map".into(), mean_average_precision(&x, d, y)));
        if let Some(roc) = roc_curve(&x, d, y) {
            out.push(("unseen_eer".into(), roc.eer));
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
    if section.plot && d >= 2 && plot_y.len() >= 2 {
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
        // The kNN accuracy through an HNSW index, with its recall against exact search.
        let hnsw = "search = { kind = \"hnsw\" }";
        let (m, history) = run(&recipe(EMBED, method, hnsw), dir.path());
        assert!(get(&m, "seen_knn_search_recall") > 0.9, "{m:?}");
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
    fn contrastive_runs_learn_and_measure_the_encoder() {
        let dir = tempfile::tempdir().unwrap();
        let view = "[[augment.views]]\nops = [{ op = \"random_resized_crop\", scale = [0.6, 1.0] }, { op = \"brightness\", strength = 0.3 }]\n";
        for (kind, name) in [("simclr", "s"), ("sup_con", "c")] {
            let method = format!(
                "[method]\nkind = \"{kind}\"\nencoder_layers = 2\nmonitor_reference = 400\n{view}{view}"
            );
            // The monitor's queries: a validation split.
            let text = recipe(EMBED, &method, "").to_toml().replacen(
                "validation_split = 0.0",
                "validation_split = 0.2",
                1,
            );
            let r = Recipe::parse(&text, kind).unwrap();
            let (m, history) = run(&r, &dir.path().join(name));
            let loss = history.series("loss").unwrap();
            assert!(loss[3] < loss[0], "{kind}: {loss:?}");
            let monitor = history.series("val_knn_accuracy").unwrap();
            assert!(
                monitor.iter().all(|a| (0.5..=1.0).contains(a)),
                "{monitor:?}"
            );
            assert_eq!(
                get(&m, "embedding_dims"),
                32.0,
                "the encoder's output is measured"
            );
            assert!(get(&m, "seen_knn_accuracy") > 0.85, "{kind}: {m:?}");
        }
        let one_view = format!(
            "{}\n[method]\nkind = \"simclr\"\nencoder_layers = 2\n{view}",
            recipe(EMBED, "", "").to_toml()
        );
        let err = Recipe::parse(&one_view, "r").unwrap_err().to_string();
        assert!(err.contains("2 view(s)"), "{err}");
    }

    #[test]
    fn rotation_and_masked_image_runs_learn_their_pretext_and_measure_the_encoder() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = [
            ("rotation", "units = 4\nactivation = \"softmax\"", ""),
            (
                "masked_image",
                "units = 64\nactivation = \"sigmoid\"",
                "patch = 2\nmask_ratio = 0.3\n",
            ),
        ];
        for (kind, head, extra) in jobs {
            let method = format!(
                "[method]\nkind = \"{kind}\"\nencoder_layers = 2\nmonitor_reference = 400\n{extra}"
            );
            let head = format!("[[model.layers]]\ntype = \"dense\"\n{head}");
            let text = recipe(&head, &method, "").to_toml().replacen(
                "validation_split = 0.0",
                "validation_split = 0.2",
                1,
            );
            let r = Recipe::parse(&text, kind).unwrap();
            let (m, history) = run(&r, &dir.path().join(kind));
            let loss = history.series("loss").unwrap();
            assert!(loss[3] < loss[0], "{kind}: {loss:?}");
            let monitor = history.series("val_knn_accuracy").unwrap();
            assert!(
                monitor.iter().all(|a| (0.5..=1.0).contains(a)),
                "{monitor:?}"
            );
            assert_eq!(
                get(&m, "embedding_dims"),
                32.0,
                "the encoder's output is measured"
            );
            assert!(get(&m, "seen_knn_accuracy") > 0.85, "{kind}: {m:?}");
        }
        // A rotation head of the wrong width stops before the run folder, saying what to change.
        let method = "[method]\nkind = \"rotation\"\nencoder_layers = 2\n";
        let r = recipe(EMBED, method, "");
        let opts = RunOptions {
            data_dir: None,
            out: dir.path().join("bad"),
            resume: false,
        };
        let err = train_recipe(&r, &opts, &Device::flex(), &mut Silent)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("last layer of 4 units"), "{err}");
        assert!(!dir.path().join("bad").exists());
        let bad = r
            .to_toml()
            .replace("encoder_layers = 2", "encoder_layers = 4");
        let err = Recipe::parse(&bad, "r").unwrap_err().to_string();
        assert!(err.contains("method.encoder_layers"), "{err}");
        let masked = "[method]\nkind = \"masked_image\"\nencoder_layers = 2\nmask_ratio = 0.0\n";
        let text = format!("{}\n{masked}", recipe(EMBED, "", "").to_toml());
        let err = Recipe::parse(&text, "r").unwrap_err();
        assert!(err.to_string().contains("mask_ratio"), "{err}");
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
        let err = bad(&base.replace("unseen_classes = [5,", "unseen_classes = [4,"));
        assert!(err.contains("class 4 is also in [data] classes"), "{err}");
        let err = bad(&base.replace("classes = [0, 1, 2, 3, 4]\n", ""));
        assert!(err.contains("embedding_eval.unseen_classes"), "{err}");
    }

    #[test]
    fn batches_or_episodes_the_data_cannot_fill_stop_before_the_run_folder() {
        let dir = tempfile::tempdir().unwrap();
        let opts = |name: &str| RunOptions {
            data_dir: None,
            out: dir.path().join(name),
            resume: false,
        };
        // The digits have about 180 images per class: 200 per class cannot be drawn.
        let method = "[method]\nkind = \"metric\"\nloss = \"triplet\"\nminer = \"batch_hard\"\nper_class = 200";
        let err = train_recipe(
            &recipe(EMBED, method, ""),
            &opts("a"),
            &Device::flex(),
            &mut Silent,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("method.per_class"), "{err}");
        let softmax = "[[model.layers]]\ntype = \"dense\"\nunits = 5\nactivation = \"softmax\"";
        let episodes = recipe(softmax, "", "layers = 2\nqueries = 190");
        let err = train_recipe(&episodes, &opts("b"), &Device::flex(), &mut Silent)
            .unwrap_err()
            .to_string();
        assert!(err.contains("embedding_eval.shots"), "{err}");
        assert!(!dir.path().join("a").exists() && !dir.path().join("b").exists());
    }
}
