//! The `[data.text]` table: how texts become id sequences, and where the user's own
//! labelled texts are.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::{SequenceConfig, TextColumns};
use crate::{Error, Result};

fn default_index_from() -> usize {
    3
}

fn default_vocab_size() -> usize {
    8000
}

/// How texts are cut into tokens.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerKind {
    /// Keras-style words ranked by frequency (`num_words`, `index_from`).
    #[default]
    Words,
    /// Byte-level BPE pieces between `[CLS]` and `[SEP]`, padded at the end (`vocab_size` or
    /// `vocab`).
    Subword,
}

fn default_text_column() -> String {
    "text".into()
}

fn default_label_column() -> String {
    "label".into()
}

/// `[data.text]`: Keras-style id sequences (`num_words`, `maxlen`, `index_from`), and for
/// the user's own texts, `train` and `test` paths (a `.csv` file or a folder of class
/// subfolders holding `.txt` files).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TextSection {
    /// `"words"` (default, Keras' pipeline) or `"subword"`.
    #[serde(default)]
    pub tokenizer: TokenizerKind,
    /// Size of the id space (Keras' `num_words`); word tokenizer only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_words: Option<usize>,
    /// Subword tokenizer: entries of the vocabulary learned from the unlabelled reviews (or,
    /// without them, the training reviews), special tokens included.
    #[serde(default = "default_vocab_size")]
    pub vocab_size: usize,
    /// Subword tokenizer: reuse a vocabulary instead of learning one: a run folder (its
    /// `text_encoding.json`) or a tokenizer JSON file. A fine-tuning recipe names its
    /// pre-training run here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocab: Option<PathBuf>,
    /// Length every sequence is padded or truncated to.
    pub maxlen: usize,
    /// Offset added to a word's frequency rank (Keras' `index_from`).
    #[serde(default = "default_index_from")]
    pub index_from: usize,
    /// The user's training texts (relative paths are taken from the data directory when
    /// they do not exist as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<PathBuf>,
    /// The user's test texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<PathBuf>,
    /// CSV column holding the texts.
    #[serde(default = "default_text_column")]
    pub text_column: String,
    /// CSV column holding the labels.
    #[serde(default = "default_label_column")]
    pub label_column: String,
}

impl TextSection {
    /// Checks the settings of the chosen tokenizer.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the field.
    pub fn validate(&self) -> Result<()> {
        match self.tokenizer {
            TokenizerKind::Words if self.num_words.is_none() => Err(Error::invalid(
                "data.text.num_words",
                "the word tokenizer needs num_words (e.g. num_words = 10000), or set tokenizer = \"subword\"",
            )),
            TokenizerKind::Words => self.sequence().validate(),
            TokenizerKind::Subword if self.num_words.is_some() => Err(Error::invalid(
                "data.text.num_words",
                "the subword tokenizer has no num_words: its vocabulary size is vocab_size",
            )),
            TokenizerKind::Subword if self.maxlen < 3 => Err(Error::invalid(
                "data.text.maxlen",
                format!(
                    "{} is too small: a subword sequence holds [CLS], at least one piece and [SEP]",
                    self.maxlen
                ),
            )),
            TokenizerKind::Subword if self.has_files() => Err(Error::invalid(
                "data.text.tokenizer",
                "the subword tokenizer reads IMDB (dataset = \"imdb\") for now; your own texts use tokenizer = \"words\"",
            )),
            TokenizerKind::Subword => Ok(()),
        }
    }

    /// The sequence settings of the word tokenizer.
    pub fn sequence(&self) -> SequenceConfig {
        SequenceConfig {
            num_words: self.num_words.unwrap_or(0),
            maxlen: self.maxlen,
            index_from: self.index_from,
        }
    }

    /// The CSV column names.
    pub fn columns(&self) -> TextColumns {
        TextColumns {
            text: self.text_column.clone(),
            label: self.label_column.clone(),
        }
    }

    /// True when the table names the user's own texts.
    pub fn has_files(&self) -> bool {
        self.train.is_some() || self.test.is_some()
    }
}
