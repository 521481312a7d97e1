//! The `[method]` section: how the model learns when it is not plain supervised training of
//! `[training] loss` over shuffled minibatches. Metric learning (SPEC M1-M3) and prototypical
//! few-shot learning (T4) draw class-balanced batches and train the model's output as an
//! embedding; `[training]` then gives only the epochs (and clipping).

use serde::{Deserialize, Serialize};

use crate::lm::LmObjective;
use crate::metric::Distance;
use crate::model::{LayerConfig, SequentialConfig};
use crate::semi::SemiAlgorithm;
use crate::ssl::{Pretext, PretextSpec};
use crate::{Error, Result};

fn one() -> f64 {
    1.0
}

fn default_margin() -> f32 {
    1.0
}
fn default_classes_per_batch() -> usize {
    5
}
fn default_per_class() -> usize {
    32
}
fn default_ways() -> usize {
    5
}
fn default_shots() -> usize {
    5
}
fn default_queries() -> usize {
    15
}
fn default_episodes() -> usize {
    200
}
fn default_simclr_temperature() -> f64 {
    0.5
}
fn default_supcon_temperature() -> f64 {
    0.1
}
fn default_monitor() -> usize {
    5000
}
fn default_text_units() -> usize {
    128
}
fn default_clip_temperature() -> f64 {
    0.07
}
fn default_patch() -> usize {
    7
}
fn default_mask_ratio() -> f64 {
    0.25
}
fn default_steps_per_epoch() -> usize {
    100
}
fn default_unlabelled_ratio() -> usize {
    7
}
fn default_ema_decay() -> f64 {
    0.999
}

/// The semi-supervised loop's settings (`[method] kind = "semi"`).
#[derive(Clone, Debug, PartialEq)]
pub struct SemiSpec {
    /// The algorithm and its settings.
    pub algorithm: SemiAlgorithm,
    /// Iterations per history row.
    pub steps_per_epoch: usize,
    /// μ: unlabelled images per labelled image in a batch.
    pub unlabelled_ratio: usize,
    /// Decay of the evaluated weight average.
    pub ema_decay: f64,
}

/// DANN's settings (`[method] kind = "dann"`).
#[derive(Clone, Debug, PartialEq)]
pub struct DannSpec {
    /// The feature extractor: the first `trunk` layers of `[model]`.
    pub trunk: usize,
    /// Steps per epoch (default: one pass over the source).
    pub steps_per_epoch: Option<usize>,
    /// The domain classifier's layers on the features (ending in two classes).
    pub domain_head: SequentialConfig,
    /// Steepness of λ's schedule `2 / (1 + exp(-gamma p)) - 1`.
    pub gamma: f64,
    /// λ's final value (the schedule is scaled by it).
    pub weight: f64,
}

impl DannSpec {
    /// Checks, for samples of `input_shape`, that the trunk leaves a class head in `model` and
    /// that the domain classifier fits the trunk's output and ends in two values.
    pub fn check(&self, model: &SequentialConfig, input_shape: &[usize]) -> Result<()> {
        crate::domain::dann_features(model, input_shape, self.trunk, &self.domain_head).map(|_| ())
    }
}

fn default_dann_gamma() -> f64 {
    10.0
}

/// The default domain classifier: one hidden layer of 100 ReLU units, then two classes
/// (source, target), as in Ganin & Lempitsky's digit experiments.
fn default_domain_head() -> Vec<LayerConfig> {
    use crate::model::ActivationKind;
    vec![
        LayerConfig::dense(100, ActivationKind::Relu),
        LayerConfig::dense(2, ActivationKind::Softmax),
    ]
}

/// The loss of a metric-learning method.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MetricLoss {
    /// Siamese pairs (seed 002): `1/2 D^2` for same-class pairs, `1/2 max(0, m - D)^2` else.
    Contrastive,
    /// `max(0, m + d(a,p) - d(a,n))` over mined triplets (seed 004).
    Triplet,
}

/// Which pairs or triplets of a batch the loss sees (chosen on detached distances).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MinerKind {
    /// Every pair of the batch (contrastive loss).
    AllPairs,
    /// Every valid triplet of the batch.
    AllTriplets,
    /// Per anchor, the farthest positive and the nearest negative (Hermans et al. 2017).
    BatchHard,
    /// Per positive pair, the nearest negative beyond the positive within the margin
    /// (Schroff et al. 2015).
    SemiHard,
}

/// One extra task of a multitask recipe: labels derived from the data's classes, and a head on
/// the shared trunk.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuxTask {
    /// The task's name (metrics are `test_<name>_accuracy`; letters, digits and `_`).
    pub name: String,
    /// For each class of the data (numbered after `[data] classes`), its class in this task;
    /// e.g. Fashion-MNIST's ten classes to footwear / upper body / other.
    pub classes_of: Vec<u32>,
    /// The weight of this task's loss in the sum.
    #[serde(default = "one")]
    pub weight: f64,
    /// The head's layers on the trunk's output (default: one dense softmax layer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerConfig>,
}

impl AuxTask {
    /// Classes of this task.
    pub fn num_classes(&self) -> usize {
        self.classes_of.iter().max().map_or(0, |&c| c as usize + 1)
    }

    /// The head's layers (the default when none are given).
    pub fn head(&self) -> SequentialConfig {
        let layers = match self.layers.is_empty() {
            true => vec![LayerConfig::Dense {
                units: self.num_classes(),
                activation: crate::model::ActivationKind::Softmax,
                init: Default::default(),
                bias: true,
            }],
            false => self.layers.clone(),
        };
        SequentialConfig { layers }
    }
}

fn default_lm_mask_ratio() -> f64 {
    0.15
}

fn default_eval_texts() -> usize {
    2000
}

/// A language-model pre-training method's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LmSpec {
    /// The objective.
    pub objective: LmObjective,
    /// Layers of the encoder (or decoder) kept for fine-tuning.
    pub encoder_layers: usize,
    /// Batches per epoch (`None`: one pass over the corpus).
    pub steps_per_epoch: Option<usize>,
    /// Held-out texts scored per evaluation.
    pub eval_texts: usize,
}

/// `[method]`: a training method other than supervised minibatches.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MethodSection {
    /// Metric learning: the model's output is an embedding trained with a contrastive or
    /// triplet loss on class-balanced batches of `classes_per_batch x per_class` images.
    Metric {
        /// `contrastive` or `triplet`.
        loss: MetricLoss,
        /// `all_pairs`, `all_triplets`, `batch_hard` or `semi_hard`.
        miner: MinerKind,
        /// The loss's margin `m`.
        #[serde(default = "default_margin")]
        margin: f32,
        /// Triplet loss with the soft margin `ln(1 + exp(d_ap - d_an))` (Hermans et al. 2017);
        /// `margin` then only bounds semi-hard mining.
        #[serde(default)]
        soft_margin: bool,
        /// `l2` (default), `squared_l2` or `cosine`.
        #[serde(default)]
        distance: Distance,
        /// Classes in each batch.
        #[serde(default = "default_classes_per_batch")]
        classes_per_batch: usize,
        /// Images of each class in each batch.
        #[serde(default = "default_per_class")]
        per_class: usize,
    },
    /// Prototypical networks (Snell et al. 2017): episodes of `ways` classes with `shots`
    /// support and `queries` query images each; a query's logits are minus its squared
    /// distances to the class means (prototypes) of the support embeddings.
    Prototypical {
        /// Classes per episode.
        #[serde(default = "default_ways")]
        ways: usize,
        /// Support images per class.
        #[serde(default = "default_shots")]
        shots: usize,
        /// Query images per class.
        #[serde(default = "default_queries")]
        queries: usize,
        /// Episodes per epoch.
        #[serde(default = "default_episodes")]
        episodes_per_epoch: usize,
    },
    /// SimCLR (Chen et al. 2020, arXiv:2002.05709; SPEC S4): two augmented views of every image
    /// (`[augment]` lists two views), NT-Xent on the model's output (encoder + projection head);
    /// labels are not used for training.
    Simclr {
        /// NT-Xent temperature.
        #[serde(default = "default_simclr_temperature")]
        temperature: f64,
        /// The encoder is the first `encoder_layers` layers (the rest is the projection head);
        /// a kNN monitor and the run's measures use its output.
        encoder_layers: usize,
        /// Labelled training images the kNN monitor uses as reference (the queries are the
        /// validation split; 0 turns the monitor off).
        #[serde(default = "default_monitor")]
        monitor_reference: usize,
    },
    /// Supervised contrastive learning (Khosla et al. 2020, arXiv:2004.11362; SPEC S5): as
    /// SimCLR, but every image of the same class is a positive.
    SupCon {
        /// Temperature.
        #[serde(default = "default_supcon_temperature")]
        temperature: f64,
        /// The encoder is the first `encoder_layers` layers.
        encoder_layers: usize,
        /// Reference images of the kNN monitor (0: off).
        #[serde(default = "default_monitor")]
        monitor_reference: usize,
    },
    /// Rotation prediction (SPEC S3; Gidaris et al. 2018): every image of a batch at 0, 90, 180
    /// and 270 degrees through the shared model, whose last layer has 4 units (one per quarter
    /// turn); labels are not used for training.
    Rotation {
        /// The encoder is the first `encoder_layers` layers (the rest is the rotation head).
        encoder_layers: usize,
        /// Reference images of the kNN monitor (0: off).
        #[serde(default = "default_monitor")]
        monitor_reference: usize,
    },
    /// Masked-image imputation (SPEC S2; a context encoder with random blocks): cells of
    /// `patch x patch` pixels are hidden (set to 0) with probability `mask_ratio`, and the model,
    /// whose last layer has one unit per pixel, reconstructs them (squared error on the hidden
    /// pixels); labels are not used for training.
    MaskedImage {
        /// The encoder is the first `encoder_layers` layers (the rest is the decoder).
        encoder_layers: usize,
        /// Side of a hidden cell, pixels.
        #[serde(default = "default_patch")]
        patch: usize,
        /// Probability that a cell is hidden, in (0, 1) (at least one per image is).
        #[serde(default = "default_mask_ratio")]
        mask_ratio: f64,
        /// Reference images of the kNN monitor (0: off).
        #[serde(default = "default_monitor")]
        monitor_reference: usize,
    },
    /// CLIP (SPEC S6; Radford et al. 2021): `[model]` is the image tower; a bag-of-embeddings
    /// text tower (word frequencies, dense `text_units` ReLU, dense to `[model]`'s output width)
    /// reads captions drawn from each image's class through templates and attribute words; the
    /// symmetric cross-entropy over the batch's similarity matrix, with a learned temperature,
    /// trains both. Measured by zero-shot accuracy with unseen prompt templates and retrieval.
    Clip {
        /// Hidden units of the text tower.
        #[serde(default = "default_text_units")]
        text_units: usize,
        /// Starting temperature (the learned scale starts at its inverse).
        #[serde(default = "default_clip_temperature")]
        temperature: f64,
    },
    /// Semi-supervised learning (SPEC SS1-SS10, seed 003 19.3): every iteration takes a batch
    /// of `[training] batch_size` labelled images and `unlabelled_ratio` times as many
    /// unlabelled ones (`[data] unlabelled`), and `[method.algorithm]` turns them into
    /// `supervised + λ(t) · unsupervised`. `[augment]` gives the weak view (and, for FixMatch,
    /// the strong one second). The run is `[training] epochs` x `steps_per_epoch` iterations;
    /// the model is evaluated (and saved) with the moving average of its weights.
    Semi {
        /// The algorithm: `[method.algorithm] kind = "fixmatch"` and its settings.
        algorithm: SemiAlgorithm,
        /// Iterations between two history rows (an "epoch" of this loop).
        #[serde(default = "default_steps_per_epoch")]
        steps_per_epoch: usize,
        /// Unlabelled images per labelled image in a batch (μ).
        #[serde(default = "default_unlabelled_ratio")]
        unlabelled_ratio: usize,
        /// Decay of the moving average of the weights that is evaluated, saved and (for the
        /// mean teacher) teaches; 0 evaluates the raw weights.
        #[serde(default = "default_ema_decay")]
        ema_decay: f64,
    },
    /// Domain-adversarial training (DANN, Ganin & Lempitsky 2015; seed 003 19.2.5; SPEC D2):
    /// every step takes `[training] batch_size` labelled source images and as many unlabelled
    /// target images (`[data.target]`); the class loss trains on the source, and a domain
    /// classifier reads the features of both through a gradient reversal layer of weight
    /// `λ(p) = weight · (2 / (1 + exp(-gamma p)) - 1)`, `p` the share of training done, so the
    /// feature extractor learns features the domain classifier cannot tell apart. An epoch is
    /// `steps_per_epoch` steps (default: one pass over the source); `weight = 0` trains the same
    /// network on the source alone (the source-only baseline at the same budget). The last
    /// model is kept: no target label selects it.
    Dann {
        /// The feature extractor is the first `trunk` layers of `[model]`.
        trunk: usize,
        /// Steps per epoch (e.g. one pass over the larger domain); default one pass over the
        /// source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        steps_per_epoch: Option<usize>,
        /// The domain classifier's layers on the trunk's output; its last layer has two units.
        #[serde(default = "default_domain_head")]
        domain_layers: Vec<LayerConfig>,
        /// Steepness of λ's schedule.
        #[serde(default = "default_dann_gamma")]
        gamma: f64,
        /// λ's final value.
        #[serde(default = "one")]
        weight: f64,
    },
    /// BERT-style pre-training (SPEC A7; seed 001, Transformer): on subword text
    /// (`[data.text] tokenizer = "subword"`), a share `mask_ratio` of the pieces is chosen, 80%
    /// of those become `[MASK]`, 10% a random piece, 10% stay, and the model predicts the
    /// chosen ones. `[model]` is the encoder (its first `encoder_layers` layers, kept for
    /// fine-tuning) and a head ending in `vocab_size` units on the sequence. The corpus is the
    /// training texts plus `[data] unlabelled`; labels are never read.
    MaskedLm {
        /// The encoder is the first `encoder_layers` layers (the rest is the prediction head).
        encoder_layers: usize,
        /// Share of the pieces chosen for prediction.
        #[serde(default = "default_lm_mask_ratio")]
        mask_ratio: f64,
        /// Batches per epoch (default: one pass over the corpus).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        steps_per_epoch: Option<usize>,
        /// Held-out texts scored after each epoch (validation) and at the end (test).
        #[serde(default = "default_eval_texts")]
        eval_texts: usize,
    },
    /// GPT-style pre-training (SPEC A7): every piece is predicted from the ones before it by a
    /// causal model (`transformer_encoder` with `causal = true`); reports perplexity against
    /// unigram and bigram counts. Same model layout and corpus as `masked_lm`.
    NextToken {
        /// The decoder is the first `encoder_layers` layers (the rest is the output head).
        encoder_layers: usize,
        /// Batches per epoch (default: one pass over the corpus).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        steps_per_epoch: Option<usize>,
        /// Held-out texts scored after each epoch (validation) and at the end (test).
        #[serde(default = "default_eval_texts")]
        eval_texts: usize,
    },
    /// Multitask learning (SPEC T3): the first `trunk` layers of `[model]` are shared, the rest
    /// of `[model]` is the main task's head (trained with `[training] loss`), and every
    /// `[[method.tasks]]` adds a head on the trunk; the loss is the weighted sum.
    Multitask {
        /// Shared layers (the trunk): the first `trunk` layers of `[model]`.
        trunk: usize,
        /// Weight of the main task's loss.
        #[serde(default = "one")]
        main_weight: f64,
        /// The extra tasks.
        tasks: Vec<AuxTask>,
    },
}

impl MethodSection {
    /// Checks that the values can work with a model of `model_layers` layers.
    pub fn validate(&self, model_layers: usize) -> Result<()> {
        if let Some(spec) = self.pretext() {
            return validate_pretext(&spec, model_layers);
        }
        if let Some(spec) = self.language_model() {
            return validate_language_model(&spec, model_layers);
        }
        match self {
            Self::Simclr { .. }
            | Self::SupCon { .. }
            | Self::Rotation { .. }
            | Self::MaskedImage { .. }
            | Self::MaskedLm { .. }
            | Self::NextToken { .. } => {}
            Self::Semi {
                algorithm,
                steps_per_epoch,
                unlabelled_ratio,
                ema_decay,
            } => {
                algorithm.validate("method.algorithm")?;
                if *steps_per_epoch == 0 {
                    return Err(Error::invalid(
                        "method.steps_per_epoch",
                        "must be at least 1",
                    ));
                }
                if *unlabelled_ratio == 0 {
                    return Err(Error::invalid(
                        "method.unlabelled_ratio",
                        "must be at least 1 (unlabelled images per labelled image in a batch)",
                    ));
                }
                if !(0.0..1.0).contains(ema_decay) {
                    return Err(Error::invalid(
                        "method.ema_decay",
                        format!("must be in [0, 1), got {ema_decay}"),
                    ));
                }
            }
            Self::Clip {
                text_units,
                temperature,
            } => {
                let lowest = 1.0 / crate::clip::MAX_SCALE;
                if !(lowest..=1.0).contains(temperature) {
                    return Err(Error::invalid(
                        "method.temperature",
                        format!(
                            "must be in [{lowest}, 1] (the learned scale stays in [1, {}]), got {temperature}",
                            crate::clip::MAX_SCALE
                        ),
                    ));
                }
                if *text_units == 0 {
                    return Err(Error::invalid("method.text_units", "must be at least 1"));
                }
            }
            Self::Dann {
                trunk,
                steps_per_epoch,
                domain_layers,
                gamma,
                weight,
            } => {
                if *steps_per_epoch == Some(0) {
                    return Err(Error::invalid(
                        "method.steps_per_epoch",
                        "must be at least 1",
                    ));
                }
                if *trunk == 0 || *trunk >= model_layers {
                    return Err(Error::invalid(
                        "method.trunk",
                        format!(
                            "the feature extractor must leave at least one layer of [model] ({model_layers} layers) for the class head, got {trunk}"
                        ),
                    ));
                }
                if domain_layers.is_empty() {
                    return Err(Error::invalid(
                        "method.domain_layers",
                        "the domain classifier needs at least one layer (the last with units = 2)",
                    ));
                }
                if !(gamma.is_finite() && *gamma > 0.0) {
                    return Err(Error::invalid(
                        "method.gamma",
                        format!("must be positive, got {gamma}"),
                    ));
                }
                if !(weight.is_finite() && *weight >= 0.0) {
                    return Err(Error::invalid(
                        "method.weight",
                        format!("must be finite and >= 0, got {weight}"),
                    ));
                }
            }
            Self::Multitask {
                trunk,
                main_weight,
                tasks,
            } => {
                if *trunk == 0 || *trunk >= model_layers {
                    return Err(Error::invalid(
                        "method.trunk",
                        format!(
                            "must leave at least one layer of [model] ({model_layers} layers) for the main task's head, got {trunk}"
                        ),
                    ));
                }
                let weights = std::iter::once(*main_weight).chain(tasks.iter().map(|t| t.weight));
                if weights.into_iter().any(|w| !(w.is_finite() && w >= 0.0)) {
                    return Err(Error::invalid(
                        "method",
                        "task weights must be finite and >= 0",
                    ));
                }
                if tasks.is_empty() {
                    return Err(Error::invalid(
                        "method.tasks",
                        "a multitask recipe needs at least one [[method.tasks]]",
                    ));
                }
                for (i, t) in tasks.iter().enumerate() {
                    let ok = !t.name.is_empty()
                        && t.name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !ok || tasks[..i].iter().any(|o| o.name == t.name) {
                        return Err(Error::invalid(
                            "method.tasks.name",
                            format!(
                                "'{}' must be unique and made of letters, digits and _",
                                t.name
                            ),
                        ));
                    }
                    if t.num_classes() < 2 {
                        return Err(Error::invalid(
                            "method.tasks.classes_of",
                            format!(
                                "task '{}' maps every class to one class; it needs at least two",
                                t.name
                            ),
                        ));
                    }
                }
            }
            Self::Metric {
                loss,
                miner,
                margin,
                soft_margin,
                classes_per_batch,
                per_class,
                ..
            } => {
                if *soft_margin && *loss != MetricLoss::Triplet {
                    return Err(Error::invalid(
                        "method.soft_margin",
                        "the soft margin belongs to the triplet loss",
                    ));
                }
                let fits = matches!(
                    (loss, miner),
                    (MetricLoss::Contrastive, MinerKind::AllPairs)
                        | (MetricLoss::Triplet, MinerKind::AllTriplets)
                        | (MetricLoss::Triplet, MinerKind::BatchHard)
                        | (MetricLoss::Triplet, MinerKind::SemiHard)
                );
                if !fits {
                    return Err(Error::invalid(
                        "method.miner",
                        format!(
                            "{miner:?} does not feed a {loss:?} loss: contrastive takes all_pairs; triplet takes all_triplets, batch_hard or semi_hard"
                        ),
                    ));
                }
                if !(margin.is_finite() && *margin > 0.0) {
                    return Err(Error::invalid("method.margin", "must be positive"));
                }
                if *classes_per_batch < 2 || *per_class < 2 {
                    return Err(Error::invalid(
                        "method",
                        "a batch needs at least 2 classes (classes_per_batch) and 2 images per class (per_class) to hold positives and negatives",
                    ));
                }
            }
            Self::Prototypical {
                ways,
                shots,
                queries,
                episodes_per_epoch,
            } => {
                if *ways < 2 || *shots == 0 || *queries == 0 || *episodes_per_epoch == 0 {
                    return Err(Error::invalid(
                        "method",
                        "prototypical training needs ways >= 2, shots >= 1, queries >= 1 and episodes_per_epoch >= 1",
                    ));
                }
            }
        }
        Ok(())
    }

    /// For methods that train an embedding from class-balanced batches: the classes per batch
    /// and the images of each class per batch.
    pub fn balanced_batch(&self) -> Option<(usize, usize)> {
        match self {
            Self::Metric {
                classes_per_batch,
                per_class,
                ..
            } => Some((*classes_per_batch, *per_class)),
            Self::Prototypical {
                ways,
                shots,
                queries,
                ..
            } => Some((*ways, shots + queries)),
            _ => None,
        }
    }

    /// For self-supervised methods: the objective, the encoder's layer count and the kNN
    /// monitor's reference size.
    pub fn pretext(&self) -> Option<PretextSpec> {
        let (objective, encoder_layers, monitor_reference) = match *self {
            Self::Simclr {
                temperature,
                encoder_layers,
                monitor_reference,
            } => (
                Pretext::NtXent { temperature },
                encoder_layers,
                monitor_reference,
            ),
            Self::SupCon {
                temperature,
                encoder_layers,
                monitor_reference,
            } => (
                Pretext::SupCon { temperature },
                encoder_layers,
                monitor_reference,
            ),
            Self::Rotation {
                encoder_layers,
                monitor_reference,
            } => (Pretext::Rotation, encoder_layers, monitor_reference),
            Self::MaskedImage {
                encoder_layers,
                patch,
                mask_ratio,
                monitor_reference,
            } => (
                Pretext::MaskedImage {
                    patch,
                    ratio: mask_ratio,
                },
                encoder_layers,
                monitor_reference,
            ),
            _ => return None,
        };
        Some(PretextSpec {
            objective,
            encoder_layers,
            monitor_reference,
        })
    }

    /// True when the model's output is an embedding rather than the recipe's classes (no
    /// classifier is tested).
    pub fn trains_embedding(&self) -> bool {
        self.balanced_batch().is_some()
            || self.pretext().is_some()
            || matches!(self, Self::Clip { .. })
    }

    /// True for methods whose loss contrasts the images of a batch with each other (SimCLR,
    /// SupCon, CLIP): a batch needs at least two.
    pub fn contrasts_pairs(&self) -> bool {
        matches!(self, Self::Clip { .. }) || self.views() == 2
    }

    /// How many `[augment]` views the method draws of each image (1 allows none).
    pub fn views(&self) -> usize {
        match self {
            Self::Semi { algorithm, .. } if algorithm.views().strong => 2,
            _ => self.pretext().map_or(1, |p| p.objective.views()),
        }
    }

    /// The settings of a language-model pre-training method.
    pub fn language_model(&self) -> Option<LmSpec> {
        match *self {
            Self::MaskedLm {
                encoder_layers,
                mask_ratio,
                steps_per_epoch,
                eval_texts,
            } => Some(LmSpec {
                objective: LmObjective::Masked { ratio: mask_ratio },
                encoder_layers,
                steps_per_epoch,
                eval_texts,
            }),
            Self::NextToken {
                encoder_layers,
                steps_per_epoch,
                eval_texts,
            } => Some(LmSpec {
                objective: LmObjective::NextToken,
                encoder_layers,
                steps_per_epoch,
                eval_texts,
            }),
            _ => None,
        }
    }

    /// The settings of DANN.
    pub fn dann(&self) -> Option<DannSpec> {
        match self {
            Self::Dann {
                trunk,
                steps_per_epoch,
                domain_layers,
                gamma,
                weight,
            } => Some(DannSpec {
                trunk: *trunk,
                steps_per_epoch: *steps_per_epoch,
                domain_head: SequentialConfig {
                    layers: domain_layers.clone(),
                },
                gamma: *gamma,
                weight: *weight,
            }),
            _ => None,
        }
    }

    /// The settings of a semi-supervised method.
    pub fn semi(&self) -> Option<SemiSpec> {
        match self {
            Self::Semi {
                algorithm,
                steps_per_epoch,
                unlabelled_ratio,
                ema_decay,
            } => Some(SemiSpec {
                algorithm: algorithm.clone(),
                steps_per_epoch: *steps_per_epoch,
                unlabelled_ratio: *unlabelled_ratio,
                ema_decay: *ema_decay,
            }),
            _ => None,
        }
    }
}

/// Checks a language-model method's values against a model of `model_layers` layers.
fn validate_language_model(spec: &LmSpec, model_layers: usize) -> Result<()> {
    if spec.encoder_layers == 0 || spec.encoder_layers >= model_layers {
        return Err(Error::invalid(
            "method.encoder_layers",
            format!(
                "must be between 1 and {} (the model has {model_layers} layers; at least one after the encoder predicts the pieces), got {}",
                model_layers.saturating_sub(1),
                spec.encoder_layers
            ),
        ));
    }
    if let LmObjective::Masked { ratio } = spec.objective
        && !(ratio > 0.0 && ratio < 1.0)
    {
        return Err(Error::invalid(
            "method.mask_ratio",
            format!("must be in (0, 1), got {ratio}"),
        ));
    }
    if spec.steps_per_epoch == Some(0) {
        return Err(Error::invalid(
            "method.steps_per_epoch",
            "must be at least 1",
        ));
    }
    if spec.eval_texts == 0 {
        return Err(Error::invalid("method.eval_texts", "must be at least 1"));
    }
    Ok(())
}

/// Checks a self-supervised method's values against a model of `model_layers` layers.
fn validate_pretext(spec: &PretextSpec, model_layers: usize) -> Result<()> {
    match spec.objective {
        Pretext::NtXent { temperature } | Pretext::SupCon { temperature }
            if !(temperature.is_finite() && temperature > 0.0) =>
        {
            return Err(Error::invalid(
                "method.temperature",
                format!("must be positive, got {temperature}"),
            ));
        }
        Pretext::MaskedImage { patch, ratio } if patch == 0 || !(ratio > 0.0 && ratio < 1.0) => {
            return Err(Error::invalid(
                "method",
                format!(
                    "masked_image needs patch >= 1 and mask_ratio in (0, 1), got patch {patch}, mask_ratio {ratio}"
                ),
            ));
        }
        _ => {}
    }
    let encoder = spec.encoder_layers;
    if encoder == 0 || encoder >= model_layers {
        return Err(Error::invalid(
            "method.encoder_layers",
            format!(
                "must be in 1..{model_layers}: the encoder is the first layers of [model] and at least one layer must remain as the head, got {encoder}"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults_and_rejects_mismatched_miners() {
        let m: MethodSection =
            toml::from_str("kind = \"metric\"\nloss = \"triplet\"\nminer = \"semi_hard\"").unwrap();
        assert_eq!(m.balanced_batch(), Some((5, 32)));
        m.validate(3).unwrap();
        let bad: MethodSection =
            toml::from_str("kind = \"metric\"\nloss = \"contrastive\"\nminer = \"batch_hard\"")
                .unwrap();
        let err = bad.validate(3).unwrap_err().to_string();
        assert!(err.contains("method.miner"), "{err}");
        let p: MethodSection = toml::from_str("kind = \"prototypical\"\nshots = 1").unwrap();
        assert_eq!(p.balanced_batch(), Some((5, 16)));
        let text =
            "kind = \"multitask\"\ntrunk = 2\n[[tasks]]\nname = \"group\"\nclasses_of = [0, 1, 1]";
        let t: MethodSection = toml::from_str(text).unwrap();
        t.validate(3).unwrap();
        let err = t.validate(2).unwrap_err().to_string();
        assert!(err.contains("method.trunk"), "{err}");
        let one_class = text.replace("[0, 1, 1]", "[0, 0, 0]");
        let err = toml::from_str::<MethodSection>(&one_class)
            .unwrap()
            .validate(3);
        assert!(err.unwrap_err().to_string().contains("classes_of"));
        let err = toml::from_str::<MethodSection>("kind = \"prototypical\"\nshot = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("shot"), "{err}");
    }
}
