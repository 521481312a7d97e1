//! Text data: IMDB reviews from their archives, Keras-style tokenising, word indices,
//! padding, byte-level BPE subword vocabularies, and the user's own labelled text.

mod archive;
mod encoder;
mod encoding;
mod imdb;
mod pad;
mod subword;
mod subword_encoding;
mod text_files;
mod tokenize;
mod user_text;
mod vocabulary;
mod word_index;

pub use archive::{ImdbPart, Review, read_imdb_parts, read_imdb_reviews};
pub use encoder::{OOV_ID, PAD_ID, START_ID, SequenceConfig, TextEncoder};
pub use encoding::{TextEncoding, WordEncoding};
pub use imdb::{
    IMDB_SHUFFLE_SEED, ImdbTexts, encode_texts, imdb_word_index, load_imdb, load_imdb_unsup,
    read_imdb_texts,
};
pub use pad::pad_sequences;
pub use subword::{SPECIAL_TOKENS, SubwordVocab};
pub use subword_encoding::{
    SUBWORD_CLS, SUBWORD_FIRST_PIECE, SUBWORD_MASK, SUBWORD_PAD, SUBWORD_SEP, SUBWORD_UNK,
    SubwordEncoding,
};
pub use text_files::{LabelledTexts, read_text_csv, read_text_folder};
pub use tokenize::{KERAS_FILTERS, text_to_word_sequence, tokenize_review};
pub use user_text::{TextColumns, load_text_splits, read_labelled_texts};
pub use vocabulary::Vocabulary;
pub use word_index::WordIndex;
