//! Recipes: one TOML file describes an experiment (data, model, optimiser, schedule,
//! training). A run saves its recipe beside the weights, so any result can be reproduced.

mod any_recipe;
mod augment_section;
mod base;
mod data_section;
mod embedding_eval_section;
mod method_section;
mod seq2seq_recipe;
mod shift_recipe;
mod target_section;
mod text_section;
mod training_section;
mod transfer_section;

pub use any_recipe::AnyRecipe;
pub(crate) use any_recipe::is_seq2seq;
pub use augment_section::AugmentSection;
pub use base::{DEFAULT_RECIPE, Recipe};
pub use data_section::{CsvFiles, DataSection, UnlabelledSource};
pub use embedding_eval_section::EmbeddingEvalSection;
pub use method_section::{
    AuxTask, DannSpec, LmSpec, MethodSection, MetricLoss, MinerKind, SemiSpec,
};
pub use seq2seq_recipe::Seq2SeqRecipe;
pub(crate) use shift_recipe::is_shift;
pub use shift_recipe::{ShiftRecipe, ShiftSection, ShiftSide, Split};
pub use target_section::TargetSection;
pub use text_section::{TextSection, TokenizerKind};
pub use training_section::{AverageConfig, EarlyStoppingConfig, MonitorMode, TrainingSection};
pub use transfer_section::{HeadKind, TrainPart, TransferSection};
