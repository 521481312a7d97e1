//! A recipe's run folder: preparing data, training, evaluating and predicting, with every
//! artefact (recipe, weights, history, metrics, plots) written into one folder.

mod clip_run;
mod embedding_eval_run;
mod files;
mod generate_run;
mod lm_run;
mod multitask_run;
mod predict;
mod prepare;
mod probe_run;
mod seq2seq_run;
mod shift_run;
mod train_run;

pub use crate::train::backbone_features;
pub use embedding_eval_run::EMBEDDING_PLOT;
pub use files::{RunFiles, write_atomic};
pub use generate_run::{Continuations, GenerateOptions, generate_run};
pub use predict::{Predictions, load_inputs, predict_run, read_texts};
pub use prepare::{PreparedData, prepare_data};
pub use seq2seq_run::{load_run_recipe, train_seq2seq_recipe, translate_run};
pub use shift_run::{ShiftReport, shift_recipe};
pub use train_run::{
    RunOptions, RunReport, TrainedRun, evaluate_run, load_trained_model, train_recipe,
};
