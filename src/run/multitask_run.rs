//! A multitask run (`[method] kind = "multitask"`): extra heads on the model's trunk, trained
//! together with the main task, then each task tested; the main model is saved as usual and
//! each extra head beside it (`head_<name>.bpk`).

use burn::module::Module;
use burn::tensor::Device;

use super::files::RunFiles;
use crate::data::{Dataset, Targets, sequential_batches};
use crate::model::{MultiHead, Sequential};
use crate::recipe::{AuxTask, Recipe};
use crate::train::{
    FitConfig, FitOutcome, Observer, TaskLabels, batch_inputs, fit_multitask, save_record,
};
use crate::{Error, Result};

/// Each task's label of every sample of `data` (its classes mapped through `classes_of`).
fn task_labels(task: &AuxTask, data: &Dataset) -> Result<Vec<u32>> {
    let Targets::Classes {
        labels,
        num_classes,
    } = &data.targets
    else {
        return Err(Error::invalid(
            "method.tasks",
            "multitask tasks are derived from class labels; the data has regression targets",
        ));
    };
    if task.classes_of.len() != *num_classes {
        return Err(Error::invalid(
            "method.tasks.classes_of",
            format!(
                "task '{}' maps {} classes but the data has {num_classes}",
                task.name,
                task.classes_of.len()
            ),
        ));
    }
    Ok(labels
        .iter()
        .map(|&l| task.classes_of[l as usize])
        .collect())
}

/// Checks, before any run folder exists, that every task maps the data's classes.
pub(crate) fn check_tasks(tasks: &[AuxTask], train: &Dataset) -> Result<()> {
    tasks
        .iter()
        .try_for_each(|t| task_labels(t, train).map(drop))
}

/// Builds the heads, trains all tasks, and returns the main model's outcome and the whole
/// multi-head model (without autodiff).
pub(crate) fn train_multitask(
    model: Sequential,
    recipe: &Recipe,
    (trunk, main_weight, tasks): (usize, f64, &[AuxTask]),
    train: &Dataset,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<(FitOutcome, MultiHead)> {
    let labelled = tasks
        .iter()
        .map(|t| {
            Ok(TaskLabels {
                name: t.name.clone(),
                weight: t.weight,
                labels: task_labels(t, train)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let heads: Vec<_> = tasks.iter().map(AuxTask::head).collect();
    let multi = MultiHead::new(model, &recipe.model, trunk, &heads, device)?;
    let (multi, history) =
        fit_multitask(multi, train, main_weight, &labelled, cfg, device, observer)?;
    let multi = multi.valid();
    let outcome = FitOutcome {
        model: multi.main.clone(),
        history,
        stopped_at: None,
    };
    Ok((outcome, multi))
}

/// Test accuracy of every extra task (`<name>_accuracy`), and of the main model's predicted
/// class mapped to the task (`<name>_from_main_accuracy`, what a single-task model gives).
pub(crate) fn evaluate_tasks(
    multi: &MultiHead,
    tasks: &[AuxTask],
    test: &Dataset,
    device: &Device,
) -> Result<Vec<(String, f64)>> {
    let truth: Vec<Vec<u32>> = tasks
        .iter()
        .map(|t| task_labels(t, test))
        .collect::<Result<_>>()?;
    let mut correct = vec![(0usize, 0usize); tasks.len()];
    for range in sequential_batches(test.len(), 512) {
        let idx: Vec<usize> = range.collect();
        let (main, heads) = multi.forward_logits(batch_inputs(test, &idx, device));
        let main_pred = argmax(main);
        for (k, head) in heads.into_iter().enumerate() {
            for ((&i, p), m) in idx.iter().zip(argmax(head)).zip(&main_pred) {
                correct[k].0 += usize::from(p == truth[k][i]);
                correct[k].1 += usize::from(tasks[k].classes_of[*m as usize] == truth[k][i]);
            }
        }
    }
    let n = test.len().max(1) as f64;
    Ok(tasks
        .iter()
        .zip(correct)
        .flat_map(|(t, (own, via_main))| {
            [
                (format!("{}_accuracy", t.name), own as f64 / n),
                (
                    format!("{}_from_main_accuracy", t.name),
                    via_main as f64 / n,
                ),
            ]
        })
        .collect())
}

/// Saves each extra head as `head_<name>.bpk` in the run folder.
pub(crate) fn save_heads(multi: &MultiHead, tasks: &[AuxTask], files: &RunFiles) -> Result<()> {
    for (head, task) in multi.heads.iter().zip(tasks) {
        let path = files.dir.join(format!("head_{}.bpk", task.name));
        let tmp = path.with_extension("bpk.tmp");
        save_record(head, &tmp)?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io("renaming", &tmp, e))?;
    }
    Ok(())
}

fn argmax(logits: burn::tensor::Tensor<2>) -> Vec<u32> {
    let [b, _] = logits.dims();
    logits
        .argmax(1)
        .reshape([b])
        .into_data()
        .iter::<i64>()
        .map(|v| v as u32)
        .collect()
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use crate::recipe::Recipe;
    use crate::run::{RunOptions, train_recipe};
    use crate::train::Silent;

    fn recipe(classes_of: &str) -> Recipe {
        let text = format!(
            r#"
name = "multitask_test"
seed = 2
[data]
dataset = "digits"
preprocess = [{{ kind = "scale", divide_by = 16.0 }}]
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
units = 32
activation = "relu"
[[model.layers]]
type = "dense"
units = 10
activation = "softmax"
[optimizer]
kind = "adam"
lr = 0.01
[training]
loss = "sparse_categorical_crossentropy"
epochs = 6
batch_size = 32
checkpoint_steps = 0
[method]
kind = "multitask"
trunk = 2
[[method.tasks]]
name = "parity"
classes_of = {classes_of}
weight = 0.5
"#
        );
        Recipe::parse(&text, "multitask_test").unwrap()
    }

    #[test]
    fn both_heads_learn_and_the_extra_head_is_saved() {
        let dir = tempfile::tempdir().unwrap();
        let opts = RunOptions {
            data_dir: None,
            out: dir.path().join("run"),
            resume: false,
        };
        let r = recipe("[0, 1, 0, 1, 0, 1, 0, 1, 0, 1]");
        let report = train_recipe(&r, &opts, &Device::flex(), &mut Silent).unwrap();
        let get = |name: &str| report.test.metric(name).unwrap();
        assert!(get("accuracy") > 0.85, "{:?}", report.test.metrics);
        assert!(get("parity_accuracy") > 0.85, "{:?}", report.test.metrics);
        assert!(get("parity_from_main_accuracy") > 0.85);
        let parity_loss = report.history.series("parity_loss").unwrap();
        assert!(parity_loss[5] < parity_loss[0] * 0.5, "{parity_loss:?}");
        assert!(opts.out.join("head_parity.bpk").is_file());
        assert!(opts.out.join("model.bpk").is_file());

        let short = recipe("[0, 1, 0, 1, 0, 1, 0, 1, 0]");
        let bad = RunOptions {
            out: dir.path().join("bad"),
            ..opts
        };
        let err = train_recipe(&short, &bad, &Device::flex(), &mut Silent)
            .unwrap_err()
            .to_string();
        assert!(err.contains("maps 9 classes but the data has 10"), "{err}");
        assert!(
            !bad.out.exists(),
            "no run folder for a recipe that cannot start"
        );
    }
}
