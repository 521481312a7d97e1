//! Copying a finished run's leading layers into a freshly built model, then freezing what the
//! `[transfer]` section says does not train.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;

use crate::model::{Layer, Sequential, SequentialConfig};
use crate::recipe::TransferSection;
use crate::run::{TrainedRun, load_trained_model};
use crate::{Error, Result};

/// A model after the transfer, and the learning-rate factor of each of its layers.
#[derive(Debug)]
pub struct Transferred {
    /// The first `backbone` layers hold the run's weights; layers that do not train are frozen.
    pub model: Sequential,
    /// Per layer, the factor on the learning rate (1.0 for the head).
    pub lr_scales: Vec<f64>,
}

/// Applies `section` to `model` (built from `config` for inputs of `input_shape` on `device`,
/// an autodiff device for training).
pub fn init_from_run(
    model: Sequential,
    config: &SequentialConfig,
    input_shape: &[usize],
    section: &TransferSection,
    device: &Device,
) -> Result<Transferred> {
    let Some(dir) = section.init_from.as_deref() else {
        // No run to copy from: the fresh layers, frozen and scaled as asked.
        let mut t = freeze_and_scale(model, section);
        t.model = attach_tuning(t.model, section, device)?;
        return Ok(t);
    };
    let source = load_source(section, input_shape, device)?;
    let theirs = source
        .recipe
        .model
        .summary("source", source.model.input_shape())?;
    let ours = config.summary("target", input_shape)?;
    let copied = section.copied(ours.layers.len());
    if theirs.layers.len() < copied {
        return Err(Error::invalid(
            "transfer.keep_head",
            format!(
                "{} has {} layers, this recipe {}: with keep_head every layer must come from the run",
                dir.display(),
                theirs.layers.len(),
                ours.layers.len()
            ),
        ));
    }
    for (i, (a, b)) in theirs
        .layers
        .iter()
        .zip(&ours.layers)
        .take(copied)
        .enumerate()
    {
        if a.kind != b.kind || a.output_shape != b.output_shape || a.trainable != b.trainable {
            return Err(Error::invalid(
                "transfer.init_from",
                format!(
                    "layer {i} does not fit: {} has a {} with output {:?} and {} parameters, this recipe a {} with output {:?} and {} parameters",
                    dir.display(),
                    a.kind,
                    a.output_shape,
                    a.trainable,
                    b.kind,
                    b.output_shape,
                    b.trainable
                ),
            ));
        }
    }
    let mut model = model;
    for (i, layer) in source.model.layers.into_iter().take(copied).enumerate() {
        model.layers[i] = layer;
    }
    let mut t = freeze_and_scale(model, section);
    t.model = attach_tuning(t.model, section, device)?;
    Ok(t)
}

/// Puts fresh adapters or low-rank updates (`section.tuning`) into every Transformer stack of
/// the backbone; they train while the stack's own weights stay as they are.
///
/// # Errors
/// [`Error::Invalid`] when the backbone has no `transformer_encoder` to tune.
pub fn attach_tuning(
    mut model: Sequential,
    section: &TransferSection,
    device: &Device,
) -> Result<Sequential> {
    let Some(tuning) = &section.tuning else {
        return Ok(model);
    };
    let mut found = false;
    let layers = std::mem::take(&mut model.layers);
    model.layers = layers
        .into_iter()
        .enumerate()
        .map(|(i, l)| match l {
            Layer::TransformerEncoder(enc) if i < section.backbone => {
                found = true;
                Layer::TransformerEncoder(enc.with_tuning(tuning, device))
            }
            other => other,
        })
        .collect();
    if !found {
        return Err(Error::invalid(
            "transfer.tuning",
            "adapters and low-rank updates go into transformer_encoder layers, and the backbone has none",
        ));
    }
    Ok(model)
}

/// Freezes the layers that do not train and gives each its learning-rate factor.
fn freeze_and_scale(mut model: Sequential, section: &TransferSection) -> Transferred {
    let layers = std::mem::take(&mut model.layers);
    model.layers = layers
        .into_iter()
        .enumerate()
        .map(|(i, l)| if section.trains(i) { l } else { l.freeze() })
        .collect();
    let lr_scales = (0..model.layers.len())
        .map(|i| section.lr_scale(i))
        .collect();
    Transferred { model, lr_scales }
}

/// The finished run `section.init_from`, checked to take inputs of `input_shape` and to have
/// at least `section.backbone` layers.
pub fn load_source(
    section: &TransferSection,
    input_shape: &[usize],
    device: &Device,
) -> Result<TrainedRun> {
    let Some(dir) = section.init_from.as_deref() else {
        return Err(Error::invalid(
            "transfer.init_from",
            "names no run to load the backbone from",
        ));
    };
    if !dir.join("recipe.toml").is_file() {
        return Err(missing_run(dir));
    }
    let source = load_trained_model(dir, device)?;
    if source.model.input_shape() != input_shape {
        return Err(Error::invalid(
            "transfer.init_from",
            format!(
                "{} was trained on inputs of shape {:?}, this recipe's data have shape {input_shape:?}",
                dir.display(),
                source.model.input_shape()
            ),
        ));
    }
    if section.backbone > source.model.layers.len() {
        return Err(Error::invalid(
            "transfer.backbone",
            format!(
                "{} has {} layers, fewer than the backbone's {}",
                dir.display(),
                source.model.layers.len(),
                section.backbone
            ),
        ));
    }
    Ok(source)
}

fn missing_run(dir: &Path) -> Error {
    Error::invalid(
        "transfer.init_from",
        format!(
            "{} is not a finished run folder (no recipe.toml); train the source recipe first, e.g. `manabi train SOURCE.toml --out {}`",
            dir.display(),
            dir.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Layer;
    use crate::recipe::Recipe;
    use crate::run::{RunOptions, train_recipe};
    use crate::train::Silent;
    use burn::module::{ModuleVisitor, Param};
    use burn::tensor::Tensor;

    /// Every float parameter of a layer, flattened, in visiting order.
    fn values(layer: &Layer) -> Vec<f32> {
        struct Collect(Vec<f32>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.extend(param.val().into_data().iter::<f32>());
            }
        }
        let mut c = Collect(Vec::new());
        layer.visit(&mut c);
        c.0
    }

    fn recipe(name: &str, classes: &str, hidden: usize, extra: &str) -> Recipe {
        let text = format!(
            r#"
name = "{name}"
seed = 3
[data]
dataset = "digits"
classes = {classes}
preprocess = [{{ kind = "scale", divide_by = 16.0 }}]
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
units = {hidden}
activation = "relu"
[[model.layers]]
type = "dense"
units = 8
activation = "relu"
[[model.layers]]
type = "dense"
units = 5
activation = "softmax"
[optimizer]
kind = "adam"
lr = 0.01
[training]
loss = "sparse_categorical_crossentropy"
epochs = 3
batch_size = 16
checkpoint_steps = 0
{extra}"#
        );
        Recipe::parse(&text, name).unwrap()
    }

    fn train(recipe: &Recipe, out: &Path) -> crate::Result<Sequential> {
        let opts = RunOptions {
            data_dir: None,
            out: out.to_path_buf(),
            resume: false,
        };
        train_recipe(recipe, &opts, &Device::flex(), &mut Silent)?;
        Ok(load_trained_model(out, &Device::flex())?.model)
    }

    fn target(source: &Path, hidden: usize, how: &str) -> Recipe {
        let extra = format!(
            "train_per_class = 5\n[transfer]\ninit_from = {:?}\nbackbone = 3\n{how}",
            source.display().to_string()
        );
        // `train_per_class` belongs to [data]: splice it there.
        let r = recipe("target", "[5, 6, 7, 8, 9]", hidden, "");
        let mut text = r.to_toml();
        let (data, transfer) = extra.split_once('\n').unwrap();
        text = text.replacen("[data]\n", &format!("[data]\n{data}\n"), 1);
        text.push_str(&format!("\n{transfer}\n"));
        Recipe::parse(&text, "target").unwrap()
    }

    #[test]
    fn frozen_backbone_stays_bit_identical_and_the_head_trains() {
        let dir = tempfile::tempdir().unwrap();
        let src_dir = dir.path().join("source");
        let source = train(&recipe("source", "[0, 1, 2, 3, 4]", 16, ""), &src_dir).unwrap();
        let head_only = target(&src_dir, 16, "train = \"head\"");
        let tuned = train(&head_only, &dir.path().join("frozen")).unwrap();
        for i in 1..3 {
            assert_eq!(
                values(&source.layers[i]),
                values(&tuned.layers[i]),
                "layer {i}"
            );
        }
        // The head did train: the loss fell every epoch (a head that never changed would keep
        // it flat).
        let history = crate::train::History::read_csv(dir.path().join("frozen/history.csv"));
        let history = history.unwrap();
        let losses = history.series("loss").unwrap();
        assert!(losses.windows(2).all(|w| w[1] < w[0]), "{losses:?}");

        let all = target(&src_dir, 16, "backbone_lr_scale = 0.5");
        let tuned = train(&all, &dir.path().join("all")).unwrap();
        assert_ne!(values(&source.layers[1]), values(&tuned.layers[1]));
    }

    #[test]
    fn without_a_run_the_backbone_keeps_its_seeded_random_weights() {
        let dir = tempfile::tempdir().unwrap();
        let extra = "[transfer]\nbackbone = 3\ntrain = \"head\"";
        let r = recipe("random", "[0, 1, 2, 3, 4]", 16, extra);
        let trained = train(&r, &dir.path().join("random")).unwrap();
        let device = Device::flex();
        device.seed(r.seed);
        let fresh = r.model.build(&[8, 8], &device).unwrap();
        for i in 1..3 {
            assert_eq!(
                values(&fresh.layers[i]),
                values(&trained.layers[i]),
                "layer {i}"
            );
        }
        assert_ne!(
            values(&fresh.layers[3]),
            values(&trained.layers[3]),
            "the head trained"
        );
        let text = r
            .to_toml()
            .replace("train = \"head\"", "train = \"none\"")
            .replace("keep_head = false", "keep_head = true");
        let err = Recipe::parse(&text, "r").unwrap_err().to_string();
        assert!(err.contains("transfer.init_from"), "{err}");
    }

    #[test]
    fn missing_or_mismatched_runs_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = train(
            &target(&dir.path().join("nowhere"), 16, ""),
            &dir.path().join("t1"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("not a finished run folder"), "{err}");
        let src_dir = dir.path().join("source");
        train(&recipe("source", "[0, 1, 2, 3, 4]", 16, ""), &src_dir).unwrap();
        let err = train(&target(&src_dir, 12, ""), &dir.path().join("t2"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("layer 1 does not fit"), "{err}");
        assert!(err.contains("dense"), "{err}");
        assert!(
            !dir.path().join("t2").exists(),
            "no run folder for a recipe that cannot start"
        );
    }
}
