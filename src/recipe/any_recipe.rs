//! [`AnyRecipe`]: a recipe file of either kind, told apart by its tables.

use std::path::Path;

use super::{Recipe, Seq2SeqRecipe};
use crate::{Error, Result};

/// A supervised recipe (`[data]`, `[model]`, ...) or a sequence-to-sequence one
/// (`[seq2seq]`).
#[derive(Clone, Debug, PartialEq)]
pub enum AnyRecipe {
    /// Data, model, optimiser, schedule, training.
    Supervised(Box<Recipe>),
    /// An encoder-decoder on generated pairs.
    Seq2Seq(Box<Seq2SeqRecipe>),
}

/// True when the TOML text has a top-level `seq2seq` table.
pub(crate) fn is_seq2seq(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("seq2seq"))
}

impl AnyRecipe {
    /// Parses TOML text of either kind; `source_name` goes into errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self> {
        if is_seq2seq(text) {
            Ok(Self::Seq2Seq(Box::new(Seq2SeqRecipe::parse(
                text,
                source_name,
            )?)))
        } else {
            Ok(Self::Supervised(Box::new(Recipe::parse(
                text,
                source_name,
            )?)))
        }
    }

    /// Reads and parses a recipe file of either kind.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The run name.
    pub fn name(&self) -> &str {
        match self {
            Self::Supervised(r) => &r.name,
            Self::Seq2Seq(r) => &r.name,
        }
    }

    /// Applies `--set` overrides.
    pub fn with_overrides(&self, overrides: &[String]) -> Result<Self> {
        Ok(match self {
            Self::Supervised(r) => Self::Supervised(Box::new(r.with_overrides(overrides)?)),
            Self::Seq2Seq(r) => Self::Seq2Seq(Box::new(r.with_overrides(overrides)?)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::DEFAULT_RECIPE;

    #[test]
    fn tells_the_kinds_apart() {
        assert!(matches!(
            AnyRecipe::parse(DEFAULT_RECIPE, "d").unwrap(),
            AnyRecipe::Supervised(_)
        ));
        let text = "name = \"s\"\n[seq2seq]\narch = \"transformer\"\n";
        let r = AnyRecipe::parse(text, "s.toml").unwrap();
        assert!(matches!(r, AnyRecipe::Seq2Seq(_)));
        assert_eq!(r.name(), "s");
        let err = AnyRecipe::parse("name = \"s\"\n[seq2seq]\narch = \"lstm\"\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("s.toml") && err.contains("lstm"), "{err}");
    }
}
