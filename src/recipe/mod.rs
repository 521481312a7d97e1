//! Recipes: one TOML file describes an experiment (data, model, optimiser, schedule,
//! training). A run saves its recipe beside the weights, so any result can be reproduced.

mod base;
mod data_section;
mod text_section;
mod training_section;

pub use base::{DEFAULT_RECIPE, Recipe};
pub use data_section::{CsvFiles, DataSection};
pub use text_section::TextSection;
pub use training_section::{EarlyStoppingConfig, MonitorMode, TrainingSection};
