//! The `[data.text]` table: how texts become id sequences, and where the user's own
//! labelled texts are.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::{SequenceConfig, TextColumns};

fn default_index_from() -> usize {
    3
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
    /// Size of the id space (Keras' `num_words`).
    pub num_words: usize,
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
    /// The sequence settings.
    pub fn sequence(&self) -> SequenceConfig {
        SequenceConfig {
            num_words: self.num_words,
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
