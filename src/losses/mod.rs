//! Loss functions over logits, and the [`LossConfig`] that picks one for a recipe.
//!
//! Every function takes the model's raw outputs (logits: before softmax or sigmoid) and
//! returns the mean loss as a tensor of shape `[1]`, so it can be back-propagated.

mod binary_cross_entropy;
mod categorical_cross_entropy;
mod config;
mod kl_divergence;
mod mse;
mod multilabel_bce;
mod soft_target_cross_entropy;
mod sparse_categorical_cross_entropy;
#[cfg(test)]
mod test_util;

pub use binary_cross_entropy::binary_cross_entropy_with_logits;
pub use categorical_cross_entropy::categorical_cross_entropy;
pub use config::{LossConfig, OutputActivation, Target};
pub use kl_divergence::kl_divergence;
pub use mse::mse;
pub use multilabel_bce::multilabel_bce;
pub use soft_target_cross_entropy::{soft_target_cross_entropy, soft_target_cross_entropy_t};
pub use sparse_categorical_cross_entropy::sparse_categorical_cross_entropy;
