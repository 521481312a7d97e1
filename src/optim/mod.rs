//! Optimisers and learning-rate schedules, as recipe configs over Burn's optimisers.

mod optimizer;
mod schedule;
mod weight_average;

pub use optimizer::{GradClip, OptimizerConfig};
pub use schedule::{LrSchedule, PlateauMode, ScheduleConfig, ScheduleState};
pub use weight_average::{Averaging, WeightAverage};
