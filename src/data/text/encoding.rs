//! What a run keeps to encode new text exactly as it encoded its training set.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::encoder::{SequenceConfig, TextEncoder};
use super::imdb::encode_texts;
use super::subword::SubwordVocab;
use super::subword_encoding::SubwordEncoding;
use super::word_index::WordIndex;
use crate::data::Dataset;
use crate::{Error, Result};

/// How a run turns texts into id sequences; saved in a run folder as `text_encoding.json`.
#[derive(Debug, Clone)]
pub enum TextEncoding {
    /// Keras-style word ids.
    Words(WordEncoding),
    /// Subword pieces between `[CLS]` and `[SEP]`.
    Subword(Box<SubwordEncoding>),
}

/// A [`SequenceConfig`] with the words it can tell apart (those whose id stays below
/// `num_words`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordEncoding {
    /// How texts become id sequences.
    pub config: SequenceConfig,
    /// Word ranks (only the ranks that map below `num_words`).
    pub words: WordIndex,
}

/// The JSON form of word ids: the config and a sorted word -> rank object.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EncodingRecord {
    config: SequenceConfig,
    word_ranks: BTreeMap<String, u32>,
}

/// The JSON form of subword ids: the context length and the vocabulary.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubwordRecord {
    maxlen: usize,
    subword_vocab: serde_json::Value,
}

/// Either form.
#[derive(Deserialize)]
#[serde(untagged)]
enum AnyRecord {
    Words(EncodingRecord),
    Subword(SubwordRecord),
}

impl WordEncoding {
    /// Keeps the part of `words` that `config` can use.
    pub fn new(config: SequenceConfig, words: &WordIndex) -> Self {
        let max_rank = config.num_words.saturating_sub(config.index_from) as u32;
        Self {
            words: words.restricted(max_rank),
            config,
        }
    }
}

impl TextEncoder for WordEncoding {
    fn rank(&self, word: &str) -> Option<u32> {
        self.words.rank(word)
    }
}

impl TextEncoding {
    /// Keras-style word ids: keeps the part of `words` that `config` can use.
    pub fn new(config: SequenceConfig, words: &WordIndex) -> Self {
        Self::Words(WordEncoding::new(config, words))
    }

    /// Length of every encoded sequence.
    pub fn maxlen(&self) -> usize {
        match self {
            Self::Words(w) => w.config.maxlen,
            Self::Subword(s) => s.maxlen,
        }
    }

    /// The subword encoding, if this is one.
    pub fn subword(&self) -> Option<&SubwordEncoding> {
        match self {
            Self::Subword(s) => Some(s),
            Self::Words(_) => None,
        }
    }

    /// Tokenises, encodes and pads `texts`; the targets are placeholders (class 0 of 1).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad config.
    pub fn encode(&self, texts: &[String]) -> Result<Dataset> {
        match self {
            Self::Words(w) => encode_texts(texts, w, &w.config),
            Self::Subword(s) => {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                s.dataset(&refs, vec![0; texts.len()], 1)
            }
        }
    }

    /// The encoding as pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        match self {
            Self::Words(w) => {
                let record = EncodingRecord {
                    config: w.config.clone(),
                    word_ranks: w
                        .words
                        .ranked()
                        .into_iter()
                        .map(|(w, r)| (w.to_string(), r))
                        .collect(),
                };
                serde_json::to_vec_pretty(&record).expect("an encoding always serialises")
            }
            Self::Subword(s) => {
                let record = SubwordRecord {
                    maxlen: s.maxlen,
                    subword_vocab: s.vocab.to_json(),
                };
                serde_json::to_vec(&record).expect("an encoding always serialises")
            }
        }
    }

    /// Reads an encoding written with [`TextEncoding::to_json`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Data`] naming it when it is not
    /// a text encoding.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
        let record: AnyRecord = serde_json::from_slice(&bytes)
            .map_err(|e| Error::data(path, format!("not a manabi text encoding: {e}")))?;
        match record {
            AnyRecord::Words(record) => {
                record.config.validate()?;
                Ok(Self::Words(WordEncoding {
                    config: record.config,
                    words: WordIndex::from_ranks(record.word_ranks),
                }))
            }
            AnyRecord::Subword(record) => {
                let vocab =
                    SubwordVocab::from_json(&record.subword_vocab, &path.display().to_string())?;
                Ok(Self::Subword(Box::new(SubwordEncoding::new(
                    vocab,
                    record.maxlen,
                )?)))
            }
        }
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
        let TextEncoding::Words(inner) = &enc else {
            panic!("word ids")
        };
        assert_eq!(inner.words.len(), 3);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("text_encoding.json");
        std::fs::write(&path, enc.to_json()).unwrap();
        let back = TextEncoding::load(&path).unwrap();
        assert_eq!(back.to_json(), enc.to_json());
        let data = back.encode(&["Good rare film".to_string()]).unwrap();
        assert_eq!(data.features, [1.0, 6.0, 2.0, 5.0]);
    }

    #[test]
    fn a_subword_encoding_round_trips_through_its_file() {
        let corpus = ["a good film", "a bad film", "good acting"];
        let vocab = SubwordVocab::train(corpus.iter().cycle().take(30), 300, 2).unwrap();
        let enc = TextEncoding::Subword(Box::new(SubwordEncoding::new(vocab, 8).unwrap()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("text_encoding.json");
        std::fs::write(&path, enc.to_json()).unwrap();
        let back = TextEncoding::load(&path).unwrap();
        assert_eq!(back.maxlen(), 8);
        assert!(
            back.subword()
                .unwrap()
                .vocab
                .same_as(&enc.subword().unwrap().vocab)
        );
        let texts = vec!["a good film".to_string()];
        assert_eq!(
            back.encode(&texts).unwrap().features,
            enc.encode(&texts).unwrap().features
        );
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
