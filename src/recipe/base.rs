//! [`Recipe`]: the whole experiment, parsed from TOML with unknown keys and wrong types
//! reported by name.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{
    AugmentSection, DataSection, EmbeddingEvalSection, MethodSection, TrainingSection,
    TransferSection,
};
use crate::model::SequentialConfig;
use crate::optim::{OptimizerConfig, ScheduleConfig};
use crate::{Error, Result};

fn default_seed() -> u64 {
    42
}

/// An experiment: data, model, optimiser, schedule and training.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Run name (also the default run-folder name).
    pub name: String,
    /// What the recipe is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The one seed every split, shuffle, initialisation and dropout mask derives from.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `[data]`.
    pub data: DataSection,
    /// `[model]`.
    pub model: SequentialConfig,
    /// `[optimizer]`.
    pub optimizer: OptimizerConfig,
    /// `[schedule]` (constant when absent).
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// `[training]`.
    pub training: TrainingSection,
    /// `[transfer]`: start from another run's layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferSection>,
    /// `[augment]`: augmentation of the training images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<AugmentSection>,
    /// `[method]`: metric learning or prototypical episodes instead of supervised batches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<MethodSection>,
    /// `[embedding_eval]`: retrieval, open-set and few-shot measures of the embedding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_eval: Option<EmbeddingEvalSection>,
}

/// The recipe trained when none is named: an MLP on the embedded digits.
pub const DEFAULT_RECIPE: &str = include_str!("../../recipes/digits_mlp.toml");

impl Recipe {
    /// Parses TOML text; `source_name` (a path or `<default>`) goes into errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Recipe> {
        if super::is_seq2seq(text) {
            return Err(Error::Recipe {
                source_name: source_name.to_string(),
                message: "this is a sequence-to-sequence recipe ([seq2seq]); only `manabi train` and `manabi predict` take it".into(),
            });
        }
        if super::is_shift(text) {
            return Err(Error::Recipe {
                source_name: source_name.to_string(),
                message: "this is a shift recipe ([reference], [new]); run it with `manabi shift`"
                    .into(),
            });
        }
        let recipe: Recipe = toml::from_str(text).map_err(|e| Error::Recipe {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?;
        recipe.validate().map_err(|e| Error::Recipe {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?;
        Ok(recipe)
    }

    /// Reads and parses a recipe file.
    pub fn load(path: &Path) -> Result<Recipe> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        Recipe::parse(&text, &path.display().to_string())
    }

    /// The built-in default recipe.
    pub fn default_recipe() -> Recipe {
        Recipe::parse(DEFAULT_RECIPE, "<default digits_mlp>").expect("the default recipe parses")
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<()> {
        self.data.validate()?;
        self.optimizer.validate()?;
        self.schedule.validate()?;
        if let Some(t) = &self.transfer {
            t.validate(self.model.layers.len())?;
        }
        if let Some(key) = self.data.stream_key()
            && self.method.as_ref().and_then(|m| m.semi()).is_none()
        {
            return Err(Error::invalid(
                key,
                format!(
                    "streamed unlabelled images feed the semi-supervised loop: set [method] kind = \"semi\" with an online algorithm, or remove {key}"
                ),
            ));
        }
        if let Some(m) = &self.method {
            m.validate(self.model.layers.len())?;
            if m.contrasts_pairs() && self.training.batch_size < 2 {
                return Err(Error::invalid(
                    "training.batch_size",
                    "a contrastive method needs negatives: every batch must hold at least 2 images",
                ));
            }
            if self.training.average.is_some() {
                return Err(Error::invalid(
                    "training.average",
                    "weight averaging works with the supervised loop only so far; drop it from this [method] recipe",
                ));
            }
            if self.training.early_stopping.is_some()
                || matches!(
                    self.schedule,
                    crate::optim::ScheduleConfig::ReduceOnPlateau { .. }
                )
            {
                return Err(Error::invalid(
                    "method",
                    "a [method] run logs no validation loss or accuracy: drop [training.early_stopping] and the reduce_on_plateau schedule",
                ));
            }
            if self
                .transfer
                .as_ref()
                .is_some_and(|t| t.head != super::HeadKind::Layers)
            {
                return Err(Error::invalid(
                    "method",
                    "a [method] trains by gradient descent; it cannot be combined with a linear_svm or nearest_neighbour [transfer] head",
                ));
            }
        }
        let views = self.method.as_ref().map_or(1, MethodSection::views);
        match &self.augment {
            Some(a) => {
                a.validate()?;
                if a.views.len() != views {
                    return Err(Error::invalid(
                        "augment.views",
                        format!(
                            "this recipe's method trains with {views} view(s) per image; [augment] lists {}",
                            a.views.len()
                        ),
                    ));
                }
            }
            None if views > 1 => {
                return Err(Error::invalid(
                    "augment",
                    format!(
                        "this [method] needs [augment] with {views} [[augment.views]] (contrastive views, or FixMatch's weak and strong views)"
                    ),
                ));
            }
            None => {}
        }
        if let Some(e) = &self.embedding_eval {
            e.validate(self.model.layers.len())?;
            e.check_unseen(self.data.classes.as_deref())?;
        }
        self.training.validate()
    }

    /// The recipe as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a recipe always serialises")
    }

    /// Applies `key.path=value` overrides (the CLI's `--set`), e.g.
    /// `training.epochs=2` or `optimizer.lr=0.01`. The value is read as TOML (number,
    /// boolean, string, array), falling back to a plain string.
    pub fn with_overrides(&self, overrides: &[String]) -> Result<Recipe> {
        let text = overridden_toml(self, overrides)?;
        Recipe::parse(&text, "<recipe with --set overrides>")
    }
}

/// `recipe` as TOML with `key.path=value` overrides applied (not yet validated).
pub(crate) fn overridden_toml(recipe: &impl Serialize, overrides: &[String]) -> Result<String> {
    let mut doc = toml::Value::try_from(recipe).expect("a recipe always serialises");
    for item in overrides {
        let (path, raw) = item.split_once('=').ok_or_else(|| {
            Error::invalid("--set", format!("expected key.path=value, got '{item}'"))
        })?;
        let value = parse_value(raw.trim());
        set_path(&mut doc, path.trim(), value)?;
    }
    Ok(toml::to_string(&doc).expect("a TOML value serialises"))
}

fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn set_path(doc: &mut toml::Value, path: &str, value: toml::Value) -> Result<()> {
    let mut node = doc;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        node = match node {
            toml::Value::Table(t) if last => {
                t.insert(part.to_string(), value);
                return Ok(());
            }
            toml::Value::Table(t) => t
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new())),
            toml::Value::Array(a) => {
                let idx: usize = part.parse().map_err(|_| {
                    Error::invalid("--set", format!("'{part}' in '{path}' must be an index"))
                })?;
                let len = a.len();
                let slot = a.get_mut(idx).ok_or_else(|| {
                    Error::invalid(
                        "--set",
                        format!("index {idx} in '{path}' is out of range (len {len})"),
                    )
                })?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            _ => {
                return Err(Error::invalid(
                    "--set",
                    format!("'{path}': '{part}' is inside a value that is not a table"),
                ));
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recipe_in_the_folder_parses_and_round_trips() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
        let mut n = 0;
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            if path.extension().is_some_and(|e| e == "toml") && super::super::is_shift(&text) {
                crate::recipe::ShiftRecipe::load(&path).unwrap_or_else(|e| panic!("{e}"));
                let err = Recipe::load(&path).unwrap_err().to_string();
                assert!(err.contains("manabi shift"), "{err}");
                continue;
            }
            if path.extension().is_some_and(|e| e == "toml") && !super::super::is_seq2seq(&text) {
                let r = Recipe::load(&path).unwrap_or_else(|e| panic!("{e}"));
                let back = Recipe::parse(&r.to_toml(), "round trip").unwrap();
                assert_eq!(r, back, "{}", path.display());
                n += 1;
            }
        }
        assert!(
            n >= 8,
            "expected the recipes of the foundation issue, found {n}"
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named() {
        let base = DEFAULT_RECIPE;
        let bad = base.replace("[training]", "[training]\nepochz = 3");
        let err = Recipe::parse(&bad, "bad.toml").unwrap_err().to_string();
        assert!(err.contains("bad.toml") && err.contains("epochz"), "{err}");
        let bad = base.replace("batch_size = 32", "batch_size = \"big\"");
        let err = Recipe::parse(&bad, "bad.toml").unwrap_err().to_string();
        assert!(err.contains("batch_size"), "{err}");
        let bad = base.replace("kind = \"adam\"", "kind = \"adamm\"");
        let err = Recipe::parse(&bad, "bad.toml").unwrap_err().to_string();
        assert!(err.contains("adamm"), "{err}");
        let bad = base.replace("units = 64", "unitz = 64");
        let err = Recipe::parse(&bad, "bad.toml").unwrap_err().to_string();
        assert!(err.contains("unitz"), "{err}");
    }

    #[test]
    fn weight_averages_and_contrastive_batches_are_checked() {
        let r = Recipe::default_recipe();
        let epochs = r.training.epochs;
        let set = |v: &str| r.with_overrides(&[format!("training.average={v}")]);
        assert!(set("{kind=\"ema\", decay=0.99}").is_ok());
        assert!(set(&format!("{{kind=\"swa\", start_epoch={epochs}}}")).is_ok());
        let err = set("{kind=\"ema\", decay=1.0}").unwrap_err().to_string();
        assert!(err.contains("training.average.decay"), "{err}");
        let err = set(&format!("{{kind=\"swa\", start_epoch={}}}", epochs + 1));
        assert!(err.unwrap_err().to_string().contains("start_epoch"));
        let err = set("{kind=\"polyak\"}").unwrap_err().to_string();
        assert!(err.contains("polyak"), "{err}");

        let simclr = format!(
            "{}\n[method]\nkind = \"clip\"\n",
            r.to_toml().replace("batch_size = 32", "batch_size = 1")
        );
        let err = Recipe::parse(&simclr, "r").unwrap_err().to_string();
        assert!(err.contains("training.batch_size"), "{err}");
        let averaged = format!(
            "{}\n[method]\nkind = \"clip\"\n",
            set("{kind=\"ema\", decay=0.9}").unwrap().to_toml()
        );
        let err = Recipe::parse(&averaged, "r").unwrap_err().to_string();
        assert!(err.contains("training.average"), "{err}");
    }

    #[test]
    fn overrides_change_nested_values_and_are_validated() {
        let r = Recipe::default_recipe();
        let o = r
            .with_overrides(&["training.epochs=2".into(), "optimizer.lr=0.01".into()])
            .unwrap();
        assert_eq!(o.training.epochs, 2);
        assert_eq!(o.optimizer.learning_rate(), 0.01);
        let o = r
            .with_overrides(&["model.layers.1.units=7".into()])
            .unwrap();
        assert!(o.to_toml().contains("units = 7"));
        let err = r.with_overrides(&["training.epochs=0".into()]).unwrap_err();
        assert!(err.to_string().contains("epochs"), "{err}");
        assert!(r.with_overrides(&["training.epochz=2".into()]).is_err());
        assert!(r.with_overrides(&["nonsense".into()]).is_err());
    }
}
