//! Datasets, readers and preprocessing (SPEC F7).

mod batches;
mod builtin;
mod class_sampler;
mod classes;
mod csv_table;
mod dataset;
mod dates;
mod gzip;
mod idx;
mod pca;
mod prefetch;
mod preprocess;
mod resize;
mod split;
mod stream;
mod text;

pub use batches::{sequential_batches, shuffled_batches};
pub(crate) use builtin::IMDB_NEEDS_TEXT;
pub use builtin::{DatasetName, Splits, load_builtin};
pub use class_sampler::ClassBalancedSampler;
pub use classes::{keep_classes, per_class_indices, per_class_sample};
pub use csv_table::{CsvSpec, CsvTask, align_classes, load_csv};
pub use dataset::{Dataset, Targets};
pub use dates::{CharVocab, Date, DatesConfig, DatesData, FORMATS, format_date, generate_dates};
pub use gzip::read_maybe_gzip;
pub use idx::{read_idx_images, read_idx_labels};
pub use pca::{pca_2d, pca_project};
pub use prefetch::{Prefetch, stream_indices};
pub use preprocess::{PreprocessConfig, Preprocessor};
pub use split::{stratified_subset, validation_split};
pub use stream::ImageStream;
pub use text::{
    IMDB_SHUFFLE_SEED, ImdbPart, ImdbTexts, KERAS_FILTERS, LabelledTexts, OOV_ID, PAD_ID, Review,
    SPECIAL_TOKENS, START_ID, SUBWORD_CLS, SUBWORD_FIRST_PIECE, SUBWORD_MASK, SUBWORD_PAD,
    SUBWORD_SEP, SUBWORD_UNK, SequenceConfig, SubwordEncoding, SubwordVocab, TextColumns,
    TextEncoder, TextEncoding, Vocabulary, WordEncoding, WordIndex, encode_texts, imdb_word_index,
    load_imdb, load_imdb_unsup, load_text_splits, pad_sequences, read_imdb_parts,
    read_imdb_reviews, read_imdb_texts, read_labelled_texts, read_text_csv, read_text_folder,
    text_to_word_sequence, tokenize_review,
};
