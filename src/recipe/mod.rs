//! Recipes: one TOML file describes an experiment (data, model, optimiser, schedule,
//! training). A run saves its recipe beside the weights, so any result can be reproduced.

mod data_section;
mod recipe;
mod training_section;

pub use data_section::{CsvFiles, DataSection};
pub use recipe::{DEFAULT_RECIPE, Recipe};
pub use training_section::{EarlyStoppingConfig, MonitorMode, TrainingSection};
