//! The `[transfer]` section (SPEC T1-T2): start from another run's trained layers, then train
//! all of them, only the new head, or chosen layers, with a smaller learning rate for the
//! backbone if wanted.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::TuningConfig;
use crate::semi::GraphConfig;
use crate::transfer::NeighbourSearch;

use crate::{Error, Result};

fn is_exact(s: &NeighbourSearch) -> bool {
    *s == NeighbourSearch::Exact
}

fn one() -> f64 {
    1.0
}

/// Which layers train after the transfer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TrainPart {
    /// Every layer (fine-tuning).
    #[default]
    All,
    /// Only the layers after the backbone (feature extraction: the backbone is frozen).
    Head,
    /// Only the layers listed in `train_layers` (e.g. the layers near the input).
    Layers,
    /// Nothing: the run's model is only evaluated on this recipe's data ("source only"; needs
    /// `keep_head = true`).
    None,
}

/// What classifies on top of the backbone.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// The recipe's own layers after the backbone, trained with the optimiser.
    #[default]
    Layers,
    /// A one-vs-rest linear SVM fitted on the backbone's features (no gradient training).
    LinearSvm,
    /// `k`-nearest-neighbour vote on the backbone's features.
    NearestNeighbour,
    /// Label spreading (Zhou et al. 2004) on a similarity graph of the backbone's features of
    /// the labelled, unlabelled and test samples (transductive; seed 003 19.3.4).
    LabelSpreading,
    /// Label propagation (Zhu & Ghahramani 2002) on the same graph.
    LabelPropagation,
    /// Co-training (Blum & Mitchell 1998) of two softmax regressions on the two halves of the
    /// features, with `[data] unlabelled`.
    CoTraining,
    /// Tri-training (Zhou & Li 2005) of three softmax regressions, with `[data] unlabelled`.
    TriTraining,
}

impl HeadKind {
    /// Whether the head labels a graph of all samples.
    pub fn is_graph(self) -> bool {
        matches!(self, Self::LabelSpreading | Self::LabelPropagation)
    }

    /// Whether the head learns from `[data] unlabelled` by disagreement (co-/tri-training).
    pub fn is_disagreement(self) -> bool {
        matches!(self, Self::CoTraining | Self::TriTraining)
    }
}

/// `[transfer]`: the first `backbone` layers take the weights of the run in `init_from`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TransferSection {
    /// A finished run folder (it holds `recipe.toml` and `model.bpk`). Without it the backbone
    /// keeps its fresh, seeded initialisation: with `train = "head"` (or a probe head) that is
    /// the random-features baseline of a pre-training experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
    /// How many leading layers are copied from the run; the layers after them (the head) start
    /// from their usual initialisation.
    pub backbone: usize,
    /// Also copy the layers after the backbone (the head), when the run was trained on the same
    /// classes; every layer must then fit.
    #[serde(default)]
    pub keep_head: bool,
    /// What trains: `all` (default), `head`, `layers` or `none`.
    #[serde(default)]
    pub train: TrainPart,
    /// The layer indices (0-based, as in `manabi summary`) that train when `train = "layers"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub train_layers: Vec<usize>,
    /// Learning-rate factor of the backbone layers that train (e.g. 0.1: the backbone moves
    /// ten times slower than the head).
    #[serde(default = "one")]
    pub backbone_lr_scale: f64,
    /// `layers` (default), `linear_svm` or `nearest_neighbour`.
    #[serde(default)]
    pub head: HeadKind,
    /// The SVM's cost of margin violations (scikit-learn's `C`).
    #[serde(default = "one")]
    pub svm_c: f64,
    /// Neighbours that vote with `head = "nearest_neighbour"`.
    #[serde(default = "one_usize")]
    pub neighbours: usize,
    /// How `head = "nearest_neighbour"` finds them: `{ kind = "exact" }` (default) or
    /// `{ kind = "hnsw" }` (approximate, for millions of reference points).
    #[serde(default, skip_serializing_if = "is_exact")]
    pub search: NeighbourSearch,
    /// The similarity graph of the graph heads: `{ kind = "knn", k = 7 }` (default) or
    /// `{ kind = "rbf", gamma = 20.0 }` (all pairs; `neighbours = 10` keeps the nearest only).
    #[serde(default)]
    pub graph: GraphConfig,
    /// Label spreading's α in (0, 1): the share of a node's label taken from its neighbours.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Rounds of the graph heads (default: 30 for spreading, 1,000 for propagation, as in
    /// scikit-learn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iter: Option<usize>,
    /// The graph heads stop when the labels change by less than this (summed over nodes).
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Rounds of co-training (default 30, as Blum & Mitchell) and tri-training (at most).
    #[serde(default = "default_rounds")]
    pub rounds: usize,
    /// Co-training: samples per class each classifier labels per round (default 1, as Blum &
    /// Mitchell's one positive per round).
    #[serde(default = "default_per_round")]
    pub per_round: usize,
    /// Parameter-efficient fine-tuning: `{ kind = "adapter", bottleneck = 16 }` or
    /// `{ kind = "lora", rank = 8, alpha = 16 }` inserted into every `transformer_encoder` of the
    /// backbone, which stays frozen (needs `train = "head"`): the modules and the head train.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuning: Option<TuningConfig>,
}

fn default_rounds() -> usize {
    30
}
fn default_per_round() -> usize {
    1
}

fn one_usize() -> usize {
    1
}
fn default_alpha() -> f64 {
    0.2
}
fn default_tol() -> f64 {
    1e-3
}

impl TransferSection {
    /// Checks values that parse but cannot work; `layers` is the model's layer count.
    pub fn validate(&self, layers: usize) -> Result<()> {
        if self.backbone == 0 || self.backbone > layers {
            return Err(Error::invalid(
                "transfer.backbone",
                format!(
                    "must be between 1 and the model's {layers} layers, got {}",
                    self.backbone
                ),
            ));
        }
        match (self.train, self.train_layers.is_empty()) {
            (TrainPart::Layers, true) => {
                return Err(Error::invalid(
                    "transfer.train_layers",
                    "`train = \"layers\"` needs the indices of the layers to train, e.g. train_layers = [0, 2]",
                ));
            }
            _ if self.init_from.is_none() && (self.keep_head || self.train == TrainPart::None) => {
                return Err(Error::invalid(
                    "transfer.init_from",
                    "keep_head and train = \"none\" take layers from a run: name it in init_from",
                ));
            }
            (TrainPart::None, _) if !self.keep_head => {
                return Err(Error::invalid(
                    "transfer.train",
                    "`train = \"none\"` evaluates the run's model as it is: set keep_head = true",
                ));
            }
            (TrainPart::All | TrainPart::Head | TrainPart::None, false) => {
                return Err(Error::invalid(
                    "transfer.train_layers",
                    "only used with train = \"layers\"",
                ));
            }
            _ => {}
        }
        if let Some(&bad) = self.train_layers.iter().find(|&&i| i >= layers) {
            return Err(Error::invalid(
                "transfer.train_layers",
                format!("layer {bad} does not exist (the model has layers 0..{layers})"),
            ));
        }
        if !(self.svm_c.is_finite() && self.svm_c > 0.0) {
            return Err(Error::invalid(
                "transfer.svm_c",
                format!("must be a positive number, got {}", self.svm_c),
            ));
        }
        if self.neighbours == 0 {
            return Err(Error::invalid("transfer.neighbours", "must be at least 1"));
        }
        self.graph.validate("transfer.graph")?;
        self.search.validate("transfer.search")?;
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(Error::invalid(
                "transfer.alpha",
                format!("must be in (0, 1), got {}", self.alpha),
            ));
        }
        if self.rounds == 0 || self.per_round == 0 {
            return Err(Error::invalid(
                "transfer.rounds",
                "co-training and tri-training need rounds >= 1 and per_round >= 1",
            ));
        }
        if self.max_iter == Some(0) || self.tol.is_nan() || self.tol < 0.0 {
            return Err(Error::invalid(
                "transfer.max_iter",
                "the graph heads need max_iter >= 1 and tol >= 0",
            ));
        }
        if let Some(t) = &self.tuning {
            t.validate()?;
            if self.train != TrainPart::Head || self.head != HeadKind::Layers {
                return Err(Error::invalid(
                    "transfer.tuning",
                    "adapters and low-rank updates train beside a frozen backbone: set train = \"head\" (with the default layers head)",
                ));
            }
        }
        if !(self.backbone_lr_scale.is_finite() && self.backbone_lr_scale > 0.0) {
            return Err(Error::invalid(
                "transfer.backbone_lr_scale",
                format!("must be a positive number, got {}", self.backbone_lr_scale),
            ));
        }
        Ok(())
    }

    /// How many leading layers come from the run.
    pub fn copied(&self, layers: usize) -> usize {
        if self.keep_head {
            layers
        } else {
            self.backbone
        }
    }

    /// Whether layer `i` trains.
    pub fn trains(&self, i: usize) -> bool {
        match self.train {
            TrainPart::All => true,
            TrainPart::Head => i >= self.backbone,
            TrainPart::Layers => self.train_layers.contains(&i),
            TrainPart::None => false,
        }
    }

    /// The learning-rate factor of layer `i`.
    pub fn lr_scale(&self, i: usize) -> f64 {
        if i < self.backbone {
            self.backbone_lr_scale
        } else {
            1.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> TransferSection {
        toml::from_str(&format!("init_from = \"runs/a\"\n{text}")).unwrap()
    }

    #[test]
    fn parts_decide_what_trains() {
        let all = section("backbone = 2");
        assert!((0..4).all(|i| all.trains(i)));
        let head = section("backbone = 2\ntrain = \"head\"");
        assert_eq!(
            (0..4).map(|i| head.trains(i)).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        let chosen = section("backbone = 3\ntrain = \"layers\"\ntrain_layers = [0]");
        assert_eq!(
            (0..4).map(|i| chosen.trains(i)).collect::<Vec<_>>(),
            [true, false, false, false]
        );
        let slow = section("backbone = 2\nbackbone_lr_scale = 0.1");
        assert_eq!(
            (0..3).map(|i| slow.lr_scale(i)).collect::<Vec<_>>(),
            [0.1, 0.1, 1.0]
        );
    }

    #[test]
    fn bad_values_are_named() {
        let msg = |s: &str| section(s).validate(4).unwrap_err().to_string();
        assert!(msg("backbone = 5").contains("transfer.backbone"));
        assert!(msg("backbone = 2\ntrain = \"layers\"").contains("train_layers"));
        assert!(msg("backbone = 2\ntrain = \"layers\"\ntrain_layers = [7]").contains("layer 7"));
        assert!(msg("backbone = 2\nbackbone_lr_scale = 0").contains("positive"));
        assert!(msg("backbone = 2\ntrain = \"none\"").contains("keep_head"));
        let none = section("backbone = 2\nkeep_head = true\ntrain = \"none\"");
        none.validate(4).unwrap();
        assert!((0..4).all(|i| !none.trains(i)));
        assert_eq!((none.copied(4), section("backbone = 2").copied(4)), (4, 2));
        assert!(
            toml::from_str::<TransferSection>("init_from = \"a\"\nbackbone = 1\nfreeze = true")
                .is_err()
        );
    }
}
