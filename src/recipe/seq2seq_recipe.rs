//! [`Seq2SeqRecipe`]: a recipe whose experiment is a sequence-to-sequence model (a
//! `[seq2seq]` table instead of `[data]`, `[model]`, `[optimizer]` and `[training]`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::base::overridden_toml;
use crate::seq2seq::Seq2SeqConfig;
use crate::{Error, Result};

fn default_seed() -> u64 {
    42
}

/// A sequence-to-sequence experiment: model, training and generated data in `[seq2seq]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Seq2SeqRecipe {
    /// Run name (also the default run-folder name).
    pub name: String,
    /// What the recipe is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Seed of initialisation and shuffling (the data has its own seed).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `[seq2seq]`.
    pub seq2seq: Seq2SeqConfig,
}

impl Seq2SeqRecipe {
    /// Parses TOML text; `source_name` goes into errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self> {
        let wrap = |message: String| Error::Recipe {
            source_name: source_name.to_string(),
            message,
        };
        let recipe: Self = toml::from_str(text).map_err(|e| wrap(e.to_string()))?;
        recipe.seq2seq.validate().map_err(|e| wrap(e.to_string()))?;
        Ok(recipe)
    }

    /// Reads and parses a recipe file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The recipe as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a recipe always serialises")
    }

    /// Applies `key.path=value` overrides, e.g. `seq2seq.epochs=2`.
    pub fn with_overrides(&self, overrides: &[String]) -> Result<Self> {
        Self::parse(
            &overridden_toml(self, overrides)?,
            "<recipe with --set overrides>",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seq2seq_recipes_parse_and_round_trip() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
        for name in ["seq2seq_attention.toml", "seq2seq_transformer.toml"] {
            let r = Seq2SeqRecipe::load(&dir.join(name)).unwrap();
            assert_eq!(Seq2SeqRecipe::parse(&r.to_toml(), "round trip").unwrap(), r);
        }
        let r = Seq2SeqRecipe::load(&dir.join("seq2seq_attention.toml")).unwrap();
        let o = r.with_overrides(&["seq2seq.epochs=1".into()]).unwrap();
        assert_eq!(o.seq2seq.epochs, 1);
        let err = r.with_overrides(&["seq2seq.epochz=1".into()]).unwrap_err();
        assert!(err.to_string().contains("epochz"), "{err}");
    }
}
