//! The semi-supervised algorithms a recipe names (`[method.algorithm] kind = "fixmatch"`),
//! their settings with the defaults of their papers (as USB sets them), and the step each one
//! takes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::consistency::Consistency;
use super::distillation::distillation_step;
use super::entropy_min::entropy_min_step;
use super::fixmatch::fixmatch_step;
use super::mean_teacher::mean_teacher_step;
use super::mixmatch::mixmatch_step;
use super::mutual_info::mutual_info_step;
use super::pi_model::pi_model_step;
use super::pseudo_label::pseudo_label_step;
use super::self_training::self_training_step;
use super::step::{SemiBatch, StepContext, StepLoss, supervised_loss};
use super::vat::{VatParams, vat_step};
use crate::{Error, Result};

fn threshold() -> f64 {
    0.95
}
fn one() -> f64 {
    1.0
}
fn ramp() -> f64 {
    0.4
}
fn small_weight() -> f64 {
    0.3
}
fn pi_weight() -> f64 {
    10.0
}
fn teacher_weight() -> f64 {
    50.0
}
fn mixmatch_weight() -> f64 {
    100.0
}
fn half() -> f64 {
    0.5
}
fn epsilon() -> f64 {
    2.0
}
fn xi() -> f64 {
    1e-6
}
fn vat_entropy() -> f64 {
    0.06
}
fn two() -> usize {
    2
}
fn four() -> usize {
    4
}
fn distill_temperature() -> f64 {
    4.0
}
fn half_weight() -> f64 {
    0.5
}

/// A semi-supervised algorithm and its settings. `weight` is λ_u, the weight of the
/// unlabelled term; `ramp_up` the share of all iterations over which λ_u rises from ~0
/// (sigmoid ramp-up).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SemiAlgorithm {
    /// The labelled batches alone, in the same loop (the baseline every method stands beside).
    Supervised {},
    /// Online pseudo-labelling with hard labels above `threshold` (SS1).
    PseudoLabel {
        /// Confidence a pseudo-label needs, in (0, 1].
        #[serde(default = "threshold")]
        threshold: f64,
        /// λ_u.
        #[serde(default = "one")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default = "ramp")]
        ramp_up: f64,
    },
    /// Offline self-training (SS1): `rounds` rounds; at the start of each after the first, the
    /// model labels the whole unlabelled set and the confident part trains as a second pool.
    SelfTraining {
        /// Rounds (the budget is split evenly).
        #[serde(default = "four")]
        rounds: usize,
        /// Confidence a pseudo-label needs, in (0, 1].
        #[serde(default = "threshold")]
        threshold: f64,
        /// λ_u, the pool's weight.
        #[serde(default = "one")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default)]
        ramp_up: f64,
    },
    /// Entropy minimisation, or soft self-training to sharpened targets with `temperature`
    /// (SS2).
    EntropyMin {
        /// λ_u.
        #[serde(default = "small_weight")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default = "ramp")]
        ramp_up: f64,
        /// Sharpening temperature of the soft targets (none: the entropy itself).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        temperature: Option<f64>,
    },
    /// The mutual-information regulariser (SS3).
    MutualInformation {
        /// λ_u.
        #[serde(default = "small_weight")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default = "ramp")]
        ramp_up: f64,
    },
    /// Pi-model (SS7).
    PiModel {
        /// λ_u.
        #[serde(default = "pi_weight")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default = "ramp")]
        ramp_up: f64,
        /// `mse` or `kl`.
        #[serde(default)]
        consistency: Consistency,
    },
    /// Mean teacher: the target is the weight average's prediction (`[method] ema_decay`)
    /// (SS7).
    MeanTeacher {
        /// λ_u.
        #[serde(default = "teacher_weight")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default = "ramp")]
        ramp_up: f64,
        /// `mse` or `kl`.
        #[serde(default)]
        consistency: Consistency,
    },
    /// Virtual adversarial training (SS8).
    Vat {
        /// λ_u.
        #[serde(default = "small_weight")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default = "ramp")]
        ramp_up: f64,
        /// ε, the perturbation's norm per image.
        #[serde(default = "epsilon")]
        epsilon: f64,
        /// ξ, the probe's norm in the power iteration.
        #[serde(default = "xi")]
        xi: f64,
        /// Weight of the entropy term added to the VAT term.
        #[serde(default = "vat_entropy")]
        entropy_weight: f64,
    },
    /// MixMatch (SS9).
    #[serde(rename = "mixmatch")]
    MixMatch {
        /// λ_u.
        #[serde(default = "mixmatch_weight")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default = "ramp")]
        ramp_up: f64,
        /// Sharpening temperature T.
        #[serde(default = "half")]
        temperature: f64,
        /// MixUp's Beta(α, α).
        #[serde(default = "half")]
        alpha: f64,
        /// K, augmentations per unlabelled image.
        #[serde(default = "two")]
        augmentations: usize,
    },
    /// FixMatch (SS9).
    #[serde(rename = "fixmatch")]
    FixMatch {
        /// Confidence a pseudo-label needs, in (0, 1].
        #[serde(default = "threshold")]
        threshold: f64,
        /// λ_u.
        #[serde(default = "one")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default)]
        ramp_up: f64,
    },
    /// Knowledge distillation (Hinton et al. 2015; K1): a trained teacher run's predictions at
    /// temperature T train the student, mixed with the labels on the labelled batch, alone on
    /// the unlabelled one when the recipe gives unlabelled data (SimCLRv2's last step).
    Distillation {
        /// The teacher: a finished classifier run folder.
        teacher: PathBuf,
        /// T, the softmax temperature of both models' outputs (the soft term is scaled by T²).
        #[serde(default = "distill_temperature")]
        temperature: f64,
        /// On the labelled batch: `alpha` · soft term + (1 - `alpha`) · cross-entropy.
        #[serde(default = "half_weight")]
        alpha: f64,
        /// λ_u, the weight of the soft term on the unlabelled batch.
        #[serde(default = "one")]
        weight: f64,
        /// Ramp-up share.
        #[serde(default)]
        ramp_up: f64,
    },
}

/// The unlabelled views a step needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Views {
    /// Independent draws of the weak view.
    pub weak: usize,
    /// Whether it needs the strong view (`[augment] views[1]`).
    pub strong: bool,
}

impl SemiAlgorithm {
    /// The recipe name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Supervised {} => "supervised",
            Self::PseudoLabel { .. } => "pseudo_label",
            Self::SelfTraining { .. } => "self_training",
            Self::EntropyMin { .. } => "entropy_min",
            Self::MutualInformation { .. } => "mutual_information",
            Self::PiModel { .. } => "pi_model",
            Self::MeanTeacher { .. } => "mean_teacher",
            Self::Vat { .. } => "vat",
            Self::MixMatch { .. } => "mixmatch",
            Self::FixMatch { .. } => "fixmatch",
            Self::Distillation { .. } => "distillation",
        }
    }

    /// The teacher run a distillation reads.
    pub fn teacher(&self) -> Option<&Path> {
        match self {
            Self::Distillation { teacher, .. } => Some(teacher),
            _ => None,
        }
    }

    /// Checks the settings; `key` names the recipe table in errors.
    pub fn validate(&self, key: &str) -> Result<()> {
        let (weight, ramp_up) = self.weighting();
        check(
            key,
            "weight",
            weight,
            weight >= 0.0 && weight.is_finite(),
            "must be >= 0",
        )?;
        check(
            key,
            "ramp_up",
            ramp_up,
            (0.0..=1.0).contains(&ramp_up),
            "must be in [0, 1] (a share of the iterations)",
        )?;
        match *self {
            Self::SelfTraining { rounds: 0, .. } => Err(Error::invalid(
                format!("{key}.rounds"),
                "must be at least 1",
            )),
            Self::PseudoLabel { threshold, .. }
            | Self::FixMatch { threshold, .. }
            | Self::SelfTraining { threshold, .. } => check(
                key,
                "threshold",
                threshold,
                threshold > 0.0 && threshold <= 1.0,
                "must be in (0, 1]",
            ),
            Self::EntropyMin {
                temperature: Some(t),
                ..
            } => check(key, "temperature", t, t > 0.0, "must be > 0"),
            Self::Distillation {
                temperature, alpha, ..
            } => {
                check(
                    key,
                    "temperature",
                    temperature,
                    temperature > 0.0 && temperature.is_finite(),
                    "must be > 0",
                )?;
                check(
                    key,
                    "alpha",
                    alpha,
                    (0.0..=1.0).contains(&alpha),
                    "must be in [0, 1] (the soft term's share on labelled data)",
                )
            }
            Self::Vat {
                epsilon,
                xi,
                entropy_weight,
                ..
            } => {
                check(key, "epsilon", epsilon, epsilon > 0.0, "must be > 0")?;
                check(key, "xi", xi, xi > 0.0, "must be > 0")?;
                check(
                    key,
                    "entropy_weight",
                    entropy_weight,
                    entropy_weight >= 0.0,
                    "must be >= 0",
                )
            }
            Self::MixMatch {
                temperature,
                alpha,
                augmentations,
                ..
            } => {
                check(
                    key,
                    "temperature",
                    temperature,
                    temperature > 0.0,
                    "must be > 0",
                )?;
                check(key, "alpha", alpha, alpha > 0.0, "must be > 0")?;
                check(
                    key,
                    "augmentations",
                    augmentations as f64,
                    augmentations >= 1,
                    "must be at least 1",
                )
            }
            _ => Ok(()),
        }
    }

    /// λ_u and the ramp-up share.
    pub fn weighting(&self) -> (f64, f64) {
        match *self {
            Self::Supervised {} => (0.0, 0.0),
            Self::PseudoLabel {
                weight, ramp_up, ..
            }
            | Self::SelfTraining {
                weight, ramp_up, ..
            }
            | Self::EntropyMin {
                weight, ramp_up, ..
            }
            | Self::MutualInformation { weight, ramp_up }
            | Self::PiModel {
                weight, ramp_up, ..
            }
            | Self::MeanTeacher {
                weight, ramp_up, ..
            }
            | Self::Vat {
                weight, ramp_up, ..
            }
            | Self::MixMatch {
                weight, ramp_up, ..
            }
            | Self::FixMatch {
                weight, ramp_up, ..
            }
            | Self::Distillation {
                weight, ramp_up, ..
            } => (weight, ramp_up),
        }
    }

    /// The unlabelled views each step draws.
    pub fn views(&self) -> Views {
        let weak = match self {
            Self::Supervised {} => 0,
            Self::PiModel { .. } | Self::MeanTeacher { .. } => 2,
            Self::MixMatch { augmentations, .. } => *augmentations,
            _ => 1,
        };
        Views {
            weak,
            strong: matches!(self, Self::FixMatch { .. }),
        }
    }

    /// Whether the method needs unlabelled data (distillation reads them only when given).
    pub fn uses_unlabelled(&self) -> bool {
        !matches!(self, Self::Supervised {} | Self::Distillation { .. })
    }

    /// Whether the method learns from unlabelled data when the recipe gives some (it needs
    /// them when [`uses_unlabelled`](Self::uses_unlabelled)).
    pub fn reads_unlabelled(&self) -> bool {
        self.uses_unlabelled() || matches!(self, Self::Distillation { .. })
    }

    /// The losses of one step.
    pub fn step(&self, ctx: &StepContext, batch: SemiBatch) -> StepLoss {
        match *self {
            Self::Supervised {} => StepLoss {
                supervised: supervised_loss(ctx.logits(batch.labelled), batch.labels),
                unsupervised: None,
                pseudo: None,
            },
            Self::PseudoLabel { threshold, .. } => pseudo_label_step(ctx, batch, threshold),
            Self::SelfTraining { .. } => self_training_step(ctx, batch),
            Self::EntropyMin { temperature, .. } => entropy_min_step(ctx, batch, temperature),
            Self::MutualInformation { .. } => mutual_info_step(ctx, batch),
            Self::PiModel { consistency, .. } => pi_model_step(ctx, batch, consistency),
            Self::MeanTeacher { consistency, .. } => mean_teacher_step(ctx, batch, consistency),
            Self::Vat {
                epsilon,
                xi,
                entropy_weight,
                ..
            } => vat_step(
                ctx,
                batch,
                VatParams {
                    epsilon,
                    xi,
                    entropy_weight,
                },
            ),
            Self::MixMatch {
                temperature, alpha, ..
            } => mixmatch_step(ctx, batch, temperature, alpha),
            Self::FixMatch { threshold, .. } => fixmatch_step(ctx, batch, threshold),
            Self::Distillation {
                temperature, alpha, ..
            } => distillation_step(ctx, batch, temperature, alpha),
        }
    }
}

fn check(key: &str, field: &str, value: f64, ok: bool, rule: &str) -> Result<()> {
    match ok {
        true => Ok(()),
        false => Err(Error::invalid(
            format!("{key}.{field}"),
            format!("{rule}, got {value}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_name_algorithms_with_paper_defaults_and_bad_settings_are_refused() {
        let a: SemiAlgorithm = toml::from_str("kind = \"fixmatch\"").unwrap();
        assert_eq!(
            a,
            SemiAlgorithm::FixMatch {
                threshold: 0.95,
                weight: 1.0,
                ramp_up: 0.0
            }
        );
        assert_eq!(
            a.views(),
            Views {
                weak: 1,
                strong: true
            }
        );
        let m: SemiAlgorithm =
            toml::from_str("kind = \"mean_teacher\"\nconsistency = \"kl\"").unwrap();
        assert_eq!(m.views().weak, 2);
        assert_eq!(m.weighting(), (50.0, 0.4));
        assert!(toml::from_str::<SemiAlgorithm>("kind = \"fixmatch\"\nthreshhold = 0.9").is_err());
        for bad in [
            "threshold = 0.0",
            "threshold = 1.5",
            "weight = -1.0",
            "ramp_up = 2.0",
        ] {
            let a: SemiAlgorithm =
                toml::from_str(&format!("kind = \"pseudo_label\"\n{bad}")).unwrap();
            let err = a.validate("method.algorithm").unwrap_err().to_string();
            assert!(err.contains("method.algorithm."), "{bad}: {err}");
        }
        let one: SemiAlgorithm = toml::from_str("kind = \"fixmatch\"\nthreshold = 1.0").unwrap();
        one.validate("m").unwrap();
        let supervised: SemiAlgorithm = toml::from_str("kind = \"supervised\"").unwrap();
        assert!(!supervised.uses_unlabelled());
        assert_eq!(supervised.views().weak, 0);
    }
}
