//! Semi-supervised learning (seed 003 19.3, seed 002; SPEC SS1-SS10): the terms that let
//! unlabelled images teach a classifier alongside a few labelled ones. Every deep method is
//! one short file over the shared loop of [`crate::train::fit_semi`]: a step gets the labelled
//! batch and the unlabelled views it asked for and returns `supervised + λ(t) · unsupervised`.
//! Graph methods (label propagation and spreading) label a similarity graph's nodes instead.
//! Knowledge distillation from a trained teacher run (K1) is one more step over the same loop.

mod algorithm;
mod consistency;
pub mod cotrain;
mod distillation;
mod entropy_min;
mod fixmatch;
mod graph;
mod mean_teacher;
mod mixmatch;
mod mutual_info;
mod pi_model;
mod propagation;
mod pseudo_label;
mod ramp;
mod self_training;
mod step;
mod targets;
mod vat;

pub use algorithm::{SemiAlgorithm, Views};
pub use consistency::Consistency;
pub use graph::{Graph, GraphConfig, MAX_DENSE_NODES};
pub use propagation::{Propagated, Propagation};
pub use ramp::sigmoid_ramp;
pub use step::{SemiBatch, StepContext, StepLoss};
pub use targets::{
    PseudoLabels, entropy_of_mean, masked_cross_entropy, mean_entropy, mix, mixmatch_lambda,
    sharpen,
};
pub use vat::{VatParams, adversarial_perturbation};
