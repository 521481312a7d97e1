//! Sequence-to-sequence models (SPEC A5/A6): an attending recurrent encoder-decoder and
//! a Transformer, trained to turn human-written dates into ISO dates.

mod attention;
mod config;
mod model;
mod rnn;
mod train;
mod transformer;

pub use attention::{Attention, masked_softmax};
pub use config::{AttentionKind, CellKind, PositionalKind, Seq2SeqArch, Seq2SeqConfig};
pub use model::{
    Batch, MAX_OUTPUT, Padded, Seq2Seq, Translation, make_batch, masked_cross_entropy, pad_batch,
    translate,
};
pub use rnn::{CellState, Memory, RecurrentCell, RnnDecoder, RnnEncoder, RnnSeq2Seq};
pub use train::{Seq2SeqReport, load_seq2seq, train_seq2seq};
pub use transformer::{MAX_POSITIONS, Positions, TransformerSeq2Seq};
