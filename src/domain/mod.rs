//! Domain adaptation (seed 002; seed 003 19.2.5; SPEC D1-D2): the pieces that compare two
//! domains (a domain classifier's AUC with its interval, MMD with a permutation test, black-box
//! shift estimation of class priors, concept shift) and that train a feature extractor to blur
//! them (gradient reversal with DANN's schedule for its weight, DANN's network).

mod concept_shift;
mod covariate_shift;
mod dann_model;
mod domain_classifier;
mod gradient_reversal;
mod label_shift;
mod mmd;

pub use concept_shift::ConceptShift;
pub use covariate_shift::{AucTest, auc_standard_error, auc_test, upper_tail};
pub use dann_model::{DannModel, dann_features};
pub use domain_classifier::domain_classifier_auc;
pub use gradient_reversal::{dann_lambda, gradient_reversal};
pub use label_shift::{bbse_priors, class_priors, resample_to_priors};
pub use mmd::{MmdTest, mmd_test, mmd2_unbiased, rbf_bandwidth};
