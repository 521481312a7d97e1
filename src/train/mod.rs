//! Training: the fit loop, evaluation, metrics, history, checkpoints and callbacks (SPEC F8).

mod batch;
mod checkpoint;
mod clip_fit;
mod dann_fit;
mod early_stopping;
mod embedding_fit;
mod evaluate;
mod features;
mod fit;
mod history;
mod index_stream;
mod lm_fit;
pub mod metrics;
mod multitask_fit;
mod observer;
mod pretext_fit;
mod semi_fit;

pub use batch::{batch_inputs, batch_targets};
pub use checkpoint::{Checkpoint, RunningTotals, TrainState, all_finite, load_record, save_record};
pub use clip_fit::fit_clip;
pub use dann_fit::{DannData, check_dann, fit_dann};
pub use early_stopping::{EarlyStoppingState, StopDecision};
pub use embedding_fit::fit_embedding;
pub use evaluate::{
    Evaluation, batch_loss, evaluate, predict, predicted_classes, prediction_activation,
};
pub use features::backbone_features;
pub use fit::{FitConfig, FitOutcome, check_fit, fit};
pub use history::History;
pub use lm_fit::{LmCorpus, LmScore, fit_language_model, score_language_model};
pub use multitask_fit::{TaskLabels, fit_multitask};
pub use observer::{Observer, Silent};
pub use pretext_fit::fit_pretext;
pub use semi_fit::{
    SemiData, Unlabelled, UnlabelledStream, check_semi, check_stream, check_teacher, fit_semi,
};
