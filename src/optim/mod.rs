//! Optimisers and learning-rate schedules, as recipe configs over Burn's optimisers.

mod optimizer;
mod schedule;

pub use optimizer::{GradClip, OptimizerConfig};
pub use schedule::{LrSchedule, PlateauMode, ScheduleConfig, ScheduleState};
