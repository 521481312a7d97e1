//! What a run keeps to encode new text exactly as it encoded its training set.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::encoder::{SequenceConfig, TextEncoder};
use super::imdb::encode_texts;
use super::word_index::WordIndex;
use crate::data::Dataset;
use crate::{Error, Result};

/// A [`SequenceConfig`] with the words it can tell apart (those whose id stays below
/// `num_words`); saved in a run folder as `text_encoding.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEncoding {
    /// How texts become id sequences.
    pub config: SequenceConfig,
    /// Word ranks (only the ranks that map below `num_words`).
    pub words: WordIndex,
}

/// The JSON form: the config and a sorted word -> rank object.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EncodingRecord {
    config: SequenceConfig,
    word_ranks: BTreeMap<String, u32>,
}

impl TextEncoding {
    /// Keeps the part of `words` that `config` can use.
    pub fn new(config: SequenceConfig, words: &WordIndex) -> Self {
        let max_rank = config.num_words.saturating_sub(config.index_from) as u32;
        Self {
            words: words.restricted(max_rank),
            config,
        }
    }

    /// Tokenises, encodes and pads `texts` (see [`encode_texts`]).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad config.
    pub fn encode(&self, texts: &[String]) -> Result<Dataset> {
        encode_texts(texts, &self.words, &self.config)
    }

    /// The encoding as pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        let record = EncodingRecord {
            config: self.config.clone(),
            word_ranks: self
                .words
                .ranked()
                .into_iter()
                .map(|(w, r)| (w.to_string(), r))
                .collect(),
        };
        serde_json::to_vec_pretty(&record).expect("an encoding always serialises")
    }

    /// Reads an encoding written with [`TextEncoding::to_json`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Data`] naming it when it is not
    /// a text encoding.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
        let record: EncodingRecord = serde_json::from_slice(&bytes)
            .map_err(|e| Error::data(path, format!("not a manabi text encoding: {e}")))?;
        record.config.validate()?;
        Ok(Self {
            config: record.config,
            words: WordIndex::from_ranks(record.word_ranks),
        })
    }
}

impl TextEncoder for TextEncoding {
    fn rank(&self, word: &str) -> Option<u32> {
        self.words.rank(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_usable_words_and_round_trips() {
        let words = WordIndex::from_ranks([
            ("the".to_string(), 1),
            ("film".to_string(), 2),
            ("good".to_string(), 3),
            ("rare".to_string(), 9),
        ]);
        // num_words 7, index_from 3: ranks 1..=3 give ids 4..=6; rank 9 would be id 12.
        let enc = TextEncoding::new(SequenceConfig::new(7, 4), &words);
        assert_eq!(enc.words.len(), 3);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("text_encoding.json");
        std::fs::write(&path, enc.to_json()).unwrap();
        let back = TextEncoding::load(&path).unwrap();
        assert_eq!(back, enc);
        let data = back.encode(&["Good rare film".to_string()]).unwrap();
        assert_eq!(data.features, [1.0, 6.0, 2.0, 5.0]);
    }

    #[test]
    fn damaged_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("text_encoding.json");
        std::fs::write(&path, "{\"config\": 3}").unwrap();
        let err = TextEncoding::load(&path).unwrap_err();
        assert!(err.to_string().contains("text_encoding.json"), "{err}");
    }
}
