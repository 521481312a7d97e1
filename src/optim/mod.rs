//! Optimisers and learning-rate schedules, as recipe configs over Burn's optimisers.

mod optimizer;

pub use optimizer::{GradClip, OptimizerConfig};
