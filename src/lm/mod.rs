//! Language-model pre-training on subword text (SPEC A7, issue 10): BERT's masked pieces,
//! GPT's next piece, the count baselines they are measured against, and sampling.

mod generate;
mod masking;
mod ngram;
mod objective;
mod sampling;

pub use generate::{Generator, Prompt};
pub use masking::{MaskedTokens, mask_tokens};
pub use ngram::NgramCounts;
pub use objective::{LmBatch, LmObjective, lm_logits, lm_loss};
pub use sampling::Sampling;
