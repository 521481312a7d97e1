//! The `[embedding_eval]` section (SPEC M3, T4): after training, measure the model's embedding
//! (the output of its first `layers` layers) as a metric space: retrieval and kNN accuracy on
//! the test images of the trained classes, open-set retrieval and verification on test images
//! of classes held out from training, and N-way K-shot episodes on those held-out classes.

use serde::{Deserialize, Serialize};

use crate::transfer::NeighbourSearch;
use crate::{Error, Result};

fn is_exact(s: &NeighbourSearch) -> bool {
    *s == NeighbourSearch::Exact
}

fn one() -> usize {
    1
}
fn five() -> usize {
    5
}
fn fifteen() -> usize {
    15
}
fn default_shots() -> Vec<usize> {
    vec![1, 5]
}
fn yes() -> bool {
    true
}

/// `[embedding_eval]`: how a run's embedding is measured.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingEvalSection {
    /// The embedding is the output of the first `layers` layers (all of them when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<usize>,
    /// Classes of the same dataset never seen in training (original numbering, e.g.
    /// `[5, 6, 7, 8, 9]`); their test images are the open set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unseen_classes: Vec<u32>,
    /// Neighbours voting in the kNN accuracy (training embeddings as the reference).
    #[serde(default = "one")]
    pub neighbours: usize,
    /// How the kNN accuracy finds them: `{ kind = "exact" }` (default) or `{ kind = "hnsw" }`
    /// (approximate; its recall against exact search on 500 test points is reported).
    #[serde(default, skip_serializing_if = "is_exact")]
    pub search: NeighbourSearch,
    /// Few-shot episodes on the unseen classes (0: none).
    #[serde(default)]
    pub episodes: usize,
    /// Classes per episode.
    #[serde(default = "five")]
    pub ways: usize,
    /// Support images per class; one evaluation per entry.
    #[serde(default = "default_shots")]
    pub shots: Vec<usize>,
    /// Query images per class and episode.
    #[serde(default = "fifteen")]
    pub queries: usize,
    /// Write `embedding_2d.png` (PCA of the test embeddings, coloured by class).
    #[serde(default = "yes")]
    pub plot: bool,
}

impl Default for EmbeddingEvalSection {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

impl EmbeddingEvalSection {
    /// Checks that the unseen classes were really left out of training: `[data] classes`
    /// must list the trained classes, and `unseen_classes` none of them, each once.
    pub fn check_unseen(&self, trained: Option<&[u32]>) -> Result<()> {
        if self.unseen_classes.is_empty() {
            return Ok(());
        }
        let key = "embedding_eval.unseen_classes";
        let Some(trained) = trained else {
            return Err(Error::invalid(
                key,
                "[data] trains on every class; list the trained ones in [data] classes so the unseen ones stay out",
            ));
        };
        for (i, c) in self.unseen_classes.iter().enumerate() {
            if trained.contains(c) {
                return Err(Error::invalid(
                    key,
                    format!("class {c} is also in [data] classes, so it is not unseen"),
                ));
            }
            if self.unseen_classes[..i].contains(c) {
                return Err(Error::invalid(key, format!("class {c} is listed twice")));
            }
        }
        Ok(())
    }

    /// Checks values against the model's layer count.
    pub fn validate(&self, model_layers: usize) -> Result<()> {
        if let Some(l) = self.layers
            && (l == 0 || l > model_layers)
        {
            return Err(Error::invalid(
                "embedding_eval.layers",
                format!(
                    "must be in 1..={model_layers} (the model has {model_layers} layers), got {l}"
                ),
            ));
        }
        self.search.validate("embedding_eval.search")?;
        if self.neighbours == 0 {
            return Err(Error::invalid(
                "embedding_eval.neighbours",
                "must be at least 1",
            ));
        }
        if self.episodes == 1 {
            return Err(Error::invalid(
                "embedding_eval.episodes",
                "needs at least 2 episodes for a confidence interval (600 is usual), or 0 for none",
            ));
        }
        if self.episodes > 0 {
            if self.unseen_classes.len() < self.ways || self.ways < 2 {
                return Err(Error::invalid(
                    "embedding_eval.ways",
                    format!(
                        "episodes draw {} classes from unseen_classes, which lists {}",
                        self.ways,
                        self.unseen_classes.len()
                    ),
                ));
            }
            if self.shots.is_empty() || self.shots.contains(&0) || self.queries == 0 {
                return Err(Error::invalid(
                    "embedding_eval",
                    "episodes need shots (each at least 1) and queries >= 1",
                ));
            }
        }
        Ok(())
    }
}
